//! Seeded pseudo-random mutations of the fixtures: the reader may reject
//! them but must never panic (or overflow its stack).

use std::fs;

use super::{data_dir, load};

use crate::testkit::XorShift;

/// Bytes that are meaningful to the lexer, to reach interesting states.
const ALPHABET: &[u8] =
    b"{}[](),:+-*/!&|=<>#\"`$\\\n /IX0123456789.eE_abcdefdefineifelseendifinclude";

fn mutate(rng: &mut XorShift, text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    for _ in 0..=rng.below(8) {
        let pos = rng.below(out.len() + 1);
        let byte = ALPHABET[rng.below(ALPHABET.len())];
        match rng.below(4) {
            0 => out.insert(pos, byte),
            1 if pos < out.len() => {
                out.remove(pos);
            }
            2 if pos < out.len() => out[pos] = byte,
            _ => {
                let from = rng.below(out.len());
                let len = rng.below(16).min(out.len() - from.min(out.len()));
                let chunk: Vec<u8> = out[from..from + len].to_vec();
                out.splice(pos..pos, chunk);
            }
        }
    }
    out
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut fixtures: Vec<_> = fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let (mut accepted, mut rejected) = (0, 0);
    for path in &fixtures {
        let text = fs::read(path).unwrap();
        for _ in 0..1000 {
            let mutated = mutate(&mut rng, &text);
            let text = String::from_utf8_lossy(&mutated);
            match load(&text) {
                Ok(_) => accepted += 1,
                Err(e) => {
                    assert!(e.loc.line >= 1 && e.loc.column >= 1, "{e}");
                    rejected += 1;
                }
            }
        }
    }
    assert!(
        accepted > 0 && rejected > 0,
        "accepted {accepted}, rejected {rejected}"
    );
}
