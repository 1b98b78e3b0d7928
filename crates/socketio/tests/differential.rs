//! Differential test against the reference implementations, socket.io-parser 3.4.3
//! (revision 4) and 4.2.7 (revision 5).
//!
//! `tests/fixtures/sio-vectors.json` is written by `tests/interop/node/gen-sio-vectors.js`,
//! which runs both parsers; every expected value comes from there. Two sections:
//!
//! * `encode`: a packet and the Engine.io messages the reference's `Encoder` writes for it.
//!   pushwire builds the same packet ([`Packet::new`]) and must write the same messages,
//!   byte for byte.
//! * `decode`: a sequence of Engine.io messages and what the reference's `Decoder` made of
//!   it: the packets it emitted, then its first error. pushwire's [`Decoder`] must emit the
//!   same packets and fail where the reference fails, with the matching [`DecodeError`].
//!
//! Decoded packets are compared structurally: the type, the namespace, the ack id and the
//! data, numbers as the doubles JavaScript holds, **objects without regard to key order**
//! (a JavaScript object lists integer-like keys first, whatever their order in the text;
//! pushwire keeps the text's order). The encode section never has integer-like keys, so
//! its text comparison is exact.
//!
//! Two reference behaviours are normalised, not listed, because they are differences of
//! naming only: socket.io-parser 4.2.7 reports a decoded `BINARY_EVENT` / `BINARY_ACK` as
//! `EVENT` / `ACK` (its `Decoder.add` rewrites `packet.type`), and 3.4.3 reports an unknown
//! packet type as a decoded `ERROR` packet whose data starts with "parser error: " (the
//! generator records that as the error it is).
//!
//! Where pushwire deliberately differs, the case is in [`DIVERGENCES`] with its [`Quirk`];
//! each quirk is also a predicate on the input and both outcomes, so the list stays honest
//! (a listed case must differ, and differ the way its quirk says), and a difference that is
//! not listed fails the test. [`live_vectors`] runs the same comparison over a freshly
//! generated file (`SIO_VECTORS`, set by `cargo xtask interop socketio-parser`), where case
//! names are new: there a difference passes only when a quirk's predicate recognises it.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use pushwire_socketio::{Decoder, Limits, Packet, PacketData, PacketType, ProtocolVersion, Value};
use serde_json::Value as J;

const FIXTURE: &str = include_str!("fixtures/sio-vectors.json");

/// Why pushwire differs from the reference on a case. Each is documented at the decoder
/// check that causes it (crates/socketio/src/packet.rs, value.rs, config.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Quirk {
    /// The reference reads the type with `Number(str.charAt(0))`, so an empty text or one
    /// starting with whitespace is a `CONNECT` (`Number("") === 0`); pushwire refuses it
    /// (`Empty` / `UnknownType`).
    BlankType,
    /// The reference checks an attachment count with `buf != Number(buf)`, so "", " 1",
    /// "1.0", "+1", "0x1" pass; pushwire takes ASCII digits only (`IllegalAttachments`).
    AttachmentCountNotDigits,
    /// The reference's id loop takes whitespace as a digit (`Number(" ") == " "`), so
    /// `2 ["a"]` has the ack id 0 and `2 1["a"]` the id 1; pushwire reads digits only, and
    /// the whitespace then belongs to the JSON.
    WhitespaceInId,
    /// An event or ack without payload: the reference lets it through, pushwire applies
    /// the spec's "The payload is mandatory" (`InvalidPayload`).
    EventWithoutPayload,
    /// A placeholder whose `num` is a fraction: the reference puts `undefined` in its place
    /// (`buffers[0.5]`), pushwire refuses it (`IllegalPlaceholder`).
    FractionalPlaceholder,
    /// JSON nested deeper than 128 levels: `JSON.parse` takes it, pushwire refuses it
    /// (`InvalidJson`).
    DeepJson,
    /// A string escape that leaves a lone surrogate (`"\ud800"`): `JSON.parse` takes it, a
    /// Rust string cannot hold it (`InvalidJson`).
    LoneSurrogate,
    /// A number beyond the range of a double (`1e400`): `JSON.parse` makes it `Infinity`,
    /// pushwire refuses it (`InvalidJson`).
    NumberOutOfRange,
    /// An ack id beyond 64 bits: the reference keeps a rounded double, pushwire refuses it
    /// (`InvalidId`, also where the reference refuses the packet later for its JSON).
    IdOutOfRange,
    /// Revision 4: socket.io-parser 3.4 has no attachment limit; pushwire applies
    /// `Limits::max_attachments` (10, 4.2's default) to both revisions
    /// (`TooManyAttachments`).
    V4AttachmentLimit,
    /// Revision 4: a binary packet announcing 0 attachments is emitted at once by 3.4
    /// without reconstruction, its placeholders left as plain objects; pushwire checks
    /// placeholders against the 0 attachments (`IllegalPlaceholder`).
    V4ZeroAttachmentPlaceholder,
    /// Revision 4: after emitting a binary packet that announces 0 attachments, 3.4.3 keeps
    /// its reconstructor (`if (attachments === 0) this.emit('decoded', packet)` never
    /// clears it), so it waits for attachments that never complete and refuses the next
    /// text message ("got plaintext data when reconstructing a packet"); pushwire's packet
    /// is complete and the decoder goes on.
    V4ZeroAttachmentsStuck,
    /// A placeholder that names no attachment: pushwire refuses it when the header
    /// arrives, the reference only once the last attachment has (so where the input ends
    /// before that, the reference is still waiting, or refuses the next text message).
    EarlyPlaceholderCheck,
}

