//! The ringload command line: every option with its default, parsed and checked into a
//! [`RunConfig`] plus the output options. Errors are sentences the user can act on.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use super::profile::{hex16, Credentials, Population};
use super::run::{RunConfig, MAX_UES_PER_WORKER};
use crate::auth::SimAlgo;

/// The usage text.
pub const USAGE: &str = "\
ringload: IMS UE load engine (registrations, calls with RTP, SMS, open-loop latency histograms)

usage: ringload --target HOST:PORT [options]

UEs (defaults: ringcore's load range, config/ue_db-ims.cfg):
  --ues N               number of UEs (1000)
  --first-imsi IMSI     IMSI of UE 0 (001011000000000); UE i has IMSI + i
  --domain D            IMS domain (ims.mnc001.mcc001.3gppnetwork.org)
  --algo A              xor | milenage | md5 (xor)
  --k HEX               K, 16 bytes (00112233445566778899aabbccddeeff)
  --opc HEX | --op HEX  Milenage OPc or OP
  --res-len N           XOR RES length in bytes (8)
  --password PW         MD5 password, {i} is replaced by the UE index
  --users-csv FILE      subscribers instead of the range: imsi,algo,k,opc_or_password lines
                        (algo xor | milenage | milenage-op | md5); --ues defaults to all
  --local-ip IP         bind every UE here (default: 127.x.y.z per UE, loopback targets)
  --shared-socket       one socket per worker for all its UEs (batched I/O, like SIPp -t u1;
                        UEs then share one address and are told apart by user part/SSRC)
  --ipsec EALG/AALG     IMS access security: sec-agree and UDP-encapsulated ESP with the
                        P-CSCF (e.g. aes-cbc/hmac-sha-1-96, null/hmac-md5-96); INVITEs go
                        over TCP inside the SAs. Needs AKA credentials (xor or milenage)
Scenario (phases in order: register, echo calls, UE-to-UE calls, SMS, re-register, de-register):
  --reg-rate R          registrations per second (500)
  --rate R              calls per second (50)
  --ramp S              linear ramp-up of each phase, seconds (0)
  --calls N             calls to the echo IMPU (0)
  --ue-calls N          calls from UE i to UE i + ues/2 (0)
  --sms N               SMS over IP from UE i to UE i + ues/2 at --rate (UEs register with
                        +g.3gpp.smsip); each ends within 2 x --timeout, delivered or not
  --sms-text T          the SMS text; ringload appends ' #RUN.UE.N' to tell messages apart
                        (ringload SMS)
  --smsc URI            Request-URI of MO SMS, the SC's identity (sip:smsc@DOMAIN)
  --duration S          with none of --calls, --ue-calls, --sms: echo calls = rate x S
  --hold S              call hold time with RTP every 20 ms, seconds (1)
  --answer-delay S      callee 180 -> 200 delay, seconds (0)
  --echo URI            echo IMPU (sip:echo@DOMAIN)
  --expires S           registration Expires (600)
  --busy-hour C,R       busy-hour mix instead: C calls and R re-registrations per UE per
                        hour, spread over --duration seconds (--echo-share of the calls,
                        0.5 by default, go to the echo IMPU, the rest to other UEs)
  --no-register         UEs are already registered: skip the first phase
  --rereg               re-register every UE after the calls
  --no-dereg            leave the UEs registered at the end (by default they de-register,
                        so repeated runs do not pile up contacts in the core)
Bounds and engine:
  --timeout S           transaction timeout (5)
  --max-time S          bound on the whole run (600)
  --workers N           engine workers (1); --cpus 0,1 pins them
  --io-uring            the io_uring backend (default: epoll, half the CPU per call here)
  --batch-us N          read sockets at most every N µs (0: at once): fewer, bigger I/O
                        batches and wake-ups, less CPU per call; adds up to N µs of
                        reaction time per received message (off by default)
Output:
  --report-json FILE    the report as JSON
  --hdr-log FILE        the histograms in HdrHistogram interval log format
  --plot FILE.svg|png   percentile distribution of every histogram
  --quiet               no live progress (also off when stderr is not a terminal)
Exit status: 0 when every action succeeded, 1 when some failed, 2 on bad arguments or
when the run could not start.
";

/// Parsed command line.
#[derive(Clone, Debug)]
pub struct Args {
    /// The run.
    pub run: RunConfig,
    /// `--report-json`.
    pub report_json: Option<PathBuf>,
    /// `--hdr-log`.
    pub hdr_log: Option<PathBuf>,
    /// `--plot`.
    pub plot: Option<PathBuf>,
    /// `--quiet`.
    pub quiet: bool,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Parsed {
    /// Run.
    Run(Box<Args>),
    /// Print the usage.
    Help,
}

fn num<T: std::str::FromStr>(opt: &str, v: &str) -> Result<T, String> {
    v.trim().parse().map_err(|_| format!("{opt}: '{v}' is not a valid number"))
}

fn secs(opt: &str, v: &str) -> Result<Duration, String> {
    let s: f64 = num(opt, v)?;
    if !(0.0..=1e6).contains(&s) {
        return Err(format!("{opt}: {s} seconds is out of range (0..1000000)"));
    }
    Ok(Duration::from_secs_f64(s))
}

fn rate(opt: &str, v: &str) -> Result<f64, String> {
    let r: f64 = num(opt, v)?;
    if !(r > 0.0 && r <= 1e7) {
        return Err(format!("{opt}: the rate must be > 0 and at most 10000000 per second"));
    }
    Ok(r)
}

fn key(opt: &str, v: &str) -> Result<[u8; 16], String> {
    hex16(v).ok_or_else(|| format!("{opt}: expected 32 hex digits"))
}

/// Parses the arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut it = args.into_iter();
    let mut o = Opts::default();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let flag = |v: &Option<String>| if v.is_some() { Err(format!("{name} takes no value")) } else { Ok(()) };
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--quiet" | "-q" => (flag(&inline)?, o.quiet = true).1,
            "--no-register" => (flag(&inline)?, o.skip_register = true).1,
            "--rereg" => (flag(&inline)?, o.rereg = true).1,
            "--no-dereg" => (flag(&inline)?, o.keep = true).1,
            "--epoll" => (flag(&inline)?, o.io_uring = false).1,
            "--io-uring" => (flag(&inline)?, o.io_uring = true).1,
            "--shared-socket" => (flag(&inline)?, o.shared_socket = true).1,
            n if n.starts_with('-') => {
                let v = match inline {
                    Some(v) => v,
                    None => it.next().ok_or_else(|| format!("{n} needs a value (see --help)"))?,
                };
                o.set(n, &v)?;
            }
            _ if o.target.is_none() => o.target = Some(a),
            _ => return Err(format!("unexpected argument '{a}' (see --help)")),
        }
    }
    o.finish().map(|a| Parsed::Run(Box::new(a)))
}

