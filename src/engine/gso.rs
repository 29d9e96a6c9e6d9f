//! UDP generic segmentation offload (Linux `UDP_SEGMENT`, since 4.18): datagrams that leave
//! one socket for one destination with the same length are handed to the kernel as one
//! `sendmsg` whose iovecs are the datagrams and whose `UDP_SEGMENT` control message is their
//! length. The kernel walks the UDP/IP send path (route, socket accounting, header build)
//! once for the whole train and splits it into datagrams only at the device, so an RTP echo
//! or relay that answers a burst of packets from one peer pays that path once per burst.
//!
//! [`GsoBatch`] collects the train while the worker executes its outbox; [`GsoMsg`] is the
//! pinned `msghdr` + iovecs + control buffer one train is sent from (both backends).

use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::outbox::{BufId, BufPool};
use super::sys;

/// Most datagrams in one train (the kernel's UDP_MAX_SEGMENTS is 64 on older kernels).
pub(crate) const MAX_SEGMENTS: usize = 64;
/// Largest train: the UDP length field bounds one GSO super-datagram.
const MAX_TRAIN_BYTES: usize = 65_507;
/// Largest datagram put in a train: a segment plus IP/UDP headers must fit the path MTU
/// (the kernel refuses the whole train otherwise), so only datagrams that fit a 1500-byte
/// Ethernet MTU with room for IPv6 headers travel in trains; bigger ones leave alone.
const MAX_SEGMENT_BYTES: usize = 1400;
/// `UDP_SEGMENT` from linux/udp.h (not exported by every libc target).
const UDP_SEGMENT: libc::c_int = 103;

/// Datagrams gathered for one train: same socket, destination and length (the last one may
/// be shorter, which closes the train, as the kernel requires).
pub(crate) struct GsoBatch {
    fd: RawFd,
    dst: Option<SocketAddr>,
    seg: usize,
    total: usize,
    closed: bool,
    pub(crate) bufs: Vec<BufId>,
}

impl GsoBatch {
    /// An empty batch with room for a full train (allocated once, at worker start).
    pub(crate) fn new() -> GsoBatch {
        GsoBatch { fd: -1, dst: None, seg: 0, total: 0, closed: false, bufs: Vec::with_capacity(MAX_SEGMENTS) }
    }

    /// Adds `buf` when it fits the train; hands it back otherwise (the caller flushes and
    /// retries on the then empty batch, which always accepts).
    pub(crate) fn try_push(&mut self, fd: RawFd, dst: SocketAddr, buf: BufId) -> Result<(), BufId> {
        let len = buf.len();
        if self.bufs.is_empty() {
            self.fd = fd;
            self.dst = Some(dst);
            self.seg = len;
            self.total = len;
            self.closed = false;
            self.bufs.push(buf);
            return Ok(());
        }
        let fits = !self.closed
            && self.fd == fd
            && self.dst == Some(dst)
            && len <= self.seg
            && len > 0
            && self.seg <= MAX_SEGMENT_BYTES
            && self.bufs.len() < MAX_SEGMENTS
            && self.total + len <= MAX_TRAIN_BYTES;
        if !fits {
            return Err(buf);
        }
        // The kernel splits at `seg` bytes: only the last datagram may be shorter.
        self.closed = len < self.seg;
        self.total += len;
        self.bufs.push(buf);
        Ok(())
    }

    /// Socket, destination and segment size of the gathered train (`None` when empty).
    pub(crate) fn key(&self) -> Option<(RawFd, SocketAddr, usize)> {
        self.dst.filter(|_| !self.bufs.is_empty()).map(|d| (self.fd, d, self.seg))
    }

    /// Empties the batch after its buffers were taken.
    pub(crate) fn reset(&mut self) {
        self.bufs.clear();
        self.dst = None;
        self.total = 0;
        self.closed = false;
    }
}

/// Control-message buffer: room for one cmsghdr carrying a u16, 8-byte aligned.
#[repr(C, align(8))]
struct CmsgBuf([u8; 32]);

/// The pinned send description of one train. Lives in a boxed slice that never moves, so
/// the kernel (io_uring) may read it after `fill` returns.
pub(crate) struct GsoMsg {
    pub(crate) hdr: libc::msghdr,
    iovs: [libc::iovec; MAX_SEGMENTS],
    addr: libc::sockaddr_storage,
    cmsg: CmsgBuf,
    /// The train's destination.
    pub(crate) dst: Option<SocketAddr>,
    /// The train's buffers, released when the send completes.
    pub(crate) bufs: Vec<BufId>,
}

