//! Properties that name a file whose content the core uses at run time
//! (seed 000: `echo`/`ue_db.impu.sdp_file`, `mt_call_sdp_file`,
//! `ue_db.mt_call_sdp_file`, `callflow_modifier.content`). Typing keeps the
//! name and where it was written; [`Config::load_files`] then reads every such
//! file once, at configuration load, so no call reads a file. A relative name
//! is resolved against the directory of the configuration file that wrote it.
//! Errors are located like every configuration error:
//! `ims.cfg:12:15: echo[1].sdp_file: cannot read 'e.sdp': No such file or directory`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::error::TypedError;
use super::reader::{Ctx, Obj};
use super::Config;
use crate::config::value::Location;

/// Largest file accepted: an SDP or a response body fits a SIP message.
pub const MAX_CONTENT_FILE: u64 = 64 * 1024;

/// What a file must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// An SDP session description (RFC 8866), checked at load.
    Sdp,
    /// Any body (sent as is with the modifier's content type).
    Body,
}

/// A file named by a property, and its content once loaded.
#[derive(Clone, Debug)]
pub struct FileText {
    /// The name as written.
    pub path: String,
    /// Where it was written (errors, relative resolution).
    pub loc: Location,
    /// The property path (`echo[1].sdp_file`).
    pub prop: String,
    /// What the file must hold.
    pub kind: FileKind,
    /// The content, after [`Config::load_files`].
    pub text: Option<Arc<str>>,
}

impl PartialEq for FileText {
    /// The same name and content; where it was written is ignored.
    fn eq(&self, o: &Self) -> bool {
        (&self.path, self.kind, &self.text) == (&o.path, o.kind, &o.text)
    }
}

impl Serialize for FileText {
    /// The effective configuration shows the name, as written.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.path)
    }
}

impl FileText {
    /// The loaded content, empty before [`Config::load_files`].
    pub fn content(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// Reads optional property `name` of `o` as a file name.
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>, name: &str, kind: FileKind) -> Option<FileText> {
        let f = o.take(ctx, name)?;
        let path = f.str(ctx)?.to_owned();
        if path.is_empty() {
            ctx.error(&f.v.loc, &f.path, "empty file name");
            return None;
        }
        Some(FileText { path, loc: f.v.loc.clone(), prop: f.path.clone(), kind, text: None })
    }

    /// The file's path: absolute as is, relative to the directory of the
    /// configuration file that named it (`root_dir` for the root source).
    fn resolve(&self, root_name: &str, root_dir: &Path) -> PathBuf {
        let p = Path::new(&self.path);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        let file: &str = &self.loc.file;
        let dir = if file == root_name { root_dir.to_path_buf() } else { Path::new(file).parent().map(Path::to_path_buf).unwrap_or_default() };
        dir.join(p)
    }

    /// Reads and checks the file; the error is located at the property.
    fn load(&mut self, root_name: &str, root_dir: &Path) -> Result<(), TypedError> {
        let fail = |msg: String| TypedError { loc: self.loc.clone(), path: self.prop.clone(), message: format!("cannot read '{}': {msg}", self.path) };
        let text = read_bounded(&self.resolve(root_name, root_dir)).map_err(fail)?;
        if self.kind == FileKind::Sdp {
            // The SDP is used as is by every call: it must parse now.
            crate::sdp::SessionDescription::parse(text.as_bytes()).map_err(|e| TypedError {
                loc: self.loc.clone(),
                path: self.prop.clone(),
                message: format!("'{}' is not a valid SDP: {e}", self.path),
            })?;
        }
        self.text = Some(Arc::from(text));
        Ok(())
    }
}

/// A regular UTF-8 file of at most [`MAX_CONTENT_FILE`] bytes.
fn read_bounded(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| io_text(&e))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| io_text(&e))?;
    file.take(MAX_CONTENT_FILE + 1).read_to_end(&mut bytes).map_err(|e| io_text(&e))?;
    if bytes.len() as u64 > MAX_CONTENT_FILE {
        return Err(format!("larger than the limit of {MAX_CONTENT_FILE} bytes"));
    }
    String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

