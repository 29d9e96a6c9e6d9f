//! A whole load run: start the engine with one [`Shard`] per worker, open the UE
//! sockets, run the scenario's phases one after the other (each open-loop at its rate,
//! each bounded by a deadline), collect the shards' metrics and measure the process's
//! CPU time. Every wait is bounded, so an unreachable target ends in timeouts.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{Backend, Engine, EngineConfig, Listeners};

use super::metrics::{Action, Counts, Metrics};
use super::plan::{Mix, Phase};
use super::profile::Population;
use super::shard::{Command, Event, Progress, Setup, Shard};
use super::ue::Shared;

/// Everything a run needs (see `args` for the command line).
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The IMS core (P-CSCF) address.
    pub target: SocketAddr,
    /// The subscribers.
    pub population: Population,
    /// Number of UEs.
    pub ues: usize,
    /// Engine workers.
    pub workers: usize,
    /// CPUs to pin the workers to (empty: 0, 1, ...).
    pub cpus: Vec<usize>,
    /// Force the epoll backend.
    pub epoll: bool,
    /// `--batch-us`: the engine's batching interval (`EngineConfig::coalesce`).
    pub batch: Option<Duration>,
    /// Registration rate (per second).
    pub reg_rate: f64,
    /// Call rate (per second).
    pub rate: f64,
    /// Ramp-up of every phase.
    pub ramp: Duration,
    /// Calls to the echo IMPU.
    pub echo_calls: u64,
    /// UE-to-UE calls.
    pub ue_calls: u64,
    /// UE-to-UE SMS (`None`: SMS off, UEs register without `+g.3gpp.smsip`).
    pub sms: Option<super::sms::SmsOptions>,
    /// Echo IMPU (Request-URI).
    pub echo_uri: String,
    /// Call hold time.
    pub hold: Duration,
    /// Callee answer delay (180 → 200).
    pub answer_delay: Duration,
    /// Transaction timeout.
    pub timeout: Duration,
    /// Registration Expires.
    pub expires: u32,
    /// A busy-hour mix run for `busy_hour_time` after the registrations (instead of the
    /// fixed-count call phases).
    pub busy_hour: Option<Mix>,
    /// Length of the busy-hour phase.
    pub busy_hour_time: Duration,
    /// One socket per worker for all its UEs (batched I/O; UEs share one address).
    pub shared_socket: bool,
    /// Skip the initial registration phase (UEs already registered).
    pub skip_register: bool,
    /// Re-register every UE after the calls.
    pub reregister: bool,
    /// De-register every UE at the end.
    pub deregister: bool,
    /// Bound on the whole run.
    pub max_time: Duration,
    /// Local address of the UEs (`None`: 127.x.y.z per UE; needs a loopback target).
    pub local_ip: Option<IpAddr>,
    /// `--ipsec EALG/AALG`: sec-agree and ESP towards the P-CSCF.
    pub ipsec: Option<super::ipsec::IpsecChoice>,
}

/// One phase as it went.
#[derive(Clone, Debug)]
pub struct PhaseReport {
    /// Its action (a label for a mix).
    pub action: Action,
    /// True for a busy-hour mix (calls and re-registrations).
    pub mix: bool,
    /// Actions scheduled.
    pub count: u64,
    /// Rate asked for.
    pub rate: f64,
    /// Wall time from start to the last shard done.
    pub elapsed: Duration,
    /// CPU time (user + system) of the whole ringload process during the phase.
    pub cpu: Duration,
    /// True when its deadline ended it (actions still running were counted as timeouts).
    pub cut: bool,
}

/// The outcome of a run.
#[derive(Debug)]
pub struct RunResult {
    /// All shards' metrics merged.
    pub metrics: Metrics,
    /// The phases in order.
    pub phases: Vec<PhaseReport>,
    /// Wall time of the run (sockets open → last phase done).
    pub wall: Duration,
    /// CPU time (user + system) this process used during the phases.
    pub cpu: Duration,
    /// Number of workers.
    pub workers: usize,
}

/// What the run reports while it goes (for the progress display).
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    /// The phase running.
    pub action: Action,
    /// Its number of actions.
    pub count: u64,
    /// Time since the phase started.
    pub elapsed: Duration,
    /// Counts of that action over all shards.
    pub counts: Counts,
    /// Largest p50/p99 (µs) of the phase's main metric over the shards.
    pub p50_us: u64,
    /// p99 (µs).
    pub p99_us: u64,
}

/// Why a run could not start.
#[derive(Debug)]
pub enum RunError {
    /// The engine did not start.
    Engine(String),
    /// A shard could not open its sockets.
    Sockets(String),
    /// A shard did not answer in time.
    Stalled(&'static str),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Engine(e) => write!(f, "engine: {e}"),
            RunError::Sockets(e) => write!(f, "opening UE sockets: {e}"),
            RunError::Stalled(what) => write!(f, "a worker did not answer ({what})"),
        }
    }
}

impl std::error::Error for RunError {}

