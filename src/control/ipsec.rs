//! Security agreement of the P-CSCF (RFC 3329; TS 33.203 7; TS 24.229 5.2.2) around the
//! registrar: checks the Security-Client of an unprotected REGISTER (494 when no offered
//! mechanism is acceptable), answers the 401 with Security-Server and installs the four SAs
//! (keys from the challenge's IK/CK, TS 33.203 Annex I) in the worker that received the
//! REGISTER, checks Security-Verify on REGISTERs that arrived over an SA, and binds the SAs'
//! life to the registration: a new set replaces the old one once a protected REGISTER
//! succeeded; de-registration and expiry remove them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::register::{flow_of, handle};
use super::reply::{reply_to, Extra};
use crate::config::typed::Config;
use crate::endpoint::{EspSnapshot, EspStats, Peer, SaInstall, ToWorker, Transport};
use crate::ims::hss::normalize_impu;
use crate::ims::registrar::{RegisterOutcome, Registrar};
use crate::ipsec::sa::Direction;
use crate::ipsec::{
    negotiate, verify_security_verify, Agreement, EspMode, IpsecMechanism, LocalSecParams, RawMechanism, SaSpec,
    SecAgreePolicy, SpiAllocator,
};
use crate::sip::{HeaderName, Message};

/// Anti-replay window of the inbound SAs (RFC 4303 3.4.3 asks for at least 32; 64 here).
const REPLAY_WINDOW: u16 = 64;
/// Most SAs per worker whatever the configuration says (memory bound: 1 KiB each,
/// reserved at the worker's first install).
const MAX_SAS_PER_WORKER: usize = 65_536;
/// Most Security-Client entries considered.
const MAX_OFFERS: usize = 16;

/// One SA set: the four SAs of one UE from one 401.
#[derive(Clone, Debug)]
struct SaSet {
    id: u64,
    worker: u16,
    ue_ip: IpAddr,
    /// Our address towards the UE (of the UE's family).
    local_ip: IpAddr,
    agreement: Agreement,
    specs: [SaSpec; 4],
}

/// The sets of one private identity: the one in use and the one negotiated by the last 401.
#[derive(Default, Debug)]
struct Sets {
    active: Option<SaSet>,
    pending: Option<SaSet>,
}

/// What the pre-check learned about a REGISTER.
struct RegCtx {
    worker: u16,
    peer: Peer,
    offered: Vec<IpsecMechanism>,
    /// Arrived over an SA: the private identity and set id it matched.
    protected: Option<(String, u64)>,
}

/// The P-CSCF's sec-agree state and the SA sets it installed.
pub struct IpsecCore {
    enabled: bool,
    policy: SecAgreePolicy,
    local_ip: IpAddr,
    /// The first SIP address of the other family, when the core listens on both.
    other_ip: Option<IpAddr>,
    port_base: u16,
    worker_bits: u8,
    capacity: usize,
    mtu: u16,
    spis: Vec<SpiAllocator>,
    stats: Vec<Arc<EspStats>>,
    sets: HashMap<String, Sets>,
    next_id: u64,
}

/// Commands to send around the response: installs before it, removals after it (so the
/// response itself still leaves through the old SAs).
#[derive(Default)]
pub struct RegisterCommands {
    /// Before the response.
    pub before: Vec<(u16, ToWorker)>,
    /// After the response.
    pub after: Vec<(u16, ToWorker)>,
}

