//! [`Packet`]: one Socket.IO packet, decoded from the wire or built to send, and its wire
//! form `<type>[<n>-][<nsp>,][<id>][JSON]` + attachments.
//!
//! A packet keeps its JSON as text: decoding checks it (one pass, nothing built) and an
//! application reads it when it wants, as a [`Value`] or any serde type. The event name is
//! found during that pass. Encoding a decoded packet again copies its text; building one
//! writes the JSON once, so a broadcast encodes once for every receiver.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use bytes::Bytes;
use pushwire_engineio::PacketData;
use serde::de::DeserializeOwned;

use crate::config::Limits;
use crate::error::{BuildError, DecodeError};
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

// ---- building ----------------------------------------------------------------------------

fn check_nsp(nsp: &str) -> Result<(), BuildError> {
    if nsp.starts_with('/') && !nsp.contains(',') {
        Ok(())
    } else {
        Err(BuildError::InvalidNamespace(nsp.into()))
    }
}

fn shape_of(v: &Value) -> Shape {
    match v {
        Value::Null => Shape::Null,
        Value::Bool(_) => Shape::Bool,
        Value::Number(_) => Shape::Number,
        Value::String(_) => Shape::String,
        // Binary at the top becomes a placeholder object.
        Value::Binary(_) | Value::Object(_) => Shape::Object,
        Value::Array(items) => Shape::Array(match items.first() {
            None => First::Empty,
            Some(Value::String(_)) => First::Str(StrRef::Span(0, 0)),
            Some(Value::Number(_)) => First::Number,
            Some(_) => First::Other,
        }),
    }
}

impl Packet {
    /// Builds a packet of any type, checking it as the decoder of `version` would: the
    /// namespace (starts with `/`, no `,`), the payload's shape for the type, a reserved
    /// event name (revision 5). An event or ack whose data holds binary becomes
    /// [`PacketType::BinaryEvent`] / [`PacketType::BinaryAck`], one without becomes
    /// [`PacketType::Event`] / [`PacketType::Ack`] (socket.io-parser's encoder does the
    /// same: "if (hasBinary(obj))").
    ///
    /// # Errors
    /// [`BuildError`] naming the rule the packet breaks.
    pub fn new(
        version: ProtocolVersion,
        kind: PacketType,
        nsp: &str,
        id: Option<u64>,
        data: Option<&Value>,
    ) -> Result<Packet, BuildError> {
        check_nsp(nsp)?;
        let shape = data.map(shape_of);
        check_payload(version, kind, shape.as_ref())
            .map_err(|Refusal::Payload(k)| BuildError::InvalidData(k))?;
        let kind = kind_for(kind, data.is_some_and(Value::has_binary))?;
        let mut text = String::new();
        let nsp_span = (nsp != "/").then(|| {
            text.push_str(nsp);
            (0, nsp.len())
        });
        let mut attachments = Vec::new();
        let mut json = None;
        let mut name = None;
        if let Some(v) = data {
            let start = text.len();
            v.to_json(&mut text, &mut attachments);
            json = Some((start, text.len()));
            if kind.is_event() {
                if let Some(Value::String(n)) = v.as_array().and_then(<[Value]>::first) {
                    if !check_name(version, n) {
                        return Err(BuildError::ReservedEventName(n.clone()));
                    }
                    name = Some(StrRef::Owned(n.clone()));
                }
            }
        }
        Ok(Packet {
            kind,
            id,
            text,
            nsp: nsp_span,
            json,
            name,
            attachments,
        })
    }

    /// A `CONNECT`: the client's request (revision 5: with an optional auth object), or the
    /// server's acceptance (revision 5: `{"sid": …}`; revision 4: no payload).
    ///
    /// # Errors
    /// A bad namespace, or data that is not an object (revision 5).
    pub fn connect(
        version: ProtocolVersion,
        nsp: &str,
        data: Option<&Value>,
    ) -> Result<Packet, BuildError> {
        Self::new(version, PacketType::Connect, nsp, None, data)
    }

    /// A `DISCONNECT` (never has a payload).
    ///
    /// # Errors
    /// A bad namespace.
    pub fn disconnect(nsp: &str) -> Result<Packet, BuildError> {
        Self::new(ProtocolVersion::V5, PacketType::Disconnect, nsp, None, None)
    }

    /// An event `[name, ...args]`; binary anywhere in `args` makes it a `BINARY_EVENT`. Ask
    /// for an ack with [`Packet::with_id`].
    ///
    /// # Errors
    /// A bad namespace, or a reserved name (revision 5).
    pub fn event(
        version: ProtocolVersion,
        nsp: &str,
        name: &str,
        args: &[Value],
    ) -> Result<Packet, BuildError> {
        let mut items = Vec::with_capacity(args.len() + 1);
        items.push(Value::String(name.into()));
        items.extend_from_slice(args);
        Self::new(
            version,
            PacketType::Event,
            nsp,
            None,
            Some(&Value::Array(items)),
        )
    }

