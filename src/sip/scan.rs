//! Byte-level scanning helpers shared by every SIP accessor: LWS trimming (RFC 3261 25.1),
//! quote- and bracket-aware splitting of comma lists and parameters, case-insensitive
//! comparison and bounded integer parsing. Nothing here allocates or panics.

/// RFC 3261 25.1: LWS is `[*WSP CRLF] 1*WSP`; inside an indexed header value a fold is CRLF
/// followed by WSP, so CR and LF can be treated as whitespace wherever LWS is allowed.
#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// RFC 3261 25.1: `token` characters, as a table indexed by byte.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        b += 1;
    }
    t
};

/// RFC 3261 25.1: `token` characters.
#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    // A u8 index is always below 256: this indexing cannot fail.
    TOKEN[usize::from(b)]
}

/// True if `s` is a non-empty RFC 3261 `token`.
pub(crate) fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

/// Strips leading and trailing LWS.
#[inline]
pub fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_lws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_lws(b)).map_or(start, |p| p + 1);
    s.get(start..end).unwrap_or(&[])
}

/// ASCII case-insensitive equality (SIP tokens, header names and parameter names).
#[inline]
pub fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Parses a decimal integer of at most `u32` range (leading zeros allowed, RFC 4475
/// wsinv); `None` on empty input, a non-digit or overflow (RFC 4475 scalar02).
pub fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
    }
    Some(v)
}

/// Haystacks up to this length are searched by [`find_byte`] eight bytes at a time;
/// longer ones by `memchr`, whose set-up costs more than the whole search of a short
/// slice (URI parts, parameters).
const SHORT: usize = 32;

/// Index of the first `needle` in `s`: what `memchr::memchr` gives, cheaper on the short
/// slices of header values (a word-at-a-time scan, no dispatch).
#[inline]
pub(crate) fn find_byte(needle: u8, s: &[u8]) -> Option<usize> {
    if s.len() > SHORT {
        return memchr::memchr(needle, s);
    }
    const LO: u64 = u64::from_ne_bytes([0x01; 8]);
    const HI: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = u64::from_ne_bytes([needle; 8]);
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        // A zero byte of `x` is a match. The lowest flagged byte is always a true zero
        // (a borrow only flags bytes above one), and little-endian order puts the
        // first byte of the slice lowest.
        let x = u64::from_le_bytes(bytes) ^ pattern;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&b| b == needle).map(|i| base + i)
}

/// Bytes that [`find_unquoted`] and the parameter scanner must look at: separators, `=`,
/// and the openers of quoted strings and `<...>`. Every other byte is skipped by one
/// table look-up.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b';' as usize] = true;
    t[b',' as usize] = true;
    t[b'=' as usize] = true;
    t[b'"' as usize] = true;
    t[b'<' as usize] = true;
    t
};

/// Index just past the quoted string whose opening `"` is at `open` (RFC 3261 25.1
/// `quoted-pair` escapes skipped), or `None` if it is not closed.
#[inline]
fn skip_quoted(s: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let rest = s.get(i..)?;
        let j = memchr::memchr2(b'"', b'\\', rest)?;
        if rest.get(j) == Some(&b'"') {
            return Some(i + j + 1);
        }
        i += j + 2;
    }
}

/// Index just past the `>` closing the `<` at `open`, or `None` if there is none.
#[inline]
fn skip_angle(s: &[u8], open: usize) -> Option<usize> {
    let rest = s.get(open + 1..)?;
    memchr::memchr(b'>', rest).map(|j| open + j + 2)
}

/// Scans `s` for `needle` (any byte but `"` and `\\`) and for the first `=`, outside
/// quoted strings (with `\\` escapes) and `<...>`: returns the index of `needle` (if any)
/// and of the first `=` before it. Ordinary bytes cost one table look-up; quoted strings
/// and angles are skipped with `memchr`.
#[inline]
fn scan_unquoted(s: &[u8], needle: u8) -> (Option<usize>, Option<usize>) {
    let mut eq = None;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        // A u8 index is always below 256: this indexing cannot fail.
        if !SPECIAL[usize::from(b)] && b != needle {
            i += 1;
            continue;
        }
        if b == needle {
            return (Some(i), eq);
        }
        match b {
            b'=' if eq.is_none() => eq = Some(i),
            b'"' => match skip_quoted(s, i) {
                Some(next) => {
                    i = next;
                    continue;
                }
                None => return (None, eq),
            },
            b'<' => match skip_angle(s, i) {
                Some(next) => {
                    i = next;
                    continue;
                }
                None => return (None, eq),
            },
            _ => {}
        }
        i += 1;
    }
    (None, eq)
}

