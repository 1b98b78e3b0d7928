//! The revision 4 handshake: the `open` packet's JSON with `maxPayload`.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use crate::error::OpenPacketError;
use crate::open::{open_text, parse_json, OpenPacket};
use crate::packet::Packet;
use crate::packet_type::PacketType;

/// The handshake data of a revision 4 `open` packet: revision 3's fields, then `maxPayload`.
///
/// > If the server accepts the connection, then it MUST respond with an `open` packet with
/// > the following JSON-encoded payload: `sid`, `upgrades`, `pingInterval`, `pingTimeout`,
/// > `maxPayload`
///
/// Written in that order, as engine.io 6 writes it. `maxPayload` is "the maximum number of
/// bytes per chunk, used by the client to aggregate packets into payloads"; a handshake
/// without it (a revision 3 server) parses with `None`.
///
/// ```
/// use pushwire_engineio::{v4::Handshake, OpenPacket};
///
/// let h = Handshake::new(OpenPacket::new("abc", vec!["websocket".into()], 25000, 20000), Some(1_000_000));
/// assert_eq!(
///     h.to_json(),
///     r#"{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
/// );
/// assert_eq!(Handshake::from_packet(&h.to_packet()), Ok(h));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Handshake {
    /// `sid`, `upgrades`, `pingInterval`, `pingTimeout`.
    #[serde(flatten)]
    pub open: OpenPacket,
    /// `maxPayload`: the largest polling body the server accepts, in bytes.
    #[serde(
        rename = "maxPayload",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_payload: Option<u64>,
}

impl Handshake {
    /// Handshake data with the given fields.
    #[must_use]
    pub fn new(open: OpenPacket, max_payload: Option<u64>) -> Self {
        Self { open, max_payload }
    }

    /// The JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing strings and integers into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON text (any field order, unknown fields ignored).
    ///
    /// # Errors
    /// [`OpenPacketError::Json`] as [`OpenPacket::from_json`], or for a `maxPayload` that is
    /// not an unsigned integer.
    pub fn from_json(json: &str) -> Result<Self, OpenPacketError> {
        parse_json(json)
    }

    /// The `open` packet carrying this data.
    #[must_use]
    pub fn to_packet(&self) -> Packet {
        Packet::text(PacketType::Open, self.to_json())
    }

    /// Reads the handshake from an `open` packet.
    ///
    /// # Errors
    /// As [`OpenPacket::from_packet`].
    pub fn from_packet(packet: &Packet) -> Result<Self, OpenPacketError> {
        Self::from_json(open_text(packet)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn spec_example_handshake() {
        // > { "sid": "lv_VI97HAXpY6yYWAAAC", "upgrades": ["websocket"], "pingInterval": 25000,
        // >   "pingTimeout": 20000, "maxPayload": 1000000 }
        let json = r#"{
  "sid": "lv_VI97HAXpY6yYWAAAC",
  "upgrades": ["websocket"],
  "pingInterval": 25000,
  "pingTimeout": 20000,
  "maxPayload": 1000000
}"#;
        let h = Handshake::from_json(json).unwrap();
        let open = OpenPacket::new(
            "lv_VI97HAXpY6yYWAAAC",
            vec!["websocket".into()],
            25000,
            20000,
        );
        assert_eq!(h, Handshake::new(open, Some(1_000_000)));
        assert_eq!(
            h.to_json(),
            r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
        );
    }

    #[test]
    fn without_max_payload_and_errors() {
        let h = Handshake::from_json(r#"{"sid":"x","pingInterval":2,"pingTimeout":1}"#).unwrap();
        assert_eq!(h.max_payload, None);
        assert_eq!(
            h.to_json(),
            r#"{"sid":"x","upgrades":[],"pingInterval":2,"pingTimeout":1}"#
        );
        assert!(matches!(
            Handshake::from_json(r#"{"sid":"x","pingInterval":2,"pingTimeout":1,"maxPayload":-1}"#),
            Err(OpenPacketError::Json(_))
        ));
        assert_eq!(
            Handshake::from_packet(&Packet::empty(PacketType::Ping)),
            Err(OpenPacketError::NotOpen(PacketType::Ping))
        );
        assert_eq!(
            Handshake::from_packet(&Packet::binary(PacketType::Open, vec![1u8])),
            Err(OpenPacketError::Binary)
        );
    }
}
