//! The identifiers ringcore mints — Call-IDs, tags and Via branches — end in a random
//! instance token chosen once per process. RFC 3261 8.1.1.4 asks for Call-IDs unique over
//! space and time, 19.3 for globally unique tags and 8.1.1.7 for branches unique across
//! time: counters alone repeat after a restart, and a peer that outlives it (a long-running
//! SIPp UAS, a phone) would take the new calls for retransmissions of old ones.

use std::sync::OnceLock;

/// RFC 3261 8.1.1.7: every branch ringcore mints starts with the magic cookie and `rc`,
/// then says which service sent the request, so a response is handed to that service
/// without asking the others: `rcs` SMS (sms.rs), `rcm` MT calls (mt_call.rs), `rce` echo
/// (echo.rs), `rcn` reg-event NOTIFY (regevent.rs). A relayed call's branch is `rc` and
/// the call number in hex, which may itself start with `e`.
pub const BRANCH_SMS: &str = "z9hG4bKrcs";
/// The branch prefix of requests of relayed calls (see [`BRANCH_SMS`]).
pub const BRANCH_CALL: &str = "z9hG4bKrc";
/// The branch prefix of requests of MT calls (see [`BRANCH_SMS`]).
pub const BRANCH_MT: &str = "z9hG4bKrcm";
/// The branch prefix of requests of the echo service (see [`BRANCH_SMS`]).
pub const BRANCH_ECHO: &str = "z9hG4bKrce";

/// The services a response with Via branch `branch` can belong to (see [`BRANCH_SMS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchOwner {
    /// An SMS MESSAGE ringcore sent.
    Sms,
    /// An MT call's request.
    Mt,
    /// The echo service's request, or a relayed call whose number starts with `e`.
    EchoOrCall,
    /// A relayed call's request (or nothing ringcore knows).
    Call,
}

impl BranchOwner {
    /// The owner that the prefix of `branch` names.
    pub fn of(branch: &[u8]) -> BranchOwner {
        if branch.starts_with(BRANCH_SMS.as_bytes()) {
            BranchOwner::Sms
        } else if branch.starts_with(BRANCH_MT.as_bytes()) {
            BranchOwner::Mt
        } else if branch.starts_with(BRANCH_ECHO.as_bytes()) {
            BranchOwner::EchoOrCall
        } else {
            BranchOwner::Call
        }
    }
}

/// Eight hex digits, random per process (from the process's randomly keyed hasher).
pub fn instance() -> &'static str {
    static INSTANCE: OnceLock<String> = OnceLock::new();
    INSTANCE.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        h.write_u32(std::process::id());
        format!("{:08x}", h.finish() as u32)
    })
}

/// One piece of a minted identifier (see [`mint`]).
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// Copied as is.
    Str(&'a str),
    /// Written in lowercase hex without leading zeros (as `{:x}` does).
    Hex(u64),
}

/// The concatenation of `parts`, in one allocation of its exact size and without the
/// formatting machinery: every call mints several tags, Call-IDs and branches.
pub fn mint(parts: &[Part<'_>]) -> String {
    let len: usize = parts.iter().map(|p| match p {
        Part::Str(s) => s.len(),
        Part::Hex(n) => hex_len(*n),
    }).sum();
    let mut out = String::with_capacity(len);
    for p in parts {
        match p {
            Part::Str(s) => out.push_str(s),
            Part::Hex(n) => push_hex(&mut out, *n),
        }
    }
    out
}

/// Number of hex digits of `n` (at least one).
fn hex_len(n: u64) -> usize {
    (64 - n.leading_zeros() as usize).div_ceil(4).max(1)
}

/// Appends `n` in lowercase hex without leading zeros.
pub fn push_hex(out: &mut String, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for i in (0..hex_len(n)).rev() {
        // (n >> 4i) & 15 < 16: always a valid index of DIGITS.
        out.push(char::from(DIGITS[((n >> (4 * i)) & 15) as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::{mint, BranchOwner, Part};

    #[test]
    fn branch_prefixes_name_their_service() {
        assert_eq!(BranchOwner::of(b"z9hG4bKrcs1f.0a0b0c0d"), BranchOwner::Sms);
        assert_eq!(BranchOwner::of(b"z9hG4bKrcm3.0a0b0c0d"), BranchOwner::Mt);
        assert_eq!(BranchOwner::of(b"z9hG4bKrce7.0a0b0c0d"), BranchOwner::EchoOrCall);
        // A relayed call numbered 0xe5: the echo is asked first, then the calls.
        assert_eq!(BranchOwner::of(b"z9hG4bKrce5i1.0a0b0c0d"), BranchOwner::EchoOrCall);
        assert_eq!(BranchOwner::of(b"z9hG4bKrc1fi2.0a0b0c0d"), BranchOwner::Call);
        assert_eq!(BranchOwner::of(b"z9hG4bK776asdhds"), BranchOwner::Call);
    }
    #[test]
    fn instance_is_stable_in_a_process_and_is_a_token() {
        let a = super::instance();
        assert_eq!(a, super::instance());
        assert!(a.len() == 8 && a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn mint_writes_hex_as_format_does() {
        for n in [0u64, 1, 0xf, 0x10, 0xabc, 0x1234_5678_9abc_def0, u64::MAX] {
            assert_eq!(mint(&[Part::Str("z"), Part::Hex(n), Part::Str(".")]), format!("z{n:x}."));
        }
        let s = mint(&[Part::Str("rc"), Part::Hex(0x2a), Part::Str("-"), Part::Hex(7), Part::Str("@h")]);
        assert_eq!((s.as_str(), s.capacity()), ("rc2a-7@h", 8));
    }
}
