//! The typed configuration: turns the evaluated tree of the lteims
//! configuration language ([`crate::config::value::Value`]) into a
//! validated [`Config`] with every property of seed 000 section 5.2 and
//! 5.2.1 (plus the seed 001 SIM fields and ringcore's `engine`,
//! `metrics_addr` and `limits` extensions), each with its documented
//! default and range.
//!
//! [`from_value`] reports every error it finds, each with the source
//! location and property path; unknown and deprecated properties are
//! warnings. `Config` serializes (serde) to the effective configuration
//! with the manual's property names, which `from_value` reads back to an
//! equal `Config`.

mod calls;
mod callflow;
mod common;
mod diameter;
mod engine;
mod error;
mod file_ref;
mod headers;
mod impu;
mod ipsec;
mod logs;
mod props;
mod reader;
mod remote_api;
mod session;
mod sim;
mod sip;
mod sms;
mod ue_db;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::Serialize;

pub use calls::{CallSettings, Trunk};
pub use callflow::{CallflowModifier, Direction, ModifierMethod, Rat};
pub use common::Hex;
pub use diameter::{DiameterSettings, N5};
pub use engine::{Backend, Engine, EngineSettings, Limits};
pub use error::{TypedError, Warning};
pub use file_ref::{FileKind, FileText, MAX_CONTENT_FILE};
pub use headers::CustomHeader;
pub use impu::{Impu, ImpuScheme, Precondition};
pub use ipsec::IpsecSettings;
pub use logs::LogSettings;
pub use props::{feature_of, Feature, PROPERTIES};
pub use remote_api::{ComAuth, LicenseServer, RemoteApiSettings};
pub use session::{RefreshMethod, Refresher, SessionExpires};
pub use sim::{MilenageOp, Sim, TuakKey, TuakOp, MILENAGE_C, MILENAGE_R};
pub use sip::{SipAddr, SipSettings, DEFAULT_USER_AGENT};
pub use sms::{FilterAction, NumberingPlan, SmsCentreAddress, SmsMessageFilter, SmsSettings, TypeOfNumber};
pub use ue_db::{AuthentQop, AuthentType, UeEntry};

use crate::config::value::Value;
use reader::{Ctx, Obj};

/// The whole typed configuration. The sections are flattened: the JSON
/// form has the manual's flat property names.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    /// Logging.
    #[serde(flatten)]
    pub log: LogSettings,
    /// SIP transport, timers, registration.
    #[serde(flatten)]
    pub sip: SipSettings,
    /// Calls.
    #[serde(flatten)]
    pub calls: CallSettings,
    /// IPsec.
    #[serde(flatten)]
    pub ipsec: IpsecSettings,
    /// Diameter, SGs and N5.
    #[serde(flatten)]
    pub diameter: DiameterSettings,
    /// Remote API.
    #[serde(flatten)]
    pub remote_api: RemoteApiSettings,
    /// SMS and MMS.
    #[serde(flatten)]
    pub sms: SmsSettings,
    /// User database.
    pub ue_db: Vec<UeEntry>,
    /// Persistent IMS state file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ue_db_filename: Option<String>,
    /// Engine extension.
    #[serde(flatten)]
    pub engine: EngineSettings,
    /// Generic paths of the properties the source wrote (provenance, not
    /// configuration: ignored by `==`).
    #[serde(skip)]
    written: BTreeSet<String>,
}

impl PartialEq for Config {
    /// Equal effective configurations; where values came from is ignored.
    fn eq(&self, o: &Self) -> bool {
        (&self.log, &self.sip, &self.calls, &self.ipsec, &self.diameter, &self.remote_api, &self.sms)
            == (&o.log, &o.sip, &o.calls, &o.ipsec, &o.diameter, &o.remote_api, &o.sms)
            && (&self.ue_db, &self.ue_db_filename, &self.engine) == (&o.ue_db, &o.ue_db_filename, &o.engine)
    }
}

/// Reads the evaluated configuration tree: the configuration and its
/// warnings, or every error found.
pub fn from_value(root: &Value) -> Result<(Config, Vec<Warning>), Vec<TypedError>> {
    let mut ctx = Ctx::default();
    let Some(mut o) = Obj::new(&mut ctx, root, String::new()) else { return Err(ctx.errors) };
    let config = read_config(&mut ctx, &mut o);
    o.finish(&mut ctx);
    if ctx.errors.is_empty() {
        Ok((Config { written: std::mem::take(&mut ctx.seen), ..config }, ctx.warnings))
    } else {
        Err(ctx.errors)
    }
}

fn read_config(ctx: &mut Ctx, o: &mut Obj<'_>) -> Config {
    let log = LogSettings::read(ctx, o);
    let sip = SipSettings::read(ctx, o);
    let calls = CallSettings::read(ctx, o);
    let ipsec = IpsecSettings::read(ctx, o);
    let diameter = DiameterSettings::read(ctx, o);
    let remote_api = RemoteApiSettings::read(ctx, o);
    let sms = SmsSettings::read(ctx, o);
    let g = ue_db::UeDefaults { domain: sip.domain.as_deref(), session: calls.session_expires };
    let ue_db = o.take(ctx, "ue_db").map(|f| ue_db::read_ue_db(ctx, &f, &g)).unwrap_or_default();
    let ue_db_filename = o.opt_string(ctx, "ue_db_filename");
    let engine = EngineSettings::read(ctx, o);
    Config { log, sip, calls, ipsec, diameter, remote_api, sms, ue_db, ue_db_filename, engine, written: BTreeSet::new() }
}

impl Config {
    /// The user database for the registrar and HSS.
    pub fn ue_db(&self) -> &[UeEntry] {
        &self.ue_db
    }

    /// Properties written in the source (generic paths such as
    /// `ue_db.impu.callflow_modifier`) that `active` rejects, sorted. They are
    /// parsed and validated but have no effect yet.
    pub fn inactive_properties(&self, active: &dyn Fn(&str) -> bool) -> Vec<String> {
        self.written.iter().filter(|p| !active(p)).cloned().collect()
    }

    /// The effective configuration as JSON (`ringcore --check-config`).
    pub fn to_json(&self) -> serde_json::Value {
        // Serializing plain data with string keys into a Value cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}
