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
