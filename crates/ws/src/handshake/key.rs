//! `Sec-WebSocket-Key` and `Sec-WebSocket-Accept` (RFC 6455 §4.2.2, §1.3).

use alloc::string::String;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID appended to the key: "258EAFA5-E914-47DA-95CA-C5AB0DC85B11".
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Standard alphabet, padding required; trailing bits tolerated when decoding because the
/// RFC's own example key ("AQIDBAUGBwgJCgsMDQ4PEC==") has them.
pub(super) const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: "the base64-encoded SHA-1 of
/// the concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
/// string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"".
///
/// ```
/// assert_eq!(
///     pushwire_ws::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(WEBSOCKET_GUID.as_bytes());
    B64.encode(h.finalize())
}

pub(super) fn is_valid_key(k: &[u8]) -> bool {
    let mut out = [0u8; 18];
    k.len() == 24 && matches!(B64.decode_slice(k, &mut out), Ok(16))
}
