//! In-memory ring of the last `com_log_count` records (section 5.2), read by the remote
//! API's `log_get` and cleared by `log_reset` (section 6.5).
//!
//! The log writer thread pushes one entry per record; the control thread reads. It is kept
//! behind a `Mutex` (see `service`): the lock is taken by the writer once per record and by
//! the control thread once per `log_get`, never by a worker, so it is off the packet path
//! and a lock-free structure would buy nothing.

use std::collections::VecDeque;

use serde_json::{json, Map, Value};

use super::format::{write_addr, write_message, write_payload};
use super::record::Record;
use super::types::{Dir, Layer, Level, LevelFilter, Origin, Timestamp};

/// `com_log_count` default (section 5.2).
pub const COM_LOG_COUNT_DEFAULT: usize = 8192;
/// `com_log_count` lower bound.
pub const COM_LOG_COUNT_MIN: usize = 4096;
/// `com_log_count` upper bound.
pub const COM_LOG_COUNT_MAX: usize = 2_097_152;

/// One kept record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Log index, increasing by one per record (`log_get.logs.idx`).
    pub idx: u64,
    /// Event time.
    pub time: Timestamp,
    /// Layer.
    pub layer: Layer,
    /// Level.
    pub level: Level,
    /// Direction.
    pub dir: Dir,
    /// Id / address / media column.
    pub origin: Origin,
    /// Message line then payload lines, separated by `\n`.
    pub text: String,
}

/// Parameters of a `log_get` read (section 6.5). `min`, `timeout` and `allow_empty` are
/// the API's waiting policy and are not handled here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogQuery {
    /// `max`: at most this many logs (default 4096).
    pub max: usize,
    /// `layers`: maximum level per layer; None = every layer at debug.
    pub layers: Option<[LevelFilter; Layer::COUNT]>,
    /// `start_timestamp`: drop logs older than this (ms since 1970).
    pub start_timestamp: Option<u64>,
    /// `end_timestamp`: drop logs more recent than this (ms since 1970).
    pub end_timestamp: Option<u64>,
    /// `max_size`: bound on the serialized size of the logs (default 1 MiB).
    pub max_size: usize,
    /// `short`: only the first line of each log.
    pub short: bool,
    /// `headers`: attach the log file headers (to the first returned log).
    pub headers: bool,
    /// Last index the client received (None = from the oldest kept log).
    pub after_index: Option<u64>,
}

impl Default for LogQuery {
    fn default() -> Self {
        LogQuery {
            max: 4096,
            layers: None,
            start_timestamp: None,
            end_timestamp: None,
            max_size: 1 << 20,
            short: false,
            headers: false,
            after_index: None,
        }
    }
}

/// Answer of [`LogRing::get`].
#[derive(Clone, Debug, PartialEq)]
pub struct LogBatch {
    /// `logs` items in the `log_get` shape.
    pub logs: Vec<Value>,
    /// `discontinuity`: logs lost to ring overflow since `after_index`.
    pub discontinuity: Option<u64>,
    /// Pass as the next `after_index` (last index scanned), None when nothing was scanned.
    pub next_after: Option<u64>,
}

impl LogBatch {
    /// `{"logs": [...], "discontinuity": n}` (discontinuity only when set).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("logs".into(), Value::Array(self.logs.clone()));
        if let Some(n) = self.discontinuity {
            m.insert("discontinuity".into(), n.into());
        }
        Value::Object(m)
    }
}

/// The ring.
#[derive(Debug)]
pub struct LogRing {
    entries: VecDeque<LogEntry>,
    capacity: usize,
    next_idx: u64,
    /// Every index below this one was evicted by overflow (not by `reset`).
    evicted_below: u64,
    headers: Vec<String>,
    src: String,
}

impl LogRing {
    /// A ring keeping `capacity` entries (at least 1; the configuration enforces
    /// `COM_LOG_COUNT_MIN..=COM_LOG_COUNT_MAX`). `src` is the server name (`logs.src`).
    pub fn new(capacity: usize, src: &str) -> LogRing {
        LogRing {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            next_idx: 0,
            evicted_below: 0,
            headers: Vec::new(),
            src: src.to_owned(),
        }
    }

    /// Sets the log file headers returned when `headers` is asked.
    pub fn set_headers(&mut self, headers: Vec<String>) {
        self.headers = headers;
    }

    /// Kept entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Index of the newest entry.
    pub fn last_index(&self) -> Option<u64> {
        self.entries.back().map(|e| e.idx)
    }

