//! The revision 4 client's POST batches against the handshake's `maxPayload`, at the exact
//! boundary: what fits in one POST, and where one byte more splits it.

use pushwire_engineio::client::{self, RequestKind};
use pushwire_engineio::{Instant, PacketData, ProtocolVersion};

/// A v4 client whose handshake announced `maxPayload` = `max`, its first poll pending.
fn open(max: u64) -> client::Session {
    let config = client::Config::DEFAULT
        .with_protocol(ProtocolVersion::V4)
        .with_upgrade(false);
    let mut c = client::Session::new(config, Instant::ZERO);
    let handshake = c.poll_request().expect("the handshake GET");
    assert_eq!(handshake.kind, RequestKind::Handshake);
    let open = format!(
        r#"0{{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":5000,"maxPayload":{max}}}"#
    );
    c.handle_response(Instant::ZERO, handshake.kind, 200, false, open.as_bytes());
    assert!(matches!(c.poll_event(), Some(client::Event::Open(_))));
    assert_eq!(c.max_payload(), Some(max));
    let poll = c.poll_request().expect("the first poll");
    assert_eq!(poll.kind, RequestKind::Poll);
    c
}

/// The bodies of the POSTs that carry `messages`, sent while an earlier POST was in flight
/// (so that they wait in the buffer together), each POST answered `ok` before the next.
fn posts(max: u64, messages: &[&str]) -> Vec<String> {
    let mut c = open(max);
    c.send(PacketData::Text("lead".into())).unwrap();
    let lead = c.poll_request().expect("the first send goes at once");
    assert_eq!(lead.kind, RequestKind::Post);
    assert_eq!(lead.body, b"4lead");
    for m in messages {
        c.send(PacketData::Text((*m).into())).unwrap();
    }
    assert!(c.poll_request().is_none(), "one POST at a time");
    c.handle_response(Instant::ZERO, lead.kind, 200, false, b"ok");
    let mut bodies = Vec::new();
    while let Some(req) = c.poll_request() {
        assert_eq!(req.kind, RequestKind::Post);
        assert_eq!(req.content_type, Some("text/plain;charset=UTF-8"));
        bodies.push(String::from_utf8(req.body).unwrap());
        c.handle_response(Instant::ZERO, req.kind, 200, false, b"ok");
    }
    bodies
}

#[test]
fn a_batch_of_exactly_max_payload_bytes_goes_in_one_post_one_byte_more_splits_it() {
    // > The client SHOULD use the `maxPayload` value sent during the handshake to decide
    // > how many packets should be concatenated.
    // > `maxPayload` | `number` | The maximum number of bytes per chunk, used by the client
    // > to aggregate packets into payloads.
    // > The packets are separated by the [record separator character](…): `\x1e`
    //
    // Three packets of 7 bytes (`4msg0xx`): 7 + 1 + 7 + 1 + 7 = 23 bytes with their two
    // separators. Every separator counts, and only the separators: not one byte per packet.
    let three = ["msg0xx", "msg1xx", "msg2xx"];
    assert_eq!(
        posts(23, &three),
        ["4msg0xx\u{1e}4msg1xx\u{1e}4msg2xx"],
        "23 bytes under a maxPayload of 23"
    );
    assert_eq!(
        posts(22, &three),
        ["4msg0xx\u{1e}4msg1xx", "4msg2xx"],
        "23 bytes over a maxPayload of 22"
    );
    // Two packets: 7 + 1 + 7 = 15.
    let two = ["msg0xx", "msg1xx"];
    assert_eq!(posts(15, &two), ["4msg0xx\u{1e}4msg1xx"]);
    assert_eq!(posts(14, &two), ["4msg0xx", "4msg1xx"]);
    // Packets of other lengths: 2 + 1 + 4 + 1 + 3 = 11, the prefix that fits goes first.
    let mixed = ["a", "bcd", "ef"];
    assert_eq!(posts(11, &mixed), ["4a\u{1e}4bcd\u{1e}4ef"]);
    assert_eq!(posts(10, &mixed), ["4a\u{1e}4bcd", "4ef"]);
    assert_eq!(posts(6, &mixed), ["4a", "4bcd", "4ef"]);
}
