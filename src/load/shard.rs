//! A shard of UEs on one engine worker: the engine [`Handler`] of ringload. It opens one
//! UDP socket per UE (UE `i` lives on worker `i % n_workers`), fires the actions of the
//! current [`Phase`] it owns at their intended times, routes datagrams to the UE owning
//! the socket, runs UE timers from a min-heap, and turns UE events into [`Metrics`].
//! Progress and results go to the run's thread as [`Event`]s.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{Sqn, SqnParams, UeSqnStore};
use crate::engine::{ConnId, EventSender, Handler, Outbox, SocketId, StreamVerdict, WorkerCtx};

use super::metrics::{Action, Counts, Metric, Metrics};
use super::plan::Phase;
use super::profile::Population;
use super::sipmsg::MAX_MSG;
use super::ue::{Shared, Start, Ue, UeEvent};

/// Interval of progress events.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Actions fired and timers run in one `handle_timeout` (the engine loops on).
const BURST: usize = 256;

/// What the shards share (built once by the run).
#[derive(Debug)]
pub struct Setup {
    /// Per-UE shared settings.
    pub shared: Arc<Shared>,
    /// The subscribers.
    pub population: Population,
    /// Number of UEs.
    pub ues: usize,
    /// Local address every UE binds (`None`: UE `i` binds its own 127.x.y.z).
    pub local_ip: Option<IpAddr>,
    /// Request-URI of echo calls.
    pub echo_uri: String,
    /// One socket per shard for every UE (`--shared-socket`, see [`super::demux`]).
    pub shared_socket: bool,
    /// True when the SIM needs an SQN store per UE (Milenage).
    pub sqn_store: bool,
    /// `--ipsec`: sec-agree and ESP towards the P-CSCF (see [`super::ipsec`]).
    pub ipsec: Option<super::ipsec::IpsecChoice>,
    /// SMS on: every UE takes SMS over IP (see [`super::sms`]).
    pub sms: Option<Arc<super::sms::SmsConfig>>,
}

/// The address UE `i` binds: 127.(1+a).b.(c+1) with `i = 62500 a + 250 b + c`, port 0,
/// so 100k UEs have distinct addresses on loopback; or `local_ip` with an ephemeral port.
pub fn bind_addr(i: usize, local_ip: Option<IpAddr>) -> SocketAddr {
    if let Some(ip) = local_ip {
        return SocketAddr::new(ip, 0);
    }
    let a = (i / 62_500).min(253) as u8;
    let b = ((i / 250) % 250) as u8;
    let c = (i % 250) as u8;
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 1 + a, b, c + 1)), 0)
}

/// Commands from the run to a shard.
#[derive(Debug)]
pub enum Command {
    /// Open the sockets and build the UEs.
    Open,
    /// Run a phase.
    Phase(Phase),
    /// Send the final metrics.
    Finish,
}

/// Live counters of a shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Counts per action, in `Action::ALL` order.
    pub counts: [Counts; Action::ALL.len()],
    /// p50 and p99 (µs) of the current phase's main metric.
    pub p50_us: u64,
    /// p99 (µs).
    pub p99_us: u64,
    /// Datagrams dropped because the outbox was full.
    pub dropped: u64,
}

/// Events from a shard to the run.
#[derive(Debug)]
pub enum Event {
    /// Sockets opened (`Err` says why not).
    Opened(Result<usize, String>),
    /// Periodic counters.
    Progress(Progress),
    /// Every action of the phase this shard owns has ended.
    PhaseDone,
    /// The shard's metrics at the end of the run.
    Final(Box<Metrics>),
}

struct PhaseRun {
    phase: Phase,
    next_j: u64,
    in_flight: u64,
    done_sent: bool,
}

