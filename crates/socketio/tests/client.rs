//! The client role driven with the wire texts socket.io 2.x (revision 4) and 4.x (revision 5)
//! servers send, mostly from the specs' "Sample session" and "Examples" sections; every
//! assertion is on the exact messages sent, the transport actions and the events. Tests
//! come in pairs named `v4_…` / `v5_…` where the revisions differ on the wire.

use core::time::Duration;

use bytes::Bytes;
use pushwire_engineio::Instant;
use pushwire_socketio::client::{
    Config, ConnectError, Connection, DisconnectReason, EmitError, Event, Rng, TransportAction,
};
use pushwire_socketio::{Map, PacketData, ProtocolVersion, ProtocolVersion::*, Value};

// ---- helpers ---------------------------------------------------------------------------

/// Randomness that cycles through fixed numbers (each stands for `n / 2³²`).
struct Fixed(Vec<u32>, usize);

impl Rng for Fixed {
    fn next_u32(&mut self) -> u32 {
        let r = self.0[self.1 % self.0.len()];
        self.1 += 1;
        r
    }
}

/// rand 0.5: `floor(0.5 · 10) = 5` is odd, so backo2 adds the deviation.
const HALF: u32 = 1 << 31;
/// rand 0.25: `floor(2.5) = 2` is even, so backo2 subtracts it.
const QUARTER: u32 = 1 << 30;

const EIO_SID: &str = "lv_VI97HAXpY6yYWAAAC";

fn at(ms: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(ms)
}

fn client(version: ProtocolVersion, config: Config, random: &[u32]) -> Connection<Fixed> {
    Connection::with_rng(config, version, Fixed(random.to_vec(), 0))
}

/// Everything waiting in `poll_transmit`, binary messages as `<hex>`.
fn sent<R: Rng>(c: &mut Connection<R>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(m) = c.poll_transmit() {
        out.push(match m {
            PacketData::Text(t) => t,
            PacketData::Binary(b) => {
                let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
                format!("<{}>", hex.join(" "))
            }
        });
    }
    out
}

fn actions<R: Rng>(c: &mut Connection<R>) -> Vec<TransportAction> {
    core::iter::from_fn(|| c.poll_transport()).collect()
}

fn events<R: Rng>(c: &mut Connection<R>) -> Vec<Event> {
    core::iter::from_fn(|| c.poll_event()).collect()
}

fn text<R: Rng>(c: &mut Connection<R>, now: Instant, t: &str) {
    c.handle_message(now, PacketData::Text(t.into()));
}

fn binary<R: Rng>(c: &mut Connection<R>, now: Instant, b: &'static [u8]) {
    c.handle_message(now, PacketData::Binary(Bytes::from_static(b)));
}

fn s(x: &str) -> Value {
    Value::from(x)
}

fn bin(b: &'static [u8]) -> Value {
    Value::Binary(Bytes::from_static(b))
}

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(entries.iter().cloned().collect::<Map>())
}

fn connected(nsp: &str, sid: &str) -> Event {
    Event::Connected {
        nsp: nsp.into(),
        sid: sid.into(),
    }
}

fn disconnected(nsp: &str, reason: DisconnectReason) -> Event {
    Event::Disconnected {
        nsp: nsp.into(),
        reason,
    }
}

/// The server's acceptance of `nsp` as each revision's server writes it.
fn accept(version: ProtocolVersion, nsp: &str, sid: &str) -> String {
    let prefix = if nsp == "/" {
        String::new()
    } else {
        format!("{nsp},")
    };
    match version {
        // v4 sample session: "< 40/admin,  => grant access to the admin namespace".
        V4 => format!("0{prefix}"),
        V5 => format!("0{prefix}{{\"sid\":\"{sid}\"}}"),
    }
}

/// The socket id each revision reports for `nsp` when the server's sid is `sid`.
fn expected_sid(version: ProtocolVersion, nsp: &str, sid: &str) -> String {
    match (version, nsp) {
        (V4, "/") => EIO_SID.into(),
        (V4, _) => format!("{nsp}#{EIO_SID}"),
        (V5, _) => sid.into(),
    }
}

/// A client of `version` joined to `/` and `/admin` (no auth), open and accepted.
fn joined(version: ProtocolVersion, config: Config, random: &[u32]) -> Connection<Fixed> {
    let mut c = client(version, config, random);
    c.connect(at(0), "/", None).unwrap();
    c.connect(at(0), "/admin", None).unwrap();
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    c.handle_open(at(0), EIO_SID);
    let expected: Vec<&str> = match version {
        V4 => vec!["0/admin,"],
        V5 => vec!["0", "0/admin,"],
    };
    assert_eq!(sent(&mut c), expected);
    text(&mut c, at(0), &accept(version, "/", "wZX3oN0bSVIhsaknAAAI"));
    text(
        &mut c,
        at(0),
        &accept(version, "/admin", "-G5j-67EZFp-q59rADQM"),
    );
    assert_eq!(
        events(&mut c),
        [
            connected("/", &expected_sid(version, "/", "wZX3oN0bSVIhsaknAAAI")),
            connected(
                "/admin",
                &expected_sid(version, "/admin", "-G5j-67EZFp-q59rADQM")
            ),
        ]
    );
    c
}

/// backo2's `duration()` written out with floats, as JavaScript computes it, for the check
/// of the delays: `ms = 1000 · 2^a; dev = floor(rand · 0.5 · ms); floor(rand · 10) even ?
/// ms − dev : ms + dev; min(ms, 5000)`.
fn backo2(attempt: u32, rand: f64) -> Duration {
    let mut ms = 1000.0 * 2f64.powi(attempt as i32);
    let dev = (rand * 0.5 * ms).floor();
    ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
        ms - dev
    } else {
        ms + dev
    };
    Duration::from_millis(ms.min(5000.0) as u64)
}

