//! `pushwire decode` / `pushwire encode`: wire data in, JSON lines out, and back.
//!
//! Every subcommand reads stdin to the end and writes stdout. Exit status: 0 when the input
//! was well-formed, 1 when it was not (after writing everything decoded before the fault),
//! 2 for a usage error. See docs/cli.md for the object shapes.

use std::io::{self, BufRead, Read, Write};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use pushwire_engineio::{
    v4, Limits, Packet, PacketData, PacketType, PayloadDecoder, PayloadFormat,
};
use pushwire_sse::{Item, Parser};
use pushwire_ws::frame::{FrameHeader, HeaderDecode};
use pushwire_ws::{Config, Connection, ConnectionState, ProtocolError, Role};
use serde_json::Value;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What a subcommand ended with.
pub(crate) enum Outcome {
    /// Input well-formed.
    Ok,
    /// Input malformed (the reason was already written as a JSON object or to stderr).
    Malformed,
    /// Bad command line.
    Usage(String),
}

/// Writes one JSON object with its keys in the given order, then a newline.
fn emit(out: &mut impl Write, fields: &[(&str, Value)]) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, k)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, v)?;
    }
    out.write_all(b"}\n")
}

fn read_all_stdin() -> io::Result<Vec<u8>> {
    let mut v = Vec::new();
    io::stdin().lock().read_to_end(&mut v)?;
    Ok(v)
}

/// Which Engine.io form a command works on.
#[derive(Clone, Copy)]
enum EioForm {
    Packet,
    Payload,
}

