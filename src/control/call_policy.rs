//! Per-call settings resolved from the configuration (seed 000): the global
//! `100rel`, `precondition`, `session_expires` and `dialog_timeout`, and
//! their per-IMPU overrides in `ue_db` and `echo` (`100rel`, `precondition`,
//! `session_expires`, `ring_only`, `answer_delay`), looked up by normalised IMPU.

use super::call_files::CalledParty;
use super::callflow::Modifiers;
use super::emergency::Emergency;
use crate::config::typed::{Config, Impu, Precondition, SessionExpires, Trunk};
use crate::ims::hss::normalize_impu;
use std::collections::HashMap;
use std::time::Duration;

/// The settings that apply to one IMPU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImpuPolicy {
    /// RFC 3262 reliable provisional responses allowed.
    pub rel100: bool,
    /// Session timer settings (RFC 4028).
    pub session: SessionExpires,
    /// Precondition handling (RFC 3312).
    pub precondition: Precondition,
    /// Stop at ringing (echo: never answer).
    pub ring_only: bool,
    /// Echo: the 200 waits for `dialog_set ID answer` (seed 000 remote_control).
    pub remote_control: bool,
    /// Echo: delay of the 200 to the INVITE.
    pub answer_delay: Option<Duration>,
}

/// Global settings and the per-IMPU overrides.
#[derive(Clone, Debug)]
pub struct CallPolicy {
    global: ImpuPolicy,
    per_impu: HashMap<String, ImpuPolicy>,
    /// seed 000 `dialog_timeout`: an unanswered call is stopped after it.
    pub dialog_timeout: Duration,
    /// SIP Timer T1 (RFC 3262 retransmissions of reliable 18x, RFC 3261 13.3.1.4 of 2xx).
    pub t1: Duration,
    /// SIP Timer T2 (the cap of 2xx retransmission intervals, RFC 3261 13.3.1.4).
    pub t2: Duration,
    /// Emergency call routing (TS 24.229 5.2.10).
    pub emergency: Emergency,
    /// seed 000 `trunk`: unknown callees go there; its requests need no authentication.
    pub trunk: Option<Trunk>,
    /// ue_db `callflow_modifier` rules with their remaining ttl.
    pub modifiers: Modifiers,
    /// seed 000 `p_called_party_id` (global and per IMPU).
    pub called_party: CalledParty,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            global: ImpuPolicy { rel100: true, session: SessionExpires::default(), precondition: Precondition::On, ring_only: false, remote_control: false, answer_delay: None },
            per_impu: HashMap::new(),
            dialog_timeout: Duration::from_secs(30),
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            emergency: Emergency::default(),
            trunk: None,
            modifiers: Modifiers::default(),
            called_party: CalledParty::default(),
        }
    }
}

impl ImpuPolicy {
    /// The extension headers of an INVITE ringcore originates (MT calls):
    /// 100rel, preconditions and timers supported as enabled; RFC 4028 7.1
    /// Session-Expires (naming the configured refresher when `force`) and Min-SE.
    pub fn uac_options(&self) -> Vec<(&'static str, String)> {
        let mut supported = Vec::new();
        if self.rel100 {
            supported.push("100rel");
        }
        if self.precondition != Precondition::Off {
            supported.push("precondition");
        }
        supported.push("timer");
        let se = &self.session;
        vec![
            ("Supported", supported.join(", ")),
            ("Session-Expires", super::session_timer::header_value(se.duration, se.force.then_some(se.refresher))),
            ("Min-SE", se.min.to_string()),
        ]
    }
}

impl CallPolicy {
    /// Resolves the configuration (start-up only).
    pub fn from_config(cfg: &Config) -> Self {
        let c = &cfg.calls;
        let global = ImpuPolicy { rel100: c.rel100, session: c.session_expires, precondition: c.precondition, ring_only: false, remote_control: false, answer_delay: None };
        let t1 = Duration::from_secs_f64(cfg.sip.timer_t1.clamp(0.05, 60.0));
        let t2 = Duration::from_secs_f64(cfg.sip.timer_t2.clamp(0.05, 600.0)).max(t1);
        let dialog_timeout = Duration::from_secs(u64::from(c.dialog_timeout));
        let (emergency, trunk) = (Emergency::from_config(cfg), c.trunk.clone());
        let modifiers = Modifiers::from_config(cfg);
        let called_party = CalledParty::from_config(cfg);
        let mut p = CallPolicy { global, per_impu: HashMap::new(), dialog_timeout, t1, t2, emergency, trunk, modifiers, called_party };
        let domain = cfg.sip.domain.as_deref();
        for e in &cfg.ue_db {
            let d = e.domain_or(domain).unwrap_or("");
            for i in &e.impu {
                p.insert(i, d);
            }
        }
        for i in &c.echo {
            p.insert(i, domain.unwrap_or(""));
        }
        p
    }

    fn insert(&mut self, i: &Impu, domain: &str) {
        let g = self.global;
        let policy = ImpuPolicy {
            rel100: g.rel100 && i.rel100,
            session: i.session_expires.unwrap_or(g.session),
            precondition: i.precondition.unwrap_or(g.precondition),
            ring_only: i.ring_only,
            remote_control: i.remote_control,
            answer_delay: i.answer_delay.filter(|d| d.is_finite() && *d > 0.0).map(|d| Duration::from_secs_f64(d.min(3600.0))),
        };
        self.per_impu.insert(normalize_impu(&i.public_identity(domain)), policy);
    }

    /// The settings for `impu` (normalised): its own, else the global ones.
    pub fn for_impu(&self, impu: &str) -> &ImpuPolicy {
        self.per_impu.get(impu).unwrap_or(&self.global)
    }

    /// Overrides the settings of one IMPU (tests and the remote API).
    pub fn set(&mut self, impu: &str, policy: ImpuPolicy) {
        self.per_impu.insert(normalize_impu(impu), policy);
    }

    /// The global settings.
    pub fn global(&self) -> &ImpuPolicy {
        &self.global
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_impu_overrides_fall_back_to_global() {
        let mut p = CallPolicy::default();
        let own = ImpuPolicy { rel100: false, precondition: Precondition::Off, ..*p.global() };
        p.set("sip:a@x", own);
        assert!(!p.for_impu("sip:a@x").rel100);
        assert_eq!(p.for_impu("sip:a@x").precondition, Precondition::Off);
        assert!(p.for_impu("sip:other@x").rel100);
    }
}
