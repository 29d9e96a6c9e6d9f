//! The error of the configuration language: a message saying what was
//! expected, and the `file:line:column` of the offending token.

use std::fmt;

use crate::config::value::Location;

/// An error found while reading, preprocessing or evaluating a configuration file.
///
/// Displays as `file:line:column: error: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the offending token starts (in its original file, after includes).
    pub loc: Location,
    /// What was wrong or expected, e.g. `expected ',' or '}' after property value, found ...`.
    pub message: String,
}

impl ConfigError {
    /// An error at `loc`.
    pub fn new(loc: Location, message: impl Into<String>) -> Self {
        ConfigError {
            loc,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: error: {}", self.loc, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Shorthand used throughout the language modules.
pub(crate) type Result<T> = std::result::Result<T, ConfigError>;
