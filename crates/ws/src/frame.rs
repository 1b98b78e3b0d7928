//! Frame header decoding and encoding (RFC 6455 §5.2), usable without a [`Connection`].
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! ```
//!
//! [`FrameHeader::decode`] checks only what the header alone can tell (reserved opcodes, the
//! 64-bit length's top bit, optionally minimal length encoding). Rules that depend on the role,
//! on negotiated extensions or on the message in progress (masking, RSV bits, control frame
//! size, fragmentation) are checked by the [`Connection`].
//!
//! [`Connection`]: crate::Connection

pub use crate::error::HeaderError;

/// The largest possible header: 2 bytes + 8-byte extended length + 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The RSV1 bit in its wire position (first header byte).
pub const RSV1: u8 = 0x40;
/// The RSV2 bit in its wire position (first header byte).
pub const RSV2: u8 = 0x20;
/// The RSV3 bit in its wire position (first header byte).
pub const RSV3: u8 = 0x10;

/// The largest payload length a frame can declare: "the most significant bit MUST be 0".
pub const MAX_PAYLOAD_LEN: u64 = i64::MAX as u64;

/// A frame opcode (RFC 6455 §5.2). Reserved opcodes have no variant: they are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `%x0` denotes a continuation frame.
    Continuation,
    /// `%x1` denotes a text frame.
    Text,
    /// `%x2` denotes a binary frame.
    Binary,
    /// `%x8` denotes a connection close.
    Close,
    /// `%x9` denotes a ping.
    Ping,
    /// `%xA` denotes a pong.
    Pong,
}

impl OpCode {
    /// All defined opcodes, in numeric order.
    pub const ALL: [OpCode; 6] = [
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ];

    /// Maps a 4-bit opcode to a defined opcode; `None` for reserved values (3–7, 11–15) and
    /// anything above 15.
    pub const fn from_u8(v: u8) -> Option<OpCode> {
        match v {
            0x0 => Some(OpCode::Continuation),
            0x1 => Some(OpCode::Text),
            0x2 => Some(OpCode::Binary),
            0x8 => Some(OpCode::Close),
            0x9 => Some(OpCode::Ping),
            0xA => Some(OpCode::Pong),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub const fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Whether this is a control opcode (close, ping, pong): "Control frames are identified by
    /// opcodes where the most significant bit of the opcode is 1."
    pub const fn is_control(self) -> bool {
        self.as_u8() & 0x8 != 0
    }
}

/// A decoded (or to-be-encoded) frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// FIN: "Indicates that this is the final fragment in a message."
    pub fin: bool,
    /// RSV1–3 in their wire positions (see [`RSV1`], [`RSV2`], [`RSV3`]); other bits are
    /// ignored when encoding and always zero when decoded.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length. Encoding a value above [`MAX_PAYLOAD_LEN`] produces a header every
    /// conforming decoder (this one included) rejects.
    pub payload_len: u64,
}

/// The result of [`FrameHeader::decode`] when no error was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderDecode {
    /// A whole header was decoded from the first `header_len` bytes of the input.
    Complete {
        /// The header.
        header: FrameHeader,
        /// How many input bytes it occupied (2 to 14).
        header_len: usize,
    },
    /// The input is a valid prefix of a header; at least this many more bytes are needed.
    NeedMore(usize),
}

impl FrameHeader {
    /// Number of bytes [`encode`](Self::encode) writes for this header.
    pub const fn encoded_len(&self) -> usize {
        let len = if self.payload_len <= 125 {
            2
        } else if self.payload_len <= 0xFFFF {
            4
        } else {
            10
        };
        if self.mask.is_some() {
            len + 4
        } else {
            len
        }
    }

    /// Encodes the header into `buf` and returns how many bytes were written
    /// (`buf[..n]` is the header). Always uses the minimal length encoding. Cannot fail.
    pub fn encode(&self, buf: &mut [u8; MAX_HEADER_LEN]) -> usize {
        buf[0] = (if self.fin { 0x80 } else { 0 }) | (self.rsv & 0x70) | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = if self.payload_len <= 125 {
            buf[1] = mask_bit | self.payload_len as u8;
            2
        } else if self.payload_len <= 0xFFFF {
            buf[1] = mask_bit | 126;
            buf[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            4
        } else {
            buf[1] = mask_bit | 127;
            buf[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            10
        };
        if let Some(key) = self.mask {
            buf[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        n
    }

    /// Decodes a header from the start of `buf`.
    ///
    /// Returns [`HeaderDecode::NeedMore`] with the number of missing bytes when `buf` is a
    /// valid but incomplete header (a reserved opcode is reported as soon as the first byte is
    /// there). With `require_minimal_length`, a length that could have been encoded in fewer
    /// bytes is an error: "the minimal number of bytes MUST be used to encode the length".
    pub fn decode(buf: &[u8], require_minimal_length: bool) -> Result<HeaderDecode, HeaderError> {
        let Some(&b0) = buf.first() else {
            return Ok(HeaderDecode::NeedMore(2));
        };
        // "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket
        // Connection_."
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(HeaderError::ReservedOpcode(b0 & 0x0F))?;
        let Some(&b1) = buf.get(1) else {
            return Ok(HeaderDecode::NeedMore(1));
        };
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;
        let ext_len = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + ext_len + if masked { 4 } else { 0 };
        if buf.len() < header_len {
            return Ok(HeaderDecode::NeedMore(header_len - buf.len()));
        }
        let payload_len = match len7 {
            126 => {
                let v = u16::from_be_bytes([buf[2], buf[3]]) as u64;
                // "the length of a 124-byte-long string can't be encoded as the sequence
                // 126, 0, 124"
                if require_minimal_length && v <= 125 {
                    return Err(HeaderError::NonMinimalLength(v));
                }
                v
            }
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                let v = u64::from_be_bytes(b);
                // "the most significant bit MUST be 0"
                if v > MAX_PAYLOAD_LEN {
                    return Err(HeaderError::LengthTopBitSet);
                }
                if require_minimal_length && v <= 0xFFFF {
                    return Err(HeaderError::NonMinimalLength(v));
                }
                v
            }
            n => n as u64,
        };
        let mask = if masked {
            let k = 2 + ext_len;
            Some([buf[k], buf[k + 1], buf[k + 2], buf[k + 3]])
        } else {
            None
        };
        Ok(HeaderDecode::Complete {
            header: FrameHeader {
                fin: b0 & 0x80 != 0,
                rsv: b0 & 0x70,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    #[test]
    fn the_largest_64_bit_length_is_accepted_one_more_is_not() {
        // "the most significant bit MUST be 0": 2^63 - 1 is the largest length.
        let mut buf = [0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0];
        buf[2..].copy_from_slice(&MAX_PAYLOAD_LEN.to_be_bytes());
        let (h, n) = decode_all(&buf);
        assert_eq!((h.payload_len, n), (MAX_PAYLOAD_LEN, 10));
        buf[2..].copy_from_slice(&(MAX_PAYLOAD_LEN + 1).to_be_bytes());
        assert_eq!(
            FrameHeader::decode(&buf, true),
            Err(HeaderError::LengthTopBitSet)
        );
    }

    fn decode_all(buf: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::decode(buf, true).unwrap() {
            HeaderDecode::Complete { header, header_len } => (header, header_len),
            HeaderDecode::NeedMore(n) => panic!("need {n} more"),
        }
    }

    #[test]
    fn reserved_opcodes_rejected_from_first_byte() {
        for op in (3..=7).chain(11..=15) {
            assert_eq!(
                FrameHeader::decode(&[0x80 | op], true),
                Err(HeaderError::ReservedOpcode(op))
            );
        }
    }

    #[test]
    fn need_more_counts() {
        assert_eq!(
            FrameHeader::decode(&[], true),
            Ok(HeaderDecode::NeedMore(2))
        );
        assert_eq!(
            FrameHeader::decode(&[0x81], true),
            Ok(HeaderDecode::NeedMore(1))
        );
        // masked, 16-bit length: 2 + 2 + 4 = 8
        assert_eq!(
            FrameHeader::decode(&[0x82, 0x80 | 126, 0x01], true),
            Ok(HeaderDecode::NeedMore(5))
        );
        assert_eq!(
            FrameHeader::decode(&[0x82, 127], true),
            Ok(HeaderDecode::NeedMore(8))
        );
    }

    #[test]
    fn length_top_bit_rejected() {
        let mut b = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            FrameHeader::decode(&b, true),
            Err(HeaderError::LengthTopBitSet)
        );
        assert_eq!(
            FrameHeader::decode(&b, false),
            Err(HeaderError::LengthTopBitSet)
        );
        b[2] = 0x7F;
        assert!(FrameHeader::decode(&b, true).is_ok());
    }

    #[test]
    fn non_minimal_length_rejected_when_required() {
        let b16 = [0x82, 126, 0, 124];
        assert_eq!(
            FrameHeader::decode(&b16, true),
            Err(HeaderError::NonMinimalLength(124))
        );
        assert_eq!(decode_len(&b16), 124);
        let b64 = [0x82, 127, 0, 0, 0, 0, 0, 0, 0x01, 0x00];
        assert_eq!(
            FrameHeader::decode(&b64, true),
            Err(HeaderError::NonMinimalLength(256))
        );
        assert_eq!(decode_len(&b64), 256);
    }

    fn decode_len(buf: &[u8]) -> u64 {
        match FrameHeader::decode(buf, false).unwrap() {
            HeaderDecode::Complete { header, .. } => header.payload_len,
            HeaderDecode::NeedMore(_) => panic!(),
        }
    }

    // RFC 6455 §5.7 examples, header part.
    #[test]
    fn rfc_5_7_unmasked_hello_header() {
        let (h, n) = decode_all(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        assert_eq!(n, 2);
        assert_eq!(
            h,
            FrameHeader {
                fin: true,
                rsv: 0,
                opcode: OpCode::Text,
                mask: None,
                payload_len: 5
            }
        );
    }

    #[test]
    fn rfc_5_7_256_and_64k_binary_headers() {
        let h = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask: None,
            payload_len: 256,
        };
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = h.encode(&mut buf);
        assert_eq!(&buf[..n], &[0x82, 0x7E, 0x01, 0x00]);
        let h = FrameHeader {
            payload_len: 65536,
            ..h
        };
        let n = h.encode(&mut buf);
        assert_eq!(
            &buf[..n],
            &[0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
        );
        assert_eq!(decode_all(&buf[..n]), (h, 10));
    }

    fn any_opcode() -> impl Strategy<Value = OpCode> {
        proptest::sample::select(OpCode::ALL.to_vec())
    }

    fn any_len() -> impl Strategy<Value = u64> {
        prop_oneof![0u64..=125, 126u64..=0xFFFF, 0x1_0000u64..=MAX_PAYLOAD_LEN]
    }

    proptest! {
        #[test]
        fn prop_encode_decode_roundtrip(
            fin in any::<bool>(),
            rsv in 0u8..8,
            opcode in any_opcode(),
            mask in proptest::option::of(proptest::array::uniform4(any::<u8>())),
            payload_len in any_len(),
            trailing in proptest::collection::vec(any::<u8>(), 0..4),
        ) {
            let h = FrameHeader { fin, rsv: rsv << 4, opcode, mask, payload_len };
            let mut buf = [0u8; MAX_HEADER_LEN];
            let n = h.encode(&mut buf);
            prop_assert_eq!(n, h.encoded_len());
            let mut wire: Vec<u8> = buf[..n].to_vec();
            wire.extend_from_slice(&trailing);
            prop_assert_eq!(
                FrameHeader::decode(&wire, true),
                Ok(HeaderDecode::Complete { header: h, header_len: n })
            );
            // Every strict prefix asks for more bytes, and exactly the missing number once the
            // second byte is known.
            for cut in 0..n {
                match FrameHeader::decode(&wire[..cut], true) {
                    Ok(HeaderDecode::NeedMore(k)) => {
                        if cut >= 2 { prop_assert_eq!(k, n - cut); }
                    }
                    other => prop_assert!(false, "prefix {} gave {:?}", cut, other),
                }
            }
        }

        #[test]
        fn prop_decode_encode_identity(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            if let Ok(HeaderDecode::Complete { header, header_len }) = FrameHeader::decode(&bytes, true) {
                let mut buf = [0u8; MAX_HEADER_LEN];
                let n = header.encode(&mut buf);
                prop_assert_eq!(&buf[..n], &bytes[..header_len]);
            }
        }
    }
}
