//! The lteims remote API (seed 000 6): WebSocket transport and JSON envelope, sans-IO.
pub mod ws;