/// The committed fixture's cases where pushwire differs: `(case name, quirk)`.
const DIVERGENCES: &[(&str, Quirk)] = &[
    ("v4 text \"5 1-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v4 text \"5+1-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v4 text \"5-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v4 text \"50x1-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v4 text \"51 -[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v4 text \"51.0-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v5 text \"5 1-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v5 text \"5+1-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v5 text \"50x1-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v5 text \"51 -[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("v5 text \"51.0-[\\\"a\\\"]\"", Quirk::AttachmentCountNotDigits),
    ("random decode 223", Quirk::BlankType),
    ("random decode 247", Quirk::BlankType),
    ("random decode 278", Quirk::BlankType),
    ("random decode 52", Quirk::BlankType),
    ("v4 text \" 0\"", Quirk::BlankType),
    ("v4 text \" \"", Quirk::BlankType),
    ("v4 text \"\"", Quirk::BlankType),
    ("v5 text \" 0\"", Quirk::BlankType),
    ("v5 text \" \"", Quirk::BlankType),
    ("v5 text \"\"", Quirk::BlankType),
    ("v4 text \"2[\\\"a\\\",[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", Quirk::DeepJson),
    ("v5 text \"2[\\\"a\\\",[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", Quirk::DeepJson),
    ("v4 text \"51-[\\\"a\\\",{\\\"_placeholder\\\":true,\\\"num\\\":3}]\"", Quirk::EarlyPlaceholderCheck),
    ("v5 text \"51-[\\\"a\\\",{\\\"_placeholder\\\":true,\\\"num\\\":3}]\"", Quirk::EarlyPlaceholderCheck),
    ("random decode 16", Quirk::EventWithoutPayload),
    ("v4 text \"2/a,1\"", Quirk::EventWithoutPayload),
    ("v4 text \"2/a,\"", Quirk::EventWithoutPayload),
    ("v4 text \"2/a\"", Quirk::EventWithoutPayload),
    ("v4 text \"2\"", Quirk::EventWithoutPayload),
    ("v4 text \"31\"", Quirk::EventWithoutPayload),
    ("v4 text \"3\"", Quirk::EventWithoutPayload),
    ("v5 text \"2/a,1\"", Quirk::EventWithoutPayload),
    ("v5 text \"2/a,\"", Quirk::EventWithoutPayload),
    ("v5 text \"2/a\"", Quirk::EventWithoutPayload),
    ("v5 text \"2\"", Quirk::EventWithoutPayload),
    ("v5 text \"31\"", Quirk::EventWithoutPayload),
    ("v5 text \"3\"", Quirk::EventWithoutPayload),
    ("v4 placeholder num fraction", Quirk::FractionalPlaceholder),
    ("v5 placeholder num fraction", Quirk::FractionalPlaceholder),
    ("v4 text \"218446744073709551616[\\\"a\\\"]\"", Quirk::IdOutOfRange),
    ("v4 text \"299999999999999999999[\\\"a\\\"]\"", Quirk::IdOutOfRange),
    ("v5 text \"218446744073709551616[\\\"a\\\"]\"", Quirk::IdOutOfRange),
    ("v5 text \"299999999999999999999[\\\"a\\\"]\"", Quirk::IdOutOfRange),
    ("random decode 317", Quirk::LoneSurrogate),
    ("random decode 87", Quirk::LoneSurrogate),
    ("v4 text \"2[\\\"a\\\",\\\"\\\\ud800\\\"]\"", Quirk::LoneSurrogate),
    ("v4 text \"2[\\\"a\\\",\\\"\\\\udc00x\\\"]\"", Quirk::LoneSurrogate),
    ("v5 text \"2[\\\"a\\\",\\\"\\\\ud800\\\"]\"", Quirk::LoneSurrogate),
    ("v5 text \"2[\\\"a\\\",\\\"\\\\udc00x\\\"]\"", Quirk::LoneSurrogate),
    ("random decode 176", Quirk::NumberOutOfRange),
    ("v4 text \"2[\\\"a\\\",-1e400]\"", Quirk::NumberOutOfRange),
    ("v4 text \"2[\\\"a\\\",1e400]\"", Quirk::NumberOutOfRange),
    ("v5 text \"2[\\\"a\\\",-1e400]\"", Quirk::NumberOutOfRange),
    ("v5 text \"2[\\\"a\\\",1e400]\"", Quirk::NumberOutOfRange),
    ("random decode 209", Quirk::V4AttachmentLimit),
    ("random decode 315", Quirk::V4AttachmentLimit),
    ("v4 eleven attachments", Quirk::V4AttachmentLimit),
    ("v4 text \"511-[\\\"a\\\"]\"", Quirk::V4AttachmentLimit),
    ("v4 text \"599999999999999999999999-[\\\"a\\\"]\"", Quirk::V4AttachmentLimit),
    ("v4 zero attachments with a placeholder", Quirk::V4ZeroAttachmentPlaceholder),
    ("v4 text \"50-[\\\"a\\\"]\"", Quirk::V4ZeroAttachmentsStuck),
    ("v4 text \"60-[]\"", Quirk::V4ZeroAttachmentsStuck),
    ("v4 text \"2 1[\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v4 text \"2 [\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v4 text \"2\\n[\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v4 text \"2\\t[\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v5 text \"2 1[\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v5 text \"2 [\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v5 text \"2\\n[\\\"a\\\"]\"", Quirk::WhitespaceInId),
    ("v5 text \"2\\t[\\\"a\\\"]\"", Quirk::WhitespaceInId),
];

