//! The reading machinery shared by every typed section: a diagnostics
//! collector ([`Ctx`]), an object reader ([`Obj`]) that hands out properties
//! by name and reports the ones nobody asked for, and checked conversions of
//! a single value ([`Field`]) to booleans, integers in a range, numbers,
//! strings and enumerations.
//!
//! Every reader records an error and yields `None` (or the default) instead of
//! stopping, so one pass reports every mistake of a file.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use super::error::{TypedError, Warning};
use crate::config::value::{Location, Value, ValueKind};

/// Collected diagnostics and the set of properties the source wrote.
#[derive(Default)]
pub(crate) struct Ctx {
    pub errors: Vec<TypedError>,
    pub warnings: Vec<Warning>,
    /// Generic paths (`ue_db.impu.code`, no indexes) of the properties present.
    pub seen: BTreeSet<String>,
}

impl Ctx {
    pub fn error(&mut self, loc: &Location, path: &str, message: impl Into<String>) {
        let (loc, path, message) = (loc.clone(), path.to_owned(), message.into());
        self.errors.push(TypedError { loc, path, message });
    }

    pub fn warn(&mut self, loc: &Location, path: &str, message: impl Into<String>) {
        let (loc, path, message) = (loc.clone(), path.to_owned(), message.into());
        self.warnings.push(Warning { loc, path, message });
    }

    fn type_error(&mut self, v: &Value, path: &str, expected: &str) {
        self.error(&v.loc, path, format!("expected {expected}, got {}", v.type_name()));
    }
}

/// `path.name`, or `name` at top level.
pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// The path without array indexes: `ue_db[2].impu[0]` -> `ue_db.impu`.
pub(crate) fn generic(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0u32;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// One value being read, with its path.
#[derive(Clone)]
pub(crate) struct Field<'a> {
    pub v: &'a Value,
    pub path: String,
}

impl<'a> Field<'a> {
    pub fn new(v: &'a Value, path: String) -> Self {
        Field { v, path }
    }

    /// A boolean; seed 000 5.1 item 3: the numbers 0 and 1 are synonyms.
    pub fn bool(&self, ctx: &mut Ctx) -> Option<bool> {
        match self.v.kind {
            ValueKind::Bool(b) => Some(b),
            ValueKind::Number(0.0) => Some(false),
            ValueKind::Number(1.0) => Some(true),
            _ => {
                ctx.type_error(self.v, &self.path, "boolean");
                None
            }
        }
    }

    /// A number (`f64`) within `range`.
    pub fn num(&self, ctx: &mut Ctx, range: RangeInclusive<f64>) -> Option<f64> {
        let ValueKind::Number(n) = self.v.kind else {
            ctx.type_error(self.v, &self.path, "number");
            return None;
        };
        if !range.contains(&n) {
            let msg = format!("value {n} out of range {}..{}", range.start(), range.end());
            ctx.error(&self.v.loc, &self.path, msg);
            return None;
        }
        Some(n)
    }

    /// An integer within `range`, converted to `T` (the range must fit `T`).
    pub fn int<T: TryFrom<i64>>(&self, ctx: &mut Ctx, range: RangeInclusive<i64>) -> Option<T> {
        let ValueKind::Number(n) = self.v.kind else {
            ctx.type_error(self.v, &self.path, "integer");
            return None;
        };
        if n.fract() != 0.0 || !n.is_finite() {
            ctx.error(&self.v.loc, &self.path, format!("expected integer, got {n}"));
            return None;
        }
        // Out-of-i64 magnitudes saturate and then fail the range check.
        let i = n as i64;
        if !range.contains(&i) || (i as f64) != n {
            let msg = format!("value {n} out of range {}..{}", range.start(), range.end());
            ctx.error(&self.v.loc, &self.path, msg);
            return None;
        }
        let converted = T::try_from(i).ok();
        if converted.is_none() {
            ctx.error(&self.v.loc, &self.path, format!("value {i} does not fit"));
        }
        converted
    }

    /// A string.
    pub fn str(&self, ctx: &mut Ctx) -> Option<&'a str> {
        match &self.v.kind {
            ValueKind::String(s) => Some(s),
            _ => {
                ctx.type_error(self.v, &self.path, "string");
                None
            }
        }
    }

    /// One of the names of `table`.
    pub fn enumeration<T: Copy>(&self, ctx: &mut Ctx, table: &[(&str, T)]) -> Option<T> {
        let s = self.str(ctx)?;
        let found = table.iter().find(|(name, _)| *name == s).map(|(_, t)| *t);
        if found.is_none() {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            let msg = format!("invalid value \"{s}\", expected one of {}", names.join(", "));
            ctx.error(&self.v.loc, &self.path, msg);
        }
        found
    }

    /// The items of an array.
    pub fn array(&self, ctx: &mut Ctx) -> Option<Vec<Field<'a>>> {
        match &self.v.kind {
            ValueKind::Array(items) => Some(self.items(items)),
            _ => {
                ctx.type_error(self.v, &self.path, "array");
                None
            }
        }
    }

    /// The items of an array, or the value itself when it is not an array
    /// (the manual's "X or array of X" forms).
    pub fn one_or_many(&self) -> Vec<Field<'a>> {
        match &self.v.kind {
            ValueKind::Array(items) => self.items(items),
            _ => vec![self.clone()],
        }
    }

    fn items(&self, items: &'a [Value]) -> Vec<Field<'a>> {
        let at = |(i, v)| Field::new(v, format!("{}[{i}]", self.path));
        items.iter().enumerate().map(at).collect()
    }

    /// Reads the value as an object.
    pub fn object(&self, ctx: &mut Ctx) -> Option<Obj<'a>> {
        Obj::new(ctx, self.v, self.path.clone())
    }
}

