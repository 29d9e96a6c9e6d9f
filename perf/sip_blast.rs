//! Closed-loop UDP load generator for the data-plane benchmarks.
//!
//! Keeps up to WINDOW requests in flight against one target, sending with
//! `sendmmsg` in batches of BATCH and draining replies with `recvmmsg`, for
//! SECS seconds. Every request is a SIP OPTIONS whose Via branch carries a
//! sequence number; the reply (a SIP 200 from ringcore, or the same bytes
//! from a raw echo server) is matched by that branch, so the same generator
//! measures ringcore and the raw UDP ceiling alike. Round-trip times go into
//! a 1 µs histogram.
//!
//! With `rtp`, every request is instead a 172-byte RTP packet (version 2, PCMU, 160 bytes of
//! payload that carry the same marker), for echo services that return RTP unchanged; BIND
//! fixes the local address (the port the SDP offer announced).
//!
//! usage: sip_blast TARGET SECS WINDOW BATCH [rtp [BIND]]
//! It talks only to TARGET (use a loopback address) and stops by itself.

use nix::sys::socket::{recvmmsg, sendmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
use std::io::IoSlice;
use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Largest batch for one sendmmsg/recvmmsg call.
const MAX_BATCH: usize = 256;
/// Histogram range: 1 µs bins up to 100 ms.
const HIST_BINS: usize = 100_000;
/// Sequence numbers in flight are tracked in a ring of this size (a power of two).
const RING: usize = 1 << 16;
/// Size of each receive buffer.
const RX_SIZE: usize = 2048;
/// The branch marker in the template; 16 hex digits follow it.
const BRANCH: &[u8] = b"z9hG4bKb";

fn template(local: SocketAddr) -> (Vec<u8>, usize) {
    let msg = format!(
        "OPTIONS sip:ims.mnc001.mcc001.3gppnetwork.org SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bKb0000000000000000;rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:blast@{ip}>;tag=blast\r\n\
         To: <sip:ims.mnc001.mcc001.3gppnetwork.org>\r\n\
         Call-ID: blast-call-id\r\n\
         CSeq: 1 OPTIONS\r\n\
         Accept: application/sdp\r\n\
         Content-Length: 0\r\n\r\n",
        ip = local.ip()
    );
    let bytes = msg.into_bytes();
    let at = find(&bytes, BRANCH).map(|p| p + BRANCH.len()).unwrap_or(0);
    (bytes, at)
}

/// An RTP packet (RFC 3550 5.1: V=2, PT=0, SSRC fixed) whose payload carries the marker.
fn rtp_template() -> (Vec<u8>, usize) {
    let mut p = vec![0x80u8, 0x00, 0, 1, 0, 0, 0, 160, 0x52, 0x43, 0x4c, 0x44];
    p.extend_from_slice(BRANCH);
    p.extend_from_slice(b"0000000000000000");
    p.resize(12 + 160, 0xd5);
    (p, 12 + BRANCH.len())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn put_hex(dst: &mut [u8], mut v: u64) {
    for b in dst.iter_mut().rev() {
        *b = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
    }
}

fn get_hex(src: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for &b in src {
        let d = (b as char).to_digit(16)?;
        v = (v << 4) | d as u64;
    }
    Some(v)
}

fn percentile(hist: &[u64], total: u64, p: f64) -> usize {
    let want = (total as f64 * p) as u64;
    let mut seen = 0;
    for (i, c) in hist.iter().enumerate() {
        seen += c;
        if seen > want {
            return i;
        }
    }
    hist.len()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rtp = args.get(5).is_some_and(|a| a == "rtp");
    if args.len() < 5 || args.len() > 7 || (args.len() > 5 && !rtp) {
        eprintln!("usage: sip_blast TARGET SECS WINDOW BATCH [rtp [BIND]]");
        std::process::exit(2);
    }
    let target: SocketAddr = args[1].parse().expect("TARGET must be ip:port");
    let secs: u64 = args[2].parse().expect("SECS");
    let window: usize = args[3].parse().expect("WINDOW");
    let batch: usize = args[4].parse().expect("BATCH");
    assert!((1..=600).contains(&secs), "SECS in 1..=600");
    assert!((1..RING).contains(&window), "WINDOW in 1..65536");
    assert!((1..=MAX_BATCH).contains(&batch), "BATCH in 1..=256");

    let bind = args.get(6).map(String::as_str).unwrap_or(if target.is_ipv4() { "127.0.0.1:0" } else { "[::1]:0" });
    let sock = UdpSocket::bind(bind).expect("bind");
    sock.connect(target).expect("connect");
    sock.set_read_timeout(Some(Duration::from_millis(20))).expect("timeout");
    let fd = sock.as_raw_fd();
    let (tpl, hex_at) = if rtp { rtp_template() } else { template(sock.local_addr().expect("local addr")) };

    let mut tx: Vec<Vec<u8>> = (0..MAX_BATCH).map(|_| tpl.clone()).collect();
    let mut rx: Vec<Vec<u8>> = (0..MAX_BATCH).map(|_| vec![0u8; RX_SIZE]).collect();
    let mut send_hdrs = MultiHeaders::<SockaddrStorage>::preallocate(MAX_BATCH, None);
    let mut recv_hdrs = MultiHeaders::<SockaddrStorage>::preallocate(MAX_BATCH, None);
    let mut sent_at = vec![Instant::now(); RING];
    let mut hist = vec![0u64; HIST_BINS + 1];

    let (mut seq, mut inflight, mut sent, mut recvd, mut lost) = (0u64, 0usize, 0u64, 0u64, 0u64);
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    while Instant::now() < end {
        let n = batch.min(window - inflight);
        if n > 0 {
            let now = Instant::now();
            for buf in tx.iter_mut().take(n) {
                put_hex(&mut buf[hex_at..hex_at + 16], seq);
                sent_at[(seq as usize) & (RING - 1)] = now;
                seq += 1;
            }
            let slices: Vec<[IoSlice<'_>; 1]> = tx[..n].iter().map(|b| [IoSlice::new(b)]).collect();
            let addrs = vec![None; n];
            if let Ok(res) = sendmmsg(fd, &mut send_hdrs, &slices, &addrs, [], MsgFlags::empty()) {
                let k = res.count();
                sent += k as u64;
                inflight += k;
            }
        }
        let flags = if inflight >= window { MsgFlags::MSG_WAITFORONE } else { MsgFlags::MSG_DONTWAIT };
        let mut lens = [0usize; MAX_BATCH];
        let got = {
            let mut slices: Vec<[IoSliceMut<'_>; 1]> = rx.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
            recvmmsg(fd, &mut recv_hdrs, slices.iter_mut(), flags, None).map(|res| {
                let mut n = 0;
                for (slot, r) in lens.iter_mut().zip(res) {
                    *slot = r.bytes;
                    n += 1;
                }
                n
            })
        };
        match got {
            Ok(n) => {
                let now = Instant::now();
                for (buf, &len) in rx.iter().zip(&lens[..n]) {
                    let msg = &buf[..len.min(RX_SIZE)];
                    let Some(p) = find(msg, BRANCH) else { continue };
                    let Some(s) = msg.get(p + BRANCH.len()..p + BRANCH.len() + 16).and_then(get_hex) else { continue };
                    let us = now.duration_since(sent_at[(s as usize) & (RING - 1)]).as_micros() as usize;
                    hist[us.min(HIST_BINS)] += 1;
                    recvd += 1;
                    inflight = inflight.saturating_sub(1);
                }
            }
            Err(_) => {
                if inflight >= window {
                    // Nothing came back for 20 ms with a full window: count what is
                    // outstanding as lost and open the window again.
                    lost += inflight as u64;
                    inflight = 0;
                }
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "sent={sent} received={recvd} lost={lost} secs={elapsed:.2} reply_rate={:.0} p50_us={} p99_us={} p999_us={}",
        recvd as f64 / elapsed,
        percentile(&hist, recvd, 0.50),
        percentile(&hist, recvd, 0.99),
        percentile(&hist, recvd, 0.999)
    );
}