// ---- reading the fixture -------------------------------------------------------------------

fn b64(s: &str) -> Bytes {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("fixture base64")
        .into()
}

fn message(m: &J) -> PacketData {
    if let Some(t) = m.get("text").and_then(J::as_str) {
        PacketData::Text(t.into())
    } else {
        PacketData::Binary(b64(m["binary_base64"].as_str().expect("message")))
    }
}

fn version(c: &J) -> ProtocolVersion {
    match c["version"].as_u64() {
        Some(4) => ProtocolVersion::V4,
        Some(5) => ProtocolVersion::V5,
        v => panic!("version {v:?}"),
    }
}

/// The fixture, its encode cases typed so that their data keeps its key order (a
/// [`Value`] object keeps it; a `serde_json::Value` one sorts it).
#[derive(serde::Deserialize)]
struct Fixture {
    encode: Vec<EncodeCase>,
    decode: Vec<J>,
}

#[derive(serde::Deserialize)]
struct EncodeCase {
    name: String,
    version: u8,
    packet: PacketDesc,
    messages: Vec<J>,
}

/// A packet to encode. The generator never gives one `null` data (the reference's encoder
/// leaves `null` out, `if (null != obj.data)`), so `None` is "no data".
#[derive(serde::Deserialize)]
struct PacketDesc {
    #[serde(rename = "type")]
    kind: String,
    nsp: String,
    id: Option<u64>,
    data: Option<Value>,
}

