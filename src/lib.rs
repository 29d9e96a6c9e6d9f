//! ringcore: a lab IMS core (P-CSCF, I-CSCF, S-CSCF and HSS in one process)
//! built as a packet engine, and the building blocks of ringload, its UE load
//! engine. The shape is described in DESIGN.md: pinned data-plane workers
//! (`engine`) own sockets and the SIP transaction layer, one control thread
//! (`control`) takes decisions, and every protocol is a sans-IO state machine.
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod config;
pub mod control;
pub mod endpoint;
pub mod engine;
pub mod ims;
pub mod ipsec;
pub mod load;
pub mod sip;
pub mod log;
pub mod media;
pub mod sdp;
pub mod sms;
pub mod smsc;
pub mod stats;
#[doc(hidden)]
pub mod testkit;