// ---- joining namespaces ----------------------------------------------------------------

#[test]
fn v4_joins_several_namespaces_with_auth_as_a_query_string() {
    let mut c = client(V4, Config::DEFAULT, &[0]);
    c.connect(at(0), "/", None).unwrap();
    let token = obj(&[("token", s("1")), ("uid", s("ab cd"))]);
    c.connect(at(0), "/admin", Some(token)).unwrap();
    c.connect(at(0), "/chat", None).unwrap();
    // One Engine.io connection for all three.
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    assert_eq!(sent(&mut c), Vec::<String>::new());
    c.handle_open(at(5), EIO_SID);
    // "The client may include additional information (i.e. for authentication purpose) in
    // the namespace field": `/` is implicit, no CONNECT for it.
    assert_eq!(sent(&mut c), ["0/admin?token=1&uid=ab%20cd,", "0/chat,"]);
    // "The server always send a CONNECT packet for the default namespace (`/`)".
    text(&mut c, at(6), "0");
    text(&mut c, at(6), "0/admin");
    text(&mut c, at(6), "0/chat");
    assert_eq!(
        events(&mut c),
        [
            connected("/", EIO_SID),
            connected("/admin", "/admin#lv_VI97HAXpY6yYWAAAC"),
            connected("/chat", "/chat#lv_VI97HAXpY6yYWAAAC"),
        ]
    );
    assert_eq!(c.sid("/chat"), Some("/chat#lv_VI97HAXpY6yYWAAAC"));
    assert_eq!(c.namespaces().collect::<Vec<_>>(), ["/", "/admin", "/chat"]);
    // Joining once open sends at once.
    c.connect(at(7), "/late", None).unwrap();
    assert_eq!(sent(&mut c), ["0/late,"]);
    assert_eq!(actions(&mut c), []);
}

