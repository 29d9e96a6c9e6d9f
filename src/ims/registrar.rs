//! The S-CSCF registrar (TS 24.229 5.4.1) with the P-CSCF's part of the
//! REGISTER answer (Path, TS 24.229 5.2.2) folded in, since ringcore plays
//! both roles in one process.
//!
//! The registrar is sans-IO: the SIP layer extracts a [`RegisterInput`] from
//! the request, calls [`Registrar::handle_register`] with the current time,
//! and turns the [`RegisterOutcome`] into a response. Randomness (RAND, MD5
//! nonces) comes from a seeded generator owned by the registrar, so tests are
//! deterministic. Binding expiry is driven by `poll_timeout`/`handle_timeout`.
//!
//! Authentication follows TS 33.203 6.1 / TS 24.229 5.4.1.2: a REGISTER
//! without valid credentials gets a 401 with a fresh challenge; a response
//! that does not match gets a new challenge, and after
//! `MAX_AUTH_FAILURES` consecutive failures a 403; an unknown or expired
//! nonce gets `stale=true` (RFC 2617 3.2.1); an AUTS triggers
//! resynchronisation (TS 33.102 6.3.5) and a new challenge. A failed attempt
//! never changes the bindings.

use super::bindings::{grant_expires, BindingError, Bindings, ContactUpdate, Record, RecordKey};
use super::challenge::{self, Challenge, DigestAlgo};
use super::hss::Hss;
use super::register_input::{ContactsInput, RegisterInput};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Consecutive authentication failures after which a REGISTER gets 403.
pub const MAX_AUTH_FAILURES: u32 = 5;
/// How long a challenge stays valid (then `stale=true`).
pub const NONCE_LIFETIME: Duration = Duration::from_secs(60);
/// At most this many outstanding challenges; the oldest are forgotten first.
pub const MAX_PENDING_CHALLENGES: usize = 262_144;

/// Registrar settings taken from the configuration (seed 000 5.2).
#[derive(Clone, Debug)]
pub struct RegistrarConfig {
    /// The home domain (realm of challenges).
    pub domain: String,
    /// Default registration duration in seconds (binding_expires).
    pub binding_expires: u32,
    /// Longest registration granted (864000 per the manual).
    pub max_expires: u32,
    /// Path header value for REGISTER answers when the UE supports path; None = none.
    pub path: Option<String>,
    /// Service-Route header value of the 200 OK.
    pub service_route: String,
    /// Most registration records.
    pub max_records: usize,
}

/// The registrar's answer to one REGISTER.
#[derive(Debug)]
pub enum RegisterOutcome {
    /// 401 Unauthorized with this challenge (RFC 3261 22.4, TS 24.229 5.4.1.2.1).
    Challenge(Challenge),
    /// 200 OK: the record as it stands (None when the REGISTER removed every contact).
    Ok(Registered),
    /// A final error: code, reason phrase, Warning text.
    Reject {
        /// The SIP status code.
        code: u16,
        /// The reason phrase.
        reason: &'static str,
        /// A Warning (399) text explaining why, for the lab engineer.
        warning: String,
    },
}

/// What a 200 OK to REGISTER carries.
#[derive(Debug)]
pub struct Registered {
    /// The registration record after the change, if any contact is left.
    pub record: Option<Record>,
    /// P-Associated-URI values, default (registered) identity first (TS 24.229 5.4.1.2.2).
    pub associated: Vec<String>,
    /// Service-Route value.
    pub service_route: String,
    /// Path value to return, when the UE supports path.
    pub path: Option<String>,
    /// The private identity.
    pub impi: String,
}

struct Pending {
    impi: String,
    challenge: Challenge,
    created: Instant,
}

/// The registrar: HSS, bindings and authentication state.
pub struct Registrar {
    cfg: RegistrarConfig,
    /// The subscriber database (built-in HSS).
    pub hss: Hss,
    /// The binding table.
    pub bindings: Bindings,
    pending: HashMap<String, Pending>,
    pending_order: VecDeque<(Instant, String)>,
    failures: HashMap<String, u32>,
    rng: challenge::Rng,
}

