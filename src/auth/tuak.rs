//! TUAK (TS 35.231): the Keccak-f[1600] based example algorithm set for f1, f1*, f2, f3,
//! f4, f5 and f5*, with TOP or TOPc, a configurable number of Keccak iterations and
//! RES 32/64/128/256, MAC 64/128/256, CK/IK 128/256 bits. Test data: TS 35.233 test sets
//! 1-6 (in the tests below).
//!
//! The 1600-bit INOUT string is held as 200 bytes in Keccak's little-endian convention.
//! TS 35.231 places each big-endian input field with its bits reversed
//! (INOUT[0..255] = TOP[255..0], ...), which in this byte layout amounts to writing the
//! field's bytes in reverse order; outputs are read back the same way.

use super::AuthError;

/// ALGONAME (TS 35.231 6.1): "TUAK1.0" in ASCII.
const ALGONAME: &[u8; 7] = b"TUAK1.0";
/// Byte offsets of the INOUT fields (TS 35.231 6.2-6.5).
const OFF_TOP: usize = 0; // bits 0..255: TOP / TOPc
const OFF_INSTANCE: usize = 32; // bits 256..263
const OFF_ALGONAME: usize = 33; // bits 264..319
const OFF_RAND: usize = 40; // bits 320..447
const OFF_AMF: usize = 56; // bits 448..463 (f1, f1* only)
const OFF_SQN: usize = 58; // bits 464..511 (f1, f1* only)
const OFF_KEY: usize = 64; // bits 512..767
const OFF_PAD_START: usize = 96; // bits 768..: padding 1 1 1 1 1 0 ... (rate 1088 bits)
const OFF_PAD_END: usize = 135; // bit 1087 = 1
/// Output offsets: RES/MAC at bit 0, CK at 256, IK at 512, AK at 768.
const OUT_CK: usize = 32;
const OUT_IK: usize = 64;
const OUT_AK: usize = 96;

/// Writes `data` at `off` with its byte order reversed (TS 35.231 bit reversal).
fn push_rev(inout: &mut [u8; 200], off: usize, data: &[u8]) {
    for (i, b) in data.iter().rev().enumerate() {
        inout[off + i] = *b;
    }
}

/// Reads `out.len()` bytes at `off` with their order reversed.
fn pull_rev(inout: &[u8; 200], off: usize, out: &mut [u8]) {
    let n = out.len();
    for (i, o) in out.iter_mut().enumerate() {
        *o = inout[off + n - 1 - i];
    }
}

/// `iterations` applications of Keccak-f[1600] on INOUT.
fn keccak_iter(inout: &mut [u8; 200], iterations: u32) {
    let mut lanes = [0u64; 25];
    for (lane, chunk) in lanes.iter_mut().zip(inout.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *lane = u64::from_le_bytes(b);
    }
    for _ in 0..iterations {
        keccak::f1600(&mut lanes);
    }
    for (lane, chunk) in lanes.iter().zip(inout.chunks_exact_mut(8)) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
}

/// Key-length bit of INSTANCE: 1 for a 256-bit K.
fn key_bit(k: &[u8]) -> u8 {
    u8::from(k.len() == 32)
}

/// Checks K is 128 or 256 bits.
pub fn check_key(k: &[u8]) -> Result<(), AuthError> {
    match k.len() {
        16 | 32 => Ok(()),
        _ => Err(AuthError::BadKeyLength),
    }
}

/// Builds INOUT from its fields, runs the permutation and returns the result.
fn run(
    top: &[u8; 32],
    instance: u8,
    rand: &[u8; 16],
    sqn_amf: Option<(&[u8; 6], &[u8; 2])>,
    k: &[u8],
    iterations: u32,
) -> [u8; 200] {
    let mut inout = [0u8; 200];
    push_rev(&mut inout, OFF_TOP, top);
    inout[OFF_INSTANCE] = instance;
    push_rev(&mut inout, OFF_ALGONAME, ALGONAME);
    push_rev(&mut inout, OFF_RAND, rand);
    if let Some((sqn, amf)) = sqn_amf {
        push_rev(&mut inout, OFF_AMF, amf);
        push_rev(&mut inout, OFF_SQN, sqn);
    }
    // A 128-bit K occupies INOUT[512..639], the rest of the key field stays zero.
    push_rev(&mut inout, OFF_KEY, k);
    inout[OFF_PAD_START] = 0x1f;
    inout[OFF_PAD_END] = 0x80;
    keccak_iter(&mut inout, iterations);
    inout
}

