//! What the control thread does to every SIP message of a batch it sends
//! ([`Control::send_all`]): the message is recorded on its dialog's event list, counted
//! by method and status, logged, given our user agent (and the custom headers), then
//! queued to its worker. The dialog log, the counters and the user agent check read
//! the header section in one shared pass ([`read`]) rather than one each.

use super::super::custom_headers::{Rewriter, UaLines, UaSeen};
use super::super::dialog_log::{scan_lines, EventKind, Scanned};
use super::Control;
use crate::endpoint::ToWorker;
use crate::log::{Dir, Head, Layer, Level};
use crate::stats::sip_methods::{classify_start, first_line, CseqLine, Direction, MethodName};
use std::time::Instant;

/// What the send path needs of message `msg`, read in one pass over its header
/// section: the dialog log's facts and the empty line ([`scan_lines`]), the method
/// counters' key (as `sip_methods::classify` finds it) and the user agent headers as
/// rewriter `r` sees them.
fn read<'m>(msg: &'m [u8], r: &Rewriter) -> (Scanned<'m>, Option<(MethodName, u16)>, UaSeen) {
    let mut ua = UaLines::of(msg);
    let mut cseq = CseqLine::default();
    let scanned = scan_lines(msg, |line| {
        ua.line(line);
        cseq.line(line);
    });
    (scanned, classify_start(first_line(msg), || cseq.method()), ua.seen(r))
}

impl Control {
    /// Sends the commands of `out` in order, each SIP message handled as the module
    /// doc says.
    pub(in super::super) fn send_all(&mut self, now: Instant, out: Vec<(u16, ToWorker)>) {
        for (worker, mut cmd) in out {
            if let ToWorker::Respond { msg, .. } | ToWorker::SendRequest { msg, .. } | ToWorker::SendStateless { msg, .. } = &mut cmd {
                self.on_send(now, msg);
            }
            self.queue(worker, cmd);
        }
    }