fn parse_eio_args(args: &[String]) -> Result<(EioForm, bool), String> {
    let mut form = None;
    let mut binary = false;
    for a in args {
        match a.as_str() {
            "packet" if form.is_none() => form = Some(EioForm::Packet),
            "payload" if form.is_none() => form = Some(EioForm::Payload),
            "--binary" => binary = true,
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok((form.ok_or("eio3 takes `packet` or `payload`")?, binary))
}

/// The arguments of `eio4`: as for `eio3`, except that a revision 4 payload has no binary
/// form (engine.io 6 refuses an `application/octet-stream` body from a v4 client).
fn parse_eio4_args(args: &[String]) -> Result<(EioForm, bool), String> {
    match parse_eio_args(args) {
        Ok((EioForm::Payload, true)) => {
            Err("eio4 payloads have no binary form (binary packets are `b<base64>`)".into())
        }
        Err(_) if !args.iter().any(|a| a == "packet" || a == "payload") => {
            Err("eio4 takes `packet` or `payload`".into())
        }
        r => r,
    }
}

/// `pushwire decode …` (the arguments after `decode`).
pub(crate) fn decode(args: &[String]) -> io::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match args.first().map(String::as_str) {
        Some("sse") if args.len() == 1 => decode_sse(&mut out),
        Some("ws") => match parse_role(&args[1..]) {
            Ok(role) => decode_ws(&mut out, role),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        Some("eio3") => match parse_eio_args(&args[1..]) {
            Ok((form, binary)) => decode_eio(&mut out, form, binary),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        Some("eio4") => match parse_eio4_args(&args[1..]) {
            Ok((form, binary)) => decode_eio4(&mut out, form, binary),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        Some("socketio") => match crate::siowire::parse_args(&args[1..]) {
            Ok(version) => crate::siowire::decode(&mut out, version),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        _ => Ok(Outcome::Usage(
            "decode takes `sse`, `ws --role server|client`, `eio3 packet|payload [--binary]`, \
             `eio4 packet [--binary]|payload` or `socketio --protocol 4|5`"
                .into(),
        )),
    };
    out.flush()?;
    r
}

/// `pushwire encode …` (the arguments after `encode`).
pub(crate) fn encode(args: &[String]) -> io::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match args.first().map(String::as_str) {
        Some("sse") if args.len() == 1 => encode_sse(&mut out),
        Some("eio3") => match parse_eio_args(&args[1..]) {
            Ok((form, binary)) => encode_eio(&mut out, form, binary),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        Some("eio4") => match parse_eio4_args(&args[1..]) {
            Ok((form, binary)) => encode_eio4(&mut out, form, binary),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        Some("socketio") => match crate::siowire::parse_args(&args[1..]) {
            Ok(version) => crate::siowire::encode(&mut out, version),
            Err(e) => Ok(Outcome::Usage(e)),
        },
        _ => Ok(Outcome::Usage(
            "encode takes `sse`, `eio3 packet|payload [--binary]`, \
             `eio4 packet [--binary]|payload` or `socketio --protocol 4|5`"
                .into(),
        )),
    };
    out.flush()?;
    r
}

fn parse_role(args: &[String]) -> Result<Role, String> {
    match args {
        [flag, role] if flag == "--role" => match role.as_str() {
            "server" => Ok(Role::Server),
            "client" => Ok(Role::Client),
            other => Err(format!("--role takes server or client, not `{other}`")),
        },
        _ => Err("decode ws takes --role server|client".into()),
    }
}

// ---------------------------------------------------------------------------------------
// SSE

fn decode_sse(out: &mut impl Write) -> io::Result<Outcome> {
    let mut parser = Parser::new();
    let mut stdin = io::stdin().lock();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = stdin.read(&mut buf)?;
        if n == 0 {
            parser.feed_eof();
        } else if let Err(e) = parser.feed(&buf[..n]) {
            // Chunks are smaller than the buffer limit and every event is polled before the
            // next feed, so this only happens with a misconfigured limit.
            return Err(io::Error::other(e.to_string()));
        }
        loop {
            match parser.poll() {
                Ok(Some(Item::Event(ev))) => emit(
                    out,
                    &[
                        ("type", ev.event_type().into()),
                        ("data", ev.data().into()),
                        ("last_event_id", ev.last_event_id().into()),
                    ],
                )?,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    emit(out, &[("error", e.to_string().into())])?;
                    return Ok(Outcome::Malformed);
                }
            }
        }
        if n == 0 {
            break;
        }
    }
    emit(
        out,
        &[
            ("end", true.into()),
            ("last_event_id", parser.last_event_id().into()),
            ("retry", parser.reconnection_time().into()),
        ],
    )?;
    Ok(Outcome::Ok)
}

/// Reads JSON lines (blank lines skipped) from stdin, each an object.
fn json_lines() -> impl Iterator<Item = Result<serde_json::Map<String, Value>, String>> {
    json_object_lines(|v: Value| match v {
        Value::Object(m) => Some(m),
        _ => None,
    })
}

/// Reads JSON lines (blank lines skipped) from stdin as `V` (serde_json's `Value`, or
/// pushwire-socketio's, which keeps key order and holds binary), each an object as `object`
/// finds it.
pub(crate) fn json_object_lines<V: serde::de::DeserializeOwned, M>(
    object: fn(V) -> Option<M>,
) -> impl Iterator<Item = Result<M, String>> {
    io::stdin()
        .lock()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(move |(i, l)| {
            let l = l.map_err(|e| format!("line {}: {e}", i + 1))?;
            let v = serde_json::from_str::<V>(&l).map_err(|e| format!("line {}: {e}", i + 1))?;
            object(v).ok_or_else(|| format!("line {}: not a JSON object", i + 1))
        })
}

fn get_str<'a>(m: &'a serde_json::Map<String, Value>, k: &str) -> Result<Option<&'a str>, String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{k}` must be a string")),
    }
}

fn encode_sse(out: &mut impl Write) -> io::Result<Outcome> {
    const KEYS: [&str; 5] = ["event", "data", "id", "retry", "comment"];
    for obj in json_lines() {
        let r = obj.and_then(|m| {
            if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
                return Err(format!("unknown key `{k}`"));
            }
            let event = get_str(&m, "event")?;
            let data = get_str(&m, "data")?;
            let id = get_str(&m, "id")?;
            let comment = get_str(&m, "comment")?;
            let retry = match m.get("retry") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().ok_or("`retry` must be a non-negative integer")?),
            };
            let mut bytes = BytesMut::new();
            if event.is_none() && data.is_none() && id.is_none() && retry.is_none() {
                if let Some(c) = comment {
                    // A lone comment: comment lines, no blank line.
                    pushwire_sse::encode::encode_comment(c, &mut bytes);
                    return Ok(bytes);
                }
            }
            let mut ev = pushwire_sse::EventBuilder::new();
            if let Some(c) = comment {
                ev = ev.comment(c);
            }
            if let Some(r) = retry {
                ev = ev.retry(r);
            }
            if let Some(e) = event {
                ev = ev.event(e).map_err(|e| e.to_string())?;
            }
            if let Some(i) = id {
                ev = ev.id(i).map_err(|e| e.to_string())?;
            }
            if let Some(d) = data {
                ev = ev.data(d);
            }
            ev.encode(&mut bytes);
            Ok(bytes)
        });
        match r {
            Ok(bytes) => out.write_all(&bytes)?,
            Err(e) => {
                out.flush()?;
                eprintln!("pushwire encode sse: {e}");
                return Ok(Outcome::Malformed);
            }
        }
    }
    Ok(Outcome::Ok)
}

