//! Properties of the packet layer on random packets:
//!
//! * roundtrip: a packet built with [`Packet::new`] (binary anywhere in its data) and sent
//!   as [`Packet::to_messages`] decodes to the same type, namespace, id and value;
//! * chunking: the messages of several packets carried in an Engine.io polling payload
//!   (revision 3's text payload for Socket.IO revision 4, revision 4's payload for
//!   revision 5), the payload split at arbitrary points, give the same packets as the whole
//!   payload, and those are the packets sent.

use bytes::Bytes;
use proptest::prelude::*;
use pushwire_engineio as eio;
use pushwire_socketio::{
    Decoder, Limits, Map, Packet, PacketData, PacketType, ProtocolVersion, Value, RESERVED_EVENTS,
};

// ---- strategies ----------------------------------------------------------------------------

fn string() -> impl Strategy<Value = String> {
    // ASCII, JSON specials and escapes, controls, 2-4 byte UTF-8, U+2028.
    prop::collection::vec(
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            2 => prop::sample::select(vec![
                '"', '\\', '/', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}', 'é', '€', '😀',
                '\u{2028}', '\u{ffff}', '\u{10ffff}', ' ', '[', '{', ',', '-', '0'
            ]),
            1 => any::<char>(),
        ],
        0..8,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Value::Number),
    ]
}

/// A JSON value, with binary anywhere when `binary`. Keys never `_placeholder` (an object
/// with `"_placeholder": true` is read back as an attachment in a binary packet).
fn value(binary: bool) -> BoxedStrategy<Value> {
    let plain = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
    ];
    let leaf = if binary {
        prop_oneof![
            4 => plain,
            1 => prop::collection::vec(any::<u8>(), 0..16)
                .prop_map(|b| Value::Binary(Bytes::from(b))),
        ]
        .boxed()
    } else {
        plain.boxed()
    };
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map>())),
        ]
    })
    .boxed()
}

fn key() -> impl Strategy<Value = String> {
    string().prop_filter("not _placeholder", |k| k != "_placeholder")
}

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        string().prop_map(|s| format!("/{}", s.replace(',', ""))),
    ]
}

fn object(binary: bool) -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), value(binary)), 0..4)
        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map>()))
}

/// A packet the revision allows: (version, type, nsp, id, data).
type Spec = (
    ProtocolVersion,
    PacketType,
    String,
    Option<u64>,
    Option<Value>,
);

fn spec() -> impl Strategy<Value = Spec> {
    prop::sample::select(ProtocolVersion::ALL.to_vec()).prop_flat_map(spec_for)
}

fn spec_for(v: ProtocolVersion) -> BoxedStrategy<Spec> {
    let v4 = v == ProtocolVersion::V4;
    // CONNECT: no data or an object (revision 4 also an array or null).
    let connect = if v4 {
        prop_oneof![
            Just(None),
            object(false).prop_map(Some),
            prop::collection::vec(value(false), 0..3).prop_map(|a| Some(Value::Array(a))),
            Just(Some(Value::Null)),
        ]
        .boxed()
    } else {
        prop_oneof![Just(None), object(false).prop_map(Some)].boxed()
    };
    // CONNECT_ERROR: a string or an object (revision 4 also null or an array).
    let connect_error = if v4 {
        prop_oneof![
            string().prop_map(Value::String),
            object(false),
            Just(Value::Null),
            prop::collection::vec(value(false), 0..3).prop_map(Value::Array),
        ]
        .boxed()
    } else {
        prop_oneof![string().prop_map(Value::String), object(false)].boxed()
    };
    // EVENT: a name (or a number), then arguments, binary anywhere.
    let name = prop_oneof![
        string()
            .prop_filter("not reserved in v5", move |n| v4
                || !RESERVED_EVENTS.contains(&n.as_str()))
            .prop_map(Value::String),
        any::<u32>().prop_map(|n| Value::from(u64::from(n))),
    ];
    let event = (name, prop::collection::vec(value(true), 0..5)).prop_map(|(name, mut args)| {
        args.insert(0, name);
        Value::Array(args)
    });
    let ack = prop::collection::vec(value(true), 0..5).prop_map(Value::Array);
    let body = prop_oneof![
        connect.prop_map(|d| (PacketType::Connect, false, d)),
        Just((PacketType::Disconnect, false, None)),
        event.prop_map(|d| (PacketType::Event, true, Some(d))),
        ack.prop_map(|d| (PacketType::Ack, true, Some(d))),
        connect_error.prop_map(|d| (PacketType::ConnectError, false, Some(d))),
    ];
    (nsp(), any::<Option<u64>>(), body)
        .prop_map(move |(nsp, id, (kind, has_id, data))| {
            (v, kind, nsp, id.filter(|_| has_id), data)
        })
        .boxed()
}

fn build(s: &Spec) -> Packet {
    let (v, kind, nsp, id, data) = s;
    Packet::new(*v, *kind, nsp, *id, data.as_ref())
        .unwrap_or_else(|e| panic!("a valid packet was refused ({e}): {s:?}"))
}

// ---- comparing -----------------------------------------------------------------------------

/// Values equal as JavaScript sees them: numbers as doubles (the wire writes them as
/// `Number::toString` does, so `1.0` comes back as `1` and `2^64 - 1` as its double).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, v), (l, w))| k == l && same(v, w))
        }
        _ => a == b,
    }
}

