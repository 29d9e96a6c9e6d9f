//! Deterministic flow steering: SO_REUSEPORT groups (one socket per worker) with a classic
//! BPF program (SO_ATTACH_REUSEPORT_CBPF) that picks the worker, and the pure function
//! [`steer`] that computes the same choice from any thread.
//!
//! The program runs with the packet data positioned after the transport header, so it reads
//! the IP header through the SKF_NET_OFF negative-offset window (linux/filter.h):
//! IPv4 source address at NET+12..16, IHL from NET+0, transport source port at NET+4*IHL;
//! IPv6 source address at NET+8..24, source port at NET+40 (no extension headers).
//! The hash is `(src_port ^ low 16 bits of the source address) % n_workers`; the kernel uses
//! the result as the index into the group, i.e. the order in which sockets joined it.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::sys;

/// The worker owning flows from `src` in a group of `n_workers` sockets.
pub fn steer(src: SocketAddr, n_workers: usize) -> usize {
    let low = match src.ip() {
        IpAddr::V4(a) => {
            let o = a.octets();
            u16::from_be_bytes([o[2], o[3]])
        }
        IpAddr::V6(a) => {
            let o = a.octets();
            u16::from_be_bytes([o[14], o[15]])
        }
    };
    usize::from(src.port() ^ low) % n_workers.max(1)
}

// Classic BPF encoding (linux/bpf_common.h, linux/filter.h).
const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_ALU: u16 = 0x04;
const BPF_RET: u16 = 0x06;
const BPF_MISC: u16 = 0x07;
const BPF_H: u16 = 0x08;
const BPF_B: u16 = 0x10;
const BPF_ABS: u16 = 0x20;
const BPF_IND: u16 = 0x40;
const BPF_MSH: u16 = 0xa0;
const BPF_XOR: u16 = 0xa0;
const BPF_MOD: u16 = 0x90;
const BPF_K: u16 = 0x00;
const BPF_X: u16 = 0x08;
const BPF_A: u16 = 0x10;
const BPF_TAX: u16 = 0x00;
/// linux/filter.h: SKF_NET_OFF, start of the network header window.
const SKF_NET_OFF: i32 = -0x100000;

fn ins(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

fn net(off: i32) -> u32 {
    (SKF_NET_OFF + off) as u32
}

/// The steering program for a group of `n` sockets bound to an address of family `v6`.
pub(crate) fn program(v6: bool, n: usize) -> Vec<libc::sock_filter> {
    let n = n.clamp(1, u32::MAX as usize) as u32;
    let mut p = Vec::with_capacity(7);
    if v6 {
        p.push(ins(BPF_LD | BPF_H | BPF_ABS, net(40))); // A = source port
    } else {
        p.push(ins(BPF_LDX | BPF_B | BPF_MSH, net(0))); // X = 4 * IHL
        p.push(ins(BPF_LD | BPF_H | BPF_IND, net(0))); // A = source port at NET + X
    }
    p.push(ins(BPF_MISC | BPF_TAX, 0)); // X = A
    p.push(ins(BPF_LD | BPF_H | BPF_ABS, net(if v6 { 22 } else { 14 }))); // A = low 16 of src
    p.push(ins(BPF_ALU | BPF_XOR | BPF_X, 0)); // A ^= X
    p.push(ins(BPF_ALU | BPF_MOD | BPF_K, n)); // A %= n
    p.push(ins(BPF_RET | BPF_A, 0));
    p
}

/// Attaches the steering program to the reuseport group of `fd`.
pub(crate) fn attach(fd: RawFd, v6: bool, n: usize) -> io::Result<()> {
    let mut prog = program(v6, n);
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_mut_ptr() };
    // Safety: `fprog` points at `prog`, alive for the call; the kernel copies the program.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Kind of reuseport group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proto {
    Udp,
    Tcp { backlog: i32 },
}

/// Binds `n` sockets to `addr` in one reuseport group, in worker order, and attaches the
/// steering program. Port 0 is resolved by the first bind and reused for the others.
pub(crate) fn bind_group(addr: SocketAddr, proto: Proto, n: usize) -> io::Result<(Vec<OwnedFd>, SocketAddr)> {
    let ty = match proto {
        Proto::Udp => libc::SOCK_DGRAM,
        Proto::Tcp { .. } => libc::SOCK_STREAM,
    };
    let mut bound = addr;
    let mut socks = Vec::with_capacity(n);
    for _ in 0..n.max(1) {
        let s = sys::socket(&addr, ty)?;
        let fd = s.as_raw_fd();
        sys::set_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        if addr.is_ipv6() {
            sys::set_int(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
        }
        if let Proto::Udp = proto {
            sys::grow_rcvbuf(fd);
        }
        sys::bind(fd, &bound)?;
        if let Proto::Tcp { backlog } = proto {
            // Safety: listen(2) takes no pointers.
            if unsafe { libc::listen(fd, backlog) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        if socks.is_empty() {
            bound = sys::local_addr(fd)?;
        }
        socks.push(s);
    }
    if let Some(first) = socks.first() {
        attach(first.as_raw_fd(), addr.is_ipv6(), socks.len())?;
    }
    Ok((socks, bound))
}
