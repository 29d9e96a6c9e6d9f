//! WebSocket (RFC 6455) server side, sans-IO: the opening handshake, the
//! frame codec and the per-connection state machine.

pub mod close;
pub mod conn;
pub mod frame;
pub mod handshake;

pub use close::{CloseBody, CloseCode};
pub use conn::{CloseReason, Connection, Event, SendError, WsConfig};
pub use frame::{apply_mask, Frame, FrameError, FrameRepr, Opcode};
pub use handshake::{accept_key, HandshakeError, UpgradeRequest};

#[cfg(test)]
mod tests;