/// Largest number of run-time sockets one engine worker may open.
pub const MAX_UES_PER_WORKER: usize = 32_768;

/// Process CPU time (user + system, every thread) from /proc/self/stat fields 14 and 15,
/// in USER_HZ ticks (100 per second in the Linux ABI); zero where /proc is unavailable.
pub fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return Duration::ZERO };
    // The command name (field 2) may contain spaces: count fields after its ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let mut f = rest.split_ascii_whitespace().skip(11);
    let ticks = |s: Option<&str>| s.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let (utime, stime) = (ticks(f.next()), ticks(f.next()));
    Duration::from_millis((utime + stime) * 10)
}

/// The soft limit on open files, from /proc/self/limits (`None` when unreadable or
/// unlimited).
pub fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_ascii_whitespace().next()?.parse().ok()
}

/// The phases of `cfg`, in order, as (action, mix, count, rate).
pub fn phases(cfg: &RunConfig) -> Vec<(Action, Option<Mix>, u64, f64)> {
    let mut v = Vec::new();
    let n = cfg.ues as u64;
    if !cfg.skip_register {
        v.push((Action::Register, None, n, cfg.reg_rate));
    }
    if let Some(m) = cfg.busy_hour {
        let rate = m.rate(cfg.ues);
        let count = (rate * cfg.busy_hour_time.as_secs_f64()).round() as u64;
        if count > 0 {
            v.push((Action::UeCall, Some(m), count, rate));
        }
    }
    if cfg.echo_calls > 0 {
        v.push((Action::EchoCall, None, cfg.echo_calls, cfg.rate));
    }
    if cfg.ue_calls > 0 {
        v.push((Action::UeCall, None, cfg.ue_calls, cfg.rate));
    }
    if let Some(s) = cfg.sms.as_ref().filter(|s| s.count > 0) {
        v.push((Action::Sms, None, s.count, cfg.rate));
    }
    if cfg.reregister {
        v.push((Action::Reregister, None, n, cfg.reg_rate));
    }
    if cfg.deregister {
        v.push((Action::Deregister, None, n, cfg.reg_rate));
    }
    v
}

