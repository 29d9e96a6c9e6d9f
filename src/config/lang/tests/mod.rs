//! Tests of the configuration language: the examples of seed 000 5.1 with
//! fixture files in tests/data/config_lang/, the operators, errors with their
//! exact locations, bounds, and a seeded mutation test.

mod errors;
mod fixtures;
mod mutation;
mod syntax;

use std::path::{Path, PathBuf};

use super::{format_complex, format_number, load_file, load_str, ConfigError};
use crate::config::value::{Value, ValueKind};

/// The fixture directory.
fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config_lang")
}

/// A fixture file path.
fn fixture(name: &str) -> PathBuf {
    data_dir().join(name)
}

/// Loads a fixture, panicking with the error text on failure.
fn load_fixture(name: &str) -> Value {
    load_file(&fixture(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Loads inline text named "t.cfg" with includes relative to the fixtures.
fn load(text: &str) -> Result<Value, ConfigError> {
    load_str("t.cfg", text, &data_dir())
}

/// Loads inline text that must be valid, rendered by [`render`].
fn ok(text: &str) -> String {
    render(&load(text).unwrap_or_else(|e| panic!("{e}")))
}

/// The Display text of the error of inline text that must be invalid.
fn err(text: &str) -> String {
    match load(text) {
        Ok(v) => panic!("expected an error, got {}", render(&v)),
        Err(e) => e.to_string(),
    }
}

/// The value of property `name` of inline text `name: <expr>`, rendered.
fn eval(expr: &str) -> String {
    let v = load(&format!("v: {expr}")).unwrap_or_else(|e| panic!("{expr}: {e}"));
    render(v.get("v").unwrap_or_else(|| panic!("no v in {expr}")))
}

/// A compact rendering without locations: `{a:1,b:["x",true]}`.
fn render(v: &Value) -> String {
    match &v.kind {
        ValueKind::Null => "null".to_string(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Number(n) => format_number(*n),
        ValueKind::Complex(re, im) => format!("({})", format_complex(*re, *im)),
        ValueKind::String(s) => format!("{s:?}"),
        ValueKind::Array(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(",")
        ),
        ValueKind::Object(props) => {
            let props: Vec<String> = props
                .iter()
                .map(|(k, v)| format!("{k}:{}", render(v)))
                .collect();
            format!("{{{}}}", props.join(","))
        }
    }
}
