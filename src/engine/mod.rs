//! The data-plane engine: N pinned worker threads, each owning one member of every
//! SO_REUSEPORT group (UDP sockets and TCP listeners, steered by a CBPF program so that
//! [`steer`] predicts the owning worker), a protocol-agnostic [`Handler`], and one of two
//! I/O backends: io_uring (multishot recvmsg over a provided-buffer ring) or mio/epoll
//! (recvmmsg/sendmmsg). Handlers describe I/O once, as [`Op`]s in an [`Outbox`]; either
//! backend carries them out. Control and workers talk through bounded lock-free queues
//! with eventfd wake-ups.

mod counters;
pub mod echo;
mod epoll;
mod gso;
mod handler;
mod outbox;
pub(crate) mod queue;
pub mod raw_esp;
mod sockets;
mod steer;
mod sys;
mod tcp;
mod uring;
mod worker;

#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

pub use counters::{CounterSnapshot, WorkerCounters};
pub use handler::{ConnId, EventSender, Handler, SocketId, StreamVerdict, WorkerCtx};
pub use outbox::{BufId, Op, Outbox, OutboxFull};
pub use queue::{EventFd, EventReceiver, Sender, Waker};
pub use steer::steer;
pub use sys::disable_transparent_huge_pages;

use queue::{channel, Receiver};
use steer::{bind_group, Proto};
use tcp::{Tcp, TcpLimits};
use worker::Core;

/// Producer handle of a worker's command queue.
pub type CommandSender<C> = Sender<C>;

/// Environment variable that forces the epoll backend when set to `1`.
pub const FORCE_EPOLL_ENV: &str = "RINGCORE_FORCE_EPOLL";

/// Which I/O backend the workers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// io_uring when it works here, epoll otherwise.
    Auto,
    /// io_uring; start fails if it is unavailable.
    Uring,
    /// mio/epoll with recvmmsg/sendmmsg.
    Epoll,
}

/// Engine configuration. Every queue, pool and table is bounded by a field here.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Backend choice (`RINGCORE_FORCE_EPOLL=1` overrides it).
    pub backend: Backend,
    /// Number of workers; default: available cores minus one, at least 1.
    pub workers: Option<usize>,
    /// CPUs to pin workers to (worker i uses `cpus[i % len]`); empty: cores 1.., wrapping.
    pub cpus: Vec<usize>,
    /// Capacity of each command queue and each event queue.
    pub queue_capacity: usize,
    /// io_uring submission queue entries.
    pub ring_entries: u32,
    /// Provided receive buffers per worker (io_uring; rounded up to a power of two).
    pub rx_buffers: u16,
    /// Largest datagram received in full (bigger ones are truncated).
    pub max_datagram: usize,
    /// Messages per recvmmsg/sendmmsg call (epoll backend).
    pub batch: usize,
    /// Outbox payload slots per worker.
    pub out_slots: usize,
    /// Bytes per outbox slot (largest payload of one op).
    pub out_slot_size: usize,
    /// TCP connections per worker; beyond it new connections are closed and counted.
    pub max_tcp_conns: usize,
    /// Receive buffer per TCP connection (largest framed message).
    pub max_msg_size: usize,
    /// Queued sends per TCP connection before the connection is dropped.
    pub tcp_send_queue: usize,
    /// TCP_KEEPIDLE (and KEEPINTVL) in seconds; 0 disables keepalive.
    pub tcp_keepalive: u32,
    /// TCP_KEEPCNT (0: system default).
    pub tcp_keepcount: u32,
    /// listen(2) backlog of each TCP listener.
    pub tcp_backlog: i32,
    /// Run-time UDP sockets (media ports, `Outbox::open_udp`) per worker, at most 32768;
    /// beyond it opening is refused and counted.
    pub max_media_sockets: usize,
    /// Send trains of same-size datagrams to one destination with UDP GSO (`UDP_SEGMENT`);
    /// switched off at start when the kernel refuses it.
    pub gso: bool,
    /// Batching interval: a worker reads its sockets at most once per interval, sleeping
    /// out the rest of it after a round, so datagrams and sends gather into bigger
    /// recvmmsg/sendmmsg batches and the thread is switched in less often. Timer deadlines
    /// still end the sleep on time. `None` (the default): react to every datagram at once.
    /// Costs up to one interval of reaction time per received datagram (ringload
    /// `--batch-us`, like SIPp's timer resolution); never use it for the core.
    pub coalesce: Option<std::time::Duration>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            backend: Backend::Auto,
            workers: None,
            cpus: Vec::new(),
            queue_capacity: 4096,
            ring_entries: 1024,
            rx_buffers: 1024,
            max_datagram: 8192,
            batch: 32,
            out_slots: 2048,
            out_slot_size: 8192,
            max_tcp_conns: 1024,
            max_msg_size: 64 * 1024,
            tcp_send_queue: 64,
            tcp_keepalive: 0,
            tcp_keepcount: 0,
            tcp_backlog: 1024,
            max_media_sockets: 4096,
            gso: true,
            coalesce: None,
        }
    }
}

