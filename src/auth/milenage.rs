//! Milenage (TS 35.206): the AES-128 based example algorithm set for f1, f1*, f2, f3, f4,
//! f5 and f5*, with OP or OPc and customisable r1..r5 / c1..c5. Test data: TS 35.207 /
//! TS 35.208 test sets 1-6 (in the tests below).

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;

use super::xor_arr;

/// The rotation amounts r1..r5 (bits, 0..=127) and constants c1..c5 (TS 35.206 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MilenageConsts {
    /// r1..r5 in bits; values are taken modulo 128.
    pub r: [u8; 5],
    /// c1..c5, 128 bits each.
    pub c: [[u8; 16]; 5],
}

const fn c_with_last(b: u8) -> [u8; 16] {
    let mut c = [0u8; 16];
    c[15] = b;
    c
}

impl MilenageConsts {
    /// The default values of TS 35.206 4.1: r = 64, 0, 32, 64, 96 and c1 = 0,
    /// c2 = ..01, c3 = ..02, c4 = ..04, c5 = ..08.
    pub const DEFAULT: MilenageConsts = MilenageConsts {
        r: [64, 0, 32, 64, 96],
        c: [
            c_with_last(0),
            c_with_last(1),
            c_with_last(2),
            c_with_last(4),
            c_with_last(8),
        ],
    };
}

impl Default for MilenageConsts {
    fn default() -> Self {
        MilenageConsts::DEFAULT
    }
}

/// Outputs of f2, f3, f4 and f5 for one RAND.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MilenageF2345 {
    /// RES (f2), 64 bits.
    pub res: [u8; 8],
    /// CK (f3).
    pub ck: [u8; 16],
    /// IK (f4).
    pub ik: [u8; 16],
    /// AK (f5).
    pub ak: [u8; 6],
}

/// Milenage bound to one subscriber key K and OPc.
pub struct Milenage<'a> {
    cipher: Aes128,
    opc: [u8; 16],
    consts: &'a MilenageConsts,
}

fn encrypt(cipher: &Aes128, block: [u8; 16]) -> [u8; 16] {
    let mut b = GenericArray::from(block);
    cipher.encrypt_block(&mut b);
    b.into()
}

/// rot(x, r): cyclic rotation of the 128-bit string by r bits towards the most
/// significant bit (TS 35.206 4.1).
fn rot(x: [u8; 16], r: u8) -> [u8; 16] {
    u128::from_be_bytes(x)
        .rotate_left(u32::from(r) % 128)
        .to_be_bytes()
}

