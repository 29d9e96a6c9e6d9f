//! Feeds monitor command lines from standard input to the control thread.
//!
//! A dedicated thread does the blocking reads and hands each line over a
//! small bounded channel; the control loop drains it between events, so a
//! slow terminal never stalls SIP processing. End of input closes the
//! channel and the monitor simply stops (the core keeps running).

use std::io::BufRead;
use std::sync::mpsc::{sync_channel, Receiver};

/// Most lines waiting for the control thread.
const LINES_IN_FLIGHT: usize = 64;
/// Longest accepted command line; longer ones are cut.
const MAX_LINE: usize = 4096;

/// Starts the reader thread.
pub fn spawn() -> std::io::Result<Receiver<String>> {
    let (tx, rx) = sync_channel(LINES_IN_FLIGHT);
    std::thread::Builder::new().name("monitor-stdin".into()).spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let mut l = line.trim_end().to_owned();
                    if l.len() > MAX_LINE {
                        let mut cut = MAX_LINE;
                        while !l.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        l.truncate(cut);
                    }
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            }
        }
    })?;
    Ok(rx)
}
