//! Session timers (RFC 4028) for the calls ringcore relays or answers:
//! checking Session-Expires / Min-SE of an INVITE against the
//! `session_expires` settings (seed 000: duration, min, refresher, method,
//! force; per IMPU override), the values ringcore writes on the leg it
//! originates, and the per-dialog timer that either asks for a refresh (when
//! ringcore is the refresher) or ends the session when no refresh came.

use crate::config::typed::{Refresher, SessionExpires};
use crate::sip::{HeaderName, Message};
use std::time::{Duration, Instant};

/// What the INVITE asked for, checked against the settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// RFC 4028 8.1 / 9: Session-Expires below our minimum: answer 422 with
    /// this Min-SE.
    TooSmall(u32),
    /// Use this interval; `refresher` when the request named one.
    Use {
        /// Session interval in seconds.
        interval: u32,
        /// The refresher the request named (None: up to the answerer).
        refresher: Option<Refresher>,
        /// Min-SE to carry on (the larger of ours and the request's).
        min_se: u32,
    },
    /// The caller neither sent Session-Expires nor supports `timer`.
    Off,
}

fn refresher_of(v: Option<&[u8]>) -> Option<Refresher> {
    match v {
        Some(r) if r.eq_ignore_ascii_case(b"uac") => Some(Refresher::Uac),
        Some(r) if r.eq_ignore_ascii_case(b"uas") => Some(Refresher::Uas),
        _ => None,
    }
}

/// True when `msg` lists `option` in Supported or Require.
pub fn supports(msg: &Message<'_>, option: &[u8]) -> bool {
    msg.has_token(HeaderName::Supported, option) || msg.has_token(HeaderName::Require, option)
}

/// Checks an initial INVITE (RFC 4028 8.1 for a proxy-like B2BUA, 9 for a UAS).
pub fn check_request(cfg: &SessionExpires, msg: &Message<'_>) -> Check {
    let se = msg.session_expires().ok().flatten();
    // RFC 4028 5: Min-SE below 90 is treated as 90.
    let their_min = msg.min_se().ok().flatten().unwrap_or(90).max(90);
    let min_se = cfg.min.max(their_min);
    match se {
        Some(se) if se.delta < cfg.min => Check::TooSmall(cfg.min),
        Some(se) => {
            // RFC 4028 8.1: the interval may be lowered, never below Min-SE.
            let interval = se.delta.min(cfg.duration).max(min_se);
            let refresher = if cfg.force { Some(cfg.refresher) } else { refresher_of(se.refresher) };
            Check::Use { interval, refresher, min_se }
        }
        None if supports(msg, b"timer") => Check::Use { interval: cfg.duration.max(min_se), refresher: cfg.force.then_some(cfg.refresher), min_se },
        None => Check::Off,
    }
}

/// The Session-Expires a message carries: (interval, refresher).
pub fn of_message(msg: &Message<'_>) -> Option<(u32, Option<Refresher>)> {
    let se = msg.session_expires().ok().flatten()?;
    Some((se.delta, refresher_of(se.refresher)))
}

/// The Session-Expires header value.
pub fn header_value(interval: u32, refresher: Option<Refresher>) -> String {
    match refresher {
        Some(Refresher::Uac) => format!("{interval};refresher=uac"),
        Some(Refresher::Uas) => format!("{interval};refresher=uas"),
        None => interval.to_string(),
    }
}

/// RFC 4028 7.4: the headers of a refresh ringcore sends as refresher (the
/// UAC of the refresh request, hence `refresher=uac`).
pub fn refresh_headers(interval: u32) -> Vec<(&'static str, String)> {
    vec![("Session-Expires", header_value(interval, Some(Refresher::Uac))), ("Supported", "timer".into())]
}

/// What a due session timer asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// ringcore is the refresher: send a session refresh now (RFC 4028 7.4).
    Refresh,
    /// No refresh arrived: end the session with BYE (RFC 4028 10).
    Expire,
}

/// Longest session interval honoured (a peer's value is untrusted): one week.
const MAX_INTERVAL: u32 = 7 * 86_400;

/// An interval from the wire, kept within 1 s..[`MAX_INTERVAL`].
fn bounded(interval: u32) -> Duration {
    Duration::from_secs(u64::from(interval.clamp(1, MAX_INTERVAL)))
}

/// One dialog's session timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimer {
    interval: Duration,
    we_refresh: bool,
    last: Instant,
    refresh_sent: bool,
}

impl SessionTimer {
    /// A timer for `interval` seconds starting at `now` (a 2xx to the INVITE).
    pub fn new(now: Instant, interval: u32, we_refresh: bool) -> Self {
        SessionTimer { interval: bounded(interval), we_refresh, last: now, refresh_sent: false }
    }

    /// The session interval.
    pub fn interval(&self) -> u32 {
        self.interval.as_secs() as u32
    }

    /// True when ringcore refreshes this session.
    pub fn we_refresh(&self) -> bool {
        self.we_refresh
    }

    /// A refresh succeeded (2xx to a re-INVITE or UPDATE) at `now`, possibly
    /// with a new interval and refresher.
    pub fn refreshed(&mut self, now: Instant, interval: Option<u32>, we_refresh: Option<bool>) {
        self.last = now;
        self.refresh_sent = false;
        if let Some(i) = interval {
            self.interval = bounded(i);
        }
        if let Some(w) = we_refresh {
            self.we_refresh = w;
        }
    }

