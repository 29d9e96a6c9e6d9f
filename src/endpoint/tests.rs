//! The endpoint driven directly (no sockets): what it answers itself, what
//! it hands to the control thread, and how it behaves when queues are full.

use super::*;
use crate::engine::queue::{channel, Receiver};
use crate::engine::{Op, Waker, WorkerCounters};
use std::time::Duration;

const UE: &str = "127.0.0.1:5062";

struct Rig {
    ep: Endpoint,
    out: Outbox,
    events: Receiver<ToControl>,
    counters: Arc<SipCounters>,
}

fn rig(queue: usize) -> Rig {
    let wc = Arc::new(WorkerCounters::default());
    let (tx, rx) = channel(queue, Arc::new(Waker::new().unwrap()));
    let ctx = WorkerCtx {
        worker: 0,
        n_workers: 1,
        udp: vec!["127.0.0.1:5060".parse().unwrap()],
        tcp: vec![],
        events: EventSender::new(tx, wc.clone()),
        counters: wc.clone(),
    };
    let cfg = EndpointConfig {
        local_hosts: vec!["ims.example".into(), "127.0.0.1".into()],
        user_agent: "ringcore-test".into(),
        transactions: transaction::Config::with_capacity(64),
        max_message_size: 65536,
        media: MediaPlaneConfig { bind_ip: "127.0.0.1".parse().unwrap(), port_min: 40000, port_max: 40099, max_sessions: 16, delay_packets: 16 },
        media_board: None,
    };
    let counters = Arc::new(SipCounters::default());
    Rig { ep: Endpoint::new(ctx, cfg, counters.clone()), out: Outbox::new(64, 8192, wc), events: rx, counters }
}

impl Rig {
    fn udp(&mut self, now: Instant, text: &str) {
        self.ep.on_datagram(now, SocketId(0), UE.parse().unwrap(), text.as_bytes(), &mut self.out);
    }
    /// The datagrams queued so far, as text.
    fn sent(&mut self) -> Vec<String> {
        let ops = self.out.take_ops();
        let mut texts = Vec::new();
        for op in &ops {
            if let Op::SendUdp { buf, .. } = op {
                texts.push(String::from_utf8_lossy(self.out.pool().bytes(buf)).into_owned());
            }
        }
        let mut ops = ops;
        for op in ops.drain(..) {
            if let Op::SendUdp { buf, .. } = op {
                self.out.pool().release(buf);
            }
        }
        self.out.restore_ops(ops);
        texts
    }
}

fn request(method: &str, uri: &str, branch: &str, extra: &str) -> String {
    format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {UE};branch={branch}\r\nMax-Forwards: 70\r\n\
         From: <sip:alice@ims.example>;tag=a1\r\nTo: <sip:bob@ims.example>\r\nCall-ID: {branch}@ue\r\n\
         CSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn options_to_the_core_is_answered_in_the_worker() {
    let mut r = rig(8);
    let now = Instant::now();
    r.udp(now, &request("OPTIONS", "sip:ims.example", "z9hG4bKo1", ""));
    let sent = r.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("SIP/2.0 200 OK\r\n"), "{}", sent[0]);
    assert!(sent[0].contains("\r\nAllow: INVITE, ACK"), "{}", sent[0]);
    assert!(sent[0].contains("\r\nTo: <sip:bob@ims.example>;tag="), "{}", sent[0]);
    assert!(r.events.try_recv().is_none(), "OPTIONS must not reach the control thread");
    assert_eq!(r.counters.options_answered.get(), 1);
}