/// OPc = OP xor E[OP]K (TS 35.206 4.1).
pub fn opc_from_op(k: &[u8; 16], op: &[u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(&GenericArray::from(*k));
    xor_arr(&encrypt(&cipher, *op), op)
}

impl<'a> Milenage<'a> {
    /// Binds K, OPc and the constants.
    pub fn new(k: &[u8; 16], opc: &[u8; 16], consts: &'a MilenageConsts) -> Self {
        Milenage {
            cipher: Aes128::new(&GenericArray::from(*k)),
            opc: *opc,
            consts,
        }
    }

    /// TEMP = E[RAND xor OPc]K.
    fn temp(&self, rand: &[u8; 16]) -> [u8; 16] {
        encrypt(&self.cipher, xor_arr(rand, &self.opc))
    }

    /// OUTi = E[rot(TEMP xor OPc, ri) xor ci]K xor OPc for i = 2..=5 (index 1..=4).
    fn out(&self, temp: &[u8; 16], i: usize) -> [u8; 16] {
        let (r, c) = (self.consts.r[i], &self.consts.c[i]);
        let x = xor_arr(&rot(xor_arr(temp, &self.opc), r), c);
        xor_arr(&encrypt(&self.cipher, x), &self.opc)
    }

    /// OUT1 = E[TEMP xor rot(IN1 xor OPc, r1) xor c1]K xor OPc, IN1 = SQN||AMF||SQN||AMF.
    /// Returns (f1 = MAC-A, f1* = MAC-S).
    pub fn f1_both(&self, rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> ([u8; 8], [u8; 8]) {
        let temp = self.temp(rand);
        let mut in1 = [0u8; 16];
        in1[0..6].copy_from_slice(sqn);
        in1[6..8].copy_from_slice(amf);
        in1[8..14].copy_from_slice(sqn);
        in1[14..16].copy_from_slice(amf);
        let x = xor_arr(
            &xor_arr(&temp, &rot(xor_arr(&in1, &self.opc), self.consts.r[0])),
            &self.consts.c[0],
        );
        let out1 = xor_arr(&encrypt(&self.cipher, x), &self.opc);
        let mut mac_a = [0u8; 8];
        let mut mac_s = [0u8; 8];
        mac_a.copy_from_slice(&out1[0..8]);
        mac_s.copy_from_slice(&out1[8..16]);
        (mac_a, mac_s)
    }

    /// f2 (RES = OUT2[64..127]), f3 (CK = OUT3), f4 (IK = OUT4), f5 (AK = OUT2[0..47]).
    pub fn f2345(&self, rand: &[u8; 16]) -> MilenageF2345 {
        let temp = self.temp(rand);
        let out2 = self.out(&temp, 1);
        let mut res = [0u8; 8];
        let mut ak = [0u8; 6];
        res.copy_from_slice(&out2[8..16]);
        ak.copy_from_slice(&out2[0..6]);
        MilenageF2345 {
            res,
            ck: self.out(&temp, 2),
            ik: self.out(&temp, 3),
            ak,
        }
    }

    /// f5* (AK for resynchronisation = OUT5[0..47]).
    pub fn f5_star(&self, rand: &[u8; 16]) -> [u8; 6] {
        let out5 = self.out(&self.temp(rand), 4);
        let mut ak = [0u8; 6];
        ak.copy_from_slice(&out5[0..6]);
        ak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_util::arr;

    /// TS 35.207 section 4 / TS 35.208 section 4, test sets 1-6:
    /// K, RAND, SQN, AMF, OP, OPc, f1, f1*, f2, f5, f3, f4, f5*.
    const SETS: [[&str; 13]; 6] = [
        [
            "465b5ce8b199b49faa5f0a2ee238a6bc",
            "23553cbe9637a89d218ae64dae47bf35",
            "ff9bb4d0b607",
            "b9b9",
            "cdc202d5123e20f62b6d676ac72cb318",
            "cd63cb71954a9f4e48a5994e37a02baf",
            "4a9ffac354dfafb3",
            "01cfaf9ec4e871e9",
            "a54211d5e3ba50bf",
            "aa689c648370",
            "b40ba9a3c58b2a05bbf0d987b21bf8cb",
            "f769bcd751044604127672711c6d3441",
            "451e8beca43b",
        ],
        [
            "0396eb317b6d1c36f19c1c84cd6ffd16",
            "c00d603103dcee52c4478119494202e8",
            "fd8eef40df7d",
            "af17",
            "ff53bade17df5d4e793073ce9d7579fa",
            "53c15671c60a4b731c55b4a441c0bde2",
            "5df5b31807e258b0",
            "a8c016e51ef4a343",
            "d3a628ed988620f0",
            "c47783995f72",
            "58c433ff7a7082acd424220f2b67c556",
            "21a8c1f929702adb3e738488b9f5c5da",
            "30f1197061c1",
        ],
        [
            "fec86ba6eb707ed08905757b1bb44b8f",
            "9f7c8d021accf4db213ccff0c7f71a6a",
            "9d0277595ffc",
            "725c",
            "dbc59adcb6f9a0ef735477b7fadf8374",
            "1006020f0a478bf6b699f15c062e42b3",
            "9cabc3e99baf7281",
            "95814ba2b3044324",
            "8011c48c0c214ed2",
            "33484dc2136b",
            "5dbdbb2954e8f3cde665b046179a5098",
            "59a92d3b476a0443487055cf88b2307b",
            "deacdd848cc6",
        ],
        [
            "9e5944aea94b81165c82fbf9f32db751",
            "ce83dbc54ac0274a157c17f80d017bd6",
            "0b604a81eca8",
            "9e09",
            "223014c5806694c007ca1eeef57f004f",
            "a64a507ae1a2a98bb88eb4210135dc87",
            "74a58220cba84c49",
            "ac2cc74a96871837",
            "f365cd683cd92e96",
            "f0b9c08ad02e",
            "e203edb3971574f5a94b0d61b816345d",
            "0c4524adeac041c4dd830d20854fc46b",
            "6085a86c6f63",
        ],
        [
            "4ab1deb05ca6ceb051fc98e77d026a84",
            "74b0cd6031a1c8339b2b6ce2b8c4a186",
            "e880a1b580b6",
            "9f07",
            "2d16c5cd1fdf6b22383584e3bef2a8d8",
            "dcf07cbd51855290b92a07a9891e523e",
            "49e785dd12626ef2",
            "9e85790336bb3fa2",
            "5860fc1bce351e7e",
            "31e11a609118",
            "7657766b373d1c2138f307e3de9242f9",
            "1c42e960d89b8fa99f2744e0708ccb53",
            "fe2555e54aa9",
        ],
        [
            "6c38a116ac280c454f59332ee35c8c4f",
            "ee6466bc96202c5a557abbeff8babf63",
            "414b98222181",
            "4464",
            "1ba00a1a7c6700ac8c3ff3e96ad08725",
            "3803ef5363b947c6aaa225e58fae3934",
            "078adfb488241a57",
            "80246b8d0186bcf1",
            "16c8233f05a0ac28",
            "45b0f69ab06c",
            "3f8c7587fe8e4b233af676aede30ba3b",
            "a7466cc1e6b2a1337d49d3b66e95d7b4",
            "1f53cd2b1113",
        ],
    ];

    #[test]
    fn ts_35_208_test_sets() {
        for (n, s) in SETS.iter().enumerate() {
            let k: [u8; 16] = arr(s[0]);
            let opc = opc_from_op(&k, &arr(s[4]));
            assert_eq!(opc, arr::<16>(s[5]), "OPc, test set {}", n + 1);
            let m = Milenage::new(&k, &opc, &MilenageConsts::DEFAULT);
            let rand = arr(s[1]);
            let (mac_a, mac_s) = m.f1_both(&rand, &arr(s[2]), &arr(s[3]));
            assert_eq!(mac_a, arr::<8>(s[6]), "f1, test set {}", n + 1);
            assert_eq!(mac_s, arr::<8>(s[7]), "f1*, test set {}", n + 1);
            let o = m.f2345(&rand);
            assert_eq!(o.res, arr::<8>(s[8]), "f2, test set {}", n + 1);
            assert_eq!(o.ak, arr::<6>(s[9]), "f5, test set {}", n + 1);
            assert_eq!(o.ck, arr::<16>(s[10]), "f3, test set {}", n + 1);
            assert_eq!(o.ik, arr::<16>(s[11]), "f4, test set {}", n + 1);
            assert_eq!(m.f5_star(&rand), arr::<6>(s[12]), "f5*, test set {}", n + 1);
        }
    }

    #[test]
    fn custom_constants_change_output() {
        let k = [0x11; 16];
        let opc = [0x22; 16];
        let custom = MilenageConsts {
            r: [0, 8, 16, 24, 32],
            ..MilenageConsts::DEFAULT
        };
        let a = Milenage::new(&k, &opc, &MilenageConsts::DEFAULT).f2345(&[3; 16]);
        let b = Milenage::new(&k, &opc, &custom).f2345(&[3; 16]);
        assert_ne!(a.ck, b.ck);
    }

    #[test]
    fn rot_is_towards_msb() {
        let mut x = [0u8; 16];
        x[1] = 0x80;
        let y = rot(x, 8);
        assert_eq!(y[0], 0x80);
        assert_eq!(rot(x, 128), x);
    }
}
