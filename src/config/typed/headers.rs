//! `custom_headers` (seed 000 5.2): extra SIP headers added to requests
//! and/or responses selected by method and status code; also used, without
//! the selectors, inside `callflow_modifier`.

use serde::Serialize;

use super::reader::{Ctx, Field, Obj};

/// One custom header rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CustomHeader {
    /// Header name (an RFC 3261 25.1 token).
    pub name: String,
    /// Header value.
    pub value: String,
    /// Response codes to apply to; 0 means every code; empty means requests.
    pub codes: Vec<u16>,
    /// Methods to apply to; `*` means every method.
    pub methods: Vec<String>,
    /// Allow only one occurrence of the header (default false).
    pub replace: bool,
}

/// RFC 3261 25.1 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
}

/// Reads the optional `custom_headers` array of the object `o`.
pub(crate) fn read_custom_headers(ctx: &mut Ctx, o: &mut Obj<'_>) -> Vec<CustomHeader> {
    let Some(f) = o.take(ctx, "custom_headers") else { return Vec::new() };
    let Some(items) = f.array(ctx) else { return Vec::new() };
    items.iter().filter_map(|item| read_custom_header(ctx, item)).collect()
}

fn read_custom_header(ctx: &mut Ctx, f: &Field<'_>) -> Option<CustomHeader> {
    let mut o = f.object(ctx)?;
    let name = o.require(ctx, "name").and_then(|n| token(ctx, &n));
    let value = o.require(ctx, "value").and_then(|v| v.str(ctx).map(str::to_owned));
    let codes = o.take(ctx, "codes").map(|c| read_codes(ctx, &c)).unwrap_or_default();
    let methods = o.take(ctx, "methods").map(|m| read_methods(ctx, &m)).unwrap_or_default();
    let replace = o.bool(ctx, "replace", false);
    o.finish(ctx);
    Some(CustomHeader { name: name?, value: value?, codes, methods, replace })
}

fn token(ctx: &mut Ctx, f: &Field<'_>) -> Option<String> {
    let s = f.str(ctx)?;
    if !is_token(s) {
        ctx.error(&f.v.loc, &f.path, format!("invalid header or method name \"{s}\""));
        return None;
    }
    Some(s.to_owned())
}

/// Number or array of numbers: 0 (all) or a status code 100..699.
fn read_codes(ctx: &mut Ctx, f: &Field<'_>) -> Vec<u16> {
    let mut out = Vec::new();
    for item in f.one_or_many() {
        let Some(code) = item.int::<u16>(ctx, 0..=699) else { continue };
        if code != 0 && code < 100 {
            ctx.error(&item.v.loc, &item.path, format!("value {code} is neither 0 nor a status code 100..699"));
            continue;
        }
        out.push(code);
    }
    out
}

/// String or array of strings: `*` or a method token.
fn read_methods(ctx: &mut Ctx, f: &Field<'_>) -> Vec<String> {
    f.one_or_many().iter().filter_map(|item| token(ctx, item)).collect()
}
