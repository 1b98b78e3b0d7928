//! Reading straight into the input buffer: [`Connection::read_room`] lends the free room at
//! the end of the input, the transport writes into it, [`Connection::commit_read`] gives it
//! back. No copy (unlike [`Connection::feed`]), and reads sized by the frame being received,
//! so that a large frame ends where its buffer ends and is never moved to make room.

use bytes::buf::Limit;
use bytes::{BufMut, BytesMut};

use super::Connection;
use crate::error::FeedError;
use crate::frame::{FrameHeader, HeaderDecode};

/// A frame at least this long (header and payload), or a quarter of the read size if that is
/// less, is read up to its last byte and no further, so that it ends at the end of its buffer:
/// when its payload is split off, the next read starts in a fresh buffer and nothing of a
/// following frame has to be moved. Shorter frames are read in full-size reads: copying a
/// partial short frame costs less than the extra read system call that stopping at its end
/// would.
const READ_TO_FRAME_END: usize = 16 * 1024;

/// A read of at most this many bytes into a fresh buffer is copied into a buffer of its own
/// size when it is given back, so that a short message the application keeps holds a few
/// bytes rather than the whole read buffer (as with [`Connection::feed`]'s copy).
const SHORT_READ: usize = 4096;

/// Free room at the end of a connection's input buffer, lent by
/// [`Connection::read_room`] for a read straight into it, and given back with
/// [`Connection::commit_read`]. It owns its part of the buffer, so the bytes already fed
/// cannot be touched through it, and dropping it without committing loses nothing already
/// fed (only what was read into it).
#[derive(Debug)]
pub struct ReadRoom {
    buf: BytesMut,
    max: usize,
}

impl ReadRoom {
    /// The room as a [`BufMut`] that takes at most [`remaining`](Self::remaining) more bytes:
    /// read into it (tokio-util's `poll_read_buf`, or `put_slice` of bytes read elsewhere).
    pub fn buf_mut(&mut self) -> Limit<&mut BytesMut> {
        let rest = self.remaining();
        (&mut self.buf).limit(rest)
    }

    /// Bytes read into the room so far.
    pub fn filled(&self) -> usize {
        self.buf.len()
    }

    /// Bytes the room still takes: the read size the connection asked for.
    pub fn remaining(&self) -> usize {
        self.max - self.buf.len()
    }
}

impl Connection {
    /// Lends the free room at the end of the input buffer for one read straight into it,
    /// instead of reading into a buffer of your own and copying it in with
    /// [`feed`](Self::feed). Read into [`ReadRoom::buf_mut`], then give the room back with
    /// [`commit_read`](Self::commit_read) and poll. Call after [`poll_event`](Self::poll_event)
    /// returned `Ok(None)`.
    ///
    /// The room takes at most `read_size` bytes (at least 1), fewer when the frame being
    /// received is large and needs fewer to end (so that it ends at the end of its buffer),
    /// and never more than the input limit allows. The one exception: into an empty input
    /// buffer, after a large frame, a read takes a whole frame as long as that one (up to four
    /// read sizes), until a read begins with a short frame. Refused like [`feed`](Self::feed): with
    /// [`FeedError::BufferFull`] when the input is at its limit (poll first), with
    /// [`FeedError::AfterEof`] after [`feed_eof`](Self::feed_eof).
    pub fn read_room(&mut self, read_size: usize) -> Result<ReadRoom, FeedError> {
        if self.eof {
            return Err(FeedError::AfterEof);
        }
        self.settle();
        let read_size = read_size.max(1);
        let buffered = self.input.len();
        let limit = self.config.limits().effective_max_buffered_input();
        let room = limit.saturating_sub(buffered);
        if room == 0 {
            return Err(FeedError::BufferFull {
                buffered,
                len: read_size,
                limit,
            });
        }
        if buffered == 0 {
            // A fresh buffer: one read for a whole frame as long as the last one, if that was
            // large, with room beyond the read for the end of a large frame that this read
            // will start (so that it needs no second buffer).
            let max = read_size
                .max(usize::from(self.config.read_hint) * 16)
                .min(room);
            let mut buf = core::mem::take(&mut self.input);
            if buf.capacity() < max {
                buf = BytesMut::with_capacity(max.saturating_add(max / 2).min(room));
            }
            return Ok(ReadRoom { buf, max });
        }
        let large = READ_TO_FRAME_END.min(read_size / 4);
        let (hint, max) = match self.head_frame_missing() {
            // Never more than one read's worth: a declared length alone allocates nothing.
            // The hint is remembered up to a few reads' worth (and 1 MiB): a peer's one huge
            // frame does not make every later read allocate that much.
            Some((total, missing)) if total >= large => (
                total.min(read_size.saturating_mul(4)).div_ceil(16),
                missing.min(read_size),
            ),
            _ => (0, read_size),
        };
        self.config.read_hint = u16::try_from(hint).unwrap_or(u16::MAX);
        let max = max.min(room);
        if self.input.capacity() - buffered < max {
            self.input.reserve(max);
        }
        let buf = self.input.split_off(buffered);
        Ok(ReadRoom { buf, max })
    }

    /// Gives back the room lent by [`read_room`](Self::read_room), with the bytes read into it
    /// appended to the input (no copy when nothing else was fed meanwhile). Then call
    /// [`poll_event`](Self::poll_event). Refused only with [`FeedError::AfterEof`] after
    /// [`feed_eof`](Self::feed_eof) (the bytes are dropped, as a feed then would be), or with
    /// [`FeedError::BufferFull`] if more was fed meanwhile than the limit then allowed (the
    /// room is dropped and nothing already fed is lost).
    pub fn commit_read(&mut self, room: ReadRoom) -> Result<(), FeedError> {
        let ReadRoom { buf, .. } = room;
        if buf.is_empty() {
            return Ok(());
        }
        self.check_feed(buf.len())?;
        self.settle();
        if !self.accepts_input() {
            return Ok(());
        }
        if self.input.is_empty() && buf.len() <= SHORT_READ && buf.capacity() > 2 * buf.len() {
            // A short read into a fresh buffer: copied into its own size (see `SHORT_READ`).
            self.input = BytesMut::from(&buf[..]);
        } else {
            self.input.unsplit(buf);
        }
        if self.config.read_hint != 0
            && self
                .head_frame()
                .is_some_and(|(_, total)| total < READ_TO_FRAME_END)
        {
            // A read began with a short frame: forget the last large one.
            self.config.read_hint = 0;
        }
        Ok(())
    }

    /// The frame at the head of the input, once its header is complete: its payload length and
    /// its whole length (header and payload).
    fn head_frame(&self) -> Option<(u64, usize)> {
        let HeaderDecode::Complete { header, header_len } =
            FrameHeader::decode(&self.input, self.config.require_minimal_length).ok()?
        else {
            return None;
        };
        let total = header_len.checked_add(usize::try_from(header.payload_len).ok()?)?;
        Some((header.payload_len, total))
    }

    /// The frame at the head of the input, if its header is complete and the frame is not:
    /// its whole length and the bytes it still needs. `None` for a frame the limits refuse
    /// (polling reports that).
    fn head_frame_missing(&self) -> Option<(usize, usize)> {
        let (payload_len, total) = self.head_frame()?;
        if payload_len > self.config.max_frame_size {
            return None;
        }
        let missing = total.checked_sub(self.input.len()).filter(|&m| m > 0)?;
        Some((total, missing))
    }
}