    /// Records, counts, logs and rewrites message `msg` about to be sent.
    fn on_send(&mut self, now: Instant, msg: &mut Vec<u8>) {
        let (scanned, class, seen) = read(msg, &self.rewriter);
        if let Some(facts) = scanned.facts {
            self.log_dialog_message(now, EventKind::Send, facts, || false);
        }
        self.sip_methods.count_classified(Direction::Out, class);
        if self.logger.enabled(Layer::Sip, Level::Info) {
            let first = msg.split(|b| *b == b'\r').next().unwrap_or(b"");
            let head = Head::new(Layer::Sip, Level::Info).dir(Dir::To);
            self.logger.log_now(head, format_args!("{}", String::from_utf8_lossy(first)));
        }
        let empty_line = scanned.empty_line;
        self.rewriter.rewrite_scanned(msg, seen, empty_line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::typed::CustomHeader;
    use crate::control::dialog_log::scan;
    use crate::stats::sip_methods::classify;

    const INVITE: &str = "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nUser-Agent: ringcore\r\nContent-Length: 4\r\n\r\nv=0\n";
    const OK: &str = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\ni: c2\r\nCSeq: 7 bye\r\nServer: ringcore\r\nContent-Length: 0\r\n\r\n";

    /// Messages ringcore builds and the odd ones a relay may carry.
    fn corpus() -> Vec<String> {
        let long = format!("X-Big: {}\r\n", "y".repeat(17 * 1024));
        vec![
            INVITE.to_owned(),
            OK.to_owned(),
            OK.replace("Server: ringcore\r\n", ""),
            OK.replace("Server: ringcore", "Server: peer/1.0"),
            OK.replace("Server: ringcore\r\n", "Server: ringcore\r\nserver :ringcore\r\n"),
            OK.replace("Server: ringcore", "SERVER\t:  ringcore  "),
            OK.replace("Server: ringcore", "Server"),
            INVITE.replace("User-Agent: ringcore\r\n", "User-Agent: peer\r\n  v2\r\n"),
            INVITE.replace("User-Agent: ringcore", "User-Agent: ringcore-9"),
            INVITE.replace("\r\n", "\n"),
            INVITE.replace("Content-Length: 4\r\n\r\n", "Content-Length: 4\n\r\n"),
            INVITE.replace("Content-Length: 4\r\n\r\n", "Content-Length: 4\r\n\n\r\n\r\n"),
            INVITE.replace("\r\n\r\nv=0\n", "\r\n"),
            INVITE.replace("\r\n\r\nv=0\n", ""),
            INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 INVITE\r\ncseq: 2 BYE"),
            INVITE.replace("CSeq: 1 INVITE", "CSeq : 1 INVITE"),
            OK.replace("CSeq: 7 bye", "CSeq:7"),
            OK.replace("CSeq: 7 bye", "cseq:  7\tAVERYVERYLONGMETHODNAME"),
            OK.replace("200 OK", "2x0 OK"),
            INVITE.replace(" SIP/2.0\r\nVia", " SIP/3.0\r\nVia"),
            OK.replace("Content-Length: 0\r\n", &long),
            "SIP/2.0 200 OK\r\n".to_owned(),
            "\r\n\r\nSIP/2.0 200 OK\r\n\r\n".to_owned(),
            "garbage".to_owned(),
            String::new(),
        ]
    }

    fn rule(name: &str, methods: &[&str], replace: bool) -> CustomHeader {
        CustomHeader { name: name.into(), value: "v".into(), codes: vec![0], methods: methods.iter().map(|m| m.to_string()).collect(), replace }
    }

    #[test]
    fn one_pass_reads_what_the_separate_passes_read() {
        let rewriters = [
            Rewriter::new(Vec::new(), "ringcore", true),
            Rewriter::new(Vec::new(), "ringcore", false),
            Rewriter::new(Vec::new(), "", true),
            Rewriter::new(vec![rule("Server", &["*"], true), rule("X-A", &["INVITE"], false)], "ringcore", true),
        ];
        // Each message also with a user agent other than ours, so that the rewrite acts.
        let messages = corpus().into_iter().flat_map(|m| [m.replace("ringcore", "peer"), m]);
        for m in messages {
            let raw = m.as_bytes();
            for r in &rewriters {
                let (scanned, class, seen) = read(raw, r);
                assert_eq!(scanned.facts, scan(raw), "{m:?}");
                assert_eq!(class, classify(raw), "{m:?}");
                let (mut fast, mut full) = (raw.to_vec(), raw.to_vec());
                let changed = r.rewrite_scanned(&mut fast, seen, scanned.empty_line);
                assert_eq!((changed, &fast), (r.rewrite(&mut full), &full), "{r:?} {m:?}");
            }
        }
    }

    #[test]
    fn the_shared_pass_finds_the_facts_key_and_user_agent() {
        let r = Rewriter::new(Vec::new(), "ringcore", true);
        let (scanned, class, _) = read(INVITE.as_bytes(), &r);
        let (label, call_id, sdp) = scanned.facts.expect("a request");
        assert_eq!((label.text().as_deref(), call_id, sdp), (Some("INVITE"), "c1", Some(&b"v=0\n"[..])));
        assert_eq!(class.map(|(m, s)| (m.as_str().to_owned(), s)), Some(("INVITE".to_owned(), 0)));
        let mut ours = OK.as_bytes().to_vec();
        let (scanned, class, seen) = read(OK.as_bytes(), &r);
        assert_eq!(class.map(|(m, s)| (m.as_str().to_owned(), s)), Some(("BYE".to_owned(), 200)));
        assert!(!r.rewrite_scanned(&mut ours, seen, scanned.empty_line), "our Server once: unchanged");
        let peer = OK.replace("Server: ringcore", "Server: peer");
        let mut theirs = peer.clone().into_bytes();
        let (scanned, _, seen) = read(peer.as_bytes(), &r);
        assert!(r.rewrite_scanned(&mut theirs, seen, scanned.empty_line));
        let text = String::from_utf8(theirs).expect("utf-8");
        assert!(text.ends_with("Content-Length: 0\r\nServer: ringcore\r\n\r\n") && !text.contains("peer"), "{text}");
    }
}
