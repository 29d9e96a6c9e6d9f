//! What the remote API and the monitor ask of the SMS service (seed 000 6.6, 6.7, 7): `sms`,
//! `sms_flush`, the `sms` events, `sms_hook_only` listeners and the pending counts.

use super::core::Control;
use super::sms::unix_now;
use super::sms_text::deliver;
use crate::ims::hss::normalize_impu;
use crate::sms::{Dcs, Udh, UserData};
use crate::smsc::{self, Recipient, User};
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

impl Control {
    /// The remote API's `sms` (seed 000 6.6): an SMS from the network to a user.
    pub fn api_sms(&mut self, req: &crate::api::request_ims::Sms) -> crate::api::Reply {
        use crate::api::request_ims::{SmsBody, SmsTarget};
        let hss = &self.registrar.hss;
        let user = match &req.target {
            SmsTarget::Impi(i) => {
                let sub = hss.subscriber(i).ok_or_else(|| format!("unknown impi {i}"))?;
                let impu = sub.impus.iter().find(|p| p.preferred).or(sub.impus.first()).map(|p| p.uri.clone()).ok_or("the user has no IMPU")?;
                User { impi: sub.impi.clone(), impu }
            }
            SmsTarget::Impu(u) => {
                let impu = normalize_impu(u);
                let impi = hss.impi_of_impu(&impu).ok_or_else(|| format!("unknown impu {u}"))?.to_owned();
                User { impi, impu }
            }
        };
        let to = Recipient { delay: self.sms.delay_of(&user.impu), user };
        let oa = smsc::tp_address_of_impu(req.sender.as_deref().unwrap_or("ringcore"));
        let lifetime = Duration::from_secs(u64::from(req.validity.max(1)));
        let now = Instant::now();
        let ids = match &req.body {
            SmsBody::Text(t) => self.sms_submit_text(now, None, to, t, oa, Some(Dcs(req.dcs)), req.pid, Some(lifetime))?,
            SmsBody::Binary(b) => {
                let ud = binary_user_data(b, req.tp_udhi_present, Dcs(req.dcs), req.tp_udl)?;
                let unix = unix_now();
                let d = deliver(oa, smsc::timestamp_of_unix(unix), Dcs(req.dcs), req.pid, ud);
                let id = self.sms.smsc.submit_deliver(now, unix, None, to, d, lifetime).map_err(|c| format!("SMS store refused it (RP cause {})", c.to_u8()))?;
                self.sms.drain_events();
                vec![id]
            }
        };
        self.sms_pump(now);
        let mut m = Map::new();
        m.insert("ids".into(), json!(ids));
        Ok(m)
    }

    /// The remote API's `sms_flush`: tries every pending SMS of the user now (as when it
    /// registers). Replies with the number of messages pending for it.
    pub fn api_sms_flush(&mut self, req: &crate::api::request_ims::SmsFlush) -> crate::api::Reply {
        let now = Instant::now();
        let impi = self.registrar.hss.subscriber(&req.impi).map(|s| s.impi.clone()).ok_or_else(|| format!("unknown impi {}", req.impi))?;
        self.sms.smsc.handle_registered(now, &impi);
        let pending = self.sms.smsc.pending_for(&impi);
        self.sms_pump(now);
        let mut m = Map::new();
        m.insert("pending".into(), json!(pending));
        Ok(m)
    }

    /// The monitor's `sms impi|impu text` (seed 000 7): by IMPI when the HSS knows it, else
    /// by IMPU.
    pub fn monitor_sms(&mut self, user: &str, text: &str) -> Result<String, String> {
        use crate::api::request_ims::{Sms, SmsBody, SmsTarget};
        let target = if self.registrar.hss.subscriber(user).is_some() { SmsTarget::Impi(user.into()) } else { SmsTarget::Impu(user.into()) };
        let req = Sms { target, body: SmsBody::Text(text.into()), sender: None, validity: 86_400, tp_udl: None, tp_udhi_present: false, pid: 0, dcs: 0 };
        let r = self.api_sms(&req)?;
        let n = r.get("ids").and_then(|v| v.as_array()).map_or(0, Vec::len);
        Ok(format!("{n} SMS queued for {user}"))
    }

    /// Pending SMS of `impi` (users_get `sms`).
    pub fn sms_pending(&self, impi: &str) -> usize {
        self.sms.smsc.pending_for(impi)
    }

    /// SMSC counters (submitted, delivered, refused, decode errors, dropped, attempts).
    pub fn sms_counters(&self) -> smsc::Counters {
        self.sms.smsc.counters
    }

    /// Tells the SMSC whether remote API clients listen to `sms` events (`sms_hook_only`).
    pub fn set_sms_hook_listeners(&mut self, listening: bool) {
        self.sms.smsc.set_hook_listeners(listening);
    }

    /// The next `sms` event payload for remote API clients (seed 000 6.7).
    pub fn poll_sms_event(&mut self) -> Option<Value> {
        self.sms.poll_api_event()
    }
}

/// TP-UD from the API's `binary` / `binary_hex` (seed 000 6.6): octets for 8-bit and UCS2
/// data; packed septets (TP-UDL of them, default all) for the GSM 7-bit alphabet.
fn binary_user_data(b: &[u8], udhi: bool, dcs: Dcs, udl: Option<u8>) -> Result<UserData, String> {
    let bad = |e: crate::sms::Error| format!("invalid binary user data: {e}");
    let (header, rest) = if udhi {
        let udhl = usize::from(*b.first().ok_or("empty binary with tp_udhi_present")?);
        let ies = b.get(1..1 + udhl).ok_or("user data header longer than the data")?;
        (Some(Udh::parse(ies).map_err(bad)?), b.get(1 + udhl..).unwrap_or(&[]))
    } else {
        (None, b)
    };
    if !dcs.udl_in_septets() {
        return UserData::from_octets(header, rest).map_err(bad);
    }
    if header.is_some() {
        return Err("tp_udhi_present is supported with 8-bit and UCS2 data only".into());
    }
    let n = udl.map_or(rest.len() * 8 / 7, usize::from).min(crate::sms::MAX_UD_SEPTETS);
    let mut septets = vec![0u8; n];
    crate::sms::unpack_septets(rest, 0, &mut septets).map_err(bad)?;
    UserData::from_septets(None, &septets).map_err(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_user_data_reads_octets_headers_and_septets() {
        let ud = binary_user_data(&[5, 0, 3, 7, 2, 1, 0xaa], true, Dcs::DATA8, None).unwrap();
        assert_eq!(ud.header().and_then(|h| h.concat()).map(|c| (c.total, c.seq)), Some((2, 1)));
        assert_eq!(ud.body(), &[0xaa]);
        // "hi" packed: 0xE8 0x34.
        let ud = binary_user_data(&[0xe8, 0x34], false, Dcs::GSM7, Some(2)).unwrap();
        assert_eq!(ud.text(Dcs::GSM7).as_deref(), Some("hi"));
        assert!(binary_user_data(&[9, 0], true, Dcs::DATA8, None).is_err());
    }
}
