//! The remote API's messages answered from the control thread's live state
//! (seed 000 6.5-6.6): log service, counters, HSS, bindings and calls. The
//! JSON views and events are in `api_views`.

use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::dialogs::{Action, Command, Reason};

use super::core::Control;
use super::api_views::{log_options_text, map};
use crate::api::request::{ConfigSet, LogGet, LogSet, Stats};
use crate::api::request_ims::{DialogAction, DialogGet, MediaKind, DialogSet, Impu, ImpuChange, ImpuSet, MtCall, Sms, SmsFlush, Unregister, UserSet, UsersAdd, UsersGet};
use crate::api::fields::Named as _;
use crate::api::{ApiContext, LogAvailability, LogBatch, Reply};
use crate::ims::hss::{normalize_impu, Hss, PublicId};
use crate::log::{Dir, Head, Layer, Level, LevelFilter, Origin};

impl ApiContext for Control {
    fn config_get(&mut self) -> Reply {
        Ok(self.config_json())
    }

    fn config_set(&mut self, req: &ConfigSet) -> Reply {
        if let Some(logs) = &req.logs {
            let text = log_options_text(logs);
            if !text.is_empty() {
                let l = self.log_control().ok_or("Logging is stopped")?;
                l.set_options(&text).map_err(|e| e.to_string())?;
            }
        }
        super::api_config::apply(self.config_mut(), req)?;
        if let Some(v) = req.binding_expires {
            self.registrar.config_mut().binding_expires = v;
        }
        if let Some(on) = req.p_called_party_id {
            self.set_called_party_global(on);
        }
        Ok(Map::new())
    }

    fn log_set(&mut self, req: &LogSet) -> Reply {
        if let Some((text, layer, level)) = &req.log {
            let layer = Layer::parse(layer.name()).unwrap_or(Layer::Ims);
            let level = Level::parse(level.name()).unwrap_or(Level::Info);
            let mut head = Head::new(layer, level);
            if let Some(d) = req.dir.and_then(|d| Dir::parse(d.name())) {
                head = head.dir(d);
            }
            if let Some(id) = req.ue_id {
                head = head.origin(Origin::Id(id as u32));
            }
            self.logger_ref().log_now(head, format_args!("{text}"));
        }
        let l = self.log_control().ok_or("Logging is stopped")?;
        if req.flush {
            l.flush();
        }
        if req.rotate {
            l.rotate();
        }
        if req.cut {
            l.cut();
        }
        Ok(Map::new())
    }

    fn log_reset(&mut self) -> Reply {
        self.log_control().ok_or("Logging is stopped")?.reset();
        Ok(Map::new())
    }

    fn log_available(&mut self, req: &LogGet, cursor: u64) -> LogAvailability {
        let b = self.log_take(req, cursor);
        LogAvailability { count: b.logs.len(), bytes: b.logs.iter().map(|l| l.to_string().len() + 1).sum() }
    }

    fn log_take(&mut self, req: &LogGet, cursor: u64) -> LogBatch {
        let Some(l) = self.log_control_ref() else { return LogBatch { next_cursor: cursor, ..LogBatch::default() } };
        let layers = req.layers.as_ref().map(|v| {
            // Seed 000 6.5: with layers set, unlisted layers are at "none".
            let mut a = [LevelFilter::None; Layer::COUNT];
            for (layer, level) in v {
                if let (Some(ly), Some(lv)) = (Layer::parse(layer.name()), LevelFilter::parse(level.name())) {
                    a[ly.index()] = lv;
                }
            }
            a
        });
        let q = crate::log::LogQuery {
            max: req.max as usize,
            layers,
            start_timestamp: req.start_timestamp.map(|t| t as u64),
            end_timestamp: req.end_timestamp.map(|t| t as u64),
            max_size: req.max_size,
            short: req.short,
            headers: req.headers.unwrap_or(false),
            after_index: cursor.checked_sub(1),
        };
        let b = l.get(&q);
        LogBatch { logs: b.logs, next_cursor: b.next_after.map_or(cursor, |i| i + 1), discontinuity: b.discontinuity }
    }