/// The handler of one worker.
pub struct Shard {
    setup: Arc<Setup>,
    worker: usize,
    n_workers: usize,
    ues: Vec<Ue>,
    socks: Vec<SocketId>,
    by_sock: HashMap<SocketId, u32>,
    timers: BinaryHeap<Reverse<(Instant, u32)>>,
    armed: Vec<Option<Instant>>,
    phase: Option<PhaseRun>,
    metrics: Metrics,
    events: EventSender<Event>,
    scratch: Vec<u8>,
    next_progress: Option<Instant>,
    dropped: u64,
    final_pending: bool,
    uri: String,
    shared: Option<SocketId>,
    ipsec: super::ipsec_shard::ShardIpsec,
}

impl Shard {
    /// The shard of worker `ctx.worker`.
    pub fn new(setup: Arc<Setup>, ctx: WorkerCtx<Event>) -> Shard {
        Shard {
            worker: ctx.worker,
            n_workers: ctx.n_workers.max(1),
            ues: Vec::new(),
            socks: Vec::new(),
            by_sock: HashMap::new(),
            timers: BinaryHeap::new(),
            armed: Vec::new(),
            phase: None,
            metrics: Metrics::new(),
            events: ctx.events,
            scratch: vec![0; MAX_MSG],
            next_progress: None,
            dropped: 0,
            final_pending: false,
            uri: String::new(),
            shared: None,
            ipsec: super::ipsec_shard::ShardIpsec::new(setup.ipsec),
            setup,
        }
    }

    /// Number of UEs of worker `w` out of `n`.
    pub fn share(ues: usize, w: usize, n: usize) -> usize {
        (ues + n - 1 - w.min(n - 1)) / n
    }

    fn open(&mut self, now: Instant, out: &mut Outbox) -> Result<usize, String> {
        let s = self.setup.clone();
        let mine = Self::share(s.ues, self.worker, self.n_workers);
        self.ues.reserve_exact(mine);
        self.socks.reserve_exact(mine);
        self.by_sock.reserve(mine);
        self.armed = vec![None; mine];
        self.timers.reserve(mine * 4);
        let sim_store = || UeSqnStore::new(Sqn::new(0)?, SqnParams::DEFAULT).ok().map(Box::new);
        if s.shared_socket {
            let addr = bind_addr(self.worker, s.local_ip);
            let sock = out.open_udp(addr).map_err(|e| format!("worker {}: cannot bind {addr}: {e}", self.worker))?;
            self.shared = Some(sock);
        }
        for k in 0..mine {
            let i = k * self.n_workers + self.worker;
            let addr = bind_addr(i, s.local_ip);
            let sock = match self.shared {
                Some(sock) => sock,
                None => out.open_udp(addr).map_err(|e| format!("UE {i}: cannot bind {addr}: {e}"))?,
            };
            let local = out.udp_local_addr(sock).ok_or_else(|| format!("UE {i}: no local address"))?;
            let listed = s.population.list.as_ref().and_then(|l| l.get(i));
            let store = if s.sqn_store || listed.is_some_and(|l| l.sqn_store) { sim_store() } else { None };
            let mut ue = Ue::new(s.shared.clone(), s.population.identity(i), local, store);
            if let Some(cfg) = &s.sms {
                ue = ue.with_sms(cfg.clone(), i);
            }
            self.ues.push(match listed.and_then(|l| l.sim) {
                Some(sim) => ue.with_sim(sim),
                None => ue,
            });
            self.by_sock.insert(sock, k as u32);
            self.socks.push(sock);
            let sim = listed.and_then(|l| l.sim).or(s.shared.sim);
            if let Some(c) = self.ipsec.open_ue(now, out, sock, local, s.shared.target, sim).map_err(|e| format!("UE {i}: {e}"))? {
                self.by_sock.insert(c, k as u32);
            }
        }
        Ok(mine)
    }