    /// `log_reset`: forgets every entry (indices keep increasing).
    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// Keeps a formatted copy of `rec`, evicting the oldest entry when full. Returns its index.
    pub fn push(&mut self, rec: &Record) -> u64 {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = write_message(&mut text, rec);
        if rec.payload_total > 0 {
            text.push('\n');
            let _ = write_payload(&mut text, rec, "");
            text.pop(); // the payload's final '\n'
        }
        self.push_entry(
            rec.time,
            rec.head.layer,
            rec.head.level,
            rec.head.dir,
            rec.head.origin,
            text,
        )
    }

    fn push_entry(
        &mut self,
        time: Timestamp,
        layer: Layer,
        level: Level,
        dir: Dir,
        origin: Origin,
        text: String,
    ) -> u64 {
        if self.entries.len() >= self.capacity {
            if let Some(old) = self.entries.pop_front() {
                self.evicted_below = old.idx + 1;
            }
        }
        let idx = self.next_idx;
        self.next_idx += 1;
        self.entries.push_back(LogEntry {
            idx,
            time,
            layer,
            level,
            dir,
            origin,
            text,
        });
        idx
    }

    /// `log_get`: the entries after `q.after_index` that pass the filters, in order.
    pub fn get(&self, q: &LogQuery) -> LogBatch {
        let from = q.after_index.map_or(0, |i| i.saturating_add(1));
        let discontinuity = match q.after_index {
            Some(_) if self.evicted_below > from => Some(self.evicted_below - from),
            _ => None,
        };
        let start = self.entries.partition_point(|e| e.idx < from);
        let mut batch = LogBatch {
            logs: Vec::new(),
            discontinuity,
            next_after: None,
        };
        let mut size = 0usize;
        for e in self.entries.iter().skip(start) {
            if batch.logs.len() >= q.max {
                break;
            }
            if !self.passes(e, q) {
                batch.next_after = Some(e.idx);
                continue;
            }
            let v = self.entry_json(e, q, batch.logs.is_empty());
            let len = v.to_string().len() + 1;
            if !batch.logs.is_empty() && size + len > q.max_size {
                break;
            }
            size += len;
            batch.logs.push(v);
            batch.next_after = Some(e.idx);
        }
        batch
    }

    fn passes(&self, e: &LogEntry, q: &LogQuery) -> bool {
        let ms = e.time.as_millis();
        let level_ok = q
            .layers
            .map_or(true, |l| l[e.layer.index()].allows(e.level));
        level_ok
            && q.start_timestamp.map_or(true, |t| ms >= t)
            && q.end_timestamp.map_or(true, |t| ms <= t)
    }

