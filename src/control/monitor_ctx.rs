//! The control thread as seen by the command-line monitor (seed 000
//! section 7): log options and the user database with binding state.

use super::core::Control;
use super::monitor::MonitorContext;
use crate::ims::bindings::seconds_left;
use std::io::{self, Write};
use std::time::Instant;

/// The monitor's view of the control thread for one command.
pub struct Ctx<'c> {
    /// The control state.
    pub control: &'c mut Control,
    /// Set by `quit`.
    pub quit: bool,
}

impl MonitorContext for Ctx<'_> {
    fn log_options(&self) -> String {
        match &self.control.log_control_ref() {
            Some(l) => l.describe(),
            None => String::new(),
        }
    }

    fn set_log_options(&mut self, options: &str) -> Result<(), String> {
        match self.control.log_control() {
            Some(l) => l.set_options(options).map_err(|e| e.to_string()),
            None => Err("logging is stopped".into()),
        }
    }

    fn users(&self, out: &mut dyn Write) -> io::Result<()> {
        let r = &self.control.registrar;
        let now = Instant::now();
        writeln!(out, "{:<52} {:<7} {:<8} {:<16} {:<4} CONTACT / IMPUs", "IMPI", "STATE", "EXPIRES", "IMEI", "SMS")?;
        let mut subs: Vec<_> = r.hss.subscribers().collect();
        subs.sort_by(|a, b| a.impi.cmp(&b.impi));
        let mut registered = 0;
        for s in &subs {
            let records: Vec<_> = r.bindings.records().filter(|rec| rec.key.impi == s.impi).collect();
            if records.is_empty() {
                let impus: Vec<&str> = s.impus.iter().map(|p| p.uri.as_str()).collect();
                writeln!(out, "{:<52} {:<7} {:<8} {:<16} {:<4} {}", s.impi, "unreg", "-", "-", "-", impus.join(" "))?;
                continue;
            }
            for rec in &records {
                for c in &rec.contacts {
                    registered += 1;
                    writeln!(
                        out,
                        "{:<52} {:<7} {:<8} {:<16} {:<4} {}",
                        s.impi,
                        if rec.key.emergency { "sos" } else { "reg" },
                        seconds_left(now, c.expires_at),
                        c.imei.as_deref().unwrap_or("-"),
                        if c.sms { "yes" } else { "no" },
                        c.uri
                    )?;
                    writeln!(out, "{:<92} {}", "", rec.impus.join(" "))?;
                }
            }
        }
        writeln!(out, "{} subscriber(s), {} registered contact(s)", subs.len(), registered)
    }

    fn request_quit(&mut self) {
        self.quit = true;
    }

    fn dialogs(&self, out: &mut dyn Write) -> io::Result<()> {
        super::dialogs::write_table(&self.control.dialogs(), out)
    }

    fn dialog_set(&mut self, id: &str, action: &str) -> Result<String, String> {
        let args: Vec<&str> = action.split_whitespace().collect();
        let cmd = super::dialogs::Command::parse(&args)?;
        self.control.dialog_set(id, cmd).map(|()| format!("dialog {id}: {action}"))
    }

    fn mt_call(&mut self, impu: &str, duration: Option<f64>, sdp_file: Option<&str>, caller: Option<&str>) -> Result<String, String> {
        let d = duration.map(std::time::Duration::from_secs_f64);
        let args = super::mt_call::MtCallArgs { duration: d, sdp_file, caller, ..Default::default() };
        self.control.mt_call(impu, &args).map(|id| format!("MT call {id} to {impu} started"))
    }

    fn sms(&mut self, user: &str, text: &str) -> Result<String, String> {
        self.control.monitor_sms(user, text)
    }

    fn sms_flush(&mut self, impi: &str) -> Result<String, String> {
        let req = crate::api::request_ims::SmsFlush { impi: impi.to_owned() };
        let r = self.control.api_sms_flush(&req)?;
        Ok(format!("{} pending SMS for {impi}", r.get("pending").and_then(|v| v.as_u64()).unwrap_or(0)))
    }
}
