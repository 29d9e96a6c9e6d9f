//! Per-IMPU call settings that come from files or identities (seed 000):
//! the echo answer SDP (`sdp_file` of an echo IMPU), the MT call offer SDP
//! (`mt_call_sdp_file`, global and per `ue_db` entry, and the `mt_call`
//! request's own file), and P-Called-Party-ID (TS 24.229 5.4.3.2, RFC 3455
//! 4.2: `p_called_party_id` global flag and per-IMPU forced value). The
//! files were read and checked at configuration load; here they are parsed
//! once at start-up, so calls use them without I/O.

use super::callflow::full;
use crate::config::typed::{Config, FileText, Impu, MAX_CONTENT_FILE};
use crate::ims::hss::normalize_impu;
use crate::sdp::{LocalCaps, MediaKind, SessionDescription};
use std::collections::HashMap;
use std::io::Read;

/// Parses a file's SDP, already checked at configuration load.
fn sdp_of(f: &FileText) -> Option<SessionDescription> {
    SessionDescription::parse(f.content().as_bytes()).ok()
}

/// Every IMPU of the configuration with its domain: `ue_db` then `echo`.
fn impus(cfg: &Config) -> Vec<(&Impu, &str, usize)> {
    let domain = cfg.sip.domain.as_deref();
    let mut out = Vec::new();
    for (n, e) in cfg.ue_db.iter().enumerate() {
        let d = e.domain_or(domain).unwrap_or("");
        out.extend(e.impu.iter().map(|i| (i, d, n)));
    }
    out.extend(cfg.calls.echo.iter().map(|i| (i, domain.unwrap_or(""), usize::MAX)));
    out
}

/// The answer capabilities of each echo IMPU with an `sdp_file` (by
/// normalised IMPU): the file's audio, negotiated against each offer (the
/// echo serves one audio stream: other offered streams are refused, port 0).
pub fn echo_templates(cfg: &Config) -> HashMap<String, LocalCaps> {
    impus(cfg).into_iter().filter_map(|(i, d, _)| Some((normalize_impu(&i.public_identity(d)), audio_caps(&sdp_of(i.sdp_file.as_ref()?)?)))).collect()
}

/// The answering capabilities of an SDP file for a call whose media the
/// worker echoes: the file's audio only (one audio stream is served; other
/// offered streams are refused with port 0, RFC 3264 6).
pub fn audio_caps(sd: &SessionDescription) -> LocalCaps {
    let mut caps = LocalCaps::from_template(sd);
    caps.media.retain(|m| m.kind == MediaKind::Audio);
    caps
}

/// The SDP offers of MT calls: the callee's `ue_db.mt_call_sdp_file`, else
/// the global `mt_call_sdp_file`.
#[derive(Clone, Debug, Default)]
pub struct MtSdp {
    global: Option<SessionDescription>,
    per_impu: HashMap<String, SessionDescription>,
}

impl MtSdp {
    /// Resolves the configuration (start-up only).
    pub fn from_config(cfg: &Config) -> Self {
        let global = cfg.calls.mt_call_sdp_file.as_ref().and_then(sdp_of);
        let mut per_impu = HashMap::new();
        for (i, d, n) in impus(cfg) {
            let Some(sd) = cfg.ue_db.get(n).and_then(|e| e.mt_call_sdp_file.as_ref()).and_then(sdp_of) else { continue };
            per_impu.insert(normalize_impu(&i.public_identity(d)), sd);
        }
        MtSdp { global, per_impu }
    }

    /// The template of an MT call to `impu` (normalised), if any.
    pub fn for_impu(&self, impu: &str) -> Option<&SessionDescription> {
        self.per_impu.get(impu).or(self.global.as_ref())
    }
}

/// The `mt_call` request's `sip_file` (seed 000 6.6 / 7: overrides
/// `mt_call_sdp_file`): read when the operator asks, bounded like the
/// configuration's files, and checked as SDP.
pub fn read_request_sdp(path: &str) -> Result<SessionDescription, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read '{path}': {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONTENT_FILE + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read '{path}': {e}"))?;
    if bytes.len() as u64 > MAX_CONTENT_FILE {
        return Err(format!("'{path}' is larger than {MAX_CONTENT_FILE} bytes"));
    }
    SessionDescription::parse(&bytes).map_err(|e| format!("'{path}' is not a valid SDP: {e}"))
}

/// Who gets a P-Called-Party-ID in the INVITEs and MESSAGEs ringcore sends
/// to a callee (TS 24.229 5.4.3.2: the S-CSCF puts the Request-URI it
/// received there before retargeting it to the registered contact).
#[derive(Clone, Debug, Default)]
pub struct CalledParty {
    /// seed 000 `p_called_party_id`: every callee.
    global: bool,
    /// seed 000 `ue_db.impu.p_called_party_id`: forced value for this callee.
    forced: HashMap<String, String>,
}

impl CalledParty {
    /// Resolves the configuration (start-up only).
    pub fn from_config(cfg: &Config) -> Self {
        let forced = impus(cfg)
            .into_iter()
            .filter_map(|(i, d, _)| {
                let v = i.p_called_party_id.as_deref()?;
                Some((normalize_impu(&i.public_identity(d)), name_addr(v, d)))
            })
            .collect();
        CalledParty { global: cfg.sip.p_called_party_id, forced }
    }

    /// Turns the global flag on or off (remote API `config_set`).
    pub fn set_global(&mut self, on: bool) {
        self.global = on;
    }

