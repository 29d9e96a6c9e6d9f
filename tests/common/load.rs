//! Helpers of the ringload black-box tests: the subscribers of ringload's default range and
//! running the ringload binary.

use std::fmt::Write as _;
use std::process::{Command, Output};

/// ringload's default IMS domain.
pub const DOMAIN: &str = "ims.mnc001.mcc001.3gppnetwork.org";
/// ringload's default K (XOR USIMs).
pub const K: &str = "00112233445566778899aabbccddeeff";

/// A ringcore `ue_db` of ringload's default range (config/ue_db-ims.cfg): `n` XOR USIMs
/// from IMSI 001011000000000, each with IMPU sip:IMSI; with `echo`, `sip:echo` is an echo
/// IMPU.
pub fn users(n: usize, echo: bool) -> String {
    let mut s = String::from(if echo { "echo: [\"sip:echo\"],\nue_db: [\n" } else { "ue_db: [\n" });
    for i in 0..n {
        let imsi = format!("00101100{i:07}");
        let _ = writeln!(s, "{{ sim_algo: \"xor\", imsi: \"{imsi}\", K: \"{K}\", impi: \"{imsi}@{DOMAIN}\", impu: [\"sip:{imsi}\"] }},");
    }
    s.push_str("],\n");
    s
}

/// Runs ringload with `args` to completion.
pub fn ringload(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringload")).args(args).output().expect("run ringload")
}

/// stdout and stderr of a run, for messages.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The tags of the intervals of an HdrHistogram interval log (`--hdr-log`), in order.
pub fn hdr_log_tags(path: &std::path::Path) -> Vec<String> {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let log = std::fs::read(path).expect("hdr log");
    IntervalLogIterator::new(&log)
        .filter_map(|e| match e.ok()? {
            LogEntry::Interval(i) => i.tag().map(|t| t.as_str().to_owned()),
            _ => None,
        })
        .collect()
}
