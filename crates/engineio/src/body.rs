//! The input both payload decoders share (revision 3's `PayloadDecoder` and
//! [`crate::v4::PayloadDecoder`]): one polling body, bounded as a whole by
//! [`crate::Limits::max_payload_bytes`], as engine.io's `maxHttpBufferSize` bounds it.

use bytes::{Bytes, BytesMut};

use crate::error::FeedError;

/// A body being fed: the bytes not yet decoded and what the bound needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Body {
    /// Bytes fed and not yet consumed by the decoder.
    pub(crate) buf: BytesMut,
    /// Bytes of the body accepted so far (never above the limit).
    pub(crate) fed: usize,
    /// A feed was refused: the body is over the limit and can no longer be complete.
    pub(crate) overflow: bool,
    /// `feed_eof` was called.
    pub(crate) eof: bool,
}

impl Body {
    /// Appends `data` (copied) within `limit`; `keep: false` counts it but drops it (the
    /// decoder failed and will decode nothing more).
    pub(crate) fn feed(&mut self, data: &[u8], limit: usize, keep: bool) -> Result<(), FeedError> {
        if self.admit(data.len(), limit)? && keep {
            self.buf.extend_from_slice(data);
        }
        Ok(())
    }

    /// Appends an owned chunk within `limit`, without a copy when nothing is buffered and the
    /// chunk is not shared.
    pub(crate) fn feed_bytes(
        &mut self,
        data: Bytes,
        limit: usize,
        keep: bool,
    ) -> Result<(), FeedError> {
        if self.admit(data.len(), limit)? && keep {
            if self.buf.is_empty() {
                self.buf = BytesMut::from(data);
            } else {
                self.buf.extend_from_slice(&data);
            }
        }
        Ok(())
    }

    /// Checks `len` more bytes against the bound and counts them; `Ok(false)` for an empty
    /// feed. A refused feed takes nothing, and every later one is refused too.
    fn admit(&mut self, len: usize, limit: usize) -> Result<bool, FeedError> {
        if self.eof {
            return Err(FeedError::AfterEof);
        }
        if len == 0 {
            return Ok(false);
        }
        // `fed <= limit` always holds: only accepted bytes are counted.
        if self.overflow || len > limit - self.fed {
            self.overflow = true;
            return Err(FeedError::BufferFull {
                buffered: self.fed,
                len,
                limit,
            });
        }
        self.fed += len;
        Ok(true)
    }
}
