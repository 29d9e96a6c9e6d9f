//! Start-up: from the typed configuration to running workers, log service
//! and control state. Prints what the configuration asked for that is not
//! active yet, once, so nothing is silently ignored.

use super::core::Control;
use super::regevent::RegEvents;
use crate::config::typed::{Backend as CfgBackend, Config, Feature};
use crate::config::Loaded;
use crate::endpoint::{Endpoint, EndpointConfig, MediaPlaneConfig};
use crate::engine::{Backend, Engine, EngineConfig, Listeners};
use crate::ims::hss::Hss;
use crate::ims::registrar::{Registrar, RegistrarConfig};
use crate::log::{self, LogConfig};
use crate::sip::transaction::{self, TimerConfig};
use crate::stats::SipCounters;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The features this build carries out; properties of other features are
/// accepted, validated and listed as not active yet.
pub fn active(f: Feature) -> bool {
    matches!(
        f,
        Feature::Core
            | Feature::Sip
            | Feature::Registration
            | Feature::Calls
            | Feature::Media
            | Feature::Sms
            | Feature::Logs
            | Feature::Engine
            | Feature::Persistence
            | Feature::RemoteApi
            | Feature::Ipsec
    )
}

/// Properties of active features that this build still does not carry out (generic paths;
/// a listed path covers its children).
const NOT_BUILT: &[&str] = &[
    "sms_forced_cp_cause",
    "sctp_addr",
];

/// Whether the property at generic `path` has an effect in this build.
pub fn active_property(path: &str) -> bool {
    let built = !NOT_BUILT.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('.')));
    built && active(crate::config::typed::feature_of(path))
}

fn engine_config(cfg: &Config) -> EngineConfig {
    let e = &cfg.engine;
    let workers = (e.engine.workers > 0).then_some(e.engine.workers as usize);
    let n = workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)));
    EngineConfig {
        backend: match e.engine.backend {
            CfgBackend::Auto => Backend::Auto,
            CfgBackend::Uring => Backend::Uring,
            CfgBackend::Epoll => Backend::Epoll,
        },
        workers,
        cpus: e.engine.cpus.iter().map(|c| *c as usize).collect(),
        queue_capacity: e.limits.queue_depth as usize,
        max_tcp_conns: (e.limits.max_tcp_connections as usize / n).max(16),
        max_msg_size: e.limits.max_message_size as usize,
        tcp_keepalive: cfg.sip.tcp_keepalive,
        tcp_keepcount: cfg.sip.tcp_keepcount,
        ..EngineConfig::default()
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.clamp(0.001, 3600.0))
}

fn endpoint_config(cfg: &Config, n_workers: usize) -> EndpointConfig {
    let mut local_hosts: Vec<String> = Vec::new();
    if let Some(d) = &cfg.sip.domain {
        local_hosts.push(d.to_ascii_lowercase());
    }
    for a in &cfg.sip.sip_addr {
        let ip = a.addr.ip();
        local_hosts.push(ip.to_string());
        if ip.is_ipv6() {
            local_hosts.push(format!("[{ip}]"));
        }
    }
    local_hosts.push("localhost".into());
    // About 3.7 KiB per transaction (slot, index, timers, 2 KiB buffer):
    // at most 32,768 per worker (~120 MiB); under pressure the layer reclaims
    // transactions that only wait out Timer J/K/I/D/L/M.
    let per_worker = (cfg.engine.limits.max_transactions as usize / n_workers.max(1)).clamp(1024, 32_768);
    let mut transactions = transaction::Config::with_capacity(per_worker);
    transactions.timers = TimerConfig { t1: secs(cfg.sip.timer_t1), t2: secs(cfg.sip.timer_t2), t4: secs(cfg.sip.timer_t4) };
    let media_addr = cfg.sip.sip_addr.first();
    EndpointConfig {
        local_hosts,
        user_agent: cfg.sip.user_agent.clone(),
        transactions,
        max_message_size: cfg.engine.limits.max_message_size as usize,
        media: MediaPlaneConfig {
            bind_ip: media_addr.map_or(std::net::Ipv4Addr::LOCALHOST.into(), |a| a.addr.ip()),
            port_min: media_addr.map_or(10000, |a| a.port_min),
            port_max: media_addr.map_or(20000, |a| a.port_max),
            max_sessions: (cfg.engine.limits.max_dialogs as usize / n_workers.max(1)).clamp(16, 2048),
            delay_packets: 4096,
        },
        media_board: None,
    }
}

fn registrar_config(cfg: &Config) -> RegistrarConfig {
    let domain = cfg.sip.domain.clone().unwrap_or_else(|| "ims.mnc001.mcc001.3gppnetwork.org".into());
    RegistrarConfig {
        service_route: format!("<sip:orig@scscf.{domain};lr>"),
        domain,
        binding_expires: cfg.sip.binding_expires,
        max_expires: 864_000,
        path: (!cfg.sip.path.is_empty()).then(|| format!("<{};lr>", cfg.sip.path)),
        max_records: cfg.engine.limits.max_bindings as usize,
    }
}

