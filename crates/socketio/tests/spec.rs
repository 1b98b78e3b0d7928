//! The examples of the two specs' "Packet encoding" sections, encoded and decoded, and the
//! decoder's refusals (each with the reference's sentence or a spec sentence).

use bytes::Bytes;
use pushwire_socketio::{
    BuildError, DecodeError, Decoder, Limits, Map, Packet, PacketData, PacketType,
    ProtocolVersion::{self, V4, V5},
    Value,
};

fn s(x: &str) -> Value {
    Value::from(x)
}
fn n(x: u64) -> Value {
    Value::from(x)
}
fn bin(b: &'static [u8]) -> Value {
    Value::Binary(Bytes::from_static(b))
}

/// Decodes `text` followed by `attachments` as `version`; the packet must be complete after
/// the last message and not before.
fn decode(version: ProtocolVersion, text: &str, attachments: &[&'static [u8]]) -> Packet {
    let mut dec = Decoder::new(version, Limits::DEFAULT);
    let mut out = dec.push(PacketData::Text(text.into())).unwrap();
    for a in attachments {
        assert!(out.is_none(), "complete before its attachments: {text}");
        out = dec.push(PacketData::Binary(Bytes::from_static(a))).unwrap();
    }
    out.unwrap_or_else(|| panic!("incomplete: {text}"))
}

fn decode_err(version: ProtocolVersion, text: &str) -> DecodeError {
    Decoder::new(version, Limits::DEFAULT)
        .push(PacketData::Text(text.into()))
        .unwrap_err()
}

/// Builds, encodes and checks the text and attachments; decodes the result back and checks
/// the fields.
#[allow(clippy::too_many_arguments)]
fn both_ways(
    version: ProtocolVersion,
    kind: PacketType,
    nsp: &str,
    id: Option<u64>,
    data: Option<Value>,
    wire: &str,
    attachments: &[&'static [u8]],
) {
    let p = Packet::new(version, kind, nsp, id, data.as_ref()).unwrap();
    assert_eq!(p.kind(), kind);
    assert_eq!(p.to_text(), wire);
    let msgs = p.to_messages();
    assert_eq!(msgs.len(), 1 + attachments.len());
    for (m, a) in msgs[1..].iter().zip(attachments) {
        assert_eq!(m.as_binary().map(|b| &b[..]), Some(*a));
    }
    let d = decode(version, wire, attachments);
    assert_eq!(d.kind(), kind);
    assert_eq!(d.nsp(), nsp);
    assert_eq!(d.id(), id);
    assert_eq!(d.value().unwrap(), data);
}

// ---- v5 spec, "Packet encoding" → "Examples" ------------------------------------------

#[test]
fn v5_connection_examples() {
    both_ways(V5, PacketType::Connect, "/", None, None, "0", &[]);
    let sid: Map = [("sid", s("oSO0OpakMV_3jnilAAAA"))].into_iter().collect();
    both_ways(
        V5,
        PacketType::Connect,
        "/admin",
        None,
        Some(Value::Object(sid)),
        r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
        &[],
    );
    let msg: Map = [("message", s("Not authorized"))].into_iter().collect();
    both_ways(
        V5,
        PacketType::ConnectError,
        "/",
        None,
        Some(Value::Object(msg)),
        r#"4{"message":"Not authorized"}"#,
        &[],
    );
    assert_eq!(
        Packet::connect_error(V5, "/", "Not authorized", None)
            .unwrap()
            .to_text(),
        r#"4{"message":"Not authorized"}"#
    );
}

#[test]
fn v5_data_examples() {
    let ev = |args: Vec<Value>| Some(Value::Array(args));
    both_ways(
        V5,
        PacketType::Event,
        "/",
        None,
        ev(vec![s("foo")]),
        r#"2["foo"]"#,
        &[],
    );
    both_ways(
        V5,
        PacketType::Event,
        "/admin",
        None,
        ev(vec![s("bar")]),
        r#"2/admin,["bar"]"#,
        &[],
    );
    both_ways(
        V5,
        PacketType::BinaryEvent,
        "/",
        None,
        ev(vec![s("baz"), bin(&[1, 2, 3, 4])]),
        r#"51-["baz",{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3, 4]],
    );
    both_ways(
        V5,
        PacketType::BinaryEvent,
        "/admin",
        None,
        ev(vec![s("baz"), bin(&[1, 2]), bin(&[3, 4])]),
        r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        &[&[1, 2], &[3, 4]],
    );
}

#[test]
fn v5_ack_examples() {
    both_ways(
        V5,
        PacketType::Event,
        "/",
        Some(12),
        Some(Value::Array(vec![s("foo")])),
        r#"212["foo"]"#,
        &[],
    );
    both_ways(
        V5,
        PacketType::Ack,
        "/admin",
        Some(13),
        Some(Value::Array(vec![s("bar")])),
        r#"3/admin,13["bar"]"#,
        &[],
    );
    both_ways(
        V5,
        PacketType::BinaryAck,
        "/",
        Some(15),
        Some(Value::Array(vec![s("bar"), bin(&[1, 2, 3, 4])])),
        r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3, 4]],
    );
    assert_eq!(
        Packet::ack("/admin", 13, &[s("bar")]).unwrap().to_text(),
        r#"3/admin,13["bar"]"#
    );
}

