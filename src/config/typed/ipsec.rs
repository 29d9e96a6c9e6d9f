//! IPsec properties of seed 000 5.2 (`ipsec`, `ipsec_aalg_list`,
//! `ipsec_ealg_list`, `ipsec_mtu`) with the algorithm names of TS 33.203
//! 7.1 / Annex H as used in Security-Client `alg` and `ealg` parameters.

use serde::Serialize;

use super::reader::{Ctx, Obj};

/// Integrity algorithms (`alg`, TS 33.203 7.1; `null` means none).
pub const AALGS: &[&str] = &["hmac-md5-96", "hmac-sha-1-96", "aes-gmac", "null"];
/// Encryption algorithms (`ealg`, TS 33.203 7.1; `null` means none).
pub const EALGS: &[&str] = &["null", "aes-cbc", "des-ede3-cbc", "aes-gcm"];
/// Default integrity list: the two algorithms TS 33.203 makes mandatory.
pub const DEFAULT_AALGS: &[&str] = &["hmac-md5-96", "hmac-sha-1-96"];
/// Default encryption list.
pub const DEFAULT_EALGS: &[&str] = &["null", "aes-cbc", "des-ede3-cbc"];

/// IPsec settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IpsecSettings {
    /// Offer sec-agree/IPsec (default true).
    pub ipsec: bool,
    /// Accepted integrity algorithms, in order of preference.
    pub ipsec_aalg_list: Vec<&'static str>,
    /// Accepted encryption algorithms, in order of preference.
    pub ipsec_ealg_list: Vec<&'static str>,
    /// MTU of the IPsec interface (range 68..65535, default 1400).
    pub ipsec_mtu: u32,
    /// ringcore extension: first protected port; worker w uses `ipsec_port + 2w` (port-c)
    /// and `+ 2w + 1` (port-s). 0 (default): the first SIP port + 2.
    pub ipsec_port: u16,
}

impl IpsecSettings {
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>) -> Self {
        IpsecSettings {
            ipsec: o.bool(ctx, "ipsec", true),
            ipsec_aalg_list: read_list(ctx, o, "ipsec_aalg_list", AALGS, DEFAULT_AALGS),
            ipsec_ealg_list: read_list(ctx, o, "ipsec_ealg_list", EALGS, DEFAULT_EALGS),
            ipsec_mtu: o.int(ctx, "ipsec_mtu", 1400, 68..=65535),
            ipsec_port: o.int(ctx, "ipsec_port", 0, 0..=65000),
        }
    }
}

fn read_list(ctx: &mut Ctx, o: &mut Obj<'_>, name: &str, known: &[&'static str], default: &[&'static str]) -> Vec<&'static str> {
    let Some(items) = o.take(ctx, name).and_then(|f| f.array(ctx)) else { return default.to_vec() };
    let table: Vec<(&str, &'static str)> = known.iter().map(|k| (*k, *k)).collect();
    let mut out = Vec::new();
    for item in &items {
        if let Some(alg) = item.enumeration(ctx, &table) {
            if !out.contains(&alg) {
                out.push(alg);
            }
        }
    }
    if out.is_empty() && !items.is_empty() {
        return default.to_vec();
    }
    if items.is_empty() {
        ctx.error(o.loc(), o.path(), format!("{name} is empty, list at least one algorithm (\"null\" for none)"));
    }
    out
}
