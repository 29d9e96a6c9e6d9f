//! The examples of seed 000 5.1 (items 6 to 9) and of section 5.2, from the
//! fixture files in tests/data/config_lang/.

use super::{fixture, load_fixture, render};
use crate::config::lang::load_file_with_defines;
use crate::config::value::{Location, Value, ValueKind};

#[test]
fn item6_duplicate_properties_merge() {
    let merged = load_fixture("merge.cfg");
    assert_eq!(render(&merged), render(&load_fixture("merge_expected.cfg")));
    assert_eq!(render(&merged), r#"{value:"bar",sub:{value:"bar"}}"#);
    // The replacing value's location is kept.
    let sub = merged.get("sub").and_then(|s| s.get("value")).unwrap();
    assert_eq!(sub.loc.line, 9);
}

#[test]
fn merge_keeps_first_position_and_merges_deeply() {
    assert_eq!(
        super::ok("a: {x: 1, y: {p: 1}}, b: 2, a: {y: {q: 2}, z: 3}, a: {x: [1]}, b: {c: 1}, b: 4"),
        "{a:{x:[1],y:{p:1,q:2},z:3},b:4}"
    );
}

#[test]
fn item7_include_merges_like_duplicates() {
    let v = load_fixture("file1.cfg");
    assert_eq!(render(&v), render(&load_fixture("file1_expected.cfg")));
    assert_eq!(render(&v), r#"{value:"bar",foo:"foo"}"#);
    // "value" comes from file2.cfg and says so.
    let loc = &v.get("value").unwrap().loc;
    assert!(loc.file.ends_with("file2.cfg"), "{loc}");
    assert_eq!((loc.line, loc.column), (1, 12));
}

#[test]
fn include_inside_nested_object() {
    let v = super::ok(r#"sub: { value: "x", include "file2.cfg", extra: 1 }, top: 2"#);
    assert_eq!(v, r#"{sub:{value:"bar",foo:"bar",extra:1},top:2}"#);
}

#[test]
fn item8_preprocessor() {
    let v = load_fixture("preproc.cfg");
    assert_eq!(
        render(&v),
        concat!(
            r#"{n:4,name:"cell4",twice:8,obj:{a:1,b:[4,5]},n_undefined:true,ifndef_taken:true,"#,
            r#"empty_true:true,nested:"taken",short_circuit:true,included_member:"cell4",after_include:"yes"}"#
        )
    );
    // A substituted variable is located where it is used.
    let n = &v.get("n").unwrap().loc;
    assert!(n.file.ends_with("preproc.cfg"));
    assert_eq!((n.line, n.column), (9, 4));
    let inc = &v.get("included_member").unwrap().loc;
    assert!(inc.file.ends_with("preproc_inc.cfg"), "{inc}");
    assert_eq!((inc.line, inc.column), (3, 20));
    let after = &v.get("after_include").unwrap().loc;
    assert_eq!((after.line, after.column), (51, 16));
}

#[test]
fn item9_backquote_strings() {
    let v = load_fixture("backquote.cfg");
    assert_eq!(
        render(&v),
        concat!(
            r#"{simple:"abc3d",multi:"line1\nline2 ims:5060",nested:"ab2cd","#,
            r#"escapes:"tick ` dollar $ {not} q",number:"0.5 -3 1e21 1.5e-7 1+2*I true null"}"#
        )
    );
}

#[test]
fn realistic_ims_config_with_included_ue_db() {
    let v = load_fixture("ims.cfg");
    let ue_db = v.get("ue_db").unwrap();
    let ValueKind::Array(ues) = &ue_db.kind else {
        panic!("ue_db is an array")
    };
    assert_eq!(ues.len(), 3);
    assert_eq!(render(ues[0].get("imsi").unwrap()), r#""001010123456001""#);
    assert_eq!(
        render(ues[2].get("impu").unwrap()),
        r#"["sip:1010123456003","tel:0600000003"]"#
    );
    assert_eq!(
        render(v.get("sip_addr").unwrap()),
        r#"[{addr:"127.0.0.1",port_min:10000,port_max:20000},"::1"]"#
    );
    assert_eq!(
        render(v.get("domain").unwrap()),
        r#""ims.mnc001.mcc001.3gppnetwork.org""#
    );
    let loc = &ues[1].loc;
    assert!(loc.file.ends_with("ue_db-ims.cfg"));
    assert_eq!((loc.line, loc.column), (8, 3));
}

#[test]
fn command_line_defines() {
    let at = Location {
        file: "-D".into(),
        line: 1,
        column: 1,
    };
    let defines = [
        (
            "N_UE".to_string(),
            Value {
                kind: ValueKind::Number(1.0),
                loc: at.clone(),
            },
        ),
        (
            "USE_IPV6".to_string(),
            Value {
                kind: ValueKind::Bool(false),
                loc: at,
            },
        ),
    ];
    // The file's own #define lines come after and win; USE_IPV6 is redefined there too.
    let v = load_file_with_defines(&fixture("ims.cfg"), &defines).unwrap();
    let ValueKind::Array(ues) = &v.get("ue_db").unwrap().kind else {
        panic!("array")
    };
    assert_eq!(ues.len(), 3);
    let v = super::super::load_str_with_defines(
        "d.cfg",
        "#ifdef FOO\nfoo: FOO\n#endif",
        &super::data_dir(),
        &[(
            "FOO".to_string(),
            Value {
                kind: ValueKind::String("bar".into()),
                loc: Location {
                    file: "-D".into(),
                    line: 1,
                    column: 1,
                },
            },
        )],
    )
    .unwrap();
    assert_eq!(render(&v), r#"{foo:"bar"}"#);
}

#[test]
fn section5_property_examples() {
    let v = load_fixture("section5.cfg");
    assert_eq!(
        render(v.get("license_server").unwrap()),
        r#"{server_addr:"192.168.0.20",name:"My license"}"#
    );
    assert_eq!(
        render(v.get("sms_message_filter").unwrap()),
        r#"{cp_data:"treat",rp_ack:"reject"}"#
    );
    assert_eq!(
        render(v.get("mms_server_bind_addr").unwrap()),
        r#""192.168.3.1:1111""#
    );
    let ue_db = render(v.get("ue_db").unwrap());
    assert!(
        ue_db.contains(r#"{impu:"user2",100rel:false,anonymous:true}"#),
        "{ue_db}"
    );
}

#[test]
fn define_substitution_rules() {
    // Not inside "..." strings, but inside backquote strings; a string variable may name a property.
    let v =
        super::ok("#define X 2\n#define KEY \"k\"\na: \"X\", b: `X=${X}`, KEY: X * X, c: [X, -X]");
    assert_eq!(v, r#"{a:"X",b:"X=2",k:4,c:[2,-2]}"#);
    // Redefinition replaces; #undef then the name is unknown again.
    assert_eq!(super::ok("#define X 1\n#define X X + 1\na: X"), "{a:2}");
    // Defines made in an included file are visible after the include.
    assert_eq!(
        super::ok("#define NAME 0\n#include \"preproc_inc.cfg\"\nb: FROM_INC"),
        r#"{included_member:0,b:"yes"}"#
    );
}
