//! The io_uring backend: multishot recvmsg over a provided-buffer ring
//! (IORING_REGISTER_PBUF_RING) for UDP, sendmsg submissions batched into one
//! io_uring_enter per loop turn, and multishot poll for the command eventfd, TCP listeners
//! and connections (whose bytes are then moved by the shared non-blocking TCP code).

use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use io_uring::types::{BufRingEntry, CancelBuilder, Fd, RecvMsgOut, SubmitArgs, Timespec};
use io_uring::{cqueue, opcode, squeue, IoUring};

use super::counters::{bump, WorkerCounters};
use super::handler::Handler;
use super::gso::{GsoBatch, GsoMsg};
use super::outbox::{BufId, BufPool};
use super::sys;
use super::worker::{Core, Driver, Io, Token};

/// Buffer group id of the worker's provided-buffer ring.
const BGID: u16 = 0;
/// GSO trains in flight at once; beyond it a train's datagrams are sent one by one.
const TRAINS: usize = 32;
/// Completion batches reaped per wait before the main loop runs again.
const REAP_ROUNDS: usize = 4;

/// A provided-buffer ring: `entries` ring slots (shared with the kernel, page aligned,
/// mmap'ed) describing `entries` buffers of `size` bytes.
struct BufRing {
    ring: *mut BufRingEntry,
    ring_bytes: usize,
    mem: Box<[u8]>,
    size: usize,
    entries: u16,
    tail: u16,
}

