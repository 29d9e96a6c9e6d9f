//! HTTP interworking of the SMSC (sans-IO): the inbound submission endpoint (`POST /sms` with
//! a JSON or form body holding `from`, `to`, `text`; RFC 9112 message framing with
//! Content-Length) and the outbound webhook request for recipients the core does not serve.

use serde_json::Value;

/// Largest request head accepted.
pub const MAX_HEAD: usize = 8192;
/// Largest request body accepted.
pub const MAX_BODY: usize = 16_384;

/// Why a request is refused: the status line and a detail for the JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// Status code.
    pub status: u16,
    /// What went wrong.
    pub detail: String,
}

fn err(status: u16, detail: impl Into<String>) -> HttpError {
    HttpError {
        status,
        detail: detail.into(),
    }
}

/// An SMS submitted over HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The originator (a number or a name).
    pub from: String,
    /// The recipient (a number, `tel:` or `sip:` identity).
    pub to: String,
    /// The text.
    pub text: String,
}

/// RFC 9112 2.1: the end of the head (after the empty line).
fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// The length of the complete request at the start of `buf`: `Ok(None)` while more is needed.
pub fn request_len(buf: &[u8]) -> Result<Option<usize>, HttpError> {
    let Some(h) = head_len(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(err(431, "request head too large"))
        } else {
            Ok(None)
        };
    };
    let head = std::str::from_utf8(&buf[..h]).map_err(|_| err(400, "request head is not UTF-8"))?;
    if header(head, "Transfer-Encoding").is_some() {
        return Err(err(411, "send a Content-Length"));
    }
    // RFC 9112 6.3: without Content-Length a request has no body.
    let body = match header(head, "Content-Length") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| err(400, "bad Content-Length"))?,
        None => 0,
    };
    if body > MAX_BODY {
        return Err(err(413, "body too large"));
    }
    Ok((buf.len() >= h + body).then_some(h + body))
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space, `%XX` an octet).
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The `POST /sms` submission in a complete request.
pub fn parse_submission(req: &[u8]) -> Result<Submission, HttpError> {
    let h = head_len(req).ok_or_else(|| err(400, "incomplete request"))?;
    let head = std::str::from_utf8(&req[..h]).map_err(|_| err(400, "request head is not UTF-8"))?;
    let mut line = head.split("\r\n").next().unwrap_or("").split(' ');
    let (method, target) = (line.next().unwrap_or(""), line.next().unwrap_or(""));
    if target.split('?').next() != Some("/sms") {
        return Err(err(404, "only /sms is served"));
    }
    if method != "POST" {
        return Err(err(405, "use POST"));
    }
    let body = std::str::from_utf8(&req[h..]).map_err(|_| err(400, "body is not UTF-8"))?;
    let ctype = header(head, "Content-Type")
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    let field = |name: &str| -> Option<String> {
        if ctype.starts_with("application/x-www-form-urlencoded") {
            body.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (form_decode(k)? == name).then(|| form_decode(v)).flatten()
            })
        } else {
            let v: Value = serde_json::from_str(body).ok()?;
            v.get(name)?.as_str().map(str::to_owned)
        }
    };
    let (Some(from), Some(to), Some(text)) = (field("from"), field("to"), field("text")) else {
        return Err(err(400, "from, to and text are required strings"));
    };
    Ok(Submission { from, to, text })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// A complete response with a JSON body; the connection closes after it.
pub fn response(status: u16, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    )
    .into_bytes()
}

/// The webhook: an `http://host[:port]/path` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// `host:port` to connect to (and the Host header).
    pub authority: String,
    /// The request target.
    pub path: String,
}

impl Webhook {
    /// Parses the URL (plain `http` only).
    pub fn parse(url: &str) -> Result<Webhook, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// webhooks are supported"))?;
        let (host, path) = rest
            .split_once('/')
            .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        let authority = if host
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        Ok(Webhook { authority, path })
    }

    /// The POST carrying one SMS as JSON (`from`, `to`, `text`).
    pub fn request(&self, from: &str, to: &str, text: &str) -> Vec<u8> {
        let body = serde_json::json!({ "from": from, "to": to, "text": text }).to_string();
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ringcore\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.authority,
            body.len()
        )
        .into_bytes()
    }
}

/// The status code of a response's status line.
pub fn response_status(buf: &[u8]) -> Option<u16> {
    let line = buf.split(|b| *b == b'\r').next()?;
    let mut parts = std::str::from_utf8(line).ok()?.split(' ');
    parts.next().filter(|v| v.starts_with("HTTP/1."))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_form_submissions_parse() {
        let body = r#"{"from":"+111","to":"+222","text":"hé"}"#;
        let req = format!(
            "POST /sms HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(request_len(req.as_bytes()), Ok(Some(req.len())));
        assert_eq!(request_len(&req.as_bytes()[..req.len() - 1]), Ok(None));
        let s = parse_submission(req.as_bytes()).unwrap();
        assert_eq!(
            (s.from.as_str(), s.to.as_str(), s.text.as_str()),
            ("+111", "+222", "hé")
        );
        let form = "from=Bank&to=%2B222&text=a+b%20c";
        let req = format!("POST /sms HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}", form.len());
        let s = parse_submission(req.as_bytes()).unwrap();
        assert_eq!(
            (s.from.as_str(), s.to.as_str(), s.text.as_str()),
            ("Bank", "+222", "a b c")
        );
    }

    #[test]
    fn bad_requests_get_their_status() {
        assert_eq!(
            parse_submission(b"GET /sms HTTP/1.1\r\n\r\n")
                .unwrap_err()
                .status,
            405
        );
        assert_eq!(
            parse_submission(b"POST /x HTTP/1.1\r\n\r\n")
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            parse_submission(b"POST /sms HTTP/1.1\r\n\r\n{\"to\":1}")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            request_len(b"POST /sms HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
                .unwrap_err()
                .status,
            413
        );
        assert_eq!(request_len(&[b'a'; MAX_HEAD + 1]).unwrap_err().status, 431);
        assert_eq!(
            request_len(b"POST /sms HTTP/1.1\r\nContent-Length: x\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert!(form_decode("%4").is_none() && form_decode("%zz").is_none());
    }

    #[test]
    fn webhook_url_and_request() {
        let w = Webhook::parse("http://127.0.0.1:8089/hook/sms").unwrap();
        assert_eq!(
            (w.authority.as_str(), w.path.as_str()),
            ("127.0.0.1:8089", "/hook/sms")
        );
        assert_eq!(
            Webhook::parse("http://example.net").unwrap().authority,
            "example.net:80"
        );
        assert!(Webhook::parse("https://x/").is_err());
        let req = w.request("+1", "+2", "hi");
        let n = request_len(&req).unwrap().unwrap();
        assert_eq!(n, req.len());
        let body: Value = serde_json::from_slice(&req[head_len(&req).unwrap()..]).unwrap();
        assert_eq!(body["text"], "hi");
        assert_eq!(
            response_status(b"HTTP/1.1 204 No Content\r\n\r\n"),
            Some(204)
        );
        assert_eq!(response_status(b"garbage"), None);
        assert!(response(202, &serde_json::json!({})).starts_with(b"HTTP/1.1 202 Accepted\r\n"));
    }
}
