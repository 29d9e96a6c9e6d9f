//! The `log_options` language (lteims manual section 5.2): a comma-separated list of
//! assignments applied on top of the current state. The configuration file, the monitor's
//! `log` command (section 7) and the remote API all go through [`LogOptions::apply`].

use std::fmt;
use std::path::PathBuf;

use super::types::{Layer, LevelFilter};

/// Per-layer settings (`layer.level`, `layer.max_size`, `layer.payload`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerOptions {
    /// `layer.level`.
    pub level: LevelFilter,
    /// `layer.max_size`: at most this many payload bytes are dumped in hexadecimal.
    pub max_size: u32,
    /// `layer.payload`: dump binary payloads (Diameter, ...) in hexadecimal.
    pub payload: bool,
    /// `layer.key`: dump security keys.
    pub key: bool,
    /// `layer.crypto`: dump plain and ciphered data.
    pub crypto: bool,
    /// `layer.verbose`: for ipsec, dump the filtering information of every packet.
    pub verbose: bool,
}

impl Default for LayerOptions {
    fn default() -> Self {
        LayerOptions {
            level: LevelFilter::Error,
            max_size: 0,
            payload: false,
            key: false,
            crypto: false,
            verbose: false,
        }
    }
}

impl LayerOptions {
    /// How many bytes of a binary payload are dumped: 0 = none, `u32::MAX` = all.
    ///
    /// Only at debug level (section 5.2: "In debug level, the content of the transmitted
    /// data is logged"); `max_size=n` bounds the hex dump, `payload=1` alone dumps it all.
    pub fn hex_limit(&self) -> u32 {
        match (self.level, self.max_size, self.payload) {
            (LevelFilter::Debug, 0, true) => u32::MAX,
            (LevelFilter::Debug, n, _) => n,
            _ => 0,
        }
    }
}

/// `time=sec|short|full`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// Seconds since 1970.
    Sec,
    /// Time of day only (the default).
    #[default]
    Short,
    /// Date and time.
    Full,
}

impl TimeFormat {
    fn name(self) -> &'static str {
        match self {
            TimeFormat::Sec => "sec",
            TimeFormat::Short => "short",
            TimeFormat::Full => "full",
        }
    }
}

/// One-shot file actions requested by `file=cut` and `file.rotate=now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FileActions {
    /// `file=cut`: close the log and open it again, truncated.
    pub cut: bool,
    /// `file.rotate=now`: rename the log with a timestamp and open a new one.
    pub rotate_now: bool,
}

/// The whole logging state set by `log_options`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LogOptions {
    /// Per-layer settings, indexed by [`Layer::index`].
    pub layers: [LayerOptions; Layer::COUNT],
    /// `time=`.
    pub time: TimeFormat,
    /// `time.us=`.
    pub time_us: bool,
    /// `file.rotate=SIZE`: rotate when the file reaches this many bytes (None = never).
    pub rotate_size: Option<u64>,
    /// `file.path=`: directory rotated logs are moved to (None = next to the log).
    pub rotate_path: Option<PathBuf>,
    /// `append=`: keep the existing file content when opening it.
    pub append: bool,
}

/// A rejected `log_options` string; the message names the offending assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogOptionsError(pub String);

impl fmt::Display for LogOptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LogOptionsError {}

/// Upper bound on assignments in one string (a bound on everything).
const MAX_ASSIGNMENTS: usize = 256;

impl LogOptions {
    /// Settings of one layer.
    pub fn layer(&self, layer: Layer) -> &LayerOptions {
        &self.layers[layer.index()]
    }

    /// Parses `text` from the defaults.
    pub fn parse(text: &str) -> Result<(LogOptions, FileActions), LogOptionsError> {
        let mut opts = LogOptions::default();
        let actions = opts.apply(text)?;
        Ok((opts, actions))
    }

    /// Applies `text` on top of the current state. On error the state is unchanged.
    pub fn apply(&mut self, text: &str) -> Result<FileActions, LogOptionsError> {
        let mut next = self.clone();
        let mut actions = FileActions::default();
        let items = text.split(',').map(str::trim).filter(|s| !s.is_empty());
        for (n, item) in items.enumerate() {
            if n >= MAX_ASSIGNMENTS {
                return Err(LogOptionsError(format!(
                    "log_options: more than {MAX_ASSIGNMENTS} assignments"
                )));
            }
            next.assign(item, &mut actions)?;
        }
        *self = next;
        Ok(actions)
    }

