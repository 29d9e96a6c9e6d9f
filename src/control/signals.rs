//! Orderly shutdown on SIGINT and SIGTERM.
//!
//! The signals are blocked in the calling thread before any other thread is
//! started (threads inherit the mask), and one small thread waits for them
//! with sigwait and raises a flag the control loop checks on every turn, so
//! no async-signal-unsafe code ever runs in a handler.

use nix::sys::signal::{SigSet, Signal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Blocks SIGINT/SIGTERM and returns the flag raised when one arrives.
pub fn install() -> Result<Arc<AtomicBool>, String> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block().map_err(|e| format!("cannot block signals: {e}"))?;
    let flag = Arc::new(AtomicBool::new(false));
    let raised = flag.clone();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if set.wait().is_ok() {
                raised.store(true, Ordering::SeqCst);
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(flag)
}
