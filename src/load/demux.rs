//! `--shared-socket`: every UE of a shard sends and receives on one UDP socket (like SIPp's
//! `-t u1`), so the engine batches datagrams (recvmmsg/sendmmsg) instead of waking once
//! per UE socket. Incoming datagrams are routed to their UE by what our own messages put
//! in them: the user part of the top Via branch of a response (`z9hG4bK<user>.`), the
//! user part of the Request-URI of a request (our Contact), and for RTP the SSRC, which a
//! caller sets to its user number (RFC 3550 8.1 leaves the choice to the sender).

use crate::sip::Message;

/// Prefix of our branches (RFC 3261 8.1.1.7 magic cookie).
const COOKIE: &[u8] = b"z9hG4bK";

/// Where a datagram goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// To the UE whose user number is this (IMSI as a number).
    User(u64),
    /// RTP/RTCP with this SSRC.
    Ssrc(u32),
    /// Nobody (unparsable or not ours).
    Drop,
}

fn digits(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Routes a datagram received on a shared socket.
pub fn route(data: &[u8]) -> Route {
    if super::rtp::is_rtp(data) {
        return match data.get(8..12).and_then(|b| <[u8; 4]>::try_from(b).ok()) {
            Some(s) => Route::Ssrc(u32::from_be_bytes(s)),
            None => Route::Drop,
        };
    }
    let Ok(msg) = Message::parse(data) else { return Route::Drop };
    let user = if msg.is_request() {
        msg.request_uri().ok().and_then(|u| u.user).and_then(digits)
    } else {
        msg.via_top().ok().and_then(|v| v.branch()).and_then(|b| b.strip_prefix(COOKIE)).and_then(|b| digits(b.split(|&c| c == b'.').next()?))
    };
    user.map_or(Route::Drop, Route::User)
}

/// The SSRC of the media a UE sends: its user number's low 32 bits.
pub fn ssrc_of(user: &str) -> u32 {
    user.parse::<u64>().map_or(0x5a5a_5a5a, |n| n as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_requests_and_rtp_find_their_ue() {
        let resp = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.1.0.1:4000;branch=z9hG4bK001011000000042.1f.3;rport\r\n\
From: <sip:a@d>;tag=1\r\nTo: <sip:a@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(route(resp), Route::User(1_011_000_000_042));
        let req = b"INVITE sip:001011000000007@127.1.0.1:4000 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKrc1\r\n\
From: <sip:a@d>;tag=1\r\nTo: <sip:b@d>\r\nCall-ID: y\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(route(req), Route::User(1_011_000_000_007));
        let rtp = [0x80u8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42, 0xd5];
        assert_eq!(route(&rtp), Route::Ssrc(42));
        assert_eq!(route(b"garbage"), Route::Drop);
        assert_eq!(route(&resp[..]).clone(), Route::User(1_011_000_000_042));
        assert_eq!(ssrc_of("001011000000042"), 1_011_000_000_042u64 as u32);
    }
}
