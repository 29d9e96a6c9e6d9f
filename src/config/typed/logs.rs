//! Logging properties of seed 000 5.2: `log_filename`, `log_sync` and the
//! comma-separated `log_options` assignments (`sip.level=debug`,
//! `file.rotate=10M`, ...), parsed into [`LogOption`]s.

use std::fmt;

use serde::{Serialize, Serializer};

use super::reader::{Ctx, Field, Obj};

/// Log verbosity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// Nothing.
    None,
    /// Errors.
    Error,
    /// Information.
    Info,
    /// Debug, with message contents.
    Debug,
}

/// Time stamp format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Seconds.
    Sec,
    /// Time only (default).
    Short,
    /// Date and time.
    Full,
}

/// Per-layer switch of `layer.payload/key/crypto/verbose`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerFlag {
    /// Dump payloads in hexadecimal.
    Payload,
    /// Dump security keys.
    Key,
    /// Dump plain and ciphered data.
    Crypto,
    /// Dump packet filtering details (ipsec).
    Verbose,
}

/// Log layers of seed 000 5.2 plus `ipsec` (named by `layer.verbose`) and
/// `all` (every layer).
pub const LOG_LAYERS: &[&str] = &["ims", "sip", "media", "rx", "cx", "n5", "ipsec", "all"];

/// One `log_options` assignment.
#[derive(Clone, Debug, PartialEq)]
pub enum LogOption {
    /// `layer.level=...`.
    Level(&'static str, LogLevel),
    /// `layer.max_size=n`.
    MaxSize(&'static str, u64),
    /// `layer.payload|key|crypto|verbose=0|1`.
    Flag(&'static str, LayerFlag, bool),
    /// `time=sec|short|full`.
    Time(TimeFormat),
    /// `time.us=0|1`.
    TimeUs(bool),
    /// `file=cut`.
    FileCut,
    /// `file.rotate=now`.
    RotateNow,
    /// `file.rotate=size` in bytes.
    RotateSize(u64),
    /// `file.path=path`.
    FilePath(String),
    /// `append=0|1`.
    Append(bool),
}

const LEVELS: [(&str, LogLevel); 4] =
    [("none", LogLevel::None), ("error", LogLevel::Error), ("info", LogLevel::Info), ("debug", LogLevel::Debug)];
const TIMES: [(&str, TimeFormat); 3] = [("sec", TimeFormat::Sec), ("short", TimeFormat::Short), ("full", TimeFormat::Full)];
const FLAGS: [(&str, LayerFlag); 4] =
    [("payload", LayerFlag::Payload), ("key", LayerFlag::Key), ("crypto", LayerFlag::Crypto), ("verbose", LayerFlag::Verbose)];

fn name_of<T: PartialEq + Copy>(table: &[(&'static str, T)], t: T) -> &'static str {
    table.iter().find(|(_, v)| *v == t).map_or("?", |(n, _)| n)
}

impl fmt::Display for LogOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogOption::Level(l, v) => write!(f, "{l}.level={}", name_of(&LEVELS, *v)),
            LogOption::MaxSize(l, n) => write!(f, "{l}.max_size={n}"),
            LogOption::Flag(l, k, b) => write!(f, "{l}.{}={}", name_of(&FLAGS, *k), u8::from(*b)),
            LogOption::Time(t) => write!(f, "time={}", name_of(&TIMES, *t)),
            LogOption::TimeUs(b) => write!(f, "time.us={}", u8::from(*b)),
            LogOption::FileCut => f.write_str("file=cut"),
            LogOption::RotateNow => f.write_str("file.rotate=now"),
            LogOption::RotateSize(n) => write!(f, "file.rotate={n}"),
            LogOption::FilePath(p) => write!(f, "file.path={p}"),
            LogOption::Append(b) => write!(f, "append={}", u8::from(*b)),
        }
    }
}

fn ser_options<S: Serializer>(opts: &[LogOption], s: S) -> Result<S::Ok, S::Error> {
    let parts: Vec<String> = opts.iter().map(ToString::to_string).collect();
    s.serialize_str(&parts.join(","))
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogSettings {
    /// Log file (relative names are relative to the configuration file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_filename: Option<String>,
    /// Parsed `log_options`.
    #[serde(serialize_with = "ser_options")]
    pub log_options: Vec<LogOption>,
    /// Write logs synchronously (default false).
    pub log_sync: bool,
}

impl LogSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        LogSettings {
            log_filename: o.opt_string(ctx, "log_filename"),
            log_options: o.take(ctx, "log_options").map(|f| read_options(ctx, &f)).unwrap_or_default(),
            log_sync: o.bool(ctx, "log_sync", false),
        }
    }
}

fn read_options(ctx: &mut Ctx, f: &Field<'_>) -> Vec<LogOption> {
    let Some(s) = f.str(ctx) else { return Vec::new() };
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match parse_option(item) {
            Ok(o) => out.push(o),
            Err(e) => ctx.error(&f.v.loc, &f.path, format!("\"{item}\": {e}")),
        }
    }
    out
}

fn lookup<T: Copy>(table: &[(&str, T)], s: &str, what: &str) -> Result<T, String> {
    table.iter().find(|(n, _)| *n == s).map(|(_, v)| *v).ok_or_else(|| format!("invalid {what} \"{s}\""))
}

fn flag(v: &str) -> Result<bool, String> {
    lookup(&[("0", false), ("1", true)], v, "switch (0 or 1)")
}

/// `n`, `nK`, `nM` or `nG` bytes.
fn size(v: &str) -> Result<u64, String> {
    // The suffix is one ASCII byte, so `len - 1` is a char boundary.
    let (num, mult) = match v.as_bytes().last() {
        Some(b'K') => (&v[..v.len() - 1], 1u64 << 10),
        Some(b'M') => (&v[..v.len() - 1], 1 << 20),
        Some(b'G') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    let n: u64 = num.parse().map_err(|_| format!("invalid size \"{v}\""))?;
    n.checked_mul(mult).ok_or_else(|| format!("size \"{v}\" too large"))
}

fn parse_option(item: &str) -> Result<LogOption, String> {
    let (key, v) = item.split_once('=').ok_or("expected name=value")?;
    Ok(match key {
        "time" => LogOption::Time(lookup(&TIMES, v, "time format")?),
        "time.us" => LogOption::TimeUs(flag(v)?),
        "file" if v == "cut" => LogOption::FileCut,
        "file.rotate" if v == "now" => LogOption::RotateNow,
        "file.rotate" => LogOption::RotateSize(size(v)?),
        "file.path" if !v.is_empty() => LogOption::FilePath(v.to_owned()),
        "append" => LogOption::Append(flag(v)?),
        _ => {
            let (layer, what) = key.split_once('.').ok_or("unknown option")?;
            let layer = *LOG_LAYERS.iter().find(|l| **l == layer).ok_or_else(|| format!("unknown log layer \"{layer}\""))?;
            match what {
                "level" => LogOption::Level(layer, lookup(&LEVELS, v, "level")?),
                "max_size" => LogOption::MaxSize(layer, v.parse().map_err(|_| format!("invalid max_size \"{v}\""))?),
                _ => LogOption::Flag(layer, lookup(&FLAGS, what, "option")?, flag(v)?),
            }
        }
    })
}
