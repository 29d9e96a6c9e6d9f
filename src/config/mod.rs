//! Configuration: the lteims configuration language (`lang`), the evaluated
//! value tree it produces (`value`) and the typed configuration read from
//! that tree (`typed`). [`load`] chains the three for the binary.

pub mod lang;
pub mod typed;
pub mod value;

use std::fmt;
use std::path::Path;

/// A configuration that loaded, with the warnings met on the way.
pub struct Loaded {
    /// The typed configuration.
    pub config: typed::Config,
    /// Unknown properties and similar non-fatal findings, located.
    pub warnings: Vec<typed::Warning>,
}

/// Why a configuration did not load: every located error found.
#[derive(Debug)]
pub struct LoadError(pub Vec<String>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Reads, preprocesses, evaluates and types the configuration file `path`.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let value = lang::load_file(path).map_err(|e| LoadError(vec![e.to_string()]))?;
    typed_of(&value)
}

/// Like [`load`] for a configuration held in memory (the embedded default);
/// includes are resolved against `base_dir`.
pub fn load_str(name: &str, text: &str, base_dir: &Path) -> Result<Loaded, LoadError> {
    let value = lang::load_str(name, text, base_dir).map_err(|e| LoadError(vec![e.to_string()]))?;
    typed_of(&value)
}

fn typed_of(value: &value::Value) -> Result<Loaded, LoadError> {
    match typed::from_value(value) {
        Ok((config, warnings)) => Ok(Loaded { config, warnings }),
        Err(errors) => Err(LoadError(errors.iter().map(|e| format!("{e}")).collect())),
    }
}
