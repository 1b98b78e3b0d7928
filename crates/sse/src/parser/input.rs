//! The input queue: bytes fed but not yet parsed, bounded by
//! [`Limits::max_buffered_input`](crate::Limits::max_buffered_input).
//!
//! Borrowed feeds are copied into `buf`; an owned chunk waits in `owned`, after `buf`, and is
//! parsed where it lies without a copy.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::FeedError;

/// Unprocessed input: `buf` then `owned`, and whether the end of the stream was fed.
pub(super) struct Input {
    /// Unprocessed input from [`Parser::feed`](crate::Parser::feed), before `owned`.
    pub(super) buf: BytesMut,
    /// Unprocessed input from [`Parser::feed_bytes`](crate::Parser::feed_bytes), logically
    /// after `buf`.
    pub(super) owned: Bytes,
    /// [`Parser::feed_eof`](crate::Parser::feed_eof) was called.
    pub(super) eof: bool,
}

impl Input {
    /// Empty. Allocates nothing.
    pub(super) fn new() -> Input {
        Input {
            buf: BytesMut::new(),
            owned: Bytes::new(),
            eof: false,
        }
    }

    /// Bytes fed but not yet parsed.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.buf.len() + self.owned.len()
    }

    /// Refuses `len` more bytes after the end of the stream, or beyond `limit` buffered.
    fn check(&self, len: usize, limit: usize) -> Result<(), FeedError> {
        if self.eof {
            return Err(FeedError::AfterEof);
        }
        let buffered = self.len();
        if len > limit.saturating_sub(buffered) {
            return Err(FeedError::BufferFull {
                buffered,
                len,
                limit,
            });
        }
        Ok(())
    }

    /// Appends a copy of `bytes`, or refuses them and changes nothing.
    pub(super) fn push_slice(&mut self, bytes: &[u8], limit: usize) -> Result<(), FeedError> {
        self.check(bytes.len(), limit)?;
        if bytes.is_empty() {
            return Ok(());
        }
        if !self.owned.is_empty() {
            // Keep the order: what is in `owned` comes before the new bytes.
            self.buf.extend_from_slice(&self.owned);
            self.owned = Bytes::new();
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Appends `bytes` without copying them (an earlier owned chunk still unparsed is copied
    /// into `buf` first), or refuses them and changes nothing.
    pub(super) fn push_bytes(&mut self, bytes: Bytes, limit: usize) -> Result<(), FeedError> {
        self.check(bytes.len(), limit)?;
        if bytes.is_empty() {
            return Ok(());
        }
        if !self.owned.is_empty() {
            self.buf.extend_from_slice(&self.owned);
        }
        self.owned = bytes;
        Ok(())
    }

    /// Drops the first `n` bytes of `buf` (`in_buf`) or of `owned`.
    #[inline]
    pub(super) fn consume(&mut self, in_buf: bool, n: usize) {
        if in_buf {
            self.buf.advance(n);
        } else {
            self.owned.advance(n);
        }
    }

    /// Drops everything buffered and frees the buffers.
    pub(super) fn clear(&mut self) {
        self.buf = BytesMut::new();
        self.owned = Bytes::new();
    }
}