/// An object being read: properties are taken by name; the ones left at
/// [`Obj::finish`] are reported as unknown.
pub(crate) struct Obj<'a> {
    value: &'a Value,
    path: String,
    props: &'a [(String, Value)],
    used: Vec<bool>,
}

impl<'a> Obj<'a> {
    /// Reads `value` as an object, or records a type error.
    pub fn new(ctx: &mut Ctx, value: &'a Value, path: String) -> Option<Self> {
        match &value.kind {
            ValueKind::Object(props) => {
                let used = vec![false; props.len()];
                Some(Obj { value, path, props, used })
            }
            _ => {
                ctx.type_error(value, &path, "object");
                None
            }
        }
    }

    /// Where the object starts.
    pub fn loc(&self) -> &'a Location {
        &self.value.loc
    }

    /// The object's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the property is written (a `null` counts as absent).
    pub fn has(&self, name: &str) -> bool {
        self.props.iter().any(|(k, v)| k == name && v.kind != ValueKind::Null)
    }

    /// Takes the property `name`; `null` counts as absent.
    pub fn take(&mut self, ctx: &mut Ctx, name: &str) -> Option<Field<'a>> {
        let i = self.props.iter().position(|(k, _)| k == name)?;
        if let Some(u) = self.used.get_mut(i) {
            *u = true;
        }
        let (_, v) = self.props.get(i)?;
        if v.kind == ValueKind::Null {
            return None;
        }
        let path = join(&self.path, name);
        ctx.seen.insert(generic(&path));
        Some(Field::new(v, path))
    }

    /// Takes a required property, or records "missing required property".
    pub fn require(&mut self, ctx: &mut Ctx, name: &str) -> Option<Field<'a>> {
        let f = self.take(ctx, name);
        if f.is_none() {
            self.missing(ctx, name);
        }
        f
    }

    /// Records that the required property `name` is absent.
    pub fn missing(&self, ctx: &mut Ctx, name: &str) {
        let msg = format!("missing required property {name}");
        ctx.error(&self.value.loc, &self.path, msg);
    }

    /// Optional boolean.
    pub fn opt_bool(&mut self, ctx: &mut Ctx, name: &str) -> Option<bool> {
        self.take(ctx, name)?.bool(ctx)
    }

    /// Boolean with a default.
    pub fn bool(&mut self, ctx: &mut Ctx, name: &str, default: bool) -> bool {
        self.opt_bool(ctx, name).unwrap_or(default)
    }

    /// Optional integer in `range`.
    pub fn opt_int<T: TryFrom<i64>>(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        range: RangeInclusive<i64>,
    ) -> Option<T> {
        self.take(ctx, name)?.int(ctx, range)
    }

    /// Integer in `range` with a default.
    pub fn int<T: TryFrom<i64>>(
        &mut self,
        ctx: &mut Ctx,
        name: &str,
        default: T,
        range: RangeInclusive<i64>,
    ) -> T {
        self.opt_int(ctx, name, range).unwrap_or(default)
    }

    /// Optional number in `range`.
    pub fn opt_num(&mut self, ctx: &mut Ctx, name: &str, range: RangeInclusive<f64>) -> Option<f64> {
        self.take(ctx, name)?.num(ctx, range)
    }

    /// Number in `range` with a default.
    pub fn num(&mut self, ctx: &mut Ctx, name: &str, default: f64, range: RangeInclusive<f64>) -> f64 {
        self.opt_num(ctx, name, range).unwrap_or(default)
    }

    /// Optional string.
    pub fn opt_string(&mut self, ctx: &mut Ctx, name: &str) -> Option<String> {
        self.take(ctx, name)?.str(ctx).map(str::to_owned)
    }

    /// String with a default.
    pub fn string(&mut self, ctx: &mut Ctx, name: &str, default: &str) -> String {
        self.opt_string(ctx, name).unwrap_or_else(|| default.to_owned())
    }

    /// Optional enumeration.
    pub fn opt_enum<T: Copy>(&mut self, ctx: &mut Ctx, name: &str, table: &[(&str, T)]) -> Option<T> {
        self.take(ctx, name)?.enumeration(ctx, table)
    }

    /// Enumeration with a default.
    pub fn enumeration<T: Copy>(&mut self, ctx: &mut Ctx, name: &str, default: T, table: &[(&str, T)]) -> T {
        self.opt_enum(ctx, name, table).unwrap_or(default)
    }

    /// Marks `name` as read without interpreting it (for properties consumed
    /// through another path, e.g. deprecated aliases).
    pub fn warn_deprecated(&mut self, ctx: &mut Ctx, name: &str, instead: &str) -> Option<Field<'a>> {
        let f = self.take(ctx, name)?;
        let msg = format!("deprecated property, use {instead}");
        ctx.warn(&f.v.loc, &f.path, msg);
        Some(f)
    }

    /// Reports every property that was not taken as unknown.
    pub fn finish(self, ctx: &mut Ctx) {
        for ((name, v), used) in self.props.iter().zip(&self.used) {
            if !used {
                let path = join(&self.path, name);
                ctx.warn(&v.loc, &path, "unknown property, ignored");
            }
        }
    }
}
