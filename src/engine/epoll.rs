//! The mio (epoll) backend: edge-triggered readiness, datagrams moved in batches with
//! recvmmsg/sendmmsg over preallocated message arrays.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token as MioToken};

use super::counters::{bump, WorkerCounters};
use super::handler::Handler;
use super::gso::{GsoBatch, GsoMsg};
use super::outbox::{BufId, BufPool};
use super::sys;
use super::worker::{Core, Driver, Io, Token};

/// Preallocated arrays for one recvmmsg or sendmmsg call of up to `n` messages. The
/// pointers inside `hdrs` point into the boxed slices, whose heap addresses never move.
struct MsgBatch {
    hdrs: Box<[libc::mmsghdr]>,
    iovs: Box<[libc::iovec]>,
    addrs: Box<[libc::sockaddr_storage]>,
}

impl MsgBatch {
    fn new(n: usize) -> MsgBatch {
        // Safety: mmsghdr, iovec and sockaddr_storage are plain old data; zero is valid.
        let zero_hdr = || unsafe { zeroed::<libc::mmsghdr>() };
        // Safety: as above.
        let zero_ss = || unsafe { zeroed::<libc::sockaddr_storage>() };
        let mut b = MsgBatch {
            hdrs: (0..n).map(|_| zero_hdr()).collect(),
            iovs: (0..n).map(|_| libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }).collect(),
            addrs: (0..n).map(|_| zero_ss()).collect(),
        };
        for i in 0..n {
            b.hdrs[i].msg_hdr.msg_name = (&mut b.addrs[i] as *mut libc::sockaddr_storage).cast();
            b.hdrs[i].msg_hdr.msg_iov = &mut b.iovs[i];
            b.hdrs[i].msg_hdr.msg_iovlen = 1;
        }
        b
    }
}

/// The epoll driver of one worker.
pub(crate) struct EpollDriver {
    poll: Poll,
    events: Events,
    ready: Vec<(Token, bool, bool)>,
    rx: MsgBatch,
    rx_mem: Box<[u8]>,
    rx_size: usize,
    tx: MsgBatch,
    tx_bufs: Vec<BufId>,
    tx_fd: RawFd,
    /// The one GSO train in flight (sent synchronously, so one suffices).
    train: Box<GsoMsg>,
    counters: Arc<WorkerCounters>,
}

impl EpollDriver {
    /// `batch` messages per recvmmsg/sendmmsg, datagrams up to `max_datagram` bytes.
    pub(crate) fn new(batch: usize, max_datagram: usize, counters: Arc<WorkerCounters>) -> io::Result<EpollDriver> {
        let batch = batch.max(1);
        let mut rx = MsgBatch::new(batch);
        let mut rx_mem = vec![0u8; batch * max_datagram].into_boxed_slice();
        for (i, chunk) in rx_mem.chunks_mut(max_datagram).enumerate().take(batch) {
            rx.iovs[i] = libc::iovec { iov_base: chunk.as_mut_ptr().cast(), iov_len: chunk.len() };
        }
        Ok(EpollDriver {
            poll: Poll::new()?,
            events: Events::with_capacity(256),
            ready: Vec::with_capacity(256),
            rx,
            rx_mem,
            rx_size: max_datagram,
            tx: MsgBatch::new(batch),
            tx_bufs: Vec::with_capacity(batch),
            tx_fd: -1,
            train: Box::new(GsoMsg::new()),
            counters,
        })
    }

    fn register(&self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        self.poll.registry().register(&mut SourceFd(&fd), MioToken(token.encode() as usize), interest)
    }

    /// Receives every queued datagram of UDP socket `idx`, delivering each.
    fn recv_udp<H: Handler>(&mut self, core: &mut Core<H>, idx: u32, now: Instant) {
        let Some(fd) = core.recv_fd(idx) else { return };
        let n_max = self.rx.hdrs.len();
        loop {
            for h in self.rx.hdrs.iter_mut() {
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_hdr.msg_flags = 0;
            }
            // Safety: every header points at its own address slot and one iovec over a
            // distinct `rx_size` chunk of `rx_mem`, all alive for the call.
            let n = unsafe {
                libc::recvmmsg(fd, self.rx.hdrs.as_mut_ptr(), n_max as libc::c_uint, libc::MSG_DONTWAIT, std::ptr::null_mut())
            };
            if n <= 0 {
                return;
            }
            for i in 0..n as usize {
                let (Some(h), Some(ss)) = (self.rx.hdrs.get(i), self.rx.addrs.get(i)) else { break };
                let len = (h.msg_len as usize).min(self.rx_size);
                let data = self.rx_mem.get(i * self.rx_size..i * self.rx_size + len).unwrap_or(&[]);
                if let Some(src) = sys::from_storage(ss, h.msg_hdr.msg_namelen) {
                    core.datagram(now, idx, src, data);
                }
            }
            core.exec_ops(now, self);
            if core.recv_fd(idx) != Some(fd) {
                // Closed by the handler during this batch.
                return;
            }
            // Edge-triggered: a datagram arriving after this call raises a new edge, so a
            // short batch means the queue was drained.
            if (n as usize) < n_max {
                return;
            }
        }
    }

