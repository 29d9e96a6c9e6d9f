//! Semantics of the operators of seed 000 5.1 item 2 and of the conversions
//! of item 3 (numbers as booleans) and item 9 (values inside backquote strings).
//!
//! - `+ - * /` on numbers give a number; if either side is complex the result
//!   is complex (it stays complex even when the imaginary part is 0).
//!   Division by zero and results that are not finite are errors.
//! - `+` with a string on either side and a string, number or complex number
//!   on the other concatenates, the number formatted by [`format_number`].
//! - `!`, `&&`, `||` take booleans or numbers (0 is false, any other number is
//!   true) and give a boolean.
//! - `==`, `!=` compare null with anything, booleans with booleans or numbers
//!   (as 0/1), numbers with numbers or complex numbers, strings with strings.
//! - `< <= > >=` compare numbers, or strings by code point.
//! - Any other combination is an error such as
//!   "operator + not defined for boolean and number".

use std::cmp::Ordering;

use super::error::{ConfigError, Result};
use super::token::Punct;
use super::MAX_STRING_LEN;
use crate::config::value::{Location, Value, ValueKind};

/// A value as an operand of an arithmetic operator.
#[derive(Clone, Copy)]
enum Num {
    Real(f64),
    Complex(f64, f64),
}

fn num(v: &Value) -> Option<Num> {
    match v.kind {
        ValueKind::Number(n) => Some(Num::Real(n)),
        ValueKind::Complex(re, im) => Some(Num::Complex(re, im)),
        _ => None,
    }
}

fn parts(n: Num) -> (f64, f64) {
    match n {
        Num::Real(re) => (re, 0.0),
        Num::Complex(re, im) => (re, im),
    }
}

/// The truth of a boolean or number operand of `op` (seed 000 5.1 item 3).
pub(crate) fn truthy(v: &Value, op: &str, at: &Location) -> Result<bool> {
    match v.kind {
        ValueKind::Bool(b) => Ok(b),
        ValueKind::Number(n) => Ok(n != 0.0),
        _ => Err(ConfigError::new(
            at.clone(),
            format!("operator {op} not defined for {}", v.type_name()),
        )),
    }
}

/// `-v`, `+v` or `!v`, located at `at` (the operator).
pub(crate) fn unary(op: Punct, v: Value, at: &Location) -> Result<Value> {
    let kind = match (op, num(&v)) {
        (Punct::Minus, Some(Num::Real(n))) => ValueKind::Number(-n),
        (Punct::Minus, Some(Num::Complex(re, im))) => ValueKind::Complex(-re, -im),
        (Punct::Plus, Some(_)) => v.kind,
        (Punct::Bang, _) => ValueKind::Bool(!truthy(&v, "!", at)?),
        _ => {
            let msg = format!("operator {} not defined for {}", op.as_str(), v.type_name());
            return Err(ConfigError::new(at.clone(), msg));
        }
    };
    Ok(Value {
        kind,
        loc: at.clone(),
    })
}

/// `l op r` for the arithmetic and comparison operators; the result is
/// located where `l` starts, errors at `at` (the operator).
pub(crate) fn binary(op: Punct, l: Value, r: Value, at: &Location) -> Result<Value> {
    let loc = l.loc.clone();
    let kind = match op {
        Punct::Plus if is_string(&l) || is_string(&r) => concat(l, &r, at)?,
        Punct::Plus | Punct::Minus | Punct::Star | Punct::Slash => arith(op, &l, &r, at)?,
        Punct::EqEq => ValueKind::Bool(equal(&l, &r, op, at)?),
        Punct::NotEq => ValueKind::Bool(!equal(&l, &r, op, at)?),
        _ => ValueKind::Bool(compare(op, &l, &r, at)?),
    };
    Ok(Value { kind, loc })
}

fn is_string(v: &Value) -> bool {
    matches!(v.kind, ValueKind::String(_))
}

fn type_error(op: Punct, l: &Value, r: &Value, at: &Location) -> ConfigError {
    let msg = format!(
        "operator {} not defined for {} and {}",
        op.as_str(),
        l.type_name(),
        r.type_name()
    );
    ConfigError::new(at.clone(), msg)
}

fn concat(l: Value, r: &Value, at: &Location) -> Result<ValueKind> {
    let (Some(mut text), Some(tail)) = (scalar_text(&l), scalar_text(r)) else {
        return Err(type_error(Punct::Plus, &l, r, at));
    };
    if text.len() + tail.len() > MAX_STRING_LEN {
        return Err(ConfigError::new(
            at.clone(),
            format!("string longer than {MAX_STRING_LEN} bytes"),
        ));
    }
    text.push_str(&tail);
    Ok(ValueKind::String(text))
}

/// The text of a string, number or complex number operand of string `+`.
fn scalar_text(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::String(s) => Some(s.clone()),
        ValueKind::Number(n) => Some(format_number(*n)),
        ValueKind::Complex(re, im) => Some(format_complex(*re, *im)),
        _ => None,
    }
}

