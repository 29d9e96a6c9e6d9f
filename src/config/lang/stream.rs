//! The preprocessed token stream (seed 000 5.1 item 8): a stack of frames
//! (files and token lists), directives carried out as they are reached,
//! defined variables replaced by their values, and the bounds on include
//! depth, include cycles and total work.
//!
//! A frame is a *barrier* when its end is reported as a token to whoever
//! pushed it (the file of an `include` keyword, the tokens of a `#define` or a
//! `${}`); the file of `#include` is not: its end continues its includer's text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, Result};
use super::lexer::Lexer;
use super::source::{read_source, SourceFile};
use super::token::{TemplatePart, Tok, Token};
use super::{MAX_DEPTH, MAX_INCLUDE_DEPTH, MAX_WORK};
use crate::config::value::{Location, Value, ValueKind};

/// Work charged for opening a file, on top of its size.
const FILE_COST: u64 = 4096;
/// Work charged per value built: its size in memory.
pub(crate) const VALUE_COST: u64 = std::mem::size_of::<Value>() as u64;

/// An open `#if` group of a file.
pub(crate) struct Cond {
    /// Where the `#if`, `#ifdef` or `#ifndef` is.
    pub start: Location,
    /// Which directive opened it.
    pub directive: &'static str,
    /// Text in the enclosing group is being read.
    pub parent_active: bool,
    /// Text of the current branch is being read.
    pub active: bool,
    /// A branch was already chosen.
    pub taken: bool,
    /// `#else` was seen.
    pub else_seen: bool,
}

/// A file being read.
pub(crate) struct FileFrame {
    pub lexer: Lexer,
    pub conds: Vec<Cond>,
    pub name: std::sync::Arc<str>,
    pub dir: PathBuf,
    pub canonical: Option<PathBuf>,
}

enum FrameKind {
    File(Box<FileFrame>),
    /// Already substituted tokens; the last one ends the list and repeats.
    Tokens(std::vec::IntoIter<Token>, Token),
}

struct Frame {
    kind: FrameKind,
    barrier: bool,
}

/// A preprocessor variable and the work charged each time it is substituted.
pub(crate) struct Define {
    pub value: Value,
    pub cost: u64,
}

/// The preprocessor and parser state of one load.
pub(crate) struct Reader {
    frames: Vec<Frame>,
    pub(crate) defines: HashMap<String, Define>,
    peeked: Option<Token>,
    /// Nesting of values being parsed (bounded by [`MAX_DEPTH`]).
    depth: usize,
    work: u64,
}

impl Reader {
    /// A reader with the given predefined variables and no frame yet.
    pub(crate) fn new(defines: &[(String, Value)]) -> Self {
        let mut reader = Reader {
            frames: Vec::new(),
            defines: HashMap::new(),
            peeked: None,
            depth: 0,
            work: 0,
        };
        for (name, value) in defines {
            reader.define(name.clone(), value.clone());
        }
        reader
    }

    /// Defines (or redefines) variable `name`.
    pub(crate) fn define(&mut self, name: String, value: Value) {
        let cost = value_cost(&value);
        self.defines.insert(name, Define { value, cost });
    }

    /// Charges `units` of work against [`MAX_WORK`].
    pub(crate) fn charge(&mut self, units: u64, at: &Location) -> Result<()> {
        self.work = self.work.saturating_add(units);
        if self.work > MAX_WORK {
            return Err(ConfigError::new(
                at.clone(),
                format!("configuration too large (more than {MAX_WORK} bytes of text and values)"),
            ));
        }
        Ok(())
    }