/// `{"_binary_base64": …}` objects as [`Value::Binary`].
fn binaries(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(binaries).collect()),
        Value::Object(m) => match m.get("_binary_base64").and_then(Value::as_str) {
            Some(b) if m.len() == 1 => Value::Binary(b64(b)),
            _ => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), binaries(v.clone())))
                    .collect(),
            ),
        },
        v => v,
    }
}

/// A [`Value`] described as the fixture describes the reference's values (below 100 levels
/// as it is, deeper as `{"_json": its JSON text}`).
fn describe(v: &Value, level: usize) -> J {
    if level > 100 && matches!(v, Value::Array(_) | Value::Object(_)) {
        let mut text = String::new();
        v.to_json(&mut text, &mut Vec::new());
        let mut m = serde_json::Map::new();
        m.insert("_json".into(), J::String(text));
        return J::Object(m);
    }
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Number(n) => J::Number(n.clone()),
        Value::String(s) => J::String(s.clone()),
        Value::Binary(b) => {
            let mut m = serde_json::Map::new();
            m.insert(
                "_binary_base64".into(),
                J::String(base64::engine::general_purpose::STANDARD.encode(b)),
            );
            J::Object(m)
        }
        Value::Array(a) => J::Array(a.iter().map(|v| describe(v, level + 1)).collect()),
        Value::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.into(), describe(v, level + 1)))
                .collect(),
        ),
    }
}

/// A decoded packet as the fixture describes the reference's.
fn describe_packet(p: &Packet) -> J {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), J::String(p.kind().name().into()));
    m.insert("nsp".into(), J::String(p.nsp().into()));
    if let Some(id) = p.id() {
        m.insert("id".into(), J::from(id));
    }
    if let Some(v) = p.value().expect("a decoded packet's value") {
        m.insert("data".into(), describe(&v, 0));
    }
    J::Object(m)
}

/// Structural equality: numbers as doubles, objects as maps (key order ignored).
fn same(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The reference's packet with 4.2.7's type rename undone for comparison: `ours` is
/// pushwire's type.
fn same_packet(version: ProtocolVersion, ours: &J, theirs: &J, renamed: &mut usize) -> bool {
    let mut theirs = theirs.clone();
    let (ot, tt) = (ours["type"].as_str(), theirs["type"].as_str());
    if version == ProtocolVersion::V5
        && matches!(
            (ot, tt),
            (Some("BINARY_EVENT"), Some("EVENT")) | (Some("BINARY_ACK"), Some("ACK"))
        )
    {
        theirs["type"] = ours["type"].clone();
        *renamed += 1;
    }
    same(ours, &theirs)
}

/// The [`DecodeError::kind`]s that answer a reference error message.
fn error_kinds(message: &str) -> &'static [&'static str] {
    let m = message.strip_prefix("parser error: ").unwrap_or(message);
    if m.starts_with("unknown packet type") {
        &["unknown_type", "empty"]
    } else {
        match m {
            "Illegal attachments" => &["illegal_attachments"],
            "too many attachments" => &["too_many_attachments"],
            "invalid payload" => &["invalid_json", "invalid_payload", "reserved_event_name"],
            "illegal attachments" => &["illegal_placeholder"],
            "got plaintext data when reconstructing a packet" => &["unexpected_text"],
            "got binary data when not reconstructing a packet" => &["unexpected_binary"],
            _ => &[],
        }
    }
}

// ---- running pushwire ----------------------------------------------------------------------