    fn entry_json(&self, e: &LogEntry, q: &LogQuery, first: bool) -> Value {
        let data: Vec<&str> = if q.short {
            e.text.lines().take(1).collect()
        } else {
            e.text.split('\n').collect()
        };
        let mut v = json!({
            "data": data,
            "timestamp": e.time.as_millis(),
            "layer": e.layer.tag(),
            "level": e.level.name(),
            "src": self.src,
            "idx": e.idx,
        });
        let Some(m) = v.as_object_mut() else { return v };
        if e.dir != Dir::None {
            m.insert("dir".into(), e.dir.as_str().into());
        }
        match e.origin {
            Origin::Id(id) | Origin::Media { id, .. } => {
                m.insert("ue_id".into(), id.into());
            }
            Origin::Addr(a) => {
                let mut s = String::new();
                let _ = write_addr(&mut s, a);
                m.insert("addr".into(), s.into());
            }
            Origin::None => {}
        }
        if q.headers && first {
            m.insert("headers".into(), self.headers.clone().into());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::record::{Head, PayloadKind};

    fn rec(ms: u64, layer: Layer, level: Level, msg: &str) -> Box<Record> {
        let mut r = Record::empty();
        r.fill(
            Timestamp(ms * 1000),
            Head::new(layer, level),
            format_args!("{msg}"),
        );
        r
    }

    fn fill(ring: &mut LogRing, n: u64) {
        for i in 0..n {
            ring.push(&rec(1000 + i, Layer::Sip, Level::Info, &format!("m{i}")));
        }
    }

    fn msgs(b: &LogBatch) -> Vec<String> {
        b.logs
            .iter()
            .map(|v| v["data"][0].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    #[test]
    fn count_is_bounded() {
        let mut ring = LogRing::new(COM_LOG_COUNT_MIN, "IMS");
        fill(&mut ring, COM_LOG_COUNT_MIN as u64 + 10);
        assert_eq!(ring.len(), COM_LOG_COUNT_MIN);
        let b = ring.get(&LogQuery {
            max: 2,
            ..LogQuery::default()
        });
        assert_eq!(msgs(&b), ["m10", "m11"]);
        assert_eq!(b.next_after, Some(11));
    }

    #[test]
    fn entry_shape() {
        let mut ring = LogRing::new(8, "IMS");
        let mut r = rec(1_714_125_912_345, Layer::Sip, Level::Debug, "INVITE");
        r.head = r.head.dir(Dir::From).origin(Origin::Id(4));
        r.attach(
            Vec::with_capacity(64),
            PayloadKind::Text,
            b"INVITE sip:a SIP/2.0\r\nCSeq: 1 INVITE\r\n",
            64,
        );
        ring.push(&r);
        ring.set_headers(vec!["ringcore 0.1".into()]);
        let b = ring.get(&LogQuery {
            headers: true,
            ..LogQuery::default()
        });
        assert_eq!(
            b.to_json(),
            json!({"logs": [{
                "data": ["INVITE", "INVITE sip:a SIP/2.0", "CSeq: 1 INVITE"],
                "timestamp": 1_714_125_912_345u64, "layer": "SIP", "level": "debug",
                "dir": "FROM", "ue_id": 4, "src": "IMS", "idx": 0,
                "headers": ["ringcore 0.1"]
            }]})
        );
        let short = ring.get(&LogQuery {
            short: true,
            ..LogQuery::default()
        });
        assert_eq!(short.logs[0]["data"], json!(["INVITE"]));
        assert!(short.logs[0].get("headers").is_none());
    }

    #[test]
    fn filters_by_layer_level_and_time() {
        let mut ring = LogRing::new(16, "IMS");
        ring.push(&rec(1000, Layer::Sip, Level::Debug, "sip-debug"));
        ring.push(&rec(2000, Layer::Sip, Level::Info, "sip-info"));
        ring.push(&rec(3000, Layer::Cx, Level::Error, "cx-error"));
        ring.push(&rec(4000, Layer::Ims, Level::Info, "ims-info"));
        let mut layers = [LevelFilter::None; Layer::COUNT];
        layers[Layer::Sip.index()] = LevelFilter::Info;
        layers[Layer::Cx.index()] = LevelFilter::Error;
        let b = ring.get(&LogQuery {
            layers: Some(layers),
            ..LogQuery::default()
        });
        assert_eq!(msgs(&b), ["sip-info", "cx-error"]);
        assert_eq!(b.next_after, Some(3), "skipped entries are scanned too");
        let b = ring.get(&LogQuery {
            start_timestamp: Some(2000),
            end_timestamp: Some(3000),
            ..LogQuery::default()
        });
        assert_eq!(msgs(&b), ["sip-info", "cx-error"]);
    }

    #[test]
    fn after_index_max_size_and_discontinuity() {
        let mut ring = LogRing::new(4, "IMS");
        fill(&mut ring, 3);
        let b = ring.get(&LogQuery::default());
        assert_eq!(
            (b.logs.len(), b.discontinuity, b.next_after),
            (3, None, Some(2))
        );
        fill(&mut ring, 6); // idx 3..=8; ring keeps 5..=8, 3 and 4 were lost
        let b = ring.get(&LogQuery {
            after_index: Some(2),
            ..LogQuery::default()
        });
        assert_eq!(b.discontinuity, Some(2));
        assert_eq!(b.logs[0]["idx"], 5);
        assert_eq!(b.to_json()["discontinuity"], 2);
        let b = ring.get(&LogQuery {
            after_index: Some(6),
            ..LogQuery::default()
        });
        assert_eq!((b.logs.len(), b.discontinuity), (2, None));
        let one = b.logs[0].to_string().len();
        let b = ring.get(&LogQuery {
            max_size: one + 1,
            ..LogQuery::default()
        });
        assert_eq!(b.logs.len(), 1, "max_size bounds the answer");
        ring.reset();
        assert!(ring.is_empty());
        let b = ring.get(&LogQuery {
            after_index: Some(8),
            ..LogQuery::default()
        });
        assert_eq!(
            (b.logs.len(), b.discontinuity),
            (0, None),
            "reset is not a loss"
        );
        fill(&mut ring, 1);
        assert_eq!(ring.last_index(), Some(9));
    }
}