    /// Sends what UE `k` has to send, records its events and re-arms its timer.
    fn service(&mut self, k: usize, now: Instant, out: &mut Outbox) {
        let (Some(ue), Some(&sock)) = (self.ues.get_mut(k), self.socks.get(k)) else { return };
        while let Some(t) = ue.poll_transmit(now, &mut self.scratch) {
            if !self.ipsec.transmit(now, k, sock, t.dst, self.scratch.get(..t.len).unwrap_or(&[]), out) {
                // Counted; the UE's retransmission timers recover SIP, RTP is lost.
                self.dropped += 1;
            }
        }
        self.dropped += self.ipsec.flush(now, k, out);
        let mut sms_delivered = None;
        while let Some(e) = ue.poll_event() {
            match e {
                UeEvent::Sms(e) => sms_delivered = self.metrics.sms.record(e, self.setup.shared.run_id).or(sms_delivered),
                UeEvent::Sample(m, d) => self.metrics.record(m, d),
                UeEvent::Finished(a, r) => {
                    match r {
                        Ok(()) => self.metrics.success(a),
                        Err((c, status)) => self.metrics.failure(a, c, status),
                    }
                    // Only actions this shard started end with Finished: each was counted in.
                    if let Some(p) = self.phase.as_mut() {
                        p.in_flight = p.in_flight.saturating_sub(1);
                    }
                }
                UeEvent::Media { sent, received, jitter_us } => {
                    let r = &mut self.metrics.rtp;
                    r.sent += sent;
                    r.received += received;
                    r.calls += 1;
                    r.jitter_sum_us += jitter_us;
                    r.max_jitter_us = r.max_jitter_us.max(jitter_us);
                }
            }
        }
        let tcp = self.ipsec.poll_timeout(k);
        if let Some(t) = [ue.poll_timeout(), tcp].into_iter().flatten().min() {
            let slot = self.armed.get_mut(k);
            if let Some(a) = slot.filter(|a| a.map_or(true, |a| t < a)) {
                *a = Some(t);
                self.timers.push(Reverse((t, k as u32)));
            }
        }
        if let Some((g, token)) = sms_delivered.filter(|(g, _)| g % self.n_workers == self.worker) {
            // The sender is on this worker (super::sms::recipient pairs UEs so).
            let s = g / self.n_workers;
            if let Some(ue) = self.ues.get_mut(s) {
                ue.handle_sms_delivered(now, token);
            }
            self.service(s, now, out);
        }
    }

    /// Fires the due actions of the phase this shard owns.
    fn fire(&mut self, now: Instant, out: &mut Outbox) {
        for _ in 0..BURST {
            let Some(p) = self.phase.as_mut() else { return };
            if p.next_j >= p.phase.count || p.phase.intended(p.next_j) > now {
                return;
            }
            let (j, phase) = (p.next_j, p.phase);
            p.next_j += 1;
            if phase.owner(j, self.n_workers) != self.worker {
                continue;
            }
            p.in_flight += 1;
            let kind = phase.kind(j);
            let k = self.pick_idle(&phase, phase.actor(j) / self.n_workers);
            self.metrics.attempt(kind);
            self.uri.clear();
            match (kind, phase.callee(j)) {
                (Action::EchoCall, _) => self.uri.push_str(&self.setup.echo_uri),
                (Action::UeCall, Some(c)) => self.uri.push_str(&self.setup.population.identity(c).impu),
                (Action::Sms, _) => {
                    let to = super::sms::recipient(phase.actor(j), phase.ues, self.n_workers);
                    self.uri.push_str(&self.setup.population.identity(to).user);
                }
                _ => {}
            }
            let what = match kind {
                a @ (Action::EchoCall | Action::UeCall) => Start::Call(a, &self.uri),
                Action::Sms => Start::Sms(&self.uri),
                a => Start::Register(a),
            };
            if let Some(ue) = self.ues.get_mut(k) {
                let _ = ue.start(now, phase.intended(j), what);
            }
            self.service(k, now, out);
        }
    }

    /// The local index of the UE with user number `user`, when this shard owns it.
    fn local_of(&self, user: u64) -> Option<usize> {
        let g = usize::try_from(user.checked_sub(self.setup.population.first_imsi)?).ok()?;
        (g < self.setup.ues && g % self.n_workers == self.worker).then_some(g / self.n_workers)
    }

