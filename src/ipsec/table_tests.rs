//! Tests of the per-binding SA lists of [`SaTable`]: removing one registration leaves every
//! other SA working, individual removals keep the lists whole, slots are reused, and a
//! randomized run against a plain Vec model.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::auth::ipsec_keys::{EncrAlg, IntegAlg};
use crate::ipsec::SaParams;

const UE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 45, 0, 9));
const IK: [u8; 20] = [0x5a; 20];

fn sa(spi: u32, direction: Direction) -> Sa {
    let p = SaParams {
        spi,
        direction,
        integ: Some(IntegAlg::HmacSha1_96),
        integ_key: &IK,
        encr: EncrAlg::Null,
        encr_key: &[],
        replay_window: 64,
    };
    // Valid parameters: a 20-byte key for HMAC-SHA-1-96, NULL encryption, a 64 window.
    Sa::new(&p).expect("valid SA parameters")
}

fn table(capacity: usize) -> SaTable {
    let cfg = SaTableConfig {
        worker: 0,
        worker_bits: 0,
        capacity,
    };
    SaTable::new(cfg).expect("valid table configuration")
}

fn key(port: u16) -> OutboundKey {
    OutboundKey {
        ue_addr: UE,
        ue_port: port,
        proto: SelectorProto::Any,
    }
}

fn no_iv(_: &mut [u8]) {}

/// True when a packet sealed by the peer with `spi` decapsulates in `t`.
fn decaps(t: &mut SaTable, spi: u32) -> bool {
    let mut peer = sa(spi, Direction::Outbound);
    let mut buf = [0u8; 128];
    let n = peer
        .encap(b"REGISTER", IPPROTO_UDP, &mut no_iv, &mut buf)
        .expect("fits");
    t.decap(&mut buf[..n]).is_ok()
}

/// True when `t` encapsulates towards `port` with the SA `spi` the peer can open.
fn encaps(t: &mut SaTable, port: u16, spi: u32) -> bool {
    let mut buf = [0u8; 128];
    let Ok(n) = t.encap(UE, port, IPPROTO_UDP, b"200 OK", &mut no_iv, &mut buf) else {
        return false;
    };
    sa(spi, Direction::Inbound).decap(&mut buf[..n]).is_ok()
}

/// Binding `b` gets inbound SPIs 1000b+256, 1000b+257 and outbound ports 100b, 100b+1
/// (outbound SPIs 1000b+258, 1000b+259).
fn insert_set(t: &mut SaTable, b: u64) {
    let (spi, port) = (1000 * b as u32 + 256, 100 * b as u16);
    t.insert_inbound(sa(spi, Direction::Inbound), b).unwrap();
    t.insert_inbound(sa(spi + 1, Direction::Inbound), b)
        .unwrap();
    t.insert_outbound(key(port), sa(spi + 2, Direction::Outbound), b)
        .unwrap();
    t.insert_outbound(key(port + 1), sa(spi + 3, Direction::Outbound), b)
        .unwrap();
}

fn set_works(t: &mut SaTable, b: u64) -> [bool; 4] {
    let (spi, port) = (1000 * b as u32 + 256, 100 * b as u16);
    [
        decaps(t, spi),
        decaps(t, spi + 1),
        encaps(t, port, spi + 2),
        encaps(t, port + 1, spi + 3),
    ]
}

#[test]
fn removing_one_binding_leaves_the_others_working() {
    let mut t = table(16);
    for b in 1..=4 {
        insert_set(&mut t, b);
    }
    let mut gone = HashSet::new();
    assert_eq!(t.remove_binding_with(2, |k| assert!(gone.insert(k))), 4);
    let want = HashSet::from([
        SaKey::Inbound(2256),
        SaKey::Inbound(2257),
        SaKey::Outbound(key(200)),
        SaKey::Outbound(key(201)),
    ]);
    assert_eq!(gone, want);
    assert_eq!(t.len(), 12);
    assert_eq!(set_works(&mut t, 2), [false; 4]);
    for b in [1, 3, 4] {
        assert_eq!(set_works(&mut t, b), [true; 4], "binding {b}");
        assert_eq!(t.binding_sas(b).count(), 4);
    }
    assert_eq!(t.binding_sas(2).count(), 0);
    assert_eq!(t.remove_binding(2), 0, "already gone");
    assert_eq!(t.remove_binding(99), 0, "never there");
}

#[test]
fn individual_removals_keep_the_list_whole() {
    let mut t = table(8);
    insert_set(&mut t, 1);
    insert_set(&mut t, 2);
    let list = |t: &SaTable| t.binding_sas(1).collect::<Vec<_>>();
    // Newest first.
    assert_eq!(
        list(&t),
        [
            SaKey::Outbound(key(101)),
            SaKey::Outbound(key(100)),
            SaKey::Inbound(1257),
            SaKey::Inbound(1256)
        ]
    );
    assert!(t.remove_outbound(&key(100)), "middle");
    assert!(t.remove_outbound(&key(101)), "head");
    assert!(t.remove_inbound(1256), "tail");
    assert_eq!(list(&t), [SaKey::Inbound(1257)]);
    assert!(!t.remove_inbound(1256));
    assert_eq!(set_works(&mut t, 1), [false, true, false, false]);
    assert_eq!(t.remove_binding(1), 1);
    assert!(t.remove_inbound(2256) && t.remove_outbound(&key(201)));
    assert_eq!(t.remove_binding(2), 2);
    assert!(t.is_empty());
    assert_eq!(t.remove_binding(2), 0);
}

