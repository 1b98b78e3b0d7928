//! The send path: messages in, bytes to write out.

use alloc::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};

use super::{pong_frame_len, Connection, ConnectionState, Role, COALESCE_MAX};
use crate::close::CloseFrame;
use crate::error::SendError;
use crate::event::Utf8Bytes;
use crate::extension::MessageKind;
use crate::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::mask::apply_mask;
use crate::transmit::Transmit;
use crate::utf8::Utf8Validator;

impl Connection {
    /// Queues a text message (one frame, or transformed by the extension). Then drain
    /// [`poll_transmit`](Self::poll_transmit).
    pub fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<(), SendError> {
        self.send_message(MessageKind::Text, text.into().into_bytes())
    }

    /// Queues a binary message. Then drain [`poll_transmit`](Self::poll_transmit).
    pub fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_message(MessageKind::Binary, data.into())
    }

    /// Encodes a text message straight into `out`, the transport's own write buffer (a
    /// `Vec<u8>` or `BytesMut` that grows; a fixed-size `BufMut` panics when full, as
    /// [`BufMut::put_slice`] does). Anything already queued is moved into `out` first, so the
    /// order of frames holds. No allocation and no reference counting: the way to send many
    /// small messages. Same checks as [`send_text`](Self::send_text);
    /// [`Limits::max_buffered_output`](crate::Limits::max_buffered_output) does not apply (the bytes are in the caller's buffer).
    /// With a negotiated extension the message goes through it (and the queue) as usual.
    pub fn send_text_to<B: BufMut>(&mut self, out: &mut B, text: &str) -> Result<(), SendError> {
        self.send_to(out, MessageKind::Text, text.as_bytes())
    }

    /// Encodes a binary message straight into `out`; see [`send_text_to`](Self::send_text_to).
    pub fn send_binary_to<B: BufMut>(&mut self, out: &mut B, data: &[u8]) -> Result<(), SendError> {
        self.send_to(out, MessageKind::Binary, data)
    }

    fn send_to<B: BufMut>(
        &mut self,
        out: &mut B,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), SendError> {
        let extension = self.cold.as_ref().is_some_and(|c| c.extension.is_some());
        if extension {
            self.send_message(kind, Bytes::copy_from_slice(data))?;
        } else {
            self.check_open()?;
            if self.sending().is_some() {
                return Err(SendError::MessageInProgress);
            }
        }
        if self.buffered_output() != 0 {
            while let Some(chunk) = self.poll_transmit() {
                out.put_slice(&chunk);
            }
        }
        if extension {
            return Ok(());
        }
        let mask = self.next_mask();
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: kind.opcode(),
            mask,
            payload_len: data.len() as u64,
        };
        let mut hbuf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut hbuf);
        out.put_slice(&hbuf[..n]);
        match mask {
            None => out.put_slice(data),
            Some(key) => {
                // The caller's data is not ours to modify: mask it through a stack block. The
                // block size is a multiple of 4, so every block starts at key offset 0.
                let mut block = [0u8; 256];
                for piece in data.chunks(block.len()) {
                    let b = &mut block[..piece.len()];
                    b.copy_from_slice(piece);
                    apply_mask(b, key, 0);
                    out.put_slice(b);
                }
            }
        }
        Ok(())
    }

    /// Queues a whole message split into frames of at most `frame_size` bytes (at least one
    /// frame; `frame_size` 0 is treated as 1). Text may be split inside a code point, as the
    /// protocol allows. With a negotiated extension the whole message is encoded first (e.g.
    /// compressed) and the result split; its RSV bits go on the first frame only.
    pub fn send_fragmented(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        frame_size: usize,
    ) -> Result<(), SendError> {
        let data = data.into();
        let frames = data.len() / frame_size.max(1) + 1;
        self.check_data_send(
            data.len()
                .saturating_add(frames.saturating_mul(MAX_HEADER_LEN)),
        )?;
        if self.sending().is_some() {
            return Err(SendError::MessageInProgress);
        }
        if kind == MessageKind::Text && !crate::utf8::is_utf8(&data) {
            return Err(SendError::InvalidUtf8);
        }
        let (mut rsv, data) = match self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
            Some(ext) => ext
                .encode(kind, data)
                .map_err(|e| SendError::Extension(e.reason))?,
            None => (0, data),
        };
        let step = frame_size.max(1);
        let mut off = 0;
        let mut op = kind.opcode();
        loop {
            let end = (off + step).min(data.len());
            let fin = end == data.len();
            // "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
            // non-first fragments of a data message." (RFC 7692 §6.1)
            self.queue_frame(op, fin, rsv, data.slice(off..end));
            rsv = 0;
            op = OpCode::Continuation;
            off = end;
            if fin {
                return Ok(());
            }
        }
    }

    /// Queues one fragment of a message being streamed: the first call for a message sets
    /// its kind, the one with `fin` ends it. Text is UTF-8 checked across fragments. Control
    /// frames may be sent between fragments; whole messages may not. With a negotiated
    /// extension each fragment goes through [`Extension::encode_fragment`](crate::Extension::encode_fragment) (permessage-deflate
    /// compresses the streamed message, RSV1 on its first frame only).
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: impl Into<Bytes>,
        fin: bool,
    ) -> Result<(), SendError> {
        let data = data.into();
        self.check_data_send(data.len() + MAX_HEADER_LEN)?;
        let (op, mut validator) = match self.sending() {
            Some((k, _)) if k != kind => return Err(SendError::MessageInProgress),
            Some((_, v)) => (OpCode::Continuation, v),
            None => (kind.opcode(), Utf8Validator::new()),
        };
        if kind == MessageKind::Text {
            validator.feed(&data).map_err(|_| SendError::InvalidUtf8)?;
            if fin {
                validator.finish().map_err(|_| SendError::InvalidUtf8)?;
            }
        }
        let first = op != OpCode::Continuation;
        let (rsv, data) = match self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
            Some(ext) => ext
                .encode_fragment(kind, data, first, fin)
                .map_err(|e| SendError::Extension(e.reason))?,
            None => (0, data),
        };
        // "An endpoint MUST NOT set the "Per-Message Compressed" bit of control frames and
        // non-first fragments of a data message." (RFC 7692 §6.1)
        let rsv = if first { rsv } else { 0 };
        if fin {
            if let Some(c) = self.cold.as_mut() {
                c.sending = None;
            }
        } else {
            self.cold_mut().sending = Some((kind, validator));
        }
        self.queue_frame(op, fin, rsv, data);
        self.release_cold();
        Ok(())
    }

    /// Queues a ping (payload ≤ 125 bytes). Then drain [`poll_transmit`](Self::poll_transmit).
    pub fn send_ping(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, data.into())
    }

    /// Queues an unsolicited pong or, with `auto_pong` off, a reply (payload ≤ 125 bytes).
    /// Allowed after our Close was sent (a ping received before the peer's Close still needs
    /// its answer), refused once the peer's Close arrived.
    pub fn send_pong(&mut self, data: impl Into<Bytes>) -> Result<(), SendError> {
        let data = data.into();
        if self.state == ConnectionState::CloseSent && data.len() <= 125 {
            self.check_room(data.len() + MAX_HEADER_LEN)?;
            self.queue_frame(OpCode::Pong, true, 0, data);
            return Ok(());
        }
        self.send_control(OpCode::Pong, data)
    }

    /// Starts the closing handshake: queues a Close frame with `code` and `reason` (see
    /// [`CloseFrame::new`]). Received data messages are dropped from now on; keep calling
    /// [`poll_event`](Self::poll_event) until [`Event::Close`](crate::Event::Close) (the peer's reply).
    pub fn send_close(&mut self, code: u16, reason: &str) -> Result<(), SendError> {
        let frame = CloseFrame::new(code, reason).map_err(SendError::InvalidClose)?;
        self.check_open()?;
        if !self.claim_close() {
            // The receiving half of a split connection answered (or failed) first.
            return Err(SendError::Closing);
        }
        self.queue_frame(OpCode::Close, true, 0, frame.to_payload());
        self.state = ConnectionState::CloseSent;
        Ok(())
    }

    fn check_open(&self) -> Result<(), SendError> {
        match self.state {
            ConnectionState::Open => {}
            ConnectionState::Failed => return Err(SendError::Failed),
            ConnectionState::CloseSent | ConnectionState::Closed => return Err(SendError::Closing),
        }
        Ok(())
    }

    fn check_room(&self, len: usize) -> Result<(), SendError> {
        let buffered = self.buffered_output();
        if buffered.saturating_add(len) > self.config.max_buffered_output {
            return Err(SendError::OutputFull {
                buffered,
                len,
                limit: self.config.max_buffered_output,
            });
        }
        Ok(())
    }

    fn check_data_send(&self, len: usize) -> Result<(), SendError> {
        self.check_open()?;
        self.check_room(len)
    }

    fn send_control(&mut self, op: OpCode, data: Bytes) -> Result<(), SendError> {
        if data.len() > 125 {
            return Err(SendError::ControlTooLong {
                len: data.len(),
                limit: 125,
            });
        }
        self.check_open()?;
        self.check_room(data.len() + MAX_HEADER_LEN)?;
        self.queue_frame(op, true, 0, data);
        Ok(())
    }

    #[inline]
    fn send_message(&mut self, kind: MessageKind, data: Bytes) -> Result<(), SendError> {
        // The common case on a fast path: a short message from an open server connection
        // with no cold state (so no extension, no fragmented message in progress, nothing
        // queued as separate chunks) and room in the output. Same bytes as `queue_frame`:
        // FIN, no RSV bits, the opcode; no mask (RFC 6455 §5.1: "A server MUST NOT mask any
        // frames that it sends to the client"); the 7-bit length.
        if self.cold.is_none()
            && self.role == Role::Server
            && self.state == ConnectionState::Open
            && data.len() <= 125
            && self.out_buf.len() + data.len() + MAX_HEADER_LEN <= self.config.max_buffered_output
        {
            self.out_buf.reserve(2 + data.len());
            self.out_buf
                .put_slice(&[0x80 | kind.opcode().as_u8(), data.len() as u8]);
            self.out_buf.extend_from_slice(&data);
            return Ok(());
        }
        self.send_message_slow(kind, data)
    }

    fn send_message_slow(&mut self, kind: MessageKind, data: Bytes) -> Result<(), SendError> {
        self.check_data_send(data.len() + MAX_HEADER_LEN)?;
        if self.sending().is_some() {
            return Err(SendError::MessageInProgress);
        }
        let (rsv, data) = match self.cold.as_mut().and_then(|c| c.extension.as_mut()) {
            Some(ext) => ext
                .encode(kind, data)
                .map_err(|e| SendError::Extension(e.reason))?,
            None => (0, data),
        };
        self.queue_frame(kind.opcode(), true, rsv, data);
        Ok(())
    }

    /// The masking key for the next frame sent: a fresh one for a client, none for a server.
    fn next_mask(&mut self) -> Option<[u8; 4]> {
        match self.role {
            // Every client is built with a key source (`new`, `with_mask_keys`, both halves
            // of `split`); were one missing, an all-zero key is still a masked frame.
            Role::Client => Some(
                self.cold
                    .as_mut()
                    .and_then(|c| c.keys.as_mut())
                    .map_or([0; 4], |k| k.mask_key()),
            ),
            Role::Server => None,
        }
    }

    /// Encodes one frame into the output queue. Cannot fail (callers checked everything).
    pub(super) fn queue_frame(&mut self, opcode: OpCode, fin: bool, rsv: u8, payload: Bytes) {
        let mask = self.next_mask();
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut hbuf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut hbuf);
        match mask {
            Some(key) => {
                // Masking needs a private copy; write it straight into the output buffer.
                self.out_buf.reserve(n + payload.len());
                self.out_buf.put_slice(&hbuf[..n]);
                let start = self.out_buf.len();
                self.out_buf.extend_from_slice(&payload);
                apply_mask(&mut self.out_buf[start..], key, 0);
            }
            None if payload.len() <= COALESCE_MAX => {
                // Reserving the exact size lets a lone frame become `Bytes` without a second
                // allocation in `poll_transmit`.
                self.out_buf.reserve(n + payload.len());
                self.out_buf.put_slice(&hbuf[..n]);
                self.out_buf.extend_from_slice(&payload);
            }
            None => {
                self.out_buf.extend_from_slice(&hbuf[..n]);
                let head = core::mem::take(&mut self.out_buf).freeze();
                let cold = self.cold_mut();
                cold.queued += head.len() + payload.len();
                cold.out_queue.push_back(head);
                cold.out_queue.push_back(payload);
            }
        }
    }

    /// Makes `payload` the automatic pong to send, replacing the pong for an earlier ping if
    /// that one was not handed out yet. RFC 6455 §5.5.3: "If an endpoint receives a Ping frame
    /// and has not yet sent Pong frame(s) in response to previous Ping frame(s), the endpoint
    /// MAY elect to send a Pong frame for only the most recently processed Ping frame." So a
    /// ping flood against a connection whose output is not drained holds one pong, not one
    /// per ping.
    pub(super) fn queue_auto_pong(&mut self, payload: &[u8]) {
        let role = self.role;
        let cold = self.cold_mut();
        if let Some(old) = cold.pong.take() {
            cold.queued -= pong_frame_len(role, old.len());
        }
        cold.queued += pong_frame_len(role, payload.len());
        cold.pong = Some(Bytes::copy_from_slice(payload));
    }

    /// Encodes the pending automatic pong, if any, as a chunk of its own.
    fn take_pong(&mut self) -> Option<Bytes> {
        let role = self.role;
        let cold = self.cold.as_mut()?;
        let payload = cold.pong.take()?;
        cold.queued -= pong_frame_len(role, payload.len());
        let mask = self.next_mask();
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Pong,
            mask,
            payload_len: payload.len() as u64,
        };
        let mut hbuf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut hbuf);
        let mut out = BytesMut::with_capacity(n + payload.len());
        out.put_slice(&hbuf[..n]);
        let start = out.len();
        out.put_slice(&payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
        self.release_cold();
        Some(out.freeze())
    }

    /// The next chunk of bytes to write to the transport, in order; `None` when nothing is
    /// queued. Headers and small payloads are batched into one chunk; large server payloads
    /// come as their own chunk (the `Bytes` the application passed in, not copied), so
    /// several chunks can be written with one vectored write. A pending automatic pong comes
    /// first, at the next frame boundary. Extra calls are harmless. To write everything with
    /// one vectored write, see [`take_transmit`](Self::take_transmit).
    #[must_use = "the returned bytes must be written to the transport"]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if let Some(cold) = self.cold.as_mut() {
            if cold.pong.is_some() && !cold.mid_frame {
                return self.take_pong();
            }
            if let Some(chunk) = cold.out_queue.pop_front() {
                cold.queued -= chunk.len();
                // The queue holds (head, payload) pairs.
                cold.mid_frame = !cold.mid_frame;
                if cold.out_queue.is_empty() {
                    // Release the queue's allocation along with the rest.
                    cold.out_queue = VecDeque::new();
                    self.release_cold();
                }
                return Some(chunk);
            }
        }
        if self.out_buf.is_empty() {
            return None;
        }
        // The whole buffer, so that nothing is held once the caller drops the chunk.
        Some(core::mem::take(&mut self.out_buf).freeze())
    }

    /// Everything queued for writing, as one [`Transmit`] (a [`bytes::Buf`] whose
    /// `chunks_vectored` fills a vectored write): the same bytes, in the same order, as
    /// calling [`poll_transmit`](Self::poll_transmit) until `None`. Write all of it before
    /// anything queued later. Empty when nothing is queued; extra calls are harmless.
    #[must_use = "the returned bytes must be written to the transport"]
    pub fn take_transmit(&mut self) -> Transmit {
        let mut t = Transmit::default();
        if let Some(cold) = self.cold.as_mut() {
            if cold.mid_frame {
                // The payload of a head already handed out comes before anything else.
                if let Some(payload) = cold.out_queue.pop_front() {
                    cold.queued -= payload.len();
                    t.push(payload);
                }
                cold.mid_frame = false;
            }
        }
        if let Some(pong) = self.take_pong() {
            t.push(pong);
        }
        if let Some(cold) = self.cold.as_mut() {
            if !cold.out_queue.is_empty() {
                cold.queued = 0;
                t.append(core::mem::take(&mut cold.out_queue));
            }
        }
        if !self.out_buf.is_empty() {
            t.push(core::mem::take(&mut self.out_buf).freeze());
        }
        self.release_cold();
        t
    }

    /// Bytes queued for writing.
    #[inline]
    pub fn buffered_output(&self) -> usize {
        self.out_buf.len() + self.cold.as_ref().map_or(0, |c| c.queued)
    }

    /// Whether the I/O layer should now close the transport (after writing everything
    /// [`poll_transmit`](Self::poll_transmit) returns):
    /// - after a failure, once the output is drained;
    /// - server, after the close handshake, once drained: "The server MUST close the
    ///   underlying TCP connection immediately";
    /// - client, after the close handshake, once drained and the server closed its side
    ///   ([`feed_eof`](Self::feed_eof)): "the client SHOULD wait for the server to close the
    ///   connection". A client should also close after a timeout of its own choosing.
    pub fn should_close_transport(&self) -> bool {
        if self.buffered_output() != 0 {
            return false;
        }
        match self.state {
            ConnectionState::Failed => true,
            ConnectionState::Closed => self.role == Role::Server || self.eof,
            _ => false,
        }
    }
}