impl IpsecCore {
    /// From the configuration (`ipsec`, `ipsec_aalg_list`, `ipsec_ealg_list`, `ipsec_port`,
    /// `limits.max_security_associations`) for `n_workers` workers.
    pub fn new(cfg: &Config, n_workers: usize) -> IpsecCore {
        let s = &cfg.ipsec;
        let first = cfg.sip.sip_addr.first();
        let local_ip = first.map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |a| a.bind_addr.ip());
        let sip_port = first.map_or(5060, |a| a.bind_addr.port());
        let port_base = if s.ipsec_port != 0 { s.ipsec_port } else { sip_port.saturating_add(2) };
        let per_worker = cfg.engine.limits.max_security_associations as usize / n_workers.max(1);
        let other_ip = cfg.sip.sip_addr.iter().map(|a| a.bind_addr.ip()).find(|ip| ip.is_ipv4() != local_ip.is_ipv4());
        // mod=trans needs raw ESP sockets of each family we listen on (CAP_NET_RAW);
        // UDP-enc-tun works anywhere.
        let raw_ok = |ip: IpAddr| crate::engine::raw_esp::available(ip);
        let transport = s.ipsec && raw_ok(local_ip) && other_ip.map_or(true, raw_ok);
        let policy = SecAgreePolicy::from_lists(&s.ipsec_aalg_list, &s.ipsec_ealg_list).with_modes(transport, true);
        let mut core = IpsecCore::with(s.ipsec, policy, SocketAddr::new(local_ip, port_base), n_workers, per_worker);
        core.other_ip = other_ip;
        core.mtu = u16::try_from(s.ipsec_mtu).unwrap_or(u16::MAX);
        core
    }

    /// Sec-agree with `policy`, protected ports from `base` (address and first port), SPIs
    /// for `n_workers` workers, `per_worker` SAs each.
    fn with(enabled: bool, policy: SecAgreePolicy, base: SocketAddr, n_workers: usize, per_worker: usize) -> IpsecCore {
        let worker_bits = bits_for(n_workers);
        let seed = (std::process::id() as u32).wrapping_mul(2_654_435_761) >> 8;
        let spis = (0..n_workers).filter_map(|w| SpiAllocator::new(w as u32, worker_bits, seed).ok()).collect();
        IpsecCore {
            enabled: enabled && worker_bits <= crate::ipsec::table::MAX_WORKER_BITS,
            policy,
            local_ip: base.ip(),
            other_ip: None,
            port_base: base.port(),
            worker_bits,
            capacity: per_worker.clamp(16, MAX_SAS_PER_WORKER),
            mtu: 1400,
            spis,
            stats: (0..n_workers).map(|_| Arc::new(EspStats::default())).collect(),
            sets: HashMap::new(),
            next_id: 1,
        }
    }

    /// Our address towards a UE at `ue`: the first SIP address of the UE's family (a core
    /// on both families protects each UE over its own), else the first SIP address.
    fn local_ip_for(&self, ue: IpAddr) -> IpAddr {
        match self.other_ip {
            Some(other) if other.is_ipv4() == ue.is_ipv4() => other,
            _ => self.local_ip,
        }
    }

    /// The protected ports (port-c, port-s) of `worker`.
    fn ports(&self, worker: u16) -> (u16, u16) {
        let c = self.port_base.saturating_add(worker.saturating_mul(2));
        (c, c.saturating_add(1))
    }

    /// Refuses what sec-agree must refuse before the registrar runs: a Security-Client
    /// without an acceptable mechanism or `Require: sec-agree` without one (494, RFC 3329
    /// 2.3.1), a REGISTER over an SA whose Security-Verify does not echo our Security-Server
    /// (RFC 3329 2.4).
    fn precheck(&self, registrar: &Registrar, msg: &Message<'_>, worker: u16, peer: Peer) -> Result<RegCtx, Vec<u8>> {
        let mut ctx = RegCtx { worker, peer, offered: Vec::new(), protected: None };
        if !self.enabled {
            return Ok(ctx);
        }
        ctx.offered = mechanisms(msg.security_client().filter_map(Result::ok));
        if arrived_protected(peer) {
            let impi = impi_of(registrar, msg).unwrap_or_default();
            let verify = mechanisms(msg.security_verify().filter_map(Result::ok));
            let sets = self.sets.get(&impi);
            let found = sets.and_then(|s| {
                [&s.pending, &s.active].into_iter().flatten().find(|set| {
                    set.carries(worker, peer) && verify_security_verify(&[set.agreement.server], &verify).is_ok()
                })
            });
            return match found {
                Some(set) => {
                    ctx.protected = Some((impi, set.id));
                    Ok(ctx)
                }
                None => Err(self.reply_494(msg, "Security-Verify does not match the Security-Server sent")),
            };
        }
        let required = [HeaderName::Require, HeaderName::ProxyRequire].into_iter().any(|h| msg.has_token(h, b"sec-agree"));
        if ctx.offered.is_empty() && !required {
            return Ok(ctx);
        }
        let probe = LocalSecParams { spi_c: 256, spi_s: 256, port_c: 1, port_s: 1 };
        if negotiate(&self.policy, &ctx.offered, probe).is_err() {
            return Err(self.reply_494(msg, "no acceptable ipsec-3gpp mechanism in Security-Client"));
        }
        Ok(ctx)
    }

    /// RFC 3329 2.3.1: 494 listing what we support.
    fn reply_494(&self, msg: &Message<'_>, why: &str) -> Vec<u8> {
        let mut extra = Extra::warning(why);
        for m in self.policy.offer() {
            extra.headers.push(("Security-Server", m.to_string()));
        }
        extra.headers.push(("Require", "sec-agree".into()));
        reply_to(msg, 494, "Security Agreement Required", &extra)
    }

    /// The registrar's outcome seen by sec-agree: Security-Server and SA installation on an
    /// AKA 401; promotion of the set on a 200 to a protected REGISTER; removal when the
    /// registration is gone.
    fn on_outcome(&mut self, registrar: &Registrar, ctx: &RegCtx, outcome: &RegisterOutcome, cmds: &mut RegisterCommands) -> Vec<(&'static str, String)> {
        match outcome {
            RegisterOutcome::Challenge(ch) if !ctx.offered.is_empty() && ch.algo.is_aka() => {
                let Some(impi) = registrar.pending_impi(&ch.nonce) else { return Vec::new() };
                let server = self.on_challenge(impi.to_owned(), ctx, &ch.ik, &ch.ck, cmds);
                server.map(|v| vec![("Security-Server", v)]).unwrap_or_default()
            }
            RegisterOutcome::Ok(ok) if ok.record.is_none() => {
                cmds.after.extend(self.remove_impi(&ok.impi));
                Vec::new()
            }
            RegisterOutcome::Ok(ok) => {
                if let Some((impi, id)) = ctx.protected.as_ref().filter(|(impi, _)| *impi == ok.impi) {
                    cmds.after.extend(self.promote(impi, *id));
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// TS 33.203 7.1: a new SA set for `impi` with this challenge's keys, installed before
    /// the 401 leaves; it replaces the identity's previous pending set. Returns our
    /// Security-Server value.
    fn on_challenge(&mut self, impi: String, ctx: &RegCtx, ik: &[u8; 16], ck: &[u8; 16], cmds: &mut RegisterCommands) -> Option<String> {
        let set = self.new_set(ctx, ik, ck)?;
        let server = set.agreement.server.to_string();
        cmds.before.push((set.worker, ToWorker::IpsecInstall(Box::new(self.install_cmd(&set)))));
        let sets = self.sets.entry(impi).or_default();
        if let Some(old) = sets.pending.replace(set) {
            cmds.before.push((old.worker, ToWorker::IpsecRemove { binding: old.id }));
        }
        Some(server)
    }

    fn new_set(&mut self, ctx: &RegCtx, ik: &[u8; 16], ck: &[u8; 16]) -> Option<SaSet> {
        let (port_c, port_s) = self.ports(ctx.worker);
        let alloc = self.spis.get_mut(usize::from(ctx.worker))?;
        let local = LocalSecParams { spi_c: alloc.next_spi(), spi_s: alloc.next_spi(), port_c, port_s };
        let agreement = negotiate(&self.policy, &ctx.offered, local).ok()?;
        let id = self.next_id;
        self.next_id += 1;
        let specs = agreement.sa_specs(ik, ck);
        let ue_ip = ctx.peer.addr.ip();
        Some(SaSet { id, worker: ctx.worker, ue_ip, local_ip: self.local_ip_for(ue_ip), agreement, specs })
    }

    fn install_cmd(&self, set: &SaSet) -> SaInstall {
        SaInstall {
            binding: set.id,
            capacity: self.capacity,
            worker_bits: self.worker_bits,
            local_ip: set.local_ip,
            ue_ip: set.ue_ip,
            mode: set.agreement.client.mode,
            specs: set.specs,
            replay_window: REPLAY_WINDOW,
            mtu: self.mtu,
            stats: self.stats.get(usize::from(set.worker)).cloned().unwrap_or_default(),
        }
    }

    /// TS 33.203 7.4: the set a protected REGISTER succeeded on becomes the one in use; the
    /// other set of the identity goes.
    fn promote(&mut self, impi: &str, id: u64) -> Vec<(u16, ToWorker)> {
        let Some(sets) = self.sets.get_mut(impi) else { return Vec::new() };
        if sets.active.as_ref().is_some_and(|s| s.id == id) {
            return Vec::new();
        }
        let Some(new) = sets.pending.take().filter(|s| s.id == id) else { return Vec::new() };
        sets.active.replace(new).map(|old| vec![(old.worker, ToWorker::IpsecRemove { binding: old.id })]).unwrap_or_default()
    }

    /// Removes every set of `impi` (de-registration, expiry); returns the commands.
    pub fn remove_impi(&mut self, impi: &str) -> Vec<(u16, ToWorker)> {
        let Some(sets) = self.sets.remove(impi) else { return Vec::new() };
        [sets.active, sets.pending].into_iter().flatten().map(|s| (s.worker, ToWorker::IpsecRemove { binding: s.id })).collect()
    }

    /// Number of SA sets (each four SAs), pending ones included.
    pub fn set_count(&self) -> usize {
        self.sets.values().map(|s| usize::from(s.active.is_some()) + usize::from(s.pending.is_some())).sum()
    }

    /// The ESP counters summed over the workers.
    pub fn counters(&self) -> EspSnapshot {
        let mut t = EspSnapshot::default();
        for s in &self.stats {
            let v = s.snapshot();
            t.esp += v.esp;
            t.selector += v.selector;
            t.install_failed += v.install_failed;
        }
        t
    }

    /// The SAs as the remote API's `ipsec` message lists them (seed 000: `SAs` with type,
    /// dir, spi, ue_id, mode, src, dst, tun_src/tun_dst, prefixes, keys in hex), plus the
    /// ESP counters.
    pub fn ipsec_sas(&self) -> Value {
        let mut sas = Vec::new();
        for sets in self.sets.values() {
            for set in [&sets.active, &sets.pending].into_iter().flatten() {
                for spec in &set.specs {
                    sas.push(self.sa_json(set, spec));
                }
            }
        }
        let c = self.counters();
        json!({
            "SAs": sas,
            "counters": {
                "ok_in": c.esp.ok_in, "ok_out": c.esp.ok_out, "bad_icv": c.esp.bad_icv,
                "replay": c.esp.replay, "unknown_spi": c.esp.unknown_spi,
                "truncated": c.esp.truncated, "malformed": c.esp.malformed,
                "out_failed": c.esp.out_failed, "selector": c.selector,
                "install_failed": c.install_failed,
            },
        })
    }

    fn sa_json(&self, set: &SaSet, spec: &SaSpec) -> Value {
        let local = SocketAddr::new(set.local_ip, spec.local_port);
        let ue = SocketAddr::new(set.ue_ip, spec.ue_port);
        let (dir, src, dst) = match spec.direction {
            Direction::Inbound => ("in", ue, local),
            Direction::Outbound => ("out", local, ue),
        };
        let tunnel = set.agreement.client.mode == EspMode::UdpEncTunnel;
        let prefix = if set.ue_ip.is_ipv4() { 32 } else { 128 };
        let mut v = json!({
            "type": if set.ue_ip.is_ipv4() { "IPv4" } else { "IPv6" },
            "dir": dir,
            "spi": spec.spi,
            "ue_id": set.id,
            "mode": if tunnel { "tunnel" } else { "transport" },
            "src": src.ip().to_string(),
            "dst": dst.ip().to_string(),
            "src_port": src.port(),
            "dst_port": dst.port(),
            "src_prefix": prefix,
            "dst_prefix": prefix,
            "authent_key": hex(spec.integ_key.as_slice()),
            "cipher_key": hex(spec.encr_key.as_slice()),
        });
        if tunnel {
            v["tun_src"] = json!(src.ip().to_string());
            v["tun_dst"] = json!(dst.ip().to_string());
        }
        v
    }
}

impl SaSet {
    /// True when a request from `peer` on `worker` came through this set: the UE's address
    /// and protected client port (the worker checked the SA's selectors).
    fn carries(&self, worker: u16, peer: Peer) -> bool {
        self.worker == worker && peer.addr.ip() == self.ue_ip && peer.addr.port() == self.agreement.client.port_c
    }
}

/// Handles a REGISTER with sec-agree around the registrar: the response and the commands
/// to send before and after it.
pub fn register(
    now: Instant,
    ipsec: &mut IpsecCore,
    registrar: &mut Registrar,
    worker: u16,
    peer: Peer,
    msg: &Message<'_>,
) -> (Vec<u8>, RegisterCommands) {
    let mut cmds = RegisterCommands::default();
    let ctx = match ipsec.precheck(registrar, msg, worker, peer) {
        Ok(ctx) => ctx,
        Err(resp) => return (resp, cmds),
    };
    let resp = handle(now, registrar, msg, flow_of(worker, peer), &mut |r, outcome| {
        ipsec.on_outcome(r, &ctx, outcome, &mut cmds)
    });
    (resp, cmds)
}

/// One log line for an SA command: set, mode, SPIs and ports (never keys).
pub fn describe(cmd: &ToWorker) -> Option<String> {
    match cmd {
        ToWorker::IpsecInstall(i) => {
            let sas: Vec<String> = i
                .specs
                .iter()
                .map(|s| {
                    let dir = if s.direction == Direction::Inbound { "in" } else { "out" };
                    format!("{dir} spi={} {}<->{}", s.spi, s.local_port, s.ue_port)
                })
                .collect();
            Some(format!("install SA set {} for {} mod={}: {}", i.binding, i.ue_ip, i.mode.name(), sas.join(", ")))
        }
        ToWorker::IpsecRemove { binding } => Some(format!("remove SA set {binding}")),
        _ => None,
    }
}

/// Only decapsulated SIP reaches the control thread from a run-time socket (media sockets
/// never pass anything up) or an ESP TCP connection, so such a request came over an SA.
fn arrived_protected(peer: Peer) -> bool {
    match peer.transport {
        Transport::Udp(s) => s.is_runtime(),
        Transport::Tcp(c) => crate::endpoint::is_esp_conn(c),
        Transport::TcpTo => false,
    }
}

/// The private identity: Authorization username, else the owner of the To identity.
fn impi_of(registrar: &Registrar, msg: &Message<'_>) -> Option<String> {
    let user = msg.authorization().ok().flatten().and_then(|a| a.get(b"username").map(|u| u.to_vec()));
    if let Some(u) = user {
        let u = String::from_utf8_lossy(strip_quotes(&u)).into_owned();
        if !u.is_empty() {
            return Some(u);
        }
    }
    let to = msg.to().ok()?;
    let impu = normalize_impu(&String::from_utf8_lossy(to.uri.raw));
    registrar.hss.impi_of_impu(&impu).map(str::to_owned)
}

fn strip_quotes(b: &[u8]) -> &[u8] {
    match b {
        [b'"', inner @ .., b'"'] => inner,
        _ => b,
    }
}

fn mechanisms<'a>(list: impl Iterator<Item = crate::sip::SecMechanism<'a>>) -> Vec<IpsecMechanism> {
    list.take(MAX_OFFERS)
        .map(|m| RawMechanism::from(&m).resolve())
        .collect()
}

/// Low SPI bits needed to name `n` workers.
fn bits_for(n: usize) -> u8 {
    let mut bits = 0u8;
    while (1usize << bits) < n && bits < 16 {
        bits += 1;
    }
    bits
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SocketId;
    use crate::ipsec::worker_of_spi;

    fn core() -> IpsecCore {
        let policy = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["aes-cbc"]).with_modes(false, true);
        IpsecCore::with(true, policy, "10.0.0.1:7000".parse().unwrap(), 2, 64)
    }

    fn ctx(port_c: u16) -> RegCtx {
        let offer = RawMechanism {
            mechanism: b"ipsec-3gpp",
            alg: Some(b"hmac-sha-1-96"),
            ealg: Some(b"aes-cbc"),
            spi_c: Some(0x7001),
            spi_s: Some(0x7002),
            port_c: Some(port_c),
            port_s: Some(5064),
            mode: Some(b"UDP-enc-tun"),
            prot: Some(b"esp"),
            q: None,
        };
        let peer = Peer { transport: Transport::Udp(SocketId(0)), addr: SocketAddr::from(([10, 0, 0, 5], port_c)) };
        RegCtx { worker: 1, peer, offered: vec![offer.resolve()], protected: None }
    }

    fn removed(cmds: &[(u16, ToWorker)]) -> Vec<u64> {
        cmds.iter().filter_map(|(_, c)| if let ToWorker::IpsecRemove { binding } = c { Some(*binding) } else { None }).collect()
    }

    #[test]
    fn sa_sets_follow_the_registration() {
        let mut core = core();
        let mut cmds = RegisterCommands::default();
        let server = core.on_challenge("u@d".into(), &ctx(5062), &[1; 16], &[2; 16], &mut cmds).unwrap();
        // Worker 1's protected ports, SPIs whose low bit names worker 1.
        assert!(server.contains(";port-c=7002;port-s=7003;"), "{server}");
        let p = mechanisms(std::iter::once(crate::sip::SecMechanism::parse(server.as_bytes()).unwrap()));
        assert_eq!((worker_of_spi(p[0].spi_c, 1), worker_of_spi(p[0].spi_s, 1)), (1, 1));
        assert!(matches!(cmds.before.as_slice(), [(1, ToWorker::IpsecInstall(_))]));
        let first = core.sets["u@d"].pending.as_ref().unwrap().id;

        // The API listing: four SAs with the seed 000 fields.
        let v = core.ipsec_sas();
        let sas = v["SAs"].as_array().unwrap();
        assert_eq!(sas.len(), 4);
        let inbound = sas.iter().find(|s| s["dir"] == "in" && s["dst"] == "10.0.0.1" && s["dst_port"] == 7003).unwrap();
        assert_eq!((inbound["src"].as_str(), inbound["src_port"].as_u64()), (Some("10.0.0.5"), Some(5062)));
        assert_eq!((inbound["type"].as_str(), inbound["mode"].as_str()), (Some("IPv4"), Some("tunnel")));
        assert_eq!(inbound["authent_key"].as_str().map(str::len), Some(40), "IK_ESP for SHA-1: IK + 32 zero bits");
        assert_eq!(inbound["cipher_key"], "02".repeat(16));
        assert!(sas.iter().any(|s| s["dir"] == "out" && s["spi"] == 0x7001 && s["dst_port"] == 5062));

        // A second 401 replaces the pending set; a 200 over it makes it active.
        let mut cmds = RegisterCommands::default();
        core.on_challenge("u@d".into(), &ctx(5066), &[3; 16], &[4; 16], &mut cmds).unwrap();
        assert_eq!(removed(&cmds.before), [first]);
        let second = core.sets["u@d"].pending.as_ref().unwrap().id;
        assert!(core.promote("u@d", second).is_empty());
        assert!(core.sets["u@d"].active.as_ref().is_some_and(|s| s.carries(1, ctx(5066).peer)));
        assert!(!core.sets["u@d"].active.as_ref().unwrap().carries(0, ctx(5066).peer), "another worker");

        // Re-authentication: the old active set goes once the new one carried a 200.
        let mut cmds = RegisterCommands::default();
        core.on_challenge("u@d".into(), &ctx(5070), &[5; 16], &[6; 16], &mut cmds).unwrap();
        let third = core.sets["u@d"].pending.as_ref().unwrap().id;
        assert_eq!(removed(&core.promote("u@d", third)), [second]);
        assert_eq!(core.set_count(), 1);
        assert_eq!(removed(&core.remove_impi("u@d")), [third]);
        assert_eq!(core.set_count(), 0);
        assert!(core.ipsec_sas()["SAs"].as_array().unwrap().is_empty());
    }

    #[test]
    fn a_core_on_both_families_protects_each_ue_over_its_own() {
        let mut core = core();
        core.other_ip = Some("2001:db8::1".parse().unwrap());
        let mut v6 = ctx(5062);
        v6.peer.addr = "[2001:db8::5]:5062".parse().unwrap();
        for (c, ours) in [(ctx(5062), "10.0.0.1"), (v6, "2001:db8::1")] {
            let set = core.new_set(&c, &[1; 16], &[2; 16]).unwrap();
            let cmd = core.install_cmd(&set);
            assert_eq!((cmd.local_ip.to_string(), cmd.ue_ip), (ours.to_owned(), c.peer.addr.ip()));
        }
        core.other_ip = None;
        let mut v6 = ctx(5062);
        v6.peer.addr = "[2001:db8::5]:5062".parse().unwrap();
        let set = core.new_set(&v6, &[1; 16], &[2; 16]).unwrap();
        assert_eq!(set.local_ip.to_string(), "10.0.0.1", "one family: the first SIP address");
    }

    #[test]
    fn worker_bits_cover_the_workers() {
        assert_eq!(bits_for(1), 0);
        assert_eq!(bits_for(2), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(8), 3);
        assert_eq!(bits_for(9), 4);
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }
}
