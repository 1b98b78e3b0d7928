//! [`Transmit`]: a connection's queued output as one [`bytes::Buf`].

use alloc::collections::VecDeque;

use bytes::{Buf, Bytes};

/// The bytes a connection queued for writing, taken with
/// [`Connection::take_transmit`](crate::Connection::take_transmit): a [`Buf`] over its chunks,
/// in order, none of them copied.
///
/// Write it with a vectored write: fill the `IoSlice`s with [`Buf::chunks_vectored`] and
/// [`Buf::advance`] by what was written, until [`Buf::has_remaining`] is false (tokio's
/// `AsyncWriteExt::write_all_buf` does exactly that).
///
/// ```
/// use bytes::Buf;
/// use pushwire_ws::{Config, Connection};
///
/// let mut conn = Connection::server(Config::DEFAULT);
/// conn.send_text("hello").unwrap();
/// conn.send_binary(vec![7u8; 4096]).unwrap();
/// let mut out = conn.take_transmit();
/// let mut written = Vec::new();
/// while out.has_remaining() {
///     let mut slices = [std::io::IoSlice::new(&[]); 8];
///     let n = out.chunks_vectored(&mut slices);
///     // A real transport may write less than offered; advance by what it wrote.
///     let wrote: usize = slices[..n].iter().map(|s| s.len()).sum();
///     for s in &slices[..n] {
///         written.extend_from_slice(s);
///     }
///     out.advance(wrote);
/// }
/// assert_eq!(written.len(), 7 + 4 + 4096);
/// assert_eq!(conn.buffered_output(), 0);
/// ```
#[derive(Debug, Default)]
pub struct Transmit {
    /// Chunks before `queue` (the rest of a frame already begun, a pong), filled in order.
    front: [Bytes; 2],
    queue: VecDeque<Bytes>,
    /// The chunk after `queue`.
    back: Bytes,
    remaining: usize,
}

impl Transmit {
    /// Appends a chunk (in the order the connection hands them out).
    pub(crate) fn push(&mut self, chunk: Bytes) {
        self.remaining += chunk.len();
        if self.queue.is_empty() && self.back.is_empty() {
            if let Some(slot) = self.front.iter_mut().find(|b| b.is_empty()) {
                *slot = chunk;
                return;
            }
        }
        debug_assert!(self.back.is_empty());
        self.back = chunk;
    }

    /// Appends a queue of chunks (before any chunk pushed after it).
    pub(crate) fn append(&mut self, queue: VecDeque<Bytes>) {
        debug_assert!(self.queue.is_empty() && self.back.is_empty());
        self.remaining += queue.iter().map(Bytes::len).sum::<usize>();
        self.queue = queue;
    }

    /// Whether nothing is left to write.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    /// The chunks left, in order.
    fn chunks(&self) -> impl Iterator<Item = &Bytes> {
        self.front
            .iter()
            .chain(self.queue.iter())
            .chain(core::iter::once(&self.back))
            .filter(|b| !b.is_empty())
    }
}

impl Buf for Transmit {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.chunks().next().map_or(&[], |b| &b[..])
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(
            cnt <= self.remaining,
            "advance({cnt}) past the {} bytes remaining",
            self.remaining
        );
        self.remaining -= cnt;
        for slot in &mut self.front {
            if cnt < slot.len() {
                slot.advance(cnt);
                return;
            }
            cnt -= slot.len();
            *slot = Bytes::new();
        }
        while let Some(first) = self.queue.front_mut() {
            if cnt < first.len() {
                first.advance(cnt);
                return;
            }
            cnt -= first.len();
            self.queue.pop_front();
        }
        self.back.advance(cnt);
    }

    #[cfg(feature = "std")]
    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in dst.iter_mut().zip(self.chunks()) {
            *slot = std::io::IoSlice::new(chunk);
            n += 1;
        }
        n
    }
}