    /// The header value for a request to `callee` (normalised) whose
    /// Request-URI was `called`: the callee's forced value, else `called`
    /// when the global flag is on, else none.
    pub fn header(&self, callee: &str, called: &str) -> Option<String> {
        if let Some(v) = self.forced.get(callee) {
            return Some(v.clone());
        }
        self.global.then(|| name_addr(called, ""))
    }
}

impl super::core::Control {
    /// Remote API `config_set p_called_party_id`: for the calls and MESSAGEs to come.
    pub(super) fn set_called_party_global(&mut self, on: bool) {
        let mut policy = self.calls.policy().clone();
        policy.called_party.set_global(on);
        self.calls.set_policy(policy);
        self.sms.called_party.set_global(on);
    }
}

/// RFC 3455 4.2: `P-Called-Party-ID = name-addr / addr-spec`; a relative
/// `sip:user` of the configuration gets `domain`.
fn name_addr(v: &str, domain: &str) -> String {
    let v = v.trim();
    if v.starts_with('<') || v.contains(" <") || v.starts_with('"') {
        return v.to_owned();
    }
    let uri = if domain.is_empty() || v.contains('@') || !v.starts_with("sip:") { v.to_owned() } else { full(v, domain) };
    format!("<{uri}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str, impu_extra: &str) -> Config {
        let text = format!(
            "{{ domain: \"ims\", {extra} ue_db: [ {{ imsi: \"001010000000001\", impi: \"b@ims\", authent_type: \"none\", \
             impu: [ {{ impu: \"sip:b\" {impu_extra} }}, \"tel:+331\" ] }} ] }}"
        );
        crate::config::load_str("t", &text, std::path::Path::new(".")).expect("test config loads").config
    }

    #[test]
    fn p_called_party_id_global_flag_and_forced_value() {
        let off = CalledParty::from_config(&cfg("", ""));
        assert_eq!(off.header("sip:b@ims", "sip:b@ims"), None, "default is false");
        let on = CalledParty::from_config(&cfg("p_called_party_id: true,", ""));
        assert_eq!(on.header("tel:+331", "tel:+331").as_deref(), Some("<tel:+331>"));
        let forced = CalledParty::from_config(&cfg("", ", p_called_party_id: \"sip:pcpi\""));
        assert_eq!(forced.header("sip:b@ims", "sip:b@ims").as_deref(), Some("<sip:pcpi@ims>"), "forced even when the flag is off");
        assert_eq!(forced.header("tel:+331", "tel:+331"), None);
    }

    #[test]
    fn echo_templates_keep_the_audio_of_the_file() {
        let dir = std::env::temp_dir().join(format!("ringcore-call-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let sdp = "v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 8\nm=video 4002 RTP/AVP 96\na=rtpmap:96 H264/90000\n";
        std::fs::write(dir.join("av.sdp"), sdp).expect("write");
        let text = "{ domain: \"ims\", echo: [ { impu: \"sip:echo\", sdp_file: \"av.sdp\" }, \"sip:plain\" ] }";
        let cfg = crate::config::load_str("t", text, &dir).expect("loads").config;
        let t = echo_templates(&cfg);
        assert_eq!(t.len(), 1, "only IMPUs with a file");
        let caps = t.get("sip:echo@ims").expect("by normalised IMPU");
        assert_eq!(caps.media.len(), 1);
        assert_eq!((caps.media[0].kind, caps.media[0].codecs[0].encoding.as_str()), (MediaKind::Audio, "PCMA"));
    }

    #[test]
    fn the_callees_mt_call_sdp_file_overrides_the_global_one() {
        let dir = std::env::temp_dir().join(format!("ringcore-call-files-mt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        for (f, s) in [("g.sdp", "global"), ("u.sdp", "user")] {
            let sdp = format!("v=0\no=- 1 1 IN IP4 1.1.1.1\ns={s}\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n");
            std::fs::write(dir.join(f), sdp).expect("write");
        }
        let text = "{ domain: \"ims\", mt_call_sdp_file: \"g.sdp\", ue_db: [ \
            { imsi: \"001010000000001\", impi: \"a@ims\", authent_type: \"none\", impu: [\"sip:a\", \"tel:+331\"], mt_call_sdp_file: \"u.sdp\" }, \
            { imsi: \"001010000000002\", impi: \"b@ims\", authent_type: \"none\", impu: [\"sip:b\"] } ] }";
        let mt = MtSdp::from_config(&crate::config::load_str("t", text, &dir).expect("loads").config);
        let name = |impu: &str| mt.for_impu(impu).map(|sd| sd.session_name.clone());
        assert_eq!(name("sip:a@ims").as_deref(), Some("user"));
        assert_eq!(name("tel:+331").as_deref(), Some("user"), "every IMPU of the entry");
        assert_eq!(name("sip:b@ims").as_deref(), Some("global"));
        assert!(MtSdp::default().for_impu("sip:b@ims").is_none());
    }

    #[test]
    fn request_sdp_files_are_bounded_and_checked() {
        assert!(read_request_sdp("/nonexistent/x.sdp").unwrap_err().contains("cannot read"));
        let p = std::env::temp_dir().join(format!("ringcore-mt-sdp-{}.sdp", std::process::id()));
        std::fs::write(&p, "not sdp").expect("write");
        assert!(read_request_sdp(&p.display().to_string()).unwrap_err().contains("not a valid SDP"));
        std::fs::write(&p, "v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n").expect("write");
        assert_eq!(read_request_sdp(&p.display().to_string()).expect("valid").media.len(), 1);
        let _ = std::fs::remove_file(p);
    }
}