#[test]
fn v5_joins_several_namespaces_with_auth_as_an_object() {
    let mut c = client(V5, Config::DEFAULT, &[0]);
    c.connect(at(0), "/", None).unwrap();
    c.connect(at(0), "/admin", Some(obj(&[("token", s("123"))])))
        .unwrap();
    c.connect(at(0), "/chat", None).unwrap();
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    assert_eq!(sent(&mut c), Vec::<String>::new());
    c.handle_open(at(5), EIO_SID);
    // "At the beginning of a Socket.IO session, the client MUST send a CONNECT packet"; the
    // spec's "with an additional payload" example.
    assert_eq!(sent(&mut c), ["0", r#"0/admin,{"token":"123"}"#, "0/chat,"]);
    text(&mut c, at(6), r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#);
    text(&mut c, at(6), r#"0/admin,{"sid":"iLnRaVGHY4B75TeVAAAB"}"#);
    text(&mut c, at(6), r#"0/chat,{"sid":"oSO0OpakMV_3jnilAAAA"}"#);
    assert_eq!(
        events(&mut c),
        [
            connected("/", "wZX3oN0bSVIhsaknAAAI"),
            connected("/admin", "iLnRaVGHY4B75TeVAAAB"),
            connected("/chat", "oSO0OpakMV_3jnilAAAA"),
        ]
    );
    c.connect(at(7), "/late", None).unwrap();
    assert_eq!(sent(&mut c), ["0/late,"]);
}

#[test]
fn v4_refuses_auth_it_cannot_send() {
    let mut c = client(V4, Config::DEFAULT, &[0]);
    assert_eq!(
        c.connect(at(0), "/", Some(obj(&[("token", s("1"))]))),
        Err(ConnectError::AuthOnImplicitNamespace)
    );
    assert_eq!(
        c.connect(at(0), "/admin", Some(obj(&[("a", Value::Array(vec![]))]))),
        Err(ConnectError::InvalidQueryAuth)
    );
    assert!(c.connect(at(0), "admin", None).is_err());
    // Nothing was joined, nothing opened.
    assert_eq!(c.namespaces().count(), 0);
    assert_eq!(actions(&mut c), []);
}

#[test]
fn v5_refuses_auth_it_cannot_send() {
    let mut c = client(V5, Config::DEFAULT, &[0]);
    assert!(matches!(
        c.connect(at(0), "/", Some(s("token"))),
        Err(ConnectError::Build(_))
    ));
    assert!(c.connect(at(0), "/a,b", None).is_err());
    assert_eq!(c.namespaces().count(), 0);
    assert_eq!(actions(&mut c), []);
}

#[test]
fn v4_joining_root_after_the_implicit_connect_is_connected_at_once() {
    let mut c = client(V4, Config::DEFAULT, &[0]);
    c.connect(at(0), "/admin", None).unwrap();
    let _ = actions(&mut c);
    c.handle_open(at(0), EIO_SID);
    assert_eq!(sent(&mut c), ["0/admin,"]);
    // The server's `0` for `/` comes though `/` was not joined: not an event.
    text(&mut c, at(0), "0");
    assert_eq!(events(&mut c), []);
    c.connect(at(1), "/", None).unwrap();
    assert_eq!(sent(&mut c), Vec::<String>::new());
    assert_eq!(events(&mut c), [connected("/", EIO_SID)]);
}

#[test]
fn v5_connect_without_sid_is_a_connect_error() {
    // A revision 4 server answers `0` without a sid: socket.io-client 4 reports "It seems
    // you are trying to reach a Socket.IO server in v2.x with a v3.x client".
    let mut c = client(V5, Config::DEFAULT, &[0]);
    c.connect(at(0), "/", None).unwrap();
    c.handle_open(at(0), EIO_SID);
    text(&mut c, at(0), "0");
    let ev = events(&mut c);
    assert!(
        matches!(&ev[..], [Event::ConnectError { nsp, data }]
            if nsp == "/" && data.as_object().and_then(|m| m.get("message")).is_some()),
        "{ev:?}"
    );
    assert_eq!(c.sid("/"), None);
}

// ---- the specs' sample sessions ----------------------------------------------------------

/// The "Sample session" of both specs, from the client's side: the server's event, two
/// client emits, joining `/admin`, an emit with an ack and the server's binary ack.
fn sample_session(version: ProtocolVersion) {
    let mut c = client(version, Config::DEFAULT, &[0]);
    c.connect(at(0), "/", None).unwrap();
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    c.handle_open(at(0), EIO_SID);
    // v5: "Request n°2 (namespace connection request)": `40`; v4: nothing for `/`.
    let expected: Vec<&str> = if version == V5 { vec!["0"] } else { vec![] };
    assert_eq!(sent(&mut c), expected);
    // v5 "Request n°3 (namespace connection approval)"; v4's `2:40` in the open response.
    let approval = if version == V5 {
        r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#
    } else {
        "0"
    };
    text(&mut c, at(1), approval);
    assert_eq!(
        events(&mut c),
        [connected(
            "/",
            &expected_sid(version, "/", "wZX3oN0bSVIhsaknAAAI")
        )]
    );
    // "`socket.emit('hey', 'Jude')` is executed on the server".
    text(&mut c, at(2), r#"2["hey","Jude"]"#);
    let ev = events(&mut c);
    let [Event::Event(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!((p.nsp(), p.event_name(), p.id()), ("/", Some("hey"), None));
    assert_eq!(p.args().unwrap(), [s("Jude")]);
    // "`socket.emit('hello'); socket.emit('world');` is executed on the client".
    c.emit(at(3), "/", "hello", &[]).unwrap();
    c.emit(at(3), "/", "world", &[]).unwrap();
    assert_eq!(sent(&mut c), [r#"2["hello"]"#, r#"2["world"]"#]);
    // "request access to the admin namespace".
    c.connect(at(4), "/admin", None).unwrap();
    assert_eq!(sent(&mut c), ["0/admin,"]);
    assert_eq!(actions(&mut c), []);
    let grant = if version == V5 {
        r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#
    } else {
        "0/admin,"
    };
    text(&mut c, at(5), grant);
    assert_eq!(
        events(&mut c),
        [connected(
            "/admin",
            &expected_sid(version, "/admin", "-G5j-67EZFp-q59rADQM")
        )]
    );
    // "Socket.IO "EVENT" packet with acknowledgement": the sample's id is 1, the second
    // ack id of the namespace ("packet.id = this.ids++" from 0).
    assert_eq!(c.emit_with_ack(at(6), "/admin", "first", &[], None), Ok(0));
    assert_eq!(c.emit_with_ack(at(6), "/admin", "tellme", &[], None), Ok(1));
    assert_eq!(
        sent(&mut c),
        [r#"2/admin,0["first"]"#, r#"2/admin,1["tellme"]"#]
    );
    // "Socket.IO "BINARY_ACK" packet with a placeholder", then "the binary attachment".
    text(
        &mut c,
        at(7),
        r#"61-/admin,1[{"_placeholder":true,"num":0}]"#,
    );
    assert_eq!(events(&mut c), []);
    binary(&mut c, at(7), &[1, 2, 3]);
    let ev = events(&mut c);
    let [Event::Ack(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!((p.nsp(), p.id()), ("/admin", Some(1)));
    assert_eq!(p.args().unwrap(), [bin(&[1, 2, 3])]);
    // The same ack again is not awaited any more: ignored.
    text(&mut c, at(8), r#"3/admin,1[]"#);
    assert_eq!(events(&mut c), []);
}

#[test]
fn v4_sample_session() {
    sample_session(V4);
}

#[test]
fn v5_sample_session() {
    sample_session(V5);
}

// ---- acks both ways, binary both ways ------------------------------------------------------

fn answers_the_servers_ack_requests(version: ProtocolVersion) {
    let mut c = joined(version, Config::DEFAULT, &[0]);
    // v5 spec: "Server > { type: EVENT, namespace: "/admin", data: ["foo"], id: 13 } Client
    // > { type: ACK, namespace: "/admin", data: ["bar"], id: 13 }".
    text(&mut c, at(1), r#"2/admin,13["foo"]"#);
    let ev = events(&mut c);
    let [Event::Event(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        (p.nsp(), p.event_name(), p.id()),
        ("/admin", Some("foo"), Some(13))
    );
    c.ack("/admin", 13, &[s("bar")]).unwrap();
    assert_eq!(sent(&mut c), [r#"3/admin,13["bar"]"#]);
    // "Server > { type: EVENT, namespace: "/", data: ["foo" ], id: 15 } Client > { type:
    // BINARY_ACK, namespace: "/", data: ["bar", <buffer <01 02 03 04>], id: 15 }".
    text(&mut c, at(2), r#"215["foo"]"#);
    let _ = events(&mut c);
    c.ack("/", 15, &[s("bar"), bin(&[1, 2, 3, 4])]).unwrap();
    assert_eq!(
        sent(&mut c),
        [
            r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            "<01 02 03 04>"
        ]
    );
    // A binary event from the server, with an ack id.
    text(
        &mut c,
        at(3),
        r#"52-/admin,7["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    );
    binary(&mut c, at(3), &[1, 2]);
    assert_eq!(events(&mut c), []);
    binary(&mut c, at(3), &[3, 4]);
    let ev = events(&mut c);
    let [Event::Event(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!((p.event_name(), p.id()), (Some("baz"), Some(7)));
    assert_eq!(p.args().unwrap(), [bin(&[1, 2]), bin(&[3, 4])]);
    // Answering a namespace that was never joined, or is not connected, is refused.
    assert_eq!(
        c.ack("/nope", 1, &[]),
        Err(EmitError::NotJoined("/nope".into()))
    );
    c.connect(at(4), "/pending", None).unwrap();
    assert_eq!(
        c.ack("/pending", 1, &[]),
        Err(EmitError::NotConnected("/pending".into()))
    );
}

#[test]
fn v4_answers_the_servers_ack_requests() {
    answers_the_servers_ack_requests(V4);
}

#[test]
fn v5_answers_the_servers_ack_requests() {
    answers_the_servers_ack_requests(V5);
}

fn sends_binary_and_counts_ack_ids_per_namespace(version: ProtocolVersion) {
    let mut c = joined(version, Config::DEFAULT, &[0]);
    // "Client > { type: BINARY_EVENT, namespace: "/", data: ["baz", <Buffer <01 02 03 04>> ] }".
    c.emit(at(1), "/", "baz", &[bin(&[1, 2, 3, 4])]).unwrap();
    assert_eq!(
        sent(&mut c),
        [
            r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            "<01 02 03 04>"
        ]
    );
    // "Client > { type: BINARY_EVENT, namespace: "/", data: ["foo", <buffer <01 02 03 04> ],
    // id: 14 }" once 14 ids were used on `/`.
    for i in 0..14 {
        assert_eq!(c.emit_with_ack(at(1), "/", "x", &[], None), Ok(i));
    }
    let _ = sent(&mut c);
    assert_eq!(
        c.emit_with_ack(at(1), "/", "foo", &[bin(&[1, 2, 3, 4])], None),
        Ok(14)
    );
    assert_eq!(
        sent(&mut c),
        [
            r#"51-14["foo",{"_placeholder":true,"num":0}]"#,
            "<01 02 03 04>"
        ]
    );
    // `/admin` counts from 0 on its own.
    assert_eq!(c.emit_with_ack(at(1), "/admin", "y", &[], None), Ok(0));
    assert_eq!(sent(&mut c), [r#"2/admin,0["y"]"#]);
    // "Server > { type: ACK, namespace: "/", data: ["bar"], id: 14 }".
    text(&mut c, at(2), r#"314["bar"]"#);
    let ev = events(&mut c);
    let [Event::Ack(p)] = &ev[..] else {
        panic!("{ev:?}")
    };
    assert_eq!((p.nsp(), p.id()), ("/", Some(14)));
    assert_eq!(p.args().unwrap(), [s("bar")]);
    // An ack for an id of another namespace is not this one's.
    text(&mut c, at(2), r#"3/admin,5[]"#);
    assert_eq!(events(&mut c), []);
}

#[test]
fn v4_sends_binary_and_counts_ack_ids_per_namespace() {
    sends_binary_and_counts_ack_ids_per_namespace(V4);
}

#[test]
fn v5_sends_binary_and_counts_ack_ids_per_namespace() {
    sends_binary_and_counts_ack_ids_per_namespace(V5);
}

#[test]
fn v5_refuses_reserved_names_and_v4_sends_them() {
    let mut c = joined(V5, Config::DEFAULT, &[0]);
    assert!(matches!(
        c.emit(at(0), "/", "disconnect", &[]),
        Err(EmitError::Build(_))
    ));
    assert_eq!(sent(&mut c), Vec::<String>::new());
    let mut c = joined(V4, Config::DEFAULT, &[0]);
    c.emit(at(0), "/", "disconnecting", &[]).unwrap();
    assert_eq!(sent(&mut c), [r#"2["disconnecting"]"#]);
}

// ---- ack timeout -------------------------------------------------------------------------

fn ack_timeout(version: ProtocolVersion) {
    let config = Config::DEFAULT.with_ack_timeout(Some(Duration::from_secs(10)));
    let mut c = joined(version, config, &[0]);
    assert_eq!(c.poll_timeout(), None);
    // The configured default, and an explicit one that is shorter.
    assert_eq!(c.emit_with_ack(at(1000), "/", "slow", &[], None), Ok(0));
    assert_eq!(
        c.emit_with_ack(
            at(1000),
            "/admin",
            "quick",
            &[],
            Some(Duration::from_secs(2))
        ),
        Ok(0)
    );
    assert_eq!(sent(&mut c), [r#"20["slow"]"#, r#"2/admin,0["quick"]"#]);
    assert_eq!(c.poll_timeout(), Some(at(3000)));
    c.handle_timeout(at(2999));
    assert_eq!(events(&mut c), []);
    c.handle_timeout(at(3000));
    assert_eq!(
        events(&mut c),
        [Event::AckTimeout {
            nsp: "/admin".into(),
            id: 0
        }]
    );
    assert_eq!(c.poll_timeout(), Some(at(11_000)));
    // A late answer is ignored.
    text(&mut c, at(3001), r#"3/admin,0["late"]"#);
    assert_eq!(events(&mut c), []);
    // The other is answered in time.
    text(&mut c, at(4000), r#"30["ok"]"#);
    assert!(matches!(&events(&mut c)[..], [Event::Ack(p)] if p.id() == Some(0)));
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn v4_ack_timeout() {
    ack_timeout(V4);
}

#[test]
fn v5_ack_timeout() {
    ack_timeout(V5);
}

#[test]
fn a_buffered_emit_whose_ack_times_out_is_never_sent() {
    // socket.io-client 4: on timeout "delete this.acks[id]; … this.sendBuffer.splice(i, 1)".
    for version in ProtocolVersion::ALL {
        let mut c = client(version, Config::DEFAULT, &[0]);
        c.connect(at(0), "/admin", None).unwrap();
        assert_eq!(
            c.emit_with_ack(at(0), "/admin", "a", &[], Some(Duration::from_millis(50))),
            Ok(0)
        );
        c.emit(at(0), "/admin", "b", &[]).unwrap();
        c.handle_timeout(at(50));
        assert_eq!(
            events(&mut c),
            [Event::AckTimeout {
                nsp: "/admin".into(),
                id: 0
            }]
        );
        c.handle_open(at(60), EIO_SID);
        assert_eq!(sent(&mut c), ["0/admin,"]);
        text(&mut c, at(61), &accept(version, "/admin", "x"));
        let _ = events(&mut c);
        assert_eq!(sent(&mut c), [r#"2/admin,["b"]"#], "{version:?}");
    }
}

// ---- disconnection -------------------------------------------------------------------------

fn server_disconnect_is_final(version: ProtocolVersion) {
    let mut c = joined(version, Config::DEFAULT, &[HALF]);
    assert_eq!(c.emit_with_ack(at(1), "/admin", "q", &[], None), Ok(0));
    let _ = sent(&mut c);
    // "Server > DISCONNECT /admin" (v4: "And vice versa").
    text(&mut c, at(2), "1/admin,");
    assert_eq!(
        events(&mut c),
        [
            disconnected("/admin", DisconnectReason::IoServerDisconnect),
            Event::AckDropped {
                nsp: "/admin".into(),
                id: 0
            },
        ]
    );
    assert_eq!(c.namespaces().collect::<Vec<_>>(), ["/"]);
    assert_eq!(
        c.emit(at(2), "/admin", "x", &[]),
        Err(EmitError::NotJoined("/admin".into()))
    );
    // The transport is lost: `/` only is disconnected, and only `/` joins again.
    c.handle_closed(at(3));
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", DisconnectReason::TransportClose),
            Event::ReconnectScheduled {
                attempt: 1,
                delay: Duration::from_millis(1250)
            },
        ]
    );
    c.handle_timeout(at(1253));
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    c.handle_open(at(1300), EIO_SID);
    let expected: Vec<&str> = if version == V5 { vec!["0"] } else { vec![] };
    assert_eq!(sent(&mut c), expected);
    // The server kicks the last namespace: the Engine.io connection closes, for good.
    text(&mut c, at(1301), &accept(version, "/", "s2"));
    let _ = events(&mut c);
    text(&mut c, at(1302), "1");
    assert_eq!(
        events(&mut c),
        [disconnected("/", DisconnectReason::IoServerDisconnect)]
    );
    assert_eq!(actions(&mut c), [TransportAction::Close]);
    assert_eq!(c.poll_timeout(), None);
    assert!(!c.is_open());
}

#[test]
fn v4_server_disconnect_is_final() {
    server_disconnect_is_final(V4);
}

#[test]
fn v5_server_disconnect_is_final() {
    server_disconnect_is_final(V5);
}

fn client_disconnect_then_close(version: ProtocolVersion) {
    let mut c = joined(version, Config::DEFAULT, &[0]);
    assert_eq!(c.emit_with_ack(at(1), "/", "q", &[], None), Ok(0));
    let _ = sent(&mut c);
    // v5 spec: "DISCONNECT /admin" encoded `1/admin,`.
    assert!(c.disconnect("/admin"));
    assert!(!c.disconnect("/admin"));
    assert_eq!(sent(&mut c), ["1/admin,"]);
    assert_eq!(
        events(&mut c),
        [disconnected("/admin", DisconnectReason::IoClientDisconnect)]
    );
    // The Engine.io connection stays while `/` is joined.
    assert_eq!(actions(&mut c), []);
    c.close();
    assert_eq!(sent(&mut c), ["1"]);
    assert_eq!(actions(&mut c), [TransportAction::Close]);
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", DisconnectReason::IoClientDisconnect),
            Event::AckDropped {
                nsp: "/".into(),
                id: 0
            },
        ]
    );
    // No reconnection: a late transport close is nothing.
    c.handle_closed(at(2));
    assert_eq!(events(&mut c), []);
    assert_eq!(c.poll_timeout(), None);
    // A new connect starts again.
    c.connect(at(3), "/", None).unwrap();
    assert_eq!(actions(&mut c), [TransportAction::Open]);
}

#[test]
fn v4_client_disconnect_then_close() {
    client_disconnect_then_close(V4);
}

#[test]
fn v5_client_disconnect_then_close() {
    client_disconnect_then_close(V5);
}

#[test]
fn v5_connect_error_leaves_the_namespace_for_good() {
    let mut c = client(V5, Config::DEFAULT, &[0]);
    c.connect(at(0), "/", None).unwrap();
    c.connect(at(0), "/admin", None).unwrap();
    c.handle_open(at(0), EIO_SID);
    let _ = sent(&mut c);
    text(&mut c, at(0), r#"0{"sid":"a"}"#);
    // The spec's "in case the connection is refused" example, on `/admin`.
    text(&mut c, at(1), r#"4/admin,{"message":"Not authorized"}"#);
    assert_eq!(
        events(&mut c),
        [
            connected("/", "a"),
            Event::ConnectError {
                nsp: "/admin".into(),
                data: obj(&[("message", s("Not authorized"))]),
            },
        ]
    );
    assert_eq!(c.namespaces().collect::<Vec<_>>(), ["/"]);
    // After a reconnection, only `/` asks again.
    c.handle_closed(at(2));
    let _ = events(&mut c);
    c.handle_timeout(at(2 + 1000));
    c.handle_open(at(2000), EIO_SID);
    assert_eq!(sent(&mut c), ["0"]);
}

#[test]
fn v4_connect_error_keeps_the_namespace_and_root_errors_reach_all() {
    let mut c = client(V4, Config::DEFAULT, &[0]);
    c.connect(at(0), "/", None).unwrap();
    c.connect(at(0), "/admin", Some(obj(&[("token", s("bad"))])))
        .unwrap();
    c.handle_open(at(0), EIO_SID);
    assert_eq!(sent(&mut c), ["0/admin?token=bad,"]);
    text(&mut c, at(0), "0");
    // "Server > { type: ERROR, nsp: "/admin", data: "Not authorized" }".
    text(&mut c, at(1), r#"4/admin,"Not authorized""#);
    assert_eq!(
        events(&mut c),
        [
            connected("/", EIO_SID),
            Event::ConnectError {
                nsp: "/admin".into(),
                data: s("Not authorized"),
            },
        ]
    );
    // "rootNamespaceError = packet.type === parser.ERROR && packet.nsp === '/'".
    text(&mut c, at(2), r#"4"oops""#);
    assert_eq!(
        events(&mut c),
        [
            Event::ConnectError {
                nsp: "/".into(),
                data: s("oops")
            },
            Event::ConnectError {
                nsp: "/admin".into(),
                data: s("oops")
            },
        ]
    );
    // socket.io-client 2 keeps the socket: `/admin` asks again after a reconnection.
    c.handle_closed(at(3));
    let _ = events(&mut c);
    c.handle_timeout(at(3 + 1000));
    c.handle_open(at(2000), EIO_SID);
    assert_eq!(sent(&mut c), ["0/admin?token=bad,"]);
}

// ---- reconnection ----------------------------------------------------------------------------

/// The transport is lost, then every attempt fails: the delays follow backo2 with the fixed
/// randomness, checked against the formula written out and against numbers worked by hand.
fn backoff_sequence(version: ProtocolVersion, random: &[u32], by_hand: [u64; 5]) {
    let mut c = joined(version, Config::DEFAULT, random);
    let mut now = at(10_000);
    c.handle_closed(now);
    let ev = events(&mut c);
    assert_eq!(
        ev[..2],
        [
            disconnected("/", DisconnectReason::TransportClose),
            disconnected("/admin", DisconnectReason::TransportClose),
        ]
    );
    let mut delays = Vec::new();
    let mut scheduled = ev[2].clone();
    for attempt in 1..=5u32 {
        let Event::ReconnectScheduled { attempt: a, delay } = scheduled else {
            panic!("{scheduled:?}")
        };
        assert_eq!(a, attempt);
        let rand = f64::from(random[(attempt as usize - 1) % random.len()]) / 4_294_967_296.0;
        assert_eq!(delay, backo2(attempt - 1, rand), "attempt {attempt}");
        delays.push(delay.as_millis() as u64);
        assert_eq!(c.poll_timeout(), Some(now + delay));
        // Not yet.
        c.handle_timeout(now + (delay - Duration::from_millis(1)));
        assert_eq!(actions(&mut c), []);
        now = now + delay;
        c.handle_timeout(now);
        assert_eq!(events(&mut c), [Event::ReconnectAttempt { attempt }]);
        assert_eq!(actions(&mut c), [TransportAction::Open]);
        c.handle_open_error(now);
        let ev = events(&mut c);
        assert_eq!(ev[0], Event::OpenError);
        scheduled = ev[1].clone();
    }
    assert_eq!(delays, by_hand);
    assert_eq!(sent(&mut c), Vec::<String>::new());
}

#[test]
fn v4_transport_loss_backs_off_deterministically() {
    // rand 0.5 every time: 1000·1.25, 2000·1.25, then 4000·1.25 = 5000 and the cap.
    backoff_sequence(V4, &[HALF], [1250, 2500, 5000, 5000, 5000]);
    // rand 0.25 then 0.5, alternating: 1000·0.875, 2000·1.25, 4000·0.875, then the cap.
    backoff_sequence(V4, &[QUARTER, HALF], [875, 2500, 3500, 5000, 5000]);
}

#[test]
fn v5_transport_loss_backs_off_deterministically() {
    backoff_sequence(V5, &[HALF], [1250, 2500, 5000, 5000, 5000]);
    backoff_sequence(V5, &[QUARTER, HALF], [875, 2500, 3500, 5000, 5000]);
}

fn rejoins_and_flushes_the_send_buffer(version: ProtocolVersion) {
    let mut c = client(version, Config::DEFAULT, &[QUARTER]);
    c.connect(at(0), "/", None).unwrap();
    c.connect(at(0), "/admin", Some(obj(&[("token", s("1"))])))
        .unwrap();
    // Emits before the first open wait too.
    c.emit(at(0), "/", "early", &[]).unwrap();
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    c.handle_open(at(0), EIO_SID);
    let join: Vec<&str> = match version {
        V4 => vec!["0/admin?token=1,"],
        V5 => vec!["0", r#"0/admin,{"token":"1"}"#],
    };
    assert_eq!(sent(&mut c), join);
    // v4 too: nothing goes to `/` before the server's `0` ("if (this.connected) … else
    // this.sendBuffer.push(packet)").
    text(&mut c, at(1), &accept(version, "/", "s1"));
    assert_eq!(sent(&mut c), [r#"2["early"]"#]);
    text(&mut c, at(1), &accept(version, "/admin", "s2"));
    let _ = events(&mut c);
    // A sent event waits for its ack when the transport goes.
    assert_eq!(c.emit_with_ack(at(2), "/admin", "sent", &[], None), Ok(0));
    let _ = sent(&mut c);
    c.handle_closed(at(3));
    // While disconnected: buffered, with or without ack; the ack id goes on counting.
    c.emit(at(4), "/", "a", &[s("x")]).unwrap();
    assert_eq!(c.emit_with_ack(at(4), "/admin", "b", &[], None), Ok(1));
    c.emit(at(4), "/admin", "c", &[bin(&[9])]).unwrap();
    assert_eq!(sent(&mut c), Vec::<String>::new());
    assert_eq!(
        events(&mut c),
        [
            disconnected("/", DisconnectReason::TransportClose),
            disconnected("/admin", DisconnectReason::TransportClose),
            Event::AckDropped {
                nsp: "/admin".into(),
                id: 0
            },
            Event::ReconnectScheduled {
                attempt: 1,
                delay: Duration::from_millis(875)
            },
        ]
    );
    // The first attempt fails, the second opens.
    c.handle_timeout(at(3 + 875));
    c.handle_open_error(at(900));
    let _ = events(&mut c);
    c.handle_timeout(at(900 + 1750));
    assert_eq!(
        actions(&mut c),
        [TransportAction::Open, TransportAction::Open]
    );
    c.handle_open(at(2700), "newEioSid");
    // Every namespace asks again, with its auth.
    assert_eq!(sent(&mut c), join);
    let ev = events(&mut c);
    assert_eq!(
        ev,
        [
            Event::ReconnectAttempt { attempt: 2 },
            Event::Reconnected { attempts: 2 }
        ]
    );
    // Each namespace's buffer goes out once the server accepts it, in order.
    text(&mut c, at(2701), &accept(version, "/admin", "s4"));
    assert_eq!(
        sent(&mut c),
        [
            r#"2/admin,1["b"]"#,
            r#"51-/admin,["c",{"_placeholder":true,"num":0}]"#,
            "<09>"
        ]
    );
    text(&mut c, at(2701), &accept(version, "/", "s3"));
    assert_eq!(sent(&mut c), [r#"2["a","x"]"#]);
    let sid = match version {
        V4 => "/admin#newEioSid",
        V5 => "s4",
    };
    assert_eq!(c.sid("/admin"), Some(sid));
    // The buffered ack is still awaited.
    text(&mut c, at(2702), r#"3/admin,1[]"#);
    let ev = events(&mut c);
    assert!(
        matches!(&ev[2..], [Event::Ack(p)] if p.id() == Some(1)),
        "{ev:?}"
    );
    // The attempt counter started again: the next loss waits the first delay.
    c.handle_closed(at(5000));
    let ev = events(&mut c);
    assert_eq!(
        ev.last(),
        Some(&Event::ReconnectScheduled {
            attempt: 1,
            delay: Duration::from_millis(875)
        })
    );
}

#[test]
fn v4_rejoins_and_flushes_the_send_buffer() {
    rejoins_and_flushes_the_send_buffer(V4);
}

#[test]
fn v5_rejoins_and_flushes_the_send_buffer() {
    rejoins_and_flushes_the_send_buffer(V5);
}

fn gives_up_after_the_attempts(version: ProtocolVersion) {
    let config = Config::DEFAULT.with_reconnection_attempts(Some(2));
    let mut c = joined(version, config, &[0]);
    c.handle_closed(at(0));
    let ev = events(&mut c);
    assert_eq!(
        ev.last(),
        Some(&Event::ReconnectScheduled {
            attempt: 1,
            delay: Duration::from_millis(1000)
        })
    );
    c.handle_timeout(at(1000));
    c.handle_open_error(at(1000));
    assert_eq!(
        events(&mut c),
        [
            Event::ReconnectAttempt { attempt: 1 },
            Event::OpenError,
            Event::ReconnectScheduled {
                attempt: 2,
                delay: Duration::from_millis(2000)
            },
        ]
    );
    c.handle_timeout(at(3000));
    // An open that never completes fails at `timeout` (20 s).
    assert_eq!(c.poll_timeout(), Some(at(23_000)));
    c.handle_timeout(at(23_000));
    assert_eq!(
        events(&mut c),
        [
            Event::ReconnectAttempt { attempt: 2 },
            Event::OpenError,
            Event::ReconnectFailed,
        ]
    );
    assert_eq!(
        actions(&mut c),
        [
            TransportAction::Open,
            TransportAction::Open,
            TransportAction::Close
        ]
    );
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.reconnect_attempts(), 0);
    // Emits still buffer (bounded); a new connect starts again and rejoins everything.
    c.emit(at(24_000), "/admin", "kept", &[]).unwrap();
    c.connect(at(24_000), "/", None).unwrap();
    assert_eq!(actions(&mut c), [TransportAction::Open]);
    c.handle_open(at(24_001), EIO_SID);
    let join: Vec<&str> = match version {
        V4 => vec!["0/admin,"],
        V5 => vec!["0", "0/admin,"],
    };
    assert_eq!(sent(&mut c), join);
    // Not a reconnection: no `Reconnected`.
    assert_eq!(events(&mut c), []);
}

#[test]
fn v4_gives_up_after_the_attempts() {
    gives_up_after_the_attempts(V4);
}

#[test]
fn v5_gives_up_after_the_attempts() {
    gives_up_after_the_attempts(V5);
}

#[test]
fn without_reconnection_a_lost_transport_stays_lost() {
    for version in ProtocolVersion::ALL {
        let mut c = joined(version, Config::DEFAULT.with_reconnection(false), &[0]);
        c.handle_closed(at(1));
        assert_eq!(
            events(&mut c),
            [
                disconnected("/", DisconnectReason::TransportClose),
                disconnected("/admin", DisconnectReason::TransportClose),
            ]
        );
        assert_eq!(c.poll_timeout(), None);
        assert_eq!(actions(&mut c), []);
    }
}

fn parse_error_closes_and_reconnects(version: ProtocolVersion) {
    let mut c = joined(version, Config::DEFAULT, &[0]);
    text(&mut c, at(1), "9");
    let ev = events(&mut c);
    assert!(matches!(ev[0], Event::ParseError(_)), "{ev:?}");
    assert_eq!(
        ev[1..],
        [
            disconnected("/", DisconnectReason::ParseError),
            disconnected("/admin", DisconnectReason::ParseError),
            Event::ReconnectScheduled {
                attempt: 1,
                delay: Duration::from_millis(1000)
            },
        ]
    );
    assert_eq!(actions(&mut c), [TransportAction::Close]);
    // Messages of the dead connection are ignored.
    text(&mut c, at(2), r#"2["late"]"#);
    assert_eq!(events(&mut c), []);
}

#[test]
fn v4_parse_error_closes_and_reconnects() {
    parse_error_closes_and_reconnects(V4);
}

#[test]
fn v5_parse_error_closes_and_reconnects() {
    parse_error_closes_and_reconnects(V5);
}

// ---- bounds ------------------------------------------------------------------------------------

/// Found by the `sio_client_session` fuzz target: joining and leaving a namespace while
/// open queued a `CONNECT` each time without looking at `max_transmit_queue`, so an
/// application that never drained grew the queue without bound.
#[test]
fn joining_while_open_respects_the_transmit_queue() {
    for version in ProtocolVersion::ALL {
        let config = Config::DEFAULT.with_max_transmit_queue(2);
        let mut c = client(version, config, &[0]);
        c.connect(at(0), "/admin", None).unwrap();
        c.handle_open(at(0), EIO_SID);
        let mut refused = 0;
        for _ in 0..10 {
            match c.connect(at(0), "/x", None) {
                Ok(()) => assert!(c.disconnect("/x")),
                Err(e) => {
                    assert_eq!(e, ConnectError::TransmitQueueFull { limit: 2 });
                    refused += 1;
                }
            }
        }
        assert_eq!(refused, 9, "{version:?}");
        assert_eq!(sent(&mut c), ["0/admin,", "0/x,"], "{version:?}");
        // Drained: joining works again.
        assert_eq!(c.connect(at(0), "/x", None), Ok(()));
        assert_eq!(sent(&mut c), ["0/x,"]);
    }
}

/// Found by the `sio_client_session` fuzz target: what was queued for a connection the
/// I/O layer closed without draining went out on the next one (here a `DISCONNECT` for
/// the namespace the new connection joins), and each close and open added to the queue.
#[test]
fn a_new_connection_does_not_send_what_was_queued_for_the_old_one() {
    for version in ProtocolVersion::ALL {
        let mut c = client(version, Config::DEFAULT, &[0]);
        c.connect(at(0), "/admin", None).unwrap();
        c.handle_open(at(0), EIO_SID);
        text(&mut c, at(0), &accept(version, "/admin", "s"));
        c.close();
        assert_eq!(
            actions(&mut c),
            [TransportAction::Open, TransportAction::Close]
        );
        // The I/O layer closes without sending "0/admin," and "1/admin,", then joins again.
        c.connect(at(1), "/admin", None).unwrap();
        assert_eq!(actions(&mut c), [TransportAction::Open]);
        c.handle_open(at(1), EIO_SID);
        assert_eq!(sent(&mut c), ["0/admin,"], "{version:?}");
    }
}

#[test]
fn the_buffers_and_the_acks_are_bounded() {
    for version in ProtocolVersion::ALL {
        let config = Config::DEFAULT
            .with_max_send_buffer(2)
            .with_max_pending_acks(1)
            .with_max_transmit_queue(3);
        let mut c = client(version, config, &[0]);
        c.connect(at(0), "/admin", None).unwrap();
        c.emit(at(0), "/admin", "a", &[]).unwrap();
        c.emit(at(0), "/admin", "b", &[]).unwrap();
        assert_eq!(
            c.emit(at(0), "/admin", "c", &[]),
            Err(EmitError::SendBufferFull { limit: 2 })
        );
        c.handle_open(at(0), EIO_SID);
        text(&mut c, at(0), &accept(version, "/admin", "s"));
        // CONNECT + two flushed: the queue is full.
        assert_eq!(
            c.emit(at(0), "/admin", "d", &[]),
            Err(EmitError::TransmitQueueFull { limit: 3 })
        );
        assert_eq!(sent(&mut c).len(), 3);
        // A binary event needs room for its attachments too.
        assert_eq!(
            c.emit(at(0), "/admin", "e", &[bin(&[1]), bin(&[2]), bin(&[3])]),
            Err(EmitError::TransmitQueueFull { limit: 3 })
        );
        assert_eq!(c.emit_with_ack(at(0), "/admin", "f", &[], None), Ok(0));
        assert_eq!(
            c.emit_with_ack(at(0), "/admin", "g", &[], None),
            Err(EmitError::TooManyPendingAcks { limit: 1 })
        );
        // The refused one used no id.
        text(&mut c, at(0), "3/admin,0[]");
        let _ = events(&mut c);
        assert_eq!(c.emit_with_ack(at(0), "/admin", "h", &[], None), Ok(1));
        assert_eq!(sent(&mut c), [r#"2/admin,0["f"]"#, r#"2/admin,1["h"]"#]);
    }
}
