//! ESP per-packet cost on one core (issue 9: goal at least 500k packets per worker core):
//! one iteration encapsulates a 200-byte SIP payload as the worker sends it (inner
//! IPv4/UDP header for `mod=UDP-enc-tun`, RFC 4303 padding, IV, ICV) and decapsulates it
//! as the receiving worker does (anti-replay check, ICV, decryption, padding, inner UDP
//! checksum), for each algorithm pair ringcore negotiates.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ringcore::auth::ipsec_keys::{EncrAlg, IntegAlg};
use ringcore::ipsec::inner::{emit_inner, parse_inner};
use ringcore::ipsec::{Direction, Sa, SaParams};
use std::net::SocketAddr;

/// Name, cipher and CK_ESP, integrity and IK_ESP.
type Pair = (&'static str, EncrAlg, &'static [u8], IntegAlg, &'static [u8]);

const PAIRS: [Pair; 3] = [
    ("aes-cbc+hmac-sha-1-96", EncrAlg::AesCbc, &[0x11; 16], IntegAlg::HmacSha1_96, &[0x22; 20]),
    ("null+hmac-md5-96", EncrAlg::Null, &[], IntegAlg::HmacMd5_96, &[0x22; 16]),
    ("des-ede3-cbc+hmac-sha-1-96", EncrAlg::DesEde3Cbc, &[0x13; 24], IntegAlg::HmacSha1_96, &[0x22; 20]),
];

fn sa(direction: Direction, encr: EncrAlg, encr_key: &[u8], integ: IntegAlg, integ_key: &[u8]) -> Sa {
    Sa::new(&SaParams { spi: 0x1000, direction, integ: Some(integ), integ_key, encr, encr_key, replay_window: 64 })
        .expect("bench SA keys")
}

fn bench(c: &mut Criterion) {
    let (ue, pcscf): (SocketAddr, SocketAddr) = ("10.0.0.2:5062".parse().unwrap(), "10.0.0.1:6001".parse().unwrap());
    let payload = [b'S'; 200];
    let mut g = c.benchmark_group("esp_200B");
    g.throughput(Throughput::Elements(1));
    for (name, encr, ck, integ, ik) in PAIRS {
        let mut tx = sa(Direction::Outbound, encr, ck, integ, ik);
        let mut rx = sa(Direction::Inbound, encr, ck, integ, ik);
        let (mut inner, mut pkt) = ([0u8; 512], [0u8; 512]);
        // The core's IV generator (AES-128 over a counter), so the bench costs what the worker pays.
        let mut iv = ringcore::ipsec::iv::IvGen::from_os();
        g.bench_function(format!("{name}/encap+decap"), |b| {
            b.iter(|| {
                let (n, nh) = emit_inner(true, pcscf, ue, black_box(&payload), &mut inner).expect("inner");
                let len = tx.encap(&inner[..n], nh, &mut iv, &mut pkt).expect("encap");
                let got = rx.decap(&mut pkt[..len]).expect("decap");
                let udp = parse_inner(got.next_header, &pkt[got.payload.clone()], pcscf.ip(), ue.ip()).expect("inner UDP");
                black_box(udp.data.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
