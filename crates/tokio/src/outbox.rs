//! [`Outbox`]: output taken from the codec and not yet written, written vectored.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use pushwire_ws::Transmit;
use tokio::io::AsyncWrite;

/// Output taken from the codec, not yet written, in order.
#[derive(Default)]
pub(crate) struct Outbox {
    out: VecDeque<Transmit>,
    len: usize,
}

impl Outbox {
    /// Bytes not yet written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends one codec output (written whole, after everything before it).
    pub(crate) fn push(&mut self, t: Transmit) {
        if t.has_remaining() {
            self.len += t.remaining();
            self.out.push_back(t);
        }
    }

    /// Writes (vectored) until at most `keep` bytes are left.
    pub(crate) fn poll_write<W: AsyncWrite + Unpin>(
        &mut self,
        io: &mut W,
        cx: &mut Context<'_>,
        keep: usize,
    ) -> Poll<io::Result<()>> {
        while self.len > keep {
            let Some(front) = self.out.front_mut() else {
                break;
            };
            if !front.has_remaining() {
                self.out.pop_front();
                continue;
            }
            let mut slices = [IoSlice::new(&[]); 64];
            let n = front.chunks_vectored(&mut slices);
            let written = ready!(Pin::new(&mut *io).poll_write_vectored(cx, &slices[..n]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            front.advance(written);
            self.len -= written;
        }
        Poll::Ready(Ok(()))
    }
}
