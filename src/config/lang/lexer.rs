//! Lexer of the lteims configuration language (seed 000 section 5.1): JSON
//! tokens plus unquoted names, operators, `//` and `/* */` comments (item
//! "comments everywhere"), backquote strings with `${expr}` (item 9) and the
//! `#` that starts a preprocessor directive line (item 8).
//!
//! Directive lines: a `#` preceded on its line only by spaces or tabs starts a
//! directive; the lexer then reports the end of that line as
//! [`Tok::EndOfDirective`]. Inside a `${...}` newlines and `#` are ordinary.

use std::sync::Arc;

use super::error::{ConfigError, Result};
use super::token::{Punct, TemplatePart, Tok, Token};
use super::MAX_TEMPLATE_NESTING;
use crate::config::value::Location;

/// Turns the text of one file into tokens, on demand.
pub(crate) struct Lexer {
    file: Arc<str>,
    text: String,
    pos: usize,
    line: u32,
    col: u32,
    /// Only spaces and tabs seen since the start of the line.
    line_start: bool,
    /// Inside a directive line: a newline ends it.
    in_directive: bool,
    /// Nesting of `${` being lexed (newlines and `#` are plain there).
    template_depth: u32,
}

impl Lexer {
    /// A lexer at the start of `text`, whose locations name `file`.
    pub(crate) fn new(file: Arc<str>, text: String) -> Self {
        Lexer {
            file,
            text,
            pos: 0,
            line: 1,
            col: 1,
            line_start: true,
            in_directive: false,
            template_depth: 0,
        }
    }