fn log_config(cfg: &Config, base: &Path) -> LogConfig {
    let file = cfg.log.log_filename.as_ref().map(|f| {
        let p = Path::new(f);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        }
    });
    LogConfig {
        file,
        options: cfg.log.log_options.clone(),
        sync: cfg.log.log_sync,
        com_log_count: cfg.remote_api.com_log_count as usize,
        stderr: true,
        src: cfg.remote_api.com_name.clone(),
        ..LogConfig::default()
    }
}

/// Builds everything and starts the workers.
pub fn start(loaded: Loaded, path: Option<&Path>) -> Result<Control, String> {
    let Loaded { config: cfg, warnings } = loaded;
    for w in &warnings {
        eprintln!("{w}");
    }
    let inactive = cfg.inactive_properties(&active_property);
    if !inactive.is_empty() {
        eprintln!("ringcore: accepted, not active yet: {}", inactive.join(", "));
    }
    let base = path.and_then(Path::parent).map(Path::to_path_buf).unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let (logger, logctl) = log::start(log_config(&cfg, &base)).map_err(|e| format!("cannot start logging: {e}"))?;
    let hss = Hss::from_config(&cfg).map_err(|e| e.0)?;
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let registrar = Registrar::new(registrar_config(&cfg), hss, seed ^ std::process::id() as u64);

    let ecfg = engine_config(&cfg);
    let listeners = Listeners {
        udp: cfg.sip.sip_addr.iter().map(|a| a.bind_addr).collect(),
        tcp: cfg.sip.sip_addr.iter().map(|a| a.bind_addr).collect(),
    };
    let n_guess = ecfg.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)));
    let mut epcfg = endpoint_config(&cfg, n_guess);
    let media_board = Arc::new(crate::media::MediaBoard::new(epcfg.media.port_min, epcfg.media.port_max));
    epcfg.media_board = Some(media_board.clone());
    let counters: Vec<Arc<SipCounters>> = (0..n_guess.max(64)).map(|_| Arc::new(SipCounters::default())).collect();
    let shared = counters.clone();
    let engine = Engine::start(ecfg, &listeners, move |ctx| {
        let c = shared.get(ctx.worker).cloned().unwrap_or_default();
        Endpoint::new(ctx, epcfg.clone(), c)
    })
    .map_err(|e| format!("cannot start the engine: {e:?}"))?;
    let n = engine.n_workers();
    let local = cfg.sip.sip_addr.first().map(|a| a.addr.to_string()).unwrap_or_else(|| "127.0.0.1:5060".into());
    eprintln!(
        "ringcore: {} worker(s) on the {:?} backend; SIP on {} (UDP and TCP); {} subscriber(s)",
        n,
        engine.backend(),
        listeners.udp.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "),
        registrar.hss.len()
    );
    let regevents = RegEvents::new(local.clone(), cfg.sip.subscribe_expires, cfg.sip.tcp_threshold as usize);
    let policy = super::call_policy::CallPolicy::from_config(&cfg);
    let mut calls = super::calls::Calls::new(local.clone(), cfg.engine.limits.max_dialogs as usize, n);
    calls.set_policy(policy.clone());
    let domain = cfg.sip.domain.clone().unwrap_or_default();
    let first = cfg.sip.sip_addr.first();
    let mut echo = super::echo::Echo::new(
        cfg.calls.echo.iter().map(|i| i.public_identity(&domain)).collect(),
        &local,
        (cfg.engine.limits.max_dialogs as usize).min(2048 * n),
    );
    echo.set_policy(policy.clone());
    echo.set_templates(super::call_files::echo_templates(&cfg));
    let mut mt = super::mt_call::MtCalls::new(local.clone(), format!("sip:ringcore@{domain}"), n, 1024);
    mt.set_policy(policy);
    mt.set_sdp(super::call_files::MtSdp::from_config(&cfg));
    let media_ports = super::anchor::MediaPorts::new(
        first.map_or(10000, |a| a.port_min),
        first.map_or(20000, |a| a.port_max),
        n,
        first.map_or(std::net::Ipv4Addr::LOCALHOST.into(), |a| a.addr.ip()),
    );
    let state_file = cfg.ue_db_filename.as_ref().map(|f| base.join(f));
    let mut control = Control::new(super::core::Parts {
        cfg,
        engine,
        registrar,
        regevents,
        calls,
        echo,
        media_ports,
        mt,
        logger,
        logctl,
        sip_counters: counters[..n].to_vec(),
        media_board,
    });
    control.start_net()?;
    if let Some(path) = state_file {
        let r = control.persist_to(path.clone())?;
        eprintln!(
            "ringcore: state {}: {} registration(s) restored, {} expired contact(s) dropped, {} SQN(s)",
            path.display(),
            r.records,
            r.expired,
            r.sqns
        );
    }
    Ok(control)
}