#[test]
fn freed_slots_are_reused_by_other_bindings() {
    let mut t = table(4);
    insert_set(&mut t, 1);
    assert_eq!(
        t.insert_inbound(sa(9000, Direction::Inbound), 5),
        Err(TableError::Full)
    );
    for round in 0..3u64 {
        assert_eq!(t.remove_binding(1 + 2 * round), 4);
        assert!(t.is_empty());
        insert_set(&mut t, 3 + 2 * round);
        assert_eq!(set_works(&mut t, 3 + 2 * round), [true; 4]);
    }
    // Two bindings sharing the slots, interleaved.
    assert_eq!(t.remove_binding(7), 4);
    t.insert_inbound(sa(256, Direction::Inbound), 1).unwrap();
    t.insert_outbound(key(1), sa(257, Direction::Outbound), 2)
        .unwrap();
    t.insert_inbound(sa(258, Direction::Inbound), 1).unwrap();
    t.insert_outbound(key(2), sa(259, Direction::Outbound), 2)
        .unwrap();
    assert_eq!(t.remove_binding(1), 2);
    assert_eq!(
        t.binding_sas(2).collect::<Vec<_>>(),
        [SaKey::Outbound(key(2)), SaKey::Outbound(key(1))]
    );
    assert!(encaps(&mut t, 1, 257) && encaps(&mut t, 2, 259));
}

/// splitmix64: a seeded, reproducible sequence.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// The reference: a plain list of (SA, binding), searched linearly.
#[derive(Default)]
struct Model(Vec<(SaKey, u64)>);

impl Model {
    fn has(&self, k: SaKey) -> bool {
        self.0.iter().any(|(m, _)| *m == k)
    }

    fn of(&self, b: u64) -> HashSet<SaKey> {
        self.0
            .iter()
            .filter(|(_, mb)| *mb == b)
            .map(|(k, _)| *k)
            .collect()
    }

    fn remove(&mut self, k: SaKey) -> bool {
        let before = self.0.len();
        self.0.retain(|(m, _)| *m != k);
        self.0.len() != before
    }
}

const CAP: usize = 24;
const BINDINGS: u64 = 6;

fn step(t: &mut SaTable, m: &mut Model, rng: &mut Rng) {
    let b = rng.below(BINDINGS);
    let spi = 256 + rng.below(40) as u32;
    let port = rng.below(40) as u16;
    let (ik, ok) = (SaKey::Inbound(spi), SaKey::Outbound(key(port)));
    let expect_insert = |m: &Model, k| {
        if m.has(k) {
            Err(TableError::InUse)
        } else if m.0.len() == CAP {
            Err(TableError::Full)
        } else {
            Ok(())
        }
    };
    match rng.below(10) {
        0..=2 => {
            assert_eq!(
                t.insert_inbound(sa(spi, Direction::Inbound), b),
                expect_insert(m, ik)
            );
            if !m.has(ik) && m.0.len() < CAP {
                m.0.push((ik, b));
            }
        }
        3..=5 => {
            assert_eq!(
                t.insert_outbound(key(port), sa(spi, Direction::Outbound), b),
                expect_insert(m, ok)
            );
            if !m.has(ok) && m.0.len() < CAP {
                m.0.push((ok, b));
            }
        }
        6 => assert_eq!(t.remove_inbound(spi), m.remove(ik)),
        7 => assert_eq!(t.remove_outbound(&key(port)), m.remove(ok)),
        _ => {
            let want = m.of(b);
            let mut got = HashSet::new();
            assert_eq!(
                t.remove_binding_with(b, |k| assert!(got.insert(k))),
                want.len()
            );
            assert_eq!(got, want);
            m.0.retain(|(_, mb)| *mb != b);
        }
    }
}

fn check(t: &mut SaTable, m: &Model) {
    assert_eq!(t.len(), m.0.len());
    for b in 0..BINDINGS {
        let list: Vec<SaKey> = t.binding_sas(b).collect();
        assert_eq!(list.len(), m.of(b).len(), "no SA listed twice");
        assert_eq!(
            list.into_iter().collect::<HashSet<_>>(),
            m.of(b),
            "binding {b}"
        );
    }
    for spi in 256..296 {
        assert_eq!(t.inbound_mut(spi).is_some(), m.has(SaKey::Inbound(spi)));
    }
    for port in 0..40 {
        assert_eq!(
            t.outbound_mut(UE, port, IPPROTO_UDP).is_some(),
            m.has(SaKey::Outbound(key(port)))
        );
    }
}

#[test]
fn random_operations_match_a_vec_model() {
    for seed in [1u64, 0xdead_beef, 0x5eed_0042] {
        let (mut t, mut m, mut rng) = (table(CAP), Model::default(), Rng(seed));
        for _ in 0..1500 {
            step(&mut t, &mut m, &mut rng);
            check(&mut t, &m);
        }
    }
}
