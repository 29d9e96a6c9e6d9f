//! The registration latency (`LatencyKind::Register`): from the first
//! unauthenticated REGISTER of an IMPI, answered with a challenge (TS 24.229
//! 5.4.1.2.1: 401), to the 200 OK of the same IMPI. Re-challenges do not
//! restart the clock; pending starts are bounded and forgotten after a minute.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::ims::hss::{normalize_impu, Hss};
use crate::sip::Message;
use crate::stats::latency::{LatencyKind, Latencies};

/// Most registrations timed at once.
const MAX_PENDING: usize = 65_536;
/// A challenge older than this is no longer timed.
const FORGET_AFTER: Duration = Duration::from_secs(60);

/// Pending registration starts by IMPI.
#[derive(Debug, Default)]
pub struct RegisterLatency {
    started: HashMap<String, Instant>,
}

impl RegisterLatency {
    /// Looks at a REGISTER and the response built for it.
    pub fn observe(&mut self, now: Instant, req: &Message<'_>, resp: &[u8], hss: &Hss, out: &mut Latencies) {
        let status = crate::stats::sip_methods::classify(resp).map_or(0, |(_, s)| s);
        if status != 401 && !(200..300).contains(&status) {
            return;
        }
        let Some(impi) = impi_of(req, hss) else { return };
        if status == 401 {
            if self.started.len() >= MAX_PENDING {
                self.started.retain(|_, t| now.saturating_duration_since(*t) < FORGET_AFTER);
            }
            if self.started.len() < MAX_PENDING {
                self.started.entry(impi).or_insert(now);
            }
            return;
        }
        if let Some(t) = self.started.remove(&impi) {
            if now.saturating_duration_since(t) < FORGET_AFTER {
                out.record(LatencyKind::Register, now.saturating_duration_since(t));
            }
        }
    }
}

/// TS 24.229 5.4.1.2.1: the private identity is the Authorization username,
/// else the owner of the public identity in To.
fn impi_of(req: &Message<'_>, hss: &Hss) -> Option<String> {
    if let Ok(Some(a)) = req.authorization() {
        if let Some(u) = a.get(b"username") {
            let u = String::from_utf8_lossy(u).trim_matches('"').to_owned();
            if !u.is_empty() {
                return Some(u);
            }
        }
    }
    let to = req.to().ok()?;
    let impu = normalize_impu(&String::from_utf8_lossy(to.uri.raw));
    hss.impi_of_impu(&impu).map(str::to_owned)
}