// ---------------------------------------------------------------------------------------
// WebSocket

fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(D[usize::from(x >> 4)]));
        s.push(char::from(D[usize::from(x & 15)]));
    }
    s
}

/// A short stable name for each protocol error (the `error` field of `decode ws`).
fn ws_error_kind(e: &ProtocolError) -> &'static str {
    match e {
        ProtocolError::Header(_) => "invalid_header",
        ProtocolError::UnmaskedFrame => "unmasked_frame",
        ProtocolError::MaskedFrame => "masked_frame",
        ProtocolError::ReservedBits(_) => "reserved_bits",
        ProtocolError::ControlFrameTooLong { .. } => "control_frame_too_long",
        ProtocolError::FragmentedControlFrame => "fragmented_control_frame",
        ProtocolError::UnexpectedContinuation => "unexpected_continuation",
        ProtocolError::ExpectedContinuation => "expected_continuation",
        ProtocolError::InvalidUtf8 => "invalid_utf8",
        ProtocolError::InvalidClose(_) => "invalid_close",
        ProtocolError::FrameTooLarge { .. } => "frame_too_large",
        ProtocolError::MessageTooLarge { .. } => "message_too_large",
        ProtocolError::TooManyFragments { .. } => "too_many_fragments",
        ProtocolError::Extension { .. } => "extension",
        ProtocolError::UnexpectedEof => "unexpected_eof",
        _ => "other",
    }
}

fn emit_ws_error(out: &mut impl Write, e: &ProtocolError) -> io::Result<Outcome> {
    emit(
        out,
        &[
            ("error", ws_error_kind(e).into()),
            ("close_code", e.close_code().into()),
        ],
    )?;
    Ok(Outcome::Malformed)
}

/// Feeds `bytes` (one frame, or what is left after the last whole frame). A refused feed
/// (past the input bound) can only be a frame longer than the connection accepts or a bad
/// header, both of which the connection finds in the header alone, so then only that is fed.
fn feed_ws(conn: &mut Connection, bytes: &[u8]) {
    if conn.feed(bytes).is_err() {
        let head = &bytes[..bytes.len().min(pushwire_ws::frame::MAX_HEADER_LEN)];
        let _ = conn.feed(head);
    }
}

/// Polls the connection until it needs more bytes; `Err` is its protocol error.
fn drain_ws(conn: &mut Connection) -> Result<(), ProtocolError> {
    while conn.poll_event()?.is_some() {}
    Ok(())
}