    /// A datagram on the shared socket: routed by [`super::demux::route`]; RTP that is not
    /// the echo of one of our callers' streams is a caller's media reaching one of our
    /// callees, reflected at once.
    fn on_shared_datagram(&mut self, now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox) {
        let k = match super::demux::route(data) {
            super::demux::Route::User(u) => self.local_of(u),
            super::demux::Route::Ssrc(s) => {
                let first = self.setup.population.first_imsi;
                // SSRCs are the low 32 bits of the user number (demux::ssrc_of).
                let user = (first & !0xffff_ffff) | u64::from(s);
                let user = if user < first { user + (1 << 32) } else { user };
                match self.local_of(user).filter(|&k| self.ues.get(k).is_some_and(|u| u.is_media_peer(src))) {
                    Some(k) => Some(k),
                    None => {
                        if out.send_udp(sock, src, data).is_err() {
                            self.dropped += 1;
                        }
                        None
                    }
                }
            }
            super::demux::Route::Drop => None,
        };
        let Some(k) = k else { return };
        if let Some(ue) = self.ues.get_mut(k) {
            ue.handle_datagram(now, src, data);
        }
        self.service(k, now, out);
    }

    /// In a busy-hour mix, a busy UE hands its action to one of the next idle UEs of this
    /// shard (up to 8 tried); fixed-rate phases keep their UE (and report it busy).
    fn pick_idle(&self, phase: &Phase, k: usize) -> usize {
        if phase.mix.is_none() || self.ues.is_empty() {
            return k;
        }
        (0..8).map(|t| (k + t) % self.ues.len()).find(|&c| self.ues.get(c).is_some_and(Ue::is_idle)).unwrap_or(k)
    }

    fn run_timers(&mut self, now: Instant, out: &mut Outbox) {
        for _ in 0..BURST {
            match self.timers.peek() {
                Some(Reverse((t, _))) if *t <= now => {}
                _ => return,
            }
            let Some(Reverse((t, k))) = self.timers.pop() else { return };
            let k = k as usize;
            let Some(slot) = self.armed.get_mut(k) else { continue };
            if *slot != Some(t) {
                continue; // superseded by an earlier deadline that already ran
            }
            *slot = None;
            if let Some(ue) = self.ues.get_mut(k) {
                ue.handle_timeout(now);
            }
            self.service(k, now, out);
        }
    }

    /// Ends the phase at its deadline, and reports it done once everything has ended.
    fn check_phase(&mut self, now: Instant, out: &mut Outbox) {
        let Some(p) = self.phase.as_mut() else { return };
        if p.done_sent {
            return;
        }
        if now >= p.phase.deadline {
            p.next_j = p.phase.count;
            for k in 0..self.ues.len() {
                if let Some(ue) = self.ues.get_mut(k).filter(|u| !u.is_idle()) {
                    ue.abort(now);
                    self.service(k, now, out);
                }
            }
            if let Some(p) = self.phase.as_mut() {
                p.in_flight = 0;
            }
        }
        self.skip_foreign();
        let Some(p) = self.phase.as_mut() else { return };
        if p.next_j >= p.phase.count && p.in_flight == 0 && self.events.send(Event::PhaseDone).is_ok() {
            p.done_sent = true;
            self.send_progress(now);
        }
    }

    /// Moves `next_j` past actions other workers own, so poll_timeout sees our next one.
    fn skip_foreign(&mut self) {
        let n = self.n_workers;
        let w = self.worker;
        if let Some(p) = self.phase.as_mut() {
            while p.next_j < p.phase.count && p.phase.owner(p.next_j, n) != w {
                p.next_j += 1;
            }
        }
    }

