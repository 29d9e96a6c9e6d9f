//! Fuzz target for the auth decoders and digest computations: AKA nonce and AUTS
//! decoding (with re-encoding round trips), UE-side AUTN processing and network-side AUTS
//! verification on decoded values, and digest responses over arbitrary fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringcore::auth::digest::{
    aka_password, compute_response, decode_aka_nonce, decode_auts, encode_aka_nonce, encode_auts,
    verify_response, AkaVersion, DigestInput, Qop, MAX_AUTS_CHARS, MAX_NONCE_CHARS,
};
use ringcore::auth::{
    resync_from_auts, ue_authenticate, OpVariant, Sim, SimAlgo, Sqn, SqnParams, UeSqnStore,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Fixed K and OPc: valid by construction.
    let sim =
        Sim::new(&[0x11; 16], &SimAlgo::milenage(OpVariant::Opc([0x22; 16]))).expect("valid SIM");

    if let Ok(nonce) = decode_aka_nonce(&text) {
        let mut buf = [0u8; MAX_NONCE_CHARS];
        let n = encode_aka_nonce(
            &nonce.rand,
            &nonce.autn,
            nonce.server_data.as_slice(),
            &mut buf,
        )
        .expect("a decoded nonce re-encodes");
        let again = decode_aka_nonce(core::str::from_utf8(&buf[..n]).expect("base64 is ASCII"))
            .expect("re-encoded nonce decodes");
        assert_eq!(again, nonce);
        let mut store =
            UeSqnStore::new(Sqn::default(), SqnParams::DEFAULT).expect("default params");
        let _ = ue_authenticate(&sim, &mut store, &nonce.rand, &nonce.autn);
    }

    if let Ok(auts) = decode_auts(&text) {
        let mut buf = [0u8; MAX_AUTS_CHARS];
        let n = encode_auts(auts.as_slice(), &mut buf).expect("decoded AUTS re-encodes");
        assert_eq!(
            decode_auts(core::str::from_utf8(&buf[..n]).expect("ASCII")).ok(),
            Some(auts)
        );
        let _ = resync_from_auts(&sim, &[0x42; 16], auts.as_slice());
    }

    // Digest over fields split at NUL bytes.
    let mut f = data.split(|&b| b == 0);
    let mut next = || f.next().unwrap_or(b"");
    let (username, realm, res, method, uri, nonce, nc, cnonce) = (
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
    );
    let password = aka_password(AkaVersion::V2, res, uri, nonce);
    let qop = if nc.is_empty() {
        Qop::None
    } else {
        Qop::Auth { nc, cnonce }
    };
    let input = DigestInput {
        username,
        realm,
        password: password.as_slice(),
        method,
        uri,
        nonce,
        qop,
        body: data,
    };
    let expected = compute_response(&input);
    assert!(verify_response(&expected, expected.as_bytes()));
    let _ = verify_response(&expected, data);
});
