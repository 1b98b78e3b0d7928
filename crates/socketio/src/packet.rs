//! [`Packet`]: one Socket.IO packet, decoded from the wire or built to send, and its wire
//! form `<type>[<n>-][<nsp>,][<id>][JSON]` + attachments.
//!
//! A packet keeps its JSON as text: decoding checks it (one pass, nothing built) and an
//! application reads it when it wants, as a [`Value`] or any serde type. The event name is
//! found during that pass. Encoding a decoded packet again copies its text; building one
//! writes the JSON once, so a broadcast encodes once for every receiver.

use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::config::Limits;
use crate::error::DecodeError;
use crate::packet_type::PacketType;
use crate::shape::{self, First, Shape, StrRef};
use crate::value::Value;
use crate::version::ProtocolVersion;

/// Event names socket.io-parser 4.x refuses ("These strings must not be used as event names,
/// as they have a special meaning").
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// One Socket.IO packet.
///
/// Decoded by a [`crate::Decoder`], or built with [`Packet::connect`], [`Packet::event`],
/// [`Packet::ack`], … (which check what the decoder checks, so a built packet always
/// decodes). Encode with [`Packet::encode_text`] / [`Packet::to_messages`].
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    kind: PacketType,
    id: Option<u64>,
    /// The wire text (decoded) or namespace + JSON (built); the spans point into it.
    text: String,
    /// The namespace, `None` for `/`.
    nsp: Option<(usize, usize)>,
    /// The JSON payload.
    json: Option<(usize, usize)>,
    /// An event's name, when it is a string.
    name: Option<StrRef>,
    attachments: Vec<Bytes>,
}

// ---- reading ---------------------------------------------------------------------------

impl Packet {
    /// The packet type as it was on the wire (a built event or ack with binary data is
    /// [`PacketType::BinaryEvent`] / [`PacketType::BinaryAck`]).
    #[must_use]
    pub fn kind(&self) -> PacketType {
        self.kind
    }

    /// The namespace (`/` when the wire leaves it out). In revision 4 a `CONNECT`'s namespace
    /// may carry a query string (`/admin?token=1`); see [`Packet::nsp_path`].
    #[must_use]
    pub fn nsp(&self) -> &str {
        match self.nsp {
            Some((a, b)) => &self.text[a..b],
            None => "/",
        }
    }

    /// The namespace without a query string, and the query string (revision 4's auth, "The
    /// client may include additional information (i.e. for authentication purpose) in the
    /// namespace field", v4 spec).
    #[must_use]
    pub fn nsp_path(&self) -> (&str, Option<&str>) {
        let nsp = self.nsp();
        match nsp.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (nsp, None),
        }
    }

    /// The ack id.
    #[must_use]
    pub fn id(&self) -> Option<u64> {
        self.id
    }

    /// Sets the ack id (an event that asks for an ack, or the ack that answers one).
    pub fn set_id(&mut self, id: Option<u64>) {
        self.id = id;
    }

    /// The packet with its ack id set to `id`.
    #[must_use]
    pub fn with_id(mut self, id: u64) -> Self {
        self.id = Some(id);
        self
    }

    /// The JSON payload as text, placeholders and all.
    #[must_use]
    pub fn json(&self) -> Option<&str> {
        self.json.map(|(a, b)| &self.text[a..b])
    }

    /// The binary attachments, in placeholder order.
    #[must_use]
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// An event's name: the first element of its array, when it is a string.
    #[must_use]
    pub fn event_name(&self) -> Option<&str> {
        self.name.as_ref().map(|n| n.get(&self.text))
    }

    /// The payload as a [`Value`], attachments in place of their placeholders.
    ///
    /// # Errors
    /// Only for a packet whose JSON was not checked by this crate (never for a decoded or a
    /// built one).
    pub fn value(&self) -> Result<Option<Value>, DecodeError> {
        self.json()
            .map(|j| {
                if self.kind.is_binary() {
                    Value::from_json(j, &self.attachments)
                } else {
                    Value::parse(j)
                }
            })
            .transpose()
    }

    /// An event's arguments (the array after the name) or an ack's (the whole array), as
    /// values with attachments in place. Empty for other packets.
    ///
    /// # Errors
    /// As [`Packet::value`].
    pub fn args(&self) -> Result<Vec<Value>, DecodeError> {
        let mut items = match self.value()? {
            Some(Value::Array(items)) => items,
            _ => return Ok(Vec::new()),
        };
        if self.kind.is_event() && !items.is_empty() {
            items.remove(0);
        }
        Ok(items)
    }

    /// The payload as a serde type. Without attachments this reads the JSON text directly;
    /// with them it goes through [`Value`] (binary is offered as bytes).
    ///
    /// # Errors
    /// When the payload does not have the shape `T` expects, or there is none.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, crate::de::ValueDeError> {
        use serde::de::Error as _;
        let json = self
            .json()
            .ok_or_else(|| crate::de::ValueDeError::custom("the packet has no payload"))?;
        if !self.kind.is_binary() {
            serde_json::from_str(json).map_err(crate::de::ValueDeError::custom)
        } else {
            let v = Value::from_json(json, &self.attachments)
                .map_err(crate::de::ValueDeError::custom)?;
            T::deserialize(&v)
        }
    }
}

