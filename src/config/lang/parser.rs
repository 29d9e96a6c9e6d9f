//! Grammar of the lteims configuration language (seed 000 section 5.1),
//! evaluated while it is parsed:
//!
//! ```text
//! file    := '{' members '}' | members            (item 4: top braces optional)
//! members := [ member { ',' member } [ ',' ] ]    (trailing comma tolerated)
//! member  := name ':' expr | 'include' expr       (items 5 and 7)
//! name    := identifier | string
//! expr    := C precedence, loosest first: || ; && ; == != ; < <= > >= ; + - ; * / ;
//!            prefix ! - + ; primary
//! primary := number | string | backquote string | true | false | null | I
//!          | '(' expr ')' | '[' [ expr { ',' expr } [ ',' ] ] ']' | '{' members '}'
//! ```
//!
//! Every value goes through [`Reader::parse_expr`], which bounds nesting.
//! The right side of `&&` / `||` is parsed but not evaluated when the left
//! side decides ("dead" values are null and raise no error).

use super::error::{ConfigError, Result};
use super::merge::ObjectBuilder;
use super::ops;
use super::stream::{resolve, Reader, VALUE_COST};
use super::token::{Punct, TemplatePart, Tok, Token};
use crate::config::value::{Location, Value, ValueKind};

/// What ends a member list.
#[derive(Clone, Copy)]
enum Closer {
    Brace,
    Eof,
}

impl Closer {
    fn found(self, t: &Token) -> bool {
        match self {
            Closer::Brace => t.is(Punct::RBrace),
            Closer::Eof => matches!(t.tok, Tok::Eof),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Closer::Brace => "'}'",
            Closer::Eof => "end of file",
        }
    }
}

fn unexpected<T>(t: Token, expected: &str) -> Result<T> {
    let msg = format!("expected {expected}, found {}", t.describe());
    Err(ConfigError::new(t.loc, msg))
}

fn binding(p: Punct) -> Option<u8> {
    Some(match p {
        Punct::OrOr => 1,
        Punct::AndAnd => 2,
        Punct::EqEq | Punct::NotEq => 3,
        Punct::Lt | Punct::Le | Punct::Gt | Punct::Ge => 4,
        Punct::Plus | Punct::Minus => 5,
        Punct::Star | Punct::Slash => 6,
        _ => return None,
    })
}

impl Reader {
    /// The properties of a whole file (the root or an `include`d one).
    pub(crate) fn parse_file(&mut self) -> Result<Vec<(String, Value)>> {
        let mut obj = ObjectBuilder::default();
        if self.peek()?.is(Punct::LBracket) {
            let loc = self.peek()?.loc.clone();
            return Err(ConfigError::new(
                loc,
                "expected an object, found an array (arrays can't be included)",
            ));
        }
        if self.peek()?.is(Punct::LBrace) {
            let open = self.next()?;
            self.enter(&open.loc)?;
            self.parse_members(&mut obj, Closer::Brace)?;
            self.leave();
            let end = self.next()?;
            if !matches!(end.tok, Tok::Eof) {
                return unexpected(end, "end of file after the top-level object");
            }
        } else {
            self.parse_members(&mut obj, Closer::Eof)?;
        }
        Ok(obj.into_props())
    }

    /// Members up to and including the closer.
    fn parse_members(&mut self, obj: &mut ObjectBuilder, closer: Closer) -> Result<()> {
        loop {
            if closer.found(self.peek()?) {
                self.take_closer(closer)?;
                return Ok(());
            }
            self.parse_member(obj)?;
            let t = self.peek()?;
            if t.is(Punct::Comma) {
                self.next()?;
            } else if closer.found(t) {
                self.take_closer(closer)?;
                return Ok(());
            } else {
                let t = self.next()?;
                return unexpected(
                    t,
                    &format!("',' or {} after property value", closer.describe()),
                );
            }
        }
    }

    /// Consumes a '}' closer; the end of file is left for whoever pushed the file.
    fn take_closer(&mut self, closer: Closer) -> Result<()> {
        if let Closer::Brace = closer {
            self.next()?;
        }
        Ok(())
    }