    /// The current location.
    pub(crate) fn here(&self) -> Location {
        Location {
            file: self.file.clone(),
            line: self.line,
            column: self.col,
        }
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().nth(n))
    }

    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.col = 1;
        } else {
            self.col = self.col.saturating_add(1);
        }
        Some(c)
    }

    fn err<T>(&self, loc: Location, msg: impl Into<String>) -> Result<T> {
        Err(ConfigError::new(loc, msg))
    }

    /// The next token; [`Tok::Eof`] forever at the end.
    pub(crate) fn next_token(&mut self) -> Result<Token> {
        if let Some(end) = self.skip_trivia()? {
            return Ok(end);
        }
        let loc = self.here();
        let Some(c) = self.peek() else {
            return Ok(Token { tok: Tok::Eof, loc });
        };
        let directive = c == '#' && self.line_start && self.template_depth == 0;
        self.line_start = false;
        let tok = match c {
            '#' if directive => {
                self.bump();
                self.in_directive = true;
                Tok::Hash
            }
            '"' => Tok::Str(self.string(&loc)?),
            '`' => Tok::Template(self.template(&loc)?),
            '0'..='9' => Tok::Number(self.number(&loc)?),
            '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => {
                Tok::Number(self.number(&loc)?)
            }
            c if c.is_ascii_alphabetic() || c == '_' => Tok::Ident(self.ident()),
            _ => Tok::Punct(self.punct(&loc)?),
        };
        Ok(Token { tok, loc })
    }

    /// Skips whitespace and comments; returns the end-of-directive token if a
    /// directive line ends here.
    fn skip_trivia(&mut self) -> Result<Option<Token>> {
        loop {
            let plain = self.template_depth > 0;
            match self.peek() {
                None if self.in_directive => return Ok(Some(self.end_directive())),
                Some('\n') if self.in_directive && !plain => {
                    let end = self.end_directive();
                    self.bump();
                    self.line_start = true;
                    return Ok(Some(end));
                }
                Some('\n') => {
                    self.bump();
                    self.line_start = !plain;
                }
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.peek_at(1) == Some('/') => self.line_comment(),
                Some('/') if self.peek_at(1) == Some('*') => self.block_comment()?,
                _ => return Ok(None),
            }
        }
    }

    fn end_directive(&mut self) -> Token {
        self.in_directive = false;
        Token {
            tok: Tok::EndOfDirective,
            loc: self.here(),
        }
    }

    fn line_comment(&mut self) {
        while self.peek().is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    fn block_comment(&mut self) -> Result<()> {
        let start = self.here();
        self.bump();
        self.bump();
        self.line_start = false;
        loop {
            match self.bump() {
                None => return self.err(start, "unterminated comment"),
                Some('*') if self.peek() == Some('/') => {
                    self.bump();
                    return Ok(());
                }
                Some(_) => {}
            }
        }
    }

    fn ident(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.bump();
        }
        self.text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_string()
    }

    /// JSON numbers, plus `.5`, `1.` and hexadecimal `0x1F`.
    fn number(&mut self, loc: &Location) -> Result<f64> {
        let start = self.pos;
        let hex = self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X'));
        if hex {
            self.bump();
            self.bump();
        }
        while let Some(c) = self.peek() {
            let exp_sign = matches!(c, '+' | '-')
                && !hex
                && matches!(
                    self.text
                        .get(..self.pos)
                        .and_then(|s| s.chars().next_back()),
                    Some('e' | 'E')
                );
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || exp_sign {
                self.bump();
            } else {
                break;
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        let value = if hex {
            text.get(2..)
                .and_then(|h| u64::from_str_radix(h, 16).ok())
                .map(|v| v as f64)
        } else if text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
        {
            text.parse::<f64>().ok()
        } else {
            None
        };
        match value {
            Some(v) if v.is_finite() => Ok(v),
            Some(_) => self.err(loc.clone(), format!("number '{text}' out of range")),
            None => self.err(loc.clone(), format!("invalid number '{text}'")),
        }
    }

    fn punct(&mut self, loc: &Location) -> Result<Punct> {
        let c = self.bump().unwrap_or_default();
        let next = self.peek();
        let (p, two) = match (c, next) {
            ('{', _) => (Punct::LBrace, false),
            ('}', _) => (Punct::RBrace, false),
            ('[', _) => (Punct::LBracket, false),
            (']', _) => (Punct::RBracket, false),
            ('(', _) => (Punct::LParen, false),
            (')', _) => (Punct::RParen, false),
            (':', _) => (Punct::Colon, false),
            (',', _) => (Punct::Comma, false),
            ('+', _) => (Punct::Plus, false),
            ('-', _) => (Punct::Minus, false),
            ('*', _) => (Punct::Star, false),
            ('/', _) => (Punct::Slash, false),
            ('!', Some('=')) => (Punct::NotEq, true),
            ('!', _) => (Punct::Bang, false),
            ('&', Some('&')) => (Punct::AndAnd, true),
            ('|', Some('|')) => (Punct::OrOr, true),
            ('=', Some('=')) => (Punct::EqEq, true),
            ('<', Some('=')) => (Punct::Le, true),
            ('<', _) => (Punct::Lt, false),
            ('>', Some('=')) => (Punct::Ge, true),
            ('>', _) => (Punct::Gt, false),
            ('#', _) => {
                return self.err(
                    loc.clone(),
                    "unexpected '#': preprocessor directives must start a line",
                )
            }
            _ => {
                return self.err(
                    loc.clone(),
                    format!("unexpected character '{}'", c.escape_debug()),
                )
            }
        };
        if two {
            self.bump();
        }
        Ok(p)
    }

    /// A `"..."` string with JSON escapes; it may not span lines.
    fn string(&mut self, loc: &Location) -> Result<String> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => return self.err(loc.clone(), "unterminated string"),
                Some('"') => {
                    self.bump();
                    return Ok(out);
                }
                Some('\\') => out.push(self.escape()?),
                Some(c) => {
                    self.bump();
                    out.push(c);
                }
            }
        }
    }

    /// A backquote string (seed 000 5.1 item 9); it may span lines.
    fn template(&mut self, loc: &Location) -> Result<Vec<TemplatePart>> {
        self.bump();
        let mut parts = Vec::new();
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return self.err(loc.clone(), "unterminated backquote string"),
                Some('`') => {
                    self.bump();
                    break;
                }
                Some('\\') => text.push(self.escape()?),
                Some('$') if self.peek_at(1) == Some('{') => {
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(TemplatePart::Expr(self.template_expr()?));
                }
                Some(c) => {
                    self.bump();
                    text.push(c);
                }
            }
        }
        if !text.is_empty() || parts.is_empty() {
            parts.push(TemplatePart::Text(text));
        }
        Ok(parts)
    }

    /// The tokens of `${ ... }`, the closing `}` included as the last token.
    fn template_expr(&mut self) -> Result<Vec<Token>> {
        let start = self.here();
        if self.template_depth >= MAX_TEMPLATE_NESTING {
            return self.err(start, "backquote strings nested too deeply");
        }
        self.bump();
        self.bump();
        self.template_depth += 1;
        let tokens = self.template_tokens(&start);
        self.template_depth -= 1;
        tokens
    }

    fn template_tokens(&mut self, start: &Location) -> Result<Vec<Token>> {
        let mut tokens = Vec::new();
        let mut braces = 0u32;
        loop {
            let t = self.next_token()?;
            match t.tok {
                Tok::Eof | Tok::EndOfDirective => {
                    return self.err(start.clone(), "unterminated '${' in backquote string")
                }
                Tok::Punct(Punct::LBrace) => braces += 1,
                Tok::Punct(Punct::RBrace) if braces == 0 => {
                    tokens.push(t);
                    return Ok(tokens);
                }
                Tok::Punct(Punct::RBrace) => braces -= 1,
                _ => {}
            }
            tokens.push(t);
        }
    }

    /// A backslash escape: JSON's, plus `` \` `` and `\$`.
    fn escape(&mut self) -> Result<char> {
        let loc = self.here();
        self.bump();
        let c = match self.bump() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('u') => return self.unicode_escape(&loc),
            Some(c @ ('"' | '\\' | '/' | '`' | '$' | '\'')) => c,
            Some(c) => {
                return self.err(
                    loc,
                    format!("invalid escape '\\{}' in string", c.escape_debug()),
                )
            }
            None => return self.err(loc, "unterminated string"),
        };
        Ok(c)
    }

    fn hex4(&mut self, loc: &Location) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    self.bump();
                    v = v * 16 + d;
                }
                None => return self.err(loc.clone(), "invalid \\u escape: expected 4 hex digits"),
            }
        }
        Ok(v)
    }

    /// `\uXXXX`, with a UTF-16 surrogate pair as two escapes (RFC 8259 section 7).
    fn unicode_escape(&mut self, loc: &Location) -> Result<char> {
        let hi = self.hex4(loc)?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.peek() != Some('\\') || self.peek_at(1) != Some('u') {
                return self.err(loc.clone(), "invalid \\u escape: unpaired surrogate");
            }
            self.bump();
            self.bump();
            let lo = self.hex4(loc)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return self.err(loc.clone(), "invalid \\u escape: unpaired surrogate");
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code)
            .ok_or_else(|| ConfigError::new(loc.clone(), "invalid \\u escape: unpaired surrogate"))
    }
}