// ---- the payload rules, shared by decoding and building ---------------------------------

/// socket.io-parser's `isPayloadValid`, per revision; `None` is a packet without payload.
fn check_payload(
    version: ProtocolVersion,
    kind: PacketType,
    shape: Option<&Shape>,
) -> Result<(), Refusal> {
    use PacketType as T;
    let ok = match (kind, shape) {
        // v5 spec: "The payload is mandatory and MUST be a non-empty array" (events) / "MUST
        // be an array (possibly empty)" (acks). socket.io-parser lets an event or ack
        // without payload through; the spec's rule is the one applied here.
        (T::Event | T::BinaryEvent | T::Ack | T::BinaryAck, None) => false,
        (_, None) => true,
        // 4.x: `case CONNECT: return isObject(payload)`; 3.x: `typeof payload === "object"`.
        (T::Connect, Some(s)) => match version {
            ProtocolVersion::V5 => *s == Shape::Object,
            ProtocolVersion::V4 => matches!(s, Shape::Object | Shape::Array(_) | Shape::Null),
        },
        // `case DISCONNECT: return payload === undefined`.
        (T::Disconnect, Some(_)) => false,
        // 4.x: `typeof payload === "string" || isObject(payload)`; 3.x: string or object.
        (T::ConnectError, Some(s)) => match version {
            ProtocolVersion::V5 => matches!(s, Shape::String | Shape::Object),
            ProtocolVersion::V4 => matches!(
                s,
                Shape::String | Shape::Object | Shape::Array(_) | Shape::Null
            ),
        },
        // `Array.isArray(payload) && (typeof payload[0] === "number" || (typeof payload[0]
        // === "string" && RESERVED_EVENTS.indexOf(payload[0]) === -1))` (3.x: no reserved
        // names).
        (T::Event | T::BinaryEvent, Some(Shape::Array(First::Number))) => true,
        (T::Event | T::BinaryEvent, Some(Shape::Array(First::Str(_)))) => {
            return Ok(()); // the name is checked by the caller, who can read it
        }
        (T::Event | T::BinaryEvent, Some(_)) => false,
        // `case ACK: case BINARY_ACK: return Array.isArray(payload)`.
        (T::Ack | T::BinaryAck, Some(s)) => matches!(s, Shape::Array(_)),
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::Payload(kind.name()))
    }
}

