//! The log file (`log_filename`, `append`, `file=cut`, `file.rotate`, `file.path`,
//! section 5.2). Owned by the log writer thread only.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Buffer of the file writer; a full buffer is written out at once.
const BUF_SIZE: usize = 64 * 1024;
/// Bound on `.N` suffixes tried when a rotated name already exists.
const MAX_ROTATE_SUFFIX: u32 = 1000;

/// An open log file with its size.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    out: BufWriter<File>,
    size: u64,
}

impl LogFile {
    /// Opens `path`, keeping its content when `append`, else truncating it.
    pub fn open(path: &Path, append: bool) -> io::Result<LogFile> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)?;
        let size = file.metadata()?.len();
        Ok(LogFile {
            path: path.to_owned(),
            out: BufWriter::with_capacity(BUF_SIZE, file),
            size,
        })
    }

    /// Path of the log.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes in the file, including buffered ones.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends text (buffered).
    pub fn write(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.size += text.len() as u64;
        Ok(())
    }

    /// Hands buffered bytes to the kernel.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and asks the kernel to write the data to disk.
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }

    /// `file=cut`: closes the log and opens it again, empty.
    pub fn cut(&mut self) -> io::Result<()> {
        self.out.flush()?;
        *self = LogFile::open(&self.path, false)?;
        Ok(())
    }

    /// `file.rotate`: renames the log to `<name>.<suffix>` (in `dir` if given, else next to
    /// the log; `.1`, `.2`, ... added if taken) and opens a fresh one. Returns the new name.
    pub fn rotate(&mut self, suffix: &str, dir: Option<&Path>) -> io::Result<PathBuf> {
        self.sync()?;
        let target = self.rotated_name(suffix, dir)?;
        fs::rename(&self.path, &target)?;
        *self = LogFile::open(&self.path, false)?;
        Ok(target)
    }

    fn rotated_name(&self, suffix: &str, dir: Option<&Path>) -> io::Result<PathBuf> {
        let name = self.path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "log path has no file name")
        })?;
        let dir = dir.or(self.path.parent()).unwrap_or(Path::new("."));
        let mut base = name.to_os_string();
        base.push(".");
        base.push(suffix);
        let first = dir.join(&base);
        if !first.exists() {
            return Ok(first);
        }
        for n in 1..MAX_ROTATE_SUFFIX {
            let mut alt = base.clone();
            alt.push(format!(".{n}"));
            let candidate = dir.join(alt);
            if !candidate.exists() {
                return Ok(candidate);
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "too many rotated logs with the same time",
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh, empty directory under the system temp dir, unique per test.
    pub(crate) fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ringcore-log-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    fn read(p: &Path) -> String {
        fs::read_to_string(p).expect("read log")
    }

    #[test]
    fn truncate_versus_append() {
        let dir = temp_dir("append");
        let path = dir.join("ims.log");
        fs::write(&path, "old\n").expect("seed");
        let mut f = LogFile::open(&path, true).expect("open");
        assert_eq!(f.size(), 4);
        f.write("new\n").expect("write");
        f.flush().expect("flush");
        assert_eq!(read(&path), "old\nnew\n");
        let mut f = LogFile::open(&path, false).expect("open");
        f.write("only\n").expect("write");
        f.flush().expect("flush");
        assert_eq!(read(&path), "only\n");
    }

    #[test]
    fn cut_empties_the_file() {
        let dir = temp_dir("cut");
        let path = dir.join("ims.log");
        let mut f = LogFile::open(&path, false).expect("open");
        f.write("before\n").expect("write");
        f.cut().expect("cut");
        f.write("after\n").expect("write");
        f.flush().expect("flush");
        assert_eq!(read(&path), "after\n");
        assert_eq!(f.size(), 6);
    }

    #[test]
    fn rotate_renames_and_reopens() {
        let dir = temp_dir("rotate");
        let path = dir.join("ims.log");
        let mut f = LogFile::open(&path, false).expect("open");
        f.write("one\n").expect("write");
        let first = f.rotate("20240426-100512", None).expect("rotate");
        assert_eq!(first, dir.join("ims.log.20240426-100512"));
        f.write("two\n").expect("write");
        let second = f.rotate("20240426-100512", None).expect("rotate");
        assert_eq!(second, dir.join("ims.log.20240426-100512.1"));
        f.flush().expect("flush");
        assert_eq!(read(&first), "one\n");
        assert_eq!(read(&second), "two\n");
        assert_eq!(read(&path), "");
        let other = dir.join("old");
        fs::create_dir(&other).expect("mkdir");
        let moved = f.rotate("x", Some(&other)).expect("rotate");
        assert_eq!(moved, other.join("ims.log.x"));
    }
}