    fn stats(&mut self, req: &Stats) -> Reply {
        let now = Instant::now();
        let cpu = self.stats_cpu(now);
        let (messages, errors) = self.stat_counters();
        let mut delta = |list: Vec<(String, u64)>| -> Map<String, Value> {
            let mut m = Map::new();
            for (name, v) in list {
                let prev = self.api_state.base.insert(name.clone(), v).unwrap_or(0);
                m.insert(name, v.saturating_sub(prev).into());
            }
            m
        };
        let messages = delta(messages);
        let errors = delta(errors);
        let latency = self.latency_json(req.hdr_histograms);
        self.latencies.reset();
        Ok(map(json!({
            "cpu": cpu,
            "instance_id": self.api_state.instance_id,
            "counters": {"messages": messages, "errors": errors},
            "latency": latency,
        })))
    }

    fn quit(&mut self) -> Reply {
        self.request_quit();
        Ok(Map::new())
    }

    fn ipsec(&mut self) -> Reply {
        // seed 000 6.6 ipsec: the SAs (type, dir, spi, ue_id, mode, addresses, keys), plus
        // the ESP drop counters as an extension.
        match self.ipsec_sas() {
            Value::Object(m) => Ok(m),
            _ => Ok(map(json!({"SAs": []}))),
        }
    }

    fn users_get(&mut self, req: &UsersGet) -> Reply {
        let now = Instant::now();
        let mut impis: Vec<String> = self.registrar.hss.subscribers().map(|s| s.impi.clone()).collect();
        impis.sort();
        let registered = |i: &String| self.registrar.bindings.records().any(|r| &r.key.impi == i);
        let index = self.user_dialog_index();
        let users: Vec<Value> = impis.iter().filter(|i| !req.registered_only || registered(i)).map(|i| self.user_json(i, now, &index)).collect();
        Ok(map(json!({"users": users})))
    }

    fn users_add(&mut self, req: &UsersAdd) -> Reply {
        let domain = self.config().sip.domain.clone().unwrap_or_default();
        let text = json!({"domain": domain, "ue_db": req.users}).to_string();
        let loaded = crate::config::load_str("users_add", &text, std::path::Path::new(".")).map_err(|e| e.0.join("; "))?;
        let hss = Hss::from_config(&loaded.config).map_err(|e| e.0)?;
        self.registrar.hss.merge(hss).map_err(|e| e.0)?;
        self.mark_dirty();
        Ok(Map::new())
    }

    fn user_set(&mut self, req: &UserSet) -> Reply {
        if self.registrar.hss.subscriber(&req.impi).is_none() {
            return Err(format!("Unknown impi: {}", req.impi));
        }
        if let Some(f) = req.force_sms_over_sg {
            self.api_state.force_sms.insert(req.impi.clone(), f);
        }
        Ok(Map::new())
    }

    fn impu_set(&mut self, req: &ImpuSet) -> Reply {
        let uri = self.impu_uri(&req.impu);
        let id = self.registrar.hss.public_id_mut(&uri).ok_or_else(|| format!("Unknown impu: {}", req.impu))?;
        apply_flags(id, &req.params)?;
        Ok(Map::new())
    }

    fn impu_add(&mut self, req: &ImpuChange) -> Reply {
        let (name, params) = impu_parts(&req.impu);
        let uri = self.impu_uri(&name);
        if req.is_echo() {
            self.echo_mut().add_impu(&uri);
            return Ok(Map::new());
        }
        let mut id = PublicId { uri, authentication: true, associated: true, preferred: false, imei: None };
        apply_flags(&mut id, &params)?;
        self.registrar.hss.add_impu(&req.impi, id).map_err(|e| e.0)?;
        self.mark_dirty();
        Ok(Map::new())
    }

    fn impu_del(&mut self, req: &ImpuChange) -> Reply {
        let (name, _) = impu_parts(&req.impu);
        let uri = self.impu_uri(&name);
        if req.is_echo() {
            return if self.echo_mut().remove_impu(&uri) { Ok(Map::new()) } else { Err(format!("Unknown echo impu: {name}")) };
        }
        self.registrar.hss.remove_impu(&req.impi, &uri).map_err(|e| e.0)?;
        self.mark_dirty();
        Ok(Map::new())
    }

    fn sms(&mut self, req: &Sms) -> Reply {
        self.api_sms(req)
    }

    fn sms_flush(&mut self, req: &SmsFlush) -> Reply {
        self.api_sms_flush(req)
    }

