//! Logging properties of seed 000 5.2: `log_filename`, `log_sync` and
//! `log_options`. The options string is validated by the log module's own
//! parser ([`crate::log::LogOptions`]), the one the remote API's `log_set`
//! and the monitor's `log` command use too, so there is one grammar.

use serde::{Serialize, Serializer};

use super::reader::{Ctx, Obj};
use crate::log::LogOptions;

fn ser_options<S: Serializer>(opts: &LogOptions, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&opts.to_string())
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogSettings {
    /// Log file (relative names are relative to the configuration file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_filename: Option<String>,
    /// The logging state `log_options` sets, on top of the defaults.
    #[serde(serialize_with = "ser_options")]
    pub log_options: LogOptions,
    /// Write logs synchronously (default false).
    pub log_sync: bool,
}

impl LogSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        let log_options = match o.take(ctx, "log_options") {
            Some(f) => match f.str(ctx).map(LogOptions::parse) {
                Some(Ok((opts, _file_actions))) => opts,
                Some(Err(e)) => {
                    ctx.error(&f.v.loc, &f.path, e.to_string());
                    LogOptions::default()
                }
                None => LogOptions::default(),
            },
            None => LogOptions::default(),
        };
        LogSettings { log_filename: o.opt_string(ctx, "log_filename"), log_options, log_sync: o.bool(ctx, "log_sync", false) }
    }
}