#[derive(Default)]
struct Opts {
    target: Option<String>,
    ues: Option<usize>,
    first_imsi: Option<String>,
    domain: Option<String>,
    algo: Option<String>,
    k: Option<[u8; 16]>,
    opc: Option<([u8; 16], bool)>,
    res_len: Option<u8>,
    password: Option<String>,
    users_csv: Option<PathBuf>,
    local_ip: Option<IpAddr>,
    reg_rate: Option<f64>,
    rate: Option<f64>,
    ramp: Option<Duration>,
    calls: Option<u64>,
    ue_calls: Option<u64>,
    sms: Option<u64>,
    sms_text: Option<String>,
    smsc: Option<String>,
    duration: Option<Duration>,
    hold: Option<Duration>,
    answer_delay: Option<Duration>,
    echo: Option<String>,
    busy_hour: Option<(f64, f64)>,
    echo_share: Option<f64>,
    expires: Option<u32>,
    timeout: Option<Duration>,
    max_time: Option<Duration>,
    workers: Option<usize>,
    batch: Option<Duration>,
    cpus: Vec<usize>,
    report_json: Option<PathBuf>,
    hdr_log: Option<PathBuf>,
    plot: Option<PathBuf>,
    quiet: bool,
    skip_register: bool,
    rereg: bool,
    keep: bool,
    io_uring: bool,
    shared_socket: bool,
    ipsec: Option<super::ipsec::IpsecChoice>,
}

