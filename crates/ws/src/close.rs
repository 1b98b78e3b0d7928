//! Close frame payloads (RFC 6455 §5.5.1, §7.4): status codes and reasons.
//!
//! "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer (in
//! network byte order) representing a status code [...] Following the 2-byte integer, the body
//! MAY contain UTF-8-encoded data with value /reason/".

pub use crate::error::CloseError;
use crate::error::ProtocolError;

use bytes::{BufMut, Bytes, BytesMut};

/// 1000: normal closure.
pub const NORMAL: u16 = 1000;
/// 1001: going away (server shutting down, browser leaving the page).
pub const GOING_AWAY: u16 = 1001;
/// 1002: protocol error.
pub const PROTOCOL_ERROR: u16 = 1002;
/// 1003: received a type of data it cannot accept.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// 1005: no status code was present. Reserved: never sent in a Close frame.
pub const NO_STATUS: u16 = 1005;
/// 1006: closed abnormally (no Close frame). Reserved: never sent in a Close frame.
pub const ABNORMAL: u16 = 1006;
/// 1007: message data inconsistent with its type (e.g. non-UTF-8 in a text message).
pub const INVALID_PAYLOAD: u16 = 1007;
/// 1008: policy violation.
pub const POLICY_VIOLATION: u16 = 1008;
/// 1009: message too big to process.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// 1010: the client expected the server to negotiate an extension.
pub const MANDATORY_EXTENSION: u16 = 1010;
/// 1011: the server met an unexpected condition.
pub const INTERNAL_ERROR: u16 = 1011;

/// The longest reason that fits a control frame: 125 bytes of payload minus the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// Whether `code` may appear in a Close frame (sent or received), per RFC 6455 §7.4.
///
/// Accepted: 1000–1003, 1007–1014 and 3000–4999. Rejected: 0–999 ("not used"), 1004
/// ("Reserved"), 1005, 1006 and 1015 ("MUST NOT be set as a status code in a Close control
/// frame by an endpoint"), 1016–2999 (reserved for future revisions of the protocol and for
/// extensions, none of which is known here) and 5000 and above (outside every range).
pub const fn is_valid_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

impl CloseError {
    /// The close code to answer with: 1007 for a bad reason encoding, 1002 otherwise.
    pub const fn close_code(&self) -> u16 {
        match self {
            CloseError::InvalidUtf8 => INVALID_PAYLOAD,
            _ => PROTOCOL_ERROR,
        }
    }
}

/// A status code and reason from (or for) a Close frame.
///
/// Values are validated when built, so a `CloseFrame` is always sendable.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseFrame {
    code: u16,
    reason: Bytes,
}

impl CloseFrame {
    /// Builds a close frame body, checking the code (see [`is_valid_code`]) and the reason's
    /// length (at most [`MAX_REASON_LEN`] bytes).
    pub fn new(code: u16, reason: &str) -> Result<CloseFrame, CloseError> {
        if !is_valid_code(code) {
            return Err(CloseError::InvalidCode(code));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(CloseError::ReasonTooLong {
                len: reason.len(),
                limit: MAX_REASON_LEN,
            });
        }
        Ok(CloseFrame {
            code,
            reason: Bytes::copy_from_slice(reason.as_bytes()),
        })
    }

    /// The status code.
    pub const fn code(&self) -> u16 {
        self.code
    }

    /// The reason (possibly empty). "clients MUST NOT show it to end users".
    pub fn reason(&self) -> &str {
        // Validated at construction; the fallback is never taken.
        crate::utf8::to_str(&self.reason).unwrap_or("")
    }

    /// The reason as raw bytes (valid UTF-8).
    pub fn reason_bytes(&self) -> &Bytes {
        &self.reason
    }

    /// Parses a received Close frame body. An empty body means "no status code" (`Ok(None)`,
    /// reported to applications as 1005).
    ///
    /// The reason is split off `payload` without copying.
    pub fn parse(payload: Bytes) -> Result<Option<CloseFrame>, CloseError> {
        match payload.len() {
            0 => return Ok(None),
            // "the first two bytes of the body MUST be a 2-byte unsigned integer"
            1 => return Err(CloseError::OneByte),
            _ => {}
        }
        let code = u16::from_be_bytes([payload[0], payload[1]]);
        if !is_valid_code(code) {
            return Err(CloseError::InvalidCode(code));
        }
        let reason = payload.slice(2..);
        if reason.len() > MAX_REASON_LEN {
            return Err(CloseError::ReasonTooLong {
                len: reason.len(),
                limit: MAX_REASON_LEN,
            });
        }
        // "the body MAY contain UTF-8-encoded data with value /reason/"
        if !crate::utf8::is_utf8(&reason) {
            return Err(CloseError::InvalidUtf8);
        }
        Ok(Some(CloseFrame { code, reason }))
    }

    /// The wire form of the body: 2-byte big-endian code followed by the reason.
    pub fn to_payload(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(2 + self.reason.len());
        b.put_u16(self.code);
        b.put_slice(&self.reason);
        b.freeze()
    }
}

