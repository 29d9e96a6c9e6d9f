//! The lteims remote API (seed 000 6), sans-IO: WebSocket transport (`ws`),
//! the JSON envelope with authentication and event subscriptions (`session`),
//! typed and validated requests (`request`, `request_ims`), the boundary to
//! the control thread (`context`) and the multi-connection server (`server`).

pub mod auth;
pub mod client;
pub mod context;
pub mod fields;
pub mod log_get;
pub mod request;
pub mod request_ims;
pub mod server;
pub mod session;
pub mod ws;

pub use auth::{compute_res, AuthConfig};
pub use context::{ApiContext, LogAvailability, LogBatch, NullContext, Reply};
pub use request::{ApiEvent, Request};
pub use server::{ApiServer, ConnId, Full, ServerConfig};
pub use session::{Api, ApiConfig, Session};

#[cfg(test)]
mod tests;