    fn mt_call(&mut self, req: &MtCall) -> Reply {
        let (impu, contact) = self.mt_target(req)?;
        let args = super::mt_call::MtCallArgs {
            duration: req.duration.map(Duration::from_secs_f64),
            sdp_file: req.sdp_file.as_deref(),
            caller: req.caller.as_deref(),
            sos: req.sos,
            contact: contact.as_deref(),
        };
        let id = Control::mt_call(self, &impu, &args)?;
        Ok(map(json!({"session_id": id})))
    }

    fn dialog_get(&mut self, req: &DialogGet) -> Reply {
        let list: Vec<Value> = self
            .dialogs()
            .iter()
            .filter(|d| req.session_id.as_ref().map_or(true, |s| *s == d.id))
            .map(|d| self.dialog_json(d))
            .collect();
        Ok(map(json!({"dialogs": list})))
    }

    fn dialog_set(&mut self, req: &DialogSet) -> Reply {
        if !self.dialogs().iter().any(|d| d.id == req.session_id) {
            return Err(format!("Unknown dialog: {}", req.session_id));
        }
        if req.sdp_file.is_some() && req.action != DialogAction::Reinvite {
            return Err("sdp_file applies to action reinvite (MT call dialogs)".into());
        }
        let cmd = match req.action {
            // seed 000 dialog_set code, reason, reason_protocol: the Reason header (RFC 3326).
            DialogAction::Stop => Command::Basic(Action::Stop(Reason::new(req.reason_protocol.as_deref(), req.code, req.reason.as_deref())?)),
            DialogAction::Hold => Command::Basic(Action::Hold),
            // seed 000 dialog_set.code: "if action is answer, forces SIP code".
            DialogAction::Answer => Command::Basic(Action::Answer(req.code.map(super::dialogs::answer_code).transpose()?)),
            DialogAction::Reinvite => Command::Reinvite(req.sdp_file.clone()),
            // seed 000 dialog_set.media: the media to remove (the video of a video call by default).
            DialogAction::Downgrade => Command::Downgrade { video: req.media != Some(MediaKind::Audio) },
            // seed 000 dialog_set.rtp / rtcp: optional, default false.
            DialogAction::Media => Command::Media { rtp: req.rtp.unwrap_or(false), rtcp: req.rtcp.unwrap_or(false) },
        };
        Control::dialog_set(self, &req.session_id, cmd).map(|_| Map::new())
    }

    fn unregister(&mut self, req: &Unregister) -> Reply {
        let uri = normalize_impu(&req.uri);
        let b = &self.registrar.bindings;
        let mut impis: Vec<String> = b
            .records()
            .filter(|r| r.impus.contains(&uri) || r.contacts.iter().any(|c| normalize_impu(&c.uri) == uri))
            .map(|r| r.key.impi.clone())
            .collect();
        impis.dedup();
        if impis.is_empty() {
            return Err(format!("Unknown binding: {}", req.uri));
        }
        for i in impis {
            Control::unregister(self, &i);
        }
        Ok(Map::new())
    }
}

/// The IMPU text and the impu-object members of impu_add / impu_del.
fn impu_parts(i: &Impu) -> (String, Map<String, Value>) {
    match i {
        Impu::Uri(s) => (s.clone(), Map::new()),
        Impu::Object(o) => (o.get("impu").and_then(Value::as_str).unwrap_or("").to_owned(), o.clone()),
    }
}

/// Applies the impu-object members this HSS keeps (seed 000 5.2.1 ue_db.impu): the
/// booleans, and `imei` (14 to 16 digits, as in the configuration; null removes it).
fn apply_flags(id: &mut PublicId, params: &Map<String, Value>) -> Result<(), String> {
    match params.get("imei") {
        None => {}
        Some(Value::Null) => id.imei = None,
        Some(Value::String(s)) if (14..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) => id.imei = Some(s.clone()),
        Some(other) => return Err(format!("imei: expected a string of 14 to 16 digits, got {other}")),
    }
    let flag = |k: &str| params.get(k).and_then(Value::as_bool);
    if let Some(v) = flag("authentication") {
        id.authentication = v;
    }
    if let Some(v) = flag("associated") {
        id.associated = v;
    }
    if let Some(v) = flag("preferred") {
        id.preferred = v;
    }
    Ok(())
}

impl super::net::NetContext for Control {
    fn metrics_text(&mut self) -> String {
        super::metrics::render(self)
    }
}