    fn parse_member(&mut self, obj: &mut ObjectBuilder) -> Result<()> {
        let t = self.next()?;
        let name = match t.tok {
            Tok::Ident(name) if name == "include" && !self.peek()?.is(Punct::Colon) => {
                return self.parse_include(t.loc, obj);
            }
            Tok::Ident(name) | Tok::Str(name) => name,
            Tok::Value(v) => match v.kind {
                ValueKind::String(name) => name,
                _ => {
                    return unexpected(
                        Token {
                            tok: Tok::Value(v),
                            loc: t.loc,
                        },
                        "property name",
                    )
                }
            },
            tok => return unexpected(Token { tok, loc: t.loc }, "property name"),
        };
        let colon = self.next()?;
        if !colon.is(Punct::Colon) {
            return unexpected(colon, &format!("':' after property name '{name}'"));
        }
        let value = self.parse_expr()?;
        obj.insert(name, value);
        Ok(())
    }

    /// `include "file",` (item 7): the file's properties merge into `obj`.
    fn parse_include(&mut self, at: Location, obj: &mut ObjectBuilder) -> Result<()> {
        let value = self.parse_expr()?;
        let ValueKind::String(written) = &value.kind else {
            let msg = format!(
                "include expects a string file name, found {}",
                value.type_name()
            );
            return Err(ConfigError::new(value.loc, msg));
        };
        let path = resolve(&self.current_dir()?, written);
        self.enter(&at)?;
        let props = self.with_file(&path, written, &value.loc, Reader::parse_file)?;
        self.leave();
        obj.insert_all(props);
        Ok(())
    }

    /// One value: a full expression.
    pub(crate) fn parse_expr(&mut self) -> Result<Value> {
        let at = self.peek()?.loc.clone();
        self.enter(&at)?;
        let value = self.parse_binary(1, true)?;
        self.leave();
        Ok(value)
    }

    /// Precedence climbing over the binary operators binding at least `min`.
    fn parse_binary(&mut self, min: u8, live: bool) -> Result<Value> {
        let mut lhs = self.parse_unary(live)?;
        while let Tok::Punct(op) = self.peek()?.tok {
            let Some(prec) = binding(op).filter(|&p| p >= min) else {
                break;
            };
            let at = self.next()?.loc;
            lhs = match op {
                Punct::AndAnd | Punct::OrOr => self.parse_logic(op, lhs, prec, live, &at)?,
                _ => self.parse_operand(op, lhs, prec, live, &at)?,
            };
        }
        Ok(lhs)
    }

    /// The right operand of an arithmetic or comparison operator, applied.
    fn parse_operand(
        &mut self,
        op: Punct,
        lhs: Value,
        prec: u8,
        live: bool,
        at: &Location,
    ) -> Result<Value> {
        let rhs = self.parse_binary(prec + 1, live)?;
        if live {
            ops::binary(op, lhs, rhs, at)
        } else {
            Ok(rhs)
        }
    }

    /// `&&` and `||`: the right side is evaluated only if it decides.
    fn parse_logic(
        &mut self,
        op: Punct,
        lhs: Value,
        prec: u8,
        live: bool,
        at: &Location,
    ) -> Result<Value> {
        let left = live && ops::truthy(&lhs, op.as_str(), at)?;
        let decided = if op == Punct::AndAnd { !left } else { left };
        let rhs = self.parse_binary(prec + 1, live && !decided)?;
        let result = if !live || decided {
            left
        } else {
            ops::truthy(&rhs, op.as_str(), at)?
        };
        Ok(Value {
            kind: ValueKind::Bool(result),
            loc: lhs.loc,
        })
    }

    /// Prefix operators, applied innermost first (a loop: no recursion).
    fn parse_unary(&mut self, live: bool) -> Result<Value> {
        let mut prefix = Vec::new();
        while let Tok::Punct(p @ (Punct::Minus | Punct::Plus | Punct::Bang)) = self.peek()?.tok {
            prefix.push((p, self.next()?.loc));
        }
        let mut value = self.parse_primary(live)?;
        for (op, at) in prefix.into_iter().rev() {
            value = if live {
                ops::unary(op, value, &at)?
            } else {
                value
            };
        }
        Ok(value)
    }

