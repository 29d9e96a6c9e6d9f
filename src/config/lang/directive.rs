//! The preprocessor directives of seed 000 5.1 item 8: `#define`, `#undef`,
//! `#include`, `#if`, `#elif`, `#else`, `#endif`, `#ifdef`, `#ifndef`, and
//! `defined(var)` in conditions.
//!
//! As in C, directives inside a skipped group are not carried out (only the
//! nesting of conditionals is followed), unknown ones included; a lone `#` is
//! an empty directive. Unlike C, `#define` evaluates its expression when it is
//! read; `#define X` without expression defines X as `true`; an undefined
//! identifier in a condition is an error, not 0 (`defined(X) && X > 1` is
//! fine: the right side of `&&` is not evaluated when the left one is false).

use super::error::{ConfigError, Result};
use super::ops::truthy;
use super::stream::{resolve, Cond, Reader};
use super::token::{Punct, Tok, Token};
use crate::config::value::{Location, Value, ValueKind};

impl Reader {
    /// Carries out the directive whose `#` is at `hash`.
    pub(crate) fn directive(&mut self, hash: Location) -> Result<()> {
        let mut tokens = self.directive_tokens()?;
        if tokens.len() == 1 {
            return Ok(());
        }
        // Invariant: `tokens` ends with the end-of-line token and has 2 or more here.
        let first = tokens.remove(0);
        let Some(name) = first.ident() else {
            let msg = format!(
                "expected directive name after '#', found {}",
                first.describe()
            );
            return Err(ConfigError::new(first.loc, msg));
        };
        // Errors about the directive as a whole point at its '#'.
        let name_token = Token {
            tok: first.tok.clone(),
            loc: hash.clone(),
        };
        let active = self.current_file()?.conds.last().map_or(true, |c| c.active);
        match name {
            "if" | "ifdef" | "ifndef" => self.open_if(hash, &name_token, tokens),
            "elif" => self.elif(&name_token, tokens),
            "else" => self.else_(&name_token, tokens),
            "endif" => self.endif(&name_token, tokens),
            _ if !active => Ok(()),
            "define" => self.define_directive(&name_token, tokens),
            "undef" => self.undef(&name_token, tokens),
            "include" => self.include_directive(tokens),
            _ => Err(ConfigError::new(
                hash,
                format!("unknown preprocessor directive #{name}"),
            )),
        }
    }

    /// The tokens of the directive line, ending with its end-of-line token.
    fn directive_tokens(&mut self) -> Result<Vec<Token>> {
        let lexer = &mut self.current_file()?.lexer;
        let mut tokens = Vec::new();
        loop {
            let t = lexer.next_token()?;
            let end = matches!(t.tok, Tok::EndOfDirective);
            tokens.push(t);
            if end {
                return Ok(tokens);
            }
        }
    }

    /// `#if expr`, `#ifdef var`, `#ifndef var`.
    fn open_if(&mut self, hash: Location, at: &Token, tokens: Vec<Token>) -> Result<()> {
        let parent_active = self.current_file()?.conds.last().map_or(true, |c| c.active);
        let (directive, value) = match at.ident() {
            Some("if") => ("if", parent_active && self.condition(tokens, "#if")?),
            Some("ifdef") => (
                "ifdef",
                self.defines.contains_key(&var_name(&tokens, "#ifdef", at)?),
            ),
            _ => (
                "ifndef",
                !self
                    .defines
                    .contains_key(&var_name(&tokens, "#ifndef", at)?),
            ),
        };
        let active = parent_active && value;
        let cond = Cond {
            start: hash,
            directive,
            parent_active,
            active,
            taken: value,
            else_seen: false,
        };
        self.current_file()?.conds.push(cond);
        Ok(())
    }

    /// The open group that `#elif`, `#else` or `#endif` at `at` continues.
    fn open_cond(&mut self, at: &Token) -> Result<&mut Cond> {
        let name = at.ident().unwrap_or_default().to_string();
        let loc = at.loc.clone();
        self.current_file()?
            .conds
            .last_mut()
            .ok_or_else(|| ConfigError::new(loc, format!("#{name} without #if")))
    }

    fn elif(&mut self, at: &Token, tokens: Vec<Token>) -> Result<()> {
        let cond = self.open_cond(at)?;
        if cond.else_seen {
            return Err(ConfigError::new(at.loc.clone(), "#elif after #else"));
        }
        let evaluate = cond.parent_active && !cond.taken;
        let value = evaluate && self.condition(tokens, "#elif")?;
        let cond = self.open_cond(at)?;
        cond.active = value;
        cond.taken |= value;
        Ok(())
    }

    fn else_(&mut self, at: &Token, tokens: Vec<Token>) -> Result<()> {
        expect_end(&tokens, "#else")?;
        let cond = self.open_cond(at)?;
        if cond.else_seen {
            return Err(ConfigError::new(at.loc.clone(), "#else after #else"));
        }
        cond.else_seen = true;
        cond.active = cond.parent_active && !cond.taken;
        cond.taken = true;
        Ok(())
    }

    fn endif(&mut self, at: &Token, tokens: Vec<Token>) -> Result<()> {
        expect_end(&tokens, "#endif")?;
        self.open_cond(at)?;
        self.current_file()?.conds.pop();
        Ok(())
    }

