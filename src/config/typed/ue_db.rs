//! The user database `ue_db` (seed 000 5.2.1, SIM fields from seed 001):
//! one [`UeEntry`] per subscriber with its identities, authentication type
//! and SIM keys, validated for the registrar and the HSS.

use serde::Serialize;

use super::common::Hex;
use super::file_ref::{FileKind, FileText};
use super::impu::Impu;
use super::reader::{Ctx, Field, Obj};
use super::session::SessionExpires;
use super::sim::Sim;

/// Minimum authentication level (ordered from lowest to highest security).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum AuthentType {
    /// No authentication.
    #[serde(rename = "none")]
    None,
    /// HTTP digest MD5 (RFC 3261 22.4 / RFC 2617) with `pwd`.
    #[serde(rename = "MD5")]
    Md5,
    /// IMS AKA version 1 (RFC 3310).
    #[serde(rename = "AKAv1")]
    AkaV1,
    /// IMS AKA version 2 (RFC 4169).
    #[serde(rename = "AKAv2")]
    AkaV2,
}

/// Digest `qop` (RFC 2617 3.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthentQop {
    /// No qop parameter.
    None,
    /// `qop="auth"`.
    Auth,
}

/// Default AMF when none is written (separation bit set, as on common test USIMs).
pub const DEFAULT_AMF: u16 = 0x9001;

/// One subscriber.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UeEntry {
    /// IMSI (TS 23.003 2.2: up to 15 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imsi: Option<String>,
    /// NAI-form SUPI (`user@realm`, TS 23.003 28.7.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nai: Option<String>,
    /// MSISDN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<String>,
    /// Several UEs may share this IMSI, told apart by IMEI (XOR only).
    pub multi_sim: bool,
    /// Private identity; must match the Authorization username.
    pub impi: String,
    /// Public identities.
    pub impu: Vec<Impu>,
    /// Algorithm and keys; `None` when no `K` is written.
    #[serde(flatten)]
    pub sim: Option<Sim>,
    /// Authentication Management Field.
    pub amf: u16,
    /// Initial sequence number (6 bytes, default 0).
    pub sqn: Hex<6>,
    /// RES length in bytes (default 8).
    pub res_len: u8,
    /// Minimum authentication level (default AKAv1, MD5 when only `pwd`).
    pub authent_type: AuthentType,
    /// Digest qop (default none).
    pub authent_qop: AuthentQop,
    /// MD5 password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pwd: Option<String>,
    /// MT call SDP file override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mt_call_sdp_file: Option<FileText>,
    /// Domain override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Override of the global `auth_on_register_only`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_on_register_only: Option<bool>,
    /// Force SMS over SGs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_sms_over_sg: Option<bool>,
}

impl UeEntry {
    /// The domain for this user's SIP identities: its own, else `global`.
    pub fn domain_or<'a>(&'a self, global: Option<&'a str>) -> Option<&'a str> {
        self.domain.as_deref().or(global)
    }
}

/// What the entries need from the rest of the configuration.
pub(crate) struct UeDefaults<'g> {
    pub domain: Option<&'g str>,
    pub session: SessionExpires,
}

/// Reads the `ue_db` array.
pub(crate) fn read_ue_db(ctx: &mut Ctx, f: &Field<'_>, g: &UeDefaults<'_>) -> Vec<UeEntry> {
    let Some(items) = f.array(ctx) else { return Vec::new() };
    items.iter().filter_map(|item| read_entry(ctx, item, g)).collect()
}