/// Finds the first occurrence of `needle` outside quoted strings (with `\\` escapes) and
/// outside `<...>`; returns its index. Jumps between `needle`, `"` and `<` with `memchr3`.
pub(crate) fn find_unquoted(s: &[u8], needle: u8) -> Option<usize> {
    let mut i = 0;
    loop {
        let at = i + memchr::memchr3(needle, b'"', b'<', s.get(i..)?)?;
        i = match s.get(at) {
            Some(&b) if b == needle => return Some(at),
            Some(b'"') => skip_quoted(s, at)?,
            _ => skip_angle(s, at)?,
        };
    }
}

/// True if quotes and angle brackets in `s` are balanced (RFC 4475 quotbal). Jumps
/// between the bytes that matter with `memchr`.
pub(crate) fn balanced(s: &[u8]) -> bool {
    let mut depth = 0u32;
    let mut i = 0;
    while let Some(j) = s.get(i..).and_then(|r| memchr::memchr3(b'"', b'<', b'>', r)) {
        let at = i + j;
        match s.get(at) {
            Some(b'"') => match skip_quoted(s, at) {
                Some(next) => i = next,
                None => return false,
            },
            Some(b'<') => {
                depth += 1;
                i = at + 1;
            }
            _ if depth == 0 => return false,
            _ => {
                depth -= 1;
                i = at + 1;
            }
        }
    }
    depth == 0
}

/// Iterator over the elements of a separator-delimited list, skipping separators that are
/// inside quoted strings or `<...>` (RFC 3261 7.3.1 comma lists, `;` parameters). Elements
/// are LWS-trimmed; empty elements are yielded as empty slices.
#[derive(Clone, Debug)]
pub struct Split<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
}

impl<'a> Split<'a> {
    /// Splits `s` on `sep`.
    pub fn new(s: &'a [u8], sep: u8) -> Self {
        Split { rest: Some(s), sep }
    }

    /// The untrimmed remainder not yet yielded.
    pub fn remainder(&self) -> &'a [u8] {
        self.rest.unwrap_or(&[])
    }
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        match find_unquoted(s, self.sep) {
            Some(i) => {
                self.rest = s.get(i + 1..);
                Some(trim(s.get(..i).unwrap_or(&[])))
            }
            None => {
                self.rest = None;
                Some(trim(s))
            }
        }
    }
}

/// Splits `name = value` (LWS allowed around `=`, RFC 3261 25.1 EQUAL); the value is `None`
/// for a bare `name`.
pub fn split_param(p: &[u8]) -> (&[u8], Option<&[u8]>) {
    match find_unquoted(p, b'=') {
        Some(i) => (
            trim(p.get(..i).unwrap_or(&[])),
            Some(trim(p.get(i + 1..).unwrap_or(&[]))),
        ),
        None => (trim(p), None),
    }
}

/// Strips the surrounding double quotes of a `quoted-string`; escapes are kept verbatim
/// (use [`unescape_quoted`] to expand them). Unquoted input is returned unchanged.
pub fn unquote(s: &[u8]) -> &[u8] {
    match s {
        [b'"', inner @ .., b'"'] if s.len() >= 2 => inner,
        _ => s,
    }
}

/// True if `s` is a complete `quoted-string` (RFC 3261 25.1) with nothing after it.
pub(crate) fn is_quoted_string(s: &[u8]) -> bool {
    if s.len() < 2 || s.first() != Some(&b'"') {
        return false;
    }
    let mut i = 1;
    while let Some(&b) = s.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1 == s.len(),
            _ => i += 1,
        }
    }
    false
}

/// Expands RFC 3261 `quoted-pair` escapes of a quoted-string body into `out`; returns the
/// written prefix, or `None` if `out` is too small.
pub fn unescape_quoted<'o>(s: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    let mut n = 0;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        let c = if b == b'\\' {
            i += 1;
            *s.get(i)?
        } else {
            b
        };
        *out.get_mut(n)? = c;
        n += 1;
        i += 1;
    }
    out.get(..n)
}