impl BufRing {
    fn new(entries: u16, size: usize) -> io::Result<BufRing> {
        let entries = entries.max(1).next_power_of_two();
        let ring_bytes = usize::from(entries) * size_of::<BufRingEntry>();
        // Safety: anonymous private mapping, no file; result checked against MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let mut r = BufRing {
            ring: ptr.cast(),
            ring_bytes,
            mem: vec![0u8; usize::from(entries) * size].into_boxed_slice(),
            size,
            entries,
            tail: 0,
        };
        for bid in 0..entries {
            r.recycle(bid);
        }
        r.publish();
        Ok(r)
    }

    /// Puts buffer `bid` back at the (local) tail; visible to the kernel after `publish`.
    fn recycle(&mut self, bid: u16) {
        if bid >= self.entries {
            return;
        }
        let idx = usize::from(self.tail & (self.entries - 1));
        let addr = self.mem.as_ptr() as u64 + (usize::from(bid) * self.size) as u64;
        // Safety: `idx < entries`, so the entry lies inside the mapping; only addr, len and
        // bid are written, never the `resv` field that doubles as the shared tail.
        let entry = unsafe { &mut *self.ring.add(idx) };
        entry.set_addr(addr);
        entry.set_len(self.size as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Publishes the local tail to the kernel (release: entries before tail).
    fn publish(&self) {
        // Safety: the ring base is the first entry of a live, page-aligned mapping; the
        // tail is a naturally aligned u16 the kernel reads atomically.
        let tail = unsafe { &*(BufRingEntry::tail(self.ring).cast::<AtomicU16>()) };
        tail.store(self.tail, Ordering::Release);
    }

    fn buffer(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * self.size;
        self.mem.get(start..start + len.min(self.size)).unwrap_or(&[])
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // Safety: unmaps exactly the mapping created in `new`; the ring that used it was
        // dropped before (field order in `UringDriver`).
        unsafe { libc::munmap(self.ring.cast(), self.ring_bytes) };
    }
}

/// Per outbox slot: the sendmsg header, iovec and destination of an in-flight datagram.
struct SendMeta {
    hdr: libc::msghdr,
    iov: libc::iovec,
    addr: libc::sockaddr_storage,
    buf: Option<BufId>,
}

/// The io_uring driver of one worker. Field order matters: the ring drops first, so the
/// kernel no longer references the buffer ring, the send headers or the pool.
pub(crate) struct UringDriver {
    ring: IoUring,
    bufs: BufRing,
    recv_hdr: Box<libc::msghdr>,
    sends: Box<[SendMeta]>,
    trains: Box<[GsoMsg]>,
    free_trains: Vec<u32>,
    cqes: Vec<(u64, i32, u32)>,
    counters: Arc<WorkerCounters>,
}

/// Checks that io_uring and provided-buffer rings work here (setup may be refused by an
/// old kernel or a seccomp profile). Runs on a throw-away thread: tearing a ring down
/// queues task work on its creator, which interrupts the creator's blocking calls (EINTR).
pub(crate) fn probe() -> bool {
    std::thread::spawn(probe_here).join().unwrap_or(false)
}

fn probe_here() -> bool {
    let Ok(ring) = IoUring::new(4) else { return false };
    let Ok(bufs) = BufRing::new(1, 64) else { return false };
    // Safety: the mapping is live until `bufs` drops, after the unregister below.
    let ok = unsafe { ring.submitter().register_buf_ring_with_flags(bufs.ring as u64, bufs.entries, BGID, 0) }.is_ok();
    let _ = ring.submitter().unregister_buf_ring(BGID);
    drop(ring);
    drop(bufs);
    ok
}

impl UringDriver {
    /// `entries` SQ entries, `buffers` receive buffers of room for `max_datagram` bytes,
    /// one send header per outbox slot.
    pub(crate) fn new(
        entries: u32,
        buffers: u16,
        max_datagram: usize,
        out_slots: usize,
        counters: Arc<WorkerCounters>,
    ) -> io::Result<UringDriver> {
        // Completions' task work runs only when this thread enters the ring (Linux 6.1
        // DEFER_TASKRUN): a datagram arriving while the worker is busy does not interrupt
        // it. SQ_TASKRUN tells `submit` to ask for that work (GETEVENTS). Older kernels
        // get cooperative task work, or none.
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_taskrun_flag()
            .build(entries)
            .or_else(|_| IoUring::builder().setup_single_issuer().setup_coop_taskrun().build(entries))
            .or_else(|_| IoUring::new(entries))?;
        // io_uring_recvmsg_out header + name + payload.
        let bufs = BufRing::new(buffers, 16 + size_of::<libc::sockaddr_in6>() + max_datagram)?;
        // Safety: the mapping outlives the ring (field order); entries is a power of two.
        unsafe { ring.submitter().register_buf_ring_with_flags(bufs.ring as u64, bufs.entries, BGID, 0)? };
        // Safety: msghdr is plain old data; zero is valid.
        let mut recv_hdr: Box<libc::msghdr> = Box::new(unsafe { zeroed() });
        recv_hdr.msg_namelen = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        let sends = (0..out_slots)
            .map(|_| SendMeta {
                // Safety: msghdr and sockaddr_storage are plain old data; zero is valid.
                hdr: unsafe { zeroed() },
                iov: libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 },
                // Safety: as above.
                addr: unsafe { zeroed() },
                buf: None,
            })
            .collect();
        let cq = ring.params().cq_entries() as usize;
        let trains = (0..TRAINS).map(|_| GsoMsg::new()).collect();
        let free_trains = (0..TRAINS as u32).rev().collect();
        Ok(UringDriver { ring, bufs, recv_hdr, sends, trains, free_trains, cqes: Vec::with_capacity(cq), counters })
    }

    /// Queues one SQE, submitting first if the submission queue is full.
    fn push(&mut self, e: squeue::Entry) -> io::Result<()> {
        // Safety (both pushes): every pointer in our SQEs (msghdrs, iovecs, buffers) refers
        // to memory owned by this driver or the worker's pool that outlives the request.
        if unsafe { self.ring.submission().push(&e) }.is_ok() {
            return Ok(());
        }
        self.ring.submit()?;
        // Safety: as above.
        unsafe { self.ring.submission().push(&e) }.map_err(|_| io::Error::from(io::ErrorKind::WouldBlock))
    }

    /// Cancels every request on `fd`. Polls and multishot receives hold a reference to the
    /// file: they are cancelled (matched by fd, so submitted now, before the caller closes
    /// the fd), or the socket would stay open.
    fn cancel_fd(&mut self, fd: RawFd) {
        let e = opcode::AsyncCancel2::new(CancelBuilder::fd(Fd(fd)).all()).build().user_data(Token::Ignore.encode());
        if self.push(e).is_ok() {
            let _ = self.ring.submit();
        }
    }

    fn poll_multi(&mut self, fd: RawFd, token: Token) -> io::Result<()> {
        let e = opcode::PollAdd::new(Fd(fd), libc::POLLIN as u32).multi(true).build().user_data(token.encode());
        self.push(e)
    }

    fn recv_multi(&mut self, fd: RawFd, idx: u32) -> io::Result<()> {
        let hdr: *const libc::msghdr = &*self.recv_hdr;
        let e = opcode::RecvMsgMulti::new(Fd(fd), hdr, BGID).build().user_data(Token::Udp(idx).encode());
        self.push(e)
    }

    fn enter(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let r = match timeout {
            Some(d) if d.is_zero() => self.ring.submit(),
            Some(d) => {
                let ts = Timespec::from(d);
                self.ring.submitter().submit_with_args(1, &SubmitArgs::new().timespec(&ts))
            }
            None => self.ring.submit_and_wait(1),
        };
        match r {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Copies the available completions out of the ring (bounded by the CQ size).
    fn reap(&mut self) -> usize {
        self.cqes.clear();
        let cap = self.cqes.capacity();
        for cqe in self.ring.completion().take(cap) {
            self.cqes.push((cqe.user_data(), cqe.result(), cqe.flags()));
        }
        self.cqes.len()
    }

    fn on_udp<H: Handler>(&mut self, core: &mut Core<H>, idx: u32, res: i32, flags: u32, now: Instant) {
        if res < 0 {
            if res == -libc::ENOBUFS {
                bump(&self.counters.rx_drops, 1);
            }
        } else if let Some(bid) = cqueue::buffer_select(flags) {
            let buf = self.bufs.buffer(bid, res as usize);
            if let Ok(msg) = RecvMsgOut::parse(buf, &self.recv_hdr) {
                if let Some(src) = sys::from_bytes(msg.name_data()) {
                    core.datagram(now, idx, src, msg.payload_data());
                }
            }
            self.bufs.recycle(bid);
        }
        if !cqueue::more(flags) {
            // A closed run-time socket has no fd here any more: it is not re-armed.
            if let Some(fd) = core.recv_fd(idx) {
                let _ = self.recv_multi(fd, idx);
            }
        }
    }

    fn on_send_done(&mut self, slot: u32, res: i32, pool: &mut BufPool) {
        let Some(buf) = self.sends.get_mut(slot as usize).and_then(|m| m.buf.take()) else { return };
        if res < 0 {
            bump(&self.counters.send_errors, 1);
        } else {
            bump(&self.counters.tx_packets, 1);
            bump(&self.counters.tx_bytes, res as u64);
        }
        pool.release(buf);
    }

    fn on_train_done(&mut self, idx: u32, res: i32, pool: &mut BufPool) {
        let Some(t) = self.trains.get_mut(idx as usize) else { return };
        let n = t.bufs.len() as u64;
        if res < 0 {
            bump(&self.counters.send_errors, n);
        } else {
            bump(&self.counters.gso_trains, 1);
            bump(&self.counters.tx_packets, n);
            bump(&self.counters.tx_bytes, res as u64);
        }
        for buf in t.bufs.drain(..) {
            pool.release(buf);
        }
        self.free_trains.push(idx);
    }

    fn dispatch<H: Handler>(&mut self, core: &mut Core<H>, (data, res, flags): (u64, i32, u32), now: Instant) {
        let more = cqueue::more(flags);
        match Token::decode(data) {
            Token::Wake if !more => {
                let _ = self.poll_multi(core.waker.fd(), Token::Wake);
            }
            Token::Udp(i) => self.on_udp(core, i, res, flags, now),
            Token::Listen(i) => {
                core.accept(i, self);
                if !more {
                    if let Some(fd) = core.listeners.get(i as usize).map(|l| l.as_raw_fd()) {
                        let _ = self.poll_multi(fd, Token::Listen(i));
                    }
                }
            }
            Token::Conn { slot, generation } if res >= 0 => {
                core.conn_readable(slot, generation, now, self);
                if !more {
                    if let Some(fd) = core.tcp.fd_of(slot, generation) {
                        let _ = self.poll_multi(fd, Token::Conn { slot, generation });
                    }
                }
            }
            Token::ConnWrite { slot, generation } if res >= 0 => core.conn_writable(slot, generation, now, self),
            Token::UdpSend(slot) => self.on_send_done(slot, res, core.out.pool()),
            Token::UdpTrain(idx) => self.on_train_done(idx, res, core.out.pool()),
            _ => {}
        }
    }
}

impl Io for UringDriver {
    fn register_conn(&mut self, fd: RawFd, token: Token) -> io::Result<()> {
        self.poll_multi(fd, token)
    }

    fn want_write(&mut self, fd: RawFd, token: Token) {
        let Token::Conn { slot, generation } = token else { return };
        let e = opcode::PollAdd::new(Fd(fd), libc::POLLOUT as u32)
            .build()
            .user_data(Token::ConnWrite { slot, generation }.encode());
        if self.push(e).is_err() {
            bump(&self.counters.send_errors, 1);
        }
    }

    fn deregister_conn(&mut self, fd: RawFd, _token: Token) {
        self.cancel_fd(fd);
    }

    fn send_udp(&mut self, fd: RawFd, dst: SocketAddr, buf: BufId, pool: &mut BufPool) {
        let slot = buf.slot();
        let Some(m) = self.sends.get_mut(slot) else {
            pool.release(buf);
            return;
        };
        let bytes = pool.bytes(&buf);
        let (ss, len) = sys::to_raw(&dst);
        m.addr = ss;
        m.iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
        m.hdr.msg_name = (&mut m.addr as *mut libc::sockaddr_storage).cast();
        m.hdr.msg_namelen = len;
        m.hdr.msg_iov = &mut m.iov;
        m.hdr.msg_iovlen = 1;
        let hdr: *const libc::msghdr = &m.hdr;
        m.buf = Some(buf);
        let e = opcode::SendMsg::new(Fd(fd), hdr).build().user_data(Token::UdpSend(slot as u32).encode());
        if self.push(e).is_err() {
            self.on_send_done(slot as u32, -libc::EAGAIN, pool);
        }
    }

    fn send_udp_train(&mut self, batch: &mut GsoBatch, pool: &mut BufPool) {
        let Some((fd, dst, _)) = batch.key() else { return };
        let Some(idx) = self.free_trains.pop() else {
            // Every train header is in flight: send these datagrams one by one.
            for buf in batch.bufs.drain(..) {
                self.send_udp(fd, dst, buf, pool);
            }
            batch.reset();
            return;
        };
        let Some(t) = self.trains.get_mut(idx as usize) else { return };
        t.fill(batch, pool);
        let hdr: *const libc::msghdr = &t.hdr;
        let e = opcode::SendMsg::new(Fd(fd), hdr).build().user_data(Token::UdpTrain(idx).encode());
        if self.push(e).is_err() {
            self.on_train_done(idx, -libc::EAGAIN, pool);
        }
    }

    fn flush_udp(&mut self, _pool: &mut BufPool) {
        // Submissions are flushed by the io_uring_enter of the next wait: one per turn.
    }

    fn register_udp(&mut self, fd: RawFd, token: Token) -> io::Result<()> {
        let Token::Udp(idx) = token else { return Err(io::ErrorKind::InvalidInput.into()) };
        self.recv_multi(fd, idx)
    }

    fn deregister_udp(&mut self, fd: RawFd) {
        self.cancel_fd(fd);
    }
}

impl Driver for UringDriver {
    fn arm<H: Handler>(&mut self, core: &Core<H>) -> io::Result<()> {
        self.poll_multi(core.waker.fd(), Token::Wake)?;
        for (i, s) in core.udp.iter().enumerate() {
            self.recv_multi(s.as_raw_fd(), i as u32)?;
        }
        for (i, l) in core.listeners.iter().enumerate() {
            self.poll_multi(l.as_raw_fd(), Token::Listen(i as u32))?;
        }
        Ok(())
    }

    fn wait<H: Handler>(&mut self, core: &mut Core<H>, timeout: Option<Duration>) -> io::Result<()> {
        self.enter(timeout)?;
        for _ in 0..REAP_ROUNDS {
            if self.reap() == 0 {
                break;
            }
            let now = Instant::now();
            for k in 0..self.cqes.len() {
                if let Some(&c) = self.cqes.get(k) {
                    self.dispatch(core, c, now);
                }
            }
            self.bufs.publish();
            core.exec_ops(now, self);
        }
        Ok(())
    }
}

impl Drop for UringDriver {
    fn drop(&mut self) {
        // Cancel every request and give the cancellations a moment to complete, then take
        // the buffer ring away from the kernel before its memory is unmapped.
        let e = opcode::AsyncCancel2::new(CancelBuilder::any()).build().user_data(Token::Ignore.encode());
        if self.push(e).is_ok() {
            let _ = self.enter(Some(Duration::from_millis(50)));
            let _ = self.reap();
        }
        let _ = self.ring.submitter().unregister_buf_ring(BGID);
    }
}
