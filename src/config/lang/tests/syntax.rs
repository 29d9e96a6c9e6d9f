//! Literals, operators, precedence, comments (seed 000 5.1 items 1 to 5).

use super::{eval, load, ok, render};
use crate::config::value::ValueKind;

#[test]
fn json_literals_and_unquoted_names() {
    assert_eq!(
        ok(
            r#"{ "a": 13.4, b: "s\"\n\u00e9\ud83d\ude00", c: true, d: false, e: null, f: [1, 2,], g: {}, h: [], }"#
        ),
        "{a:13.4,b:\"s\\\"\\né😀\",c:true,d:false,e:null,f:[1,2],g:{},h:[]}"
    );
    assert_eq!(
        ok(r#""100rel": true, _x1: 0x1F, y: .5, z: 1e3, w: 1.5E-1"#),
        "{100rel:true,_x1:31,y:0.5,z:1000,w:0.15}"
    );
}

#[test]
fn optional_top_level_braces() {
    assert_eq!(ok("a: 1, b: 2"), ok("{ a: 1, b: 2 }"));
    assert_eq!(ok(""), "{}");
    assert_eq!(ok("{}"), "{}");
    assert_eq!(ok("// only a comment\n"), "{}");
}

#[test]
fn property_named_include() {
    assert_eq!(ok("include: 1"), "{include:1}");
}

#[test]
fn arithmetic_operators() {
    assert_eq!(eval("1 + 2"), "3");
    assert_eq!(eval("1 - 2"), "-1");
    assert_eq!(eval("3 * 4"), "12");
    assert_eq!(eval("7 / 2"), "3.5");
    assert_eq!(eval("-(2)"), "-2");
    assert_eq!(eval("--2"), "2");
    assert_eq!(eval("+2"), "2");
}

#[test]
fn complex_arithmetic() {
    assert_eq!(eval("1.2+3*I"), "(1.2+3*I)");
    assert_eq!(eval("I*I"), "(-1+0*I)");
    assert_eq!(eval("(1+2*I)*(3-I)"), "(5+5*I)");
    assert_eq!(eval("(1+2*I)/(3-I)"), "(0.1+0.7*I)");
    assert_eq!(eval("(1+I) - (1+I)"), "(0+0*I)");
    assert_eq!(eval("-(1-2*I)"), "(-1+2*I)");
    assert_eq!(eval("2*I == 2*I"), "true");
    assert_eq!(eval("1+0*I == 1"), "true");
    let v = load("v: 1.2+3*I").unwrap();
    assert_eq!(
        v.get("v").map(|v| v.kind.clone()),
        Some(ValueKind::Complex(1.2, 3.0))
    );
}

#[test]
fn string_concatenation() {
    assert_eq!(eval(r#""a" + "b""#), r#""ab""#);
    assert_eq!(eval(r#""port" + 5060"#), r#""port5060""#);
    assert_eq!(eval(r#"1.5 + "x""#), r#""1.5x""#);
    assert_eq!(eval(r#""c" + (1+I)"#), r#""c1+1*I""#);
    assert_eq!(eval(r#"1 + 2 + "x""#), r#""3x""#);
}

#[test]
fn logic_and_comparison_operators() {
    assert_eq!(eval("!0"), "true");
    assert_eq!(eval("!1"), "false");
    assert_eq!(eval("!true"), "false");
    assert_eq!(eval("1 && true"), "true");
    assert_eq!(eval("0 || false"), "false");
    assert_eq!(eval("true && 0"), "false");
    assert_eq!(eval("false || 2"), "true");
    assert_eq!(eval("1 == 1"), "true");
    assert_eq!(eval("1 != 1"), "false");
    assert_eq!(eval("true == 1"), "true");
    assert_eq!(eval("null == 0"), "false");
    assert_eq!(eval("null == null"), "true");
    assert_eq!(eval(r#""a" == "a""#), "true");
    assert_eq!(eval(r#""a" != "b""#), "true");
    assert_eq!(eval("1 < 2"), "true");
    assert_eq!(eval("2 <= 2"), "true");
    assert_eq!(eval("2 >= 3"), "false");
    assert_eq!(eval("3 > 2"), "true");
    assert_eq!(eval(r#""abc" < "abd""#), "true");
}

#[test]
fn c_precedence() {
    assert_eq!(eval("1 + 2 * 3"), "7");
    assert_eq!(eval("(1 + 2) * 3"), "9");
    assert_eq!(eval("8 / 4 / 2"), "1");
    assert_eq!(eval("10 - 3 - 2"), "5");
    assert_eq!(eval("-2 * 3 + 1"), "-5");
    assert_eq!(eval("1 + 1 == 2"), "true");
    assert_eq!(eval("1 < 2 == 2 < 3"), "true");
    assert_eq!(eval("1 || 0 && 0"), "true");
    assert_eq!(eval("!0 == 1"), "true");
    assert_eq!(eval("!(1 == 1) || 2 > 1 && 3 >= 3"), "true");
}

#[test]
fn comments_everywhere() {
    let text = "/* head */ a /* x */ : // c\n 1 /* y */ + /* z */ 2, // tail\n b: \"// not a comment /* */\", c: [ /* e */ ] /* end";
    assert!(load(text).is_err(), "unterminated block comment must fail");
    let text = "/* head */ a /* x */ : // c\n 1 /* y */ + /* z */ 2, // tail\n b: \"// not a comment /* */\", c: [ /* e */ ] /**/";
    assert_eq!(ok(text), r#"{a:3,b:"// not a comment /* */",c:[]}"#);
}

#[test]
fn number_formatting() {
    assert_eq!(eval("`${3}`"), r#""3""#);
    assert_eq!(eval("`${3.0}`"), r#""3""#);
    assert_eq!(eval("`${0.1 + 0.2}`"), r#""0.30000000000000004""#);
    assert_eq!(eval("`${-0}`"), r#""0""#);
    assert_eq!(eval("`${1010123456000 + 1}`"), r#""1010123456001""#);
    assert_eq!(
        eval("`${1e21}/${1.5e-7}/${123456.5}`"),
        r#""1e21/1.5e-7/123456.5""#
    );
}

#[test]
fn values_carry_locations() {
    let v = load("{\n  a: [1,\n     \"x\"],\n}").unwrap();
    let a = v.get("a").unwrap();
    assert_eq!(a.loc.to_string(), "t.cfg:2:6");
    let ValueKind::Array(items) = &a.kind else {
        panic!("array")
    };
    assert_eq!(items[1].loc.to_string(), "t.cfg:3:6");
    assert_eq!(render(&v), r#"{a:[1,"x"]}"#);
}
