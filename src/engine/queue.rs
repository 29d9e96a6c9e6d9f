//! Bounded lock-free queues between the control thread and the workers, with eventfd
//! wake-ups.
//!
//! Each queue is a `crossbeam_queue::ArrayQueue` (fixed capacity, never grows). The consumer
//! owns a [`Waker`]: an eventfd plus a `sleeping` flag. Before it blocks, the consumer raises
//! the flag and re-checks its queues; a producer that finds the flag raised after a push
//! clears it and writes the eventfd. The eventfd is therefore written only when the consumer
//! is (about to be) asleep, not once per item.
//!
//! Commands flow control -> worker (one queue and one waker per worker); events flow
//! worker -> control (one queue per worker, one waker shared by all, so the control thread
//! waits on a single fd).

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;

/// A non-blocking, close-on-exec eventfd.
#[derive(Debug)]
pub struct EventFd {
    fd: OwnedFd,
}

impl EventFd {
    /// Creates a new eventfd with counter 0.
    pub fn new() -> io::Result<EventFd> {
        // Safety: eventfd(2) has no memory arguments; the result is checked before use.
        let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // Safety: `raw` is a fresh, valid fd that nothing else owns.
        Ok(EventFd { fd: unsafe { OwnedFd::from_raw_fd(raw) } })
    }

    /// Adds 1 to the counter, making the fd readable.
    pub fn notify(&self) {
        let one: u64 = 1;
        // Safety: writes 8 bytes from a valid local u64 to our own fd. EAGAIN (counter at
        // its maximum) still leaves the fd readable, so the result can be ignored.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Resets the counter to 0 (the fd stops being readable).
    pub fn drain(&self) {
        let mut v: u64 = 0;
        // Safety: reads at most 8 bytes into a valid local u64; EAGAIN means already 0.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
    }

    /// Blocks until the fd is readable or `timeout` passes (`None`: forever).
    pub fn wait(&self, timeout: Option<Duration>) {
        let ms = match timeout {
            None => -1,
            Some(d) => d.as_millis().min(i32::MAX as u128) as i32,
        };
        let mut pfd = libc::pollfd { fd: self.fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // Safety: one valid pollfd on the stack, count 1.
        unsafe { libc::poll(&mut pfd, 1, ms) };
    }
}

impl AsRawFd for EventFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for EventFd {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The consumer side's wake-up: an eventfd, a flag saying the consumer may sleep and a
/// flag saying the eventfd was written since the consumer last drained it (so a turn
/// that nobody woke costs no read).
#[derive(Debug)]
pub struct Waker {
    efd: EventFd,
    sleeping: AtomicBool,
    written: AtomicBool,
}

impl Waker {
    /// Creates a waker with a fresh eventfd.
    pub fn new() -> io::Result<Waker> {
        Ok(Waker { efd: EventFd::new()?, sleeping: AtomicBool::new(false), written: AtomicBool::new(false) })
    }

    /// The eventfd the consumer polls.
    pub fn fd(&self) -> RawFd {
        self.efd.as_raw_fd()
    }

    /// Producer side: wakes the consumer if it announced it may sleep.
    pub fn wake(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst) {
            self.notify();
        }
    }

    /// Wakes the consumer unconditionally (shutdown).
    pub fn force_wake(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
        self.notify();
    }

    /// Writes the eventfd, then records it: a consumer that sees `written` drains a
    /// counter that already holds this write (one that misses it drains next turn).
    fn notify(&self) {
        self.efd.notify();
        self.written.store(true, Ordering::SeqCst);
    }

    /// Consumer side: announce sleep. The caller must re-check its queues after this and
    /// skip sleeping if any is non-empty.
    pub fn prepare_sleep(&self) {
        self.sleeping.store(true, Ordering::SeqCst);
    }

    /// Consumer side: after waking (or deciding not to sleep), clear the flag. The
    /// eventfd is not read: the worker (io_uring multishot poll, mio's epoll) and the
    /// control thread (mio's epoll) wait for it edge-triggered, where every write is a
    /// wake-up of its own whatever the counter holds, so resetting the counter would only
    /// cost a system call per wake-up (the 64-bit counter cannot fill).
    pub fn finish_sleep(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
    }

    /// [`Waker::finish_sleep`] for a consumer that waits with a level-triggered poll
    /// ([`EventReceiver::recv_timeout`]): the counter is reset when it was written, or the
    /// next poll would return at once.
    pub fn finish_sleep_level(&self) {
        self.sleeping.store(false, Ordering::SeqCst);
        if self.written.swap(false, Ordering::SeqCst) {
            self.efd.drain();
        }
    }

    pub(crate) fn eventfd(&self) -> &EventFd {
        &self.efd
    }
}

/// One bounded queue plus the consumer's waker and a full counter.
struct Chan<T> {
    q: ArrayQueue<T>,
    waker: Arc<Waker>,
    full: AtomicU64,
}

/// Producer handle of a bounded queue. Cloneable; `send` never blocks and never grows.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender { chan: self.chan.clone() }
    }
}

