//! The control thread's dialog listing and `dialog_set` actions (monitor
//! `dialog`, `dialog_set`): relayed calls, echo calls and MT calls together.

use super::super::dialogs::{Action, DialogRow};
use super::Control;
use std::time::Instant;

impl Control {
    /// Every dialog in progress, oldest first.
    pub fn dialogs(&self) -> Vec<DialogRow> {
        let now = Instant::now();
        let mut rows = self.calls.dialog_rows(now);
        rows.extend(self.echo.dialog_rows(now));
        rows.extend(self.mt.dialog_rows(now));
        rows.sort_by_key(|r| std::cmp::Reverse(r.age));
        rows
    }

    /// Applies `action` to dialog `id` (a Call-ID from [`Control::dialogs`]).
    pub fn dialog_set(&mut self, id: &str, action: Action) -> Result<(), String> {
        let ports = &mut self.media_ports;
        let now = Instant::now();
        let out = match self.echo.dialog_set(now, id, action, ports).or_else(|| self.mt.dialog_set(id, action, ports)) {
            Some(r) => r?,
            None => match action {
                Action::Stop => self.calls.stop(id, ports).ok_or_else(|| format!("no dialog {id}"))?,
                Action::Hold | Action::Answer => return Err(format!("{action:?} is available on echo (and MT) dialogs, not on {id}")),
            },
        };
        self.send_all(out);
        Ok(())
    }
}