impl Opts {
    fn set(&mut self, n: &str, v: &str) -> Result<(), String> {
        match n {
            "--target" => self.target = Some(v.into()),
            "--ues" => self.ues = Some(num(n, v)?),
            "--first-imsi" => self.first_imsi = Some(v.into()),
            "--domain" => self.domain = Some(v.into()),
            "--algo" => self.algo = Some(v.to_ascii_lowercase()),
            "--k" => self.k = Some(key(n, v)?),
            "--opc" => self.opc = Some((key(n, v)?, false)),
            "--op" => self.opc = Some((key(n, v)?, true)),
            "--res-len" => self.res_len = Some(num(n, v)?),
            "--password" => self.password = Some(v.into()),
            "--users-csv" => self.users_csv = Some(v.into()),
            "--local-ip" => self.local_ip = Some(v.parse().map_err(|_| format!("{n}: '{v}' is not an IP address"))?),
            "--reg-rate" => self.reg_rate = Some(rate(n, v)?),
            "--rate" => self.rate = Some(rate(n, v)?),
            "--ramp" => self.ramp = Some(secs(n, v)?),
            "--calls" => self.calls = Some(num(n, v)?),
            "--ue-calls" => self.ue_calls = Some(num(n, v)?),
            "--sms" => self.sms = Some(num(n, v)?),
            "--sms-text" => self.sms_text = Some(v.into()),
            "--smsc" => self.smsc = Some(v.into()),
            "--duration" => self.duration = Some(secs(n, v)?),
            "--hold" => self.hold = Some(secs(n, v)?),
            "--answer-delay" => self.answer_delay = Some(secs(n, v)?),
            "--echo" => self.echo = Some(v.into()),
            "--busy-hour" => {
                let (c, r) = v.split_once(',').ok_or_else(|| format!("{n}: expected CALLS,REREGS per UE per hour"))?;
                let (c, r): (f64, f64) = (num(n, c)?, num(n, r)?);
                if !(c >= 0.0 && r >= 0.0 && c + r > 0.0 && c + r <= 36_000.0) {
                    return Err(format!("{n}: calls and re-registrations per hour must be >= 0, not both 0, at most 36000"));
                }
                self.busy_hour = Some((c, r));
            }
            "--echo-share" => {
                let f: f64 = num(n, v)?;
                if !(0.0..=1.0).contains(&f) {
                    return Err(format!("{n}: a fraction between 0 and 1"));
                }
                self.echo_share = Some(f);
            }
            "--expires" => self.expires = Some(num(n, v)?),
            "--timeout" => self.timeout = Some(secs(n, v)?),
            "--max-time" => self.max_time = Some(secs(n, v)?),
            "--workers" => self.workers = Some(num(n, v)?),
            "--batch-us" => {
                let us: u64 = num(n, v)?;
                if us > 10_000 {
                    return Err(format!("{n}: at most 10000 (10 ms)"));
                }
                self.batch = Some(Duration::from_micros(us));
            }
            "--cpus" => self.cpus = v.split(',').map(|c| num(n, c)).collect::<Result<_, _>>()?,
            "--report-json" => self.report_json = Some(v.into()),
            "--hdr-log" => self.hdr_log = Some(v.into()),
            "--plot" => self.plot = Some(v.into()),
            "--ipsec" => self.ipsec = Some(super::ipsec::IpsecChoice::parse(v)?),
            _ => return Err(format!("unknown option {n} (see --help)")),
        }
        Ok(())
    }