/// Expands RFC 3986 `%HH` escapes (SIP URI `escaped`) into `out`; `None` on a malformed
/// escape or if `out` is too small.
pub fn unescape_pct<'o>(s: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    let mut n = 0;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        let c = if b == b'%' {
            let h = hex(*s.get(i + 1)?)?;
            let l = hex(*s.get(i + 2)?)?;
            i += 2;
            h << 4 | l
        } else {
            b
        };
        *out.get_mut(n)? = c;
        n += 1;
        i += 1;
    }
    out.get(..n)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// One `sep`-delimited element at the start of `s`, quote- and `<>`-aware like
/// [`find_unquoted`]: the index of the separator (if any) and of the first `=` before it
/// (outside quotes and angles), found in a single pass.
fn element(s: &[u8], sep: u8) -> (Option<usize>, Option<usize>) {
    scan_unquoted(s, sep)
}

/// Iterator over every `sep`-delimited `name[=value]` element of a list, empty ones
/// included: yields `(trimmed name, trimmed value)` and whether the element is blank.
/// Equivalent to [`Split`] followed by [`split_param`], in one pass per element.
#[derive(Clone, Debug)]
struct Elements<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
}

impl<'a> Iterator for Elements<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);
    fn next(&mut self) -> Option<Self::Item> {
        let s = self.rest?;
        let (end, eq) = element(s, self.sep);
        self.rest = end.and_then(|e| s.get(e + 1..));
        let elem = s.get(..end.unwrap_or(s.len())).unwrap_or(&[]);
        Some(match eq {
            Some(i) => (trim(elem.get(..i).unwrap_or(&[])), Some(trim(elem.get(i + 1..).unwrap_or(&[])))),
            None => (trim(elem), None),
        })
    }
}

impl<'a> Elements<'a> {
    fn new(s: &'a [u8], sep: u8) -> Self {
        Elements { rest: Some(s), sep }
    }
}

/// Looks up parameter `name` (case-insensitive) in a `;`-separated parameter list. Returns
/// `Some(None)` for a bare flag parameter, `Some(Some(value))` for `name=value` (value
/// trimmed, quotes kept).
pub fn find_param<'a>(params: &'a [u8], name: &[u8]) -> Option<Option<&'a [u8]>> {
    Elements::new(params, b';').find(|(n, _)| eq_ic(n, name)).map(|(_, v)| v)
}

/// Iterator over `;name[=value]` parameters: yields `(name, value)` pairs, skipping empty
/// elements.
#[derive(Clone, Debug)]
pub struct Params<'a>(Elements<'a>);

impl<'a> Params<'a> {
    /// Iterates over the parameters in `s` (text after the first `;`, or empty).
    pub fn new(s: &'a [u8]) -> Self {
        Params(Elements::new(s, b';'))
    }

    /// Looks up a parameter by case-insensitive name.
    pub fn get(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.clone().find(|(n, _)| eq_ic(n, name)).map(|(_, v)| v)
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a [u8], Option<&'a [u8]>);
    fn next(&mut self) -> Option<Self::Item> {
        // An element that trims to nothing has no name and no `=`.
        self.0.find(|(n, v)| !n.is_empty() || v.is_some())
    }
}

/// Iterator over comma-separated `name[=value]` auth-params (RFC 2617 3.2.2), skipping
/// empty elements.
pub(crate) fn auth_params(s: &[u8]) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
    Elements::new(s, b',').filter(|(n, v)| !n.is_empty() || v.is_some())
}

/// Index of the first non-LWS byte at or after `i`.
#[inline]
fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|&b| is_lws(b)) {
        i += 1;
    }
    i
}

/// Index just past the run of bytes matching `class` that starts at `i`.
#[inline]
fn skip_run(s: &[u8], mut i: usize, class: impl Fn(u8) -> bool) -> usize {
    while s.get(i).is_some_and(|&b| class(b)) {
        i += 1;
    }
    i
}