fn arith(op: Punct, l: &Value, r: &Value, at: &Location) -> Result<ValueKind> {
    let (Some(a), Some(b)) = (num(l), num(r)) else {
        return Err(type_error(op, l, r, at));
    };
    let kind = match (a, b) {
        (Num::Real(x), Num::Real(y)) => ValueKind::Number(real_op(op, x, y, at)?),
        _ => {
            let (re, im) = complex_op(op, parts(a), parts(b), at)?;
            ValueKind::Complex(re, im)
        }
    };
    let finite = match kind {
        ValueKind::Number(n) => n.is_finite(),
        ValueKind::Complex(re, im) => re.is_finite() && im.is_finite(),
        _ => true,
    };
    if !finite {
        return Err(ConfigError::new(
            at.clone(),
            format!("result of operator {} is not a finite number", op.as_str()),
        ));
    }
    Ok(kind)
}

fn division_by_zero(at: &Location) -> ConfigError {
    ConfigError::new(at.clone(), "division by zero")
}

fn real_op(op: Punct, x: f64, y: f64, at: &Location) -> Result<f64> {
    Ok(match op {
        Punct::Plus => x + y,
        Punct::Minus => x - y,
        Punct::Star => x * y,
        _ if y == 0.0 => return Err(division_by_zero(at)),
        _ => x / y,
    })
}

fn complex_op(
    op: Punct,
    (a, b): (f64, f64),
    (c, d): (f64, f64),
    at: &Location,
) -> Result<(f64, f64)> {
    Ok(match op {
        Punct::Plus => (a + c, b + d),
        Punct::Minus => (a - c, b - d),
        Punct::Star => (a * c - b * d, a * d + b * c),
        _ => {
            let den = c * c + d * d;
            if den == 0.0 {
                return Err(division_by_zero(at));
            }
            ((a * c + b * d) / den, (b * c - a * d) / den)
        }
    })
}

/// `==` (seed 000 5.1 item 3: booleans compare with 0 and 1).
fn equal(l: &Value, r: &Value, op: Punct, at: &Location) -> Result<bool> {
    use ValueKind as K;
    let bool_num = |b: bool| if b { 1.0 } else { 0.0 };
    Ok(match (&l.kind, &r.kind) {
        (K::Null, other) | (other, K::Null) => matches!(other, K::Null),
        (K::Bool(a), K::Bool(b)) => a == b,
        (K::Bool(a), K::Number(n)) | (K::Number(n), K::Bool(a)) => bool_num(*a) == *n,
        (K::String(a), K::String(b)) => a == b,
        _ => match (num(l), num(r)) {
            (Some(a), Some(b)) => parts(a) == parts(b),
            _ => return Err(type_error(op, l, r, at)),
        },
    })
}

fn compare(op: Punct, l: &Value, r: &Value, at: &Location) -> Result<bool> {
    let ord = match (&l.kind, &r.kind) {
        (ValueKind::Number(a), ValueKind::Number(b)) => a.partial_cmp(b),
        (ValueKind::String(a), ValueKind::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let Some(ord) = ord else {
        return Err(type_error(op, l, r, at));
    };
    Ok(match op {
        Punct::Lt => ord == Ordering::Less,
        Punct::Le => ord != Ordering::Greater,
        Punct::Gt => ord == Ordering::Greater,
        _ => ord != Ordering::Less,
    })
}

/// The text of a value inside a backquote string (seed 000 5.1 item 9):
/// strings as they are, numbers by [`format_number`], `true`, `false`, `null`.
pub(crate) fn template_text(v: &Value, at: &Location) -> Result<String> {
    match &v.kind {
        ValueKind::Bool(b) => Ok(b.to_string()),
        ValueKind::Null => Ok("null".to_string()),
        _ => scalar_text(v).ok_or_else(|| {
            ConfigError::new(
                at.clone(),
                format!("cannot insert {} into a backquote string", v.type_name()),
            )
        }),
    }
}

/// How numbers become text in backquote strings and string `+`: integral
/// values below 1e21 without a fraction ("3", "1010123456001"), others with
/// the shortest decimal that reads back the same ("0.1"), in exponent form
/// below 1e-6 or from 1e21 on ("1e21", "1.5e-7").
pub fn format_number(n: f64) -> String {
    let a = n.abs();
    if n == 0.0 {
        "0".to_string()
    } else if !n.is_finite() {
        n.to_string()
    } else if n.fract() == 0.0 && a < 1e21 {
        format!("{n:.0}")
    } else if !(1e-6..1e21).contains(&a) {
        format!("{n:e}")
    } else {
        n.to_string()
    }
}

/// A complex number as text, in the notation of the language: "1.2+3*I".
pub fn format_complex(re: f64, im: f64) -> String {
    let sign = if im < 0.0 { '-' } else { '+' };
    format!("{}{sign}{}*I", format_number(re), format_number(im.abs()))
}