    fn assign(&mut self, item: &str, actions: &mut FileActions) -> Result<(), LogOptionsError> {
        let (key, value) = item
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| LogOptionsError(format!("log_options: missing '=' in '{item}'")))?;
        let bad = |expected: &str| {
            LogOptionsError(format!(
                "log_options: bad value '{value}' for '{key}' in '{item}' (expected {expected})"
            ))
        };
        match key {
            "time" => {
                self.time = match value {
                    "sec" => TimeFormat::Sec,
                    "short" => TimeFormat::Short,
                    "full" => TimeFormat::Full,
                    _ => return Err(bad("sec, short or full")),
                }
            }
            "time.us" => self.time_us = parse_bool(value).ok_or_else(|| bad("0 or 1"))?,
            "append" => self.append = parse_bool(value).ok_or_else(|| bad("0 or 1"))?,
            "file" if value == "cut" => actions.cut = true,
            "file" => return Err(bad("cut")),
            "file.rotate" if value == "now" => actions.rotate_now = true,
            "file.rotate" => {
                let size = parse_size(value).ok_or_else(|| bad("now or a size like 10M"))?;
                self.rotate_size = (size > 0).then_some(size);
            }
            "file.path" if value.is_empty() => self.rotate_path = None,
            "file.path" => self.rotate_path = Some(PathBuf::from(value)),
            _ => self.assign_layer(item, key, value)?,
        }
        Ok(())
    }

    fn assign_layer(&mut self, item: &str, key: &str, value: &str) -> Result<(), LogOptionsError> {
        let Some((name, field)) = key.split_once('.') else {
            return Err(LogOptionsError(format!(
                "log_options: unknown option '{key}' in '{item}'"
            )));
        };
        let targets: &[Layer] = if name == "all" {
            &Layer::ALL
        } else {
            match Layer::ALL.iter().position(|l| l.name() == name) {
                Some(i) => &Layer::ALL[i..=i],
                None => {
                    return Err(LogOptionsError(format!(
                        "log_options: unknown layer '{name}' in '{item}'"
                    )))
                }
            }
        };
        let bad = |expected: &str| {
            LogOptionsError(format!(
                "log_options: bad value '{value}' for '{key}' in '{item}' (expected {expected})"
            ))
        };
        let flag = || parse_bool(value).ok_or_else(|| bad("0 or 1"));
        let set: Box<dyn Fn(&mut LayerOptions)> = match field {
            "level" => {
                let level = LevelFilter::parse(value)
                    .ok_or_else(|| bad("none, error, warn, info or debug"))?;
                Box::new(move |l| l.level = level)
            }
            "max_size" => {
                let n: u32 = value.parse().map_err(|_| bad("a byte count"))?;
                Box::new(move |l| l.max_size = n)
            }
            "payload" => {
                let b = flag()?;
                Box::new(move |l| l.payload = b)
            }
            "key" => {
                let b = flag()?;
                Box::new(move |l| l.key = b)
            }
            "crypto" => {
                let b = flag()?;
                Box::new(move |l| l.crypto = b)
            }
            "verbose" => {
                let b = flag()?;
                Box::new(move |l| l.verbose = b)
            }
            _ => {
                return Err(LogOptionsError(format!(
                    "log_options: unknown option '{key}' in '{item}'"
                )))
            }
        };
        for layer in targets {
            set(&mut self.layers[layer.index()]);
        }
        Ok(())
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "0" | "false" => Some(false),
        "1" | "true" => Some(true),
        _ => None,
    }
}

