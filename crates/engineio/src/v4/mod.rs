//! Engine.io protocol revision 4 (socket.io 3 and later, engine.io-client 4+): its wire
//! forms, apart from revision 3's.
//!
//! The packet types, [`crate::Packet`], [`crate::PacketData`], [`crate::Limits`] and the
//! errors are shared; the decoders are not. A decoder that accepted both revisions would read
//! revision 3's base64 form `b4AQID…` as revision 4's `b<base64>` whose base64 starts with
//! `4` (socketioxide shipped that bug), so each revision has its own functions and the
//! session picks them from its [`crate::ProtocolVersion`].
//!
//! | what | encode | decode |
//! |---|---|---|
//! | one packet, string form `4hello` / `bAQID` | [`encode_packet`], [`packet_to_string`] | [`decode_packet`], [`decode_packet_string`] |
//! | one packet as a WebSocket message (binary: the bytes alone) | [`packet_to_ws_message`] | [`packet_from_ws_message`] |
//! | handshake JSON with `maxPayload` | [`Handshake::to_packet`] | [`Handshake::from_packet`] |
//! | payload `4hello\x1e2\x1ebAQID` | [`encode_payload`], [`payload_to_string`] | [`decode_payload`], [`PayloadDecoder`] |
//!
//! What revision 4 drops (spec, "From v3 to v4"): lengths in payloads ("use a record
//! separator (`\x1e`) instead of counting of characters"), the XHR2 binary payload ("always
//! use base64 when encoding a payload with binary data") — engine.io 6 answers a revision 4
//! `application/octet-stream` POST with an error — and the type byte of binary WebSocket
//! frames. JSONP is a revision 3 transport of this crate only (engine.io-client 4+ has none).
//!
//! # Decoding a polling body: the call order
//! 1. Create a [`PayloadDecoder`] with your [`crate::Limits`].
//! 2. [`PayloadDecoder::feed`] each chunk of the body, then call
//!    [`PayloadDecoder::poll_packet`] until `Ok(None)`.
//! 3. At the end of the body, [`PayloadDecoder::feed_eof`] and poll until `Ok(None)`.
//!
//! With the whole body in hand, [`decode_payload`] does the three steps as an iterator.

mod handshake;
mod packet;
mod payload;

pub use handshake::Handshake;

pub use packet::{
    decode_packet, decode_packet_string, encode_packet, packet_from_ws_message, packet_len,
    packet_to_string, packet_to_ws_message,
};
pub use payload::{
    decode_payload, encode_payload, payload_len, payload_to_string, PayloadDecoder, PayloadIter,
    SEPARATOR,
};
