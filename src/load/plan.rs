//! The open-loop schedule of one phase: action `j` of `count` is due at an intended time
//! fixed in advance by the rate (with an optional linear ramp from 0), whatever happened
//! to earlier actions. Which UE acts, and which UE it calls, is a pure function of `j`,
//! so every worker computes its own share without coordination.

use std::time::{Duration, Instant};

use super::metrics::Action;

/// A busy-hour profile: per UE and hour, so many calls and re-registrations, spread
/// evenly over one schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mix {
    /// Calls per UE per hour.
    pub calls_per_hour: f64,
    /// Re-registrations per UE per hour.
    pub rereg_per_hour: f64,
    /// Fraction of the calls that go to the echo IMPU (the rest to other UEs).
    pub echo_share: f64,
}

impl Mix {
    /// Actions per second for `ues` UEs.
    pub fn rate(&self, ues: usize) -> f64 {
        ues as f64 * (self.calls_per_hour + self.rereg_per_hour) / 3600.0
    }
}

/// Stride of the actor choice in a mixed phase (a prime: consecutive actions land on
/// UEs far apart).
const MIX_STRIDE: u64 = 7919;

/// True when `floor((j + 1) share) > floor(j share)`: spreads a share evenly over indices.
fn picks(j: u64, share: f64) -> bool {
    ((j + 1) as f64 * share).floor() > (j as f64 * share).floor()
}

/// One phase of a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phase {
    /// What every action of the phase does (a label when `mix` is set).
    pub action: Action,
    /// A busy-hour mix: action `j` is a call or a re-registration per [`Phase::kind`].
    pub mix: Option<Mix>,
    /// Number of actions.
    pub count: u64,
    /// Steady rate in actions per second (> 0).
    pub rate: f64,
    /// Linear ramp from 0 to `rate` over this time.
    pub ramp: Duration,
    /// Intended time of the phase's start.
    pub start: Instant,
    /// UEs in the run.
    pub ues: usize,
    /// After this instant every action still in progress is ended as a timeout.
    pub deadline: Instant,
}

impl Phase {
    /// Intended time of action `j`: with `N(t) = r t² / 2T` during the ramp `T` and
    /// `r` per second after it, `t_j` solves `N(t_j) = j`.
    pub fn intended(&self, j: u64) -> Instant {
        let (r, t) = (self.rate.max(1e-9), self.ramp.as_secs_f64());
        let j = j as f64;
        let ramp_actions = r * t / 2.0;
        let secs = if j < ramp_actions { (2.0 * t * j / r).sqrt() } else { t + (j - ramp_actions) / r };
        self.start + Duration::from_secs_f64(secs.clamp(0.0, 1e7))
    }

    /// Intended time of the last action (the schedule's span).
    pub fn last(&self) -> Instant {
        self.intended(self.count.saturating_sub(1))
    }

    /// What action `j` does: the phase's action, or in a mix a call (echo or UE-to-UE)
    /// or a re-registration, in the proportions of the mix.
    pub fn kind(&self, j: u64) -> Action {
        let Some(m) = self.mix else { return self.action };
        let total = m.calls_per_hour + m.rereg_per_hour;
        let call_share = if total > 0.0 { m.calls_per_hour / total } else { 0.0 };
        if !picks(j, call_share) {
            return Action::Reregister;
        }
        let c = (j as f64 * call_share).floor() as u64;
        if picks(c, m.echo_share.clamp(0.0, 1.0)) || self.ues < 2 {
            Action::EchoCall
        } else {
            Action::UeCall
        }
    }

    /// The UE that performs action `j`. UE-to-UE calls and SMS use the first half of the
    /// UEs as callers/senders and the second half as callees/recipients; a mix strides over
    /// every UE.
    pub fn actor(&self, j: u64) -> usize {
        let n = self.ues.max(1) as u64;
        if self.mix.is_some() {
            return (j.wrapping_mul(MIX_STRIDE) % n) as usize;
        }
        match self.action {
            Action::UeCall | Action::Sms => (j % (n / 2).max(1)) as usize,
            _ => (j % n) as usize,
        }
    }

    /// The UE called by action `j` (UE-to-UE calls only).
    pub fn callee(&self, j: u64) -> Option<usize> {
        (self.kind(j) == Action::UeCall && self.ues >= 2).then(|| (self.actor(j) + self.ues / 2) % self.ues)
    }

    /// The worker owning action `j` (the worker of its actor; UE `i` lives on worker
    /// `i % n_workers`).
    pub fn owner(&self, j: u64, n_workers: usize) -> usize {
        self.actor(j) % n_workers.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(action: Action, ramp_ms: u64) -> Phase {
        let start = Instant::now();
        Phase { action, mix: None, count: 100, rate: 100.0, ramp: Duration::from_millis(ramp_ms), start, ues: 10, deadline: start }
    }

    #[test]
    fn fixed_rate_and_ramp_schedules() {
        let p = phase(Action::Register, 0);
        assert_eq!(p.intended(0), p.start);
        assert_eq!(p.intended(50) - p.start, Duration::from_millis(500));
        let r = phase(Action::Register, 1000);
        // During a 1 s ramp to 100/s, 50 actions are due: action 50 at exactly 1 s.
        assert_eq!((r.intended(50) - r.start).as_millis(), 1000);
        assert_eq!((r.intended(60) - r.start).as_millis(), 1100);
        assert!(r.intended(1) - r.start > p.intended(1) - p.start, "slower while ramping");
    }

    #[test]
    fn actors_callees_and_owners() {
        let p = phase(Action::UeCall, 0);
        assert_eq!((p.actor(0), p.callee(0)), (0, Some(5)));
        assert_eq!((p.actor(7), p.callee(7)), (2, Some(7)));
        let e = phase(Action::EchoCall, 0);
        assert_eq!((e.actor(13), e.callee(13)), (3, None));
        assert_eq!(e.owner(13, 2), 1);
    }

    #[test]
    fn busy_hour_mix_keeps_its_proportions() {
        let mut p = phase(Action::UeCall, 0);
        p.ues = 1000;
        p.mix = Some(Mix { calls_per_hour: 3.0, rereg_per_hour: 1.0, echo_share: 0.5 });
        assert!(p.mix.is_some_and(|m| (m.rate(900) - 1.0).abs() < 1e-9), "900 UEs x 4 actions per hour: 1 per second");
        let mut n = std::collections::HashMap::new();
        for j in 0..4000 {
            *n.entry(p.kind(j)).or_insert(0) += 1;
            if let Some(c) = p.callee(j) {
                assert_ne!(c, p.actor(j));
            }
        }
        assert_eq!(n.get(&Action::Reregister), Some(&1000));
        assert_eq!(n.get(&Action::EchoCall), Some(&1500));
        assert_eq!(n.get(&Action::UeCall), Some(&1500));
    }
}