fn decode_ws(out: &mut impl Write, role: Role) -> io::Result<Outcome> {
    let input = read_all_stdin()?;
    // The connection validates exactly as a live one would (UTF-8 across fragments, close
    // codes, continuation order, limits); the frames themselves are split here to print them.
    let mut conn = Connection::new(role, Config::default());
    let mut pos = 0;
    while pos < input.len() {
        let rest = &input[pos..];
        let (header, header_len) = match FrameHeader::decode(rest, true) {
            Ok(HeaderDecode::Complete { header, header_len }) => (header, header_len),
            _ => break, // incomplete or invalid: the connection reports it below
        };
        let end = usize::try_from(header.payload_len)
            .ok()
            .and_then(|l| l.checked_add(header_len))
            .filter(|&e| e <= rest.len());
        let Some(end) = end else { break };
        feed_ws(&mut conn, &rest[..end]);
        if let Err(e) = drain_ws(&mut conn) {
            return emit_ws_error(out, &e);
        }
        let mut payload = rest[header_len..end].to_vec();
        if let Some(key) = header.mask {
            pushwire_ws::mask::apply_mask(&mut payload, key, 0);
        }
        emit(
            out,
            &[
                ("fin", header.fin.into()),
                ("rsv1", (header.rsv & pushwire_ws::frame::RSV1 != 0).into()),
                ("rsv2", (header.rsv & pushwire_ws::frame::RSV2 != 0).into()),
                ("rsv3", (header.rsv & pushwire_ws::frame::RSV3 != 0).into()),
                ("opcode", header.opcode.as_u8().into()),
                ("masked", header.mask.is_some().into()),
                ("payload_hex", hex(&payload).into()),
            ],
        )?;
        pos += end;
        if conn.state() == ConnectionState::Closed {
            // After the peer's Close "the endpoint MUST NOT send any more data frames", and a
            // connection reads nothing more.
            return Ok(Outcome::Ok);
        }
    }
    if pos < input.len() {
        // A bad header, or a frame cut off by the end of the input.
        feed_ws(&mut conn, &input[pos..]);
        if let Err(e) = drain_ws(&mut conn) {
            return emit_ws_error(out, &e);
        }
        return emit_ws_error(out, &ProtocolError::UnexpectedEof);
    }
    Ok(Outcome::Ok)
}

// ---------------------------------------------------------------------------------------
// Engine.io v3

fn packet_object(p: &Packet) -> Vec<(&'static str, Value)> {
    let mut fields = vec![("type", Value::from(p.kind.name()))];
    match &p.data {
        PacketData::Text(t) if t.is_empty() => {}
        PacketData::Text(t) => fields.push(("data", t.as_str().into())),
        PacketData::Binary(b) => fields.push(("data_base64", B64.encode(b).into())),
    }
    fields
}

fn parser_error(out: &mut impl Write) -> io::Result<Outcome> {
    emit(out, &[("error", "parser error".into())])?;
    Ok(Outcome::Malformed)
}

fn decode_eio(out: &mut impl Write, form: EioForm, binary: bool) -> io::Result<Outcome> {
    let input = read_all_stdin()?;
    match form {
        EioForm::Packet => {
            let packet = if binary {
                Packet::decode_binary(Bytes::from(input))
            } else {
                match std::str::from_utf8(&input) {
                    Ok(s) => Packet::decode_str(s),
                    Err(_) => return parser_error(out),
                }
            };
            match packet {
                Ok(p) => emit(out, &packet_object(&p))?,
                Err(_) => return parser_error(out),
            }
        }
        EioForm::Payload => {
            let format = if binary {
                PayloadFormat::Binary
            } else {
                PayloadFormat::Text
            };
            let mut dec = PayloadDecoder::new(format, Limits::UNLIMITED);
            // Without a payload limit no feed is refused.
            let _ = dec.feed(&input);
            dec.feed_eof();
            loop {
                match dec.poll_packet() {
                    Ok(Some(p)) => emit(out, &packet_object(&p))?,
                    Ok(None) => break,
                    Err(_) => return parser_error(out),
                }
            }
        }
    }
    Ok(Outcome::Ok)
}

/// Builds a packet from its JSON object.
fn packet_from_object(m: &serde_json::Map<String, Value>) -> Result<Packet, String> {
    if let Some(k) = m
        .keys()
        .find(|k| !["type", "data", "data_base64"].contains(&k.as_str()))
    {
        return Err(format!("unknown key `{k}`"));
    }
    let name = get_str(m, "type")?.ok_or("missing `type`")?;
    let kind = PacketType::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| format!("unknown packet type `{name}`"))?;
    match (get_str(m, "data")?, get_str(m, "data_base64")?) {
        (Some(_), Some(_)) => Err("`data` and `data_base64` are exclusive".into()),
        (Some(t), None) => Ok(Packet::text(kind, t)),
        (None, Some(b)) => B64
            .decode(b)
            .map(|d| Packet::binary(kind, d))
            .map_err(|e| format!("`data_base64`: {e}")),
        (None, None) => Ok(Packet::empty(kind)),
    }
}

