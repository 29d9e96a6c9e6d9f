//! Fuzz userspace ESP (RFC 4303) decapsulation: any bytes given to an inbound SA of each
//! transform must give an error or a payload span inside the packet, never a panic; the
//! same bytes encapsulated by the matching outbound SA must decapsulate back to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcore::auth::ipsec_keys::{EncrAlg, IntegAlg};
use ringcore::ipsec::natt::classify;
use ringcore::ipsec::{Direction, Sa, SaParams};

const SPI: u32 = 0x1234;

fn sa(sel: u8, direction: Direction) -> Sa {
    let (integ, integ_key, encr, encr_key): (_, &[u8], _, &[u8]) = match sel % 4 {
        0 => (
            Some(IntegAlg::HmacSha1_96),
            &[1; 20],
            EncrAlg::AesCbc,
            &[2; 16],
        ),
        1 => (Some(IntegAlg::HmacMd5_96), &[1; 16], EncrAlg::Null, &[]),
        2 => (
            Some(IntegAlg::HmacSha1_96),
            &[1; 20],
            EncrAlg::DesEde3Cbc,
            &[2; 24],
        ),
        _ => (None, &[], EncrAlg::AesCbc, &[2; 16]),
    };
    let p = SaParams {
        spi: SPI,
        direction,
        integ,
        integ_key,
        encr,
        encr_key,
        replay_window: 64,
    };
    Sa::new(&p).expect("fixed keys have the right lengths")
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let _ = classify(rest);
    let mut rx = sa(sel, Direction::Inbound);
    let mut pkt = rest.to_vec();
    if let Ok(inner) = rx.decap(&mut pkt) {
        assert!(inner.payload.end <= pkt.len());
    }
    let mut tx = sa(sel, Direction::Outbound);
    let mut out = vec![0u8; tx.encap_len(rest.len())];
    let n = tx
        .encap(rest, 17, &mut |iv: &mut [u8]| iv.fill(sel), &mut out)
        .expect("buffer sized by encap_len");
    let mut rx = sa(sel, Direction::Inbound);
    let inner = rx.decap(&mut out[..n]).expect("own packet decapsulates");
    assert_eq!(&out[inner.payload], rest);
});
