//! [`FrameCodec`]: a tokio-util [`Decoder`]/[`Encoder`] of single WebSocket frames (feature
//! `codec`), for code that already drives a `tokio_util::codec::Framed`.
//!
//! **This is a frame codec, not a WebSocket connection.** It checks what one frame can tell
//! (masking by role, reserved bits, control frame rules, the frame size limit) and masks or
//! unmasks. It does **not**:
//! - answer pings, or reply to a Close (auto-pong needs the connection, not the codec);
//! - reassemble fragmented messages or check continuation order;
//! - check that text (or a close reason) is UTF-8 (see [`Frame::close_frame`] for a Close);
//! - negotiate or apply permessage-deflate (compressed frames would arrive with RSV1 set and
//!   are refused unless [`CodecConfig::allow_reserved_bits`]);
//! - write a Close on a protocol error (send one with [`ProtocolError::close_code`] yourself).
//!
//! For all of that, use [`WebSocketStream`](crate::WebSocketStream). The handshake is not
//! part of the codec either: wrap the transport after it.
//!
//! ```
//! use pushwire_tokio::codec::{Frame, FrameCodec};
//! use pushwire_tokio::pushwire_ws::FixedMaskKey;
//! use pushwire_tokio::{CodecConfig, Role};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! // RFC 6455 §5.7: "A single-frame masked text message".
//! let mut client =
//!     FrameCodec::with_mask_keys(Role::Client, CodecConfig::DEFAULT, Box::new(FixedMaskKey([0x37, 0xfa, 0x21, 0x3d])));
//! let mut wire = bytes::BytesMut::new();
//! client.encode(Frame::text("Hello"), &mut wire).unwrap();
//! assert_eq!(&wire[..], [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//!
//! let mut server = FrameCodec::new(Role::Server, CodecConfig::DEFAULT);
//! assert_eq!(server.decode(&mut wire).unwrap(), Some(Frame::text("Hello")));
//! ```

use bytes::{Buf, Bytes, BytesMut};
use pushwire_ws::close::CloseError;
use pushwire_ws::frame::{FrameHeader, HeaderDecode, OpCode, MAX_HEADER_LEN};
use pushwire_ws::mask::apply_mask;
use pushwire_ws::{CloseFrame, MaskKeySource, ProtocolError, Role, StdRandom, Utf8Bytes};
use tokio_util::codec::{Decoder, Encoder};

use crate::{CodecConfig, CodecError};

/// Largest control frame payload: "All control frames MUST have a payload length of 125
/// bytes or less".
const MAX_CONTROL: usize = 125;

/// Most bytes reserved at once for a frame still arriving: a declared length alone must not
/// make the codec allocate it (the buffer grows as the payload actually arrives).
const RESERVE_STEP: usize = 64 << 10;

/// One WebSocket frame, payload unmasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// FIN: "Indicates that this is the final fragment in a message."
    pub fin: bool,
    /// RSV1–3 in their wire positions (`0x40`, `0x20`, `0x10`); zero unless
    /// [`CodecConfig::allow_reserved_bits`].
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The payload (unmasked).
    pub payload: Bytes,
}

impl Frame {
    /// A final frame (FIN set, no RSV bits) with this opcode and payload.
    pub fn new(opcode: OpCode, payload: impl Into<Bytes>) -> Frame {
        Frame {
            fin: true,
            rsv: 0,
            opcode,
            payload: payload.into(),
        }
    }

    /// A text frame (the type guarantees UTF-8 on the sending side).
    pub fn text(text: impl Into<Utf8Bytes>) -> Frame {
        Frame::new(OpCode::Text, text.into().into_bytes())
    }

    /// A binary frame.
    pub fn binary(data: impl Into<Bytes>) -> Frame {
        Frame::new(OpCode::Binary, data)
    }

    /// A continuation frame (set [`fin`](Self::fin) with [`with_fin`](Self::with_fin)).
    pub fn continuation(data: impl Into<Bytes>) -> Frame {
        Frame::new(OpCode::Continuation, data)
    }

    /// A ping (payload at most 125 bytes, checked when encoded).
    pub fn ping(data: impl Into<Bytes>) -> Frame {
        Frame::new(OpCode::Ping, data)
    }

    /// A pong (payload at most 125 bytes, checked when encoded).
    pub fn pong(data: impl Into<Bytes>) -> Frame {
        Frame::new(OpCode::Pong, data)
    }

    /// A Close frame; `None` sends no status code.
    pub fn close(close: Option<&CloseFrame>) -> Frame {
        Frame::new(
            OpCode::Close,
            close.map(CloseFrame::to_payload).unwrap_or_default(),
        )
    }

    /// This frame with FIN set to `fin`.
    #[must_use]
    pub fn with_fin(mut self, fin: bool) -> Frame {
        self.fin = fin;
        self
    }

    /// A Close frame's code and reason (checked: valid code, reason UTF-8 and short enough);
    /// `Ok(None)` for an empty body (1005). Meaningful only when `opcode` is `Close`.
    pub fn close_frame(&self) -> Result<Option<CloseFrame>, CloseError> {
        CloseFrame::parse(self.payload.clone())
    }
}

