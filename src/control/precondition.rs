//! QoS preconditions (RFC 3312, TS 24.229 6.1.2) as the dialog tracks them:
//! per media section a QoS state (seed 000 dialog model: disabled, required,
//! pending, erab_set), derived from the `precondition` setting (on, off,
//! silent) and the offer's `a=des`/`a=curr` lines. Without an Rx/N5 peer the
//! local resources count as reserved at once ([`Qos::reserve_local`]); the
//! Rx issue will call [`Qos::requested`] and [`Qos::granted`] instead.

use crate::config::typed::Precondition;
use crate::sdp::{MediaDescription, MediaKind, PrecondDirection, SessionDescription, StatusType, Strength};

/// QoS state of one media section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QosState {
    /// No precondition and no dedicated bearer for this media.
    Disabled,
    /// A dedicated bearer is needed and not asked for yet.
    Required,
    /// Asked for (Rx AAR sent), not granted yet.
    Pending,
    /// The dedicated bearer (E-RAB) is set up: local resources reserved.
    ErabSet,
}

impl QosState {
    /// The seed 000 name of the state.
    pub fn name(self) -> &'static str {
        match self {
            QosState::Disabled => "disabled",
            QosState::Required => "required",
            QosState::Pending => "pending",
            QosState::ErabSet => "erab_set",
        }
    }
}

/// Most media sections tracked per dialog (offers with more are cut).
pub const MAX_MEDIA: usize = 8;

/// The QoS states of a dialog's media sections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qos {
    /// One state per media section, in SDP order.
    pub media: Vec<QosState>,
}

fn has_qos_des(m: &MediaDescription) -> bool {
    m.des().any(|p| p.kind == "qos" && p.strength.is_some_and(|s| matches!(s, Strength::Mandatory | Strength::Optional)))
}

/// RFC 3312 5.1: the offerer's own segment is met when its `curr` local (or
/// e2e) status covers the direction of its mandatory `des` local (or e2e).
fn offerer_segment_met(m: &MediaDescription) -> bool {
    let qos = |st: StatusType| m.curr().find(|p| p.kind == "qos" && p.status == st).map(|p| p.direction);
    m.des()
        .filter(|p| p.kind == "qos" && p.strength == Some(Strength::Mandatory))
        .filter(|p| matches!(p.status, StatusType::Local | StatusType::E2e))
        .all(|p| qos(p.status).unwrap_or(PrecondDirection::None).covers(p.direction))
}

impl Qos {
    /// The states for `offer` under `mode`: `off` disables everything,
    /// `silent` asks for a bearer for every audio/video section whatever the
    /// SDP says, `on` follows the offer's `a=des:qos` lines.
    pub fn from_offer(mode: Precondition, offer: &SessionDescription) -> Qos {
        Qos::from_media(mode, offer.media.iter().map(|m| (m.kind, m.port, has_qos_des(m))))
    }

    /// [`Qos::from_offer`] on the media sections read from an offer's text.
    pub fn from_sections(mode: Precondition, offer: &crate::sdp::Sections) -> Qos {
        Qos::from_media(mode, offer.iter().map(|m| (m.kind, m.port, m.qos_des)))
    }

    /// The states for media sections given as (kind, port, has a qos `des`).
    fn from_media(mode: Precondition, media: impl Iterator<Item = (MediaKind, u16, bool)>) -> Qos {
        let media = media
            .take(MAX_MEDIA)
            .map(|(kind, port, qos_des)| {
                let av = matches!(kind, MediaKind::Audio | MediaKind::Video) && port != 0;
                let wanted = match mode {
                    Precondition::Off => false,
                    Precondition::Silent => av,
                    Precondition::On => av && qos_des,
                };
                if wanted {
                    QosState::Required
                } else {
                    QosState::Disabled
                }
            })
            .collect();
        Qos { media }
    }

    /// The bearer request for every required media went out.
    pub fn requested(&mut self) {
        for s in self.media.iter_mut().filter(|s| **s == QosState::Required) {
            *s = QosState::Pending;
        }
    }

    /// The bearers were granted.
    pub fn granted(&mut self) {
        for s in self.media.iter_mut().filter(|s| matches!(**s, QosState::Required | QosState::Pending)) {
            *s = QosState::ErabSet;
        }
    }

    /// No Rx peer: local resources count as reserved at once.
    pub fn reserve_local(&mut self) {
        self.requested();
        self.granted();
    }

    /// True when every local segment is reserved (`curr local sendrecv` can be written).
    pub fn local_reserved(&self) -> bool {
        self.media.iter().all(|s| matches!(s, QosState::Disabled | QosState::ErabSet))
    }

    /// True when preconditions are in use for at least one media.
    pub fn in_use(&self) -> bool {
        self.media.iter().any(|s| *s != QosState::Disabled)
    }
}

/// True when the offerer's (the UE's) mandatory segments of `sd` are all
/// reserved, so the session may proceed to alerting (RFC 3312 5.1).
pub fn offerer_met(sd: &SessionDescription) -> bool {
    sd.media.iter().filter(|m| m.port != 0).all(offerer_segment_met)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdp(lines: &str) -> SessionDescription {
        let body = format!(
            "v=0\r\no=ue 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n{lines}m=application 0 UDP/BFCP *\r\n"
        );
        SessionDescription::parse(body.as_bytes()).expect("test SDP parses")
    }

    const UNMET: &str = "a=curr:qos local none\r\na=curr:qos remote none\r\na=des:qos mandatory local sendrecv\r\na=des:qos optional remote sendrecv\r\n";
    const MET: &str = "a=curr:qos local sendrecv\r\na=curr:qos remote none\r\na=des:qos mandatory local sendrecv\r\na=des:qos optional remote sendrecv\r\n";

    #[test]
    fn mode_on_follows_the_offer_and_off_disables() {
        let q = Qos::from_offer(Precondition::On, &sdp(UNMET));
        assert_eq!(q.media, vec![QosState::Required, QosState::Disabled]);
        assert!(q.in_use() && !q.local_reserved());
        let q = Qos::from_offer(Precondition::On, &sdp(""));
        assert_eq!(q.media, vec![QosState::Disabled, QosState::Disabled]);
        let q = Qos::from_offer(Precondition::Off, &sdp(UNMET));
        assert!(!q.in_use());
        let q = Qos::from_offer(Precondition::Silent, &sdp(""));
        assert_eq!(q.media, vec![QosState::Required, QosState::Disabled], "silent: bearer whatever the SDP says");
    }

    #[test]
    fn states_advance_required_pending_erab_set() {
        let mut q = Qos::from_offer(Precondition::On, &sdp(UNMET));
        q.requested();
        assert_eq!(q.media[0], QosState::Pending);
        q.granted();
        assert_eq!(q.media[0], QosState::ErabSet);
        assert!(q.local_reserved());
        let mut q = Qos::from_offer(Precondition::Silent, &sdp(""));
        q.reserve_local();
        assert_eq!(q.media[0].name(), "erab_set");
    }

    #[test]
    fn offerer_segment_met_only_when_curr_covers_mandatory_des() {
        assert!(!offerer_met(&sdp(UNMET)));
        assert!(offerer_met(&sdp(MET)));
        assert!(offerer_met(&sdp("")), "no precondition: nothing to wait for");
    }
}