impl Registrar {
    /// A registrar over `hss`, with randomness from `seed`.
    pub fn new(cfg: RegistrarConfig, hss: Hss, seed: u64) -> Self {
        let bindings = Bindings::new(cfg.max_records);
        Registrar {
            cfg,
            hss,
            bindings,
            pending: HashMap::new(),
            pending_order: VecDeque::new(),
            failures: HashMap::new(),
            rng: challenge::Rng::new(seed),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RegistrarConfig {
        &self.cfg
    }

    /// The settings, for run-time changes (remote API config_set binding_expires).
    pub fn config_mut(&mut self) -> &mut RegistrarConfig {
        &mut self.cfg
    }

    /// Handles one REGISTER (TS 24.229 5.4.1.2).
    pub fn handle_register(&mut self, now: Instant, req: &RegisterInput<'_>) -> RegisterOutcome {
        self.forget_old_challenges(now);
        // TS 24.229 5.4.1.2.1: identify the subscriber by the private identity
        // of the Authorization header, else by the public identity in To.
        let impi = match self.identify(req) {
            Ok(impi) => impi,
            Err(outcome) => return outcome,
        };
        if let Err(outcome) = self.authenticate(now, req, &impi) {
            return outcome;
        }
        self.failures.remove(&impi);
        self.apply_bindings(now, req, impi)
    }

    // The Err is the REGISTER's final outcome, returned early and moved once per request.
    #[allow(clippy::result_large_err)]
    fn identify(&self, req: &RegisterInput<'_>) -> Result<String, RegisterOutcome> {
        let by_impu = self.hss.impi_of_impu(req.impu).map(str::to_owned);
        let impi = match req.auth.as_ref().map(|a| a.username) {
            Some(u) if !u.is_empty() => u.to_owned(),
            _ => by_impu.clone().ok_or_else(|| forbidden(format!("unknown public identity {}", req.impu)))?,
        };
        let Some(sub) = self.hss.subscriber(&impi) else {
            // TS 24.229 5.4.1.2.1 / TS 29.228: user unknown → 403 Forbidden.
            return Err(forbidden(format!("unknown private identity {impi}")));
        };
        // TS 24.229 5.4.1.2.1: the public identity must belong to the private one.
        if !sub.has_impu(req.impu) && !req.emergency {
            return Err(forbidden(format!("{} is not a public identity of {impi}", req.impu)));
        }
        Ok(impi)
    }

    /// Ok(()) when the request is authenticated (or needs no authentication); else the
    /// outcome to answer with (a challenge or a rejection).
    #[allow(clippy::result_large_err)]
    fn authenticate(&mut self, now: Instant, req: &RegisterInput<'_>, impi: &str) -> Result<(), RegisterOutcome> {
        let Some(sub) = self.hss.subscriber(impi) else { return Err(forbidden(format!("unknown {impi}"))) };
        if !sub.needs_authentication(req.impu) {
            return Ok(());
        }
        let offered = req.auth.as_ref().and_then(|a| a.algorithm).map(DigestAlgo::from_param);
        let algo = match sub.choose_algorithm(offered) {
            Ok(a) => a,
            Err(why) => return Err(forbidden(why)),
        };
        let Some(cred) = req.auth.as_ref().filter(|a| !a.nonce.is_empty() && !a.response.is_empty()) else {
            return Err(self.challenge(now, impi, algo, false));
        };
        let Some(pending) = self.pending.get(cred.nonce) else {
            // RFC 2617 3.2.1: a nonce we do not know (expired, or from before a
            // restart) is stale; the UE retries with the new one without
            // asking the user.
            return Err(self.challenge(now, impi, algo, true));
        };
        if pending.impi != impi {
            return Err(self.fail(now, impi, algo, "nonce issued to another private identity"));
        }
        if let Some(auts) = cred.auts {
            // TS 33.102 6.3.5: the USIM found the SQN out of range.
            let rand = pending.challenge.rand;
            self.pending.remove(cred.nonce);
            return match challenge::decode_auts(auts).and_then(|a| self.hss.resync(impi, &rand, a.as_slice())) {
                Ok(()) => Err(self.challenge(now, impi, algo, false)),
                Err(why) => Err(self.fail(now, impi, algo, &format!("resynchronisation failed: {why}"))),
            };
        }
        let verdict = challenge::verify(&pending.challenge, cred, req.method, self.hss.password(impi));
        self.pending.remove(cred.nonce);
        match verdict {
            Ok(()) => Ok(()),
            Err(why) => Err(self.fail(now, impi, algo, why)),
        }
    }

    /// A wrong answer: count it, then 403 or a fresh challenge.
    fn fail(&mut self, now: Instant, impi: &str, algo: DigestAlgo, why: &str) -> RegisterOutcome {
        let n = self.failures.entry(impi.to_owned()).or_insert(0);
        *n += 1;
        if *n >= MAX_AUTH_FAILURES {
            self.failures.remove(impi);
            return forbidden(format!("authentication failed {MAX_AUTH_FAILURES} times: {why}"));
        }
        self.challenge(now, impi, algo, false)
    }

    fn challenge(&mut self, now: Instant, impi: &str, algo: DigestAlgo, stale: bool) -> RegisterOutcome {
        let rand = self.rng.bytes16();
        let Some(mut ch) = self.hss.make_challenge(impi, algo, rand, &self.cfg.domain) else {
            return forbidden(format!("no credentials for {impi} with {algo:?}"));
        };
        ch.stale = stale;
        while self.pending.len() >= MAX_PENDING_CHALLENGES {
            let Some((_, nonce)) = self.pending_order.pop_front() else { break };
            self.pending.remove(&nonce);
        }
        self.pending_order.push_back((now, ch.nonce.clone()));
        self.pending.insert(ch.nonce.clone(), Pending { impi: impi.to_owned(), challenge: ch.clone(), created: now });
        RegisterOutcome::Challenge(ch)
    }

    fn forget_old_challenges(&mut self, now: Instant) {
        while let Some((t, _)) = self.pending_order.front() {
            if now.saturating_duration_since(*t) < NONCE_LIFETIME {
                break;
            }
            let Some((_, nonce)) = self.pending_order.pop_front() else { break };
            if self.pending.get(&nonce).is_some_and(|p| now.saturating_duration_since(p.created) >= NONCE_LIFETIME) {
                self.pending.remove(&nonce);
            }
        }
    }

    /// RFC 3261 10.3 steps 6-8 on the authenticated REGISTER.
    fn apply_bindings(&mut self, now: Instant, req: &RegisterInput<'_>, impi: String) -> RegisterOutcome {
        let Some(sub) = self.hss.subscriber(&impi) else { return forbidden(format!("unknown {impi}")) };
        let imei = if sub.multi_sim { req.imei().unwrap_or_default() } else { String::new() };
        let key = RecordKey { impi: impi.clone(), imei, emergency: req.emergency };
        let impus = sub.registration_set(req.impu);
        let associated = sub.associated_uris(req.impu);
        let result = match &req.contacts {
            ContactsInput::Star => {
                // RFC 3261 10.3 step 6: "*" is only valid with Expires: 0.
                if req.expires != Some(0) {
                    return bad_request("Contact: * requires Expires: 0");
                }
                self.bindings.remove_all(now, &key, super::bindings::ContactEvent::Unregistered);
                Ok(None)
            }
            ContactsInput::List(list) if list.is_empty() => Ok(self.bindings.get(&key)),
            ContactsInput::List(list) => {
                let updates: Vec<ContactUpdate> = list
                    .iter()
                    .map(|c| {
                        let secs = grant_expires(c.expires.or(req.expires), self.cfg.binding_expires, self.cfg.max_expires);
                        ContactUpdate { contact: c.to_contact(now, secs, req), remove: secs == 0 }
                    })
                    .collect();
                self.bindings.update(now, &key, &impus, updates)
            }
        };
        match result {
            Ok(record) => RegisterOutcome::Ok(Registered {
                record: record.cloned(),
                associated,
                service_route: self.cfg.service_route.clone(),
                path: if req.supports_path { self.cfg.path.clone() } else { None },
                impi,
            }),
            Err(BindingError::OutOfOrder) => bad_request("CSeq not higher than the stored one (RFC 3261 10.3 step 7)"),
            Err(BindingError::TableFull) => RegisterOutcome::Reject {
                code: 503,
                reason: "Service Unavailable",
                warning: "registration table full".into(),
            },
            Err(BindingError::TooManyContacts) => RegisterOutcome::Reject {
                code: 403,
                reason: "Forbidden",
                warning: "too many contacts for one registration".into(),
            },
        }
    }

    /// The next binding expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.bindings.poll_timeout()
    }

    /// Expires bindings whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.bindings.handle_timeout(now);
    }

    /// The private identity a pending challenge was issued to (sec-agree keys its SAs by it).
    pub fn pending_impi(&self, nonce: &str) -> Option<&str> {
        self.pending.get(nonce).map(|p| p.impi.as_str())
    }

    /// Outstanding challenges (for stats).
    pub fn pending_challenges(&self) -> usize {
        self.pending.len()
    }
}

fn forbidden(warning: String) -> RegisterOutcome {
    RegisterOutcome::Reject { code: 403, reason: "Forbidden", warning }
}

fn bad_request(warning: &str) -> RegisterOutcome {
    RegisterOutcome::Reject { code: 400, reason: "Bad Request", warning: warning.to_owned() }
}
