//! Bounds-checked byte reader and writer shared by every SMS decoder and encoder: the only
//! place that touches raw indices, so no decoder can index out of bounds.

use super::error::Error;

/// A reader over untrusted bytes; every read checks the remaining length.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        let (&b, rest) = self.buf.split_first().ok_or(Error::Truncated)?;
        self.buf = rest;
        Ok(b)
    }

    /// The next byte without consuming it.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.first().copied()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.buf.len() {
            return Err(Error::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// A writer into a caller buffer; every write checks the remaining room.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.pos
    }

    pub(crate) fn u8(&mut self, b: u8) -> Result<(), Error> {
        self.bytes(&[b])
    }

    pub(crate) fn bytes(&mut self, src: &[u8]) -> Result<(), Error> {
        let dst = self
            .buf
            .get_mut(self.pos..)
            .and_then(|rest| rest.get_mut(..src.len()))
            .ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(src);
        self.pos += src.len();
        Ok(())
    }

    /// Reserves `n` zeroed bytes and returns them for in-place filling.
    pub(crate) fn reserve(&mut self, n: usize) -> Result<&mut [u8], Error> {
        let start = self.pos;
        let dst = self
            .buf
            .get_mut(start..)
            .and_then(|rest| rest.get_mut(..n))
            .ok_or(Error::BufferTooSmall)?;
        dst.fill(0);
        self.pos += n;
        Ok(dst)
    }
}