#[test]
fn v5_disconnection_examples() {
    both_ways(V5, PacketType::Disconnect, "/", None, None, "1", &[]);
    both_ways(
        V5,
        PacketType::Disconnect,
        "/admin",
        None,
        None,
        "1/admin,",
        &[],
    );
    assert_eq!(Packet::disconnect("/admin").unwrap().to_text(), "1/admin,");
}

// ---- v4 spec, "Packet encoding" → "Examples" ------------------------------------------

#[test]
fn v4_examples() {
    both_ways(V4, PacketType::Connect, "/", None, None, "0", &[]);
    both_ways(
        V4,
        PacketType::Connect,
        "/admin",
        None,
        None,
        "0/admin,",
        &[],
    );
    both_ways(
        V4,
        PacketType::Disconnect,
        "/admin",
        None,
        None,
        "1/admin,",
        &[],
    );
    both_ways(
        V4,
        PacketType::Event,
        "/",
        None,
        Some(Value::Array(vec![s("hello"), n(1)])),
        r#"2["hello",1]"#,
        &[],
    );
    both_ways(
        V4,
        PacketType::Event,
        "/admin",
        Some(456),
        Some(Value::Array(vec![s("project:delete"), n(123)])),
        r#"2/admin,456["project:delete",123]"#,
        &[],
    );
    both_ways(
        V4,
        PacketType::Ack,
        "/admin",
        Some(456),
        Some(Value::Array(vec![])),
        "3/admin,456[]",
        &[],
    );
    both_ways(
        V4,
        PacketType::ConnectError,
        "/admin",
        None,
        Some(s("Not authorized")),
        r#"4/admin,"Not authorized""#,
        &[],
    );
    assert_eq!(
        Packet::connect_error(V4, "/admin", "Not authorized", None)
            .unwrap()
            .to_text(),
        r#"4/admin,"Not authorized""#
    );
    both_ways(
        V4,
        PacketType::BinaryEvent,
        "/",
        None,
        Some(Value::Array(vec![s("hello"), bin(&[1, 2, 3])])),
        r#"51-["hello",{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3]],
    );
    both_ways(
        V4,
        PacketType::BinaryEvent,
        "/admin",
        Some(456),
        Some(Value::Array(vec![s("project:delete"), bin(&[1, 2, 3])])),
        r#"51-/admin,456["project:delete",{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3]],
    );
    both_ways(
        V4,
        PacketType::BinaryAck,
        "/admin",
        Some(456),
        Some(Value::Array(vec![bin(&[3, 2, 1])])),
        r#"61-/admin,456[{"_placeholder":true,"num":0}]"#,
        &[&[3, 2, 1]],
    );
}

#[test]
fn v4_connect_carries_auth_as_a_query_in_the_namespace() {
    // v4 spec, CONNECT: "The client may include additional information (i.e. for
    // authentication purpose) in the namespace field".
    let p = decode(V4, "0/admin?token=1234&uid=abcd,", &[]);
    assert_eq!(p.nsp(), "/admin?token=1234&uid=abcd");
    assert_eq!(p.nsp_path(), ("/admin", Some("token=1234&uid=abcd")));
}

