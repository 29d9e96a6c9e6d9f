//! The control thread: it starts the engine's workers and then takes every
//! decision that needs shared state — registration (HSS, registrar, reg
//! event package) today — from the events the workers hand it, answering
//! with commands. It also runs the command-line monitor and the log service.

pub mod anchor;
mod anchor_patch;
#[cfg(test)]
mod test_out;
mod api_config;
mod api_ctx;
mod api_setup;
mod api_tls;
mod api_views;
mod call_files;
mod call_policy;
mod callflow;
mod calls;
mod core;
pub mod custom_headers;
mod dialog_log;
mod dialogs;
mod echo;
mod ids;
mod emergency;
pub mod fast_hash;
mod metrics;
mod metrics_http;
mod ipsec;
pub mod monitor;
mod monitor_ctx;
mod media_loops;
mod mt_call;
mod net;
mod prack;
mod precondition;
mod reg_latency;
mod regevent;
mod register;
mod reply;
mod retransmit;
mod session_timer;
mod signals;
mod sms;
mod sms_api;
mod sms_http;
mod sms_text;
mod startup;
mod stdin;

pub use self::core::{Control, Parts};
pub use regevent::{Notify, RegEvents, Subscription};
pub use sms::SmsService;
pub use sms_http::HttpCounters;

use crate::config::Loaded;
use std::path::Path;

/// Starts the core with `loaded` (read from `path`, None for the embedded
/// default) and runs until SIGINT/SIGTERM or the monitor's `quit`.
/// `monitor`: read commands from stdin (default: when stdin is a terminal).
pub fn run(loaded: Loaded, path: Option<&Path>, monitor: Option<bool>) -> Result<(), String> {
    let stop = signals::install()?;
    let mut control = startup::start(loaded, path)?;
    let use_monitor = monitor.unwrap_or_else(|| std::io::IsTerminal::is_terminal(&std::io::stdin()));
    let lines = if use_monitor { Some(stdin::spawn().map_err(|e| format!("cannot read stdin: {e}"))?) } else { None };
    control.run(&stop, lines.as_ref());
    control.shutdown();
    Ok(())
}
