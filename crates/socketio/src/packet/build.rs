//! Building packets (from [`Value`]s, or from serde types in one pass) and encoding them:
//! the text form, and the Engine.io messages with their attachments.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use bytes::Bytes;
use pushwire_engineio::PacketData;

use crate::error::BuildError;
use crate::packet_type::PacketType;
use crate::shape::{self, First, Shape, StrRef};
use crate::value::Value;
use crate::version::ProtocolVersion;

use super::{check_name, check_payload, Packet, Refusal};

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
        // The type digit first, as on the wire (see `nsp_prefix`).
        let mut text = String::new();
        text.push(char::from(kind.as_char()));
        let nsp_span = (nsp != "/").then(|| {
            text.push_str(nsp);
            (1, 1 + nsp.len())
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
        // A name JSON writes as it is (no quote, backslash or control character: the usual
        // case) goes straight in, and the packet keeps a span of it.
        let plain = name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        let name_span = if plain {
            buf.push(b'"');
            buf.extend_from_slice(name.as_bytes());
            buf.push(b'"');
            Some(StrRef::Span(start + 2, start + 2 + name.len()))
        } else {
            let mut name_json = String::new();
            crate::json::write_str(&mut name_json, name);
            buf.extend_from_slice(name_json.as_bytes());
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

    /// The start of a built packet's text: a byte for the type digit (set by
    /// [`Packet::from_parts`] once the type is known), then the namespace unless it is `/`.
    /// With the digit in place, a packet for `/` without an id or attachments already holds
    /// its wire text, and [`Packet::into_messages`] sends it without a copy.
    fn nsp_prefix(nsp: &str) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64);
        buf.push(b'0');
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
        let mut buf = buf;
        buf[0] = kind.as_char();
        let text = String::from_utf8(buf)
            .map_err(|_| BuildError::Serialize("serializer wrote invalid UTF-8".into()))?;
        let len = text.len();
        Ok(Packet {
            kind,
            id,
            text,
            nsp: (nsp != "/").then_some((1, 1 + nsp.len())),
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

    /// [`Packet::to_messages`], consuming the packet: when its text already is the wire text
    /// (a packet for `/` without an ack id or attachments, built — the common emit — or
    /// decoded), that string is sent instead of a copy.
    ///
    /// ```
    /// use pushwire_engineio::PacketData;
    /// use pushwire_socketio::{Packet, ProtocolVersion};
    ///
    /// let p = Packet::event_with(ProtocolVersion::V5, "/", "move", &(1, "up"))?;
    /// assert_eq!(p.clone().into_messages(), p.to_messages());
    /// assert_eq!(p.into_messages(), [PacketData::Text(r#"2["move",1,"up"]"#.into())]);
    /// # Ok::<(), pushwire_socketio::BuildError>(())
    /// ```
    #[must_use]
    pub fn into_messages(self) -> Vec<PacketData> {
        let digit = self.kind.as_char();
        let whole = self.text.len();
        let simple = self.id.is_none() && self.nsp.is_none() && self.attachments.is_empty();
        match self.json {
            // The type digit, then the JSON to the end: the wire text.
            Some((1, end)) if simple && end == whole && self.text.as_bytes()[0] == digit => {
                alloc::vec![PacketData::Text(self.text)]
            }
            _ => self.to_messages(),
        }
    }
}
