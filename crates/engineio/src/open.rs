//! The handshake: the JSON data of the `open` packet.
//!
//! > Server responds with an `open` packet with JSON-encoded handshake data: `sid`,
//! > `upgrades`, `pingTimeout`, `pingInterval`

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::OpenPacketError;
use crate::packet::{Packet, PacketData};
use crate::packet_type::PacketType;

/// The handshake data of an `open` packet:
/// `{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…}`.
///
/// Serialized with the fields in the order engine.io 3.x writes them (`sid`, `upgrades`,
/// `pingInterval`, `pingTimeout`), so [`OpenPacket::to_json`] is byte-identical to the
/// reference server's. Parsing accepts any field order, ignores unknown fields (a v4 server
/// adds `maxPayload`) and treats a missing `upgrades` as empty (the spec's websocket-only
/// example omits it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OpenPacket {
    /// The session id (`sid`).
    pub sid: String,
    /// The transports the client may upgrade to (`upgrades`), e.g. `["websocket"]`.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// `pingInterval`, in milliseconds: how long the client waits after a pong before the
    /// next ping (engine.io 3.x default 25,000).
    #[serde(rename = "pingInterval")]
    pub ping_interval_ms: u64,
    /// `pingTimeout`, in milliseconds: how long the client waits for a pong (engine.io 3.x
    /// default 5,000). The server gives up after `pingInterval + pingTimeout` without a ping.
    #[serde(rename = "pingTimeout")]
    pub ping_timeout_ms: u64,
}

impl OpenPacket {
    /// Handshake data with the given fields.
    #[must_use]
    pub fn new(
        sid: impl Into<String>,
        upgrades: Vec<String>,
        ping_interval_ms: u64,
        ping_timeout_ms: u64,
    ) -> Self {
        Self {
            sid: sid.into(),
            upgrades,
            ping_interval_ms,
            ping_timeout_ms,
        }
    }

    /// The JSON text, e.g.
    /// `{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings and integers into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON text.
    ///
    /// # Errors
    /// [`OpenPacketError::Json`] when it is not a JSON object with a string `sid` and integer
    /// `pingInterval` and `pingTimeout`.
    pub fn from_json(json: &str) -> Result<Self, OpenPacketError> {
        parse_json(json)
    }

    /// The `open` packet carrying this data (`0{"sid":…}`).
    #[must_use]
    pub fn to_packet(&self) -> Packet {
        Packet::text(PacketType::Open, self.to_json())
    }

    /// Reads the handshake from an `open` packet.
    ///
    /// # Errors
    /// [`OpenPacketError::NotOpen`], [`OpenPacketError::Binary`] or [`OpenPacketError::Json`].
    pub fn from_packet(packet: &Packet) -> Result<Self, OpenPacketError> {
        Self::from_json(open_text(packet)?)
    }
}

/// The JSON text of an `open` packet (either revision's handshake).
pub(crate) fn open_text(packet: &Packet) -> Result<&str, OpenPacketError> {
    if packet.kind != PacketType::Open {
        return Err(OpenPacketError::NotOpen(packet.kind));
    }
    match &packet.data {
        PacketData::Text(s) => Ok(s),
        PacketData::Binary(_) => Err(OpenPacketError::Binary),
    }
}

/// Parses handshake JSON, serde_json's message as the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, OpenPacketError> {
    serde_json::from_str(json).map_err(|e| OpenPacketError::Json(alloc::format!("{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::payload::{decode_text_payload, encode_text_payload};
    use alloc::string::ToString;
    use alloc::vec;

    const SPEC: &str = r#"96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;

    #[test]
    fn spec_sample_session_request_1() {
        let packets: Vec<_> = decode_text_payload(SPEC, Limits::DEFAULT)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(packets.len(), 1);
        let open = OpenPacket::from_packet(&packets[0]).unwrap();
        assert_eq!(
            open,
            OpenPacket::new(
                "lv_VI97HAXpY6yYWAAAC",
                vec!["websocket".to_string()],
                25000,
                5000
            )
        );
        // Byte-identical re-encoding, field order included.
        let mut out = Vec::new();
        encode_text_payload(&[open.to_packet()], &mut out);
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, SPEC);
    }

    #[test]
    fn spec_websocket_only_handshake_without_upgrades() {
        // > 0{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}
        let p = Packet::decode_str(
            r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}"#,
        )
        .unwrap();
        let open = OpenPacket::from_packet(&p).unwrap();
        assert!(open.upgrades.is_empty());
        assert_eq!(open.ping_interval_ms, 25000);
    }

    #[test]
    fn unknown_fields_and_order_are_accepted() {
        let open = OpenPacket::from_json(
            r#"{"pingTimeout":1,"maxPayload":100,"upgrades":[],"sid":"x","pingInterval":2}"#,
        )
        .unwrap();
        assert_eq!(open, OpenPacket::new("x", vec![], 2, 1));
    }

    #[test]
    fn bad_handshakes_are_errors() {
        assert!(matches!(
            OpenPacket::from_json(r#"{"sid":1,"pingInterval":2,"pingTimeout":3}"#),
            Err(OpenPacketError::Json(_))
        ));
        assert!(matches!(
            OpenPacket::from_json(r#"{"sid":"a","pingTimeout":3}"#),
            Err(OpenPacketError::Json(_))
        ));
        assert!(matches!(
            OpenPacket::from_json("not json"),
            Err(OpenPacketError::Json(_))
        ));
        assert_eq!(
            OpenPacket::from_packet(&Packet::message("{}")),
            Err(OpenPacketError::NotOpen(PacketType::Message))
        );
        assert_eq!(
            OpenPacket::from_packet(&Packet::binary(PacketType::Open, vec![1u8])),
            Err(OpenPacketError::Binary)
        );
    }
}