/// Checks a decoded packet against the one sent and the data it was built from.
fn check_packet(got: &Packet, sent: &Packet, data: Option<&Value>) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.kind(), sent.kind());
    prop_assert_eq!(got.nsp(), sent.nsp());
    prop_assert_eq!(got.id(), sent.id());
    let v = got
        .value()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    match (v.as_ref(), data) {
        (None, None) => {}
        (Some(v), Some(d)) => prop_assert!(same(v, d), "decoded {:?}, sent {:?}", v, d),
        (v, d) => prop_assert!(false, "decoded {:?}, sent {:?}", v, d),
    }
    Ok(())
}

/// Feeds messages to a decoder; the packets it completes.
fn decode_all(version: ProtocolVersion, msgs: &[PacketData]) -> Result<Vec<Packet>, String> {
    let mut dec = Decoder::new(version, Limits::UNLIMITED);
    let mut out = Vec::new();
    for m in msgs {
        if let Some(p) = dec.push(m.clone()).map_err(|e| e.to_string())? {
            out.push(p);
        }
    }
    if dec.is_reconstructing() {
        return Err("a packet still waits for attachments".into());
    }
    Ok(out)
}

// ---- Engine.io payloads ----------------------------------------------------------------------

fn eio_packets(msgs: &[PacketData]) -> Vec<eio::Packet> {
    msgs.iter()
        .map(|m| eio::Packet {
            kind: eio::PacketType::Message,
            data: m.clone(),
        })
        .collect()
}

/// Encodes `msgs` as the payload of `version`'s Engine.io revision.
fn payload(version: ProtocolVersion, msgs: &[PacketData]) -> Vec<u8> {
    let packets = eio_packets(msgs);
    let mut out = Vec::new();
    match version {
        ProtocolVersion::V4 => eio::encode_text_payload(&packets, &mut out),
        ProtocolVersion::V5 => eio::v4::encode_payload(&packets, &mut out),
    }
    out
}

/// Decodes a payload fed in `chunks` (cut at the given offsets), polling after each feed;
/// the messages it carried.
fn messages_of(
    version: ProtocolVersion,
    body: &[u8],
    cuts: &[usize],
) -> Result<Vec<PacketData>, String> {
    enum D {
        V3(eio::PayloadDecoder),
        V4(eio::v4::PayloadDecoder),
    }
    impl D {
        fn feed(&mut self, b: &[u8]) -> Result<(), String> {
            match self {
                D::V3(d) => d.feed(b).map_err(|e| e.to_string()),
                D::V4(d) => d.feed(b).map_err(|e| e.to_string()),
            }
        }
        fn eof(&mut self) {
            match self {
                D::V3(d) => d.feed_eof(),
                D::V4(d) => d.feed_eof(),
            }
        }
        fn poll(&mut self) -> Result<Option<eio::Packet>, String> {
            match self {
                D::V3(d) => d.poll_packet().map_err(|e| e.to_string()),
                D::V4(d) => d.poll_packet().map_err(|e| e.to_string()),
            }
        }
    }
    let mut d = match version {
        ProtocolVersion::V4 => D::V3(eio::PayloadDecoder::new(
            eio::PayloadFormat::Text,
            eio::Limits::UNLIMITED,
        )),
        ProtocolVersion::V5 => D::V4(eio::v4::PayloadDecoder::new(eio::Limits::UNLIMITED)),
    };
    let mut out = Vec::new();
    let mut drain = |d: &mut D| -> Result<(), String> {
        while let Some(p) = d.poll()? {
            if p.kind != eio::PacketType::Message {
                return Err(format!("not a message: {p:?}"));
            }
            out.push(p.data);
        }
        Ok(())
    };
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.sort_unstable();
    let mut at = 0;
    for c in cuts.into_iter().chain([body.len()]) {
        d.feed(&body[at..c])?;
        at = c;
        drain(&mut d)?;
    }
    d.eof();
    drain(&mut d)?;
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn built_packets_decode_to_themselves(s in spec()) {
        let p = build(&s);
        let msgs = p.to_messages();
        prop_assert_eq!(msgs.len(), 1 + p.attachments().len());
        // Consuming the packet (moving its text when it can) sends the same messages.
        prop_assert_eq!(p.clone().into_messages(), msgs.clone());
        let mut dec = Decoder::new(s.0, Limits::UNLIMITED);
        for (i, m) in msgs.iter().enumerate() {
            let r = dec.push(m.clone()).map_err(|e| TestCaseError::fail(format!("{e}: {msgs:?}")))?;
            if i + 1 < msgs.len() {
                prop_assert!(r.is_none(), "complete before its last attachment");
            } else {
                let got = r.ok_or_else(|| TestCaseError::fail("incomplete"))?;
                check_packet(&got, &p, s.4.as_ref())?;
                // Encoding a decoded packet gives the same messages.
                prop_assert_eq!(got.to_messages(), msgs.clone());
                prop_assert_eq!(got.clone().into_messages(), msgs.clone());
            }
        }
    }

    #[test]
    fn payload_chunks_give_the_packets_of_the_whole_payload(
        (version, specs) in prop::sample::select(ProtocolVersion::ALL.to_vec())
            .prop_flat_map(|v| (Just(v), prop::collection::vec(spec_for(v), 1..5))),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let packets: Vec<Packet> = specs.iter().map(build).collect();
        let msgs: Vec<PacketData> = packets.iter().flat_map(Packet::to_messages).collect();
        let body = payload(version, &msgs);
        let whole = messages_of(version, &body, &[]).map_err(TestCaseError::fail)?;
        let split = messages_of(version, &body, &cuts).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&whole, &msgs);
        prop_assert_eq!(&split, &whole);
        let got = decode_all(version, &split).map_err(TestCaseError::fail)?;
        prop_assert_eq!(got.len(), packets.len());
        for ((g, p), s) in got.iter().zip(&packets).zip(&specs) {
            check_packet(g, p, s.4.as_ref())?;
        }
    }
}
