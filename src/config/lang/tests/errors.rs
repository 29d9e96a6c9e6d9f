//! Errors: each message and its exact `file:line:column`; bounds on nesting,
//! include depth, string length and total work.

use std::fs;
use std::path::PathBuf;

use super::{data_dir, err, fixture, load, ok};
use crate::config::lang::{load_file, ConfigError};

/// `dir/name` as the loader names fixture files.
fn named(name: &str) -> String {
    fixture(name).display().to_string()
}

fn file_err(name: &str) -> String {
    load_file(&fixture(name))
        .map(|_| ())
        .map_err(|e: ConfigError| e.to_string())
        .unwrap_err()
}

#[test]
fn lexical_errors() {
    assert_eq!(
        err("a: 1,\nb: \"abc"),
        "t.cfg:2:4: error: unterminated string"
    );
    assert_eq!(
        err("a: \"ab\ncd\""),
        "t.cfg:1:4: error: unterminated string"
    );
    assert_eq!(
        err("a: `abc${1}"),
        "t.cfg:1:4: error: unterminated backquote string"
    );
    assert_eq!(
        err("a: `x${1 + 2"),
        "t.cfg:1:6: error: unterminated '${' in backquote string"
    );
    assert_eq!(
        err("a: 1 /* never\nclosed"),
        "t.cfg:1:6: error: unterminated comment"
    );
    assert_eq!(
        err(r#"a: "x\q""#),
        r#"t.cfg:1:6: error: invalid escape '\q' in string"#
    );
    assert_eq!(
        err(r#"a: "\ud800""#),
        r#"t.cfg:1:5: error: invalid \u escape: unpaired surrogate"#
    );
    assert_eq!(err("a: 12ab"), "t.cfg:1:4: error: invalid number '12ab'");
    assert_eq!(
        err("100rel: 1"),
        "t.cfg:1:1: error: invalid number '100rel'"
    );
    assert_eq!(
        err("a: 1e999"),
        "t.cfg:1:4: error: number '1e999' out of range"
    );
    assert_eq!(
        err("a: 1 = 2"),
        "t.cfg:1:6: error: unexpected character '='"
    );
    assert_eq!(
        err("a: 1 # 2"),
        "t.cfg:1:6: error: unexpected '#': preprocessor directives must start a line"
    );
}

#[test]
fn syntax_errors() {
    assert_eq!(
        err("{ a: 1 b: 2 }"),
        "t.cfg:1:8: error: expected ',' or '}' after property value, found identifier 'b'"
    );
    assert_eq!(
        err("a: 1 b: 2"),
        "t.cfg:1:6: error: expected ',' or end of file after property value, found identifier 'b'"
    );
    assert_eq!(
        err("a: 1 + * 2"),
        "t.cfg:1:8: error: expected value, found '*'"
    );
    assert_eq!(
        err("a 1"),
        "t.cfg:1:3: error: expected ':' after property name 'a', found number"
    );
    assert_eq!(
        err("a: 1,,"),
        "t.cfg:1:6: error: expected property name, found ','"
    );
    assert_eq!(
        err("a: [1 2]"),
        "t.cfg:1:7: error: expected ',' or ']' after array element, found number"
    );
    assert_eq!(
        err("a: (1 + 2"),
        "t.cfg:1:10: error: expected ')' after expression, found end of file"
    );
    assert_eq!(
        err("{ a: 1 } x"),
        "t.cfg:1:10: error: expected end of file after the top-level object, found identifier 'x'"
    );
    assert_eq!(
        err("{ a: 1"),
        "t.cfg:1:7: error: expected ',' or '}' after property value, found end of file"
    );
    assert_eq!(err("a: foo"), "t.cfg:1:4: error: unknown identifier 'foo' (not a value or a defined preprocessor variable)");
    assert_eq!(err("a: [include \"file2.cfg\"]"), "t.cfg:1:5: error: unknown identifier 'include' (not a value or a defined preprocessor variable)");
    assert_eq!(
        err("a: `${1 2}`"),
        "t.cfg:1:9: error: expected '}' after expression in backquote string, found number"
    );
    assert_eq!(
        err("#define N 3\nN: 1"),
        "t.cfg:2:1: error: expected property name, found number (preprocessor variable)"
    );
}

#[test]
fn evaluation_errors() {
    assert_eq!(
        err("a: true + 1"),
        "t.cfg:1:9: error: operator + not defined for boolean and number"
    );
    assert_eq!(err("a: 1 / 0"), "t.cfg:1:6: error: division by zero");
    assert_eq!(err("a: I / (0 * I)"), "t.cfg:1:6: error: division by zero");
    assert_eq!(
        err("a: \"x\" - 1"),
        "t.cfg:1:8: error: operator - not defined for string and number"
    );
    assert_eq!(
        err("a: \"x\" + true"),
        "t.cfg:1:8: error: operator + not defined for string and boolean"
    );
    assert_eq!(
        err("a: -\"x\""),
        "t.cfg:1:4: error: operator - not defined for string"
    );
    assert_eq!(
        err("a: !\"x\""),
        "t.cfg:1:4: error: operator ! not defined for string"
    );
    assert_eq!(
        err("a: \"x\" && 1"),
        "t.cfg:1:8: error: operator && not defined for string"
    );
    assert_eq!(
        err("a: 1 < I"),
        "t.cfg:1:6: error: operator < not defined for number and complex number"
    );
    assert_eq!(
        err("a: [1] == [1]"),
        "t.cfg:1:8: error: operator == not defined for array and array"
    );
    assert_eq!(
        err("a: 1e308 * 10"),
        "t.cfg:1:10: error: result of operator * is not a finite number"
    );
    assert_eq!(
        err("a: `${[1]}`"),
        "t.cfg:1:7: error: cannot insert array into a backquote string"
    );
    assert_eq!(
        err("include 3,"),
        "t.cfg:1:9: error: include expects a string file name, found number"
    );
}

#[test]
fn preprocessor_errors() {
    assert_eq!(
        err("a: 1,\n#if 1\nb: 2,\n"),
        "t.cfg:4:1: error: unterminated #if started at t.cfg:2:1"
    );
    assert_eq!(
        err("#ifdef X\n#if 1\n#endif"),
        "t.cfg:3:7: error: unterminated #ifdef started at t.cfg:1:1"
    );
    assert_eq!(
        err("a: 1,\n  #endif\n"),
        "t.cfg:2:3: error: #endif without #if"
    );
    assert_eq!(err("#else\n"), "t.cfg:1:1: error: #else without #if");
    assert_eq!(err("#elif 1\n"), "t.cfg:1:1: error: #elif without #if");
    assert_eq!(
        err("#if 0\n#else\n#else\n#endif"),
        "t.cfg:3:1: error: #else after #else"
    );
    assert_eq!(
        err("#if 0\n#else\n#elif 1\n#endif"),
        "t.cfg:3:1: error: #elif after #else"
    );
    assert_eq!(
        err("a: 1,\n #foo bar\n"),
        "t.cfg:2:2: error: unknown preprocessor directive #foo"
    );
    assert_eq!(
        err("# 3\n"),
        "t.cfg:1:3: error: expected directive name after '#', found number"
    );
    assert_eq!(
        err("#define\n"),
        "t.cfg:1:8: error: expected variable name after #define, found end of line"
    );
    assert_eq!(
        err("#define X 1 2\n"),
        "t.cfg:1:13: error: expected end of line after #define expression, found number"
    );
    assert_eq!(
        err("#ifdef X Y\n#endif"),
        "t.cfg:1:10: error: expected end of line after #ifdef, found identifier 'Y'"
    );
    assert_eq!(
        err("#endif x\n"),
        "t.cfg:1:8: error: expected end of line after #endif, found identifier 'x'"
    );
    assert_eq!(
        err("#if Y\n#endif"),
        "t.cfg:1:5: error: unknown identifier 'Y' (not a value or a defined preprocessor variable)"
    );
    assert_eq!(
        err("#if \"s\"\n#endif"),
        "t.cfg:1:5: error: #if expects a boolean or a number, found string"
    );
    assert_eq!(
        err("#if\n#endif"),
        "t.cfg:1:4: error: expected value, found end of line"
    );
    assert_eq!(
        err("#if defined(\n#endif"),
        "t.cfg:1:5: error: expected variable name after 'defined'"
    );
    assert_eq!(
        err("#include 3\n"),
        "t.cfg:1:10: error: #include expects a string file name, found number"
    );
    assert_eq!(
        err("#define X (1 +\n 2)\n"),
        "t.cfg:1:15: error: expected value, found end of line"
    );
}

#[test]
fn include_errors() {
    let dir = named("missing_include.cfg");
    assert_eq!(
        file_err("missing_include.cfg"),
        format!("{dir}:3:11: error: cannot read include file 'no_such_file.cfg': No such file or directory")
    );
    assert_eq!(
        err("#include \"none.cfg\"\n"),
        "t.cfg:1:10: error: cannot read include file 'none.cfg': No such file or directory"
    );
    assert_eq!(
        err("include \".\","),
        "t.cfg:1:9: error: cannot read include file '.': not a regular file"
    );
    assert_eq!(
        err("[1, 2]"),
        "t.cfg:1:1: error: expected an object, found an array (arrays can't be included)"
    );
    let (a, b) = (named("cycle_a.cfg"), named("cycle_b.cfg"));
    assert_eq!(
        file_err("cycle_a.cfg"),
        format!("{b}:2:11: error: include cycle: {a} -> {b} -> {a}")
    );
    let (a, b) = (named("pcycle_a.cfg"), named("pcycle_b.cfg"));
    assert_eq!(
        file_err("pcycle_a.cfg"),
        format!("{b}:2:11: error: include cycle: {a} -> {b} -> {a}")
    );
    // Locations inside an #include'd file name that file.
    let inc = named("bad_included.cfg");
    assert_eq!(
        file_err("bad_in_include.cfg"),
        format!("{inc}:2:6: error: operator + not defined for boolean and number")
    );
    let missing = data_dir().join("nope.cfg").display().to_string();
    assert_eq!(
        load_file(&data_dir().join("nope.cfg")).unwrap_err().to_string(),
        format!("{missing}:1:1: error: cannot read configuration file '{missing}': No such file or directory")
    );
}

/// A fresh directory under the system temporary directory.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cfglang-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn include_depth_is_bounded() {
    let dir = temp_dir("depth");
    for i in 0..40 {
        fs::write(
            dir.join(format!("f{i}.cfg")),
            format!("v{i}: {i},\ninclude \"f{}.cfg\",\n", i + 1),
        )
        .unwrap();
    }
    fs::write(dir.join("f40.cfg"), "end: 1").unwrap();
    let e = load_file(&dir.join("f0.cfg")).unwrap_err();
    assert_eq!(e.message, "includes nested too deeply (limit 32)");
    assert_eq!((e.loc.line, e.loc.column), (2, 9));
    assert!(e.loc.file.ends_with("f31.cfg"), "{e}");
    fs::write(dir.join("f20.cfg"), "end: 1").unwrap();
    let v = load_file(&dir.join("f0.cfg")).unwrap();
    assert_eq!(
        v.get("v19").map(|v| v.kind.clone()),
        Some(crate::config::value::ValueKind::Number(19.0))
    );
    fs::write(dir.join("bad.cfg"), b"a: 1,\nb: \"\xff\"").unwrap();
    assert_eq!(
        load_file(&dir.join("bad.cfg")).unwrap_err().to_string(),
        format!(
            "{}:2:5: error: invalid UTF-8 in configuration file",
            dir.join("bad.cfg").display()
        )
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for open in ["[", "{a:", "(", "[1+", "{a:-(", "`${"] {
        let text = format!("a: {}", open.repeat(100_000));
        let e = load(&text).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{open}: {e}");
    }
    let e = load(&format!("a: {}", "[".repeat(100_000))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.cfg:1:132: error: values nested too deeply (limit 128)"
    );
    // Long prefix operator chains are a loop, not recursion.
    assert_eq!(ok(&format!("a: {}1", "-".repeat(100_000))), "{a:1}");
    assert_eq!(ok(&format!("a: {}0", "!".repeat(100_001))), "{a:true}");
}

#[test]
fn nesting_up_to_the_limit_works() {
    let limit = crate::config::lang::MAX_DEPTH;
    let text = format!("a: {}1{}", "[1+".repeat(limit - 1), "]".repeat(limit - 1));
    assert_eq!(
        load(&text).unwrap_err().message,
        "operator + not defined for number and array"
    );
    let text = format!(
        "a: {}1{}",
        "{b: 1 + (".repeat(limit / 2 - 1),
        ")}".repeat(limit / 2 - 1)
    );
    assert_eq!(
        load(&text).unwrap_err().message,
        "operator + not defined for number and object"
    );
    let text = format!(
        "a: {}1{}",
        "{b: (".repeat(limit / 2 - 1),
        ")}".repeat(limit / 2 - 1)
    );
    assert!(load(&text).is_ok());
    let text = format!("a: {}{}", "[".repeat(limit), "]".repeat(limit));
    assert!(load(&text).is_ok());
    let text = format!("a: {}{}", "[".repeat(limit + 1), "]".repeat(limit + 1));
    assert!(load(&text).is_err());
}

#[test]
fn work_and_string_length_are_bounded() {
    let mut text = String::from("#define S \"0123456789abcdef\"\n");
    for _ in 0..20 {
        text.push_str("#define S S + S\n");
    }
    let e = load(&text).unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "string longer than {} bytes",
            crate::config::lang::MAX_STRING_LEN
        )
    );
    let mut text = String::from("#define A0 [1,1,1,1,1,1,1,1,1,1]\n");
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "#define A{i} [A{p},A{p},A{p},A{p},A{p},A{p},A{p},A{p},A{p},A{p}]\n"
        ));
    }
    let e = load(&text).unwrap_err();
    assert!(e.message.starts_with("configuration too large"), "{e}");
}
