//! Diagnostics of the typed configuration: errors that reject a
//! configuration and warnings that do not, each carrying the source
//! [`Location`] of the offending value and the property path that leads to it
//! (`sip_addr[1].port_min`), so that a message reads
//! `ims.cfg:12:15: sip_addr[1].port_min: value 70000 out of range 0..65535`.

use std::fmt;

use crate::config::value::Location;

/// A configuration value that cannot be used; the configuration is rejected.
#[derive(Clone, Debug, PartialEq)]
pub struct TypedError {
    /// Where the offending value (or the object missing a property) starts.
    pub loc: Location,
    /// Property path, e.g. `ue_db[3].impu[0].callflow_modifier[1].code`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A configuration value that is accepted but deserves attention: unknown
/// property, deprecated form, setting ignored because of another one.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// Where the value starts.
    pub loc: Location,
    /// Property path.
    pub path: String,
    /// What to look at.
    pub message: String,
}

fn write_diag(f: &mut fmt::Formatter<'_>, loc: &Location, path: &str, msg: &str) -> fmt::Result {
    if path.is_empty() {
        write!(f, "{loc}: {msg}")
    } else {
        write!(f, "{loc}: {path}: {msg}")
    }
}

impl fmt::Display for TypedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_diag(f, &self.loc, &self.path, &self.message)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_diag(f, &self.loc, &self.path, &self.message)
    }
}

impl std::error::Error for TypedError {}
