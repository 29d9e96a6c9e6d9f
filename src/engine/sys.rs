//! Thin system-call helpers: socket addresses in C form, socket creation with
//! SO_REUSEPORT, socket options, non-blocking accept/connect/send/recv on raw fds.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Converts a socket address to its C form.
pub(crate) fn to_raw(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // Safety: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            // Safety: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo().to_be(),
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            // Safety: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

/// Parses a C socket address given as bytes (as the kernel wrote it).
pub(crate) fn from_bytes(b: &[u8]) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes([*b.first()?, *b.get(1)?]);
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    if family == libc::AF_INET as u16 {
        let ip: [u8; 4] = b.get(4..8)?.try_into().ok()?;
        Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
    } else if family == libc::AF_INET6 as u16 {
        let flow: [u8; 4] = b.get(4..8)?.try_into().ok()?;
        let ip: [u8; 16] = b.get(8..24)?.try_into().ok()?;
        let scope: [u8; 4] = b.get(24..28)?.try_into().ok()?;
        Some(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(ip),
            port,
            u32::from_be_bytes(flow),
            u32::from_ne_bytes(scope),
        )))
    } else {
        None
    }
}

/// Parses a sockaddr_storage of which the kernel filled `len` bytes.
pub(crate) fn from_storage(ss: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = (len as usize).min(size_of::<libc::sockaddr_storage>());
    // Safety: `ss` is a valid reference to a sockaddr_storage of at least `len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts((ss as *const libc::sockaddr_storage).cast::<u8>(), len) };
    from_bytes(bytes)
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Sets an integer socket option.
pub(crate) fn set_int(fd: RawFd, level: libc::c_int, name: libc::c_int, v: libc::c_int) -> io::Result<()> {
    // Safety: passes a valid pointer to a local c_int with its exact size.
    cvt(unsafe {
        libc::setsockopt(fd, level, name, (&v as *const libc::c_int).cast(), size_of::<libc::c_int>() as libc::socklen_t)
    })
    .map(drop)
}

/// Receive buffer asked for every UDP (and raw ESP) socket of the engine. The kernel's
/// default (`net.core.rmem_default`, 208 KiB) holds about 90 datagrams of 1 KB: a burst
/// that arrives while the worker is busy (a core answering hundreds of UEs after a stall)
/// overflows it, and the kernel drops the rest silently (`RcvbufErrors`). 4 MiB (the kernel
/// doubles it for bookkeeping) holds a few thousand; it is a bound, not an allocation.
pub(crate) const UDP_RCVBUF: libc::c_int = 4 << 20;

/// Raises the receive buffer of a datagram socket to [`UDP_RCVBUF`]: `SO_RCVBUFFORCE`
/// passes `net.core.rmem_max` with CAP_NET_ADMIN, else `SO_RCVBUF` is capped by it. Best
/// effort: a socket whose buffer cannot grow still works.
pub(crate) fn grow_rcvbuf(fd: RawFd) {
    if set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, UDP_RCVBUF).is_err() {
        let _ = set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, UDP_RCVBUF);
    }
}

/// Reads an integer socket option.
pub(crate) fn get_int(fd: RawFd, level: libc::c_int, name: libc::c_int) -> io::Result<libc::c_int> {
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // Safety: valid pointers to a local c_int and its length.
    cvt(unsafe { libc::getsockopt(fd, level, name, (&mut v as *mut libc::c_int).cast(), &mut len) })?;
    Ok(v)
}

/// A new non-blocking, close-on-exec socket of the address family of `addr`.
pub(crate) fn socket(addr: &SocketAddr, ty: libc::c_int) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    // Safety: socket(2) takes no pointers; the result is checked.
    let fd = cvt(unsafe { libc::socket(family, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // Safety: `fd` is a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Binds `fd` to `addr`.
pub(crate) fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (ss, len) = to_raw(addr);
    // Safety: `ss` holds a valid address of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&ss as *const libc::sockaddr_storage).cast(), len) }).map(drop)
}

/// The local address `fd` is bound to.
pub(crate) fn local_addr(fd: RawFd) -> io::Result<SocketAddr> {
    // Safety: sockaddr_storage is plain old data.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // Safety: valid pointers to a local sockaddr_storage and its length.
    cvt(unsafe { libc::getsockname(fd, (&mut ss as *mut libc::sockaddr_storage).cast(), &mut len) })?;
    from_storage(&ss, len).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
}

/// Starts a non-blocking connect; `Ok(false)` means "in progress".
pub(crate) fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<bool> {
    let (ss, len) = to_raw(addr);
    // Safety: `ss` holds a valid address of `len` bytes.
    match cvt(unsafe { libc::connect(fd, (&ss as *const libc::sockaddr_storage).cast(), len) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Accepts one connection (non-blocking, close-on-exec).
pub(crate) fn accept(fd: RawFd) -> io::Result<(OwnedFd, SocketAddr)> {
    // Safety: sockaddr_storage is plain old data.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // Safety: valid pointers to a local sockaddr_storage and its length.
    let c = cvt(unsafe {
        libc::accept4(fd, (&mut ss as *mut libc::sockaddr_storage).cast(), &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    })?;
    // Safety: `c` is a fresh fd owned by nobody else.
    let owned = unsafe { OwnedFd::from_raw_fd(c) };
    let peer = from_storage(&ss, len).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
    Ok((owned, peer))
}

/// Reads into `buf`; `Ok(0)` is end of stream.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // Safety: `buf` is valid for writes of `buf.len()` bytes.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Writes from `buf` without raising SIGPIPE.
pub(crate) fn send(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // Safety: `buf` is valid for reads of `buf.len()` bytes.
    let n = unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// TCP keepalive: `idle` seconds before probing (0 = off), `count` probes before drop.
pub(crate) fn set_keepalive(fd: &OwnedFd, idle: u32, count: u32) -> io::Result<()> {
    let fd = fd.as_raw_fd();
    if idle == 0 {
        return Ok(());
    }
    let idle = idle.min(32767) as libc::c_int;
    set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, idle)?;
    if count > 0 {
        set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, count.min(127) as libc::c_int)?;
    }
    Ok(())
}

/// True for "try again later" errors.
pub(crate) fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::EINTR)
}

/// Turns transparent huge pages off for this process (Linux `PR_SET_THP_DISABLE`, inherited
/// by every thread and kept across `fork`). The allocator asks for huge pages on its arenas,
/// and the first touch of each 2 MiB page is zeroed in one page fault: in a VM that took
/// 1-2 ms, on the control thread or a worker in the middle of a call, and put call set-up's
/// p99 at 5.6 ms instead of 1.1 ms while the heap grew (perf/RESULTS.md). False when the
/// kernel refuses (older than 3.15, or a seccomp profile).
pub fn disable_transparent_huge_pages() -> bool {
    // Safety: PR_SET_THP_DISABLE takes integer arguments only; no memory is passed.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 }
}