/// Decodes and encodes single frames for one side of a connection. See the
/// [module docs](self) for what it does not do.
pub struct FrameCodec {
    role: Role,
    config: CodecConfig,
    /// Client only: where mask keys come from.
    keys: Option<Box<dyn MaskKeySource + Send>>,
    /// Sticky: the first decode error.
    error: Option<ProtocolError>,
}

impl std::fmt::Debug for FrameCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameCodec")
            .field("role", &self.role)
            .field("config", &self.config)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl FrameCodec {
    /// A codec for `role`. A client masks with keys from [`StdRandom`].
    pub fn new(role: Role, config: CodecConfig) -> FrameCodec {
        let keys: Option<Box<dyn MaskKeySource + Send>> = match role {
            Role::Client => Some(Box::new(StdRandom::new())),
            Role::Server => None,
        };
        FrameCodec {
            role,
            config,
            keys,
            error: None,
        }
    }

    /// A codec whose client role masks with keys from `keys` (a server ignores them). Inject
    /// a fixed source only in tests: predictable keys defeat masking (RFC 6455 §10.3).
    pub fn with_mask_keys(
        role: Role,
        config: CodecConfig,
        keys: Box<dyn MaskKeySource + Send>,
    ) -> FrameCodec {
        FrameCodec {
            role,
            config,
            keys: (role == Role::Client).then_some(keys),
            error: None,
        }
    }

    /// The side this codec speaks for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> CodecConfig {
        self.config
    }

    /// The rules one header can be checked against, before any payload is touched.
    fn check(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        match (self.role, h.mask) {
            // "The server MUST close the connection upon receiving a frame that is not
            // masked."
            (Role::Server, None) => return Err(ProtocolError::UnmaskedFrame),
            // "A client MUST close a connection if it detects a masked frame."
            (Role::Client, Some(_)) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        // RSV1-3 "MUST be 0 unless an extension is negotiated that defines meanings for
        // non-zero values."
        if h.rsv != 0 && !self.config.allow_reserved_bits {
            return Err(ProtocolError::ReservedBits(h.rsv));
        }
        if h.opcode.is_control() {
            // "All control frames MUST have a payload length of 125 bytes or less and MUST
            // NOT be fragmented."
            if h.payload_len > MAX_CONTROL as u64 {
                return Err(ProtocolError::ControlFrameTooLong {
                    len: h.payload_len,
                    limit: MAX_CONTROL as u64,
                });
            }
            if !h.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
        }
        let limit = self.config.max_frame_size;
        if h.payload_len > limit || usize::try_from(h.payload_len).is_err() {
            return Err(ProtocolError::FrameTooLarge {
                len: h.payload_len,
                limit,
            });
        }
        Ok(())
    }

    fn decode_frame(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let (header, header_len) =
            match FrameHeader::decode(src, self.config.require_minimal_length)? {
                HeaderDecode::NeedMore(_) => return Ok(None),
                HeaderDecode::Complete { header, header_len } => (header, header_len),
            };
        self.check(&header)?;
        // `check` proved the length fits a usize and the limit.
        let total = header_len + header.payload_len as usize;
        if src.len() < total {
            src.reserve((total - src.len()).min(RESERVE_STEP));
            return Ok(None);
        }
        let mut payload = src.split_to(total);
        payload.advance(header_len);
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        Ok(Some(Frame {
            fin: header.fin,
            rsv: header.rsv,
            opcode: header.opcode,
            payload: payload.freeze(),
        }))
    }

    fn fail(&mut self, e: ProtocolError) -> CodecError {
        self.error = Some(e.clone());
        e.into()
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = CodecError;

    /// Decodes one frame from the front of `src`; `Ok(None)` until a whole frame is there.
    /// A frame over [`CodecConfig::max_frame_size`] is refused from its header alone.
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        if let Some(e) = &self.error {
            return Err(e.clone().into());
        }
        self.decode_frame(src).map_err(|e| self.fail(e))
    }

    /// As [`decode`](Self::decode); bytes of an unfinished frame at the end of the stream are
    /// [`ProtocolError::UnexpectedEof`].
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(src)? {
            None if !src.is_empty() => Err(self.fail(ProtocolError::UnexpectedEof)),
            other => Ok(other),
        }
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = CodecError;

    /// Appends the frame to `dst`, masked with a fresh key on the client side. Refuses a
    /// control frame over 125 bytes or without FIN; nothing is written then.
    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        let len = frame.payload.len();
        if frame.opcode.is_control() {
            if len > MAX_CONTROL {
                return Err(CodecError::ControlTooLong {
                    len,
                    limit: MAX_CONTROL,
                });
            }
            if !frame.fin {
                return Err(CodecError::FragmentedControl);
            }
        }
        // "A client MUST mask all frames that it sends to the server"; "A server MUST NOT
        // mask any frames that it sends to the client."
        let mask = self.keys.as_mut().map(|k| k.mask_key());
        let header = FrameHeader {
            fin: frame.fin,
            rsv: frame.rsv,
            opcode: frame.opcode,
            mask,
            payload_len: len as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut head);
        dst.reserve(n + len);
        dst.extend_from_slice(&head[..n]);
        let start = dst.len();
        dst.extend_from_slice(&frame.payload);
        if let Some(key) = mask {
            apply_mask(&mut dst[start..], key, 0);
        }
        Ok(())
    }
}
