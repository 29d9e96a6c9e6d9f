//! Live progress on stderr with indicatif: one bar per phase with attempted, succeeded
//! and failed counts, the rates and the running p50/p99 of the phase's main latency.
//! Off with `--quiet` or when stderr is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::metrics::Action;
use super::run::Snapshot;

/// The progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    phase: Option<Action>,
}

impl Progress {
    /// A display, enabled when `quiet` is false and stderr is a terminal.
    pub fn new(quiet: bool) -> Progress {
        let on = !quiet && std::io::stderr().is_terminal();
        Progress { bar: on.then(ProgressBar::hidden), phase: None }
    }

    /// Updates the display with a snapshot of the running phase.
    pub fn update(&mut self, s: &Snapshot) {
        let Some(bar) = &self.bar else { return };
        if self.phase != Some(s.action) {
            if self.phase.is_some() {
                bar.finish();
            }
            let b = ProgressBar::with_draw_target(Some(s.count), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>10} [{bar:20}] {pos}/{len} {msg}")
                .map(|st| st.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            b.set_style(style);
            b.set_prefix(s.action.name());
            self.bar = Some(b);
            self.phase = Some(s.action);
        }
        if let Some(bar) = &self.bar {
            let secs = s.elapsed.as_secs_f64().max(1e-3);
            let done = s.counts.succeeded + s.counts.failed;
            bar.set_position(done.min(s.count));
            bar.set_message(format!(
                "ok {} fail {} {:.0}/s p50 {:.2} p99 {:.2} ms",
                s.counts.succeeded,
                s.counts.failed,
                s.counts.attempted as f64 / secs,
                s.p50_us as f64 / 1000.0,
                s.p99_us as f64 / 1000.0
            ));
        }
    }

    /// Leaves the last bar on screen.
    pub fn finish(&mut self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}
