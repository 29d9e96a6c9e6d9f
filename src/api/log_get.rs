//! The waiting rules of log_get (seed 000 6.5): answer once `min` logs are
//! available, or `max` logs / `max_size` bytes are reached, or, with at least
//! one log, once no new log has come for `timeout`; with `allow_empty`, an
//! empty answer is sent after `timeout`. A new log_get on the same connection
//! forces the pending one out ("previous one will be sent without matching
//! min/max/timeout conditions").

use std::time::Instant;

use serde_json::Value;

use super::context::LogAvailability;
use super::request::LogGet;

/// A log_get waiting for logs or for its timeout.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingLogGet {
    /// The request.
    pub req: LogGet,
    /// Its message_id, echoed in the response.
    pub message_id: Option<Value>,
    /// Logs available at the last check.
    seen: usize,
    /// When `seen` last changed (or the request arrived).
    since: Instant,
}

impl PendingLogGet {
    /// A request received at `now`.
    pub fn new(now: Instant, req: LogGet, message_id: Option<Value>) -> PendingLogGet {
        PendingLogGet { req, message_id, seen: 0, since: now }
    }

    /// Decides at `now`, given what is available, whether to answer now.
    pub fn is_ready(&mut self, now: Instant, avail: LogAvailability) -> bool {
        if avail.count != self.seen {
            // New logs restart the quiet period.
            self.seen = avail.count;
            self.since = now;
        }
        let full = avail.count >= self.req.max as usize || avail.bytes >= self.req.max_size;
        let enough = avail.count >= self.req.min as usize && (avail.count > 0 || self.req.allow_empty);
        let quiet = now >= self.since + self.req.timeout;
        if full || enough {
            return true;
        }
        if quiet && (avail.count > 0 || self.req.allow_empty) {
            return true;
        }
        if quiet {
            // Nothing to send and empty answers refused: look again one timeout later,
            // so a missed logs_changed notification only delays the answer.
            self.since = now;
        }
        false
    }

    /// When the request must be looked at again.
    pub fn deadline(&self) -> Instant {
        self.since + self.req.timeout
    }
}
