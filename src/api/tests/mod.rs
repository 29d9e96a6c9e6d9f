//! Tests of the API envelope, the request validation, log_get timing and the
//! server, driven with a fake `ApiContext` and a virtual clock.

mod envelope;
mod messages;
mod mutation;
mod server;

use serde_json::{json, Map, Value};

use super::context::{ApiContext, LogAvailability, LogBatch, Reply};
use super::request::{ConfigSet, LogGet, LogSet, Stats};
use super::request_ims::*;

/// A context that records every call and keeps a log buffer.
#[derive(Default)]
pub(crate) struct FakeCtx {
    /// Calls as "name: {request:?}".
    pub calls: Vec<String>,
    /// Stored logs (index = position).
    pub logs: Vec<String>,
}

impl FakeCtx {
    fn record(&mut self, name: &str, req: &dyn std::fmt::Debug) -> Reply {
        self.calls.push(format!("{name}: {req:?}"));
        Ok(Map::new())
    }

    pub fn last_call(&self) -> &str {
        self.calls.last().map_or("", String::as_str)
    }
}

impl ApiContext for FakeCtx {
    fn config_get(&mut self) -> Reply {
        self.calls.push("config_get".into());
        Ok(json!({"logs": {"layers": {}}}).as_object().cloned().unwrap_or_default())
    }
    fn config_set(&mut self, req: &ConfigSet) -> Reply {
        self.record("config_set", req)
    }
    fn log_set(&mut self, req: &LogSet) -> Reply {
        self.record("log_set", req)
    }
    fn log_reset(&mut self) -> Reply {
        self.record("log_reset", &())
    }
    fn log_available(&mut self, _req: &LogGet, cursor: u64) -> LogAvailability {
        let count = self.logs.len().saturating_sub(cursor as usize);
        LogAvailability { count, bytes: count * 10 }
    }
    fn log_take(&mut self, req: &LogGet, cursor: u64) -> LogBatch {
        let from = (cursor as usize).min(self.logs.len());
        let to = (from + req.max as usize).min(self.logs.len());
        let logs = self.logs[from..to].iter().map(|l| json!({"data": [l]})).collect();
        LogBatch { logs, next_cursor: to as u64, discontinuity: None }
    }
    fn stats(&mut self, req: &Stats) -> Reply {
        self.record("stats", req)
    }
    fn quit(&mut self) -> Reply {
        self.record("quit", &())
    }
    fn ipsec(&mut self) -> Reply {
        self.record("ipsec", &())
    }
    fn users_get(&mut self, req: &UsersGet) -> Reply {
        self.record("users_get", req)
    }
    fn users_add(&mut self, req: &UsersAdd) -> Reply {
        self.record("users_add", req)
    }
    fn user_set(&mut self, req: &UserSet) -> Reply {
        self.record("user_set", req)
    }
    fn impu_set(&mut self, req: &ImpuSet) -> Reply {
        self.record("impu_set", req)
    }
    fn impu_add(&mut self, req: &ImpuChange) -> Reply {
        self.record("impu_add", req)
    }
    fn impu_del(&mut self, req: &ImpuChange) -> Reply {
        self.record("impu_del", req)
    }
    fn sms(&mut self, req: &Sms) -> Reply {
        self.record("sms", req)
    }
    fn sms_flush(&mut self, req: &SmsFlush) -> Reply {
        self.record("sms_flush", req)
    }
    fn mt_call(&mut self, req: &MtCall) -> Reply {
        self.calls.push(format!("mt_call: {req:?}"));
        Ok(json!({"session_id": "s1"}).as_object().cloned().unwrap_or_default())
    }
    fn dialog_get(&mut self, req: &DialogGet) -> Reply {
        self.record("dialog_get", req)
    }
    fn dialog_set(&mut self, req: &DialogSet) -> Reply {
        if req.session_id == "nope" {
            return Err("Dialog not found: nope".into());
        }
        self.record("dialog_set", req)
    }
    fn unregister(&mut self, req: &Unregister) -> Reply {
        self.record("unregister", req)
    }
}

/// Parses a JSON test literal.
pub(crate) fn j(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("bad test JSON {text}: {e}"))
}