/// Parses `123`, `10K`, `5M`, `1G` (binary multiples).
fn parse_size(v: &str) -> Option<u64> {
    let (digits, mult) = match v.as_bytes().last()? {
        b'k' | b'K' => (&v[..v.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&v[..v.len() - 1], 1 << 20),
        b'g' | b'G' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// The canonical `log_options` string of the state (what the monitor's `log` shows).
impl fmt::Display for LogOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for layer in Layer::ALL {
            let l = self.layer(layer);
            write!(
                f,
                "{n}.level={},{n}.max_size={},{n}.payload={},{n}.key={},{n}.crypto={},",
                l.level.name(),
                l.max_size,
                u8::from(l.payload),
                u8::from(l.key),
                u8::from(l.crypto),
                n = layer.name()
            )?;
            if layer == Layer::Ipsec {
                write!(f, "ipsec.verbose={},", u8::from(l.verbose))?;
            }
        }
        write!(
            f,
            "time={},time.us={}",
            self.time.name(),
            u8::from(self.time_us)
        )?;
        if let Some(size) = self.rotate_size {
            write!(f, ",file.rotate={size}")?;
        }
        if let Some(path) = &self.rotate_path {
            write!(f, ",file.path={}", path.display())?;
        }
        write!(f, ",append={}", u8::from(self.append))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> LogOptions {
        LogOptions::parse(s).expect("valid options").0
    }

    fn err(s: &str) -> String {
        LogOptions::parse(s).expect_err("invalid options").0
    }

    #[test]
    fn defaults_follow_manual() {
        let o = LogOptions::default();
        assert_eq!(o.time, TimeFormat::Short);
        assert!(!o.time_us && !o.append);
        assert_eq!(o.layer(Layer::Sip).level, LevelFilter::Error);
    }

    #[test]
    fn layer_assignments() {
        let o = parse("sip.level=debug, ims.level=info,cx.max_size=64,rx.payload=1");
        assert_eq!(o.layer(Layer::Sip).level, LevelFilter::Debug);
        assert_eq!(o.layer(Layer::Ims).level, LevelFilter::Info);
        assert_eq!(o.layer(Layer::Media).level, LevelFilter::Error);
        assert_eq!(o.layer(Layer::Cx).max_size, 64);
        assert!(o.layer(Layer::Rx).payload);
        let o = parse("n5.key=1,sms.crypto=1,ipsec.verbose=1,media.level=warn");
        assert!(o.layer(Layer::N5).key);
        assert!(o.layer(Layer::Sms).crypto);
        assert!(o.layer(Layer::Ipsec).verbose);
        assert_eq!(o.layer(Layer::Media).level, LevelFilter::Warn);
        assert_eq!(
            parse("rx.level=none").layer(Layer::Rx).level,
            LevelFilter::None
        );
    }

    #[test]
    fn all_is_a_wildcard_and_later_wins() {
        let o = parse("all.level=debug,all.max_size=32,media.level=none");
        for l in Layer::ALL {
            assert_eq!(o.layer(l).max_size, 32);
        }
        assert_eq!(o.layer(Layer::Ipsec).level, LevelFilter::Debug);
        assert_eq!(o.layer(Layer::Media).level, LevelFilter::None);
    }

    #[test]
    fn global_assignments() {
        let o = parse("time=full,time.us=1,append=1,file.rotate=10M,file.path=/tmp/old");
        assert_eq!(o.time, TimeFormat::Full);
        assert!(o.time_us && o.append);
        assert_eq!(o.rotate_size, Some(10 << 20));
        assert_eq!(o.rotate_path, Some(PathBuf::from("/tmp/old")));
        assert_eq!(parse("time=sec").time, TimeFormat::Sec);
        assert_eq!(parse("file.rotate=3K").rotate_size, Some(3072));
        assert_eq!(parse("file.rotate=2g").rotate_size, Some(2 << 30));
        assert_eq!(parse("file.rotate=777").rotate_size, Some(777));
        assert_eq!(parse("file.rotate=5M,file.rotate=0").rotate_size, None);
    }

    #[test]
    fn file_actions_are_one_shot() {
        let (o, a) = LogOptions::parse("file=cut,file.rotate=now").expect("valid");
        assert_eq!(
            a,
            FileActions {
                cut: true,
                rotate_now: true
            }
        );
        assert_eq!(o, LogOptions::default());
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(
            err("foo.level=debug"),
            "log_options: unknown layer 'foo' in 'foo.level=debug'"
        );
        assert_eq!(
            err("sip.colour=1"),
            "log_options: unknown option 'sip.colour' in 'sip.colour=1'"
        );
        assert_eq!(
            err("bogus=1"),
            "log_options: unknown option 'bogus' in 'bogus=1'"
        );
        assert_eq!(err("sip.level"), "log_options: missing '=' in 'sip.level'");
        assert!(err("sip.level=loud").starts_with("log_options: bad value 'loud' for 'sip.level'"));
        assert!(err("time=long").contains("'time=long'"));
        assert!(err("time.us=2").contains("expected 0 or 1"));
        assert!(err("file=keep").contains("expected cut"));
        assert!(err("file.rotate=12X").contains("'file.rotate=12X'"));
        assert!(err("file.rotate=99999999999G").contains("file.rotate"));
        assert!(err("cx.max_size=-1").contains("cx.max_size"));
        assert!(err("append=yes").contains("append"));
    }

    #[test]
    fn apply_is_atomic_and_layered() {
        let mut o = parse("sip.level=debug");
        assert!(o.apply("ims.level=info,bad.level=x").is_err());
        assert_eq!(
            o.layer(Layer::Ims).level,
            LevelFilter::Error,
            "nothing applied on error"
        );
        o.apply("ims.level=info").expect("valid");
        assert_eq!(
            o.layer(Layer::Sip).level,
            LevelFilter::Debug,
            "previous state kept"
        );
        assert_eq!(o.layer(Layer::Ims).level, LevelFilter::Info);
    }

    #[test]
    fn display_round_trips() {
        let o = parse("all.level=info,sip.max_size=8,ipsec.verbose=1,time=full,file.rotate=1K,file.path=/x,append=1");
        let text = o.to_string();
        assert!(text.starts_with("ims.level=info,ims.max_size=0,"), "{text}");
        assert_eq!(parse(&text), o);
    }

    #[test]
    fn hex_limit_needs_debug() {
        let o = parse("sip.level=debug,sip.max_size=16,cx.level=debug,cx.payload=1,rx.max_size=9");
        assert_eq!(o.layer(Layer::Sip).hex_limit(), 16);
        assert_eq!(o.layer(Layer::Cx).hex_limit(), u32::MAX);
        assert_eq!(o.layer(Layer::Rx).hex_limit(), 0);
    }
}