/// Addresses to serve. Port 0 picks one port, shared by the whole reuseport group.
#[derive(Debug, Clone, Default)]
pub struct Listeners {
    /// UDP addresses; `SocketId(i)` is `udp[i]`.
    pub udp: Vec<SocketAddr>,
    /// TCP listening addresses.
    pub tcp: Vec<SocketAddr>,
}

/// Why the engine could not start or stop cleanly.
#[derive(Debug)]
pub enum EngineError {
    /// `Backend::Uring` was requested but io_uring is unavailable.
    UringUnavailable,
    /// A socket could not be set up.
    Socket(SocketAddr, io::Error),
    /// A worker failed to start or ended with an error.
    Worker(usize, io::Error),
    /// A worker thread panicked.
    Panicked(usize),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::UringUnavailable => write!(f, "io_uring is unavailable"),
            EngineError::Socket(a, e) => write!(f, "socket {a}: {e}"),
            EngineError::Worker(i, e) => write!(f, "worker {i}: {e}"),
            EngineError::Panicked(i) => write!(f, "worker {i} panicked"),
        }
    }
}

impl std::error::Error for EngineError {}

/// A running engine: handles to its workers.
pub struct Engine<C: Send + 'static, E: Send + 'static> {
    commands: Vec<CommandSender<C>>,
    wakers: Vec<Arc<Waker>>,
    events: EventReceiver<E>,
    counters: Vec<Arc<WorkerCounters>>,
    threads: Vec<JoinHandle<io::Result<()>>>,
    stop: Arc<AtomicBool>,
    backend: Backend,
    udp: Vec<SocketAddr>,
    tcp: Vec<SocketAddr>,
}

/// Everything one worker thread is handed.
struct WorkerSetup<C, E> {
    index: usize,
    n_workers: usize,
    backend: Backend,
    cfg: EngineConfig,
    cpu: Option<core_affinity::CoreId>,
    udp: Vec<OwnedFd>,
    listeners: Vec<OwnedFd>,
    udp_addrs: Vec<SocketAddr>,
    tcp_addrs: Vec<SocketAddr>,
    cmds: Receiver<C>,
    waker: Arc<Waker>,
    /// The control thread's waker (the events' consumer).
    control: Arc<Waker>,
    events: Sender<E>,
    counters: Arc<WorkerCounters>,
    stop: Arc<AtomicBool>,
}

