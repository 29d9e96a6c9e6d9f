//! Typed access to the members of a remote API message object (seed 000 6.1:
//! strict JSON), with errors that name the offending field (seed 000 6.3).

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use serde_json::{Map, Value};

/// A message member that is missing or not acceptable.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldError {
    /// A mandatory member is absent.
    Missing(String),
    /// The member has the wrong JSON type; `expected` reads "a string", "an integer"...
    Type {
        /// Member name (dotted for nested members).
        field: String,
        /// Expected type, with its article.
        expected: &'static str,
    },
    /// A number outside its range.
    Range {
        /// Member name.
        field: String,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// A value outside its enumeration or format.
    Value {
        /// Member name.
        field: String,
        /// What is accepted.
        allowed: &'static str,
    },
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Missing(n) => write!(f, "Missing parameter: {n}"),
            FieldError::Type { field, expected } => write!(f, "Invalid parameter: {field} must be {expected}"),
            FieldError::Range { field, min, max } => write!(f, "Invalid parameter: {field} must be between {min} and {max}"),
            FieldError::Value { field, allowed } => write!(f, "Invalid parameter: {field} must be {allowed}"),
        }
    }
}

/// Result of a field access.
pub type FieldResult<T> = Result<T, FieldError>;

fn type_err<T>(field: &str, expected: &'static str) -> FieldResult<T> {
    Err(FieldError::Type { field: field.to_owned(), expected })
}