impl GsoMsg {
    /// An idle message with room for a full train (allocated once, at worker start).
    pub(crate) fn new() -> GsoMsg {
        GsoMsg {
            // Safety: msghdr, iovec and sockaddr_storage are plain old data; zero is valid.
            hdr: unsafe { std::mem::zeroed() },
            iovs: [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; MAX_SEGMENTS],
            // Safety: as above.
            addr: unsafe { std::mem::zeroed() },
            cmsg: CmsgBuf([0; 32]),
            dst: None,
            bufs: Vec::with_capacity(MAX_SEGMENTS),
        }
    }

    /// Takes the batch's buffers and points the header at them, the destination and a
    /// `UDP_SEGMENT` control message of `seg` bytes. The pool slots stay owned by `bufs`
    /// until the caller releases them after the send.
    pub(crate) fn fill(&mut self, batch: &mut GsoBatch, pool: &BufPool) {
        let Some((_, dst, seg)) = batch.key() else { return };
        self.bufs.clear();
        for (i, buf) in batch.bufs.drain(..).enumerate() {
            let bytes = pool.bytes(&buf);
            if let Some(v) = self.iovs.get_mut(i) {
                *v = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
            }
            self.bufs.push(buf);
        }
        batch.reset();
        let (ss, len) = sys::to_raw(&dst);
        self.dst = Some(dst);
        self.addr = ss;
        self.hdr.msg_name = (&mut self.addr as *mut libc::sockaddr_storage).cast();
        self.hdr.msg_namelen = len;
        self.hdr.msg_iov = self.iovs.as_mut_ptr();
        self.hdr.msg_iovlen = self.bufs.len();
        self.set_segment(seg as u16);
    }

    fn set_segment(&mut self, seg: u16) {
        self.hdr.msg_control = self.cmsg.0.as_mut_ptr().cast();
        // Safety: CMSG_SPACE of a u16 (24 bytes on 64-bit) fits the 32-byte, 8-aligned
        // buffer; CMSG_FIRSTHDR of a header whose control buffer is that large is non-null
        // and points into it; CMSG_DATA then has room for the u16 (written unaligned).
        unsafe {
            self.hdr.msg_controllen = libc::CMSG_SPACE(size_of_u16()) as _;
            let c = libc::CMSG_FIRSTHDR(&self.hdr);
            (*c).cmsg_level = libc::SOL_UDP;
            (*c).cmsg_type = UDP_SEGMENT;
            (*c).cmsg_len = libc::CMSG_LEN(size_of_u16()) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), seg);
        }
    }
}

fn size_of_u16() -> u32 {
    std::mem::size_of::<u16>() as u32
}

/// Whether this kernel accepts `UDP_SEGMENT` trains: sends a two-datagram train between two
/// loopback sockets at start-up and checks that two datagrams arrive.
pub(crate) fn probe() -> bool {
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;
    let (Ok(rx), Ok(tx)) = (UdpSocket::bind("127.0.0.1:0"), UdpSocket::bind("127.0.0.1:0")) else { return false };
    let Ok(dst) = rx.local_addr() else { return false };
    let _ = rx.set_read_timeout(Some(std::time::Duration::from_millis(200)));
    let payload = [7u8; 16];
    let mut msg = GsoMsg::new();
    for v in msg.iovs.iter_mut().take(2) {
        *v = libc::iovec { iov_base: payload.as_ptr() as *mut libc::c_void, iov_len: 8 };
    }
    let (ss, len) = sys::to_raw(&dst);
    msg.addr = ss;
    msg.hdr.msg_name = (&mut msg.addr as *mut libc::sockaddr_storage).cast();
    msg.hdr.msg_namelen = len;
    msg.hdr.msg_iov = msg.iovs.as_mut_ptr();
    msg.hdr.msg_iovlen = 2;
    msg.set_segment(8);
    // Safety: the header points at `payload`, `msg.addr` and `msg.cmsg`, all alive here.
    let r = unsafe { libc::sendmsg(tx.as_raw_fd(), &msg.hdr, 0) };
    if r != 16 {
        return false;
    }
    let mut buf = [0u8; 32];
    matches!(rx.recv(&mut buf), Ok(8)) && matches!(rx.recv(&mut buf), Ok(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_kernel_splits_a_train_into_datagrams() {
        // The machines we build on run Linux >= 4.18; the probe is also the engine's switch.
        assert!(probe());
    }
}
