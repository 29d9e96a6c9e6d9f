//! Entry point of the `rtp_parse` fuzz target and of the mutation test: every RTP/RTCP
//! view and accessor, and the media table on the datagram.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::{MediaSpec, MediaTable, RtcpCompound, RtcpPacket, RtpHeader, RtpPacket, TableConfig};

/// Runs every media decoder on `data`; panics only on a broken invariant.
pub fn exercise(data: &[u8]) {
    if let Ok(p) = RtpPacket::new_checked(data) {
        let h = RtpHeader::parse(&p);
        let _ = (p.payload().len(), p.extension_data(), p.csrc(14), p.padding());
        let mut buf = [0u8; 80];
        let n = h.emit(&mut buf).unwrap_or(0);
        assert!(n <= p.len(), "emitted header longer than the parsed packet");
    }
    for strict in [true, false] {
        let c = if strict { RtcpCompound::new_checked(data) } else { RtcpCompound::new_checked_reduced(data) };
        if let Ok(c) = c {
            let total: usize = c.packets().map(|p| exercise_rtcp(&p)).sum();
            assert_eq!(total, data.len(), "RTCP packets do not cover the compound");
        }
    }
    let mut table = MediaTable::new(TableConfig { capacity: 2, port_min: 40000, port_max: 40003, delay_packets: 2 });
    let spec = MediaSpec { delay: Duration::from_millis(20), ..MediaSpec::echo() };
    let _ = table.install(40000, spec);
    let now = Instant::now();
    let src = SocketAddr::from((Ipv4Addr::LOCALHOST, 5000));
    let mut buf = data.to_vec();
    for port in [40000, 40001, 40002] {
        let _ = table.handle_packet(now, port, src, &mut buf);
    }
    while table.poll_due(now + Duration::from_secs(1)).is_some() {}
}

fn exercise_rtcp(p: &RtcpPacket<'_>) -> usize {
    let _ = (p.ssrc(), p.sender_info(), p.bye_reason(), p.app());
    let _ = p.report_blocks().count() + p.bye_sources().count() + p.sdes_items().count();
    p.len()
}
