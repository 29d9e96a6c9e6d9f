//! The open-loop schedule of one phase: action `j` of `count` is due at an intended time
//! fixed in advance by the rate (with an optional linear ramp from 0), whatever happened
//! to earlier actions. Which UE acts, and which UE it calls, is a pure function of `j`,
//! so every worker computes its own share without coordination.

use std::time::{Duration, Instant};

use super::metrics::Action;

/// One phase of a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phase {
    /// What every action of the phase does.
    pub action: Action,
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

    /// The UE that performs action `j`. UE-to-UE calls use the first half of the UEs
    /// as callers and the second half as callees.
    pub fn actor(&self, j: u64) -> usize {
        let n = self.ues.max(1) as u64;
        match self.action {
            Action::UeCall => (j % (n / 2).max(1)) as usize,
            _ => (j % n) as usize,
        }
    }

    /// The UE called by action `j` (UE-to-UE calls only).
    pub fn callee(&self, j: u64) -> Option<usize> {
        (self.action == Action::UeCall && self.ues >= 2).then(|| self.actor(j) + self.ues / 2)
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
        Phase { action, count: 100, rate: 100.0, ramp: Duration::from_millis(ramp_ms), start, ues: 10, deadline: start }
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
}