/// What pushwire's decoder made of a case: the packets, and the first error with the index
/// of the message that caused it.
struct Ours {
    packets: Vec<J>,
    error: Option<(&'static str, usize)>,
    pending: bool,
}

fn decode_ours(version: ProtocolVersion, input: &[PacketData]) -> Ours {
    let mut dec = Decoder::new(version, Limits::DEFAULT);
    let mut packets = Vec::new();
    for (i, m) in input.iter().enumerate() {
        match dec.push(m.clone()) {
            Ok(Some(p)) => packets.push(describe_packet(&p)),
            Ok(None) => {}
            Err(e) => {
                // Sticky: the next message gets the same error.
                assert_eq!(
                    dec.push(PacketData::Text("2[\"a\"]".into())),
                    Err(e.clone())
                );
                return Ours {
                    packets,
                    error: Some((e.kind(), i)),
                    pending: false,
                };
            }
        }
    }
    Ours {
        packets,
        error: None,
        pending: dec.is_reconstructing(),
    }
}

// ---- the quirks as predicates ---------------------------------------------------------------

/// `Number(" ")` and friends: the characters `Number()` trims (ECMAScript WhiteSpace and
/// LineTerminator).
fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Where the ack id would start in `text` (after the type, the attachment count and the
/// namespace), as the reference walks it.
fn id_start(text: &str) -> usize {
    if !text.is_char_boundary(1) {
        return text.len(); // not a type digit
    }
    let b = text.as_bytes();
    let mut i = 1;
    if matches!(b.first(), Some(b'5' | b'6')) {
        match text[1..].find('-') {
            Some(d) => i = 1 + d + 1,
            None => return text.len(),
        }
    }
    if b.get(i) == Some(&b'/') {
        i = text[i..].find(',').map_or(text.len(), |c| i + c + 1);
    }
    i.min(text.len())
}

/// The deepest nesting of `[` / `{` outside strings.
fn depth(text: &str) -> usize {
    let (mut d, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for c in text.chars() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                d += 1;
                max = max.max(d);
            }
            ']' | '}' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Whether `text` has a number literal with an exponent beyond a double's range (`1e400`).
fn has_huge_number(text: &str) -> bool {
    let b = text.as_bytes();
    (1..b.len()).any(|i| {
        matches!(b[i], b'e' | b'E') && b[i - 1].is_ascii_digit() && {
            let rest = &text[i + 1..];
            let rest = rest.strip_prefix('+').unwrap_or(rest);
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.len() > 3 || digits.parse::<u32>().is_ok_and(|e| e > 308)
        }
    })
}

/// Whether `text` has a `\uXXXX` escape of a surrogate that is not half of a pair.
fn has_lone_surrogate_escape(text: &str) -> bool {
    let b = text.as_bytes();
    let unit = |i: usize| -> Option<u16> {
        if b.get(i..i + 2)? != b"\\u" {
            return None;
        }
        u16::from_str_radix(text.get(i + 2..i + 6)?, 16).ok()
    };
    let mut i = 0;
    while i < b.len() {
        match unit(i) {
            Some(0xd800..=0xdbff) => match unit(i + 6) {
                Some(0xdc00..=0xdfff) => i += 12,
                _ => return true,
            },
            Some(0xdc00..=0xdfff) => return true,
            _ => i += 1,
        }
    }
    false
}

fn contains_key(j: &J, key: &str) -> bool {
    match j {
        J::Array(a) => a.iter().any(|v| contains_key(v, key)),
        J::Object(o) => o.contains_key(key) || o.values().any(|v| contains_key(v, key)),
        _ => false,
    }
}

struct Outcome<'a> {
    version: ProtocolVersion,
    input: &'a [PacketData],
    theirs_packets: &'a [J],
    theirs_error: Option<&'a str>,
    theirs_pending: bool,
    ours: &'a Ours,
}

impl Outcome<'_> {
    /// The text of the message where the two sides part: the one pushwire failed on, or
    /// the first whose packet differs.
    fn text_at(&self, i: usize) -> Option<&str> {
        self.input.get(i).and_then(PacketData::as_text)
    }
    /// The reference's first packet that pushwire does not have.
    fn their_extra(&self) -> Option<&J> {
        self.theirs_packets.get(self.ours.packets.len())
    }
    /// The text of the message that made the reference's packet number `n`.
    fn text_of_packet(&self, n: usize) -> Option<&str> {
        let mut seen = 0;
        for m in self.input {
            if let Some(t) = m.as_text() {
                if seen == n {
                    return Some(t);
                }
                // A text message starts one packet (binary ones finish theirs).
                seen += 1;
            }
        }
        None
    }

    /// The reference still waits for attachments at the end, or refused a later text
    /// message because it did.
    fn theirs_waiting(&self) -> bool {
        self.theirs_pending
            || self.theirs_error == Some("got plaintext data when reconstructing a packet")
    }

    fn fits(&self, q: Quirk) -> bool {
        let err = self.ours.error.map(|(k, _)| k);
        let at = self.ours.error.and_then(|(_, i)| self.text_at(i));
        let v4 = self.version == ProtocolVersion::V4;
        match q {
            Quirk::BlankType => {
                matches!(err, Some("empty" | "unknown_type"))
                    && at.is_some_and(|t| t.chars().next().is_none_or(js_space))
            }
            Quirk::AttachmentCountNotDigits => {
                err == Some("illegal_attachments")
                    && at.is_some_and(|t| {
                        let rest = t.get(1..).unwrap_or("");
                        let count = rest.split('-').next().unwrap_or("");
                        rest.contains('-')
                            && (count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()))
                    })
            }
            Quirk::WhitespaceInId => {
                // The text whose packets part: pushwire's failing one, or the one whose
                // decoded packet differs (it then has another id).
                let t = self
                    .first_packet_difference()
                    .and_then(|n| self.text_of_packet(n))
                    .or(at);
                t.is_some_and(|t| {
                    let s = id_start(t);
                    t[s..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || js_space(*c))
                        .any(js_space)
                })
            }
            Quirk::EventWithoutPayload => {
                err == Some("invalid_payload")
                    && self.their_extra().is_some_and(|p| {
                        p.get("data").is_none()
                            && matches!(
                                p["type"].as_str(),
                                Some("EVENT" | "ACK" | "BINARY_EVENT" | "BINARY_ACK")
                            )
                    })
            }
            Quirk::FractionalPlaceholder => {
                err == Some("illegal_placeholder")
                    && self
                        .their_extra()
                        .is_some_and(|p| contains_key(p, "_undefined"))
            }
            Quirk::DeepJson => err == Some("invalid_json") && at.is_some_and(|t| depth(t) > 128),
            Quirk::LoneSurrogate => {
                // The reference's packet holds one, or the text pushwire refused has one
                // (the reference may still wait for its attachments, refuse its
                // placeholders, or have put an attachment where the string was).
                err == Some("invalid_json")
                    && (self
                        .their_extra()
                        .is_some_and(|p| contains_key(p, "_utf16"))
                        || at.is_some_and(has_lone_surrogate_escape))
            }
            Quirk::NumberOutOfRange => {
                // The reference's packet holds an infinity, or the text pushwire refused
                // has one (the reference may have refused it as a placeholder's `num`).
                err == Some("invalid_json")
                    && (self
                        .their_extra()
                        .is_some_and(|p| contains_key(p, "_number"))
                        || at.is_some_and(has_huge_number))
            }
            Quirk::IdOutOfRange => {
                // The reference keeps the id, or refuses the same packet for another
                // reason it finds later (its JSON).
                err == Some("invalid_id")
                    && (self
                        .their_extra()
                        .and_then(|p| p["id"].as_f64())
                        .is_some_and(|id| id >= 18_446_744_073_709_551_615.0)
                        || (self.theirs_error.is_some()
                            && self.theirs_packets.len() == self.ours.packets.len()))
            }
            Quirk::V4AttachmentLimit => v4 && err == Some("too_many_attachments"),
            Quirk::V4ZeroAttachmentPlaceholder => {
                v4 && err == Some("illegal_placeholder")
                    && at.is_some_and(|t| t.get(1..).is_some_and(|r| r.starts_with("0-")))
                    && self
                        .their_extra()
                        .is_some_and(|p| contains_key(p, "_placeholder"))
            }
            Quirk::V4ZeroAttachmentsStuck => {
                let zero_header = self.input.iter().filter_map(PacketData::as_text).any(|t| {
                    matches!(t.as_bytes().first(), Some(b'5' | b'6'))
                        && t.get(1..)
                            .and_then(|r| r.split_once('-'))
                            .is_some_and(|(n, _)| n.bytes().all(|b| b == b'0'))
                });
                v4 && zero_header
                    && (self.theirs_pending
                        || self.theirs_error
                            == Some("got plaintext data when reconstructing a packet"))
                    && !self.ours.pending
                    && self.theirs_packets.len() <= self.ours.packets.len()
            }
            Quirk::EarlyPlaceholderCheck => {
                // The reference still waits for attachments, or refuses the next text
                // message because it does.
                err == Some("illegal_placeholder")
                    && self.theirs_waiting()
                    && self.theirs_packets.len() == self.ours.packets.len()
            }
        }
    }

