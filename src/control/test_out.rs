//! Reading the worker commands the control services produce, for their unit tests.

use crate::endpoint::ToWorker;

/// The SendStateless messages of `out` (retransmissions outside a transaction).
pub fn stateless(out: &[(u16, ToWorker)]) -> Vec<String> {
    out.iter()
        .filter_map(|(_, c)| match c {
            ToWorker::SendStateless { msg, .. } => Some(String::from_utf8_lossy(msg).into_owned()),
            _ => None,
        })
        .collect()
}

/// The ports whose media `out` removes, sorted.
pub fn removes(out: &[(u16, ToWorker)]) -> Vec<u16> {
    let mut r: Vec<u16> = out
        .iter()
        .filter_map(|(_, c)| match c {
            ToWorker::MediaRemove { port } => Some(*port),
            _ => None,
        })
        .collect();
    r.sort_unstable();
    r
}