/// True if every `;` element of `params` is a well-formed `generic-param`
/// (`token [EQUAL (token / host / quoted-string)]`, LWS around each part); RFC 4475
/// badinv01 has empty ones. One pass, no splitting.
pub(crate) fn params_well_formed(params: &[u8]) -> bool {
    let mut i = 0;
    loop {
        let name = skip_lws(params, i);
        i = skip_run(params, name, is_token);
        if i == name {
            return false;
        }
        i = skip_lws(params, i);
        if params.get(i) == Some(&b'=') {
            let value = skip_lws(params, i + 1);
            i = if params.get(value) == Some(&b'"') {
                match skip_quoted(params, value) {
                    Some(end) => end,
                    None => return false,
                }
            } else {
                // token / host (IPv6 references add `[`, `]` and `:`)
                skip_run(params, value, |b| is_token(b) || matches!(b, b'[' | b']' | b':'))
            };
            if i == value {
                return false;
            }
            i = skip_lws(params, i);
        }
        match params.get(i) {
            None => return true,
            Some(b';') => i += 1,
            Some(_) => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_folded_lws() {
        assert_eq!(trim(b" \r\n\t a b \r\n "), b"a b");
        assert_eq!(trim(b"   "), b"");
    }

    #[test]
    fn splits_commas_outside_quotes_and_angles() {
        let v: Vec<&[u8]> =
            Split::new(br#""a, \"b" <sip:x;a=1,2>, c ,"#, b',').collect();
        assert_eq!(v, vec![&br#""a, \"b" <sip:x;a=1,2>"#[..], b"c", b""]);
    }

    #[test]
    fn integers_reject_overflow_and_junk() {
        assert_eq!(parse_u32(b"0068"), Some(68));
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"-1"), None);
        assert_eq!(parse_u32(b""), None);
    }

    #[test]
    fn params_lookup() {
        let p = Params::new(b" tag = 98asjd8 ; lr ;q=0.5");
        assert_eq!(p.get(b"TAG"), Some(Some(&b"98asjd8"[..])));
        assert_eq!(p.get(b"lr"), Some(None));
        assert_eq!(p.get(b"x"), None);
        assert!(!params_well_formed(b"a;;b"));
        assert!(params_well_formed(b"a;b=\"x;y\""));
    }

    /// The definition `params_well_formed` must match: split, then check each part.
    fn params_oracle(params: &[u8]) -> bool {
        Split::new(params, b';').all(|p| {
            let (n, v) = split_param(p);
            let value_ok = |v: &[u8]| {
                if v.first() == Some(&b'"') {
                    is_quoted_string(v)
                } else {
                    !v.is_empty() && v.iter().all(|&b| is_token(b) || matches!(b, b'[' | b']' | b':'))
                }
            };
            is_token_str(n) && v.map_or(true, value_ok)
        })
    }

    #[test]
    fn params_well_formed_matches_its_definition() {
        let seeds: [&[u8]; 6] = [
            b"expires=600;+sip.instance=\"<urn:gsma:imei:1-2-0>\";video;q=0.5",
            b"branch=z9hG4bK1;received=[2001:db8::1];rport",
            b" tag = \"a\\\"b;c\" ; lr ",
            b"a;;b",
            b"",
            b"x=\"unterminated;y=1",
        ];
        const BYTES: &[u8] = b";=\"\\<> \r\nab[]:,";
        let mut rng = crate::testkit::XorShift(0x2545_F491_4F6C_DD1D);
        for i in 0..20_000 {
            let mut v = seeds[i % seeds.len()].to_vec();
            for _ in 0..1 + rng.below(3) {
                let b = BYTES[rng.below(BYTES.len())];
                match rng.below(3) {
                    0 => v.insert(rng.below(v.len() + 1), b),
                    1 if !v.is_empty() => {
                        let at = rng.below(v.len());
                        v[at] = b;
                    }
                    _ if !v.is_empty() => {
                        v.remove(rng.below(v.len()));
                    }
                    _ => {}
                }
            }
            assert_eq!(params_well_formed(&v), params_oracle(&v), "{:?}", String::from_utf8_lossy(&v));
        }
    }

    #[test]
    fn find_byte_is_memchr() {
        let mut rng = crate::testkit::XorShift(0x9E37_79B9_7F4A_7C15);
        for len in 0..80 {
            for _ in 0..50 {
                let v: Vec<u8> = (0..len).map(|_| b"ab:;@\x80\xff"[rng.below(7)]).collect();
                for needle in [b':', b';', b'@', 0x80, 0xff, b'z'] {
                    assert_eq!(find_byte(needle, &v), memchr::memchr(needle, &v), "{v:?} {needle}");
                }
            }
        }
    }

    #[test]
    fn unescapes() {
        let mut out = [0u8; 16];
        assert_eq!(unescape_quoted(br#"a\"b\\"#, &mut out), Some(&br#"a"b\"#[..]));
        assert_eq!(unescape_pct(b"n%61me%00", &mut out), Some(&b"name\0"[..]));
        assert_eq!(unescape_pct(b"%Z1", &mut out), None);
        assert!(balanced(br#""a<" <x>"#));
        assert!(!balanced(br#""Mr. J. User <sip:j@x>"#));
    }
}