    fn first_packet_difference(&self) -> Option<usize> {
        let mut renamed = 0;
        (0..self.ours.packets.len().min(self.theirs_packets.len())).find(|&i| {
            !same_packet(
                self.version,
                &self.ours.packets[i],
                &self.theirs_packets[i],
                &mut renamed,
            )
        })
    }
}

const ALL_QUIRKS: [Quirk; 13] = [
    Quirk::BlankType,
    Quirk::AttachmentCountNotDigits,
    Quirk::WhitespaceInId,
    Quirk::EventWithoutPayload,
    Quirk::FractionalPlaceholder,
    Quirk::DeepJson,
    Quirk::LoneSurrogate,
    Quirk::NumberOutOfRange,
    Quirk::IdOutOfRange,
    Quirk::V4AttachmentLimit,
    Quirk::V4ZeroAttachmentPlaceholder,
    Quirk::V4ZeroAttachmentsStuck,
    Quirk::EarlyPlaceholderCheck,
];

// ---- the comparison ------------------------------------------------------------------------

#[derive(Default)]
struct Report {
    encode: usize,
    decode: usize,
    renamed: usize,
    /// Decode cases that differ: (name, the quirks whose predicate fits, a description).
    diffs: Vec<(String, Vec<Quirk>, String)>,
    /// Encode cases that differ (never allowed).
    encode_diffs: Vec<String>,
}

