//! Tokens of the lteims configuration language (seed 000 section 5.1), each
//! carrying the place in the original file it was read from, so that errors
//! point at the right `file:line:column` even after `#define` substitution and
//! `#include`.

use crate::config::value::{Location, Value};

/// Punctuation and operators (seed 000 5.1 items 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Punct {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Bang,
    AndAnd,
    OrOr,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Punct {
    /// The operator as written in the source.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Punct::LBrace => "{",
            Punct::RBrace => "}",
            Punct::LBracket => "[",
            Punct::RBracket => "]",
            Punct::LParen => "(",
            Punct::RParen => ")",
            Punct::Colon => ":",
            Punct::Comma => ",",
            Punct::Plus => "+",
            Punct::Minus => "-",
            Punct::Star => "*",
            Punct::Slash => "/",
            Punct::Bang => "!",
            Punct::AndAnd => "&&",
            Punct::OrOr => "||",
            Punct::EqEq => "==",
            Punct::NotEq => "!=",
            Punct::Lt => "<",
            Punct::Le => "<=",
            Punct::Gt => ">",
            Punct::Ge => ">=",
        }
    }
}

/// A piece of a backquote string (seed 000 5.1 item 9).
#[derive(Clone, Debug)]
pub(crate) enum TemplatePart {
    /// Literal text, escapes already decoded.
    Text(String),
    /// The tokens of a `${expr}`, ending with the closing `}` token.
    Expr(Vec<Token>),
}

/// What a token is.
#[derive(Clone, Debug)]
pub(crate) enum Tok {
    /// An identifier: property name, keyword, preprocessor variable.
    Ident(String),
    /// A number literal.
    Number(f64),
    /// A double-quoted string, escapes decoded.
    Str(String),
    /// A backquote string.
    Template(Vec<TemplatePart>),
    /// The value of a preprocessor variable substituted for its name.
    Value(Box<Value>),
    /// An operator or punctuation.
    Punct(Punct),
    /// `#` starting a preprocessor directive line.
    Hash,
    /// The end of a directive line.
    EndOfDirective,
    /// The end of a file.
    Eof,
}

/// A token and where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    /// What the token is.
    pub tok: Tok,
    /// Where it starts in its original file.
    pub loc: Location,
}

impl Token {
    /// True if the token is the punctuation `p`.
    pub(crate) fn is(&self, p: Punct) -> bool {
        matches!(self.tok, Tok::Punct(q) if q == p)
    }

    /// The identifier's name, if the token is one.
    pub(crate) fn ident(&self) -> Option<&str> {
        match &self.tok {
            Tok::Ident(name) => Some(name),
            _ => None,
        }
    }

    /// A description for "expected X, found Y" messages.
    pub(crate) fn describe(&self) -> String {
        match &self.tok {
            Tok::Ident(name) => format!("identifier '{name}'"),
            Tok::Number(_) => "number".to_string(),
            Tok::Str(_) => "string".to_string(),
            Tok::Template(_) => "backquote string".to_string(),
            Tok::Value(v) => format!("{} (preprocessor variable)", v.type_name()),
            Tok::Punct(p) => format!("'{}'", p.as_str()),
            Tok::Hash => "'#'".to_string(),
            Tok::EndOfDirective => "end of line".to_string(),
            Tok::Eof => "end of file".to_string(),
        }
    }
}
