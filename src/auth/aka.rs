//! UMTS AKA (TS 33.102 6.3): authentication vector generation on the network side
//! (6.3.2), AUTN verification and AUTS construction on the USIM side (6.3.3) and
//! SQN_MS recovery from AUTS for resynchronisation (6.3.5).
//!
//! RAND is always supplied by the caller: nothing here draws random numbers.

use super::sim::Sim;
use super::sqn::{Sqn, UeSqnStore};
use super::{ct_eq, xor_arr, AuthError, Autn, Auts, Res, SessionKey, VarBytes};

/// AMF* used in MAC-S (TS 33.102 6.3.3: "the dummy value of all zeros").
pub const AMF_RESYNC: [u8; 2] = [0, 0];

/// An authentication vector (quintet without the RAND-derived KSI): TS 33.102 6.3.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthVector {
    /// The challenge.
    pub rand: [u8; 16],
    /// Expected response (f2).
    pub xres: Res,
    /// Cipher key (f3).
    pub ck: SessionKey,
    /// Integrity key (f4).
    pub ik: SessionKey,
    /// AUTN = SQN xor AK || AMF || MAC-A.
    pub autn: Autn,
}

/// Builds `conceal` (6 bytes) || `mid` || `mac` into a fixed-capacity buffer.
fn concat<const N: usize>(conceal: [u8; 6], mid: &[u8], mac: &[u8]) -> VarBytes<N> {
    let mut buf = [0u8; 40];
    let n = 6 + mid.len() + mac.len();
    buf[..6].copy_from_slice(&conceal);
    buf[6..6 + mid.len()].copy_from_slice(mid);
    buf[6 + mid.len()..n].copy_from_slice(mac);
    // Callers pass MACs of at most 32 bytes, so n <= 40 <= N for AUTN and <= 38 for AUTS.
    VarBytes::from_slice(&buf[..n]).unwrap_or_default()
}

/// Generates an authentication vector for `sqn` (TS 33.102 6.3.2, figure 7).
pub fn generate_vector(sim: &Sim, sqn: Sqn, amf: [u8; 2], rand: [u8; 16]) -> AuthVector {
    let mac_a = sim.f1(&rand, sqn, amf);
    let o = sim.f2345(&rand);
    let conceal = xor_arr(&sqn.to_bytes(), &o.ak);
    AuthVector {
        rand,
        xres: o.res,
        ck: o.ck,
        ik: o.ik,
        autn: concat(conceal, &amf, mac_a.as_slice()),
    }
}

/// Result of the USIM's processing of (RAND, AUTN): TS 33.102 6.3.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UeAuthOutcome {
    /// AUTN verified and SQN fresh: answer with RES.
    Success {
        /// RES (f2).
        res: Res,
        /// CK (f3).
        ck: SessionKey,
        /// IK (f4).
        ik: SessionKey,
    },
    /// MAC correct but SQN not acceptable: answer with AUTS.
    SyncFailure {
        /// AUTS = SQN_MS xor AK* || MAC-S.
        auts: Auts,
    },
    /// XMAC != MAC (or AUTN of the wrong length): the network is not authentic.
    MacFailure,
}

/// The USIM side of AKA (TS 33.102 6.3.3) for an emulated UE.
///
/// XOR test SIMs accept any SQN (their store is left untouched); other algorithms check
/// freshness against `store` (Annex C.2) and record the SQN on success.
pub fn ue_authenticate(
    sim: &Sim,
    store: &mut UeSqnStore,
    rand: &[u8; 16],
    autn: &[u8],
) -> UeAuthOutcome {
    if autn.len() != 8 + sim.mac_len() {
        return UeAuthOutcome::MacFailure;
    }
    let (head, mac) = autn.split_at(8);
    let mut conceal = [0u8; 6];
    conceal.copy_from_slice(&head[..6]);
    let amf = [head[6], head[7]];
    let o = sim.f2345(rand);
    let sqn = Sqn::from_bytes(xor_arr(&conceal, &o.ak));
    let xmac = sim.f1(rand, sqn, amf);
    if !ct_eq(xmac.as_slice(), mac) {
        return UeAuthOutcome::MacFailure;
    }
    if !sim.is_xor() && store.accept(sqn).is_err() {
        return UeAuthOutcome::SyncFailure {
            auts: make_auts(sim, rand, store.sqn_ms()),
        };
    }
    UeAuthOutcome::Success {
        res: o.res,
        ck: o.ck,
        ik: o.ik,
    }
}

/// AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S = f1*(SQN_MS, RAND, AMF*) (TS 33.102 6.3.3).
pub fn make_auts(sim: &Sim, rand: &[u8; 16], sqn_ms: Sqn) -> Auts {
    let ak_star = sim.f5_star(rand);
    let mac_s = sim.f1_star(rand, sqn_ms, AMF_RESYNC);
    concat(xor_arr(&sqn_ms.to_bytes(), &ak_star), &[], mac_s.as_slice())
}

/// Network side of resynchronisation (TS 33.102 6.3.5): verifies MAC-S of `auts` for the
/// RAND it answers and returns SQN_MS, to be fed to [`super::HeSqn::resync`].
pub fn resync_from_auts(sim: &Sim, rand: &[u8; 16], auts: &[u8]) -> Result<Sqn, AuthError> {
    if auts.len() != 6 + sim.mac_len() {
        return Err(AuthError::BadLength);
    }
    let (head, mac_s) = auts.split_at(6);
    let mut conceal = [0u8; 6];
    conceal.copy_from_slice(head);
    let sqn_ms = Sqn::from_bytes(xor_arr(&conceal, &sim.f5_star(rand)));
    let xmac_s = sim.f1_star(rand, sqn_ms, AMF_RESYNC);
    if !ct_eq(xmac_s.as_slice(), mac_s) {
        return Err(AuthError::MacFailure);
    }
    Ok(sqn_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::sim::{OpVariant, SimAlgo, TopVariant, TuakParams};
    use crate::auth::sqn::{HeSqn, SqnParams};
    use crate::auth::test_util::arr;

    fn milenage_sim(k: [u8; 16]) -> Sim {
        Sim::new(
            &k,
            &SimAlgo::milenage(OpVariant::Opc(arr("cd63cb71954a9f4e48a5994e37a02baf"))),
        )
        .unwrap()
    }

    fn rand(n: u8) -> [u8; 16] {
        [n; 16]
    }

    #[test]
    fn vector_matches_ts_35_208_set_1() {
        let sim = milenage_sim(arr("465b5ce8b199b49faa5f0a2ee238a6bc"));
        let sqn = Sqn::from_bytes(arr("ff9bb4d0b607"));
        let v = generate_vector(
            &sim,
            sqn,
            [0xb9, 0xb9],
            arr("23553cbe9637a89d218ae64dae47bf35"),
        );
        // AUTN = (ff9bb4d0b607 xor aa689c648370) || b9b9 || 4a9ffac354dfafb3.
        assert_eq!(
            v.autn.as_slice(),
            &arr::<16>("55f328b43577b9b94a9ffac354dfafb3")
        );
        assert_eq!(v.xres.as_slice(), &arr::<8>("a54211d5e3ba50bf"));
        assert_eq!(
            v.ck.as_slice(),
            &arr::<16>("b40ba9a3c58b2a05bbf0d987b21bf8cb")
        );
    }

    #[test]
    fn round_trip_network_to_ue() {
        let sim = milenage_sim([7; 16]);
        let mut he = HeSqn::new(Sqn::default(), SqnParams::DEFAULT).unwrap();
        let mut ue = UeSqnStore::new(Sqn::default(), SqnParams::DEFAULT).unwrap();
        for i in 0..3 {
            let v = generate_vector(&sim, he.next_sqn(), [0x80, 0], rand(i));
            match ue_authenticate(&sim, &mut ue, &v.rand, v.autn.as_slice()) {
                UeAuthOutcome::Success { res, ck, ik } => {
                    assert_eq!((res, ck, ik), (v.xres, v.ck, v.ik));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn sqn_out_of_range_resyncs() {
        let sim = milenage_sim([9; 16]);
        let mut he = HeSqn::new(Sqn::default(), SqnParams::DEFAULT).unwrap();
        // The USIM has already seen SEQ 1000 (e.g. used with another network).
        let mut ue = UeSqnStore::new(Sqn::from_seq_ind(1000, 0, 5), SqnParams::DEFAULT).unwrap();
        let v = generate_vector(&sim, he.next_sqn(), [0x80, 0], rand(1));
        let auts = match ue_authenticate(&sim, &mut ue, &v.rand, v.autn.as_slice()) {
            UeAuthOutcome::SyncFailure { auts } => auts,
            other => panic!("expected sync failure, got {other:?}"),
        };
        assert_eq!(auts.len(), 14);
        let sqn_ms = resync_from_auts(&sim, &v.rand, auts.as_slice()).unwrap();
        assert_eq!(sqn_ms, Sqn::from_seq_ind(1000, 0, 5));
        he.resync(sqn_ms);
        let v2 = generate_vector(&sim, he.next_sqn(), [0x80, 0], rand(2));
        assert!(matches!(
            ue_authenticate(&sim, &mut ue, &v2.rand, v2.autn.as_slice()),
            UeAuthOutcome::Success { .. }
        ));
        // A tampered AUTS is rejected.
        let mut bad = auts;
        let mut bytes = [0u8; 14];
        bytes.copy_from_slice(bad.as_slice());
        bytes[13] ^= 1;
        bad = VarBytes::from_slice(&bytes).unwrap();
        assert_eq!(
            resync_from_auts(&sim, &v.rand, bad.as_slice()),
            Err(AuthError::MacFailure)
        );
        assert_eq!(
            resync_from_auts(&sim, &v.rand, &bytes[..10]),
            Err(AuthError::BadLength)
        );
    }

    #[test]
    fn wrong_k_is_mac_failure() {
        let net = milenage_sim([1; 16]);
        let usim = milenage_sim([2; 16]);
        let mut ue = UeSqnStore::new(Sqn::default(), SqnParams::DEFAULT).unwrap();
        let v = generate_vector(&net, Sqn::from_seq_ind(1, 1, 5), [0x80, 0], rand(3));
        assert_eq!(
            ue_authenticate(&usim, &mut ue, &v.rand, v.autn.as_slice()),
            UeAuthOutcome::MacFailure
        );
        assert_eq!(
            ue_authenticate(&net, &mut ue, &v.rand, &[0u8; 5]),
            UeAuthOutcome::MacFailure
        );
    }

    #[test]
    fn xor_accepts_any_sqn() {
        let sim = Sim::new(&[0x5a; 16], &SimAlgo::Xor { res_len: 8 }).unwrap();
        let mut ue = UeSqnStore::new(Sqn::default(), SqnParams::DEFAULT).unwrap();
        let v = generate_vector(&sim, Sqn::default(), [0, 0], rand(4));
        for _ in 0..2 {
            // The same (replayed) SQN is accepted twice.
            assert!(matches!(
                ue_authenticate(&sim, &mut ue, &v.rand, v.autn.as_slice()),
                UeAuthOutcome::Success { .. }
            ));
        }
    }

    #[test]
    fn tuak_round_trip_with_long_mac() {
        let p = TuakParams {
            top_or_topc: TopVariant::Top([0x55; 32]),
            keccak_iter: 1,
            res_len: 8,
            mac_len: 16,
            ck_len: 16,
            ik_len: 16,
        };
        let sim = Sim::new(&[0xab; 16], &SimAlgo::Tuak(p)).unwrap();
        let mut ue = UeSqnStore::new(Sqn::from_seq_ind(50, 0, 5), SqnParams::DEFAULT).unwrap();
        let v = generate_vector(&sim, Sqn::from_seq_ind(3, 1, 5), [0x80, 0], rand(5));
        assert_eq!(v.autn.len(), 24);
        let UeAuthOutcome::SyncFailure { auts } =
            ue_authenticate(&sim, &mut ue, &v.rand, v.autn.as_slice())
        else {
            panic!("expected sync failure");
        };
        assert_eq!(
            resync_from_auts(&sim, &v.rand, auts.as_slice()),
            Ok(Sqn::from_seq_ind(50, 0, 5))
        );
    }
}
