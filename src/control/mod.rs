//! The control thread: the command-line monitor and the control loop.

pub mod monitor;

/// Starts the core with `loaded` and runs until asked to stop.
pub fn run(_loaded: crate::config::Loaded, _path: Option<&std::path::Path>, _monitor: Option<bool>) -> Result<(), String> {
    Err("not wired yet".into())
}