impl<T> Sender<T> {
    /// Enqueues `item`, waking the consumer if it sleeps. A full queue hands the item back
    /// and bumps [`Sender::full_count`].
    pub fn send(&self, item: T) -> Result<(), T> {
        match self.chan.q.push(item) {
            Ok(()) => {
                self.chan.waker.wake();
                Ok(())
            }
            Err(item) => {
                self.chan.full.fetch_add(1, Ordering::Relaxed);
                Err(item)
            }
        }
    }

    /// Enqueues `item` without waking the consumer: the producer calls [`Sender::wake`]
    /// once after a batch (one eventfd write per batch instead of one per sleep the
    /// consumer starts between two items). A full queue hands the item back.
    pub fn send_batched(&self, item: T) -> Result<(), T> {
        self.chan.q.push(item).inspect_err(|_| {
            self.chan.full.fetch_add(1, Ordering::Relaxed);
        })
    }

    /// Wakes the consumer if it sleeps (the end of a [`Sender::send_batched`] batch).
    pub fn wake(&self) {
        self.chan.waker.wake();
    }

    /// How many `send` calls found the queue full.
    pub fn full_count(&self) -> u64 {
        self.chan.full.load(Ordering::Relaxed)
    }

    /// Items currently queued.
    pub fn len(&self) -> usize {
        self.chan.q.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.chan.q.is_empty()
    }
}

/// Consumer handle of one bounded queue (not cloneable: single consumer).
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// Takes the oldest item, if any.
    pub fn try_recv(&self) -> Option<T> {
        self.chan.q.pop()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.chan.q.is_empty()
    }

    /// The capacity of the queue.
    pub fn capacity(&self) -> usize {
        self.chan.q.capacity()
    }
}

/// Creates a bounded queue of `capacity` (at least 1) whose consumer is woken via `waker`.
pub fn channel<T>(capacity: usize, waker: Arc<Waker>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan { q: ArrayQueue::new(capacity.max(1)), waker, full: AtomicU64::new(0) });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// The control thread's side of all worker event queues: one waker (one fd) for all.
pub struct EventReceiver<E> {
    queues: Vec<Receiver<E>>,
    waker: Arc<Waker>,
    next: usize,
}

impl<E> EventReceiver<E> {
    pub(crate) fn new(queues: Vec<Receiver<E>>, waker: Arc<Waker>) -> EventReceiver<E> {
        EventReceiver { queues, waker, next: 0 }
    }

    /// Takes one event (round-robin over workers): `(worker index, event)`.
    pub fn try_recv(&mut self) -> Option<(usize, E)> {
        let n = self.queues.len();
        for k in 0..n {
            let w = (self.next + k) % n;
            if let Some(ev) = self.queues.get(w).and_then(|q| q.try_recv()) {
                self.next = (w + 1) % n;
                return Some((w, ev));
            }
        }
        None
    }

    /// Blocks up to `timeout` for one event.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Option<(usize, E)> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(ev) = self.try_recv() {
                return Some(ev);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            if self.prepare_wait() {
                self.waker.eventfd().wait(Some(deadline - now));
            }
            self.waker.finish_sleep_level();
        }
    }

    /// For callers polling [`EventReceiver::fd`] in their own loop: announce the wait.
    /// Returns false if events are already queued (do not block then). After the fd fires
    /// (or the wait is skipped) call [`EventReceiver::finish_wait`].
    pub fn prepare_wait(&self) -> bool {
        self.waker.prepare_sleep();
        self.queues.iter().all(|q| q.is_empty())
    }

    /// Clears the wait flag (the caller's poll is edge-triggered, see [`Waker::finish_sleep`]).
    pub fn finish_wait(&self) {
        self.waker.finish_sleep();
    }

    /// The single eventfd that becomes readable when events arrive during a wait.
    pub fn fd(&self) -> RawFd {
        self.waker.fd()
    }
}
