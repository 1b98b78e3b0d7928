//! The server role driven with the wire texts socket.io-client 2.x (revision 4) and 4.x
//! (revision 5) send, asserting on the exact messages sent back. Expected texts come from
//! the specs' "Sample session" and exchange sections, or from the reference server's code
//! (quoted where used).

use core::time::Duration;

use bytes::Bytes;
use pushwire_engineio::{Instant, PacketData};
use pushwire_socketio::server::{
    Adapter, Auth, BroadcastOptions, CloseReason, Config, Connection, DisconnectReason, Event,
    JoinError, Rooms, SendError,
};
use pushwire_socketio::{
    BuildError, DecodeError, Map, Packet, PacketType,
    ProtocolVersion::{self, V4, V5},
    Value,
};

/// The Engine.io id of both specs' sample sessions.
const EIO_SID: &str = "lv_VI97HAXpY6yYWAAAC";

fn at(ms: u64) -> Instant {
    Instant::from_duration(Duration::from_millis(ms))
}

fn conn(v: ProtocolVersion) -> Connection {
    Connection::new(&Config::DEFAULT, v, EIO_SID, at(0))
}

fn feed(c: &mut Connection, text: &str) {
    c.handle_message(at(0), PacketData::Text(text.into()));
}

fn feed_bin(c: &mut Connection, b: &'static [u8]) {
    c.handle_message(at(0), PacketData::Binary(Bytes::from_static(b)));
}

/// Everything queued to send, binary messages as `<hex>`.
fn sent(c: &mut Connection) -> Vec<String> {
    let mut v = Vec::new();
    while let Some(m) = c.poll_transmit() {
        v.push(match m {
            PacketData::Text(t) => t,
            PacketData::Binary(b) => format!("<{}>", hex(&b)),
        });
    }
    v
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn events(c: &mut Connection) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(e) = c.poll_event() {
        v.push(e);
    }
    v
}

fn request(nsp: &str, auth: Auth) -> Event {
    Event::ConnectRequest {
        nsp: nsp.into(),
        auth,
    }
}

fn connected(nsp: &str, id: &str) -> Event {
    Event::Connected {
        nsp: nsp.into(),
        socket_id: id.into(),
    }
}

fn disconnected(nsp: &str, id: &str, reason: DisconnectReason) -> Event {
    Event::Disconnected {
        nsp: nsp.into(),
        socket_id: id.into(),
        reason,
    }
}

/// The one event in `evs`, an `Event::Event`: (nsp, name, args, ack id).
fn the_event(evs: &[Event]) -> (String, String, Vec<Value>, Option<u64>) {
    assert_eq!(evs.len(), 1, "{evs:?}");
    match &evs[0] {
        Event::Event { nsp, packet } => (
            nsp.clone(),
            packet.event_name().unwrap_or_default().into(),
            packet.args().unwrap(),
            packet.id(),
        ),
        e => panic!("not an event: {e:?}"),
    }
}

fn s(x: &str) -> Value {
    Value::from(x)
}

/// Joins `/` (and with revision 5 asks for it first) with socket id `id`.
fn join_root(c: &mut Connection, id: &str) {
    if c.version() == V5 {
        feed(c, "0");
    }
    assert_eq!(events(c), [request("/", Auth::None)]);
    c.accept("/", Some(id)).unwrap();
    sent(c);
    events(c);
}

fn join(c: &mut Connection, nsp: &str, id: &str) {
    feed(c, &format!("0{nsp},"));
    assert_eq!(events(c), [request(nsp, Auth::None)]);
    c.accept(nsp, Some(id)).unwrap();
    sent(c);
    events(c);
}

// ---- the sample sessions ------------------------------------------------------------------