fn run(fixture: &str) -> Report {
    let f: Fixture = serde_json::from_str(fixture).expect("fixture JSON");
    let mut r = Report::default();
    for c in &f.encode {
        let v = match c.version {
            4 => ProtocolVersion::V4,
            _ => ProtocolVersion::V5,
        };
        let p = &c.packet;
        let kind = PacketType::from_name(&p.kind).expect("type");
        let data = p.data.clone().map(binaries);
        let want: Vec<PacketData> = c.messages.iter().map(message).collect();
        r.encode += 1;
        match Packet::new(v, kind, &p.nsp, p.id, data.as_ref()) {
            Ok(built) => {
                let got = built.to_messages();
                if got != want {
                    r.encode_diffs
                        .push(format!("{}: pushwire {got:?}, reference {want:?}", c.name));
                }
            }
            Err(e) => r
                .encode_diffs
                .push(format!("{}: pushwire refused to build it ({e})", c.name)),
        }
    }
    for c in &f.decode {
        let name = c["name"].as_str().unwrap_or("?").to_string();
        let v = version(c);
        let input: Vec<PacketData> = c["input"].as_array().unwrap().iter().map(message).collect();
        let theirs_packets = c["packets"].as_array().unwrap();
        let theirs_error = c["error"].as_str();
        let ours = decode_ours(v, &input);
        r.decode += 1;
        let mut renamed = 0;
        let packets_same = ours.packets.len() == theirs_packets.len()
            && ours
                .packets
                .iter()
                .zip(theirs_packets)
                .all(|(o, t)| same_packet(v, o, t, &mut renamed));
        let errors_same = match (ours.error, theirs_error) {
            (None, None) => ours.pending == c["pending"].as_bool().unwrap_or(false),
            (Some((k, _)), Some(m)) => error_kinds(m).contains(&k),
            _ => false,
        };
        if packets_same && errors_same {
            r.renamed += renamed;
            continue;
        }
        let o = Outcome {
            version: v,
            input: &input,
            theirs_packets,
            theirs_error,
            theirs_pending: c["pending"].as_bool().unwrap_or(false),
            ours: &ours,
        };
        let fits: Vec<Quirk> = ALL_QUIRKS.into_iter().filter(|q| o.fits(*q)).collect();
        let desc = format!(
            "input {}, reference {} then {:?}, pushwire {} then {:?}",
            serde_json::to_string(&c["input"]).unwrap(),
            serde_json::to_string(theirs_packets).unwrap(),
            theirs_error,
            serde_json::to_string(&ours.packets).unwrap(),
            ours.error
        );
        r.diffs.push((name, fits, desc));
    }
    r
}