/// Read-only view of a message object. JSON `null` counts as absent.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    obj: &'a Map<String, Value>,
    /// Prefix for nested objects ("logs.layers."), empty at top level.
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    /// Top-level view.
    pub fn new(obj: &'a Map<String, Value>) -> Fields<'a> {
        Fields { obj, prefix: "" }
    }

    /// View of a nested object whose members are reported as `prefix` + name.
    pub fn nested(obj: &'a Map<String, Value>, prefix: &'a str) -> Fields<'a> {
        Fields { obj, prefix }
    }

    /// The underlying object.
    pub fn object(&self) -> &'a Map<String, Value> {
        self.obj
    }

    /// Full name of member `name` for error messages.
    pub fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The member, unless absent or null.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.obj.get(name).filter(|v| !v.is_null())
    }

    /// A mandatory member.
    pub fn require(&self, name: &str) -> FieldResult<&'a Value> {
        self.get(name).ok_or_else(|| FieldError::Missing(self.path(name)))
    }

    /// Optional string.
    pub fn opt_str(&self, name: &str) -> FieldResult<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => type_err(&self.path(name), "a string"),
        }
    }

    /// Mandatory string.
    pub fn str(&self, name: &str) -> FieldResult<&'a str> {
        self.opt_str(name)?.ok_or_else(|| FieldError::Missing(self.path(name)))
    }

    /// Optional non-empty string, owned.
    pub fn opt_string(&self, name: &str) -> FieldResult<Option<String>> {
        Ok(self.opt_str(name)?.map(str::to_owned))
    }

    /// Mandatory string, owned.
    pub fn string(&self, name: &str) -> FieldResult<String> {
        self.str(name).map(str::to_owned)
    }

    /// Optional boolean.
    pub fn opt_bool(&self, name: &str) -> FieldResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => type_err(&self.path(name), "a boolean"),
        }
    }

    /// Boolean with a default.
    pub fn bool_or(&self, name: &str, default: bool) -> FieldResult<bool> {
        Ok(self.opt_bool(name)?.unwrap_or(default))
    }

    /// Optional integer in `range` (integral floats such as 5.0 are accepted).
    pub fn opt_int(&self, name: &str, range: RangeInclusive<i64>) -> FieldResult<Option<i64>> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18).map(|f| f as i64)),
            _ => None,
        };
        let Some(n) = n.or_else(|| v.as_u64().map(|_| i64::MAX)) else {
            return type_err(&self.path(name), "an integer");
        };
        if !range.contains(&n) {
            return Err(FieldError::Range { field: self.path(name), min: *range.start() as f64, max: *range.end() as f64 });
        }
        Ok(Some(n))
    }

    /// Optional unsigned 32-bit integer in `range`.
    pub fn opt_u32(&self, name: &str, range: RangeInclusive<u32>) -> FieldResult<Option<u32>> {
        let r = i64::from(*range.start())..=i64::from(*range.end());
        // The range check above keeps the value within u32.
        Ok(self.opt_int(name, r)?.map(|n| n as u32))
    }

    /// Optional finite number in `range`.
    pub fn opt_num(&self, name: &str, range: RangeInclusive<f64>) -> FieldResult<Option<f64>> {
        let Some(v) = self.get(name) else { return Ok(None) };
        let Some(n) = v.as_f64() else { return type_err(&self.path(name), "a number") };
        if !range.contains(&n) {
            return Err(FieldError::Range { field: self.path(name), min: *range.start(), max: *range.end() });
        }
        Ok(Some(n))
    }

    /// Optional delay in seconds (seed 000 6.1: "floating number in seconds").
    pub fn opt_seconds(&self, name: &str, max: f64) -> FieldResult<Option<Duration>> {
        Ok(self.opt_num(name, 0.0..=max)?.map(Duration::from_secs_f64))
    }

    /// Optional object.
    pub fn opt_object(&self, name: &str) -> FieldResult<Option<&'a Map<String, Value>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => type_err(&self.path(name), "an object"),
        }
    }

    /// Optional array.
    pub fn opt_array(&self, name: &str) -> FieldResult<Option<&'a [Value]>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => type_err(&self.path(name), "an array"),
        }
    }

    /// Optional string that must be one of `E`'s names.
    pub fn opt_enum<E: Named>(&self, name: &str) -> FieldResult<Option<E>> {
        let Some(s) = self.opt_str(name)? else { return Ok(None) };
        E::from_name(s).map(Some).ok_or_else(|| FieldError::Value { field: self.path(name), allowed: E::ALLOWED })
    }

    /// Optional "string or array of strings" (seed 000 6.5 register), as a list.
    pub fn opt_str_list(&self, name: &str) -> FieldResult<Option<Vec<&'a str>>> {
        let expected = "a string or an array of strings";
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.as_str()])),
            Some(Value::Array(a)) => a.iter().map(|v| v.as_str().ok_or(())).collect::<Result<_, _>>().map(Some).or_else(|()| type_err(&self.path(name), expected)),
            Some(_) => type_err(&self.path(name), expected),
        }
    }
}

/// An enumeration spelled as strings in the API.
pub trait Named: Sized + Copy + 'static {
    /// Accepted spellings, for error messages: "one of a, b, c".
    const ALLOWED: &'static str;
    /// Every value with its spelling.
    const ALL: &'static [(&'static str, Self)];

    /// Parses a spelling.
    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }

    /// The spelling.
    fn name(self) -> &'static str
    where
        Self: PartialEq,
    {
        Self::ALL.iter().find(|(_, v)| *v == self).map_or("", |(n, _)| n)
    }
}

/// Declares a `Named` enum from (variant, "spelling") pairs.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident {
        $(#[$vm0:meta])* $v0:ident = $s0:literal
        $(, $(#[$vm:meta])* $var:ident = $s:literal)* $(,)?
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $(#[$vm0])* #[doc = concat!("`", $s0, "`")] $v0,
            $($(#[$vm])* #[doc = concat!("`", $s, "`")] $var),*
        }
        impl $crate::api::fields::Named for $name {
            const ALLOWED: &'static str = concat!("one of ", $s0 $(, ", ", $s)*);
            const ALL: &'static [(&'static str, Self)] = &[($s0, $name::$v0) $(, ($s, $name::$var))*];
        }
    };
}
pub(crate) use named_enum;
