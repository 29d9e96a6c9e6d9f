//! The lteims configuration language (seed 000 section 5.1): JSON with
//! unquoted property names, optional top-level braces, complex numbers,
//! operators, duplicate properties merged, `include`, a C-like preprocessor
//! and backquote strings with `${expr}`. Reading a file gives a [`Value`]
//! object in which every value carries its `file:line:column`.
//!
//! Choices where the manual is silent (each one documented where implemented):
//! - numbers: decimal (`13.4`, `.5`, `1e3`) or hexadecimal (`0x1F`); a name
//!   starting with a digit must be quoted (`"100rel": true`);
//! - strings take JSON escapes and may not span lines; backquote strings may;
//! - trailing commas are accepted in objects and arrays;
//! - `+` with a string and a number concatenates the number's text, see
//!   [`format_number`] (`"port" + 5060` is `"port5060"`, `3` not `3.0`);
//! - operator semantics: see the `ops` module (numbers are booleans: 0 is
//!   false, any other number true; booleans are not numbers in arithmetic);
//! - the preprocessor substitutes variables everywhere in the JSON text
//!   except inside `"..."` strings; inside backquote `${}` too; a variable
//!   whose value is a string may stand for a property name;
//! - `include` and `#include` paths are relative to the file containing them;
//!   preprocessor variables are shared by all files of a load.
//!
//! Bounds: [`MAX_FILE_SIZE`] per file, [`MAX_INCLUDE_DEPTH`] nested files,
//! [`MAX_DEPTH`] nested values, [`MAX_STRING_LEN`] per computed string and
//! [`MAX_WORK`] bytes of text read plus values built per load. Input
//! never panics and never overflows the stack.

mod directive;
mod error;
mod lexer;
mod merge;
mod ops;
mod parser;
mod source;
mod stream;
mod token;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

pub use error::ConfigError;
pub use ops::{format_complex, format_number};

use crate::config::value::{Location, Value, ValueKind};
use source::{decode, read_source, SourceFile};
use stream::Reader;

/// Largest configuration file read, in bytes.
pub const MAX_FILE_SIZE: usize = 16 * 1024 * 1024;
/// Deepest nesting of files (`include` and `#include`, the main file counting as one).
pub const MAX_INCLUDE_DEPTH: usize = 32;
/// Deepest nesting of values (arrays, objects, parentheses, `${}`, includes).
/// Real configurations nest less than 10 deep; 128 levels stay within a 2 MiB
/// thread stack even in debug builds (about 10 KiB of stack per level there).
pub const MAX_DEPTH: usize = 128;
/// Longest string built by `+` or a backquote string, in bytes.
pub const MAX_STRING_LEN: usize = 1024 * 1024;
/// Most work per load, about the memory it may take: bytes of files read,
/// plus the in-memory size of every value parsed or substituted.
pub const MAX_WORK: u64 = 256 * 1024 * 1024;
/// Deepest nesting of backquote strings inside `${}`.
pub(crate) const MAX_TEMPLATE_NESTING: u32 = 16;

/// Reads the configuration file `path` and the files it includes.
pub fn load_file(path: &Path) -> Result<Value, ConfigError> {
    load_file_with_defines(path, &[])
}

/// Like [`load_file`], with preprocessor variables defined beforehand (as by
/// `#define` lines at the top of the file; a command line's `-D NAME=value`).
pub fn load_file_with_defines(
    path: &Path,
    defines: &[(String, Value)],
) -> Result<Value, ConfigError> {
    let name: Arc<str> = Arc::from(path.display().to_string());
    let at = start_of(&name);
    let src = read_source(path, &format!("configuration file '{name}'"), &at)?;
    load(src, defines)
}

/// Reads configuration text `text`, named `name` in locations; its includes
/// are relative to `base_dir`.
pub fn load_str(name: &str, text: &str, base_dir: &Path) -> Result<Value, ConfigError> {
    load_str_with_defines(name, text, base_dir, &[])
}

/// Like [`load_str`], with preprocessor variables defined beforehand.
pub fn load_str_with_defines(
    name: &str,
    text: &str,
    base_dir: &Path,
    defines: &[(String, Value)],
) -> Result<Value, ConfigError> {
    let name: Arc<str> = Arc::from(name);
    let at = start_of(&name);
    if text.len() > MAX_FILE_SIZE {
        return Err(ConfigError::new(
            at,
            format!("configuration larger than the limit of {MAX_FILE_SIZE} bytes"),
        ));
    }
    let text = decode(text.as_bytes().to_vec(), &name)?;
    load(
        SourceFile {
            name,
            dir: base_dir.to_path_buf(),
            canonical: None,
            text,
        },
        defines,
    )
}

fn load(src: SourceFile, defines: &[(String, Value)]) -> Result<Value, ConfigError> {
    let at = start_of(&src.name);
    let mut reader = Reader::new(defines);
    reader.push_root(src, &at)?;
    let props = reader.parse_file()?;
    Ok(Value {
        kind: ValueKind::Object(props),
        loc: at,
    })
}

fn start_of(name: &Arc<str>) -> Location {
    Location {
        file: name.clone(),
        line: 1,
        column: 1,
    }
}