    /// The ack answering event `id`, with `args` (binary makes it a `BINARY_ACK`).
    ///
    /// # Errors
    /// A bad namespace.
    pub fn ack(nsp: &str, id: u64, args: &[Value]) -> Result<Packet, BuildError> {
        let data = Value::Array(args.to_vec());
        Self::new(
            ProtocolVersion::V5,
            PacketType::Ack,
            nsp,
            Some(id),
            Some(&data),
        )
    }

    /// The refusal of a namespace: revision 5 sends `{"message": …}` (plus `data` when
    /// given), revision 4 the message as a string.
    ///
    /// # Errors
    /// A bad namespace.
    pub fn connect_error(
        version: ProtocolVersion,
        nsp: &str,
        message: &str,
        data: Option<Value>,
    ) -> Result<Packet, BuildError> {
        let v = match version {
            ProtocolVersion::V4 => Value::String(message.into()),
            ProtocolVersion::V5 => {
                let mut m = crate::value::Map::new();
                m.insert("message", Value::String(message.into()));
                if let Some(d) = data {
                    m.insert("data", d);
                }
                Value::Object(m)
            }
        };
        Self::new(version, PacketType::ConnectError, nsp, None, Some(&v))
    }
}

impl Packet {
    /// An event `[name, ...args]` from any serde type, written in one pass (no [`Value`] in
    /// between): a tuple or sequence gives the arguments, `()` (anything written as `null`)
    /// none, anything else is the one argument (`(None::<T>,)` sends one `null`).
    /// Bytes (`serialize_bytes`: `serde_bytes`, [`bytes::Bytes`]) become attachments and
    /// make it a `BINARY_EVENT`.
    ///
    /// ```
    /// use pushwire_socketio::{Packet, ProtocolVersion};
    ///
    /// let p = Packet::event_with(ProtocolVersion::V5, "/", "move", &(1, "up"))?;
    /// assert_eq!(p.to_text(), r#"2["move",1,"up"]"#);
    /// let p = Packet::event_with(ProtocolVersion::V5, "/", "ping", &())?;
    /// assert_eq!(p.to_text(), r#"2["ping"]"#);
    /// # Ok::<(), pushwire_socketio::BuildError>(())
    /// ```
    ///
    /// # Errors
    /// A bad namespace, a reserved name (revision 5), or a `Serialize` failure.
    pub fn event_with<T: serde::Serialize + ?Sized>(
        version: ProtocolVersion,
        nsp: &str,
        name: &str,
        args: &T,
    ) -> Result<Packet, BuildError> {
        check_nsp(nsp)?;
        if !check_name(version, name) {
            return Err(BuildError::ReservedEventName(name.into()));
        }
        let mut buf = Self::nsp_prefix(nsp);
        let start = buf.len();
        buf.push(b'[');
        let mut name_json = String::new();
        crate::json::write_str(&mut name_json, name);
        buf.extend_from_slice(name_json.as_bytes());
        let name_span = if name_json.len() == name.len() + 2 {
            Some(StrRef::Span(start + 2, start + 2 + name.len()))
        } else {
            None
        };
        buf.push(b',');
        let at = buf.len();
        let attachments = crate::json::serialize_into(&mut buf, args)?;
        splice_args(&mut buf, at);
        let name = name_span.or_else(|| Some(StrRef::Owned(name.into())));
        Self::from_parts(PacketType::Event, nsp, None, buf, start, name, attachments)
    }

    /// The ack answering event `id`, from any serde type: a tuple or sequence gives the
    /// arguments, anything else is the one argument (`()` is no argument).
    ///
    /// # Errors
    /// A bad namespace, or a `Serialize` failure.
    pub fn ack_with<T: serde::Serialize + ?Sized>(
        nsp: &str,
        id: u64,
        args: &T,
    ) -> Result<Packet, BuildError> {
        check_nsp(nsp)?;
        let mut buf = Self::nsp_prefix(nsp);
        let start = buf.len();
        buf.push(b'[');
        let at = buf.len();
        let attachments = crate::json::serialize_into(&mut buf, args)?;
        if buf.get(at) == Some(&b'[') {
            buf.remove(start); // it was an array already: drop the one added
        } else if &buf[at..] == b"null" {
            buf.truncate(at); // `()`: no arguments
            buf.push(b']');
        } else {
            buf.push(b']');
        }
        Self::from_parts(
            PacketType::Ack,
            nsp,
            Some(id),
            buf,
            start,
            None,
            attachments,
        )
    }

