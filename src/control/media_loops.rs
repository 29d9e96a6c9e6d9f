//! The media loops of the calls ringcore ends itself (the echo service and
//! MT calls): each echoed stream, at most one audio and one video, gets its
//! own RTP/RTCP port pair on one data-plane worker, which returns the UE's
//! packets to their source (RFC 4961 symmetric RTP, latching the first
//! source). Here: which SDP section gets which port, the worker commands
//! installing and removing the loops, and the streams' dialog rows.

use super::anchor::MediaPorts;
use super::dialogs::MediaRef;
use crate::endpoint::ToWorker;
use crate::media::MediaSpec;
use crate::sdp::{LocalCaps, MediaKind, SessionDescription};
use std::net::SocketAddr;

/// A command for a worker.
pub type Out = (u16, ToWorker);

/// One echoed stream: its media type and our RTP port (RTCP on the next one).
pub type Stream = (MediaKind, u16);

/// RFC 6184 8.2.1 / RFC 3551 4.5: the RTP clock of H.264 video is 90 kHz; the
/// audio echo keeps the wideband 16 kHz of [`MediaSpec::echo`].
const VIDEO_CLOCK: u32 = 90_000;

/// The port of an SDP section of `kind` (an `sdp::answer` or `sdp::offer_*`
/// port allocator): the first audio and the first video section are echoed,
/// each on the port of that kind in `reuse` or on `fresh()`, and recorded in
/// `given`; any other section gets port 0 (declined in an answer, RFC 3264 6;
/// offered disabled, RFC 3264 5.1). None when `fresh()` has no port left.
pub fn pick_port(given: &mut Vec<Stream>, kind: MediaKind, reuse: &[Stream], fresh: impl FnOnce() -> Option<u16>) -> Option<u16> {
    if !matches!(kind, MediaKind::Audio | MediaKind::Video) || given.iter().any(|(k, _)| *k == kind) {
        return Some(0);
    }
    let port = reuse.iter().find(|(k, _)| *k == kind).map(|(_, p)| *p).or_else(fresh)?;
    given.push((kind, port));
    Some(port)
}

/// The data-plane description of the loop of a `kind` stream whose far end is
/// `remote` (None: learnt from the first packet).
fn spec(kind: MediaKind, remote: Option<SocketAddr>) -> MediaSpec {
    let echo = MediaSpec::echo();
    let clock_rate = if kind == MediaKind::Video { VIDEO_CLOCK } else { echo.clock_rate };
    MediaSpec { remote_rtp: remote, clock_rate, ..echo }
}

/// The command installing the loop of stream `s` on worker `w`, towards `remote`.
pub fn install_to(w: u16, s: Stream, remote: Option<SocketAddr>) -> Out {
    (w, ToWorker::MediaInstall { port: s.1, spec: spec(s.0, remote) })
}

/// The commands installing the loop of each stream of `media` on worker `w`
/// (far ends learnt from their first packets).
pub fn install(w: u16, media: &[Stream]) -> Vec<Out> {
    media.iter().map(|&s| install_to(w, s, None)).collect()
}

/// Brings the loops of a call on worker `w` from `media` to `now`, the streams of the
/// answer to an in-call offer (RFC 3264 8): a stream no longer in it (disabled, port 0)
/// loses its loop and its port pair, a new one (added, 8.1) gets a loop. `media` becomes
/// `now`'s streams, in their order of arrival; the commands come removals first.
pub fn reconcile(w: u16, media: &mut Vec<Stream>, now: &[Stream], ports: &mut MediaPorts) -> Vec<Out> {
    let dropped: Vec<Stream> = media.iter().filter(|s| !now.contains(s)).copied().collect();
    let added: Vec<Stream> = now.iter().filter(|s| !media.contains(s)).copied().collect();
    let mut out = free(w, &dropped, ports);
    out.extend(install(w, &added));
    media.retain(|s| !dropped.contains(s));
    media.extend(added);
    out
}

/// Frees the ports of `media` and removes their loops from worker `w`.
pub fn free(w: u16, media: &[Stream], ports: &mut MediaPorts) -> Vec<Out> {
    media
        .iter()
        .map(|&(_, port)| {
            ports.free(port);
            (w, ToWorker::MediaRemove { port })
        })
        .collect()
}

/// The dialog rows' media of `media` on worker `w`: each stream with the index of
/// its section in our SDP `sdp`.
pub fn refs(w: u16, media: &[Stream], sdp: &SessionDescription) -> Vec<MediaRef> {
    media
        .iter()
        .map(|&(kind, port)| {
            let section = sdp.media.iter().position(|m| m.kind == kind && m.port == port).unwrap_or(0);
            MediaRef { worker: w, port, section, peer: None }
        })
        .collect()
}

/// The answering capabilities of an SDP file for a call whose media is looped
/// back: the file's audio and video (other streams are declined, port 0).
pub fn echoed_caps(sd: &SessionDescription) -> LocalCaps {
    let mut caps = LocalCaps::from_template(sd);
    caps.media.retain(|m| matches!(m.kind, MediaKind::Audio | MediaKind::Video));
    caps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_audio_and_first_video_get_ports_others_port_0() {
        let mut given = Vec::new();
        let mut next = 30000;
        let mut fresh = || {
            next += 2;
            Some(next)
        };
        assert_eq!(pick_port(&mut given, MediaKind::Audio, &[], &mut fresh), Some(30002));
        assert_eq!(pick_port(&mut given, MediaKind::Audio, &[], &mut fresh), Some(0), "a second audio is declined");
        assert_eq!(pick_port(&mut given, MediaKind::Text, &[], &mut fresh), Some(0));
        assert_eq!(pick_port(&mut given, MediaKind::Video, &[(MediaKind::Video, 40000)], &mut fresh), Some(40000), "reused");
        assert_eq!(given, vec![(MediaKind::Audio, 30002), (MediaKind::Video, 40000)]);
        assert_eq!(pick_port(&mut Vec::new(), MediaKind::Video, &[], || None), None, "exhausted");
    }

    #[test]
    fn video_loops_run_on_the_90_khz_clock() {
        let out = install(3, &[(MediaKind::Audio, 100), (MediaKind::Video, 102)]);
        let clocks: Vec<(u16, u16, u32)> = out
            .iter()
            .filter_map(|(w, c)| match c {
                ToWorker::MediaInstall { port, spec } => Some((*w, *port, spec.clock_rate)),
                _ => None,
            })
            .collect();
        assert_eq!(clocks, vec![(3, 100, 16000), (3, 102, 90000)]);
    }
}