/// TOPc from TOP (TS 35.231 6.2). `k` must be 16 or 32 bytes.
pub fn topc_from_top(k: &[u8], top: &[u8; 32], iterations: u32) -> Result<[u8; 32], AuthError> {
    check_key(k)?;
    let mut inout = [0u8; 200];
    push_rev(&mut inout, OFF_TOP, top);
    inout[OFF_INSTANCE] = key_bit(k);
    push_rev(&mut inout, OFF_ALGONAME, ALGONAME);
    push_rev(&mut inout, OFF_KEY, k);
    inout[OFF_PAD_START] = 0x1f;
    inout[OFF_PAD_END] = 0x80;
    keccak_iter(&mut inout, iterations);
    let mut topc = [0u8; 32];
    pull_rev(&inout, 0, &mut topc);
    Ok(topc)
}

/// INSTANCE bits 3..5 for a MAC length in bytes (64 -> 001, 128 -> 010, 256 -> 100).
fn mac_bits(mac_len: usize) -> Result<u8, AuthError> {
    match mac_len {
        8 => Ok(0x08),
        16 => Ok(0x10),
        32 => Ok(0x20),
        _ => Err(AuthError::BadTuakLength),
    }
}

/// INSTANCE bits 3..5 for a RES length in bytes (32 -> 000, 64 -> 001, 128 -> 010,
/// 256 -> 100).
fn res_bits(res_len: usize) -> Result<u8, AuthError> {
    match res_len {
        4 => Ok(0x00),
        8 => Ok(0x08),
        16 => Ok(0x10),
        32 => Ok(0x20),
        _ => Err(AuthError::BadTuakLength),
    }
}

/// CK/IK length bit: 1 for 256 bits.
fn key_len_bit(len: usize) -> Result<u8, AuthError> {
    match len {
        16 => Ok(0),
        32 => Ok(1),
        _ => Err(AuthError::BadTuakLength),
    }
}

/// TUAK bound to K, TOPc and the iteration count.
pub struct Tuak<'a> {
    k: &'a [u8],
    topc: &'a [u8; 32],
    iterations: u32,
}

impl<'a> Tuak<'a> {
    /// Binds K (16 or 32 bytes), TOPc and the number of Keccak iterations.
    pub fn new(k: &'a [u8], topc: &'a [u8; 32], iterations: u32) -> Result<Self, AuthError> {
        check_key(k)?;
        Ok(Tuak {
            k,
            topc,
            iterations,
        })
    }

    /// f1 (`star` false, TS 35.231 6.3) or f1* (`star` true, 6.5) into `mac` (8/16/32 bytes).
    pub fn f1(
        &self,
        star: bool,
        rand: &[u8; 16],
        sqn: &[u8; 6],
        amf: &[u8; 2],
        mac: &mut [u8],
    ) -> Result<(), AuthError> {
        let instance = if star { 0x80 } else { 0x00 } | mac_bits(mac.len())? | key_bit(self.k);
        let inout = run(
            self.topc,
            instance,
            rand,
            Some((sqn, amf)),
            self.k,
            self.iterations,
        );
        pull_rev(&inout, 0, mac);
        Ok(())
    }

    /// f2, f3, f4, f5 (TS 35.231 6.4) into buffers whose lengths select the output sizes.
    pub fn f2345(
        &self,
        rand: &[u8; 16],
        res: &mut [u8],
        ck: &mut [u8],
        ik: &mut [u8],
        ak: &mut [u8; 6],
    ) -> Result<(), AuthError> {
        let instance = 0x40
            | res_bits(res.len())?
            | key_len_bit(ck.len())? << 2
            | key_len_bit(ik.len())? << 1
            | key_bit(self.k);
        let inout = run(self.topc, instance, rand, None, self.k, self.iterations);
        pull_rev(&inout, 0, res);
        pull_rev(&inout, OUT_CK, ck);
        pull_rev(&inout, OUT_IK, ik);
        pull_rev(&inout, OUT_AK, ak);
        Ok(())
    }