    /// A packet of any type whose payload comes from a serde type, checked like
    /// [`Packet::new`] (by the first character of the JSON written; an event's name by
    /// [`Packet::event_with`]'s rules is not checked here: use that for events).
    ///
    /// # Errors
    /// A bad namespace, data that does not suit the type, or a `Serialize` failure.
    pub fn new_with<T: serde::Serialize + ?Sized>(
        version: ProtocolVersion,
        kind: PacketType,
        nsp: &str,
        id: Option<u64>,
        data: &T,
    ) -> Result<Packet, BuildError> {
        check_nsp(nsp)?;
        let mut buf = Self::nsp_prefix(nsp);
        let start = buf.len();
        let attachments = crate::json::serialize_into(&mut buf, data)?;
        let shape = match buf.get(start) {
            Some(b'{') => Shape::Object,
            Some(b'[') => Shape::Array(First::Other),
            Some(b'"') => Shape::String,
            Some(b'n') => Shape::Null,
            Some(b't' | b'f') => Shape::Bool,
            _ => Shape::Number,
        };
        let shape = match (kind, shape) {
            // An event is checked by its first element: read it properly.
            (PacketType::Event | PacketType::BinaryEvent, Shape::Array(_)) => {
                let text = core::str::from_utf8(&buf[start..])
                    .map_err(|_| BuildError::InvalidData(kind.name()))?;
                shape::check(text, start, None)
                    .map(|(s, _)| s)
                    .map_err(|_| BuildError::InvalidData(kind.name()))?
            }
            (_, s) => s,
        };
        check_payload(version, kind, Some(&shape))
            .map_err(|Refusal::Payload(k)| BuildError::InvalidData(k))?;
        let name = match &shape {
            Shape::Array(First::Str(n)) if kind.is_event() => Some(n.clone()),
            _ => None,
        };
        let p = Self::from_parts(kind, nsp, id, buf, start, name, attachments)?;
        if let Some(n) = p.event_name() {
            if !check_name(version, n) {
                return Err(BuildError::ReservedEventName(n.into()));
            }
        }
        Ok(p)
    }

    fn nsp_prefix(nsp: &str) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64);
        if nsp != "/" {
            buf.extend_from_slice(nsp.as_bytes());
        }
        buf
    }

    fn from_parts(
        kind: PacketType,
        nsp: &str,
        id: Option<u64>,
        buf: Vec<u8>,
        start: usize,
        name: Option<StrRef>,
        attachments: Vec<Bytes>,
    ) -> Result<Packet, BuildError> {
        let kind = kind_for(kind, !attachments.is_empty())?;
        let text = String::from_utf8(buf)
            .map_err(|_| BuildError::Serialize("serializer wrote invalid UTF-8".into()))?;
        let len = text.len();
        Ok(Packet {
            kind,
            id,
            text,
            nsp: (nsp != "/").then_some((0, nsp.len())),
            json: Some((start, len)),
            name,
            attachments,
        })
    }
}

/// The type a built packet goes out as: an event or ack is binary exactly when its data
/// holds binary (socket.io-parser's encoder, "if (obj.type === PacketType.EVENT || obj.type
/// === PacketType.ACK) { if (hasBinary(obj))"). Binary in any other packet is refused: it
/// would send attachments that no decoder waits for. Both builders go through here.
fn kind_for(kind: PacketType, binary: bool) -> Result<PacketType, BuildError> {
    Ok(match kind {
        PacketType::Event | PacketType::BinaryEvent if binary => PacketType::BinaryEvent,
        PacketType::Event | PacketType::BinaryEvent => PacketType::Event,
        PacketType::Ack | PacketType::BinaryAck if binary => PacketType::BinaryAck,
        PacketType::Ack | PacketType::BinaryAck => PacketType::Ack,
        k if binary => return Err(BuildError::InvalidData(k.name())),
        k => k,
    })
}

/// After `[name,` the arguments were written at `at`: an array's elements join the name's
/// array (`[a,b]` → `a,b]`, `[]` → `]` with the comma gone); `null` (`()`) is no argument;
/// anything else is one argument and closes the array.
fn splice_args(buf: &mut Vec<u8>, at: usize) {
    match buf.get(at) {
        Some(b'[') if buf.get(at + 1) == Some(&b']') => {
            buf.truncate(at - 1);
            buf.push(b']');
        }
        Some(b'[') => {
            buf.remove(at);
        }
        Some(b'n') if &buf[at..] == b"null" => {
            buf.truncate(at - 1);
            buf.push(b']');
        }
        _ => buf.push(b']'),
    }
}

// ---- encoding ----------------------------------------------------------------------------

impl Packet {
    /// Appends the packet's text: `<type>[<n>-][<nsp>,][<id>][JSON]` (socket.io-parser's
    /// `encodeAsString`: "if (obj.nsp && "/" !== obj.nsp) str += obj.nsp + ","").
    pub fn encode_text(&self, out: &mut String) {
        out.push(self.kind.as_char() as char);
        if self.kind.is_binary() {
            let _ = write!(out, "{}-", self.attachments.len());
        }
        if self.nsp() != "/" {
            out.push_str(self.nsp());
            out.push(',');
        }
        if let Some(id) = self.id {
            let _ = write!(out, "{id}");
        }
        if let Some(j) = self.json() {
            out.push_str(j);
        }
    }

    /// The packet's text ([`Packet::encode_text`]) in a new string.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(self.text.len() + 24);
        self.encode_text(&mut s);
        s
    }

    /// The Engine.io messages that carry the packet: the text, then each attachment as a
    /// binary message ("+ binary attachments extracted").
    #[must_use]
    pub fn to_messages(&self) -> Vec<PacketData> {
        let mut v = Vec::with_capacity(1 + self.attachments.len());
        v.push(PacketData::Text(self.to_text()));
        v.extend(self.attachments.iter().cloned().map(PacketData::Binary));
        v
    }
}