    /// RFC 4028 10: the BYE goes out before expiry, by the minimum of 32 s
    /// and a third of the interval.
    fn expiry(&self) -> Instant {
        let margin = Duration::from_secs(32).min(self.interval / 3);
        self.last + self.interval.saturating_sub(margin)
    }

    /// RFC 4028 10: the refresher refreshes at half the interval.
    fn refresh_at(&self) -> Option<Instant> {
        (self.we_refresh && !self.refresh_sent).then(|| self.last + self.interval / 2)
    }

    /// When [`SessionTimer::handle_timeout`] has something to do.
    pub fn poll_timeout(&self) -> Instant {
        self.refresh_at().map_or(self.expiry(), |r| r.min(self.expiry()))
    }

    /// What is due at `now`, if anything.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Due> {
        if now >= self.expiry() {
            return Some(Due::Expire);
        }
        if self.refresh_at().is_some_and(|t| now >= t) {
            self.refresh_sent = true;
            return Some(Due::Refresh);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::typed::RefreshMethod;

    fn cfg() -> SessionExpires {
        SessionExpires { duration: 1800, min: 90, refresher: Refresher::Uac, method: RefreshMethod::Update, force: false }
    }

    fn invite(extra: &str) -> Vec<u8> {
        format!(
            "INVITE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\n\
             Call-ID: c\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn check(extra: &str, cfg: &SessionExpires) -> Check {
        let raw = invite(extra);
        let m = Message::parse(&raw).expect("test INVITE parses");
        check_request(cfg, &m)
    }

    #[test]
    fn too_small_session_expires_gets_422_with_our_min() {
        assert_eq!(check("Session-Expires: 60\r\n", &cfg()), Check::TooSmall(90));
        let c = SessionExpires { min: 300, ..cfg() };
        assert_eq!(check("Session-Expires: 200\r\nSupported: timer\r\n", &c), Check::TooSmall(300));
    }

    #[test]
    fn interval_is_lowered_to_duration_and_kept_above_min_se() {
        let c = SessionExpires { duration: 600, ..cfg() };
        let r = check("Session-Expires: 3600;refresher=uas\r\nMin-SE: 120\r\n", &c);
        assert_eq!(r, Check::Use { interval: 600, refresher: Some(Refresher::Uas), min_se: 120 });
        let r = check("Session-Expires: 100\r\nMin-SE: 120\r\n", &cfg());
        assert_eq!(r, Check::Use { interval: 120, refresher: None, min_se: 120 });
    }

    #[test]
    fn force_imposes_the_configured_refresher() {
        let c = SessionExpires { force: true, refresher: Refresher::Uas, ..cfg() };
        let r = check("Session-Expires: 900;refresher=uac\r\n", &c);
        assert_eq!(r, Check::Use { interval: 900, refresher: Some(Refresher::Uas), min_se: 90 });
    }

    #[test]
    fn supported_timer_without_header_gets_our_duration_and_none_is_off() {
        assert_eq!(check("Supported: timer\r\n", &cfg()), Check::Use { interval: 1800, refresher: None, min_se: 90 });
        assert_eq!(check("Supported: 100rel\r\n", &cfg()), Check::Off);
    }

    #[test]
    fn watchdog_expires_a_third_before_the_end_without_refresh() {
        let t0 = Instant::now();
        let mut t = SessionTimer::new(t0, 90, false);
        // 90 s: margin min(32, 30) = 30 s, so the BYE is due at 60 s.
        assert_eq!(t.poll_timeout(), t0 + Duration::from_secs(60));
        assert_eq!(t.handle_timeout(t0 + Duration::from_secs(59)), None);
        t.refreshed(t0 + Duration::from_secs(40), None, None);
        assert_eq!(t.handle_timeout(t0 + Duration::from_secs(61)), None, "a refresh restarts the interval");
        assert_eq!(t.handle_timeout(t0 + Duration::from_secs(100)), Some(Due::Expire));
        // 1800 s: margin is 32 s.
        let t = SessionTimer::new(t0, 1800, false);
        assert_eq!(t.poll_timeout(), t0 + Duration::from_secs(1768));
    }

    #[test]
    fn refresher_refreshes_once_at_half_interval() {
        let t0 = Instant::now();
        let mut t = SessionTimer::new(t0, 120, true);
        assert_eq!(t.poll_timeout(), t0 + Duration::from_secs(60));
        assert_eq!(t.handle_timeout(t0 + Duration::from_secs(60)), Some(Due::Refresh));
        assert_eq!(t.handle_timeout(t0 + Duration::from_secs(61)), None, "one refresh per interval");
        assert_eq!(t.poll_timeout(), t0 + Duration::from_secs(88), "then the expiry: 120 s less 32 s");
        t.refreshed(t0 + Duration::from_secs(62), None, None);
        assert_eq!(t.poll_timeout(), t0 + Duration::from_secs(122));
    }

    #[test]
    fn intervals_from_the_wire_are_bounded() {
        let t0 = Instant::now();
        assert_eq!(SessionTimer::new(t0, u32::MAX, false).interval(), 7 * 86_400);
        let mut t = SessionTimer::new(t0, 0, false);
        assert_eq!(t.interval(), 1);
        t.refreshed(t0, Some(u32::MAX), None);
        assert_eq!(t.interval(), 7 * 86_400);
    }

    #[test]
    fn header_value_names_the_refresher() {
        assert_eq!(header_value(90, Some(Refresher::Uas)), "90;refresher=uas");
        assert_eq!(header_value(1800, None), "1800");
    }
}