fn read_entry(ctx: &mut Ctx, f: &Field<'_>, g: &UeDefaults<'_>) -> Option<UeEntry> {
    let mut o = f.object(ctx)?;
    let imsi = o.take(ctx, "imsi").and_then(|i| i.digits(ctx, "IMSI", 6..=15, false));
    let nai = o.take(ctx, "nai").and_then(|n| read_nai(ctx, &n));
    if !o.has("imsi") && !o.has("nai") {
        o.missing(ctx, "imsi (or nai)");
    }
    let impi = o.require(ctx, "impi").and_then(|i| read_impi(ctx, &i));
    let impu = o.take(ctx, "impu").map(|i| Impu::read_list(ctx, &i, g.session)).unwrap_or_default();
    let res_len = o.int(ctx, "res_len", 8, 4..=16);
    let sim = Sim::read(ctx, &mut o, res_len);
    let pwd = o.opt_string(ctx, "pwd");
    let implied = if pwd.is_some() { AuthentType::Md5 } else { AuthentType::AkaV1 };
    let types = [("none", AuthentType::None), ("MD5", AuthentType::Md5), ("AKAv1", AuthentType::AkaV1), ("AKAv2", AuthentType::AkaV2)];
    let e = UeEntry {
        imsi,
        nai,
        msisdn: o.take(ctx, "msisdn").and_then(|m| m.digits(ctx, "MSISDN", 1..=15, true)),
        multi_sim: o.bool(ctx, "multi_sim", false),
        impi: impi.unwrap_or_default(),
        impu,
        sim,
        amf: o.int(ctx, "amf", DEFAULT_AMF, 0..=65535),
        sqn: o.take(ctx, "sqn").and_then(|s| s.hex(ctx)).unwrap_or_default(),
        res_len,
        authent_type: o.enumeration(ctx, "authent_type", implied, &types),
        authent_qop: o.enumeration(ctx, "authent_qop", AuthentQop::None, &[("none", AuthentQop::None), ("auth", AuthentQop::Auth)]),
        pwd,
        mt_call_sdp_file: FileText::read(ctx, &mut o, "mt_call_sdp_file", FileKind::Sdp),
        domain: o.take(ctx, "domain").and_then(|d| super::sip::read_domain(ctx, &d)),
        auth_on_register_only: o.opt_bool(ctx, "auth_on_register_only"),
        force_sms_over_sg: o.opt_bool(ctx, "force_sms_over_sg"),
    };
    check_entry(ctx, &o, &e, g);
    o.finish(ctx);
    Some(e)
}

/// Cross-property rules of one entry.
fn check_entry(ctx: &mut Ctx, o: &Obj<'_>, e: &UeEntry, g: &UeDefaults<'_>) {
    let aka = e.authent_type >= AuthentType::AkaV1;
    if aka && e.sim.is_none() && !o.has("K") {
        o.missing(ctx, "K (authent_type AKA)");
    }
    if e.authent_type == AuthentType::Md5 && e.pwd.is_none() {
        o.missing(ctx, "pwd (authent_type MD5)");
    }
    if e.multi_sim && !matches!(e.sim, Some(Sim::Xor { .. }) | None) {
        ctx.error(o.loc(), o.path(), "multi_sim is only allowed with sim_algo xor");
    }
    let user_domain = e.domain_or(g.domain);
    let needs_domain = e.impu.iter().any(|i| i.domain.is_none() && i.scheme() == super::impu::ImpuScheme::Sip);
    if needs_domain && user_domain.is_none() {
        o.missing(ctx, "domain (no global domain, and a SIP IMPU has no domain)");
    }
}

/// IMPI: a NAI `user@realm` (TS 23.003 13.3), or a bare user name.
fn read_impi(ctx: &mut Ctx, f: &Field<'_>) -> Option<String> {
    let s = f.str(ctx)?;
    if s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace() || b"<>\":".contains(&b)) || s.matches('@').count() > 1 {
        ctx.error(&f.v.loc, &f.path, format!("invalid IMPI \"{s}\""));
        return None;
    }
    Some(s.to_owned())
}

/// `username@realm` with both parts non-empty.
fn read_nai(ctx: &mut Ctx, f: &Field<'_>) -> Option<String> {
    let s = f.str(ctx)?;
    match s.split_once('@') {
        Some((u, r)) if !u.is_empty() && !r.is_empty() && !r.contains('@') => Some(s.to_owned()),
        _ => {
            ctx.error(&f.v.loc, &f.path, format!("invalid NAI \"{s}\", expected username@realm"));
            None
        }
    }
}
