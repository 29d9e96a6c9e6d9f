//! The ESP transforms: integrity (HMAC-MD5-96, RFC 2403; HMAC-SHA-1-96, RFC 2404) and
//! encryption (NULL, RFC 2410; 3DES-CBC, RFC 2451; AES-128-CBC, RFC 3602). Keys are
//! scheduled once when the SA is built; per packet only the keyed state is copied.

use aes::Aes128;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockCipher, BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use des::TdesEde3;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::EspError;
use crate::auth::ipsec_keys::{EncrAlg, IntegAlg};

/// ICV length of both HMAC-*-96 transforms (RFC 2403 2 / RFC 2404 2: 96 bits).
pub const ICV_LEN: usize = 12;
/// Largest IV of the supported ciphers (AES block).
pub const MAX_IV_LEN: usize = 16;

/// A keyed integrity transform.
#[derive(Clone)]
pub(crate) enum Integrity {
    /// No integrity (`alg=null`): no ICV, no anti-replay (RFC 4303 3.4.3).
    None,
    Md5(Hmac<Md5>),
    Sha1(Hmac<Sha1>),
}

impl Integrity {
    /// Keys the transform; the key length is the one of TS 33.203 Annex I (RFC 2403 3:
    /// 128 bits for MD5; RFC 2404 3: 160 bits for SHA-1).
    pub(crate) fn new(alg: Option<IntegAlg>, key: &[u8]) -> Result<Integrity, EspError> {
        let len_ok = match alg {
            None => key.is_empty(),
            Some(IntegAlg::HmacMd5_96) => key.len() == 16,
            Some(IntegAlg::HmacSha1_96) => key.len() == 20,
        };
        if !len_ok {
            return Err(EspError::BadKey);
        }
        Integrity::keyed(alg, key)
    }

    /// Keys the transform with a key of any length (HMAC accepts any, RFC 2104 2).
    pub(crate) fn keyed(alg: Option<IntegAlg>, key: &[u8]) -> Result<Integrity, EspError> {
        match alg {
            None => Ok(Integrity::None),
            Some(IntegAlg::HmacMd5_96) => <Hmac<Md5> as Mac>::new_from_slice(key)
                .map(Integrity::Md5)
                .map_err(|_| EspError::BadKey),
            Some(IntegAlg::HmacSha1_96) => <Hmac<Sha1> as Mac>::new_from_slice(key)
                .map(Integrity::Sha1)
                .map_err(|_| EspError::BadKey),
        }
    }

    /// ICV length in bytes.
    pub(crate) fn icv_len(&self) -> usize {
        match self {
            Integrity::None => 0,
            Integrity::Md5(_) | Integrity::Sha1(_) => ICV_LEN,
        }
    }

    /// The ICV of `data`: the HMAC truncated to its leftmost 96 bits (RFC 2104 5).
    pub(crate) fn compute(&self, data: &[u8]) -> [u8; ICV_LEN] {
        let mut icv = [0u8; ICV_LEN];
        match self {
            Integrity::None => {}
            Integrity::Md5(m) => truncate(&mut icv, &mac_of(m, data)),
            Integrity::Sha1(m) => truncate(&mut icv, &mac_of(m, data)),
        }
        icv
    }

    /// Constant-time check of `icv` (RFC 4303 3.4.4.1) against the ICV of `data`.
    pub(crate) fn verify(&self, data: &[u8], icv: &[u8]) -> bool {
        match self {
            Integrity::None => icv.is_empty(),
            _ => bool::from(self.compute(data).ct_eq(icv)),
        }
    }
}

fn mac_of<M: Mac + Clone>(keyed: &M, data: &[u8]) -> impl AsRef<[u8]> {
    let mut m = keyed.clone();
    m.update(data);
    m.finalize().into_bytes()
}

fn truncate(icv: &mut [u8; ICV_LEN], full: &impl AsRef<[u8]>) {
    for (o, b) in icv.iter_mut().zip(full.as_ref()) {
        *o = *b;
    }
}

/// A keyed encryption transform. Kept inline (not boxed): SAs live in a table reserved
/// at start-up and the key schedule is read on every packet.
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Cipher {
    Null,
    Tdes(TdesEde3),
    Aes(Aes128),
}

impl Cipher {
    /// Keys the cipher; the key length is the one of TS 33.203 Annex I.
    pub(crate) fn new(alg: EncrAlg, key: &[u8]) -> Result<Cipher, EspError> {
        match alg {
            EncrAlg::Null if key.is_empty() => Ok(Cipher::Null),
            // RFC 2451 2.2: 192-bit key (parity bits ignored).
            EncrAlg::DesEde3Cbc => TdesEde3::new_from_slice(key)
                .map(Cipher::Tdes)
                .map_err(|_| EspError::BadKey),
            // RFC 3602 2.3 with the 128-bit key of TS 33.203.
            EncrAlg::AesCbc => Aes128::new_from_slice(key)
                .map(Cipher::Aes)
                .map_err(|_| EspError::BadKey),
            EncrAlg::Null => Err(EspError::BadKey),
        }
    }

    /// True for the NULL cipher.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Cipher::Null)
    }

    /// Explicit IV length carried in each packet (RFC 3602 2.1, RFC 2451 2.4).
    pub(crate) fn iv_len(&self) -> usize {
        match self {
            Cipher::Null => 0,
            Cipher::Tdes(_) => 8,
            Cipher::Aes(_) => 16,
        }
    }

    /// The unit the ciphertext must be a multiple of: the block size, and at least 4
    /// (RFC 4303 2.4: Pad Length and Next Header end on a 4-byte boundary).
    pub(crate) fn align(&self) -> usize {
        match self {
            Cipher::Null => 4,
            Cipher::Tdes(_) => 8,
            Cipher::Aes(_) => 16,
        }
    }

    /// Encrypts `buf` (a multiple of [`Cipher::align`]) in place in CBC mode.
    pub(crate) fn encrypt(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), EspError> {
        match self {
            Cipher::Null => Ok(()),
            Cipher::Tdes(c) => cbc_encrypt(c, iv, buf),
            Cipher::Aes(c) => cbc_encrypt(c, iv, buf),
        }
    }

    /// Decrypts `buf` (a multiple of [`Cipher::align`]) in place in CBC mode.
    pub(crate) fn decrypt(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), EspError> {
        match self {
            Cipher::Null => Ok(()),
            Cipher::Tdes(c) => cbc_decrypt(c, iv, buf),
            Cipher::Aes(c) => cbc_decrypt(c, iv, buf),
        }
    }
}

fn cbc_encrypt<C>(c: &C, iv: &[u8], buf: &mut [u8]) -> Result<(), EspError>
where
    C: BlockEncryptMut + BlockCipher + Clone,
{
    let enc =
        cbc::Encryptor::<C>::inner_iv_slice_init(c.clone(), iv).map_err(|_| EspError::BadLength)?;
    let n = buf.len();
    enc.encrypt_padded_mut::<NoPadding>(buf, n)
        .map(|_| ())
        .map_err(|_| EspError::BadLength)
}

fn cbc_decrypt<C>(c: &C, iv: &[u8], buf: &mut [u8]) -> Result<(), EspError>
where
    C: BlockDecryptMut + BlockCipher + Clone,
{
    let dec =
        cbc::Decryptor::<C>::inner_iv_slice_init(c.clone(), iv).map_err(|_| EspError::BadLength)?;
    dec.decrypt_padded_mut::<NoPadding>(buf)
        .map(|_| ())
        .map_err(|_| EspError::BadLength)
}
