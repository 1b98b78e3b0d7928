//! Properties of the cluster wire on random input:
//!
//! * MessagePack roundtrip: any value encodes and decodes to the value a JavaScript peer
//!   would hold (integral numbers as integers, integers beyond 2⁵³ rounded to doubles);
//! * hostile bytes: decoding anything returns a value or a typed error, and whatever
//!   decodes re-encodes to bytes that decode to the same value;
//! * the messages: broadcasts and requests built from random parts survive encode/decode
//!   on both wires.

use std::collections::BTreeSet;

use bytes::Bytes;
use proptest::prelude::*;
use pushwire_socketio::cluster::{
    msgpack, BroadcastMessage, ClusterPacket, Request, RequestMessage, Target, Wire,
};
use pushwire_socketio::server::{BroadcastFlags, BroadcastOptions};
use pushwire_socketio::{Map, PacketType, Value};

fn string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            1 => any::<char>(),
        ],
        0..40,
    )
    .prop_map(|c| c.into_iter().collect())
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-100i64..100).prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", serde_json::Number::from_f64)
            .prop_map(Value::Number),
    ]
}

fn value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        string().prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| Value::Binary(Bytes::from(b))),
    ];
    leaf.prop_recursive(4, 64, 20, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..20).prop_map(Value::Array),
            prop::collection::vec((string(), inner), 0..20)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map>())),
        ]
    })
    .boxed()
}

/// The value a JavaScript peer holds after decoding `v`: every number a double, and a
/// double that is an integer written as one.
fn as_javascript(v: &Value) -> Value {
    match v {
        Value::Number(n) => {
            let f = n.as_f64().expect("serde_json numbers have an f64 view");
            let exact = 9_007_199_254_740_992f64; // 2^53
            if n.as_u64().is_some_and(|u| u <= 1 << 53)
                || n.as_i64().is_some_and(|i| i.unsigned_abs() <= 1 << 53)
            {
                v.clone()
            } else if f.fract() != 0.0 || f.abs() > 1.9e19 {
                Value::Number(serde_json::Number::from_f64(f).unwrap())
            } else if f.abs() <= exact {
                Value::from(f as i64)
            } else if f > 0.0 {
                Value::from(f as u64)
            } else if f >= -(2f64.powi(63)) {
                Value::from(f as i64)
            } else {
                Value::Number(serde_json::Number::from_f64(f).unwrap())
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(as_javascript).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k, as_javascript(v))).collect()),
        other => other.clone(),
    }
}

fn rooms() -> impl Strategy<Value = BTreeSet<String>> {
    prop::collection::btree_set(string(), 0..4)
}

fn opts() -> impl Strategy<Value = BroadcastOptions> {
    (
        rooms(),
        rooms(),
        any::<(bool, bool, bool)>(),
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(r, e, (local, volatile, compress), timeout)| {
            let mut o = BroadcastOptions::new();
            o.rooms = r;
            o.except = e;
            let mut f = BroadcastFlags::default();
            f.local = local;
            f.volatile = volatile;
            f.compress = compress;
            f.timeout = timeout.map(u64::from);
            o.with_flags(f)
        })
}

fn packet() -> impl Strategy<Value = ClusterPacket> {
    (
        prop::sample::select(vec![
            PacketType::Event,
            PacketType::Ack,
            PacketType::BinaryEvent,
        ]),
        prop_oneof![
            Just("/".to_string()),
            string().prop_map(|s| format!("/{s}"))
        ],
        prop::option::of(prop::collection::vec(value(), 1..4).prop_map(Value::Array)),
        prop::option::of(any::<u32>().prop_map(u64::from)),
    )
        .prop_map(|(kind, nsp, data, id)| ClusterPacket {
            kind,
            nsp,
            data,
            id,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn msgpack_roundtrip(v in value()) {
        let bytes = msgpack::to_vec(&v).unwrap();
        prop_assert_eq!(msgpack::decode(&Bytes::from(bytes)), Ok(as_javascript(&v)));
    }

    #[test]
    fn msgpack_hostile_bytes(b in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(v) = msgpack::decode(&Bytes::from(b)) {
            let again = msgpack::to_vec(&v).unwrap();
            prop_assert_eq!(msgpack::decode(&Bytes::from(again)), Ok(v));
        }
    }

    #[test]
    fn msgpack_truncation_is_an_error(v in value(), cut in any::<prop::sample::Index>()) {
        let bytes = msgpack::to_vec(&v).unwrap();
        let cut = cut.index(bytes.len());
        // Every strict prefix is an incomplete value.
        prop_assert!(msgpack::decode(&Bytes::copy_from_slice(&bytes[..cut])).is_err());
    }

    #[test]
    fn broadcast_roundtrip(uid in string(), p in packet(), o in opts()) {
        let m = BroadcastMessage { uid, packet: p, opts: o };
        let bytes = m.encode().unwrap();
        let back = BroadcastMessage::decode(&Bytes::from(bytes)).unwrap();
        let mut want = m.clone();
        want.packet.data = m.packet.data.as_ref().map(as_javascript);
        prop_assert_eq!(back, want);
    }

    #[test]
    fn request_roundtrip(
        uid in string(),
        id in string(),
        o in opts(),
        r in rooms(),
        data in value(),
        close in any::<bool>(),
        pick in 0usize..8,
    ) {
        // The request's opts carry no flags except in a broadcast with acks.
        let mut plain = o.clone();
        plain.flags = BroadcastFlags::default();
        let event = |d: &Value| Value::Array(vec![Value::from("ev"), d.clone()]);
        let request = |d: &Value| match pick {
            0 => Request::Sockets { rooms: r.clone() },
            1 => Request::AllRooms,
            2 => Request::Join { target: Target::Select(plain.clone()), rooms: r.clone() },
            3 => Request::Leave { target: Target::Socket(uid.clone()), rooms: ["room".to_string()].into() },
            4 => Request::Disconnect { target: Target::Select(plain.clone()), close },
            5 => Request::FetchSockets { opts: plain.clone() },
            6 => Request::ServerSideEmit { data: event(d) },
            _ => Request::BroadcastWithAck {
                packet: ClusterPacket { kind: PacketType::Event, nsp: "/".into(), data: Some(event(d)), id: None },
                opts: o.clone(),
            },
        };
        // JSON requests carry binary as placeholders, not bytes: only MessagePack ones may
        // hold it.
        prop_assume!(pick == 7 || !data.has_binary());
        let selects = matches!(pick, 2 | 4);
        let m = RequestMessage { uid: Some(uid.clone()), request_id: (!selects).then(|| id.clone()), request: request(&data) };
        let bytes = m.encode(Wire::RedisAdapter8).unwrap();
        let back = RequestMessage::decode(&Bytes::from(bytes), Wire::RedisAdapter8).unwrap();
        prop_assert_eq!(&back.uid, &m.uid);
        prop_assert_eq!(&back.request_id, &m.request_id);
        // Numbers come back as a JavaScript peer holds them (JSON keeps big integers
        // exact, MessagePack rounds them): compare both sides as JavaScript would.
        let js = |r: &Request| match r {
            Request::ServerSideEmit { data } => Request::ServerSideEmit { data: as_javascript(data) },
            Request::BroadcastWithAck { packet, opts } => Request::BroadcastWithAck {
                packet: ClusterPacket { data: packet.data.as_ref().map(as_javascript), ..packet.clone() },
                opts: opts.clone(),
            },
            other => other.clone(),
        };
        prop_assert_eq!(js(&back.request), js(&m.request));
    }
}