    fn dispatch<H: Handler>(&mut self, core: &mut Core<H>, token: Token, readable: bool, writable: bool, now: Instant) {
        match token {
            Token::Udp(i) => self.recv_udp(core, i, now),
            Token::Listen(i) => core.accept(i, self),
            Token::Conn { slot, generation } => {
                if writable {
                    core.conn_writable(slot, generation, now, self);
                }
                if readable {
                    core.conn_readable(slot, generation, now, self);
                }
            }
            _ => {}
        }
    }
}

impl Io for EpollDriver {
    fn register_conn(&mut self, fd: RawFd, token: Token) -> io::Result<()> {
        self.register(fd, token, Interest::READABLE | Interest::WRITABLE)
    }

    fn want_write(&mut self, _fd: RawFd, _token: Token) {
        // Registered edge-triggered for writability already: the next edge arrives.
    }

    fn deregister_conn(&mut self, fd: RawFd, _token: Token) {
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
    }

    fn send_udp(&mut self, fd: RawFd, dst: SocketAddr, buf: BufId, pool: &mut BufPool) {
        if self.tx_bufs.len() == self.tx.hdrs.len() || (fd != self.tx_fd && !self.tx_bufs.is_empty()) {
            self.flush_udp(pool);
        }
        let i = self.tx_bufs.len();
        let bytes = pool.bytes(&buf);
        let (ss, len) = sys::to_raw(&dst);
        if let (Some(a), Some(v), Some(h)) = (self.tx.addrs.get_mut(i), self.tx.iovs.get_mut(i), self.tx.hdrs.get_mut(i)) {
            *a = ss;
            *v = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
            h.msg_hdr.msg_namelen = len;
        }
        self.tx_fd = fd;
        self.tx_bufs.push(buf);
    }

    fn send_udp_train(&mut self, batch: &mut GsoBatch, pool: &mut BufPool) {
        let Some((fd, _, _)) = batch.key() else { return };
        // Datagrams queued before the train leave first.
        self.flush_udp(pool);
        self.train.fill(batch, pool);
        // Safety: the header points at the train's pinned iovecs, address and control
        // buffer, and the iovecs at pool slots owned by `train.bufs`, alive for the call.
        let r = unsafe { libc::sendmsg(fd, &self.train.hdr, libc::MSG_DONTWAIT) };
        let n = self.train.bufs.len() as u64;
        if r < 0 {
            // Refused as a train (e.g. a device without checksum offload answers EIO):
            // the datagrams still leave, one by one.
            let dst = self.train.dst;
            while !self.train.bufs.is_empty() {
                let buf = self.train.bufs.remove(0);
                match dst {
                    Some(dst) => self.send_udp(fd, dst, buf, pool),
                    None => pool.release(buf),
                }
            }
            self.flush_udp(pool);
            return;
        }
        {
            bump(&self.counters.gso_trains, 1);
            bump(&self.counters.tx_packets, n);
            bump(&self.counters.tx_bytes, r as u64);
        }
        for buf in self.train.bufs.drain(..) {
            pool.release(buf);
        }
    }

    fn register_udp(&mut self, fd: RawFd, token: Token) -> io::Result<()> {
        self.register(fd, token, Interest::READABLE)
    }

    fn deregister_udp(&mut self, fd: RawFd) {
        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
    }

    fn flush_udp(&mut self, pool: &mut BufPool) {
        let total = self.tx_bufs.len();
        let mut sent = 0;
        while sent < total {
            // Safety: headers `sent..total` point at filled address slots and iovecs over
            // pool slots still owned by `tx_bufs`, alive for the call.
            let r = unsafe {
                libc::sendmmsg(self.tx_fd, self.tx.hdrs.as_mut_ptr().add(sent), (total - sent) as libc::c_uint, libc::MSG_DONTWAIT)
            };
            if r <= 0 {
                // The datagram at `sent` failed (or would block): drop it, go on.
                bump(&self.counters.send_errors, 1);
                sent += 1;
                continue;
            }
            for h in self.tx.hdrs.get(sent..sent + r as usize).unwrap_or(&[]) {
                bump(&self.counters.tx_packets, 1);
                bump(&self.counters.tx_bytes, u64::from(h.msg_len));
            }
            sent += r as usize;
        }
        for buf in self.tx_bufs.drain(..) {
            pool.release(buf);
        }
    }
}

impl Driver for EpollDriver {
    fn arm<H: Handler>(&mut self, core: &Core<H>) -> io::Result<()> {
        self.register(core.waker.fd(), Token::Wake, Interest::READABLE)?;
        for (i, s) in core.udp.iter().enumerate() {
            self.register(s.as_raw_fd(), Token::Udp(i as u32), Interest::READABLE)?;
        }
        for (i, l) in core.listeners.iter().enumerate() {
            self.register(l.as_raw_fd(), Token::Listen(i as u32), Interest::READABLE)?;
        }
        Ok(())
    }

    fn wait<H: Handler>(&mut self, core: &mut Core<H>, timeout: Option<Duration>) -> io::Result<()> {
        match self.poll.poll(&mut self.events, timeout) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
        self.ready.clear();
        for ev in self.events.iter() {
            let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
            let writable = ev.is_writable() || ev.is_error();
            if self.ready.len() < self.ready.capacity() {
                self.ready.push((Token::decode(ev.token().0 as u64), readable, writable));
            }
        }
        let now = Instant::now();
        for k in 0..self.ready.len() {
            if let Some(&(token, r, w)) = self.ready.get(k) {
                self.dispatch(core, token, r, w, now);
            }
        }
        core.exec_ops(now, self);
        Ok(())
    }
}
