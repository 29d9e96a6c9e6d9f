//! The control thread's per-call map work under std's SipHash (`RandomState`) and
//! under the seeded multiply-rotate hash of `control::fast_hash` (`FastState`): one
//! call's worth of map traffic on a table of 4,000 calls in progress (insert the
//! caller's and callee's Call-IDs and the INVITE branch, look the Call-ID up for each
//! of the call's 7 messages and the branch for each of its 3 responses, remove all).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ringcore::control::fast_hash::FastState;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Calls in progress (2,000 calls/s, 2 s each).
const LIVE: u64 = 4000;

fn keys(i: u64) -> (String, String, String) {
    (format!("{i}-4242@10.0.0.1"), format!("rc{i:x}-{:x}.5e1f0c2a@10.0.0.2:5060", i + 1), format!("z9hG4bKrc{i:x}i{:x}.5e1f0c2a", i + 2))
}

fn one_call<S: BuildHasher>(m: &mut HashMap<String, u64, S>, k: &(String, String, String), i: u64) {
    m.insert(k.0.clone(), i);
    m.insert(k.1.clone(), i);
    m.insert(k.2.clone(), i);
    for _ in 0..7 {
        black_box(m.get(k.0.as_str()));
    }
    for _ in 0..3 {
        black_box(m.get(k.2.as_str()));
    }
    m.remove(k.0.as_str());
    m.remove(k.1.as_str());
    m.remove(k.2.as_str());
}

fn run<S: BuildHasher>(c: &mut Criterion, name: &str, state: S) {
    let mut m: HashMap<String, u64, S> = HashMap::with_capacity_and_hasher(4 * LIVE as usize, state);
    for i in 0..LIVE {
        let k = keys(i);
        m.insert(k.0, i);
        m.insert(k.1, i);
        m.insert(k.2, i);
    }
    let calls: Vec<_> = (LIVE..LIVE + 1024).map(keys).collect();
    let mut n = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            let k = &calls[n % calls.len()];
            n += 1;
            one_call(&mut m, k, n as u64);
        })
    });
}

fn maps(c: &mut Criterion) {
    let k = keys(4242).1;
    let (fast, sip) = (FastState::new(), std::collections::hash_map::RandomState::new());
    c.bench_function("hash_one/fast", |b| b.iter(|| fast.hash_one(black_box(k.as_str()))));
    c.bench_function("hash_one/siphash", |b| b.iter(|| sip.hash_one(black_box(k.as_str()))));
    run(c, "call_maps/fast", FastState::new());
    run(c, "call_maps/siphash", std::collections::hash_map::RandomState::new());
}

criterion_group!(benches, maps);
criterion_main!(benches);
