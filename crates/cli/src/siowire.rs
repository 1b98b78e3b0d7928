//! `pushwire decode socketio` / `pushwire encode socketio`: Socket.IO packets (revision 4 or
//! 5) as JSON lines, the Engine.io messages that carry them as JSON lines too. See
//! docs/cli.md for the object shapes.

use std::io::{self, Write};

use base64::Engine as _;
use bytes::Bytes;
use pushwire_socketio::{Decoder, Limits, Packet, PacketData, PacketType, ProtocolVersion, Value};

use crate::wire::Outcome;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The arguments after `socketio`: `--protocol 4|5`.
pub(crate) fn parse_args(args: &[String]) -> Result<ProtocolVersion, String> {
    match args {
        [flag, n] if flag == "--protocol" => match n.as_str() {
            "4" => Ok(ProtocolVersion::V4),
            "5" => Ok(ProtocolVersion::V5),
            other => Err(format!("--protocol takes 4 or 5, not `{other}`")),
        },
        _ => Err("socketio takes `--protocol 4|5`".into()),
    }
}

/// The non-blank lines of stdin, each a JSON object as a [`Value`] map (which keeps the keys
/// in their order).
fn lines() -> impl Iterator<Item = Result<pushwire_socketio::Map, String>> {
    crate::wire::json_object_lines(|v: Value| match v {
        Value::Object(m) => Some(m),
        _ => None,
    })
}

/// One Engine.io message from its object: `{"text": …}` or `{"binary_base64": …}`.
fn message_from(m: &pushwire_socketio::Map) -> Result<PacketData, String> {
    if let Some((k, _)) = m
        .iter()
        .find(|(k, _)| !["text", "binary_base64"].contains(k))
    {
        return Err(format!("unknown key `{k}`"));
    }
    match (m.get("text"), m.get("binary_base64")) {
        (Some(Value::String(t)), None) => Ok(PacketData::Text(t.clone())),
        (None, Some(Value::String(b))) => B64
            .decode(b)
            .map(|d| PacketData::Binary(d.into()))
            .map_err(|e| format!("`binary_base64`: {e}")),
        _ => Err("a message is {\"text\": string} or {\"binary_base64\": string}".into()),
    }
}

/// Appends `v` as JSON, each binary value as `{"_binary_base64": …}`, object keys in order.
fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&json_str(s)),
        Value::Binary(b) => {
            out.push_str("{\"_binary_base64\":");
            out.push_str(&json_str(&B64.encode(b)));
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, v);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_str(k));
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// A decoded packet's line: `{"type","nsp","id"?,"data"?}`.
fn packet_line(p: &Packet) -> String {
    let mut s = String::from("{\"type\":");
    s.push_str(&json_str(p.kind().name()));
    s.push_str(",\"nsp\":");
    s.push_str(&json_str(p.nsp()));
    if let Some(id) = p.id() {
        s.push_str(&format!(",\"id\":{id}"));
    }
    // A decoded packet's JSON was checked while decoding; reading it cannot fail.
    if let Ok(Some(v)) = p.value() {
        s.push_str(",\"data\":");
        write_value(&mut s, &v);
    }
    s.push_str("}\n");
    s
}

/// `pushwire decode socketio --protocol 4|5`.
pub(crate) fn decode(out: &mut impl Write, version: ProtocolVersion) -> io::Result<Outcome> {
    let mut dec = Decoder::new(version, Limits::DEFAULT);
    for line in lines() {
        let message = match line.and_then(|m| message_from(&m)) {
            Ok(m) => m,
            Err(e) => {
                out.flush()?;
                eprintln!("pushwire decode socketio: {e}");
                return Ok(Outcome::Malformed);
            }
        };
        match dec.push(message) {
            Ok(Some(p)) => out.write_all(packet_line(&p).as_bytes())?,
            Ok(None) => {}
            Err(e) => {
                out.write_all(format!("{{\"error\":{}}}\n", json_str(e.kind())).as_bytes())?;
                return Ok(Outcome::Malformed);
            }
        }
    }
    if dec.is_reconstructing() {
        // The input ended while a binary packet still waited for attachments.
        out.write_all(b"{\"error\":\"incomplete\"}\n")?;
        return Ok(Outcome::Malformed);
    }
    Ok(Outcome::Ok)
}

/// `{"_binary_base64": …}` objects (that key alone) as binary values.
fn binaries(v: Value) -> Result<Value, String> {
    Ok(match v {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(binaries)
                .collect::<Result<_, String>>()?,
        ),
        Value::Object(m) => match (m.len(), m.get("_binary_base64")) {
            (1, Some(Value::String(b))) => Value::Binary(Bytes::from(
                B64.decode(b)
                    .map_err(|e| format!("`_binary_base64`: {e}"))?,
            )),
            _ => Value::Object(
                m.iter()
                    .map(|(k, v)| Ok((k, binaries(v.clone())?)))
                    .collect::<Result<_, String>>()?,
            ),
        },
        v => v,
    })
}

/// A packet from its object (the shape `decode socketio` writes).
fn packet_from(version: ProtocolVersion, m: &pushwire_socketio::Map) -> Result<Packet, String> {
    if let Some((k, _)) = m
        .iter()
        .find(|(k, _)| !["type", "nsp", "id", "data"].contains(k))
    {
        return Err(format!("unknown key `{k}`"));
    }
    let kind = match m.get("type") {
        Some(Value::String(t)) => {
            PacketType::from_name(t).ok_or_else(|| format!("unknown packet type `{t}`"))?
        }
        _ => return Err("missing `type` (a string)".into()),
    };
    let nsp = match m.get("nsp") {
        None => "/",
        Some(Value::String(n)) => n,
        Some(_) => return Err("`nsp` must be a string".into()),
    };
    let id = match m.get("id") {
        None => None,
        Some(Value::Number(n)) => Some(n.as_u64().ok_or("`id` must be an integer >= 0")?),
        Some(_) => return Err("`id` must be an integer >= 0".into()),
    };
    let data = m.get("data").cloned().map(binaries).transpose()?;
    Packet::new(version, kind, nsp, id, data.as_ref()).map_err(|e| e.to_string())
}

/// `pushwire encode socketio --protocol 4|5`.
pub(crate) fn encode(out: &mut impl Write, version: ProtocolVersion) -> io::Result<Outcome> {
    for line in lines() {
        let packet = match line.and_then(|m| packet_from(version, &m)) {
            Ok(p) => p,
            Err(e) => {
                out.flush()?;
                eprintln!("pushwire encode socketio: {e}");
                return Ok(Outcome::Malformed);
            }
        };
        for m in packet.to_messages() {
            let line = match m {
                PacketData::Text(t) => format!("{{\"text\":{}}}\n", json_str(&t)),
                PacketData::Binary(b) => {
                    format!("{{\"binary_base64\":{}}}\n", json_str(&B64.encode(b)))
                }
            };
            out.write_all(line.as_bytes())?;
        }
    }
    Ok(Outcome::Ok)
}
