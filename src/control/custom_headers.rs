//! The last touch on every SIP message the control thread sends (seed 000
//! `custom_headers`, `user_agent`, `force_user_agent`): rule headers added
//! to the requests and responses they select (by method, and by status
//! code for responses; `replace` keeps a single occurrence), and our
//! User-Agent (requests) or Server (responses) value, RFC 3261 20.41/20.35.

use crate::config::typed::{CustomHeader, SipSettings};
use crate::endpoint::ToWorker;
use crate::sip::Message;

/// Largest header section rewritten; bigger messages go out unchanged.
const MAX_HEAD: usize = 16 * 1024;

/// The message rewriter.
#[derive(Clone, Debug, Default)]
pub struct Rewriter {
    rules: Vec<CustomHeader>,
    user_agent: String,
    force_user_agent: bool,
}

fn method_matches(rule: &CustomHeader, method: &[u8]) -> bool {
    rule.methods.is_empty() || rule.methods.iter().any(|m| m == "*" || m.as_bytes().eq_ignore_ascii_case(method))
}

/// RFC 3261 7.3.3: the compact or full name of a header line, compared case-insensitively.
fn line_is(line: &[u8], name: &str) -> bool {
    line.split(|b| *b == b':').next().is_some_and(|n| n.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
}

impl Rewriter {
    /// The rules and user agent of the SIP settings.
    pub fn from_config(sip: &SipSettings) -> Self {
        Rewriter { rules: sip.custom_headers.clone(), user_agent: sip.user_agent.clone(), force_user_agent: sip.force_user_agent }
    }

    /// A rewriter with explicit settings (tests).
    #[cfg(test)]
    pub fn new(rules: Vec<CustomHeader>, user_agent: &str, force_user_agent: bool) -> Self {
        Rewriter { rules, user_agent: user_agent.to_owned(), force_user_agent }
    }

    /// True when `head` holds exactly one `ua_name` header and it reads our user agent.
    fn has_only_our_user_agent(&self, head: &[u8], ua_name: &str) -> bool {
        let mut ours = false;
        for line in head.split_inclusive(|b| *b == b'\n').filter(|l| line_is(l, ua_name)) {
            let value = line.splitn(2, |b| *b == b':').nth(1).map(<[u8]>::trim_ascii);
            if ours || value != Some(self.user_agent.as_bytes()) {
                return false;
            }
            ours = true;
        }
        ours
    }

    /// Rewrites the SIP message a worker command carries, if any.
    pub fn apply_cmd(&self, cmd: &mut ToWorker) {
        if let ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } | ToWorker::SendStateless { msg, .. } = cmd {
            if let Some(m) = self.apply(msg) {
                *msg = m;
            }
        }
    }

    /// The rewritten message, or None when nothing changes (or it does not parse).
    pub fn apply(&self, raw: &[u8]) -> Option<Vec<u8>> {
        if self.rules.is_empty() && !self.force_user_agent {
            return None;
        }
        let is_response = raw.starts_with(b"SIP/2.0 ");
        let ua_name = if is_response { "Server" } else { "User-Agent" };
        // Parsing is only needed to select rules; the user agent alone needs
        // the start line (the common case stays cheap).
        let rules: Vec<&CustomHeader> = match self.rules.is_empty() {
            true => Vec::new(),
            false => {
                let msg = Message::parse(raw).ok()?;
                let (method, code) = match msg.method() {
                    Some(m) => (m.as_bytes().to_vec(), None),
                    None => (msg.cseq().ok()?.method.as_bytes().to_vec(), msg.status()),
                };
                self.rules
                    .iter()
                    .filter(|r| method_matches(r, &method))
                    .filter(|r| match code {
                        None => r.codes.is_empty(),
                        Some(c) => r.codes.iter().any(|&rc| rc == 0 || rc == c),
                    })
                    .collect()
            }
        };
        let want_ua = self.force_user_agent && !self.user_agent.is_empty();
        if rules.is_empty() && !want_ua {
            return None;
        }
        let head_end = memchr::memmem::find(raw.get(..MAX_HEAD + 2).unwrap_or(raw), b"\r\n\r\n")? + 2;
        if head_end > MAX_HEAD {
            return None;
        }
        let head = raw.get(..head_end)?;
        if rules.is_empty() && self.has_only_our_user_agent(head, ua_name) {
            // The common case: our own builders already wrote it; nothing to copy.
            return None;
        }
        let mut out = Vec::with_capacity(raw.len() + 128);
        for line in head.split_inclusive(|b| *b == b'\n') {
            let replaced = rules.iter().any(|r| r.replace && line_is(line, &r.name));
            if replaced || (want_ua && line_is(line, ua_name)) {
                continue;
            }
            out.extend_from_slice(line);
        }
        for r in &rules {
            out.extend_from_slice(format!("{}: {}\r\n", r.name, r.value).as_bytes());
        }
        if want_ua {
            out.extend_from_slice(format!("{ua_name}: {}\r\n", self.user_agent).as_bytes());
        }
        out.extend_from_slice(&raw[head_end..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, value: &str, codes: &[u16], methods: &[&str], replace: bool) -> CustomHeader {
        CustomHeader { name: name.into(), value: value.into(), codes: codes.to_vec(), methods: methods.iter().map(|m| m.to_string()).collect(), replace }
    }

    const INVITE: &str = "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nX-Old: 1\r\nContent-Length: 4\r\n\r\nbody";
    const OK: &str = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nServer: ringcore\r\nContent-Length: 0\r\n\r\n";

    fn apply(r: &Rewriter, m: &str) -> String {
        String::from_utf8(r.apply(m.as_bytes()).unwrap_or_else(|| m.as_bytes().to_vec())).expect("utf-8")
    }

    #[test]
    fn request_rules_select_by_method_and_replace_keeps_one() {
        let r = Rewriter::new(vec![rule("X-Old", "2", &[], &["INVITE"], true), rule("X-Any", "a", &[], &["*"], false), rule("X-Bye", "b", &[], &["BYE"], false)], "", false);
        let out = apply(&r, INVITE);
        assert!(out.contains("X-Old: 2\r\n") && !out.contains("X-Old: 1"), "{out}");
        assert!(out.contains("X-Any: a\r\n") && !out.contains("X-Bye"), "{out}");
        assert!(out.ends_with("\r\n\r\nbody"), "body untouched: {out}");
        assert!(Message::parse(out.as_bytes()).is_ok());
    }

    #[test]
    fn response_rules_select_by_code_and_cseq_method() {
        let r = Rewriter::new(vec![rule("X-Ok", "1", &[200], &["INVITE"], false), rule("X-All", "2", &[0], &["*"], false), rule("X-Req", "3", &[], &["*"], false), rule("X-Ringing", "4", &[180], &["*"], false)], "", false);
        let out = apply(&r, OK);
        assert!(out.contains("X-Ok: 1") && out.contains("X-All: 2"), "{out}");
        assert!(!out.contains("X-Req") && !out.contains("X-Ringing"), "{out}");
    }

    #[test]
    fn forced_user_agent_replaces_server_and_is_added_to_requests() {
        let r = Rewriter::new(Vec::new(), "Lab-IMS-1", true);
        let out = apply(&r, OK);
        assert!(out.contains("Server: Lab-IMS-1\r\n") && !out.contains("Server: ringcore"), "{out}");
        assert!(apply(&r, INVITE).contains("User-Agent: Lab-IMS-1\r\n"));
        let r = Rewriter::new(Vec::new(), "Lab-IMS-1", false);
        assert!(r.apply(OK.as_bytes()).is_none(), "not forced and no rules: unchanged");
    }

    #[test]
    fn forced_user_agent_already_present_once_leaves_the_message_alone() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        assert!(r.apply(OK.as_bytes()).is_none(), "Server: ringcore already there");
        let twice = OK.replace("Server: ringcore\r\n", "Server: ringcore\r\nServer: other\r\n");
        let out = apply(&r, &twice);
        assert_eq!(out.matches("Server: ").count(), 1, "{out}");
        assert!(out.contains("Server: ringcore\r\n") && !out.contains("other"), "{out}");
        let r = Rewriter::new(Vec::new(), "ringcore-2", true);
        assert!(apply(&r, OK).contains("Server: ringcore-2\r\n"), "another value is replaced");
    }
}
