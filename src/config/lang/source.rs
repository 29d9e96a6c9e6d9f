//! Reading configuration source files with bounds: regular files only (a FIFO
//! or device would block or never end), at most [`MAX_FILE_SIZE`] bytes,
//! UTF-8 text (a leading byte order mark is dropped).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ConfigError, Result};
use super::MAX_FILE_SIZE;
use crate::config::value::Location;

/// A file read into memory, ready to be lexed.
pub(crate) struct SourceFile {
    /// The name used in locations: the path as given or as resolved from an include.
    pub name: Arc<str>,
    /// The directory includes in this file are relative to.
    pub dir: PathBuf,
    /// The canonical path, for include cycle detection.
    pub canonical: Option<PathBuf>,
    /// The text.
    pub text: String,
}

/// The directory a file's relative includes are resolved against.
pub(crate) fn dir_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Reads `path`; `what` names it in errors reported at `at`
/// ("cannot read include file 'x.cfg': No such file or directory").
pub(crate) fn read_source(path: &Path, what: &str, at: &Location) -> Result<SourceFile> {
    let fail = |msg: String| ConfigError::new(at.clone(), format!("cannot read {what}: {msg}"));
    let meta = fs::metadata(path).map_err(|e| fail(io_message(&e)))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".to_string()));
    }
    if meta.len() > MAX_FILE_SIZE as u64 {
        return Err(fail(format!(
            "larger than the limit of {MAX_FILE_SIZE} bytes"
        )));
    }
    let mut bytes = Vec::new();
    let file = fs::File::open(path).map_err(|e| fail(io_message(&e)))?;
    file.take(MAX_FILE_SIZE as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(io_message(&e)))?;
    if bytes.len() > MAX_FILE_SIZE {
        return Err(fail(format!(
            "larger than the limit of {MAX_FILE_SIZE} bytes"
        )));
    }
    let name: Arc<str> = Arc::from(path.display().to_string());
    let text = decode(bytes, &name)?;
    Ok(SourceFile {
        name,
        dir: dir_of(path),
        canonical: fs::canonicalize(path).ok(),
        text,
    })
}

/// The UTF-8 text of `bytes`, or an error at the first invalid byte.
pub(crate) fn decode(bytes: Vec<u8>, name: &Arc<str>) -> Result<String> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let prefix = e.as_bytes().get(..valid).unwrap_or_default();
            // Invariant: the first `valid_up_to` bytes are valid UTF-8, so this never falls back.
            let prefix = std::str::from_utf8(prefix).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let loc = Location {
                file: name.clone(),
                line: clamp(line),
                column: clamp(column),
            };
            Err(ConfigError::new(loc, "invalid UTF-8 in configuration file"))
        }
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The OS error text without Rust's " (os error N)" suffix.
fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text.get(..i).unwrap_or(&text).to_string(),
        None => text,
    }
}