    /// `#define var expr`: expr is evaluated now (seed 000 5.1 item 8).
    fn define_directive(&mut self, at: &Token, mut tokens: Vec<Token>) -> Result<()> {
        let name = first_ident(&tokens, "#define", at)?;
        // Invariant: `first_ident` succeeded, so `tokens` is not empty.
        tokens.remove(0);
        let value = if tokens.len() == 1 {
            Value {
                kind: ValueKind::Bool(true),
                loc: at.loc.clone(),
            }
        } else {
            self.evaluate(tokens, "#define")?
        };
        self.define(name, value);
        Ok(())
    }

    fn undef(&mut self, at: &Token, tokens: Vec<Token>) -> Result<()> {
        let name = var_name(&tokens, "#undef", at)?;
        self.defines.remove(&name);
        Ok(())
    }

    /// `#include expr`: the file named by the string expr, relative to the current file.
    fn include_directive(&mut self, tokens: Vec<Token>) -> Result<()> {
        let value = self.evaluate(tokens, "#include")?;
        let ValueKind::String(written) = &value.kind else {
            let msg = format!(
                "#include expects a string file name, found {}",
                value.type_name()
            );
            return Err(ConfigError::new(value.loc, msg));
        };
        let path = resolve(&self.current_dir()?, written);
        self.push_textual(&path, written, &value.loc)
    }

    /// The truth of the condition of `#if` or `#elif`.
    fn condition(&mut self, tokens: Vec<Token>, directive: &str) -> Result<bool> {
        let tokens = self.replace_defined(tokens)?;
        let value = self.evaluate_substituted(tokens, directive)?;
        truthy(&value, directive, &value.loc).map_err(|e| {
            ConfigError::new(
                e.loc,
                format!(
                    "{directive} expects a boolean or a number, found {}",
                    value.type_name()
                ),
            )
        })
    }

    /// Substitutes variables in `tokens` and evaluates them as one expression.
    fn evaluate(&mut self, tokens: Vec<Token>, directive: &str) -> Result<Value> {
        let tokens = self.substitute_all(tokens)?;
        self.evaluate_substituted(tokens, directive)
    }

    fn evaluate_substituted(&mut self, tokens: Vec<Token>, directive: &str) -> Result<Value> {
        self.with_tokens(tokens, |r| {
            let value = r.parse_expr()?;
            let end = r.next()?;
            if !matches!(end.tok, Tok::EndOfDirective) {
                let msg = format!(
                    "expected end of line after {directive} expression, found {}",
                    end.describe()
                );
                return Err(ConfigError::new(end.loc, msg));
            }
            Ok(value)
        })
    }

    /// Replaces `defined(var)` and `defined var` by a boolean, substitutes the rest.
    fn replace_defined(&mut self, tokens: Vec<Token>) -> Result<Vec<Token>> {
        let mut out = Vec::with_capacity(tokens.len());
        let mut iter = tokens.into_iter().peekable();
        while let Some(t) = iter.next() {
            if t.ident() != Some("defined") {
                out.push(self.substitute(t)?);
                continue;
            }
            let paren = iter.next_if(|n| n.is(Punct::LParen)).is_some();
            let name = iter.next().filter(|n| n.ident().is_some());
            let Some(name) = name.and_then(|n| n.ident().map(str::to_string)) else {
                return Err(ConfigError::new(
                    t.loc,
                    "expected variable name after 'defined'",
                ));
            };
            if paren && iter.next_if(|n| n.is(Punct::RParen)).is_none() {
                return Err(ConfigError::new(t.loc, "expected ')' after 'defined(name'"));
            }
            let value = Value {
                kind: ValueKind::Bool(self.defines.contains_key(&name)),
                loc: t.loc.clone(),
            };
            out.push(Token {
                tok: Tok::Value(Box::new(value)),
                loc: t.loc,
            });
        }
        Ok(out)
    }
}

/// The identifier that starts `tokens`, or an error at `at`.
fn first_ident(tokens: &[Token], directive: &str, at: &Token) -> Result<String> {
    match tokens.first() {
        Some(t) if t.ident().is_some() => Ok(t.ident().unwrap_or_default().to_string()),
        Some(t) => Err(ConfigError::new(
            t.loc.clone(),
            format!(
                "expected variable name after {directive}, found {}",
                t.describe()
            ),
        )),
        None => Err(ConfigError::new(
            at.loc.clone(),
            format!("expected variable name after {directive}"),
        )),
    }
}

/// Checks that only the end of line is left.
fn expect_end(tokens: &[Token], directive: &str) -> Result<()> {
    match tokens.first() {
        Some(t) if !matches!(t.tok, Tok::EndOfDirective) => Err(ConfigError::new(
            t.loc.clone(),
            format!(
                "expected end of line after {directive}, found {}",
                t.describe()
            ),
        )),
        _ => Ok(()),
    }
}

/// The single variable name of `#ifdef`, `#ifndef`, `#undef`.
fn var_name(tokens: &[Token], directive: &str, at: &Token) -> Result<String> {
    let name = first_ident(tokens, directive, at)?;
    expect_end(tokens.get(1..).unwrap_or_default(), directive)?;
    Ok(name)
}