impl<C: Send + 'static, E: Send + 'static> Engine<C, E> {
    /// Binds every listener once per worker, starts the workers (each builds its handler
    /// with `factory`) and returns when all are running.
    pub fn start<H, F>(mut cfg: EngineConfig, listeners: &Listeners, factory: F) -> Result<Engine<C, E>, EngineError>
    where
        H: Handler<Command = C, Event = E>,
        F: Fn(WorkerCtx<E>) -> H + Send + Sync + 'static,
    {
        cfg.gso = cfg.gso && std::env::var_os("RINGCORE_NO_GSO").is_none() && gso::probe();
        let n = worker_count(&cfg);
        let backend = resolve_backend(cfg.backend)?;
        let (udp_socks, udp_addrs) = bind_all(&listeners.udp, Proto::Udp, n)?;
        let (tcp_socks, tcp_addrs) = bind_all(&listeners.tcp, Proto::Tcp { backlog: cfg.tcp_backlog }, n)?;
        let control = Arc::new(Waker::new().map_err(|e| EngineError::Worker(0, e))?);
        let stop = Arc::new(AtomicBool::new(false));
        let factory = Arc::new(factory);
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut engine = Engine {
            commands: Vec::with_capacity(n),
            wakers: Vec::with_capacity(n),
            events: EventReceiver::new(Vec::new(), control.clone()),
            counters: Vec::with_capacity(n),
            threads: Vec::with_capacity(n),
            stop: stop.clone(),
            backend,
            udp: udp_addrs.clone(),
            tcp: tcp_addrs.clone(),
        };
        let mut event_queues = Vec::with_capacity(n);
        let (mut udp_socks, mut tcp_socks) = (udp_socks.into_iter(), tcp_socks.into_iter());
        for index in 0..n {
            let waker = Arc::new(Waker::new().map_err(|e| EngineError::Worker(index, e))?);
            let (cmd_tx, cmd_rx) = channel(cfg.queue_capacity, waker.clone());
            let (ev_tx, ev_rx) = channel(cfg.queue_capacity, control.clone());
            let counters = Arc::new(WorkerCounters::default());
            let setup = WorkerSetup {
                index,
                n_workers: n,
                backend,
                cpu: pick_cpu(&cfg, index),
                cfg: cfg.clone(),
                udp: udp_socks.next().unwrap_or_default(),
                listeners: tcp_socks.next().unwrap_or_default(),
                udp_addrs: udp_addrs.clone(),
                tcp_addrs: tcp_addrs.clone(),
                cmds: cmd_rx,
                waker: waker.clone(),
                control: control.clone(),
                events: ev_tx,
                counters: counters.clone(),
                stop: stop.clone(),
            };
            let (f, ready) = (factory.clone(), ready_tx.clone());
            let thread = std::thread::Builder::new()
                .name(format!("ringcore-w{index}"))
                .spawn(move || worker_main(setup, &*f, ready))
                .map_err(|e| EngineError::Worker(index, e))?;
            engine.threads.push(thread);
            engine.commands.push(cmd_tx);
            engine.wakers.push(waker);
            engine.counters.push(counters);
            event_queues.push(ev_rx);
        }
        engine.events = EventReceiver::new(event_queues, control);
        drop(ready_tx);
        for _ in 0..n {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err((i, e))) => {
                    let _ = engine.shutdown();
                    return Err(EngineError::Worker(i, e));
                }
                Err(_) => {
                    let _ = engine.shutdown();
                    return Err(EngineError::Panicked(0));
                }
            }
        }
        Ok(engine)
    }

    /// Number of workers.
    pub fn n_workers(&self) -> usize {
        self.commands.len()
    }

    /// The backend actually in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Command queue of worker `i`.
    pub fn commands(&self, i: usize) -> Option<&CommandSender<C>> {
        self.commands.get(i)
    }

    /// The events of all workers, behind one eventfd.
    pub fn events(&mut self) -> &mut EventReceiver<E> {
        &mut self.events
    }

    /// Counters of worker `i`.
    pub fn counters(&self, i: usize) -> Option<&Arc<WorkerCounters>> {
        self.counters.get(i)
    }

    /// Bound UDP addresses (ports resolved), indexed by `SocketId`.
    pub fn udp_addrs(&self) -> &[SocketAddr] {
        &self.udp
    }

    /// Bound TCP listener addresses (ports resolved).
    pub fn tcp_addrs(&self) -> &[SocketAddr] {
        &self.tcp
    }

    /// Stops every worker and joins it; idempotent. Reports the first worker failure.
    pub fn shutdown(&mut self) -> Result<(), EngineError> {
        self.stop.store(true, Ordering::Release);
        for w in &self.wakers {
            w.force_wake();
        }
        let mut first = Ok(());
        for (i, t) in self.threads.drain(..).enumerate() {
            let r = match t.join() {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(EngineError::Worker(i, e)),
                Err(_) => Err(EngineError::Panicked(i)),
            };
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}

impl<C: Send + 'static, E: Send + 'static> Drop for Engine<C, E> {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn worker_count(cfg: &EngineConfig) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cfg.workers.unwrap_or(cores.saturating_sub(1)).clamp(1, 0xffff)
}

fn resolve_backend(wanted: Backend) -> Result<Backend, EngineError> {
    if std::env::var(FORCE_EPOLL_ENV).is_ok_and(|v| v == "1") {
        return Ok(Backend::Epoll);
    }
    match wanted {
        Backend::Epoll => Ok(Backend::Epoll),
        Backend::Uring if uring::probe() => Ok(Backend::Uring),
        Backend::Uring => Err(EngineError::UringUnavailable),
        Backend::Auto if uring::probe() => Ok(Backend::Uring),
        Backend::Auto => Ok(Backend::Epoll),
    }
}

fn pick_cpu(cfg: &EngineConfig, index: usize) -> Option<core_affinity::CoreId> {
    if !cfg.cpus.is_empty() {
        let id = *cfg.cpus.get(index % cfg.cpus.len())?;
        return Some(core_affinity::CoreId { id });
    }
    let ids = core_affinity::get_core_ids()?;
    if ids.is_empty() {
        return None;
    }
    ids.get((index + 1) % ids.len()).copied()
}

/// Binds one reuseport group per address; returns per-worker socket lists and the bound
/// addresses.
fn bind_all(addrs: &[SocketAddr], proto: Proto, n: usize) -> Result<(Vec<Vec<OwnedFd>>, Vec<SocketAddr>), EngineError> {
    let mut per_worker: Vec<Vec<OwnedFd>> = (0..n).map(|_| Vec::with_capacity(addrs.len())).collect();
    let mut bound = Vec::with_capacity(addrs.len());
    for &addr in addrs {
        let (socks, local) = bind_group(addr, proto, n).map_err(|e| EngineError::Socket(addr, e))?;
        for (w, s) in per_worker.iter_mut().zip(socks) {
            w.push(s);
        }
        bound.push(local);
    }
    Ok((per_worker, bound))
}

type Ready = mpsc::Sender<Result<(), (usize, io::Error)>>;

/// Body of a worker thread: pin, build the handler and backend, report readiness, run.
fn worker_main<H, F>(s: WorkerSetup<H::Command, H::Event>, factory: &F, ready: Ready) -> io::Result<()>
where
    H: Handler,
    F: Fn(WorkerCtx<H::Event>) -> H,
{
    if let Some(cpu) = s.cpu {
        // Pinning may be refused (cgroup cpuset); the worker then runs unpinned.
        let _ = core_affinity::set_for_current(cpu);
    }
    let ctx = WorkerCtx {
        worker: s.index,
        n_workers: s.n_workers,
        udp: s.udp_addrs,
        tcp: s.tcp_addrs,
        events: EventSender::new(s.events, s.counters.clone()),
        counters: s.counters.clone(),
    };
    let cfg = &s.cfg;
    let limits = TcpLimits {
        max_conns: cfg.max_tcp_conns,
        max_msg: cfg.max_msg_size.max(1),
        send_queue: cfg.tcp_send_queue.max(1),
        keepalive: cfg.tcp_keepalive,
        keepcount: cfg.tcp_keepcount,
    };
    let mut core = Core {
        handler: factory(ctx),
        out: Outbox::with_sockets(cfg.out_slots, cfg.out_slot_size, cfg.max_media_sockets, s.counters.clone()),
        tcp: Tcp::new(s.index, limits, s.counters.clone()),
        udp: s.udp,
        listeners: s.listeners,
        cmds: s.cmds,
        waker: s.waker,
        counters: s.counters.clone(),
        stop: s.stop,
        gso: cfg.gso.then(gso::GsoBatch::new),
        coalesce: cfg.coalesce.filter(|d| !d.is_zero()),
        control: s.control,
        events_woken: 0,
    };
    let fail = |e: io::Error| {
        let _ = ready.send(Err((s.index, io::Error::new(e.kind(), e.to_string()))));
        e
    };
    match s.backend {
        Backend::Epoll => {
            let mut d = epoll::EpollDriver::new(cfg.batch, cfg.max_datagram, s.counters.clone()).map_err(fail)?;
            let _ = ready.send(Ok(()));
            worker::run(&mut core, &mut d)
        }
        _ => {
            let mut d = uring::UringDriver::new(cfg.ring_entries, cfg.rx_buffers, cfg.max_datagram, cfg.out_slots, s.counters.clone())
                .map_err(fail)?;
            let _ = ready.send(Ok(()));
            worker::run(&mut core, &mut d)
        }
    }
}
