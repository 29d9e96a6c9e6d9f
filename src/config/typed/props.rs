//! The feature each property belongs to, so that the lead can report the
//! properties a file sets whose feature is not built yet
//! ([`super::Config::inactive_properties`]). Paths are generic (no array
//! indexes); a path not listed takes the feature of its nearest listed
//! parent.

/// A product feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// Always active (domain, user database identities).
    Core,
    /// SIP transport and transactions.
    Sip,
    /// Registrar and authentication.
    Registration,
    /// Calls, dialogs, session timers, echo.
    Calls,
    /// RTP/RTCP media.
    Media,
    /// SMS over IMS / SGs.
    Sms,
    /// IPsec sec-agree.
    Ipsec,
    /// Diameter Cx/Rx and SGs.
    Diameter,
    /// N5 towards the PCF.
    N5,
    /// WebSocket remote API.
    RemoteApi,
    /// Log file.
    Logs,
    /// MMS server.
    Mms,
    /// License server.
    License,
    /// Start-up simulation events.
    SimEvents,
    /// SIP trunk.
    Trunk,
    /// Engine, metrics, limits.
    Engine,
    /// Persistent state file.
    Persistence,
}

use Feature::*;

/// Every documented property path and its feature.
pub const PROPERTIES: &[(&str, Feature)] = &[
    ("log_filename", Logs),
    ("log_options", Logs),
    ("log_sync", Logs),
    ("sip_addr", Sip),
    ("sip_addr.addr", Sip),
    ("sip_addr.bind_addr", Sip),
    ("sip_addr.port_min", Media),
    ("sip_addr.port_max", Media),
    ("sctp_addr", Sms),
    ("cx_server_addr", Diameter),
    ("cx_bind_addr", Diameter),
    ("cx_origin_realm", Diameter),
    ("cx_origin_host", Diameter),
    ("cx_watchdog_duration", Diameter),
    ("rx_server_addr", Diameter),
    ("rx_bind_addr", Diameter),
    ("rx_origin_realm", Diameter),
    ("rx_origin_host", Diameter),
    ("rx_watchdog_duration", Diameter),
    ("use_n5", N5),
    ("n5", N5),
    ("domain", Core),
    ("tcp_threshold", Sip),
    ("tcp_keepalive", Sip),
    ("tcp_keepcount", Sip),
    ("session_expires", Calls),
    ("100rel", Calls),
    ("precondition", Calls),
    ("p_called_party_id", Calls),
    ("ipsec", Ipsec),
    ("ipsec_aalg_list", Ipsec),
    ("ipsec_ealg_list", Ipsec),
    ("ipsec_mtu", Ipsec),
    ("ipsec_port", Ipsec),
    ("dialog_timeout", Calls),
    ("auth_on_register_only", Registration),
    ("trunk", Trunk),
    ("com_addr", RemoteApi),
    ("com_name", RemoteApi),
    ("com_ssl_certificate", RemoteApi),
    ("com_ssl_key", RemoteApi),
    ("com_ssl_peer_verify", RemoteApi),
    ("com_ssl_ca", RemoteApi),
    ("com_logs_lock", RemoteApi),
    ("com_auth", RemoteApi),
    ("com_log_count", RemoteApi),
    ("sim_events", SimEvents),
    ("sim_events_loop_count", SimEvents),
    ("sim_events_loop_delay", SimEvents),
    ("license_server", License),
    ("sms_expires", Sms),
    ("sms_hook_only", Sms),
    ("binding_expires", Registration),
    ("subscribe_expires", Registration),
    ("user_agent", Sip),
    ("force_user_agent", Sip),
    ("path", Registration),
    ("timer_t1", Sip),
    ("timer_t2", Sip),
    ("timer_t4", Sip),
    ("custom_headers", Sip),
    ("sms_centre_address", Sms),
    ("sms_retry_delay", Sms),
    ("echo", Calls),
    ("mt_call_sdp_file", Calls),
    ("emergency_target", Calls),
    ("emergency_numbers", Calls),
    ("sms_message_filter", Sms),
    ("sms_forced_cp_cause", Sms),
    ("sms_forced_rp_cause", Sms),
    ("sms_http_bind_addr", Sms),
    ("sms_http_webhook", Sms),
    ("mms_server_bind_addr", Mms),
    ("mms_expires", Mms),
    ("ue_db", Core),
    ("ue_db.impi", Registration),
    ("ue_db.impu", Registration),
    ("ue_db.impu.imei", Registration),
    ("ue_db.impu.anonymous", Calls),
    ("ue_db.impu.authentication", Registration),
    ("ue_db.impu.ring_only", Calls),
    ("ue_db.impu.precondition", Calls),
    ("ue_db.impu.100rel", Calls),
    ("ue_db.impu.preferred", Registration),
    ("ue_db.impu.asserted", Registration),
    ("ue_db.impu.associated", Registration),
    ("ue_db.impu.display_name", Calls),
    ("ue_db.impu.domain", Registration),
    ("ue_db.impu.p_called_party_id", Calls),
    ("ue_db.impu.answer_delay", Calls),
    ("ue_db.impu.sms_delay", Sms),
    ("ue_db.impu.media_delay", Media),
    ("ue_db.impu.remote_control", RemoteApi),
    ("ue_db.impu.sdp_file", Calls),
    ("ue_db.impu.session_expires", Calls),
    ("ue_db.impu.callflow_modifier", Calls),
    ("ue_db.impu.code", Calls),
    ("ue_db.impu.method", Calls),
    ("ue_db.impu.content", Calls),
    ("ue_db.impu.content_type", Calls),
    ("ue_db.impu.transparent", Calls),
    ("ue_db.imsi", Registration),
    ("ue_db.nai", Registration),
    ("ue_db.msisdn", Registration),
    ("ue_db.multi_sim", Registration),
    ("ue_db.sim_algo", Registration),
    ("ue_db.amf", Registration),
    ("ue_db.sqn", Registration),
    ("ue_db.K", Registration),
    ("ue_db.op", Registration),
    ("ue_db.opc", Registration),
    ("ue_db.r", Registration),
    ("ue_db.c", Registration),
    ("ue_db.top", Registration),
    ("ue_db.topc", Registration),
    ("ue_db.keccak_iter", Registration),
    ("ue_db.res_len", Registration),
    ("ue_db.authent_type", Registration),
    ("ue_db.authent_qop", Registration),
    ("ue_db.pwd", Registration),
    ("ue_db.mt_call_sdp_file", Calls),
    ("ue_db.domain", Registration),
    ("ue_db.auth_on_register_only", Registration),
    ("ue_db.force_sms_over_sg", Sms),
    ("ue_db_filename", Persistence),
    ("engine", Engine),
    ("metrics_addr", Engine),
    ("limits", Engine),
];

/// The feature of a generic property path: its own entry, else its
/// nearest listed parent's, else [`Feature::Core`].
pub fn feature_of(path: &str) -> Feature {
    let mut p = path;
    loop {
        if let Some((_, f)) = PROPERTIES.iter().find(|(n, _)| *n == p) {
            return *f;
        }
        match p.rsplit_once('.') {
            Some((parent, _)) => p = parent,
            None => return Core,
        }
    }
}