#[test]
fn fixture_matches_the_reference_but_for_the_listed_divergences() {
    let r = run(FIXTURE);
    assert!(r.encode > 150 && r.decode > 400, "fixture too small");
    assert!(
        r.encode_diffs.is_empty(),
        "encodings differ:\n{}",
        r.encode_diffs.join("\n")
    );
    let mut problems = Vec::new();
    let listed: BTreeMap<&str, Quirk> = DIVERGENCES.iter().copied().collect();
    assert_eq!(listed.len(), DIVERGENCES.len(), "a case is listed twice");
    for (name, fits, desc) in &r.diffs {
        match listed.get(name.as_str()) {
            None => problems.push(format!("not listed: {name:?} (fits {fits:?}): {desc}")),
            Some(q) if !fits.contains(q) => problems.push(format!(
                "{name:?} is listed as {q:?} but fits {fits:?}: {desc}"
            )),
            Some(_) => {}
        }
    }
    for (name, q) in DIVERGENCES {
        if !r.diffs.iter().any(|(n, _, _)| n == name) {
            problems.push(format!("listed as {q:?} but does not differ: {name:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every quirk the decoder documents shows up in the fixture.
    let mut counts: BTreeMap<Quirk, usize> = BTreeMap::new();
    for (_, q) in DIVERGENCES {
        *counts.entry(*q).or_default() += 1;
    }
    for q in ALL_QUIRKS {
        assert!(counts.contains_key(&q), "no case of {q:?} in the fixture");
    }
    println!(
        "{} encode and {} decode cases; {} divergences {:?}; {} binary packets 4.2.7 calls EVENT/ACK",
        r.encode,
        r.decode,
        DIVERGENCES.len(),
        counts,
        r.renamed
    );
}

/// The same comparison over a fresh file (`SIO_VECTORS=path`, written by
/// `node tests/interop/node/gen-sio-vectors.js --seed N --out path`); without it, over the
/// committed fixture. A difference passes only when a quirk's predicate recognises it.
#[test]
fn live_vectors() {
    let text = match std::env::var("SIO_VECTORS") {
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        Err(_) => FIXTURE.to_string(),
    };
    let r = run(&text);
    assert!(r.encode > 0 && r.decode > 0, "no cases");
    assert!(
        r.encode_diffs.is_empty(),
        "encodings differ:\n{}",
        r.encode_diffs.join("\n")
    );
    let unexplained: Vec<String> = r
        .diffs
        .iter()
        .filter(|(_, fits, _)| fits.is_empty())
        .map(|(n, _, d)| format!("{n}: {d}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} differences no quirk explains:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    println!(
        "socket.io-parser differential: {} encode and {} decode cases, {} known divergences",
        r.encode,
        r.decode,
        r.diffs.len()
    );
}
