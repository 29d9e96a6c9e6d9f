//! The `ringcore` binary: command line, configuration loading and start-up.

use ringcore::config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: per-thread heaps with lock-free frees from other threads. SIP messages are
/// built on one thread and freed on another (worker -> control -> worker); with glibc's
/// malloc those frees took the other thread's arena lock, and the futex waits and wakes
/// of that contention were ~10% of the server's CPU per call (perf/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The embedded default configuration (config/ims.cfg), used when no file is given.
const DEFAULT_CONFIG: &str = include_str!("../config/ims.cfg");
/// Where the embedded configuration's includes are looked up.
const DEFAULT_CONFIG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config");

const USAGE: &str = "\
ringcore: a lab IMS core (P-CSCF, I-CSCF, S-CSCF, HSS)

usage:
  ringcore [CONFIG]              start with CONFIG (default: the embedded config/ims.cfg)
  ringcore --check-config FILE   print the effective configuration as JSON and exit 0,
                                 or print located errors and exit 1
  ringcore api HOST:PORT 'JSON'... [--password P] [--timeout S] [--wait S]
                                 send remote API messages, print every message
                                 received as a JSON line (exit 1 on an error answer)
  ringcore --help                this text

options:
  --monitor                      read monitor commands from stdin even when it is not a terminal
  --no-monitor                   never read stdin

environment:
  RINGCORE_FORCE_EPOLL=1         use the epoll backend even where io_uring works
";

enum Cmd {
    Run { config: Option<PathBuf>, monitor: Option<bool> },
    Check(PathBuf),
    Api(ringcore::api::client::ClientOptions),
    Help,
}

fn seconds(v: Option<&String>, what: &str) -> Result<std::time::Duration, String> {
    let s: f64 = v.ok_or(format!("{what} needs SECONDS"))?.parse().map_err(|_| format!("{what}: not a number"))?;
    if !(0.0..=86_400.0).contains(&s) {
        return Err(format!("{what}: out of range"));
    }
    Ok(std::time::Duration::from_secs_f64(s))
}

/// `ringcore api HOST:PORT 'JSON'... [--password P] [--timeout S] [--wait S]`.
fn parse_api(args: &[String]) -> Result<Cmd, String> {
    let mut it = args.iter();
    let addr = it.next().ok_or("api needs HOST:PORT")?.clone();
    let mut o = ringcore::api::client::ClientOptions {
        addr,
        messages: Vec::new(),
        password: None,
        timeout: std::time::Duration::from_secs(10),
        linger: std::time::Duration::ZERO,
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--password" => o.password = Some(it.next().ok_or("--password needs a value")?.clone()),
            "--timeout" => o.timeout = seconds(it.next(), "--timeout")?,
            "--wait" => o.linger = seconds(it.next(), "--wait")?,
            s => o.messages.push(s.to_owned()),
        }
    }
    Ok(Cmd::Api(o))
}

fn parse_args(args: &[String]) -> Result<Cmd, String> {
    let mut config = None;
    let mut monitor = None;
    if args.first().is_some_and(|a| a == "api") {
        return parse_api(args.get(1..).unwrap_or_default());
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(Cmd::Help),
            "--check-config" => {
                let f = it.next().ok_or("--check-config needs a FILE")?;
                return Ok(Cmd::Check(PathBuf::from(f)));
            }
            "--monitor" => monitor = Some(true),
            "--no-monitor" => monitor = Some(false),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if config.is_none() => config = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    Ok(Cmd::Run { config, monitor })
}

fn load(path: Option<&Path>) -> Result<config::Loaded, config::LoadError> {
    match path {
        Some(p) => config::load(p),
        None => config::load_str("<embedded config/ims.cfg>", DEFAULT_CONFIG, Path::new(DEFAULT_CONFIG_DIR)),
    }
}

fn check(path: &Path) -> ExitCode {
    match config::load(path) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("{w}");
            }
            match serde_json::to_string_pretty(&loaded.config.to_json()) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("cannot print the configuration: {e}");
                    return ExitCode::from(1);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    // Before the heap grows: steady call set-up latency from the first call on.
    let _ = ringcore::engine::disable_transparent_huge_pages();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args) {
        Ok(Cmd::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Cmd::Check(path)) => check(&path),
        Ok(Cmd::Api(opts)) => match ringcore::api::client::run(&opts, &mut std::io::stdout()) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("ringcore api: {e}");
                ExitCode::from(1)
            }
        },
        Ok(Cmd::Run { config, monitor }) => {
            let loaded = match load(config.as_deref()) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(1);
                }
            };
            match ringcore::control::run(loaded, config.as_deref(), monitor) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ringcore: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("ringcore: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
