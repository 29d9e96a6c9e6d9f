//! The XOR test algorithm of the test USIM (TS 34.108 8.1.2), used by test SIM cards.
//!
//! XDOUT = K xor RAND; RES = XDOUT truncated; CK = XDOUT rotated left by 8 bits;
//! IK = XDOUT rotated left by 16 bits; AK = XDOUT bits 24..71; MAC = XDOUT bits 0..63
//! xor (SQN || AMF). The test algorithm has no distinct f1*/f5*: this implementation uses
//! the same construction for MAC-S (with AMF* = 0) and AK* as for MAC-A and AK.

/// Outputs of f2..f5 of the XOR algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XorF2345 {
    /// XDOUT; RES is its first `res_len` bytes.
    pub xdout: [u8; 16],
    /// CK = XDOUT[8..127] || XDOUT[0..7].
    pub ck: [u8; 16],
    /// IK = XDOUT[16..127] || XDOUT[0..15].
    pub ik: [u8; 16],
    /// AK = XDOUT[24..71].
    pub ak: [u8; 6],
}

/// XDOUT = K xor RAND (34.108 8.1.2.1).
fn xdout(k: &[u8; 16], rand: &[u8; 16]) -> [u8; 16] {
    super::xor_arr(k, rand)
}

/// f2, f3, f4, f5 of the test algorithm.
pub fn f2345(k: &[u8; 16], rand: &[u8; 16]) -> XorF2345 {
    let x = xdout(k, rand);
    let mut ck = x;
    ck.rotate_left(1);
    let mut ik = x;
    ik.rotate_left(2);
    let mut ak = [0u8; 6];
    ak.copy_from_slice(&x[3..9]);
    XorF2345 {
        xdout: x,
        ck,
        ik,
        ak,
    }
}

/// f1 (and f1*): XMAC = XDOUT[0..63] xor CDOUT with CDOUT = SQN || AMF (34.108 8.1.2.1).
pub fn f1(k: &[u8; 16], rand: &[u8; 16], sqn: &[u8; 6], amf: &[u8; 2]) -> [u8; 8] {
    let x = xdout(k, rand);
    let mut cdout = [0u8; 8];
    cdout[0..6].copy_from_slice(sqn);
    cdout[6..8].copy_from_slice(amf);
    let mut mac = [0u8; 8];
    for (m, (a, b)) in mac.iter_mut().zip(x.iter().zip(cdout.iter())) {
        *m = a ^ b;
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::test_util::arr;

    // Worked example computed by hand from the 34.108 definitions.
    const K: &str = "000102030405060708090a0b0c0d0e0f";
    const RAND: &str = "ffffffffffffffffffffffffffffffff";

    #[test]
    fn outputs_follow_34_108() {
        let o = f2345(&arr(K), &arr(RAND));
        assert_eq!(o.xdout, arr::<16>("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0"));
        assert_eq!(o.ck, arr::<16>("fefdfcfbfaf9f8f7f6f5f4f3f2f1f0ff"));
        assert_eq!(o.ik, arr::<16>("fdfcfbfaf9f8f7f6f5f4f3f2f1f0fffe"));
        assert_eq!(o.ak, arr::<6>("fcfbfaf9f8f7"));
    }

    #[test]
    fn mac_is_xdout_xor_sqn_amf() {
        let mac = f1(&arr(K), &arr(RAND), &arr("000000000001"), &arr("8000"));
        assert_eq!(mac, arr::<8>("fffefdfcfbfb79f8"));
    }
}