/// Runs the scenario; `on_progress` is called about every 250 ms.
pub fn run(cfg: &RunConfig, on_progress: &mut dyn FnMut(&Snapshot)) -> Result<RunResult, RunError> {
    let workers = cfg.workers.max(1);
    // One socket per UE plus the engine's own descriptors (rings, eventfds, queues).
    let needed = if cfg.shared_socket { 0 } else { cfg.ues as u64 } + 64 + 16 * workers as u64;
    if let Some(limit) = open_files_limit().filter(|&l| l < needed) {
        return Err(RunError::Sockets(format!("{} UEs need about {needed} open files but the limit is {limit} (raise it with ulimit -n)", cfg.ues)));
    }
    let per_worker = cfg.ues.div_ceil(workers);
    let sqn_store = matches!(&cfg.population.credentials, super::profile::Credentials::Aka { algo, .. } if !matches!(algo, crate::auth::SimAlgo::Xor { .. }));
    let shared = Arc::new(Shared {
        target: cfg.target,
        registrar: format!("sip:{}", cfg.population.domain),
        sim: cfg.population.sim().map_err(|e| RunError::Engine(format!("SIM: {e}")))?,
        expires: cfg.expires,
        timeout: cfg.timeout,
        hold: cfg.hold,
        answer_delay: cfg.answer_delay,
        epoch: Instant::now(),
        run_id: std::process::id() ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() << 4),
    });
    let setup = Arc::new(Setup {
        population: cfg.population.clone(),
        ues: cfg.ues,
        local_ip: cfg.local_ip,
        echo_uri: cfg.echo_uri.clone(),
        shared_socket: cfg.shared_socket,
        sqn_store,
        sms: cfg.sms.as_ref().map(|o| Arc::new(super::sms::SmsConfig::new(o, cfg.timeout, shared.run_id))),
        ipsec: cfg.ipsec,
        shared,
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ecfg = EngineConfig {
        backend: if cfg.epoll { Backend::Epoll } else { Backend::Auto },
        workers: Some(workers),
        cpus: if cfg.cpus.is_empty() { (0..workers).map(|i| i % cores).collect() } else { cfg.cpus.clone() },
        queue_capacity: 1024,
        out_slots: 4096,
        out_slot_size: if cfg.ipsec.is_some() { super::ipsec::MAX_ESP } else { super::sipmsg::MAX_MSG },
        // --ipsec: a second socket per UE (its protected client port).
        max_media_sockets: per_worker.clamp(1, MAX_UES_PER_WORKER) * if cfg.ipsec.is_some() { 2 } else { 1 },
        coalesce: cfg.batch,
        ..EngineConfig::default()
    };
    let mut engine: Engine<Command, Event> =
        Engine::start(ecfg, &Listeners::default(), move |ctx| Shard::new(setup.clone(), ctx)).map_err(|e| RunError::Engine(e.to_string()))?;
    broadcast(&engine, workers, || Command::Open)?;
    let open_deadline = Instant::now() + Duration::from_secs(30) + Duration::from_micros(cfg.ues as u64 * 50);
    let mut opened = 0;
    while opened < workers {
        match next_event(&mut engine, open_deadline) {
            Some((_, Event::Opened(Ok(_)))) => opened += 1,
            Some((_, Event::Opened(Err(e)))) => return Err(RunError::Sockets(e)),
            Some(_) => {}
            None => return Err(RunError::Stalled("opening sockets")),
        }
    }
    let run_start = Instant::now();
    let run_end = run_start + cfg.max_time;
    let cpu0 = cpu_time();
    let mut reports = Vec::new();
    for (action, mix, count, rate) in phases(cfg) {
        let now = Instant::now();
        if now >= run_end {
            break;
        }
        let start = now + Duration::from_millis(20);
        let mut phase = Phase { action, mix, count, rate, ramp: cfg.ramp, start, ues: cfg.ues, deadline: start };
        let calls = matches!(action, Action::EchoCall | Action::UeCall);
        let tail = cfg.timeout * 2 + if calls { cfg.hold + cfg.answer_delay + cfg.timeout } else { Duration::ZERO };
        phase.deadline = (phase.last() + tail + Duration::from_secs(1)).min(run_end);
        let cpu_start = cpu_time();
        broadcast(&engine, workers, || Command::Phase(phase))?;
        let cut = wait_phase(&mut engine, workers, &phase, on_progress);
        let cpu = cpu_time().saturating_sub(cpu_start);
        reports.push(PhaseReport { action, mix: mix.is_some(), count, rate, elapsed: start.elapsed(), cpu, cut });
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let wall = run_start.elapsed();
    broadcast(&engine, workers, || Command::Finish)?;
    let mut metrics = Metrics::new();
    let mut finals = 0;
    let final_deadline = Instant::now() + Duration::from_secs(10);
    while finals < workers {
        match next_event(&mut engine, final_deadline) {
            Some((_, Event::Final(m))) => {
                metrics.merge(&m);
                finals += 1;
            }
            Some(_) => {}
            None => return Err(RunError::Stalled("final metrics")),
        }
    }
    let _ = engine.shutdown();
    Ok(RunResult { metrics, phases: reports, wall, cpu, workers })
}

fn broadcast(engine: &Engine<Command, Event>, workers: usize, cmd: impl Fn() -> Command) -> Result<(), RunError> {
    for w in 0..workers {
        let q = engine.commands(w).ok_or(RunError::Stalled("no command queue"))?;
        let mut c = cmd();
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Err(back) = q.send(c) {
            if Instant::now() >= deadline {
                return Err(RunError::Stalled("command queue full"));
            }
            c = back;
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    Ok(())
}

fn next_event(engine: &mut Engine<Command, Event>, deadline: Instant) -> Option<(usize, Event)> {
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        if let Some(e) = engine.events().recv_timeout(left.min(Duration::from_millis(100))) {
            return Some(e);
        }
    }
}

/// Waits until every shard is done with `phase` (or its deadline plus a grace period).
/// True when the phase was cut by its deadline.
fn wait_phase(engine: &mut Engine<Command, Event>, workers: usize, phase: &Phase, on_progress: &mut dyn FnMut(&Snapshot)) -> bool {
    let mut latest = vec![Progress::default(); workers];
    let mut done = 0;
    let grace = phase.deadline + Duration::from_secs(2);
    let mut last_report = Instant::now();
    while done < workers {
        match next_event(engine, grace.min(Instant::now() + Duration::from_millis(250))) {
            Some((w, Event::Progress(p))) => {
                if let Some(l) = latest.get_mut(w) {
                    *l = p;
                }
            }
            Some((_, Event::PhaseDone)) => done += 1,
            Some(_) => {}
            None if Instant::now() >= grace => return true,
            None => {}
        }
        if last_report.elapsed() >= Duration::from_millis(200) || done == workers {
            last_report = Instant::now();
            on_progress(&snapshot(phase, &latest));
        }
    }
    Instant::now() >= phase.deadline
}

fn snapshot(phase: &Phase, latest: &[Progress]) -> Snapshot {
    let kinds: &[Action] = if phase.mix.is_some() { &[Action::EchoCall, Action::UeCall, Action::Reregister] } else { &[phase.action] };
    let mut counts = Counts::default();
    for p in latest {
        for c in kinds.iter().filter_map(|k| Action::ALL.iter().position(|a| a == k)).filter_map(|i| p.counts.get(i)) {
            counts.attempted += c.attempted;
            counts.succeeded += c.succeeded;
            counts.failed += c.failed;
        }
    }
    Snapshot {
        action: phase.action,
        count: phase.count,
        elapsed: phase.start.elapsed(),
        counts,
        p50_us: latest.iter().map(|p| p.p50_us).max().unwrap_or(0),
        p99_us: latest.iter().map(|p| p.p99_us).max().unwrap_or(0),
    }
}