/// The files of one IMPU: its echo SDP and its modifiers' bodies.
fn impu_files<'a>(i: &'a mut super::Impu, out: &mut Vec<&'a mut FileText>) {
    out.extend(i.sdp_file.as_mut());
    out.extend(i.callflow_modifier.iter_mut().filter_map(|m| m.content.as_mut()));
}

/// The OS error text without the "(os error N)" suffix.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_owned()
}

impl Config {
    /// Every file-valued property, in source order.
    fn files_mut(&mut self) -> Vec<&mut FileText> {
        let mut out: Vec<&mut FileText> = Vec::new();
        out.extend(self.calls.mt_call_sdp_file.as_mut());
        self.calls.echo.iter_mut().for_each(|i| impu_files(i, &mut out));
        for e in &mut self.ue_db {
            out.extend(e.mt_call_sdp_file.as_mut());
            e.impu.iter_mut().for_each(|i| impu_files(i, &mut out));
        }
        out
    }

    /// Reads every file the configuration names (see the module doc);
    /// `root_name`/`root_dir`: the name and directory of the root source.
    pub fn load_files(&mut self, root_name: &str, root_dir: &Path) -> Result<(), Vec<TypedError>> {
        let errors: Vec<TypedError> = self.files_mut().into_iter().filter_map(|f| f.load(root_name, root_dir).err()).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("ringcore-file-ref-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir is writable");
        d
    }

    const SDP: &str = "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n";

    #[test]
    fn files_are_read_relative_to_the_configuration() {
        let d = dir();
        std::fs::write(d.join("e.sdp"), SDP).expect("write");
        std::fs::write(d.join("busy.xml"), "<busy/>").expect("write");
        let text = "{ domain: \"ims\", echo: [ { impu: \"sip:echo\", sdp_file: \"e.sdp\" } ], mt_call_sdp_file: \"e.sdp\",\n\
            ue_db: [ { imsi: \"001010000000001\", impi: \"b@ims\", authent_type: \"none\", impu: [ { impu: \"sip:b\",\n\
            callflow_modifier: { code: 486, content: \"busy.xml\", content_type: \"application/xml\" } } ] } ] }";
        let loaded = crate::config::load_str("t.cfg", text, &d).expect("loads");
        let c = &loaded.config;
        assert_eq!(c.calls.echo[0].sdp_file.as_ref().map(|f| f.content()), Some(SDP));
        assert_eq!(c.calls.mt_call_sdp_file.as_ref().map(|f| f.content()), Some(SDP));
        let m = &c.ue_db()[0].impu[0].callflow_modifier[0];
        assert_eq!(m.content.as_ref().map(|f| f.content()), Some("<busy/>"));
        assert_eq!(c.to_json()["echo"][0]["sdp_file"], "e.sdp", "the effective configuration shows the name");
    }

    #[test]
    fn missing_and_invalid_files_are_located_errors() {
        let d = dir();
        std::fs::write(d.join("bad.sdp"), "hello").expect("write");
        let err = crate::config::load_str("t.cfg", "{\n  mt_call_sdp_file: \"none.sdp\",\n  echo: { impu: \"sip:e\", sdp_file: \"bad.sdp\" } }", &d)
            .err()
            .expect("refused");
        assert_eq!(err.0.len(), 2, "{:?}", err.0);
        assert!(err.0[0].starts_with("t.cfg:2:21: mt_call_sdp_file: cannot read 'none.sdp': No such file"), "{}", err.0[0]);
        assert!(err.0[1].starts_with("t.cfg:3:36: echo.sdp_file: 'bad.sdp' is not a valid SDP"), "{}", err.0[1]);
        let abs = d.join("bad.sdp");
        let text = format!("{{ mt_call_sdp_file: \"{}\" }}", abs.display());
        assert!(crate::config::load_str("t.cfg", &text, Path::new("/nonexistent")).is_err(), "an absolute name is used as is");
    }
}