    /// A primary; nested values go to small functions so that each level of
    /// nesting costs little stack, even in debug builds.
    fn parse_primary(&mut self, live: bool) -> Result<Value> {
        let t = self.next()?;
        self.charge(VALUE_COST, &t.loc)?;
        match t.tok {
            Tok::Punct(Punct::LParen) => self.parse_paren(),
            Tok::Punct(Punct::LBracket) => self.parse_array(t.loc),
            Tok::Punct(Punct::LBrace) => self.parse_object(t.loc),
            _ => self.parse_scalar(t, live),
        }
    }

    fn parse_object(&mut self, loc: Location) -> Result<Value> {
        let mut obj = ObjectBuilder::default();
        self.parse_members(&mut obj, Closer::Brace)?;
        Ok(obj.finish(loc))
    }

    fn parse_scalar(&mut self, t: Token, live: bool) -> Result<Value> {
        let loc = t.loc;
        let kind = match t.tok {
            Tok::Number(n) => ValueKind::Number(n),
            Tok::Str(s) => ValueKind::String(s),
            Tok::Value(v) => return Ok(*v),
            Tok::Template(parts) => ValueKind::String(self.parse_template(parts, &loc, live)?),
            Tok::Ident(name) => keyword(&name, &loc, live)?,
            tok => return unexpected(Token { tok, loc }, "value"),
        };
        Ok(Value { kind, loc })
    }

    fn parse_paren(&mut self) -> Result<Value> {
        let value = self.parse_expr()?;
        let close = self.next()?;
        if !close.is(Punct::RParen) {
            return unexpected(close, "')' after expression");
        }
        Ok(value)
    }

    fn parse_array(&mut self, loc: Location) -> Result<Value> {
        let mut items = Vec::new();
        loop {
            if self.peek()?.is(Punct::RBracket) {
                self.next()?;
                return Ok(Value {
                    kind: ValueKind::Array(items),
                    loc,
                });
            }
            items.push(self.parse_expr()?);
            let t = self.next()?;
            if t.is(Punct::RBracket) {
                return Ok(Value {
                    kind: ValueKind::Array(items),
                    loc,
                });
            }
            if !t.is(Punct::Comma) {
                return unexpected(t, "',' or ']' after array element");
            }
        }
    }

    /// A backquote string: text and `${expr}` values (item 9).
    fn parse_template(
        &mut self,
        parts: Vec<TemplatePart>,
        loc: &Location,
        live: bool,
    ) -> Result<String> {
        let mut out = String::new();
        for part in parts {
            match part {
                TemplatePart::Text(text) => out.push_str(&text),
                TemplatePart::Expr(tokens) => out.push_str(&self.template_expr(tokens, live)?),
            }
            if out.len() > super::MAX_STRING_LEN {
                return Err(ConfigError::new(
                    loc.clone(),
                    format!("string longer than {} bytes", super::MAX_STRING_LEN),
                ));
            }
        }
        Ok(out)
    }

    fn template_expr(&mut self, tokens: Vec<Token>, live: bool) -> Result<String> {
        self.with_tokens(tokens, |r| {
            let value = r.parse_expr()?;
            let end = r.next()?;
            if !end.is(Punct::RBrace) {
                return unexpected(end, "'}' after expression in backquote string");
            }
            if live {
                ops::template_text(&value, &value.loc)
            } else {
                Ok(String::new())
            }
        })
    }
}

/// `true`, `false`, `null`, the imaginary unit `I` (item 1); any other
/// identifier is an undefined variable.
fn keyword(name: &str, loc: &Location, live: bool) -> Result<ValueKind> {
    Ok(match name {
        "true" => ValueKind::Bool(true),
        "false" => ValueKind::Bool(false),
        "null" => ValueKind::Null,
        "I" => ValueKind::Complex(0.0, 1.0),
        _ if !live => ValueKind::Null,
        _ => {
            let msg = format!(
                "unknown identifier '{name}' (not a value or a defined preprocessor variable)"
            );
            return Err(ConfigError::new(loc.clone(), msg));
        }
    })
}