#[test]
fn v5_sample_session() {
    let mut c = conn(V5);
    // "If the server does not receive a CONNECT packet first…": nothing is implicit.
    assert_eq!(events(&mut c), []);
    // Request n°2/n°3: `40` → `40{"sid":"wZX3oN0bSVIhsaknAAAI"}` (Engine.io's `4` apart).
    feed(&mut c, "0");
    assert_eq!(events(&mut c), [request("/", Auth::None)]);
    c.accept("/", Some("wZX3oN0bSVIhsaknAAAI")).unwrap();
    assert_eq!(sent(&mut c), [r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#]);
    assert_eq!(events(&mut c), [connected("/", "wZX3oN0bSVIhsaknAAAI")]);
    // Request n°4: `socket.emit('hey', 'Jude')` → `42["hey","Jude"]`.
    assert_eq!(c.emit(at(0), "/", "hey", &[s("Jude")], None), Ok(None));
    assert_eq!(sent(&mut c), [r#"2["hey","Jude"]"#]);
    // Request n°5: `42["hello"]\x1e42["world"]`.
    feed(&mut c, r#"2["hello"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "hello".into(), vec![], None)
    );
    feed(&mut c, r#"2["world"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "world".into(), vec![], None)
    );
    // `40/admin,` → `40/admin,{"sid":"-G5j-67EZFp-q59rADQM"}`.
    feed(&mut c, "0/admin,");
    assert_eq!(events(&mut c), [request("/admin", Auth::None)]);
    c.accept("/admin", Some("-G5j-67EZFp-q59rADQM")).unwrap();
    assert_eq!(sent(&mut c), [r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#]);
    assert_eq!(
        events(&mut c),
        [connected("/admin", "-G5j-67EZFp-q59rADQM")]
    );
    // `42/admin,1["tellme"]` → `461-/admin,1[{"_placeholder":true,"num":0}]` + `<binary>`.
    feed(&mut c, r#"2/admin,1["tellme"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/admin".into(), "tellme".into(), vec![], Some(1))
    );
    c.ack(
        "/admin",
        1,
        &[Value::Binary(Bytes::from_static(&[1, 2, 3]))],
    )
    .unwrap();
    assert_eq!(
        sent(&mut c),
        [r#"61-/admin,1[{"_placeholder":true,"num":0}]"#, "<010203>"]
    );
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn v4_sample_session() {
    let mut c = conn(V4);
    // "The server always send a CONNECT packet for the default namespace (/) when the
    // connection is established": the application decides, then `2:40` goes out.
    assert_eq!(events(&mut c), [request("/", Auth::None)]);
    c.accept("/", None).unwrap();
    assert_eq!(sent(&mut c), ["0"]);
    // socket.io 2.x: "this.id = nsp.name !== '/' ? nsp.name + '#' + client.id : client.id".
    assert_eq!(events(&mut c), [connected("/", EIO_SID)]);
    // Request n°2: `16:42["hey","Jude"]`.
    c.emit(at(0), "/", "hey", &[s("Jude")], None).unwrap();
    assert_eq!(sent(&mut c), [r#"2["hey","Jude"]"#]);
    // Request n°3: `11:42["hello"]11:42["world"]`.
    feed(&mut c, r#"2["hello"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "hello".into(), vec![], None)
    );
    feed(&mut c, r#"2["world"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "world".into(), vec![], None)
    );
    // `40/admin,` → `40/admin,`.
    feed(&mut c, "0/admin,");
    assert_eq!(events(&mut c), [request("/admin", Auth::None)]);
    c.accept("/admin", None).unwrap();
    assert_eq!(sent(&mut c), ["0/admin,"]);
    assert_eq!(
        events(&mut c),
        [connected("/admin", "/admin#lv_VI97HAXpY6yYWAAAC")]
    );
    feed(&mut c, r#"2/admin,1["tellme"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/admin".into(), "tellme".into(), vec![], Some(1))
    );
    c.ack(
        "/admin",
        1,
        &[Value::Binary(Bytes::from_static(&[1, 2, 3]))],
    )
    .unwrap();
    assert_eq!(
        sent(&mut c),
        [r#"61-/admin,1[{"_placeholder":true,"num":0}]"#, "<010203>"]
    );
}

// ---- connect: refusal, auth, buffering ---------------------------------------------------

#[test]
fn v5_refuse_sends_connect_error_object() {
    let mut c = conn(V5);
    feed(&mut c, "0");
    events(&mut c);
    // "Server > { type: CONNECT_ERROR, namespace: "/", data: { message: "Not authorized" } }".
    c.refuse("/", "Not authorized", None).unwrap();
    assert_eq!(sent(&mut c), [r#"4{"message":"Not authorized"}"#]);
    assert_eq!(events(&mut c), []);
    // socket.io 4 `_add`: "socket._error({ message: err.message, data: err.data })".
    feed(&mut c, "0/admin,");
    events(&mut c);
    let mut data = Map::new();
    data.insert("content", s("Please retry later"));
    c.refuse("/admin", "not authorized", Some(Value::Object(data)))
        .unwrap();
    assert_eq!(
        sent(&mut c),
        [r#"4/admin,{"message":"not authorized","data":{"content":"Please retry later"}}"#]
    );
    // The request is answered: a second answer is the caller's mistake.
    assert_eq!(
        c.accept("/admin", Some("x")),
        Err(SendError::NoConnectRequest)
    );
    // Refused is not joined: the client may ask again.
    feed(&mut c, "0/admin,");
    assert_eq!(events(&mut c), [request("/admin", Auth::None)]);
}

#[test]
fn v4_refuse_sends_error_string() {
    let mut c = conn(V4);
    events(&mut c);
    c.accept("/", None).unwrap();
    sent(&mut c);
    events(&mut c);
    feed(&mut c, "0/admin,");
    events(&mut c);
    // "Server > { type: ERROR, nsp: "/admin", data: "Not authorized" }".
    c.refuse("/admin", "Not authorized", None).unwrap();
    assert_eq!(sent(&mut c), [r#"4/admin,"Not authorized""#]);
    // 2.x `Namespace.add`: "socket.error(err.data || err.message)".
    feed(&mut c, "0/admin,");
    events(&mut c);
    let mut data = Map::new();
    data.insert("content", s("Please retry later"));
    c.refuse("/admin", "ignored", Some(Value::Object(data)))
        .unwrap();
    assert_eq!(
        sent(&mut c),
        [r#"4/admin,{"content":"Please retry later"}"#]
    );
}

#[test]
fn v5_invalid_namespace_refusal() {
    let mut c = conn(V5);
    feed(&mut c, "0/nope,");
    events(&mut c);
    // 4.x `client.js` `connect`: "data: { message: "Invalid namespace" }".
    c.refuse_invalid_namespace("/nope").unwrap();
    assert_eq!(sent(&mut c), [r#"4/nope,{"message":"Invalid namespace"}"#]);
}

#[test]
fn v4_invalid_namespace_refusal() {
    let mut c = conn(V4);
    events(&mut c);
    c.accept("/", None).unwrap();
    sent(&mut c);
    feed(&mut c, "0/nope,");
    events(&mut c);
    // 2.x `client.js` `connect`: "data: 'Invalid namespace'".
    c.refuse_invalid_namespace("/nope").unwrap();
    assert_eq!(sent(&mut c), [r#"4/nope,"Invalid namespace""#]);
}

#[test]
fn v5_auth_is_the_connect_object() {
    let mut c = conn(V5);
    // "Client > { type: CONNECT, namespace: "/admin", data: { "token": "123" } }".
    feed(&mut c, r#"0/admin,{"token":"123"}"#);
    let mut m = Map::new();
    m.insert("token", s("123"));
    assert_eq!(events(&mut c), [request("/admin", Auth::Object(m))]);
    c.accept("/admin", Some("iLnRaVGHY4B75TeVAAAB")).unwrap();
    assert_eq!(sent(&mut c), [r#"0/admin,{"sid":"iLnRaVGHY4B75TeVAAAB"}"#]);
}

#[test]
fn v4_auth_is_the_query_string() {
    let mut c = conn(V4);
    events(&mut c);
    c.accept("/", None).unwrap();
    sent(&mut c);
    events(&mut c);
    // "{ "type": 0, "nsp": "/admin?token=1234&uid=abcd" }".
    feed(&mut c, "0/admin?token=1234&uid=abcd,");
    assert_eq!(
        events(&mut c),
        [request("/admin", Auth::Query("token=1234&uid=abcd".into()))]
    );
    c.accept("/admin", None).unwrap();
    // The answer names the namespace without the query (2.x: `url.parse(packet.nsp).pathname`).
    assert_eq!(sent(&mut c), ["0/admin,"]);
    assert_eq!(c.socket_id("/admin"), Some("/admin#lv_VI97HAXpY6yYWAAAC"));
}

#[test]
fn v4_connects_before_root_wait_for_it() {
    let mut c = conn(V4);
    assert_eq!(events(&mut c), [request("/", Auth::None)]);
    // 2.x `doConnect`: "if ('/' != name && !this.nsps['/']) { this.connectBuffer.push(name)".
    feed(&mut c, "0/admin?token=1,");
    feed(&mut c, "0/chat,");
    assert_eq!(events(&mut c), []);
    assert_eq!(sent(&mut c), Vec::<String>::new());
    c.accept("/", None).unwrap();
    assert_eq!(sent(&mut c), ["0"]);
    assert_eq!(
        events(&mut c),
        [
            connected("/", EIO_SID),
            request("/admin", Auth::Query("token=1".into())),
            request("/chat", Auth::None),
        ]
    );
    c.accept("/chat", None).unwrap();
    c.accept("/admin", None).unwrap();
    assert_eq!(sent(&mut c), ["0/chat,", "0/admin,"]);
}

#[test]
fn v5_connects_before_root_are_answered_at_once() {
    let mut c = conn(V5);
    // Revision 5 has no implicit `/`: a namespace is joined on its own.
    feed(&mut c, "0/admin,");
    assert_eq!(events(&mut c), [request("/admin", Auth::None)]);
    c.accept("/admin", Some("A")).unwrap();
    assert_eq!(sent(&mut c), [r#"0/admin,{"sid":"A"}"#]);
    assert_eq!(c.sockets().collect::<Vec<_>>(), [("/admin", "A")]);
}

#[test]
fn v5_accept_needs_a_socket_id() {
    let mut c = conn(V5);
    feed(&mut c, "0");
    events(&mut c);
    assert_eq!(c.accept("/", None), Err(SendError::SocketIdRequired));
    assert_eq!(sent(&mut c), Vec::<String>::new());
    assert_eq!(
        c.accept("/other", Some("x")),
        Err(SendError::NoConnectRequest)
    );
}

#[test]
fn v4_accept_without_request_is_refused() {
    let mut c = conn(V4);
    events(&mut c);
    assert_eq!(c.accept("/admin", None), Err(SendError::NoConnectRequest));
    assert_eq!(sent(&mut c), Vec::<String>::new());
}

// ---- events and acks ---------------------------------------------------------------------

#[test]
fn v5_acks_both_ways() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    // "Client > { type: EVENT, namespace: "/", data: ["foo"], id: 12 }
    //  Server > { type: ACK, namespace: "/", data: [], id: 12 }".
    feed(&mut c, r#"212["foo"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "foo".into(), vec![], Some(12))
    );
    c.ack("/", 12, &[]).unwrap();
    assert_eq!(sent(&mut c), ["312[]"]);
    // "Server > { type: EVENT, namespace: "/admin", data: ["foo"], id: 13 }
    //  Client > { type: ACK, namespace: "/admin", data: ["bar"], id: 13 }", with the ids
    // socket.io allocates (`this.nsp._ids++`, from 0).
    let id = c
        .emit(at(0), "/admin", "foo", &[], Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(id, Some(0));
    assert_eq!(c.pending_acks("/admin"), 1);
    assert_eq!(sent(&mut c), [r#"2/admin,0["foo"]"#]);
    assert_eq!(c.poll_timeout(), Some(at(5_000)));
    feed(&mut c, r#"3/admin,0["bar"]"#);
    let evs = events(&mut c);
    match &evs[..] {
        [Event::Ack { nsp, id: 0, packet }] => {
            assert_eq!(nsp, "/admin");
            assert_eq!(packet.args().unwrap(), [s("bar")]);
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(c.pending_acks("/admin"), 0);
    assert_eq!(c.poll_timeout(), None);
    // The next emit takes the next id; an ack for an unknown id is ignored ("bad ack").
    assert_eq!(
        c.emit(at(0), "/admin", "foo", &[], Some(Duration::MAX)),
        Ok(Some(1))
    );
    assert_eq!(c.poll_timeout(), None, "Duration::MAX never times out");
    feed(&mut c, r#"3/admin,7["bar"]"#);
    assert_eq!(events(&mut c), []);
    assert!(!c.is_closed());
}

#[test]
fn v4_acks_both_ways() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    // "Client > { type: EVENT, nsp: "/admin", data: ["hello"], id: 456 }
    //  Server > { type: ACK, nsp: "/admin", data: [], id: 456 }".
    feed(&mut c, r#"2/admin,456["hello"]"#);
    assert_eq!(
        the_event(&events(&mut c)),
        ("/admin".into(), "hello".into(), vec![], Some(456))
    );
    c.ack("/admin", 456, &[]).unwrap();
    assert_eq!(sent(&mut c), ["3/admin,456[]"]);
    // "or Server > { type: BINARY_ACK, nsp: "/admin", data: [ <Buffer 01 02 03> ], id: 456 }".
    c.ack(
        "/admin",
        456,
        &[Value::Binary(Bytes::from_static(&[1, 2, 3]))],
    )
    .unwrap();
    assert_eq!(
        sent(&mut c),
        [
            r#"61-/admin,456[{"_placeholder":true,"num":0}]"#,
            "<010203>"
        ]
    );
    // "And vice versa."
    let id = c
        .emit(at(0), "/admin", "foo", &[], Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(id, Some(0));
    assert_eq!(sent(&mut c), [r#"2/admin,0["foo"]"#]);
    feed(&mut c, r#"61-/admin,0[{"_placeholder":true,"num":0}]"#);
    assert_eq!(events(&mut c), []);
    feed_bin(&mut c, &[1, 2, 3]);
    let evs = events(&mut c);
    match &evs[..] {
        [Event::Ack { nsp, id: 0, packet }] => {
            assert_eq!(nsp, "/admin");
            assert_eq!(packet.kind(), PacketType::BinaryAck);
            assert_eq!(
                packet.args().unwrap(),
                [Value::Binary(Bytes::from_static(&[1, 2, 3]))]
            );
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn v5_ack_timeout() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    let id = c
        .emit(
            at(1_000),
            "/",
            "ping",
            &[],
            Some(Duration::from_millis(500)),
        )
        .unwrap()
        .unwrap();
    sent(&mut c);
    assert_eq!(c.poll_timeout(), Some(at(1_500)));
    c.handle_timeout(at(1_499));
    assert_eq!(events(&mut c), []);
    c.handle_timeout(at(1_500));
    assert_eq!(
        events(&mut c),
        [Event::AckTimeout {
            nsp: "/".into(),
            id
        }]
    );
    assert_eq!(c.poll_timeout(), None);
    // socket.io: "this.acks.delete(id)" on timeout: a late answer is ignored.
    feed(&mut c, &format!("3{id}[]"));
    assert_eq!(events(&mut c), []);
}

#[test]
fn v4_ack_timeout() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    let id = c
        .emit(
            at(1_000),
            "/",
            "ping",
            &[],
            Some(Duration::from_millis(500)),
        )
        .unwrap()
        .unwrap();
    sent(&mut c);
    assert_eq!(c.poll_timeout(), Some(at(1_500)));
    c.handle_timeout(at(1_499));
    assert_eq!(events(&mut c), []);
    c.handle_timeout(at(1_500));
    assert_eq!(
        events(&mut c),
        [Event::AckTimeout {
            nsp: "/".into(),
            id
        }]
    );
    feed(&mut c, &format!("3{id}[]"));
    assert_eq!(events(&mut c), []);
}

#[test]
fn v5_pending_acks_are_bounded() {
    let config = Config::DEFAULT.with_max_pending_acks(2);
    let mut c = Connection::new(&config, V5, EIO_SID, at(0));
    join_root(&mut c, "S");
    let t = Some(Duration::from_secs(1));
    assert_eq!(c.emit(at(0), "/", "a", &[], t), Ok(Some(0)));
    assert_eq!(c.emit(at(0), "/", "a", &[], t), Ok(Some(1)));
    assert_eq!(
        c.emit(at(0), "/", "a", &[], t),
        Err(SendError::TooManyAcks { limit: 2 })
    );
    // Without an ack the emit is not limited by it.
    assert_eq!(c.emit(at(0), "/", "a", &[], None), Ok(None));
    assert_eq!(sent(&mut c).len(), 3);
}

#[test]
fn v4_pending_acks_are_bounded() {
    let config = Config::DEFAULT.with_max_pending_acks(2);
    let mut c = Connection::new(&config, V4, EIO_SID, at(0));
    join_root(&mut c, "S");
    let t = Some(Duration::from_secs(1));
    assert_eq!(c.emit(at(0), "/", "a", &[], t), Ok(Some(0)));
    assert_eq!(c.emit(at(0), "/", "a", &[], t), Ok(Some(1)));
    assert_eq!(
        c.emit(at(0), "/", "a", &[], t),
        Err(SendError::TooManyAcks { limit: 2 })
    );
    feed(&mut c, "30[]");
    assert_eq!(c.emit(at(0), "/", "a", &[], t), Ok(Some(2)));
}

// ---- binary ------------------------------------------------------------------------------

#[test]
fn v5_binary_event_in_and_out() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    // "Client > { type: BINARY_EVENT, namespace: "/", data: ["baz", <Buffer <01 02 03 04>> ] }"
    // → `451-["baz",{"_placeholder":true,"num":0}]` + `<Buffer 01 02 03 04>`.
    feed(&mut c, r#"51-["baz",{"_placeholder":true,"num":0}]"#);
    assert_eq!(events(&mut c), [], "waits for its attachment");
    feed_bin(&mut c, &[1, 2, 3, 4]);
    let bin = Value::Binary(Bytes::from_static(&[1, 2, 3, 4]));
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "baz".into(), vec![bin.clone()], None)
    );
    // The v5 spec's "with multiple attachments": `452-/admin,["baz",{…0},{…1}]`.
    join(&mut c, "/admin", "T");
    let b2 = Value::Binary(Bytes::from_static(&[5, 6]));
    c.emit(at(0), "/admin", "baz", &[bin, b2], None).unwrap();
    assert_eq!(
        sent(&mut c),
        [
            r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            "<01020304>",
            "<0506>"
        ]
    );
}

#[test]
fn v4_binary_event_in_and_out() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    // v4 spec, BINARY_EVENT: `51-["hello",{"_placeholder":true,"num":0}]` + `<Buffer 01 02 03>`.
    feed(&mut c, r#"51-["hello",{"_placeholder":true,"num":0}]"#);
    assert_eq!(events(&mut c), [], "waits for its attachment");
    feed_bin(&mut c, &[1, 2, 3]);
    let bin = Value::Binary(Bytes::from_static(&[1, 2, 3]));
    assert_eq!(
        the_event(&events(&mut c)),
        ("/".into(), "hello".into(), vec![bin.clone()], None)
    );
    join(&mut c, "/admin", "T");
    c.emit(at(0), "/admin", "hello", &[bin], Some(Duration::MAX))
        .unwrap();
    assert_eq!(
        sent(&mut c),
        [
            r#"51-/admin,0["hello",{"_placeholder":true,"num":0}]"#,
            "<010203>"
        ]
    );
}

// ---- disconnect --------------------------------------------------------------------------

#[test]
fn v5_client_disconnects_a_namespace() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    c.emit(at(0), "/admin", "x", &[], Some(Duration::from_secs(1)))
        .unwrap();
    sent(&mut c);
    // "Client > { type: DISCONNECT, namespace: "/admin" }": `ondisconnect` →
    // "this._onclose("client namespace disconnect")".
    feed(&mut c, "1/admin,");
    assert_eq!(
        events(&mut c),
        [disconnected(
            "/admin",
            "T",
            DisconnectReason::ClientNamespaceDisconnect
        )]
    );
    assert_eq!(
        sent(&mut c),
        Vec::<String>::new(),
        "no response is expected"
    );
    assert_eq!(c.poll_timeout(), None, "its ack timers went with it");
    assert_eq!(
        c.emit(at(0), "/admin", "x", &[], None),
        Err(SendError::NotConnected)
    );
    // 4.x: a packet for a namespace not joined is an invalid state: close.
    feed(&mut c, r#"2/admin,["late"]"#);
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", "S", DisconnectReason::ForcedServerClose),
            Event::Close(CloseReason::InvalidState {
                kind: PacketType::Event,
                nsp: "/admin".into()
            })
        ]
    );
    assert!(c.is_closed());
}

#[test]
fn v4_client_disconnects_a_namespace() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    // "Client > { type: DISCONNECT, nsp: "/admin" }".
    feed(&mut c, "1/admin,");
    assert_eq!(
        events(&mut c),
        [disconnected(
            "/admin",
            "T",
            DisconnectReason::ClientNamespaceDisconnect
        )]
    );
    assert_eq!(
        sent(&mut c),
        Vec::<String>::new(),
        "no response is expected"
    );
    // 2.x: "debug('no socket for namespace %s')": ignored, the connection stays.
    feed(&mut c, r#"2/admin,["late"]"#);
    assert_eq!(events(&mut c), []);
    assert!(!c.is_closed());
    // And the namespace can be joined again.
    join(&mut c, "/admin", "T2");
    assert_eq!(c.socket_id("/admin"), Some("T2"));
}

#[test]
fn v5_server_disconnects_a_namespace() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    // `disconnect()`: "this.packet({ type: DISCONNECT }); this._onclose("server namespace
    // disconnect")".
    c.disconnect("/admin").unwrap();
    assert_eq!(sent(&mut c), ["1/admin,"]);
    assert_eq!(
        events(&mut c),
        [disconnected(
            "/admin",
            "T",
            DisconnectReason::ServerNamespaceDisconnect
        )]
    );
    assert_eq!(c.disconnect("/admin"), Err(SendError::NotConnected));
    assert!(!c.is_closed());
}

#[test]
fn v4_server_disconnects_a_namespace() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    c.disconnect("/admin").unwrap();
    assert_eq!(sent(&mut c), ["1/admin,"]);
    assert_eq!(
        events(&mut c),
        [disconnected(
            "/admin",
            "T",
            DisconnectReason::ServerNamespaceDisconnect
        )]
    );
    assert!(!c.is_closed());
}

#[test]
fn v5_server_closes_everything() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    // `disconnect(true)` → `client._disconnect()`: each socket's DISCONNECT, then close.
    c.close();
    assert_eq!(sent(&mut c), ["1", "1/admin,"]);
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", "S", DisconnectReason::ServerNamespaceDisconnect),
            disconnected("/admin", "T", DisconnectReason::ServerNamespaceDisconnect),
            Event::Close(CloseReason::Server),
        ]
    );
    assert_eq!(c.emit(at(0), "/", "x", &[], None), Err(SendError::Closed));
}

/// Found while writing the `sio_server_session` fuzz target: `emit` built its packet
/// before looking at the state, so on a closed connection a name that cannot be sent
/// (revision 5's reserved names) or a bad namespace gave `SendError::Build`, not the
/// `SendError::Closed` the type documents for every mutator after `Close`.
#[test]
fn every_mutator_says_closed_after_close() {
    for version in ProtocolVersion::ALL {
        let mut c = conn(version);
        join_root(&mut c, "S");
        c.close();
        let _ = (sent(&mut c), events(&mut c));
        for (nsp, name) in [("/", "x"), ("/", "connect"), ("no-slash", "x")] {
            assert_eq!(
                c.emit(at(0), nsp, name, &[], None),
                Err(SendError::Closed),
                "{version:?} {nsp} {name}"
            );
        }
        assert_eq!(c.ack("/", 0, &[]), Err(SendError::Closed));
        assert_eq!(c.send_encoded("/", &[]), Err(SendError::Closed));
        assert_eq!(c.disconnect("/"), Err(SendError::Closed));
        assert_eq!(c.accept("/", Some("T")), Err(SendError::Closed));
        assert_eq!(c.refuse("/", "no", None), Err(SendError::Closed));
    }
}

#[test]
fn v4_server_closes_everything() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    c.close();
    assert_eq!(sent(&mut c), ["1"]);
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", "S", DisconnectReason::ServerNamespaceDisconnect),
            Event::Close(CloseReason::Server),
        ]
    );
}

#[test]
fn v5_session_end_disconnects_every_socket() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    join(&mut c, "/admin", "T");
    c.handle_closed(
        at(0),
        pushwire_engineio::server::CloseReason::PingTimeout.into(),
    );
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", "S", DisconnectReason::PingTimeout),
            disconnected("/admin", "T", DisconnectReason::PingTimeout),
        ]
    );
    assert_eq!(DisconnectReason::PingTimeout.as_str(), "ping timeout");
    assert!(c.is_closed());
    feed(&mut c, r#"2["x"]"#);
    assert_eq!(events(&mut c), []);
}

#[test]
fn v4_session_end_disconnects_every_socket() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    c.handle_closed(at(0), DisconnectReason::TransportClose);
    assert_eq!(
        events(&mut c),
        [disconnected("/", "S", DisconnectReason::TransportClose)]
    );
    assert_eq!(DisconnectReason::TransportClose.as_str(), "transport close");
    assert_eq!(c.poll_timeout(), None);
}

// ---- timeouts and closing ----------------------------------------------------------------

#[test]
fn v5_connect_timeout() {
    let mut c = conn(V5);
    // socket.io 4: "this.connectTimeout(opts.connectTimeout || 45000)".
    assert_eq!(c.poll_timeout(), Some(at(45_000)));
    c.handle_timeout(at(44_999));
    assert_eq!(events(&mut c), []);
    c.handle_timeout(at(45_000));
    assert_eq!(events(&mut c), [Event::Close(CloseReason::ConnectTimeout)]);
    assert!(c.is_closed());
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn v4_connect_timeout() {
    let mut c = conn(V4);
    events(&mut c);
    // `/` asked for but never accepted: nothing is joined at the deadline.
    assert_eq!(c.poll_timeout(), Some(at(45_000)));
    c.handle_timeout(at(45_000));
    assert_eq!(events(&mut c), [Event::Close(CloseReason::ConnectTimeout)]);
}

#[test]
fn v5_joining_cancels_the_connect_timeout() {
    let mut c = conn(V5);
    join(&mut c, "/admin", "T");
    assert_eq!(c.poll_timeout(), None);
    // Leaving later does not bring it back ("clearTimeout(this.connectTimeout)").
    feed(&mut c, "1/admin,");
    events(&mut c);
    c.handle_timeout(at(90_000));
    assert_eq!(events(&mut c), []);
    assert!(!c.is_closed());
}

#[test]
fn v4_joining_cancels_the_connect_timeout() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(at(90_000));
    assert_eq!(events(&mut c), []);
}

#[test]
fn v5_malformed_packet_closes_after_what_came_before() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    feed(&mut c, r#"2["hello"]"#);
    feed(&mut c, r#"2["a""#);
    feed(&mut c, r#"2["after"]"#);
    let evs = events(&mut c);
    assert_eq!(evs.len(), 3, "{evs:?}");
    assert_eq!(the_event(&evs[..1]).1, "hello");
    assert_eq!(
        evs[1..],
        [
            disconnected("/", "S", DisconnectReason::ForcedClose),
            Event::Close(CloseReason::Decode(DecodeError::InvalidJson)),
        ]
    );
    assert_eq!(sent(&mut c), Vec::<String>::new());
}

#[test]
fn v4_malformed_packet_closes_after_what_came_before() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    feed(&mut c, r#"2["hello"]"#);
    feed(&mut c, "9");
    feed(&mut c, r#"2["after"]"#);
    let evs = events(&mut c);
    assert_eq!(evs.len(), 3, "{evs:?}");
    assert_eq!(the_event(&evs[..1]).1, "hello");
    assert_eq!(
        evs[1..],
        [
            disconnected("/", "S", DisconnectReason::ForcedClose),
            Event::Close(CloseReason::Decode(DecodeError::UnknownType(b'9'))),
        ]
    );
}

#[test]
fn v5_reserved_event_name_closes() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    feed(&mut c, r#"2["disconnect"]"#);
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", "S", DisconnectReason::ForcedClose),
            Event::Close(CloseReason::Decode(DecodeError::ReservedEventName(
                "disconnect".into()
            ))),
        ]
    );
}

#[test]
fn v4_reserved_event_name_is_an_event() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    // socket.io-parser 3.x has no reserved names.
    feed(&mut c, r#"2["disconnect"]"#);
    assert_eq!(the_event(&events(&mut c)).1, "disconnect");
}

#[test]
fn v5_event_before_connect_closes() {
    let mut c = conn(V5);
    // "If the server does not receive a CONNECT packet first, then it MUST close the
    // connection immediately."
    feed(&mut c, r#"2["hello"]"#);
    assert_eq!(
        events(&mut c),
        [Event::Close(CloseReason::InvalidState {
            kind: PacketType::Event,
            nsp: "/".into()
        })]
    );
}

#[test]
fn v4_event_before_connect_is_ignored() {
    let mut c = conn(V4);
    events(&mut c);
    feed(&mut c, r#"2["hello"]"#);
    assert_eq!(events(&mut c), []);
    assert!(!c.is_closed());
}

#[test]
fn v5_connect_twice_closes() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    feed(&mut c, "0");
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", "S", DisconnectReason::ForcedServerClose),
            Event::Close(CloseReason::InvalidState {
                kind: PacketType::Connect,
                nsp: "/".into()
            })
        ]
    );
}

#[test]
fn v5_connect_repeated_while_pending_is_dropped() {
    // socket.io-client 4.8 sends `40/custom,` twice when `socket.connect()` is called on a
    // socket its manager is already connecting (seen against pushwire serve by hand).
    let mut c = conn(V5);
    feed(&mut c, "0/custom,");
    feed(&mut c, "0/custom,");
    assert_eq!(events(&mut c), [request("/custom", Auth::None)]);
    assert!(!c.is_closed());
    c.accept("/custom", Some("S")).unwrap();
    assert_eq!(sent(&mut c), [r#"0/custom,{"sid":"S"}"#]);
    assert_eq!(c.socket_id("/custom"), Some("S"));
}

#[test]
fn v4_connect_repeated_while_waiting_for_root_is_dropped() {
    let mut c = conn(V4);
    // `/` is requested implicitly; `/custom` waits for it.
    feed(&mut c, "0/custom,");
    feed(&mut c, "0/custom,");
    assert_eq!(events(&mut c), [request("/", Auth::None)]);
    c.accept("/", None).unwrap();
    assert_eq!(
        events(&mut c),
        [
            Event::Connected {
                nsp: "/".into(),
                socket_id: c.eio_sid().into()
            },
            request("/custom", Auth::None),
        ]
    );
    assert!(!c.is_closed());
}

#[test]
fn v4_connect_twice_is_ignored() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    feed(&mut c, "0");
    assert_eq!(events(&mut c), []);
    assert_eq!(c.socket_id("/"), Some("S"));
}

#[test]
fn v5_connect_error_from_client_closes() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    feed(&mut c, r#"4{"message":"x"}"#);
    assert!(matches!(
        events(&mut c).last(),
        Some(Event::Close(CloseReason::InvalidState {
            kind: PacketType::ConnectError,
            ..
        }))
    ));
}

#[test]
fn v4_error_from_client_is_ignored() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    feed(&mut c, r#"4"x""#);
    assert_eq!(events(&mut c), []);
    assert!(!c.is_closed());
}

#[test]
fn v5_namespaces_are_bounded() {
    let config = Config::DEFAULT.with_max_namespaces(2);
    let mut c = Connection::new(&config, V5, EIO_SID, at(0));
    feed(&mut c, "0");
    feed(&mut c, "0/a,");
    assert_eq!(events(&mut c).len(), 2);
    feed(&mut c, "0/b,");
    assert_eq!(
        events(&mut c),
        [Event::Close(CloseReason::TooManyNamespaces { limit: 2 })]
    );
}

#[test]
fn v4_namespaces_are_bounded() {
    let config = Config::DEFAULT.with_max_namespaces(2);
    let mut c = Connection::new(&config, V4, EIO_SID, at(0));
    events(&mut c); // `/` counts
    feed(&mut c, "0/a,"); // waits for `/`, counts
    feed(&mut c, "0/b,");
    assert_eq!(
        events(&mut c),
        [Event::Close(CloseReason::TooManyNamespaces { limit: 2 })]
    );
}

#[test]
fn v5_output_queue_is_bounded() {
    let config = Config::DEFAULT.with_max_queued_messages(2);
    let mut c = Connection::new(&config, V5, EIO_SID, at(0));
    join_root(&mut c, "S");
    c.emit(at(0), "/", "a", &[], None).unwrap();
    let bin = Value::Binary(Bytes::from_static(&[1]));
    // Text + one attachment would make three.
    assert_eq!(
        c.emit(at(0), "/", "b", core::slice::from_ref(&bin), None),
        Err(SendError::OutputFull {
            queued: 1,
            limit: 2
        })
    );
    assert_eq!(sent(&mut c), [r#"2["a"]"#]);
    c.emit(at(0), "/", "b", &[bin], None).unwrap();
    assert_eq!(sent(&mut c).len(), 2);
}

#[test]
fn v4_output_queue_is_bounded() {
    let config = Config::DEFAULT.with_max_queued_messages(1);
    let mut c = Connection::new(&config, V4, EIO_SID, at(0));
    join_root(&mut c, "S");
    c.ack("/", 1, &[]).unwrap();
    assert_eq!(
        c.ack("/", 2, &[]),
        Err(SendError::OutputFull {
            queued: 1,
            limit: 1
        })
    );
    // A DISCONNECT still goes out.
    c.disconnect("/").unwrap();
    assert_eq!(sent(&mut c), ["31[]", "1"]);
}

#[test]
fn v5_emit_refuses_reserved_names_and_non_events() {
    let mut c = conn(V5);
    join_root(&mut c, "S");
    assert_eq!(
        c.emit(at(0), "/", "connect", &[], None),
        Err(SendError::Build(BuildError::ReservedEventName(
            "connect".into()
        )))
    );
    let p = Packet::ack("/", 1, &[]).unwrap();
    assert_eq!(c.emit_packet(at(0), p, None), Err(SendError::NotAnEvent));
    assert_eq!(sent(&mut c), Vec::<String>::new());
}

#[test]
fn v4_emit_allows_any_name() {
    let mut c = conn(V4);
    join_root(&mut c, "S");
    c.emit(at(0), "/", "connect", &[], None).unwrap();
    assert_eq!(sent(&mut c), [r#"2["connect"]"#]);
}

// ---- rooms and broadcast -----------------------------------------------------------------

fn rooms_abc() -> Rooms {
    let mut r = Rooms::new();
    for id in ["A", "B", "C", "D"] {
        r.add_socket(id).unwrap();
    }
    r.add_all("A", &["game", "red"]).unwrap();
    r.add_all("B", &["game", "blue"]).unwrap();
    r.add_all("C", &["red"]).unwrap();
    r
}

#[test]
fn broadcast_to_the_whole_namespace() {
    let r = rooms_abc();
    assert_eq!(r.targets(&BroadcastOptions::new()), ["A", "B", "C", "D"]);
}

#[test]
fn broadcast_to_a_union_of_rooms_each_socket_once() {
    let r = rooms_abc();
    // A is in both rooms and is reached once.
    assert_eq!(
        r.targets(&BroadcastOptions::new().to("game").to("red")),
        ["A", "B", "C"]
    );
    assert_eq!(
        r.targets(&BroadcastOptions::new().to("nobody")),
        Vec::<&str>::new()
    );
}

#[test]
fn broadcast_except_rooms_and_sockets() {
    let r = rooms_abc();
    // `socket.broadcast.emit` = everyone except the sender's own room.
    assert_eq!(
        r.targets(&BroadcastOptions::new().except("A")),
        ["B", "C", "D"]
    );
    // Minus every socket in any except room.
    assert_eq!(
        r.targets(&BroadcastOptions::new().to("game").to("red").except("blue")),
        ["A", "C"]
    );
    assert_eq!(
        r.targets(&BroadcastOptions::new().except("red").except("game")),
        ["D"]
    );
}

#[test]
fn rooms_leave_and_leave_all() {
    let mut r = rooms_abc();
    r.leave("A", "game");
    assert_eq!(r.members("game").collect::<Vec<_>>(), ["B"]);
    r.leave("B", "game");
    // An empty room disappears ("if (_room.size === 0 && this.rooms.delete(room))").
    assert!(!r.rooms().any(|x| x == "game"));
    r.leave_all("A");
    assert_eq!(r.socket_rooms("A"), None);
    assert_eq!(r.members("red").collect::<Vec<_>>(), ["C"]);
    assert_eq!(r.targets(&BroadcastOptions::new()), ["B", "C", "D"]);
    let c_rooms = r.socket_rooms("C").unwrap();
    assert_eq!(
        c_rooms.iter().map(String::as_str).collect::<Vec<_>>(),
        ["C", "red"]
    );
}

#[test]
fn rooms_per_socket_are_bounded() {
    let mut r = Rooms::new().with_max_rooms_per_socket(2);
    r.add_socket("A").unwrap();
    r.join("A", "x").unwrap();
    r.join("A", "x").unwrap(); // already in: no new room
    assert_eq!(r.join("A", "y"), Err(JoinError::TooManyRooms { limit: 2 }));
    assert_eq!(r.members("y").count(), 0);
}

#[test]
fn broadcast_encodes_once_for_connections_of_both_revisions() {
    // Three clients on `/chat`: two of revision 5, one of revision 4.
    let mut conns: Vec<(String, Connection)> = Vec::new();
    let mut rooms = Rooms::new();
    for (v, eio) in [(V5, "e1"), (V4, "e2"), (V5, "e3")] {
        let mut c = Connection::new(&Config::DEFAULT, v, eio, at(0));
        if v == V4 {
            events(&mut c);
            c.accept("/", None).unwrap();
            sent(&mut c);
            events(&mut c);
        }
        feed(&mut c, "0/chat,");
        events(&mut c);
        let id = format!("s-{eio}");
        c.accept("/chat", Some(&id)).unwrap();
        sent(&mut c);
        let socket_id = match &events(&mut c)[..] {
            [Event::Connected { socket_id, .. }] => socket_id.clone(),
            e => panic!("{e:?}"),
        };
        rooms.add_socket(&socket_id).unwrap();
        conns.push((socket_id, c));
    }
    rooms.join("s-e1", "lobby").unwrap();
    rooms.join("s-e2", "lobby").unwrap();
    rooms.join("s-e3", "lobby").unwrap();
    let bin = Value::Binary(Bytes::from_static(&[9]));
    let packet = Packet::event(V5, "/chat", "news", &[s("hi"), bin]).unwrap();
    let messages = packet.to_messages();
    let mut targets = Vec::new();
    rooms.broadcast(
        &packet,
        &BroadcastOptions::new().to("lobby").except("s-e1"),
        &mut |id| targets.push(id.to_string()),
    );
    assert_eq!(targets, ["s-e2", "s-e3"]);
    for (id, c) in &mut conns {
        if targets.contains(id) {
            c.send_encoded("/chat", &messages).unwrap();
        }
    }
    let expected = [
        r#"51-/chat,["news","hi",{"_placeholder":true,"num":0}]"#,
        "<09>",
    ];
    assert_eq!(sent(&mut conns[0].1), Vec::<String>::new());
    assert_eq!(sent(&mut conns[1].1), expected);
    assert_eq!(sent(&mut conns[2].1), expected);
    // A connection that left the namespace is not written to.
    assert_eq!(
        conns[0].1.send_encoded("/other", &messages),
        Err(SendError::NotConnected)
    );
}