    fn send_progress(&mut self, now: Instant) {
        let metric = match self.phase.as_ref().map(|p| p.phase.action) {
            Some(Action::Register) => Metric::InitialRegister,
            Some(Action::Reregister) => Metric::Reregister,
            Some(Action::EchoCall | Action::UeCall) => Metric::InviteTo200,
            Some(Action::Sms) => Metric::SmsSubmitToDelivery,
            _ => Metric::InitialRegister,
        };
        let h = self.metrics.histogram(metric);
        let mut counts = [Counts::default(); Action::ALL.len()];
        for (c, a) in counts.iter_mut().zip(Action::ALL) {
            *c = self.metrics.counts(a);
        }
        let p = Progress { counts, p50_us: h.value_at_quantile(0.5), p99_us: h.value_at_quantile(0.99), dropped: self.dropped };
        // A full queue drops this sample; the next one carries the totals.
        let _ = self.events.send(Event::Progress(p));
        self.next_progress = Some(now + PROGRESS_EVERY);
    }

    fn send_final(&mut self) {
        let m = std::mem::take(&mut self.metrics);
        match self.events.send(Event::Final(Box::new(m))) {
            Ok(()) => self.final_pending = false,
            Err(Event::Final(m)) => {
                self.metrics = *m;
                self.final_pending = true;
            }
            Err(_) => self.final_pending = true,
        }
    }
}

impl Handler for Shard {
    type Command = Command;
    type Event = Event;

    fn on_datagram(&mut self, now: Instant, sock: SocketId, src: SocketAddr, data: &[u8], out: &mut Outbox) {
        if self.shared == Some(sock) {
            return self.on_shared_datagram(now, sock, src, data, out);
        }
        let Some(&k) = self.by_sock.get(&sock) else { return };
        if let Some(ue) = self.ues.get_mut(k as usize) {
            if !self.ipsec.receive(now, k as usize, sock, src, data, ue) {
                ue.handle_datagram(now, src, data);
            }
        }
        self.service(k as usize, now, out);
    }

    fn on_stream(&mut self, _now: Instant, _conn: ConnId, _peer: SocketAddr, _data: &[u8], _out: &mut Outbox) -> StreamVerdict {
        StreamVerdict::Close
    }

    fn on_command(&mut self, now: Instant, cmd: Command, out: &mut Outbox) {
        match cmd {
            Command::Open => {
                let r = self.open(now, out);
                // The run waits for this answer; the queue has room for one per worker.
                let _ = self.events.send(Event::Opened(r));
            }
            Command::Phase(phase) => {
                self.phase = Some(PhaseRun { phase, next_j: 0, in_flight: 0, done_sent: false });
                self.skip_foreign();
                self.next_progress = Some(now);
            }
            Command::Finish => {
                if let Some(line) = self.ipsec.summary(self.worker) {
                    eprintln!("{line}");
                }
                self.phase = None;
                self.next_progress = None;
                self.send_final();
            }
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let timer = self.timers.peek().map(|Reverse((t, _))| *t);
        let (action, deadline) = match self.phase.as_ref().filter(|p| !p.done_sent) {
            Some(p) => ((p.next_j < p.phase.count).then(|| p.phase.intended(p.next_j)), Some(p.phase.deadline)),
            None => (None, None),
        };
        let retry = self.final_pending.then(|| Instant::now() + Duration::from_millis(10));
        [timer, action, deadline, self.next_progress, retry].into_iter().flatten().min()
    }

    fn handle_timeout(&mut self, now: Instant, out: &mut Outbox) {
        if self.final_pending {
            self.send_final();
        }
        self.fire(now, out);
        self.run_timers(now, out);
        self.check_phase(now, out);
        if self.next_progress.is_some_and(|t| t <= now) {
            self.send_progress(now);
            if self.phase.as_ref().map_or(true, |p| p.done_sent) {
                self.next_progress = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ue_addresses_are_distinct_and_shares_cover_every_ue() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(seen.insert(bind_addr(i, None)), "UE {i}");
        }
        assert_eq!(bind_addr(0, None), "127.1.0.1:0".parse().unwrap_or_else(|_| unreachable!()));
        for (ues, n) in [(10, 3), (1, 2), (2000, 1), (7, 7)] {
            assert_eq!((0..n).map(|w| Shard::share(ues, w, n)).sum::<usize>(), ues);
        }
    }
}
