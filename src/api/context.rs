//! The boundary between the remote API and the rest of the server: the
//! control thread implements `ApiContext`, one method per message family, and
//! answers with the response members (or an error text).

use serde_json::{Map, Value};

use super::request::{ConfigSet, LogGet, LogSet, Stats};
use super::request_ims::{DialogGet, DialogSet, ImpuChange, ImpuSet, MtCall, Sms, SmsFlush, Unregister, UserSet, UsersAdd, UsersGet};

/// Response members to add next to `message` and `message_id`, or the text of
/// the `error` member (seed 000 6.3).
pub type Reply = Result<Map<String, Value>, String>;

/// How many logs matching a log_get are available after a cursor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogAvailability {
    /// Matching logs after the cursor (the context may stop counting at `max`).
    pub count: usize,
    /// Approximate JSON size of those logs in bytes.
    pub bytes: usize,
}

/// Logs taken for a log_get response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogBatch {
    /// log_get.logs items (at most `max`, within `max_size`).
    pub logs: Vec<Value>,
    /// Cursor after the last log taken (the next log index).
    pub next_cursor: u64,
    /// log_get.discontinuity: logs lost to buffer overflow since the cursor.
    pub discontinuity: Option<u64>,
}

/// What the control thread provides to the remote API.
pub trait ApiContext {
    /// config_get: `logs`, `custom_headers`... (`type`, `name`, `locked` are added by the API).
    fn config_get(&mut self) -> Reply;
    /// config_set (`logs` is already removed when com_logs_lock is set).
    fn config_set(&mut self, req: &ConfigSet) -> Reply;
    /// log_set.
    fn log_set(&mut self, req: &LogSet) -> Reply;
    /// log_reset.
    fn log_reset(&mut self) -> Reply;
    /// Availability of logs matching `req` with index >= `cursor`.
    fn log_available(&mut self, req: &LogGet, cursor: u64) -> LogAvailability;
    /// Takes logs matching `req` with index >= `cursor`.
    fn log_take(&mut self, req: &LogGet, cursor: u64) -> LogBatch;
    /// stats: `cpu`, `instance_id`, `counters` (and reset the statistics).
    fn stats(&mut self, req: &Stats) -> Reply;
    /// quit: terminate the server after the response is sent.
    fn quit(&mut self) -> Reply;
    /// ipsec: `SAs`.
    fn ipsec(&mut self) -> Reply;
    /// users_get: `users`.
    fn users_get(&mut self, req: &UsersGet) -> Reply;
    /// users_add.
    fn users_add(&mut self, req: &UsersAdd) -> Reply;
    /// user_set.
    fn user_set(&mut self, req: &UserSet) -> Reply;
    /// impu_set.
    fn impu_set(&mut self, req: &ImpuSet) -> Reply;
    /// impu_add.
    fn impu_add(&mut self, req: &ImpuChange) -> Reply;
    /// impu_del.
    fn impu_del(&mut self, req: &ImpuChange) -> Reply;
    /// sms.
    fn sms(&mut self, req: &Sms) -> Reply;
    /// sms_flush.
    fn sms_flush(&mut self, req: &SmsFlush) -> Reply;
    /// mt_call: `session_id`.
    fn mt_call(&mut self, req: &MtCall) -> Reply;
    /// dialog_get: `dialogs`.
    fn dialog_get(&mut self, req: &DialogGet) -> Reply;
    /// dialog_set.
    fn dialog_set(&mut self, req: &DialogSet) -> Reply;
    /// unregister: network deregistration of a binding.
    fn unregister(&mut self, req: &Unregister) -> Reply;
}

/// A context that supports nothing: every message is answered with the error
/// "Not supported" and no log is ever available (placeholder, fuzzing).
#[derive(Clone, Copy, Debug, Default)]
pub struct NullContext;

fn unsupported() -> Reply {
    Err("Not supported".into())
}

impl ApiContext for NullContext {
    fn config_get(&mut self) -> Reply {
        unsupported()
    }
    fn config_set(&mut self, _: &ConfigSet) -> Reply {
        unsupported()
    }
    fn log_set(&mut self, _: &LogSet) -> Reply {
        unsupported()
    }
    fn log_reset(&mut self) -> Reply {
        unsupported()
    }
    fn log_available(&mut self, _: &LogGet, _: u64) -> LogAvailability {
        LogAvailability::default()
    }
    fn log_take(&mut self, _: &LogGet, cursor: u64) -> LogBatch {
        LogBatch { next_cursor: cursor, ..LogBatch::default() }
    }
    fn stats(&mut self, _: &Stats) -> Reply {
        unsupported()
    }
    fn quit(&mut self) -> Reply {
        unsupported()
    }
    fn ipsec(&mut self) -> Reply {
        unsupported()
    }
    fn users_get(&mut self, _: &UsersGet) -> Reply {
        unsupported()
    }
    fn users_add(&mut self, _: &UsersAdd) -> Reply {
        unsupported()
    }
    fn user_set(&mut self, _: &UserSet) -> Reply {
        unsupported()
    }
    fn impu_set(&mut self, _: &ImpuSet) -> Reply {
        unsupported()
    }
    fn impu_add(&mut self, _: &ImpuChange) -> Reply {
        unsupported()
    }
    fn impu_del(&mut self, _: &ImpuChange) -> Reply {
        unsupported()
    }
    fn sms(&mut self, _: &Sms) -> Reply {
        unsupported()
    }
    fn sms_flush(&mut self, _: &SmsFlush) -> Reply {
        unsupported()
    }
    fn mt_call(&mut self, _: &MtCall) -> Reply {
        unsupported()
    }
    fn dialog_get(&mut self, _: &DialogGet) -> Reply {
        unsupported()
    }
    fn dialog_set(&mut self, _: &DialogSet) -> Reply {
        unsupported()
    }
    fn unregister(&mut self, _: &Unregister) -> Reply {
        unsupported()
    }
}
