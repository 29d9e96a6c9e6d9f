//! Raw ESP sockets (IP protocol 50) for transport-mode IPsec in userspace: the kernel has no
//! ESP of its own here, so it hands every ESP packet to the raw sockets and adds the IP
//! header to what they send. An IPv4 raw socket receives the packet with its IPv4 header;
//! an IPv6 one receives only the ESP packet (RFC 3542 3: no IPv6 header on raw sockets, the
//! source comes in the address of recvmsg). Every worker opens one per address family it
//! serves; a classic BPF filter keeps only the packets whose SPI names the worker in its low
//! bits (`crate::ipsec::worker_of_spi`), so a packet reaches exactly its SA's owner.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::sys;

/// IP protocol number of ESP (RFC 4303).
const IPPROTO_ESP: libc::c_int = 50;

const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_IND: u16 = 0x40;
const BPF_MSH: u16 = 0xa0;
const BPF_AND: u16 = 0x50;
const BPF_JEQ: u16 = 0x10;
const BPF_K: u16 = 0x00;

fn ins(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// The last four instructions of every filter: keep the packet when the SPI in A names
/// `worker` under `mask`, drop it otherwise.
fn spi_test(worker: u32, mask: u32) -> [libc::sock_filter; 4] {
    [
        ins(BPF_ALU | BPF_AND | BPF_K, 0, 0, mask),
        ins(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, worker & mask),
        ins(BPF_RET | BPF_K, 0, 0, 0x0004_0000), // keep (up to 256 KiB)
        ins(BPF_RET | BPF_K, 0, 0, 0),           // drop
    ]
}

fn worker_mask(worker_bits: u8) -> u32 {
    1u32.checked_shl(u32::from(worker_bits)).map_or(u32::MAX, |v| v - 1)
}

/// The filter of worker `worker` when SPIs carry the worker in their `worker_bits` low
/// bits. A raw IPv4 socket's filter sees the packet from its IP header on.
pub(crate) fn spi_filter(worker: u32, worker_bits: u8) -> [libc::sock_filter; 6] {
    let [and, jeq, keep, drop] = spi_test(worker, worker_mask(worker_bits));
    [
        ins(BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0), // X = 4 * IHL
        ins(BPF_LD | BPF_W | BPF_IND, 0, 0, 0),  // A = SPI, the first word after the header
        and,
        jeq,
        keep,
        drop,
    ]
}

/// The filter of an IPv6 raw socket: it sees the ESP packet itself (the kernel has taken
/// the IPv6 header and its extension headers off), so the SPI (RFC 4303 2.1) is at offset 0.
pub(crate) fn spi_filter_v6(worker: u32, worker_bits: u8) -> [libc::sock_filter; 5] {
    let [and, jeq, keep, drop] = spi_test(worker, worker_mask(worker_bits));
    [ins(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0), and, jeq, keep, drop]
}

/// Opens a non-blocking raw ESP socket of `local`'s family bound to `local` (packets to
/// other addresses are not delivered) with the SPI filter of `worker`. Needs CAP_NET_RAW.
pub(crate) fn open(local: IpAddr, worker: u32, worker_bits: u8) -> io::Result<OwnedFd> {
    let family = if local.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // Safety: socket(2) takes no pointers; the result is checked.
    let fd = unsafe { libc::socket(family, libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, IPPROTO_ESP) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // Safety: `fd` is a fresh fd owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let (mut v4, mut v6) = (spi_filter(worker, worker_bits), spi_filter_v6(worker, worker_bits));
    let prog: &mut [libc::sock_filter] = if local.is_ipv4() { &mut v4 } else { &mut v6 };
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_mut_ptr() };
    // Safety: `fprog` points at `prog`, alive for the call; the kernel copies the program.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    sys::bind(fd.as_raw_fd(), &SocketAddr::new(local, 0))?;
    Ok(fd)
}

/// True when this process may open raw ESP sockets of `local`'s family bound to `local`.
pub fn available(local: IpAddr) -> bool {
    open(local, 0, 0).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the filter over `pkt` the way the kernel's classic BPF interpreter does for
    /// the instructions used here; returns the bytes kept.
    fn run(prog: &[libc::sock_filter], pkt: &[u8]) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        while let Some(i) = prog.get(pc) {
            pc += 1;
            match i.code {
                c if c == BPF_LDX | BPF_B | BPF_MSH => x = 4 * u32::from(pkt[i.k as usize] & 0x0f),
                c if c == BPF_LD | BPF_W | BPF_IND || c == BPF_LD | BPF_W | BPF_ABS => {
                    let o = (if c & BPF_IND != 0 { x + i.k } else { i.k }) as usize;
                    match pkt.get(o..o + 4) {
                        Some(w) => a = u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
                        None => return 0,
                    }
                }
                c if c == BPF_ALU | BPF_AND | BPF_K => a &= i.k,
                c if c == BPF_JMP | BPF_JEQ | BPF_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                c if c == BPF_RET | BPF_K => return i.k,
                c => panic!("unexpected instruction {c:#x}"),
            }
        }
        0
    }

    fn esp(ihl_words: u8, spi: u32) -> Vec<u8> {
        let mut p = vec![0u8; usize::from(ihl_words) * 4 + 8];
        p[0] = 0x40 | ihl_words;
        let at = usize::from(ihl_words) * 4;
        p[at..at + 4].copy_from_slice(&spi.to_be_bytes());
        p
    }

    #[test]
    fn filter_keeps_the_workers_spis_only() {
        let w2 = spi_filter(2, 2);
        assert!(run(&w2, &esp(5, 0x1234_5606)) > 0);
        assert_eq!(run(&w2, &esp(5, 0x1234_5607)), 0);
        assert!(run(&w2, &esp(6, 0x0000_0102)) > 0, "IP options move the SPI");
        assert_eq!(run(&w2, &esp(5, 0x0000_0101)), 0);
        assert_eq!(run(&w2, &esp(5, 0)[..22]), 0, "truncated: dropped");
        let single = spi_filter(0, 0);
        assert!(run(&single, &esp(5, 0xdead_beef)) > 0, "one worker takes every SPI");
    }

    #[test]
    fn v6_filter_reads_the_spi_at_offset_zero() {
        // What an IPv6 raw socket sees: SPI, sequence number, payload; no IP header.
        let esp6 = |spi: u32| [&spi.to_be_bytes()[..], &[0, 0, 0, 1, 0xaa, 0xbb]].concat();
        let w1 = spi_filter_v6(1, 2);
        assert!(run(&w1, &esp6(0x0abc_de05)) > 0);
        assert_eq!(run(&w1, &esp6(0x0abc_de06)), 0);
        // 0x45 as the first byte would be an IPv4 header: the v6 filter must not skip it.
        assert_eq!(run(&w1, &esp6(0x4500_0000)), 0, "the first word is the SPI, not a header");
        assert_eq!(run(&w1, &esp6(0x0000_0101)[..3]), 0, "truncated: dropped");
        let w3 = spi_filter_v6(3, 2);
        assert!(run(&w3, &esp6(0xffff_ffff)) > 0);
        assert!(run(&spi_filter_v6(0, 0), &esp6(0x1234_5677)) > 0, "one worker takes every SPI");
    }

    #[test]
    fn both_families_open_with_their_filter_when_allowed() {
        use std::net::Ipv6Addr;
        for local in [IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)] {
            match open(local, 1, 1) {
                Ok(fd) => assert_eq!(sys::local_addr(fd.as_raw_fd()).map(|a| a.ip()).ok(), Some(local)),
                // Without CAP_NET_RAW (or without IPv6) nothing more is testable here.
                Err(e) => assert!(
                    matches!(e.kind(), io::ErrorKind::PermissionDenied | io::ErrorKind::AddrNotAvailable),
                    "{local}: {e}"
                ),
            }
        }
    }
}
