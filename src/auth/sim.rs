//! The SIM algorithm choice (`sim_algo` xor / miln / tuak of the ue_db) behind one type:
//! [`SimAlgo`] is the configuration, [`Sim`] binds it to K with OPc/TOPc derived once, and
//! exposes f1, f1*, f2..f5 and f5* (TS 33.102 6.3.2) whatever the algorithm.

use super::milenage::{self, Milenage, MilenageConsts};
use super::sqn::Sqn;
use super::tuak::{self, Tuak};
use super::{xor, AuthError, Mac, Res, SessionKey};

/// Milenage operator key as configured: OP (OPc derived from it and K) or OPc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpVariant {
    /// OP, 128 bits.
    Op([u8; 16]),
    /// OPc, 128 bits.
    Opc([u8; 16]),
}

/// TUAK operator key as configured: TOP (TOPc derived) or TOPc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopVariant {
    /// TOP, 256 bits.
    Top([u8; 32]),
    /// TOPc, 256 bits.
    Topc([u8; 32]),
}

/// TUAK parameters (TS 35.231); lengths in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TuakParams {
    /// TOP or TOPc.
    pub top_or_topc: TopVariant,
    /// Number of Keccak permutations (1 in TS 35.231).
    pub keccak_iter: u32,
    /// RES length: 4, 8, 16 or 32.
    pub res_len: u8,
    /// MAC-A / MAC-S length: 8, 16 or 32.
    pub mac_len: u8,
    /// CK length: 16 or 32.
    pub ck_len: u8,
    /// IK length: 16 or 32.
    pub ik_len: u8,
}

/// The SIM authentication algorithm of a subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimAlgo {
    /// XOR test algorithm (TS 34.108 8.1.2); RES of `res_len` bytes (4..=16).
    Xor {
        /// RES length in bytes.
        res_len: u8,
    },
    /// Milenage (TS 35.206); RES is 8 bytes.
    Milenage {
        /// OP or OPc.
        op_or_opc: OpVariant,
        /// r1..r5 in bits.
        r: [u8; 5],
        /// c1..c5.
        c: [[u8; 16]; 5],
    },
    /// TUAK (TS 35.231).
    Tuak(TuakParams),
}

impl SimAlgo {
    /// Milenage with the default r and c of TS 35.206.
    pub const fn milenage(op_or_opc: OpVariant) -> SimAlgo {
        SimAlgo::Milenage {
            op_or_opc,
            r: MilenageConsts::DEFAULT.r,
            c: MilenageConsts::DEFAULT.c,
        }
    }
}

/// The algorithm with its operator constant preprocessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prepared {
    Xor {
        res_len: u8,
    },
    Milenage {
        opc: [u8; 16],
        consts: MilenageConsts,
    },
    Tuak {
        topc: [u8; 32],
        iter: u32,
        res_len: u8,
        mac_len: u8,
        ck_len: u8,
        ik_len: u8,
    },
}

/// f2..f5 outputs for one RAND.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct F2345 {
    /// RES / XRES (f2).
    pub res: Res,
    /// CK (f3).
    pub ck: SessionKey,
    /// IK (f4).
    pub ik: SessionKey,
    /// AK (f5).
    pub ak: [u8; 6],
}

/// A subscriber's secret K bound to its algorithm (the AuC's or the USIM's view).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sim {
    k: [u8; 32],
    k_len: u8,
    algo: Prepared,
}

/// Builds a `VarBytes` from a slice whose length the caller has validated.
fn var<const N: usize>(s: &[u8]) -> super::VarBytes<N> {
    // Lengths are validated in `Sim::new` (RES and keys <= 32 bytes): never falls back.
    super::VarBytes::from_slice(s).unwrap_or_default()
}

impl Sim {
    /// Validates K and the parameters and derives OPc / TOPc.
    pub fn new(k: &[u8], algo: &SimAlgo) -> Result<Sim, AuthError> {
        let mut kb = [0u8; 32];
        let prepared = match *algo {
            SimAlgo::Xor { res_len } => {
                if k.len() != 16 {
                    return Err(AuthError::BadKeyLength);
                }
                if !(4..=16).contains(&res_len) {
                    return Err(AuthError::BadResLength);
                }
                Prepared::Xor { res_len }
            }
            SimAlgo::Milenage { op_or_opc, r, c } => {
                let k16: [u8; 16] = k.try_into().map_err(|_| AuthError::BadKeyLength)?;
                let opc = match op_or_opc {
                    OpVariant::Op(op) => milenage::opc_from_op(&k16, &op),
                    OpVariant::Opc(opc) => opc,
                };
                Prepared::Milenage {
                    opc,
                    consts: MilenageConsts { r, c },
                }
            }
            SimAlgo::Tuak(p) => {
                tuak::check_key(k)?;
                let lens_ok = matches!(p.res_len, 4 | 8 | 16 | 32)
                    && matches!(p.mac_len, 8 | 16 | 32)
                    && matches!(p.ck_len, 16 | 32)
                    && matches!(p.ik_len, 16 | 32)
                    && p.keccak_iter >= 1;
                if !lens_ok {
                    return Err(AuthError::BadTuakLength);
                }
                let topc = match p.top_or_topc {
                    TopVariant::Top(top) => tuak::topc_from_top(k, &top, p.keccak_iter)?,
                    TopVariant::Topc(topc) => topc,
                };
                Prepared::Tuak {
                    topc,
                    iter: p.keccak_iter,
                    res_len: p.res_len,
                    mac_len: p.mac_len,
                    ck_len: p.ck_len,
                    ik_len: p.ik_len,
                }
            }
        };
        kb[..k.len()].copy_from_slice(k);
        Ok(Sim {
            k: kb,
            k_len: k.len() as u8,
            algo: prepared,
        })
    }

