//! Seeded pseudo-random mutation test over every decoder: no input may panic, and whatever
//! parses must emit and parse back to the same representation.

use super::vector_tests::hex;
use super::*;
use super::fuzzing::{check_rp, check_tpdu};

use crate::testkit::XorShift;

/// Runs every decoder; returns how many accepted the input.
fn all_decoders(bytes: &[u8]) -> usize {
    let mut accepted = usize::from(RpMessage::parse(bytes).is_ok());
    check_rp(bytes);
    for dir in [Direction::Mo, Direction::Mt] {
        for carrier in [Carrier::RpData, Carrier::RpAck, Carrier::RpError] {
            accepted += usize::from(Tpdu::parse(bytes, dir, carrier).is_ok());
            check_tpdu(bytes, dir, carrier);
        }
    }
    if let Ok(h) = Udh::parse(bytes) {
        let _ = h.iter().count();
    }
    let mut text = String::new();
    gsm7_decode(bytes, &mut text);
    ucs2_decode(bytes, &mut text);
    accepted
}

fn corpus() -> Vec<Vec<u8>> {
    let mut c: Vec<Vec<u8>> = [
        "11000B916407281553F80000AA0AE8329BFD4697D9EC37",
        "240C914477581006500000916042113312800AE8329BFD4697D9EC37",
        "06010B917777777777F75150121183832151501211346521 46 07 7F 00 05 41424344 45",
        "61010B917777777777F7000033050003010303CA6CF61B5D66B3DFE8329BFD4697D9EC37BACC66BFD16536FB8D2EB3D96F7499CD7EA3CB6CF61B",
        "22 05 00 02 04 07 91 942143F5 02 6364",
        "00D300",
        "00 07 7F 04 03 010203",
        "01 00 52309041509580",
        "01 C0 05 00 52309041509580 04 C2F03C",
        "0009000381 98F4 17 11000B916407281553F80000AA0AE8329BFD4697D9EC37",
        "0309 41 09 0100 52309041509580",
        "040A 02 16 00 41 03 00D300",
        "0605",
        "0D000B916407281553F800 00 03 10 00 00 00 00 00 00 02 E834",
    ]
    .iter()
    .map(|h| hex(h))
    .collect();
    c.push(Vec::new());
    c
}

#[test]
fn corpus_round_trips() {
    for seed in corpus().iter().filter(|s| !s.is_empty()) {
        assert!(all_decoders(seed) > 0, "seed {seed:02x?} parses");
    }
}

#[test]
fn fifty_thousand_mutations_never_panic() {
    let corpus = corpus();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for _ in 0..50_000 {
        let mut buf = corpus[rng.below(corpus.len())].clone();
        for _ in 0..1 + rng.below(4) {
            let pos = rng.below(buf.len() + 1);
            match rng.below(6) {
                0 if pos < buf.len() => buf[pos] ^= 1 << rng.below(8),
                1 if pos < buf.len() => buf[pos] = rng.next() as u8,
                2 => buf.truncate(pos),
                3 => buf.insert(pos, rng.next() as u8),
                4 if pos < buf.len() => {
                    buf.remove(pos);
                }
                _ => buf.extend((0..rng.below(8)).map(|_| rng.next() as u8)),
            }
        }
        accepted += all_decoders(&buf);
    }
    // The mutations stay close enough to valid messages to exercise the encoders too.
    assert!(accepted > 5_000, "only {accepted} mutants parsed");
}
