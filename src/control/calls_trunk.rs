//! The SIP trunk of seed 000 (`trunk`: addr, name, domain): where calls to
//! unknown users are forwarded. No DNS (RFC 3263 not used): the trunk is
//! reached at its configured address, over UDP on the socket the call came
//! in on, or over a new TCP connection when the caller used TCP.

use crate::config::typed::Trunk;
use crate::endpoint::{Peer, Transport};

/// The Request-URI for `callee` at the trunk: the callee's user part (a
/// telephone number for tel: URIs, RFC 3966) at the trunk's domain.
pub(super) fn request_uri(t: &Trunk, callee: &str) -> String {
    let rest = callee.strip_prefix("tel:").or_else(|| callee.strip_prefix("sip:")).or_else(|| callee.strip_prefix("sips:")).unwrap_or(callee);
    let user = rest.split(['@', ';']).next().unwrap_or("");
    let phone = if callee.starts_with("tel:") { ";user=phone" } else { "" };
    format!("sip:{user}@{}{phone}", t.domain)
}

/// The worker and peer our requests to the trunk use.
pub(super) fn route(t: &Trunk, from: Peer, n_workers: usize) -> (u16, Peer) {
    let transport = match from.transport {
        Transport::Udp(s) => Transport::Udp(s),
        _ => Transport::TcpTo,
    };
    // The kernel steers the trunk's answers to worker steer(addr).
    let worker = crate::engine::steer(t.addr, n_workers.max(1)) as u16;
    (worker, Peer { transport, addr: t.addr })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uri_keeps_the_user_part() {
        let t = Trunk { addr: "10.1.1.1:5060".parse().expect("literal"), name: "n".into(), domain: "trunk.example".into(), tcp_threshold: 0 };
        assert_eq!(request_uri(&t, "tel:+331234"), "sip:+331234@trunk.example;user=phone");
        assert_eq!(request_uri(&t, "sip:bob@ims.example"), "sip:bob@trunk.example");
    }
}