#[test]
fn malformed_request_gets_400_with_warning_and_ack_gets_nothing() {
    let mut r = rig(8);
    let now = Instant::now();
    let bad = request("OPTIONS", "sip:ims.example", "z9hG4bKb1", "").replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    r.udp(now, &bad);
    let sent = r.sent();
    assert!(sent[0].starts_with("SIP/2.0 400 "), "{}", sent[0]);
    assert!(sent[0].contains("\r\nWarning: 399 ringcore \""), "{}", sent[0]);
    let bad_ack = request("ACK", "sip:bob@ims.example", "z9hG4bKb2", "").replace("CSeq: 1 ACK", "CSeq: x ACK");
    r.udp(now, &bad_ack);
    assert!(r.sent().is_empty());
    r.udp(now, "\u{1}garbage that is not SIP\r\n\r\n");
    assert!(r.sent().is_empty());
    assert_eq!(r.counters.malformed.get(), 3);
}

#[test]
fn invite_gets_100_trying_is_passed_up_once_and_retransmissions_are_absorbed() {
    let mut r = rig(8);
    let now = Instant::now();
    let inv = request("INVITE", "sip:bob@ims.example", "z9hG4bKi1", "");
    r.udp(now, &inv);
    let sent = r.sent();
    assert!(sent.iter().any(|s| s.starts_with("SIP/2.0 100 Trying")), "{sent:?}");
    let Some((_, ToControl::Request { tx: Some(tx), msg, .. })) = r.events.try_recv().map(|e| ((), e)) else {
        panic!("the INVITE must reach the control thread")
    };
    assert_eq!(msg, inv.as_bytes());
    r.udp(now + Duration::from_millis(500), &inv);
    assert!(r.events.try_recv().is_none());
    assert_eq!(r.counters.retransmissions_absorbed.get(), 1);
    // The control thread answers 486; the transaction sends it and absorbs the ACK.
    let resp = inv.replace("INVITE sip:bob@ims.example SIP/2.0", "SIP/2.0 486 Busy Here").replace("To: <sip:bob@ims.example>", "To: <sip:bob@ims.example>;tag=b1");
    r.ep.on_command(now, ToWorker::Respond { tx, msg: resp.into_bytes() }, &mut r.out);
    assert!(r.sent().iter().any(|s| s.starts_with("SIP/2.0 486")));
    let ack = request("ACK", "sip:bob@ims.example", "z9hG4bKi1", "").replace("To: <sip:bob@ims.example>", "To: <sip:bob@ims.example>;tag=b1");
    r.udp(now, &ack);
    assert!(r.events.try_recv().is_none(), "the ACK of a non-2xx stays in the transaction");
}

#[test]
fn full_control_queue_answers_503_with_retry_after() {
    let mut r = rig(1);
    let now = Instant::now();
    r.udp(now, &request("REGISTER", "sip:ims.example", "z9hG4bKr1", ""));
    r.sent();
    r.udp(now, &request("REGISTER", "sip:ims.example", "z9hG4bKr2", ""));
    let sent = r.sent();
    assert!(sent.iter().any(|s| s.starts_with("SIP/2.0 503 ") && s.contains("\r\nRetry-After: 1\r\n")), "{sent:?}");
    assert_eq!(r.counters.control_queue_full.get(), 1);
}

#[test]
fn tcp_stream_framing_handles_split_and_joined_messages() {
    let mut r = rig(8);
    let now = Instant::now();
    let a = request("REGISTER", "sip:ims.example", "z9hG4bKt1", "");
    let b = request("REGISTER", "sip:ims.example", "z9hG4bKt2", "");
    let joined = format!("\r\n\r\n{a}{b}");
    let conn = ConnId(7);
    let peer: SocketAddr = UE.parse().unwrap();
    // Only part of the second message: the first is consumed, with the ping.
    let part = &joined.as_bytes()[..joined.len() - 10];
    match r.ep.on_stream(now, conn, peer, part, &mut r.out) {
        StreamVerdict::Consumed(n) => assert_eq!(n, 4 + a.len()),
        v => panic!("{v:?}"),
    }
    assert!(r.events.try_recv().is_some());
    assert!(r.events.try_recv().is_none());
    let bad = "REGISTER sip:x SIP/2.0\r\nContent-Length: abc\r\n\r\n";
    assert_eq!(r.ep.on_stream(now, conn, peer, bad.as_bytes(), &mut r.out), StreamVerdict::Close);
}