    fn population(&self) -> Result<Population, String> {
        let mut p = Population::default_range();
        if let Some(d) = &self.domain {
            p.domain = d.clone();
        }
        if let Some(imsi) = &self.first_imsi {
            if imsi.is_empty() || imsi.len() > 15 || !imsi.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("--first-imsi: '{imsi}' is not 1 to 15 digits"));
            }
            p.first_imsi = num("--first-imsi", imsi)?;
            p.imsi_digits = imsi.len();
        }
        let k = self.k.unwrap_or(match &p.credentials {
            Credentials::Aka { k, .. } => *k,
            Credentials::Md5 { .. } => [0; 16],
        });
        p.credentials = match self.algo.as_deref().unwrap_or("xor") {
            "xor" => {
                let res_len = self.res_len.unwrap_or(8);
                if !(4..=16).contains(&res_len) {
                    return Err("--res-len: XOR RES is 4 to 16 bytes".into());
                }
                Credentials::Aka { algo: SimAlgo::Xor { res_len }, k }
            }
            "milenage" | "miln" => {
                let (op, is_op) = self.opc.ok_or("--algo milenage needs --opc or --op")?;
                Population::milenage(k, op, is_op)
            }
            "md5" => Credentials::Md5 { password: self.password.clone().ok_or("--algo md5 needs --password")? },
            other => return Err(format!("--algo: '{other}' is not one of xor, milenage, md5")),
        };
        Ok(p)
    }

    /// The SMS scenario, when `--sms` is given.
    fn sms_options(&self, p: &Population, ues: usize, workers: usize) -> Result<Option<super::sms::SmsOptions>, String> {
        let Some(count) = self.sms else {
            return match (&self.sms_text, &self.smsc) {
                (None, None) => Ok(None),
                _ => Err("--sms-text and --smsc need --sms N".into()),
            };
        };
        if ues < 2 * workers {
            return Err(format!("--sms needs at least 2 UEs per worker ({workers} worker(s)): senders and recipients pair up on each worker"));
        }
        if count > 100_000_000 {
            return Err("--sms: at most 100000000 messages".into());
        }
        let text = self.sms_text.clone().unwrap_or_else(|| "ringload SMS".into());
        super::sms_wire::check_text(&text)?;
        let smsc = self.smsc.clone().unwrap_or_else(|| format!("sip:smsc@{}", p.domain));
        if !(smsc.starts_with("sip:") || smsc.starts_with("tel:")) || smsc.len() > 256 {
            return Err(format!("--smsc: '{smsc}' is not a sip: or tel: URI"));
        }
        Ok(Some(super::sms::SmsOptions { count, text, smsc }))
    }

    fn finish(self) -> Result<Args, String> {
        let target = self.target.as_deref().ok_or("missing --target HOST:PORT (the IMS core's SIP address)")?;
        let target: SocketAddr = target
            .to_socket_addrs()
            .map_err(|e| format!("--target '{target}': {e}"))?
            .find(|a| a.is_ipv4())
            .ok_or_else(|| format!("--target '{target}': no IPv4 address"))?;
        if self.local_ip.is_none() && !target.ip().is_loopback() {
            return Err(format!("--target {target} is not on loopback: give --local-ip (the UEs' source address)"));
        }
        let mut population = self.population()?;
        if let Some(path) = &self.users_csv {
            let text = std::fs::read_to_string(path).map_err(|e| format!("--users-csv {}: {e}", path.display()))?;
            let list = super::profile::read_csv(&text, &population.domain).map_err(|e| format!("--users-csv {}: {e}", path.display()))?;
            if self.shared_socket {
                return Err("--shared-socket routes by IMSI range: it cannot be used with --users-csv".into());
            }
            if self.ues.is_some_and(|n| n > list.len()) {
                return Err(format!("--ues {}: the list has {} subscribers", self.ues.unwrap_or(0), list.len()));
            }
            population.list = Some(std::sync::Arc::new(list));
        }
        let listed = population.list.as_ref().map(|l| l.len());
        let ues = self.ues.or(listed).unwrap_or(1000);
        let workers = self.workers.unwrap_or(1);
        if workers == 0 || workers > 64 {
            return Err("--workers: 1 to 64".into());
        }
        if ues == 0 || ues > MAX_UES_PER_WORKER * workers || ues > 1_000_000 {
            return Err(format!("--ues: 1 to {} with {workers} worker(s) (add --workers)", MAX_UES_PER_WORKER * workers));
        }
        let rate = self.rate.unwrap_or(50.0);
        let (mut echo_calls, ue_calls) = (self.calls.unwrap_or(0), self.ue_calls.unwrap_or(0));
        let busy_hour = self.busy_hour.map(|(c, r)| super::plan::Mix {
            calls_per_hour: c,
            rereg_per_hour: r,
            echo_share: self.echo_share.unwrap_or(if ues < 2 { 1.0 } else { 0.5 }),
        });
        if busy_hour.is_some() && self.duration.is_none() {
            return Err("--busy-hour needs --duration (the length of the busy-hour phase)".into());
        }
        if let (Some(d), None, None, None, None) = (self.duration, self.calls, self.ue_calls, self.sms, &busy_hour) {
            echo_calls = (rate * d.as_secs_f64()).round() as u64;
        }
        if ue_calls > 0 && ues < 2 {
            return Err("--ue-calls needs at least 2 UEs".into());
        }
        let sms = self.sms_options(&population, ues, workers)?;
        if echo_calls + ue_calls > 100_000_000 {
            return Err("--calls/--ue-calls: at most 100000000 calls".into());
        }
        if let Some(p) = &self.plot {
            match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("svg" | "png") => {}
                _ => return Err("--plot: the file name must end in .svg or .png".into()),
            }
        }
        let timeout = self.timeout.unwrap_or(Duration::from_secs(5));
        if timeout < Duration::from_millis(100) {
            return Err("--timeout: at least 0.1 s".into());
        }
        if self.ipsec.is_some() && self.shared_socket {
            return Err("--ipsec gives every UE its own protected ports: it cannot be used with --shared-socket".into());
        }
        if self.ipsec.is_some() && matches!(population.credentials, super::profile::Credentials::Md5 { .. }) {
            return Err("--ipsec derives its keys from AKA: use --algo xor or milenage".into());
        }
        let echo_uri = self.echo.unwrap_or_else(|| format!("sip:echo@{}", population.domain));
        let run = RunConfig {
            target,
            ues,
            workers,
            cpus: self.cpus,
            // epoll by default: ringload's per-UE sockets cost about twice the CPU per call
            // on io_uring here (perf/RESULTS.md, "ringload against SIPp").
            epoll: !self.io_uring,
            batch: self.batch.filter(|d| !d.is_zero()),
            reg_rate: self.reg_rate.unwrap_or(500.0),
            rate,
            ramp: self.ramp.unwrap_or(Duration::ZERO),
            echo_calls,
            ue_calls,
            sms,
            echo_uri,
            hold: self.hold.unwrap_or(Duration::from_secs(1)),
            answer_delay: self.answer_delay.unwrap_or(Duration::ZERO),
            timeout,
            expires: self.expires.unwrap_or(600),
            busy_hour,
            shared_socket: self.shared_socket,
            busy_hour_time: self.duration.unwrap_or(Duration::ZERO),
            skip_register: self.skip_register,
            reregister: self.rereg,
            deregister: !self.keep,
            max_time: self.max_time.unwrap_or(Duration::from_secs(600)),
            local_ip: self.local_ip,
            ipsec: self.ipsec,
            population,
        };
        Ok(Args { run, report_json: self.report_json, hdr_log: self.hdr_log, plot: self.plot, quiet: self.quiet })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::metrics::Action;

    fn p(s: &str) -> Result<Parsed, String> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn defaults_and_options() {
        let Ok(Parsed::Run(a)) = p("--target 127.0.0.1:5060 --ues 2000 --calls 200 --ue-calls=200 --hold 0.5 --plot x.svg") else {
            panic!("parse")
        };
        assert_eq!((a.run.ues, a.run.echo_calls, a.run.ue_calls), (2000, 200, 200));
        assert_eq!(a.run.hold, Duration::from_millis(500));
        assert_eq!(a.run.echo_uri, "sip:echo@ims.mnc001.mcc001.3gppnetwork.org");
        let Ok(Parsed::Run(d)) = p("127.0.0.1:5060 --rate 10 --duration 3") else { panic!("parse") };
        assert_eq!(d.run.echo_calls, 30);
        assert!(matches!(p("--help"), Ok(Parsed::Help)));
        let Ok(Parsed::Run(b)) = p("127.0.0.1:5060 --ues 3600 --busy-hour 2,1 --duration 60") else { panic!("parse") };
        assert_eq!(b.run.echo_calls, 0, "the mix replaces the duration-derived echo calls");
        let phases = crate::load::run::phases(&b.run);
        assert_eq!(phases.len(), 3, "register, busy hour, de-register");
        assert_eq!((phases[1].2, phases[1].3), (180, 3.0), "3 actions per UE-hour x 3600 UEs = 3/s for 60 s");
        let Ok(Parsed::Run(s)) = p("127.0.0.1:5060 --ues 200 --sms 100 --sms-text=hello --rate 20 --duration 9") else { panic!("parse") };
        let o = s.run.sms.as_ref().map(|o| (o.count, o.text.as_str(), o.smsc.as_str()));
        assert_eq!(o, Some((100, "hello", "sip:smsc@ims.mnc001.mcc001.3gppnetwork.org")));
        assert_eq!(s.run.echo_calls, 0, "--duration does not add echo calls to an SMS run");
        let kinds: Vec<_> = crate::load::run::phases(&s.run).iter().map(|p| (p.0, p.2)).collect();
        assert_eq!(kinds, [(Action::Register, 200), (Action::Sms, 100), (Action::Deregister, 200)]);
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        for (args, needle) in [
            ("--ues 10", "missing --target"),
            ("--target 127.0.0.1:5060 --ues x", "not a valid number"),
            ("--target 127.0.0.1:5060 --bogus 1", "unknown option --bogus"),
            ("--target 127.0.0.1:5060 --rate 0", "rate must be > 0"),
            ("--target 127.0.0.1:5060 --plot a.jpg", ".svg or .png"),
            ("--target 127.0.0.1:5060 --batch-us 20000", "at most 10000"),
            ("--target 127.0.0.1:5060 --algo milenage", "needs --opc"),
            ("--target 127.0.0.1:5060 --k 12", "32 hex digits"),
            ("--target 10.1.2.3:5060", "--local-ip"),
            ("--target 127.0.0.1:5060 --ues 1 --ue-calls 3", "at least 2 UEs"),
            ("--target 127.0.0.1:5060 --ues", "needs a value"),
            ("--target nowhere.invalid:5060", "--target"),
            ("--target 127.0.0.1:5060 --busy-hour 2,1", "needs --duration"),
            ("--target 127.0.0.1:5060 --busy-hour 2", "CALLS,REREGS"),
            ("--target 127.0.0.1:5060 --ues 3 --workers 2 --sms 5", "2 UEs per worker"),
            ("--target 127.0.0.1:5060 --sms-text hi", "need --sms"),
            ("--target 127.0.0.1:5060 --sms 1 --smsc smsc", "not a sip: or tel: URI"),
        ] {
            match p(args) {
                Err(e) => assert!(e.contains(needle), "{args}: {e}"),
                Ok(_) => panic!("{args} accepted"),
            }
        }
    }
}