/// Reads the packet objects of `encode eio3|eio4` from stdin (`None`: malformed, reported).
fn read_packets(command: &str) -> Option<Vec<Packet>> {
    let mut packets = Vec::new();
    for obj in json_lines() {
        match obj.and_then(|m| packet_from_object(&m)) {
            Ok(p) => packets.push(p),
            Err(e) => {
                eprintln!("pushwire encode {command}: {e}");
                return None;
            }
        }
    }
    Some(packets)
}

/// The one packet `encode eio3|eio4 packet` takes (`None`: not exactly one, reported).
fn only_packet<'a>(command: &str, packets: &'a [Packet]) -> Option<&'a Packet> {
    if let [p] = packets {
        return Some(p);
    }
    eprintln!(
        "pushwire encode {command} packet: expected exactly one packet, got {}",
        packets.len()
    );
    None
}

fn write_ws_message(out: &mut impl Write, m: pushwire_engineio::WsMessage) -> io::Result<()> {
    match m {
        pushwire_engineio::WsMessage::Text(s) => out.write_all(s.as_bytes()),
        pushwire_engineio::WsMessage::Binary(b) => out.write_all(&b),
    }
}

fn encode_eio(out: &mut impl Write, form: EioForm, binary: bool) -> io::Result<Outcome> {
    let Some(packets) = read_packets("eio3") else {
        return Ok(Outcome::Malformed);
    };
    match form {
        EioForm::Packet => {
            let Some(p) = only_packet("eio3", &packets) else {
                return Ok(Outcome::Malformed);
            };
            write_ws_message(out, p.to_ws_message(binary))?;
        }
        EioForm::Payload if binary => {
            let mut v = Vec::new();
            pushwire_engineio::encode_binary_payload(&packets, &mut v);
            out.write_all(&v)?;
        }
        EioForm::Payload => {
            let mut v = Vec::new();
            pushwire_engineio::encode_text_payload(&packets, &mut v);
            out.write_all(&v)?;
        }
    }
    Ok(Outcome::Ok)
}

// ---------------------------------------------------------------------------------------
// Engine.io v4

fn decode_eio4(out: &mut impl Write, form: EioForm, binary: bool) -> io::Result<Outcome> {
    let input = read_all_stdin()?;
    let mut packets = Vec::new();
    let failed = match form {
        // A binary WebSocket message: the bytes alone, always a message.
        EioForm::Packet if binary => {
            let m = pushwire_engineio::WsMessage::Binary(Bytes::from(input));
            packets.extend(v4::packet_from_ws_message(m).ok());
            packets.is_empty()
        }
        EioForm::Packet => match std::str::from_utf8(&input) {
            Ok(s) => {
                packets.extend(v4::decode_packet(s).ok());
                packets.is_empty()
            }
            Err(_) => true,
        },
        EioForm::Payload => {
            let mut failed = false;
            for r in v4::decode_payload(input, Limits::UNLIMITED) {
                match r {
                    Ok(p) => packets.push(p),
                    Err(_) => failed = true,
                }
            }
            failed
        }
    };
    for p in &packets {
        emit(out, &packet_object(p))?;
    }
    if failed {
        return parser_error(out);
    }
    Ok(Outcome::Ok)
}

fn encode_eio4(out: &mut impl Write, form: EioForm, binary: bool) -> io::Result<Outcome> {
    let Some(packets) = read_packets("eio4") else {
        return Ok(Outcome::Malformed);
    };
    match form {
        EioForm::Packet => {
            let Some(p) = only_packet("eio4", &packets) else {
                return Ok(Outcome::Malformed);
            };
            write_ws_message(out, v4::packet_to_ws_message(p, binary))?;
        }
        EioForm::Payload => {
            let mut v = Vec::new();
            v4::encode_payload(&packets, &mut v);
            out.write_all(&v)?;
        }
    }
    Ok(Outcome::Ok)
}