    /// f5* (TS 35.231 6.6).
    pub fn f5_star(&self, rand: &[u8; 16]) -> [u8; 6] {
        let inout = run(
            self.topc,
            0xc0 | key_bit(self.k),
            rand,
            None,
            self.k,
            self.iterations,
        );
        let mut ak = [0u8; 6];
        pull_rev(&inout, OUT_AK, &mut ak);
        ak
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_util::{arr, hex};

    /// TS 35.233 test sets 1-6: K, RAND, SQN, AMF, TOP, iterations, TOPc, f1, f1*, f2,
    /// f3, f4, f5, f5*. Output lengths follow the hex lengths.
    #[allow(clippy::type_complexity)]
    const SETS: [(
        &str,
        &str,
        &str,
        &str,
        &str,
        u32,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
        &str,
    ); 6] = [
        (
            "abababababababababababababababab",
            "42424242424242424242424242424242",
            "111111111111",
            "ffff",
            "5555555555555555555555555555555555555555555555555555555555555555",
            1,
            "bd04d9530e87513c5d837ac2ad954623a8e2330c115305a73eb45d1f40cccbff",
            "f9a54e6aeaa8618d",
            "e94b4dc6c7297df3",
            "657acd64",
            "d71a1e5c6caffe986a26f783e5c78be1",
            "be849fa2564f869aecee6f62d4337e72",
            "719f1e9b9054",
            "e7af6b3d0e38",
        ),
        (
            "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0",
            "0123456789abcdef0123456789abcdef",
            "0123456789ab",
            "abcd",
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
            1,
            "305425427e18c503c8a4b294ea72c95d0c36c6c6b29d0c65de5974d5977f8524",
            "c0b8c2d4148ec7aa5f1d78a97e4d1d58",
            "ef81af7290f7842c6ceafa537fa0745b",
            "e9d749dc4eea0035",
            "a4cb6f6529ab17f8337f27baa8234d47",
            "2274155ccf4199d5e2abcbf621907f90",
            "480a9345cc1e",
            "f84eb338848c",
        ),
        (
            "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0",
            "0123456789abcdef0123456789abcdef",
            "0123456789ab",
            "abcd",
            "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
            1,
            "305425427e18c503c8a4b294ea72c95d0c36c6c6b29d0c65de5974d5977f8524",
            "d97b75a1776065271b1e212bc3b1bf173f438b21e6c64a55a96c372e085e5cc5",
            "427bbf07c6e3a86c54f8c5216499f3909a6fd4a164c9fe235b1550258111b821",
            "07021c73e7635c7d",
            "4d59ac796834eb85d11fa148a5058c3c",
            "126d47500136fdc5ddfd14f19ebf16749ce4b6435323fbb5715a3a796a6082bd",
            "1d6622c4e59a",
            "f84eb338848c",
        ),
        (
            "b8da837a50652d6ac7c97da14f6acc61",
            "6887e55425a966bd86c9661a5fa72be8",
            "0dea2ee2c5af",
            "df1e",
            "0952be13556c32ebc58195d9dd930493e12a9003669988ffde5fa1f0fe35cc01",
            1,
            "2bc16eb657a68e1f446f08f57c0efb1d493527a2e652ce281eb6ca0e4487760a",
            "749214087958dd8f58bfcdf869d8ae3f",
            "619e865afe80e382aee13063f9dfb56d",
            "4041ce438e3e38e8aa96562eed83ac43",
            "3e3bc01bea0cd914c4c2c83ce2d92757",
            "666a8e6f577b1aa77b7fd53cebb8a3d6",
            "1f880d005119",
            "45e617d77fe5",
        ),
        (
            "1574ca56881d05c189c82880f789c9cd4244955f4426aa2b69c29f15770e5aa5",
            "c570aac68cde651fb1e3088322498bef",
            "c89bb71f3a41",
            "297d",
            "e59f6eb10ea406813f4991b0b9e02f181edf4c7e17b480f66d34da35ee88c95e",
            1,
            "3c6052e41532a28a47aa3cbb89f223e8f3aaa976aecd48bc3e7d6165a55eff62",
            "d7340dad02b4cb01",
            "c6021e2e66accb15",
            "84d89b41db1867ffd4c7ba1d82163f4d526a20fbae5418fbb526940b1eeb905c",
            "d419676afe5ab58c1d8bee0d43523a4d2f52ef0b31a4676a0c334427a988fe65",
            "205533e505661b61d05cc0eac87818f4",
            "d7b3d2d4980a",
            "ca9655264986",
        ),
        (
            "1574ca56881d05c189c82880f789c9cd4244955f4426aa2b69c29f15770e5aa5",
            "c570aac68cde651fb1e3088322498bef",
            "c89bb71f3a41",
            "297d",
            "e59f6eb10ea406813f4991b0b9e02f181edf4c7e17b480f66d34da35ee88c95e",
            2,
            "b04a66f26c62fcd6c82de22a179ab65506ecf47f56245cd149966cfa9cec7a51",
            "90d2289ed1ca1c3dbc2247bb480d431ac71d2e4a7677f6e997cfddb0cbad88b7",
            "427355dbac30e825063aba61b556e87583abac638e3ab01c4c884ad9d458dc2f",
            "d67e6e64590d22eecba7324afa4af4460c93f01b24506d6e12047d789a94c867",
            "ede57edfc57cdffe1aae75066a1b7479bbc3837438e88d37a801cccc9f972b89",
            "48ed9299126e5057402fe01f9201cf25249f9c5c0ed2afcf084755daff1d3999",
            "6aae8d18c448",
            "8c5f33b61f4e",
        ),
    ];

    #[test]
    fn ts_35_233_test_sets() {
        for (n, s) in SETS.iter().enumerate() {
            let set = n + 1;
            let k = hex(s.0);
            let rand: [u8; 16] = arr(s.1);
            let topc = topc_from_top(&k, &arr(s.4), s.5).unwrap();
            assert_eq!(topc, arr::<32>(s.6), "TOPc, test set {set}");
            let t = Tuak::new(&k, &topc, s.5).unwrap();
            let (want_mac_a, want_mac_s) = (hex(s.7), hex(s.8));
            let mut mac = vec![0u8; want_mac_a.len()];
            t.f1(false, &rand, &arr(s.2), &arr(s.3), &mut mac).unwrap();
            assert_eq!(mac, want_mac_a, "f1, test set {set}");
            t.f1(true, &rand, &arr(s.2), &arr(s.3), &mut mac).unwrap();
            assert_eq!(mac, want_mac_s, "f1*, test set {set}");
            let (want_res, want_ck, want_ik) = (hex(s.9), hex(s.10), hex(s.11));
            let mut res = vec![0u8; want_res.len()];
            let mut ck = vec![0u8; want_ck.len()];
            let mut ik = vec![0u8; want_ik.len()];
            let mut ak = [0u8; 6];
            t.f2345(&rand, &mut res, &mut ck, &mut ik, &mut ak).unwrap();
            assert_eq!(res, want_res, "f2, test set {set}");
            assert_eq!(ck, want_ck, "f3, test set {set}");
            assert_eq!(ik, want_ik, "f4, test set {set}");
            assert_eq!(ak, arr::<6>(s.12), "f5, test set {set}");
            assert_eq!(t.f5_star(&rand), arr::<6>(s.13), "f5*, test set {set}");
        }
    }

    #[test]
    fn rejects_bad_lengths() {
        let topc = [0u8; 32];
        assert_eq!(
            Tuak::new(&[0u8; 20], &topc, 1).err(),
            Some(AuthError::BadKeyLength)
        );
        let t = Tuak::new(&[0u8; 16], &topc, 1).unwrap();
        let mut mac = [0u8; 12];
        assert_eq!(
            t.f1(false, &[0; 16], &[0; 6], &[0; 2], &mut mac),
            Err(AuthError::BadTuakLength)
        );
    }
}
