//! The identifiers ringcore mints — Call-IDs, tags and Via branches — end in a random
//! instance token chosen once per process. RFC 3261 8.1.1.4 asks for Call-IDs unique over
//! space and time, 19.3 for globally unique tags and 8.1.1.7 for branches unique across
//! time: counters alone repeat after a restart, and a peer that outlives it (a long-running
//! SIPp UAS, a phone) would take the new calls for retransmissions of old ones.

use std::sync::OnceLock;

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

#[cfg(test)]
mod tests {
    #[test]
    fn instance_is_stable_in_a_process_and_is_a_token() {
        let a = super::instance();
        assert_eq!(a, super::instance());
        assert!(a.len() == 8 && a.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