enum Refusal {
    Payload(&'static str),
}

fn check_name(version: ProtocolVersion, name: &str) -> bool {
    version == ProtocolVersion::V4 || !RESERVED_EVENTS.contains(&name)
}

// ---- decoding ----------------------------------------------------------------------------

/// A decoded packet text: the packet, and how many attachments it still waits for.
pub(crate) struct Header {
    pub(crate) packet: Packet,
    pub(crate) attachments: usize,
}

/// Decodes the text of one packet (an Engine.io text message), following socket.io-parser's
/// `decodeString` with the strictness noted at each step.
pub(crate) fn decode_text(
    text: String,
    version: ProtocolVersion,
    limits: &Limits,
) -> Result<Header, DecodeError> {
    if text.len() > limits.max_packet_bytes {
        return Err(DecodeError::PacketTooLarge {
            limit: limits.max_packet_bytes,
        });
    }
    let b = text.as_bytes();
    // `type: Number(str.charAt(0))` / "unknown packet type". (The reference reads "" and
    // " " as type 0, `Number("") === 0`; an empty or blank type is refused here.)
    let first = *b.first().ok_or(DecodeError::Empty)?;
    let kind = PacketType::from_char(first).ok_or(DecodeError::UnknownType(first))?;
    let mut i = 1;

    // "look up attachments if type binary": digits up to `-`. (The reference compares with
    // `buf != Number(buf)`, which also lets " 1", "1e0" or "0x1" through; ASCII digits only
    // here.)
    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || b.get(i) != Some(&b'-') {
            return Err(DecodeError::IllegalAttachments);
        }
        // Digits past the limit's width cannot be under it; never parse an unbounded run.
        let n = core::str::from_utf8(&b[start..i])
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        // 4.2: "if (!isInteger(n) || n < 1) throw new Error("Illegal attachments")"; 3.x lets
        // 0 through (a binary packet that is complete at once).
        if n == 0 && version == ProtocolVersion::V5 {
            return Err(DecodeError::IllegalAttachments);
        }
        // 4.2: "else if (n > this.opts.maxAttachments) throw new Error("too many
        // attachments")".
        if n > limits.max_attachments {
            return Err(DecodeError::TooManyAttachments {
                limit: limits.max_attachments,
            });
        }
        attachments = n;
        i += 1;
    }

    // "look up namespace (if any)": from `/` to `,` or the end.
    let mut nsp = None;
    if b.get(i) == Some(&b'/') {
        let start = i;
        while i < b.len() && b[i] != b',' {
            i += 1;
        }
        nsp = Some((start, i));
        if i < b.len() {
            i += 1; // the ','
        }
    }

    // "look up id": a run of digits. (The reference's `Number(c) == c` also takes a space as
    // a digit; digits only here. An id past 64 bits is refused, `InvalidId`, where the
    // reference keeps `Number(digits)`, a rounded double.)
    let mut id = None;
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        let digits = core::str::from_utf8(&b[start..i]).map_err(|_| DecodeError::InvalidId)?;
        id = Some(digits.parse::<u64>().map_err(|_| DecodeError::InvalidId)?);
    }

    // "look up json data": the rest, through `JSON.parse`.
    let mut json = None;
    let mut name = None;
    let mut shape = None;
    let mut bad_placeholder = false;
    if i < b.len() {
        // A binary packet's placeholders need the full walk; everything else takes the
        // byte scanner, which accepts the same texts (see `scan.rs`).
        let s = if kind.is_binary() {
            let (s, bad) = shape::check(&text[i..], i, Some(attachments))?;
            bad_placeholder = bad;
            s
        } else {
            crate::scan::check(&text[i..], i)?
        };
        if let Shape::Array(First::Str(n)) = &s {
            name = Some(n.clone());
        }
        shape = Some(s);
        json = Some((i, b.len()));
    }
    check_payload(version, kind, shape.as_ref())
        .map_err(|Refusal::Payload(k)| DecodeError::InvalidPayload(k))?;
    if kind.is_event() {
        if let Some(n) = &name {
            let n = n.get(&text);
            if !check_name(version, n) {
                return Err(DecodeError::ReservedEventName(n.into()));
            }
        }
    } else {
        name = None;
    }
    // socket.io-parser reconstructs (and refuses a placeholder that names no attachment)
    // after `isPayloadValid`; pushwire checks placeholders when the header arrives.
    if bad_placeholder {
        return Err(DecodeError::IllegalPlaceholder);
    }
    Ok(Header {
        packet: Packet {
            kind,
            id,
            text,
            nsp,
            json,
            name,
            attachments: Vec::new(),
        },
        attachments,
    })
}

impl Packet {
    pub(crate) fn push_attachment(&mut self, b: Bytes) {
        self.attachments.push(b);
    }

    pub(crate) fn text_len(&self) -> usize {
        self.text.len()
    }
}

mod build;
