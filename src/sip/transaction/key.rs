//! Transaction keys: what identifies a transaction when matching (RFC 3261 17.1.3, 17.2.3).
//!
//! A key is the length-prefixed concatenation of its fields. It is stored inline and fixed
//! size: the first [`KEY_INLINE`] bytes, the total length and a keyed SipHash digest of the
//! whole concatenation. Two keys are equal when all three are; keys up to `KEY_INLINE` bytes
//! (every realistic branch + sent-by + method) are thus compared exactly, longer ones by
//! their first `KEY_INLINE` bytes plus a 64-bit digest keyed per process, which an attacker
//! cannot aim collisions at. Building a key never allocates.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::message::TxMessage;

/// Bytes of a key stored inline.
pub const KEY_INLINE: usize = 96;

/// RFC 3261 8.1.1.7: the branch of an RFC 3261 compliant request starts with this cookie.
pub const MAGIC_COOKIE: &[u8] = b"z9hG4bK";

/// Which matching rule produced a key; keeps client and server keys apart.
#[derive(Clone, Copy)]
enum Rule {
    Client = 1,
    Server = 2,
    Rfc2543 = 3,
}

/// A fixed-size transaction key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TxKey {
    digest: u64,
    len: u32,
    head: [u8; KEY_INLINE],
}

impl TxKey {
    /// The digest, used to place the key in the index.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// True for a key made by the RFC 2543 rule (a request without the magic cookie).
    pub fn is_rfc2543(&self) -> bool {
        self.head[0] == Rule::Rfc2543 as u8
    }
}

/// Builds keys with a per-layer random SipHash key.
pub struct Keyer {
    state: RandomState,
}

/// The digest covers the whole concatenation. While it fits `head` it is hashed there in
/// one write at the end (a write per field costs more than the bytes); the first field
/// that overflows hashes `head` and is then streamed, so the digest is the same either way.
struct Builder {
    hasher: std::collections::hash_map::DefaultHasher,
    key: TxKey,
    /// `head` went into the hasher: later bytes are written to it directly.
    streaming: bool,
}

impl Builder {
    fn bytes(&mut self, bytes: &[u8]) {
        let start = self.key.len as usize;
        let room = self.key.head.get_mut(start..).unwrap_or_default();
        let n = room.len().min(bytes.len());
        if let (Some(dst), Some(src)) = (room.get_mut(..n), bytes.get(..n)) {
            dst.copy_from_slice(src);
        }
        if n < bytes.len() || self.streaming {
            if !self.streaming {
                self.hasher.write(&self.key.head);
                self.streaming = true;
            }
            self.hasher.write(bytes.get(n..).unwrap_or_default());
        }
        self.key.len = self.key.len.saturating_add(bytes.len() as u32);
    }

    /// The digest of everything given to [`bytes`](Self::bytes).
    fn digest(mut self) -> (u64, TxKey) {
        if !self.streaming {
            let len = (self.key.len as usize).min(KEY_INLINE);
            self.hasher.write(self.key.head.get(..len).unwrap_or_default());
        }
        (self.hasher.finish(), self.key)
    }

    /// One field: a 4-byte length (u32::MAX when absent) then the bytes.
    fn field(&mut self, field: Option<&[u8]>) -> &mut Self {
        let len = field.map_or(u32::MAX, |f| f.len() as u32);
        self.bytes(&len.to_le_bytes());
        self.bytes(field.unwrap_or(&[]));
        self
    }
}

impl Keyer {
    /// A keyer with a fresh random SipHash key.
    pub fn new() -> Self {
        Keyer {
            state: RandomState::new(),
        }
    }

    fn start(&self, rule: Rule) -> Builder {
        let mut b = Builder {
            hasher: self.state.build_hasher(),
            key: TxKey {
                digest: 0,
                len: 0,
                head: [0; KEY_INLINE],
            },
            streaming: false,
        };
        b.bytes(&[rule as u8]);
        b
    }

    fn finish(b: Builder) -> TxKey {
        let (digest, mut key) = b.digest();
        key.digest = digest;
        key
    }

    /// Digest of an optional field (used for To tags in RFC 2543 matching).
    pub fn digest(&self, field: Option<&[u8]>) -> u64 {
        let mut b = self.start(Rule::Rfc2543);
        b.field(field);
        b.digest().0
    }

    /// RFC 3261 17.1.3: a response matches a client transaction by the top Via branch and
    /// the CSeq method (CANCEL shares the INVITE's branch).
    pub fn client(&self, branch: &[u8], method: &[u8]) -> TxKey {
        let mut b = self.start(Rule::Client);
        b.field(Some(branch)).field(Some(method));
        Self::finish(b)
    }

    /// RFC 3261 17.2.3: the server transaction key of `msg`, looked up as if its method were
    /// `method` (INVITE for an ACK, or for the transaction a CANCEL targets). With a magic
    /// cookie branch: branch + sent-by + method. Otherwise the RFC 2543 fallback: Request-URI,
    /// From tag, Call-ID, CSeq number, top Via (sent-by and branch), `to_tag` and method.
    pub fn server<M: TxMessage>(&self, msg: &M, method: &[u8], to_tag: Option<&[u8]>) -> TxKey {
        match msg.top_via_branch() {
            Some(branch) if branch.starts_with(MAGIC_COOKIE) => {
                let mut b = self.start(Rule::Server);
                b.field(Some(branch))
                    .field(Some(msg.top_via_sent_by()))
                    .field(Some(method));
                Self::finish(b)
            }
            branch => {
                let mut b = self.start(Rule::Rfc2543);
                b.field(Some(msg.request_uri()))
                    .field(msg.from_tag())
                    .field(Some(msg.call_id()))
                    .field(Some(&msg.cseq().0.to_le_bytes()))
                    .field(Some(msg.top_via_sent_by()))
                    .field(branch)
                    .field(to_tag)
                    .field(Some(method));
                Self::finish(b)
            }
        }
    }
}

/// True if `msg` is matched by the RFC 2543 fallback rule (no magic cookie in its branch).
pub fn is_rfc2543<M: TxMessage>(msg: &M) -> bool {
    !msg.top_via_branch()
        .is_some_and(|b| b.starts_with(MAGIC_COOKIE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest is the hash of the whole length-prefixed concatenation, whether it fits
    /// inline or streams past `KEY_INLINE`.
    #[test]
    fn digest_covers_the_whole_concatenation() {
        let keyer = Keyer::new();
        for branch_len in [0, 10, 80, 85, 86, 87, 95, 96, 200] {
            let branch = vec![b'b'; branch_len];
            let key = keyer.client(&branch, b"INVITE");
            let mut whole = vec![Rule::Client as u8];
            for f in [&branch[..], b"INVITE"] {
                whole.extend_from_slice(&(f.len() as u32).to_le_bytes());
                whole.extend_from_slice(f);
            }
            let mut h = keyer.state.build_hasher();
            h.write(&whole);
            assert_eq!(key.digest(), h.finish(), "branch of {branch_len}");
            assert_eq!(key.len as usize, whole.len());
            assert_eq!(&key.head[..whole.len().min(KEY_INLINE)], &whole[..whole.len().min(KEY_INLINE)]);
            assert!(key == keyer.client(&branch, b"INVITE"));
            assert!(key != keyer.client(&branch, b"BYE"));
        }
        assert_eq!(keyer.digest(Some(b"t1")), keyer.digest(Some(b"t1")));
        assert_ne!(keyer.digest(Some(b"t1")), keyer.digest(None));
    }
}