    /// Enters one level of value nesting.
    pub(crate) fn enter(&mut self, at: &Location) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(ConfigError::new(
                at.clone(),
                format!("values nested too deeply (limit {MAX_DEPTH})"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves one level of value nesting.
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The next token, without consuming it.
    pub(crate) fn peek(&mut self) -> Result<&Token> {
        if self.peeked.is_none() {
            self.peeked = Some(self.produce()?);
        }
        self.peeked.as_ref().ok_or_else(unreachable_error)
    }

    /// The next token.
    pub(crate) fn next(&mut self) -> Result<Token> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.produce(),
        }
    }

    /// Runs `f` on the tokens `tokens` (already substituted, the last one
    /// ending the list), then resumes the enclosing stream.
    pub(crate) fn with_tokens<T>(
        &mut self,
        mut tokens: Vec<Token>,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let end = tokens.pop().ok_or_else(unreachable_error)?;
        let kind = FrameKind::Tokens(tokens.into_iter(), end);
        self.with_frame(
            Frame {
                kind,
                barrier: true,
            },
            f,
        )
    }

    /// Runs `f` on the file `path` (an `include` keyword), then resumes.
    pub(crate) fn with_file<T>(
        &mut self,
        path: &Path,
        written: &str,
        at: &Location,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let frame = self.open_file(path, written, at)?;
        self.with_frame(
            Frame {
                kind: FrameKind::File(frame),
                barrier: true,
            },
            f,
        )
    }

    /// Pushes the root file.
    pub(crate) fn push_root(&mut self, src: SourceFile, at: &Location) -> Result<()> {
        self.charge(FILE_COST + src.text.len() as u64, at)?;
        self.frames.push(Frame {
            kind: FrameKind::File(Box::new(file_frame(src))),
            barrier: true,
        });
        Ok(())
    }

    /// Pushes the file of a `#include`: its text continues the current one.
    pub(crate) fn push_textual(&mut self, path: &Path, written: &str, at: &Location) -> Result<()> {
        let frame = self.open_file(path, written, at)?;
        self.frames.push(Frame {
            kind: FrameKind::File(frame),
            barrier: false,
        });
        Ok(())
    }

    fn with_frame<T>(&mut self, frame: Frame, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let saved = self.peeked.take();
        self.frames.push(frame);
        let result = f(self);
        self.frames.pop();
        self.peeked = saved;
        result
    }

    /// Reads an included file after checking the include depth and cycles.
    fn open_file(&mut self, path: &Path, written: &str, at: &Location) -> Result<Box<FileFrame>> {
        let files: Vec<&FileFrame> = self.file_frames().collect();
        if files.len() >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::new(
                at.clone(),
                format!("includes nested too deeply (limit {MAX_INCLUDE_DEPTH})"),
            ));
        }
        let src = read_source(path, &format!("include file '{written}'"), at)?;
        if let Some(canonical) = &src.canonical {
            if let Some(first) = files
                .iter()
                .position(|f| f.canonical.as_ref() == Some(canonical))
            {
                let chain: Vec<&str> = files
                    .iter()
                    .skip(first)
                    .map(|f| &*f.name)
                    .chain([&*src.name])
                    .collect();
                return Err(ConfigError::new(
                    at.clone(),
                    format!("include cycle: {}", chain.join(" -> ")),
                ));
            }
        }
        self.charge(FILE_COST + src.text.len() as u64, at)?;
        Ok(Box::new(file_frame(src)))
    }

    fn file_frames(&self) -> impl Iterator<Item = &FileFrame> {
        self.frames.iter().filter_map(|f| match &f.kind {
            FrameKind::File(file) => Some(&**file),
            FrameKind::Tokens(..) => None,
        })
    }

    /// The innermost file being read.
    pub(crate) fn current_file(&mut self) -> Result<&mut FileFrame> {
        self.frames
            .iter_mut()
            .rev()
            .find_map(|f| match &mut f.kind {
                FrameKind::File(file) => Some(&mut **file),
                FrameKind::Tokens(..) => None,
            })
            .ok_or_else(unreachable_error)
    }

    /// The directory includes are relative to.
    pub(crate) fn current_dir(&mut self) -> Result<PathBuf> {
        Ok(self.current_file()?.dir.clone())
    }

    /// The next token after preprocessing.
    fn produce(&mut self) -> Result<Token> {
        loop {
            let frame = self.frames.last_mut().ok_or_else(unreachable_error)?;
            let barrier = frame.barrier;
            let file = match &mut frame.kind {
                FrameKind::Tokens(iter, end) => {
                    return Ok(iter.next().unwrap_or_else(|| end.clone()))
                }
                FrameKind::File(file) => file,
            };
            let token = file.lexer.next_token()?;
            let active = file.conds.last().map_or(true, |c| c.active);
            match token.tok {
                Tok::Hash => self.directive(token.loc)?,
                Tok::Eof => {
                    if let Some(c) = file.conds.last() {
                        let msg = format!("unterminated #{} started at {}", c.directive, c.start);
                        return Err(ConfigError::new(token.loc, msg));
                    }
                    if barrier {
                        return Ok(token);
                    }
                    self.frames.pop();
                }
                _ if active => return self.substitute(token),
                _ => {}
            }
        }
    }

    /// Replaces a defined variable by its value, located at the use (item 8);
    /// inside backquote strings too (item 9).
    pub(crate) fn substitute(&mut self, token: Token) -> Result<Token> {
        let Token { tok, loc } = token;
        let tok = match tok {
            Tok::Ident(name) => match self.defines.get(&name) {
                Some(def) => {
                    let cost = def.cost;
                    self.charge(cost, &loc)?;
                    let mut value = self
                        .defines
                        .get(&name)
                        .map(|d| d.value.clone())
                        .ok_or_else(unreachable_error)?;
                    value.loc = loc.clone();
                    Tok::Value(Box::new(value))
                }
                None => Tok::Ident(name),
            },
            Tok::Template(parts) => Tok::Template(self.substitute_parts(parts)?),
            other => other,
        };
        Ok(Token { tok, loc })
    }

    fn substitute_parts(&mut self, parts: Vec<TemplatePart>) -> Result<Vec<TemplatePart>> {
        parts
            .into_iter()
            .map(|part| match part {
                TemplatePart::Expr(tokens) => Ok(TemplatePart::Expr(self.substitute_all(tokens)?)),
                text => Ok(text),
            })
            .collect()
    }

    /// [`Self::substitute`] on every token.
    pub(crate) fn substitute_all(&mut self, tokens: Vec<Token>) -> Result<Vec<Token>> {
        tokens.into_iter().map(|t| self.substitute(t)).collect()
    }
}

fn file_frame(src: SourceFile) -> FileFrame {
    FileFrame {
        lexer: Lexer::new(src.name.clone(), src.text),
        conds: Vec::new(),
        name: src.name,
        dir: src.dir,
        canonical: src.canonical,
    }
}

/// The work a value stands for: [`VALUE_COST`] per node plus the bytes of its text.
fn value_cost(v: &Value) -> u64 {
    VALUE_COST
        + match &v.kind {
            ValueKind::String(s) => s.len() as u64,
            ValueKind::Array(items) => items.iter().map(value_cost).sum::<u64>(),
            ValueKind::Object(props) => props
                .iter()
                .map(|(k, v)| k.len() as u64 + value_cost(v))
                .sum::<u64>(),
            _ => 0,
        }
}

/// An error for states the reader never reaches (no frame, empty token list).
fn unreachable_error() -> ConfigError {
    let loc = Location {
        file: "<internal>".into(),
        line: 0,
        column: 0,
    };
    ConfigError::new(loc, "internal error: configuration reader has no input")
}

/// The path of an include, relative to `dir` unless absolute.
pub(crate) fn resolve(dir: &Path, written: &str) -> PathBuf {
    dir.join(written)
}
