//! The wire functions a session uses, chosen once by its [`ProtocolVersion`]: the payload
//! decoder, the polling body encoder and the WebSocket message forms. The sessions of both
//! roles go through here, so revision 3's and revision 4's decoders are never mixed.

use crate::config::Limits;
use crate::error::{PacketError, PayloadError};
use crate::packet::Packet;
use crate::payload::{encode_payload, EncodedPayload, PayloadDecoder, PayloadFormat};
use crate::transport::WsMessage;
use crate::v4;
use crate::version::ProtocolVersion;

/// A whole polling body decoded by the revision's decoder.
pub(crate) enum BodyDecoder {
    V3(PayloadDecoder),
    V4(v4::PayloadDecoder),
}

impl BodyDecoder {
    /// A decoder fed with the whole `body` (a body over the limit is refused whole and
    /// reported by the first poll). Revision 4 has only the text form: `format` is ignored.
    pub(crate) fn whole(
        protocol: ProtocolVersion,
        format: PayloadFormat,
        limits: Limits,
        body: &[u8],
    ) -> Self {
        match protocol {
            ProtocolVersion::V3 => {
                let mut d = PayloadDecoder::new(format, limits);
                let _ = d.feed(body);
                d.feed_eof();
                Self::V3(d)
            }
            ProtocolVersion::V4 => {
                let mut d = v4::PayloadDecoder::new(limits);
                let _ = d.feed(body);
                d.feed_eof();
                Self::V4(d)
            }
        }
    }

    pub(crate) fn poll_packet(&mut self) -> Result<Option<Packet>, PayloadError> {
        match self {
            Self::V3(d) => d.poll_packet(),
            Self::V4(d) => d.poll_packet(),
        }
    }
}

/// A polling body for `packets`: revision 3 picks text or XHR2 like engine.io 3.x;
/// revision 4 always writes the `\x1e` text payload.
pub(crate) fn encode_body(
    protocol: ProtocolVersion,
    packets: &[Packet],
    supports_binary: bool,
) -> EncodedPayload {
    match protocol {
        ProtocolVersion::V3 => encode_payload(packets, supports_binary),
        ProtocolVersion::V4 => EncodedPayload::Text(v4::payload_to_string(packets)),
    }
}

/// One packet as a WebSocket message of the revision.
pub(crate) fn to_ws(protocol: ProtocolVersion, p: &Packet, supports_binary: bool) -> WsMessage {
    match protocol {
        ProtocolVersion::V3 => p.to_ws_message(supports_binary),
        ProtocolVersion::V4 => v4::packet_to_ws_message(p, supports_binary),
    }
}

/// One WebSocket message decoded by the revision's rules.
pub(crate) fn from_ws(protocol: ProtocolVersion, m: WsMessage) -> Result<Packet, PacketError> {
    match protocol {
        ProtocolVersion::V3 => Packet::from_ws_message(m),
        ProtocolVersion::V4 => v4::packet_from_ws_message(m),
    }
}

/// Bytes of a WebSocket message (what `maxPayload` bounds).
pub(crate) fn ws_len(m: &WsMessage) -> usize {
    match m {
        WsMessage::Text(s) => s.len(),
        WsMessage::Binary(b) => b.len(),
    }
}
