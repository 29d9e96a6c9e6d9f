//! Interop: SIPp (an independent SIP implementation) sends OPTIONS to a running
//! ringcore over UDP and over TCP and must get a 200 with Allow for every one.

mod common;
use common::{sipp, test_file, Core};

fn run(transport: &str) {
    let core = Core::start(&format!("options-{transport}"), "");
    let scenario = test_file("sipp/options.xml");
    let target = core.sip.to_string();
    let (ok, out) = sipp(
        &[
            "-sf", scenario.to_str().unwrap(),
            "-t", transport,
            "-m", "200",
            "-r", "200",
            "-l", "50",
            "-timeout", "60",
            "-recv_timeout", "5000",
            "-i", "127.0.0.1",
            "-trace_err",
            &target,
        ],
        &core.dir,
    );
    assert!(ok, "SIPp OPTIONS over {transport} failed:\n{out}");
}

#[test]
fn sipp_options_over_udp() {
    run("u1");
}

#[test]
fn sipp_options_over_tcp() {
    run("t1");
}