// ---- what the decoder reads -------------------------------------------------------------

#[test]
fn event_names_with_escapes_and_numbers() {
    let p = decode(V5, r#"2["a\"b\u0041",1]"#, &[]);
    assert_eq!(p.event_name(), Some("a\"bA"));
    let p = decode(V5, r#"2[42,"x"]"#, &[]);
    assert_eq!(p.event_name(), None);
    assert_eq!(p.args().unwrap(), vec![s("x")]);
    let p = decode(V5, r#"2/chat,7 [ "msg" , {"a":[1,2]} ] "#, &[]);
    assert_eq!(p.nsp(), "/chat");
    assert_eq!(p.id(), Some(7));
    assert_eq!(p.event_name(), Some("msg"));
}

#[test]
fn namespace_without_comma_runs_to_the_end() {
    // socket.io-parser: "if ("," === c) break; if (i === str.length) break;"
    let p = decode(V5, "1/admin", &[]);
    assert_eq!(p.nsp(), "/admin");
    assert_eq!(p.to_text(), "1/admin,");
}

#[test]
fn explicit_default_namespace_is_left_out_when_encoding() {
    let p = decode(V5, r#"2/,["a"]"#, &[]);
    assert_eq!(p.nsp(), "/");
    assert_eq!(p.to_text(), r#"2["a"]"#);
}

#[test]
fn placeholders_nested_and_out_of_order() {
    let p = decode(
        V5,
        r#"52-["e",{"x":[{"_placeholder":true,"num":1}],"y":{"_placeholder":true,"num":0}}]"#,
        &[&[0xaa], &[0xbb]],
    );
    let args = p.args().unwrap();
    let obj = args[0].as_object().unwrap();
    assert_eq!(obj.get("x"), Some(&Value::Array(vec![bin(&[0xbb])])));
    assert_eq!(obj.get("y"), Some(&bin(&[0xaa])));
}

#[test]
fn v4_takes_a_binary_packet_of_zero_attachments_v5_does_not() {
    // socket.io-parser 3.4: "if (this.reconstructor.reconPack.attachments === 0) {
    // this.emit('decoded', packet)"; 4.2: "if (!isInteger(n) || n < 1) throw new
    // Error("Illegal attachments")".
    let p = decode(V4, r#"50-["a"]"#, &[]);
    assert_eq!(p.kind(), PacketType::BinaryEvent);
    assert_eq!(
        decode_err(V5, r#"50-["a"]"#),
        DecodeError::IllegalAttachments
    );
}

// ---- refusals -----------------------------------------------------------------------------

#[test]
fn refusals() {
    use DecodeError as E;
    assert_eq!(decode_err(V5, ""), E::Empty);
    assert_eq!(decode_err(V5, "7"), E::UnknownType(b'7'));
    assert_eq!(decode_err(V5, "x"), E::UnknownType(b'x'));
    // socketioxide#357 looped forever on this (the Engine.io message `45`).
    assert_eq!(decode_err(V5, "5"), E::IllegalAttachments);
    assert_eq!(decode_err(V5, "5"), E::IllegalAttachments);
    assert_eq!(decode_err(V5, "51"), E::IllegalAttachments);
    assert_eq!(decode_err(V5, r#"5-["a"]"#), E::IllegalAttachments);
    assert_eq!(decode_err(V5, r#"5 1-["a"]"#), E::IllegalAttachments);
    assert_eq!(
        decode_err(V5, r#"511-["a"]"#),
        E::TooManyAttachments { limit: 10 }
    );
    assert_eq!(
        decode_err(V5, r#"599999999999999999999999-["a"]"#),
        E::TooManyAttachments { limit: 10 }
    );
    assert_eq!(
        decode_err(V5, r#"299999999999999999999["a"]"#),
        E::InvalidId
    );
    assert_eq!(decode_err(V5, r#"2["a""#), E::InvalidJson);
    assert_eq!(decode_err(V5, r#"2["a"]x"#), E::InvalidJson);
    // JSON may start with whitespace. (socket.io-parser's id loop also reads the space, as
    // `Number(" ") == 0`, and gives this packet the ack id 0; here it has none.)
    let p = decode(V5, r#"2 ["a"]"#, &[]);
    assert_eq!((p.id(), p.event_name()), (None, Some("a")));
    // v5 spec: "The payload is mandatory and MUST be a non-empty array."
    assert_eq!(decode_err(V5, "2"), E::InvalidPayload("EVENT"));
    assert_eq!(decode_err(V5, "2[]"), E::InvalidPayload("EVENT"));
    assert_eq!(decode_err(V5, r#"2{"a":1}"#), E::InvalidPayload("EVENT"));
    assert_eq!(decode_err(V5, r#"2[{"a":1}]"#), E::InvalidPayload("EVENT"));
    assert_eq!(decode_err(V5, r#"2[null]"#), E::InvalidPayload("EVENT"));
    // "The payload is mandatory and MUST be an array (possibly empty)."
    assert_eq!(decode_err(V5, "31"), E::InvalidPayload("ACK"));
    assert_eq!(decode_err(V5, r#"31{}"#), E::InvalidPayload("ACK"));
    // `case DISCONNECT: return payload === undefined`.
    assert_eq!(decode_err(V5, "1[]"), E::InvalidPayload("DISCONNECT"));
    // `case CONNECT: return isObject(payload)` (4.x) / `typeof payload === "object"` (3.x).
    assert_eq!(decode_err(V5, "0[]"), E::InvalidPayload("CONNECT"));
    assert_eq!(decode_err(V5, "0null"), E::InvalidPayload("CONNECT"));
    assert_eq!(decode_err(V5, r#"0"x""#), E::InvalidPayload("CONNECT"));
    assert!(Decoder::new(V4, Limits::DEFAULT)
        .push(PacketData::Text("0[]".into()))
        .is_ok());
    assert_eq!(decode_err(V4, r#"0"x""#), E::InvalidPayload("CONNECT"));
    // `case CONNECT_ERROR: return typeof payload === "string" || isObject(payload)`.
    assert_eq!(decode_err(V5, "4[]"), E::InvalidPayload("CONNECT_ERROR"));
    assert_eq!(decode_err(V5, "4true"), E::InvalidPayload("CONNECT_ERROR"));
    // Reserved names, revision 5 only.
    assert_eq!(
        decode_err(V5, r#"2["disconnect"]"#),
        E::ReservedEventName("disconnect".into())
    );
    assert!(Decoder::new(V4, Limits::DEFAULT)
        .push(PacketData::Text(r#"2["disconnect"]"#.into()))
        .is_ok());
}

#[test]
fn placeholder_refusals() {
    let bad = [
        r#"51-["a",{"_placeholder":true,"num":1}]"#,
        r#"51-["a",{"_placeholder":true,"num":-1}]"#,
        r#"51-["a",{"_placeholder":true,"num":0.5}]"#,
        r#"51-["a",{"_placeholder":true,"num":"0"}]"#,
        r#"51-["a",{"_placeholder":true}]"#,
        r#"51-["a",[[{"_placeholder":true,"num":7}]]]"#,
    ];
    for text in bad {
        assert_eq!(
            decode_err(V5, text),
            DecodeError::IllegalPlaceholder,
            "{text}"
        );
    }
    // Not a placeholder: `_placeholder` must be exactly `true`; `num` 1.0 is the index 1;
    // the last of repeated keys counts.
    let ok = [
        r#"51-["a",{"_placeholder":1,"num":9}]"#,
        r#"52-["a",{"_placeholder":true,"num":1.0}]"#,
        r#"51-["a",{"_placeholder":true,"num":5,"num":0}]"#,
    ];
    let mut dec = Decoder::new(V5, Limits::DEFAULT);
    for text in ok {
        dec.push(PacketData::Text(text.into())).unwrap();
        while dec.is_reconstructing() {
            dec.push(PacketData::Binary(Bytes::from_static(b"z")))
                .unwrap();
        }
    }
    // In a packet that is not binary, a placeholder is a plain object.
    let p = decode(V5, r#"2["a",{"_placeholder":true,"num":3}]"#, &[]);
    assert!(p.args().unwrap()[0].as_object().is_some());
}

#[test]
fn message_order_errors_are_sticky() {
    let mut dec = Decoder::new(V5, Limits::DEFAULT);
    assert_eq!(
        dec.push(PacketData::Binary(Bytes::from_static(b"x"))),
        Err(DecodeError::UnexpectedBinary)
    );
    assert_eq!(
        dec.push(PacketData::Text(r#"2["a"]"#.into())),
        Err(DecodeError::UnexpectedBinary)
    );
    let mut dec = Decoder::new(V5, Limits::DEFAULT);
    dec.push(PacketData::Text(
        r#"51-["a",{"_placeholder":true,"num":0}]"#.into(),
    ))
    .unwrap();
    assert_eq!(
        dec.push(PacketData::Text(r#"2["a"]"#.into())),
        Err(DecodeError::UnexpectedText)
    );
}

#[test]
fn limits_bound_what_a_binary_packet_gathers() {
    let limits = Limits::DEFAULT
        .with_max_packet_bytes(64)
        .with_max_attachments(2);
    let mut dec = Decoder::new(V5, limits);
    dec.push(PacketData::Text(
        r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into(),
    ))
    .unwrap_err(); // the text alone is over 64 bytes
    let mut dec = Decoder::new(V5, Limits::DEFAULT.with_max_packet_bytes(80));
    dec.push(PacketData::Text(
        r#"51-["a",{"_placeholder":true,"num":0}]"#.into(),
    ))
    .unwrap();
    assert_eq!(
        dec.push(PacketData::Binary(Bytes::from(vec![0u8; 60]))),
        Err(DecodeError::PacketTooLarge { limit: 80 })
    );
    assert_eq!(
        Decoder::new(V5, limits).push(PacketData::Text(r#"53-["a"]"#.into())),
        Err(DecodeError::TooManyAttachments { limit: 2 })
    );
}

#[test]
fn build_refusals() {
    assert_eq!(
        Packet::event(V5, "admin", "a", &[]),
        Err(BuildError::InvalidNamespace("admin".into()))
    );
    assert_eq!(
        Packet::event(V5, "/a,b", "a", &[]),
        Err(BuildError::InvalidNamespace("/a,b".into()))
    );
    assert_eq!(
        Packet::event(V5, "/", "connect", &[]),
        Err(BuildError::ReservedEventName("connect".into()))
    );
    assert!(Packet::event(V4, "/", "connect", &[]).is_ok());
    assert_eq!(
        Packet::connect(V5, "/", Some(&Value::Array(vec![]))),
        Err(BuildError::InvalidData("CONNECT"))
    );
    assert_eq!(
        Packet::new(V5, PacketType::Event, "/", None, None),
        Err(BuildError::InvalidData("EVENT"))
    );
    // Only events and acks carry attachments: a CONNECT with binary would send an
    // attachment no decoder waits for.
    let auth: Map = [("key", bin(&[1]))].into_iter().collect();
    assert_eq!(
        Packet::connect(V5, "/", Some(&Value::Object(auth))),
        Err(BuildError::InvalidData("CONNECT"))
    );
    assert_eq!(
        Packet::connect_error(V5, "/", "no", Some(bin(&[1]))),
        Err(BuildError::InvalidData("CONNECT_ERROR"))
    );
}

#[test]
fn serde_types_in_and_out() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Msg {
        text: String,
        #[serde(with = "serde_bytes_like")]
        blob: Vec<u8>,
        n: Option<u32>,
    }
    mod serde_bytes_like {
        pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
        pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<u8>, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
            }
            d.deserialize_bytes(V)
        }
    }
    let m = Msg {
        text: "hi".into(),
        blob: vec![9, 8],
        n: None,
    };
    let v = Value::from_serialize(&m).unwrap();
    let p = Packet::event(V5, "/", "msg", &[v]).unwrap();
    assert_eq!(
        p.to_text(),
        r#"51-["msg",{"text":"hi","blob":{"_placeholder":true,"num":0},"n":null}]"#
    );
    let d = decode(V5, &p.to_text(), &[&[9, 8]]);
    let (name, back): (String, Msg) = d.deserialize().unwrap();
    assert_eq!(name, "msg");
    assert_eq!(back, m);
}
