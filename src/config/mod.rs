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

/// Reads, preprocesses, evaluates and types the configuration file `path`,
/// and reads the files it names.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let value = lang::load_file(path).map_err(|e| LoadError(vec![e.to_string()]))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    typed_of(&value, &path.display().to_string(), dir)
}

/// Like [`load`] for a configuration held in memory (the embedded default);
/// includes are resolved against `base_dir`.
pub fn load_str(name: &str, text: &str, base_dir: &Path) -> Result<Loaded, LoadError> {
    let value = lang::load_str(name, text, base_dir).map_err(|e| LoadError(vec![e.to_string()]))?;
    typed_of(&value, name, base_dir)
}

/// Types the tree, then reads the files it names (`sdp_file`, `content`...)
/// relative to the configuration that named them (`root_name` in `root_dir`).
fn typed_of(value: &value::Value, root_name: &str, root_dir: &Path) -> Result<Loaded, LoadError> {
    let located = |errors: Vec<typed::TypedError>| LoadError(errors.iter().map(|e| format!("{e}")).collect());
    let (mut config, warnings) = typed::from_value(value).map_err(located)?;
    config.load_files(root_name, root_dir).map_err(located)?;
    Ok(Loaded { config, warnings })
}
