//! The receive path: bytes in, events out.

use bytes::{Buf, Bytes, BytesMut};

use super::{Assembly, Connection, ConnectionState, Message, Role, WholeFrame};
use crate::close::CloseFrame;
use crate::error::{FeedError, ProtocolError};
use crate::event::{Event, EventRef, Utf8Bytes, Utf8Ref};
use crate::extension::MessageKind;
use crate::frame::{FrameHeader, HeaderDecode, OpCode};
use crate::mask::{apply_mask, apply_mask_ascii};
use crate::utf8::Utf8Validator;

impl Connection {
    /// Appends bytes read from the transport (copied once). Then call
    /// [`poll_event`](Self::poll_event). Bytes fed once the connection is closed or failed are
    /// dropped.
    ///
    /// Refused with [`FeedError::BufferFull`] when the bytes fed and not yet consumed by
    /// polling would exceed [`Limits::max_buffered_input`](crate::Limits::max_buffered_input)
    /// (raised to one largest frame, see
    /// [`Limits::effective_max_buffered_input`](crate::Limits::effective_max_buffered_input)),
    /// and with [`FeedError::AfterEof`] after [`feed_eof`](Self::feed_eof). A refused feed
    /// takes nothing and changes nothing: poll, then feed the bytes again.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), FeedError> {
        self.check_feed(data.len())?;
        self.settle();
        if self.accepts_input() {
            self.input.extend_from_slice(data);
        }
        Ok(())
    }

    /// Like [`feed`](Self::feed), taking ownership: when nothing is buffered and `data` is not
    /// shared, its buffer becomes the input buffer without a copy (payloads are then unmasked
    /// in place and split off it); otherwise it is copied.
    pub fn feed_bytes(&mut self, data: impl Into<Bytes>) -> Result<(), FeedError> {
        let data = data.into();
        self.check_feed(data.len())?;
        self.settle();
        self.push_input(data);
        Ok(())
    }

    /// Appends `data` to the input without the bound (the bytes that followed the handshake).
    pub(crate) fn push_input(&mut self, data: Bytes) {
        if !self.accepts_input() {
            return;
        }
        if self.input.is_empty() {
            self.input = match data.try_into_mut() {
                Ok(unique) => unique,
                Err(shared) => BytesMut::from(&shared[..]),
            };
        } else {
            self.input.extend_from_slice(&data);
        }
    }

    /// The transport reached end of stream. Then call [`poll_event`](Self::poll_event): if the
    /// close handshake did not finish it returns [`ProtocolError::UnexpectedEof`]. Idempotent;
    /// feeding afterwards is refused with [`FeedError::AfterEof`].
    pub fn feed_eof(&mut self) {
        self.eof = true;
    }

    /// Bytes of input buffer held (0 when nothing is buffered and nothing was read since the
    /// last poll: an idle connection holds none).
    pub fn input_capacity(&self) -> usize {
        self.input.capacity()
    }

    /// Bytes fed and not yet consumed by polling.
    pub fn buffered_input(&self) -> usize {
        self.input.len() - self.lent as usize
    }

    #[inline]
    pub(super) fn check_feed(&self, len: usize) -> Result<(), FeedError> {
        if self.eof {
            return Err(FeedError::AfterEof);
        }
        if len == 0 {
            return Ok(());
        }
        let buffered = self.buffered_input();
        let limit = self.config.limits().effective_max_buffered_input();
        if buffered.saturating_add(len) > limit {
            return Err(FeedError::BufferFull {
                buffered,
                len,
                limit,
            });
        }
        Ok(())
    }

    pub(super) fn accepts_input(&self) -> bool {
        matches!(
            self.state,
            ConnectionState::Open | ConnectionState::CloseSent
        )
    }

    /// The next event, `Ok(None)` if more bytes are needed (or the connection is closed).
    /// Errors are sticky: after one, every call returns it again. Call after each
    /// [`feed`](Self::feed) until `Ok(None)`, then drain [`poll_transmit`](Self::poll_transmit).
    /// Extra calls are harmless.
    #[must_use = "events and errors must be handled"]
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        self.settle();
        if self.state == ConnectionState::Failed {
            if let Some(e) = self.error() {
                return Err(e.clone());
            }
        }
        loop {
            if self.state == ConnectionState::Closed {
                self.release_input();
                return Ok(None);
            }
            if !self.in_frame {
                if let Some(r) = self.whole_message_frame(0) {
                    return match r {
                        Ok(WholeFrame {
                            text,
                            header_len,
                            len,
                        }) => {
                            // Split header and payload off together, then drop the header from
                            // the `Bytes` (cheaper than advancing the `BytesMut`).
                            let mut data = self.input.split_to(header_len + len).freeze();
                            data.advance(header_len);
                            Ok(Some(if text {
                                Event::Text(Utf8Bytes(data))
                            } else {
                                Event::Binary(data)
                            }))
                        }
                        Err(e) => Err(self.fail(e)),
                    };
                }
            }
            match self.next_frame() {
                Ok(Some((header, payload))) => match self.on_frame(header, payload) {
                    Ok(Some(ev)) => return Ok(Some(ev)),
                    Ok(None) => continue,
                    Err(e) => return Err(self.fail(e)),
                },
                Ok(None) => {
                    if self.eof {
                        return Err(self.fail(ProtocolError::UnexpectedEof));
                    }
                    self.release_input();
                    return Ok(None);
                }
                Err(e) => return Err(self.fail(e)),
            }
        }
    }

    /// Like [`poll_event`](Self::poll_event), but the event borrows the connection's buffers
    /// instead of owning its payload: a whole message that arrived in one frame (the common
    /// case) is unmasked and validated where it lies in the input buffer and lent out as is —
    /// no `Bytes` split off, no reference count, no allocation. The input buffer is then never
    /// shared, so [`feed`](Self::feed) can reuse it instead of allocating a new one. Other
    /// events (fragmented messages, control frames) are decoded as by `poll_event` and lent
    /// from where the connection keeps them. The event is valid until the next call on the
    /// connection; same call order and errors as `poll_event`, and extra calls are harmless.
    #[must_use = "events and errors must be handled"]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        self.drop_held();
        if self.lent > u32::MAX / 2 {
            self.settle();
        }
        if self.state == ConnectionState::Open && !self.in_frame {
            let at = self.lent as usize;
            if let Some(r) = self.whole_message_frame(at) {
                let WholeFrame {
                    text,
                    header_len,
                    len,
                } = r.map_err(|e| self.fail(e))?;
                let start = at + header_len;
                // Below `u32::MAX`: `at` is at most half of it, and the fast path takes only
                // frames with 7- and 16-bit lengths (at most 65,543 bytes).
                self.lent = (start + len) as u32;
                let payload = &self.input[start..start + len];
                return Ok(Some(if text {
                    // Checked by `whole_message_frame`.
                    EventRef::Text(Utf8Ref(payload))
                } else {
                    EventRef::Binary(payload)
                }));
            }
        }
        // Everything else takes the general path.
        self.settle();
        let Some(ev) = self.poll_event()? else {
            return Ok(None);
        };
        let cold = self.cold_mut();
        Ok(Some(EventRef::from(&*cold.held.insert(ev))))
    }

    /// Drops what [`EventRef`]s borrowed: the frames consumed from `input`, and the event
    /// kept for the last one.
    #[inline(always)]
    pub(super) fn settle(&mut self) {
        if self.lent != 0 {
            self.input.advance(self.lent as usize);
            self.lent = 0;
        }
        self.drop_held();
    }

    /// Drops the event kept for the last [`EventRef`], if any.
    #[inline(always)]
    fn drop_held(&mut self) {
        if let Some(c) = self.cold.as_mut() {
            if c.held.take().is_some() {
                self.release_cold();
            }
        }
    }

    fn release_input(&mut self) {
        // No heap held while idle: drop an empty input buffer's allocation.
        if self.input.is_empty() && self.input.capacity() > 0 {
            self.input = BytesMut::new();
        }
    }

    /// The common case on a fast path that leaves the message state alone: a whole final text
    /// or binary frame (FIN set, RSV clear, 7- or 16-bit minimal length, masked as the role
    /// requires, within the frame and message limits) at `input[at..]`, while the connection
    /// is open and no fragmented message is in progress. Such a frame is the whole message, so
    /// its text is validated in one pass. `None` for anything else, which [`Self::next_frame`]
    /// then decodes and checks (errors included).
    /// On success the payload is unmasked (and its text validated) in place; the frame is
    /// still in `input` (nothing is consumed here).
    #[inline(always)]
    fn whole_message_frame(&mut self, at: usize) -> Option<Result<WholeFrame, ProtocolError>> {
        if self.state != ConnectionState::Open
            || self.cold.as_ref().is_some_and(|c| c.message.is_some())
        {
            return None;
        }
        let buf = self.input.get(at..)?;
        let (&b0, &b1) = (buf.first()?, buf.get(1)?);
        // FIN, RSV1-3 clear, opcode 0x1 (text) or 0x2 (binary).
        if b0 != 0x81 && b0 != 0x82 {
            return None;
        }
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server) {
            return None;
        }
        let (len, mut header_len) = match b1 & 0x7F {
            126 => match buf.get(2..4)? {
                &[hi, lo] if u16::from_be_bytes([hi, lo]) > 125 => {
                    (usize::from(u16::from_be_bytes([hi, lo])), 4)
                }
                _ => return None,
            },
            127 => return None,
            n => (usize::from(n), 2),
        };
        let key = if masked {
            let k = buf.get(header_len..header_len + 4)?;
            header_len += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        if buf.len() - header_len < len
            || len as u64 > self.config.max_frame_size
            || len as u64 > self.config.max_message_size
        {
            return None;
        }
        let text = b0 == 0x81;
        let payload = &mut self.input[at + header_len..at + header_len + len];
        let valid = match key {
            // Short text: unmask and look for non-ASCII bytes in one pass.
            Some(key) if text && len <= 64 => {
                apply_mask_ascii(payload, key) || crate::utf8::is_utf8(payload)
            }
            Some(key) => {
                apply_mask(payload, key, 0);
                !text || crate::utf8::is_utf8(payload)
            }
            None => !text || crate::utf8::is_utf8(payload),
        };
        if !valid {
            return Some(Err(ProtocolError::InvalidUtf8));
        }
        Some(Ok(WholeFrame {
            text,
            header_len,
            len,
        }))
    }

    /// Decodes, checks, unmasks (and UTF-8 checks) the next frame; `Ok(None)` if incomplete.
    fn next_frame(&mut self) -> Result<Option<(FrameHeader, Bytes)>, ProtocolError> {
        let (header, header_len) =
            match FrameHeader::decode(&self.input, self.config.require_minimal_length)? {
                HeaderDecode::NeedMore(_) => return Ok(None),
                HeaderDecode::Complete { header, header_len } => (header, header_len),
            };
        let len = if self.in_frame {
            header.payload_len as usize
        } else {
            let len = self.check_header(&header)?;
            self.in_frame = true;
            self.done = 0;
            len
        };
        let avail = (self.input.len() - header_len).min(len);
        if avail > self.done {
            let done = self.done;
            let new = &mut self.input[header_len + done..header_len + avail];
            if let Some(key) = header.mask {
                apply_mask(new, key, done);
            }
            if !header.opcode.is_control() {
                let message = self.cold.as_mut().and_then(|c| c.message.as_mut());
                if let Some(v) = message.and_then(|m| m.utf8.as_mut()) {
                    // "When an endpoint is to interpret a byte stream as UTF-8 but finds that
                    // the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
                    // _Fail the WebSocket Connection_." Checked as bytes arrive.
                    v.feed(new).map_err(|_| ProtocolError::InvalidUtf8)?;
                }
            }
            self.done = avail;
        }
        if avail < len {
            return Ok(None);
        }
        self.in_frame = false;
        self.input.advance(header_len);
        let payload = self.input.split_to(len).freeze();
        Ok(Some((header, payload)))
    }

    /// Role-, extension- and message-dependent checks on a decoded header; returns the payload
    /// length as `usize`. Starts or extends the message in progress.
    fn check_header(&mut self, h: &FrameHeader) -> Result<usize, ProtocolError> {
        match (self.role, h.mask.is_some()) {
            // "The server MUST close the connection upon receiving a frame that is not masked."
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            // "A client MUST close a connection if it detects a masked frame."
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        // "MUST be 0 unless an extension is negotiated that defines meanings for non-zero
        // values."
        let extension = self.cold.as_ref().and_then(|c| c.extension.as_ref());
        let allowed = match (h.opcode, extension) {
            (OpCode::Text | OpCode::Binary, Some(ext)) => ext.rsv_bits() & 0x70,
            _ => 0,
        };
        if h.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits(h.rsv & !allowed));
        }
        if h.opcode.is_control() {
            // "All control frames MUST have a payload length of 125 bytes or less and MUST NOT
            // be fragmented."
            if h.payload_len > 125 {
                return Err(ProtocolError::ControlFrameTooLong {
                    len: h.payload_len,
                    limit: 125,
                });
            }
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            return Ok(h.payload_len as usize);
        }
        let config = self.config;
        if h.payload_len > config.max_frame_size || h.payload_len > usize::MAX as u64 {
            return Err(ProtocolError::FrameTooLarge {
                len: h.payload_len,
                limit: config.max_frame_size,
            });
        }
        match (h.opcode, self.message_mut()) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(m)) => {
                if m.frames >= config.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        limit: config.max_fragments,
                    });
                }
                let len = m.len.saturating_add(h.payload_len);
                if len > config.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        len,
                        limit: config.max_message_size,
                    });
                }
                m.len = len;
                m.frames += 1;
            }
            // "The fragments of one message MUST NOT be interleaved between the fragments of
            // another message unless an extension has been negotiated"
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (op, None) => {
                if h.payload_len > config.max_message_size {
                    return Err(ProtocolError::MessageTooLarge {
                        len: h.payload_len,
                        limit: config.max_message_size,
                    });
                }
                let kind = if op == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.cold_mut().message = Some(Message {
                    kind,
                    rsv: h.rsv,
                    len: h.payload_len,
                    frames: 1,
                    utf8: (kind == MessageKind::Text && h.rsv == 0).then(Utf8Validator::new),
                    data: Assembly::Empty,
                });
            }
        }
        Ok(h.payload_len as usize)
    }

    fn on_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        match header.opcode {
            OpCode::Ping => {
                // "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
                // response, unless it already received a Close frame." A pong "must have
                // identical "Application data"".
                // Ping frames are only processed before the peer's Close (Open or CloseSent).
                if self.config.auto_pong {
                    self.queue_auto_pong(&payload);
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => {
                // "If there is a body, the first two bytes of the body MUST be a 2-byte
                // unsigned integer [...] the body MAY contain UTF-8-encoded data"
                let frame = CloseFrame::parse(payload).map_err(ProtocolError::InvalidClose)?;
                if self.state == ConnectionState::Open && self.claim_close() {
                    // "If an endpoint receives a Close frame and did not previously send a
                    // Close frame, the endpoint MUST send a Close frame in response. (When
                    // sending a Close frame in response, the endpoint typically echos the
                    // status code it received.)"
                    let body = match &frame {
                        Some(f) => Bytes::copy_from_slice(&f.code().to_be_bytes()),
                        None => Bytes::new(),
                    };
                    self.queue_frame(OpCode::Close, true, 0, body);
                }
                self.state = ConnectionState::Closed;
                if let Some(c) = self.cold.as_mut() {
                    c.message = None;
                }
                self.release_cold();
                self.input = BytesMut::new();
                Ok(Some(Event::Close(frame)))
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let Some(m) = self.message_mut() else {
                    return Err(ProtocolError::UnexpectedContinuation);
                };
                m.data.push(payload);
                if !header.fin {
                    return Ok(None);
                }
                let Some(m) = self.cold.as_mut().and_then(|c| c.message.take()) else {
                    return Ok(None);
                };
                self.release_cold();
                if let Some(v) = &m.utf8 {
                    v.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                let mut data = m.data.finish();
                if m.rsv != 0 {
                    let max = self.config.max_message_size;
                    if let Some(ext) = self
                        .cold
                        .as_mut()
                        .and_then(|c| c.inbound.as_mut().or(c.extension.as_mut()))
                    {
                        data = ext.decode(m.kind, m.rsv, data, max).map_err(|e| {
                            ProtocolError::Extension {
                                code: e.code,
                                reason: e.reason,
                            }
                        })?;
                        if data.len() as u64 > max {
                            return Err(ProtocolError::MessageTooLarge {
                                len: data.len() as u64,
                                limit: max,
                            });
                        }
                    }
                }
                if self.state != ConnectionState::Open {
                    // "The application MUST NOT send any more data frames after sending a
                    // Close frame" — and data arriving after ours is dropped.
                    return Ok(None);
                }
                Ok(Some(match m.kind {
                    MessageKind::Binary => Event::Binary(data),
                    MessageKind::Text if m.utf8.is_some() => Event::Text(Utf8Bytes(data)),
                    MessageKind::Text => Event::Text(
                        Utf8Bytes::from_bytes(data).map_err(|_| ProtocolError::InvalidUtf8)?,
                    ),
                }))
            }
        }
    }

    fn fail(&mut self, e: ProtocolError) -> ProtocolError {
        // "_Fail the WebSocket Connection_ [...] the endpoint MAY send a Close frame with an
        // appropriate status code": queue it unless a close was already sent.
        if let Some(code) = e.close_code() {
            if self.state == ConnectionState::Open && self.claim_close() {
                self.queue_frame(
                    OpCode::Close,
                    true,
                    0,
                    Bytes::copy_from_slice(&code.to_be_bytes()),
                );
            }
        }
        self.state = ConnectionState::Failed;
        self.signal_failed();
        self.input = BytesMut::new();
        self.lent = 0;
        self.in_frame = false;
        let cold = self.cold_mut();
        cold.error = Some(e.clone());
        cold.message = None;
        e
    }
}
