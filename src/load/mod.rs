//! ringload: an IMS UE load engine. Thousands of emulated UEs, each a sans-IO state
//! machine ([`ue::Ue`]) reusing ringcore's SIP parser and builder, AKA/digest and RTP code,
//! run in shards on the same data-plane engine as the core ([`shard::Shard`] is its
//! `Handler`). Actions fire at intended times from an open-loop schedule ([`plan`]), and
//! latencies are measured from those times into HdrHistograms ([`metrics`]), which
//! corrects coordinated omission. [`run`] drives the phases of a scenario, [`report`]
//! prints and exports the results and [`plot`] draws them.

pub mod answer;
pub mod args;
pub mod demux;
pub mod ipsec;
pub mod ipsec_shard;
pub mod ipsec_tcp;
pub mod metrics;
pub mod plan;
pub mod plot;
pub mod plot_png;
pub mod profile;
pub mod progress;
pub mod report;
pub mod rtp;
pub mod run;
pub mod shard;
pub mod sipmsg;
pub mod sms;
pub mod sms_report;
pub mod sms_wire;
pub mod ue;

#[cfg(test)]
mod sms_tests;
#[cfg(test)]
mod ue_tests;
