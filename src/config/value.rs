//! Values of the lteims configuration language after evaluation, each tagged
//! with the place in the source it came from, so that the typed configuration
//! can report `file:line:column` for a value that is out of range or of the
//! wrong type.

use std::fmt;
use std::sync::Arc;

/// A place in a configuration source file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, as named by the user or the include that reached it.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// An evaluated configuration value and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// What the value is.
    pub kind: ValueKind,
    /// Where the value (or the expression that produced it) starts.
    pub loc: Location,
}

/// The types of seed 000 section 5.1 item 1.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// JSON `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit floating point number.
    Number(f64),
    /// A complex number `re + im*I`.
    Complex(f64, f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object: properties in reading order, duplicates already merged
    /// (seed 000 5.1 item 6), so every name appears once.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The property `name` of an object value, if this is an object and has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match &self.kind {
            ValueKind::Object(props) => props.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name of the value's type for error messages ("number", "string", ...).
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ValueKind::Null => "null",
            ValueKind::Bool(_) => "boolean",
            ValueKind::Number(_) => "number",
            ValueKind::Complex(..) => "complex number",
            ValueKind::String(_) => "string",
            ValueKind::Array(_) => "array",
            ValueKind::Object(_) => "object",
        }
    }
}