impl ProtocolError {
    /// The close code sent to the peer for this error (`None` for [`UnexpectedEof`]).
    ///
    /// [`UnexpectedEof`]: ProtocolError::UnexpectedEof
    pub fn close_code(&self) -> Option<u16> {
        Some(match self {
            ProtocolError::InvalidUtf8 => INVALID_PAYLOAD,
            ProtocolError::InvalidClose(e) => e.close_code(),
            ProtocolError::FrameTooLarge { .. }
            | ProtocolError::MessageTooLarge { .. }
            | ProtocolError::TooManyFragments { .. } => MESSAGE_TOO_BIG,
            ProtocolError::Extension { code, .. } => *code,
            ProtocolError::UnexpectedEof => return None,
            _ => PROTOCOL_ERROR,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parsed_reason_is_kept_as_its_bytes() {
        // "the body MAY contain UTF-8-encoded data with value /reason/"
        let f = CloseFrame::parse(Bytes::from_static(b"\x03\xe8bye \xc3\xa9"))
            .unwrap()
            .unwrap();
        assert_eq!(f.code(), 1000);
        assert_eq!(f.reason(), "bye é");
        assert_eq!(&f.reason_bytes()[..], "bye é".as_bytes());
        assert_eq!(&f.to_payload()[..], b"\x03\xe8bye \xc3\xa9");
    }

    #[test]
    fn a_reason_of_exactly_123_bytes_fits_one_more_does_not() {
        // "All control frames MUST have a payload length of 125 bytes or less": two bytes of
        // code leave 123 for the reason.
        let mut body = vec![0x03, 0xe8];
        body.extend(core::iter::repeat_n(b'r', MAX_REASON_LEN));
        let f = CloseFrame::parse(Bytes::from(body.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(f.reason().len(), MAX_REASON_LEN);
        body.push(b'r');
        assert_eq!(
            CloseFrame::parse(Bytes::from(body)),
            Err(CloseError::ReasonTooLong {
                len: MAX_REASON_LEN + 1,
                limit: MAX_REASON_LEN
            })
        );
    }

    #[test]
    fn an_invalid_close_frame_is_answered_with_its_own_code() {
        // "an endpoint ... that has received data within a message that was not consistent
        // with the type of the message (e.g., non-UTF-8 [RFC3629] data within a text
        // message)" closes with 1007; any other malformed Close body is a protocol error.
        assert_eq!(
            ProtocolError::InvalidClose(CloseError::InvalidUtf8).close_code(),
            Some(INVALID_PAYLOAD)
        );
        assert_eq!(
            ProtocolError::InvalidClose(CloseError::OneByte).close_code(),
            Some(PROTOCOL_ERROR)
        );
        assert_eq!(
            ProtocolError::InvalidClose(CloseError::InvalidCode(1005)).close_code(),
            Some(PROTOCOL_ERROR)
        );
    }

    #[test]
    fn accepted_and_rejected_code_ranges() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1011 | 1012..=1014 | 3000..=4999);
            assert_eq!(is_valid_code(code), expected, "code {code}");
        }
        for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            assert_eq!(
                CloseFrame::parse(Bytes::copy_from_slice(&code.to_be_bytes())),
                Err(CloseError::InvalidCode(code))
            );
        }
    }

    #[test]
    fn empty_payload_is_no_status() {
        assert_eq!(CloseFrame::parse(Bytes::new()), Ok(None));
    }

    #[test]
    fn one_byte_payload_rejected() {
        assert_eq!(
            CloseFrame::parse(Bytes::from_static(&[3])),
            Err(CloseError::OneByte)
        );
    }

    #[test]
    fn reason_utf8_checked() {
        let p = Bytes::from_static(&[0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83]);
        let c = CloseFrame::parse(p.clone()).unwrap().unwrap();
        assert_eq!(c.code(), 1000);
        assert_eq!(c.reason(), "\u{3ba}\u{1f79}\u{3c3}");
        assert_eq!(c.to_payload(), p);
        let bad = Bytes::from_static(&[0x03, 0xE8, 0xCE, 0xBA, 0xED, 0xA0, 0x80]);
        let err = CloseFrame::parse(bad).unwrap_err();
        assert_eq!(err, CloseError::InvalidUtf8);
        assert_eq!(err.close_code(), 1007);
    }

    #[test]
    fn reason_length_limit() {
        let long = "a".repeat(124);
        assert_eq!(
            CloseFrame::new(1000, &long),
            Err(CloseError::ReasonTooLong {
                len: 124,
                limit: 123
            })
        );
        assert!(CloseFrame::new(1000, &long[..123]).is_ok());
        let mut p = alloc::vec![0x03, 0xE8];
        p.extend_from_slice(long.as_bytes());
        assert_eq!(
            CloseFrame::parse(p.into()),
            Err(CloseError::ReasonTooLong {
                len: 124,
                limit: 123
            })
        );
    }

    #[test]
    fn new_rejects_reserved_codes() {
        assert_eq!(
            CloseFrame::new(1005, ""),
            Err(CloseError::InvalidCode(1005))
        );
        assert_eq!(
            CloseFrame::new(1006, ""),
            Err(CloseError::InvalidCode(1006))
        );
        assert_eq!(
            CloseFrame::new(1015, ""),
            Err(CloseError::InvalidCode(1015))
        );
        assert!(CloseFrame::new(4999, "bye").is_ok());
    }
}
