//! Packets built from serde types: the one-pass writer (`event_with`, `ack_with`,
//! `new_with`) gives the same text as building through `Value`, and as socket.io-parser's
//! `JSON.stringify` (expected texts written by hand from the v5 spec's format).

use bytes::Bytes;
use pushwire_socketio::{
    BuildError, Decoder, Limits, Packet, PacketData, PacketType,
    ProtocolVersion::{V4, V5},
    Value,
};
use serde::Serialize;

/// Bytes that serialize with `serialize_bytes`, as `serde_bytes` does.
struct Blob(&'static [u8]);

impl Serialize for Blob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

#[derive(Serialize)]
struct Move {
    x: i32,
    y: f64,
    tag: Option<&'static str>,
}

#[test]
fn events_from_tuples_structs_and_unit() {
    let p = Packet::event_with(V5, "/", "move", &(1, "up")).unwrap();
    assert_eq!(p.to_text(), r#"2["move",1,"up"]"#);
    assert_eq!(p.event_name(), Some("move"));
    let p = Packet::event_with(V5, "/", "ping", &()).unwrap();
    assert_eq!(p.to_text(), r#"2["ping"]"#);
    let p = Packet::event_with(V5, "/", "empty", &Vec::<u8>::new()).unwrap();
    assert_eq!(p.to_text(), r#"2["empty"]"#);
    let p = Packet::event_with(V5, "/", "one", &(None::<u8>,)).unwrap();
    assert_eq!(p.to_text(), r#"2["one",null]"#);
    let m = Move {
        x: -3,
        y: 1e21,
        tag: None,
    };
    let p = Packet::event_with(V5, "/game", "m\"v", &m)
        .unwrap()
        .with_id(9);
    assert_eq!(
        p.to_text(),
        r#"2/game,9["m\"v",{"x":-3,"y":1e+21,"tag":null}]"#
    );
    assert_eq!(p.event_name(), Some("m\"v"));
    // The same through `Value`.
    let v = Value::from_serialize(&m).unwrap();
    let q = Packet::event(V5, "/game", "m\"v", &[v]).unwrap().with_id(9);
    assert_eq!(q.to_text(), p.to_text());
}

#[test]
fn bytes_become_attachments_depth_first() {
    let p = Packet::event_with(V5, "/", "up", &(Blob(&[1]), vec![Blob(&[2]), Blob(&[3])])).unwrap();
    assert_eq!(p.kind(), PacketType::BinaryEvent);
    assert_eq!(
        p.to_text(),
        r#"53-["up",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]]"#
    );
    let got: Vec<&[u8]> = p.attachments().iter().map(|b| &b[..]).collect();
    assert_eq!(got, [&[1u8][..], &[2], &[3]]);
    // And they decode back in place.
    let mut dec = Decoder::new(V5, Limits::DEFAULT);
    let mut out = None;
    for m in p.to_messages() {
        out = dec.push(m).unwrap();
    }
    let args = out.unwrap().args().unwrap();
    assert_eq!(args[0], Value::Binary(Bytes::from_static(&[1])));
    assert_eq!(
        args[1],
        Value::Array(vec![
            Value::Binary(Bytes::from_static(&[2])),
            Value::Binary(Bytes::from_static(&[3]))
        ])
    );
}

#[test]
fn acks_from_serde() {
    assert_eq!(Packet::ack_with("/", 4, &()).unwrap().to_text(), "34[]");
    assert_eq!(
        Packet::ack_with("/a", 4, &("ok", 2)).unwrap().to_text(),
        r#"3/a,4["ok",2]"#
    );
    assert_eq!(
        Packet::ack_with("/", 4, &"ok").unwrap().to_text(),
        r#"34["ok"]"#
    );
    let p = Packet::ack_with("/", 5, &(Blob(&[7]),)).unwrap();
    assert_eq!(p.kind(), PacketType::BinaryAck);
    assert_eq!(p.to_text(), r#"61-5[{"_placeholder":true,"num":0}]"#);
}

#[test]
fn new_with_checks_like_the_decoder() {
    #[derive(Serialize)]
    struct Sid {
        sid: &'static str,
    }
    let p = Packet::new_with(V5, PacketType::Connect, "/admin", None, &Sid { sid: "x" }).unwrap();
    assert_eq!(p.to_text(), r#"0/admin,{"sid":"x"}"#);
    assert_eq!(
        Packet::new_with(V5, PacketType::Connect, "/", None, &[1]),
        Err(BuildError::InvalidData("CONNECT"))
    );
    assert!(Packet::new_with(V4, PacketType::Connect, "/", None, &[1]).is_ok());
    assert_eq!(
        Packet::new_with(V5, PacketType::Event, "/", None, &("disconnect", 1)),
        Err(BuildError::ReservedEventName("disconnect".into()))
    );
    assert_eq!(
        Packet::new_with(V5, PacketType::Event, "/", None, &[[1]]),
        Err(BuildError::InvalidData("EVENT"))
    );
    assert_eq!(
        Packet::event_with(V5, "/", "connect", &()),
        Err(BuildError::ReservedEventName("connect".into()))
    );
    // Bytes outside an event or ack would be attachments no decoder waits for.
    assert_eq!(
        Packet::new_with(V5, PacketType::Connect, "/", None, &Some(Blob(&[1]))),
        Err(BuildError::InvalidData("CONNECT"))
    );
    // Every built packet decodes to itself.
    for p in [
        Packet::new_with(V5, PacketType::Event, "/x", Some(3), &("e", 1.5, [true])).unwrap(),
        Packet::new_with(V5, PacketType::ConnectError, "/", None, &"no").unwrap(),
    ] {
        let d = Decoder::new(V5, Limits::DEFAULT)
            .push(PacketData::Text(p.to_text()))
            .unwrap()
            .unwrap();
        assert_eq!(d.value().unwrap(), p.value().unwrap());
        assert_eq!(d.event_name(), p.event_name());
        assert_eq!((d.kind(), d.nsp(), d.id()), (p.kind(), p.nsp(), p.id()));
    }
}