    fn key(&self) -> &[u8] {
        &self.k[..usize::from(self.k_len)]
    }

    fn k16(&self) -> [u8; 16] {
        let mut k = [0u8; 16];
        k.copy_from_slice(&self.k[..16]);
        k
    }

    /// True for the XOR test algorithm (the UE side accepts any SQN).
    pub fn is_xor(&self) -> bool {
        matches!(self.algo, Prepared::Xor { .. })
    }

    /// MAC-A / MAC-S length in bytes (8 except for TUAK).
    pub fn mac_len(&self) -> usize {
        match self.algo {
            Prepared::Tuak { mac_len, .. } => usize::from(mac_len),
            _ => 8,
        }
    }

    /// f1 (`star` false) or f1* (`star` true).
    fn f1_any(&self, star: bool, rand: &[u8; 16], sqn: Sqn, amf: [u8; 2]) -> Mac {
        let sqn = sqn.to_bytes();
        match &self.algo {
            Prepared::Xor { .. } => var(&xor::f1(&self.k16(), rand, &sqn, &amf)),
            Prepared::Milenage { opc, consts } => {
                let (a, s) = Milenage::new(&self.k16(), opc, consts).f1_both(rand, &sqn, &amf);
                var(if star { &s } else { &a })
            }
            Prepared::Tuak {
                topc,
                iter,
                mac_len,
                ..
            } => {
                let mut mac = [0u8; 32];
                let out = &mut mac[..usize::from(*mac_len)];
                // K and mac_len were validated in `new`; an error cannot occur here.
                let ok = Tuak::new(self.key(), topc, *iter)
                    .and_then(|t| t.f1(star, rand, &sqn, &amf, out));
                debug_assert!(ok.is_ok());
                var(out)
            }
        }
    }

    /// f1: MAC-A over SQN, RAND and AMF.
    pub fn f1(&self, rand: &[u8; 16], sqn: Sqn, amf: [u8; 2]) -> Mac {
        self.f1_any(false, rand, sqn, amf)
    }

    /// f1*: MAC-S for resynchronisation.
    pub fn f1_star(&self, rand: &[u8; 16], sqn: Sqn, amf: [u8; 2]) -> Mac {
        self.f1_any(true, rand, sqn, amf)
    }

    /// f2 (RES), f3 (CK), f4 (IK), f5 (AK).
    pub fn f2345(&self, rand: &[u8; 16]) -> F2345 {
        match &self.algo {
            Prepared::Xor { res_len } => {
                let o = xor::f2345(&self.k16(), rand);
                F2345 {
                    res: var(&o.xdout[..usize::from(*res_len)]),
                    ck: var(&o.ck),
                    ik: var(&o.ik),
                    ak: o.ak,
                }
            }
            Prepared::Milenage { opc, consts } => {
                let o = Milenage::new(&self.k16(), opc, consts).f2345(rand);
                F2345 {
                    res: var(&o.res),
                    ck: var(&o.ck),
                    ik: var(&o.ik),
                    ak: o.ak,
                }
            }
            Prepared::Tuak {
                topc,
                iter,
                res_len,
                ck_len,
                ik_len,
                ..
            } => {
                let (mut res, mut ck, mut ik, mut ak) = ([0u8; 32], [0u8; 32], [0u8; 32], [0u8; 6]);
                let (res, ck, ik) = (
                    &mut res[..usize::from(*res_len)],
                    &mut ck[..usize::from(*ck_len)],
                    &mut ik[..usize::from(*ik_len)],
                );
                // Lengths were validated in `new`; an error cannot occur here.
                let ok = Tuak::new(self.key(), topc, *iter)
                    .and_then(|t| t.f2345(rand, res, ck, ik, &mut ak));
                debug_assert!(ok.is_ok());
                F2345 {
                    res: var(res),
                    ck: var(ck),
                    ik: var(ik),
                    ak,
                }
            }
        }
    }

    /// f5*: AK for resynchronisation (the XOR algorithm reuses f5).
    pub fn f5_star(&self, rand: &[u8; 16]) -> [u8; 6] {
        match &self.algo {
            Prepared::Xor { .. } => xor::f2345(&self.k16(), rand).ak,
            Prepared::Milenage { opc, consts } => {
                Milenage::new(&self.k16(), opc, consts).f5_star(rand)
            }
            Prepared::Tuak { topc, iter, .. } => match Tuak::new(self.key(), topc, *iter) {
                Ok(t) => t.f5_star(rand),
                // K was validated in `new`.
                Err(_) => [0u8; 6],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_util::arr;

    #[test]
    fn milenage_op_and_opc_agree() {
        // TS 35.208 test set 1.
        let k: [u8; 16] = arr("465b5ce8b199b49faa5f0a2ee238a6bc");
        let a = Sim::new(
            &k,
            &SimAlgo::milenage(OpVariant::Op(arr("cdc202d5123e20f62b6d676ac72cb318"))),
        )
        .unwrap();
        let b = Sim::new(
            &k,
            &SimAlgo::milenage(OpVariant::Opc(arr("cd63cb71954a9f4e48a5994e37a02baf"))),
        )
        .unwrap();
        let rand = arr("23553cbe9637a89d218ae64dae47bf35");
        let sqn = Sqn::from_bytes(arr("ff9bb4d0b607"));
        assert_eq!(
            a.f1(&rand, sqn, [0xb9, 0xb9]).as_slice(),
            &arr::<8>("4a9ffac354dfafb3")
        );
        assert_eq!(
            a.f1_star(&rand, sqn, [0xb9, 0xb9]),
            b.f1_star(&rand, sqn, [0xb9, 0xb9])
        );
        assert_eq!(a.f2345(&rand), b.f2345(&rand));
        assert_eq!(b.f2345(&rand).res.as_slice(), &arr::<8>("a54211d5e3ba50bf"));
        assert_eq!(b.f5_star(&rand), arr::<6>("451e8beca43b"));
    }

    #[test]
    fn tuak_through_sim() {
        // TS 35.233 test set 4 (128-bit K, RES 128 bits, MAC 128 bits).
        let k: [u8; 16] = arr("b8da837a50652d6ac7c97da14f6acc61");
        let p = TuakParams {
            top_or_topc: TopVariant::Top(arr(
                "0952be13556c32ebc58195d9dd930493e12a9003669988ffde5fa1f0fe35cc01",
            )),
            keccak_iter: 1,
            res_len: 16,
            mac_len: 16,
            ck_len: 16,
            ik_len: 16,
        };
        let sim = Sim::new(&k, &SimAlgo::Tuak(p)).unwrap();
        let rand = arr("6887e55425a966bd86c9661a5fa72be8");
        let sqn = Sqn::from_bytes(arr("0dea2ee2c5af"));
        assert_eq!(
            sim.f1(&rand, sqn, [0xdf, 0x1e]).as_slice(),
            &arr::<16>("749214087958dd8f58bfcdf869d8ae3f")
        );
        let o = sim.f2345(&rand);
        assert_eq!(
            o.res.as_slice(),
            &arr::<16>("4041ce438e3e38e8aa96562eed83ac43")
        );
        assert_eq!(o.ak, arr::<6>("1f880d005119"));
        assert_eq!(sim.mac_len(), 16);
    }

    #[test]
    fn validation() {
        assert_eq!(
            Sim::new(&[0; 15], &SimAlgo::Xor { res_len: 8 }),
            Err(AuthError::BadKeyLength)
        );
        assert_eq!(
            Sim::new(&[0; 16], &SimAlgo::Xor { res_len: 3 }),
            Err(AuthError::BadResLength)
        );
        let p = TuakParams {
            top_or_topc: TopVariant::Topc([0; 32]),
            keccak_iter: 1,
            res_len: 12,
            mac_len: 8,
            ck_len: 16,
            ik_len: 16,
        };
        assert_eq!(
            Sim::new(&[0; 16], &SimAlgo::Tuak(p)),
            Err(AuthError::BadTuakLength)
        );
        assert!(Sim::new(&[0; 32], &SimAlgo::milenage(OpVariant::Opc([0; 16]))).is_err());
    }

    #[test]
    fn xor_res_len() {
        let sim = Sim::new(&[0; 16], &SimAlgo::Xor { res_len: 4 }).unwrap();
        assert_eq!(sim.f2345(&[0xaa; 16]).res.as_slice(), &[0xaa; 4]);
        assert!(sim.is_xor());
    }
}
