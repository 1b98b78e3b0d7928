//! Server sessions of protocol revision 4 (`Config::allow_eio4`), beside revision 3 ones:
//! the `EIO` query picks the revision, the server pings, `maxPayload` is announced and
//! enforced, payloads use `\x1e`, binary WebSocket frames carry the bytes alone.

use bytes::Bytes;
use pushwire_engineio::http::HttpResponse;
use pushwire_engineio::server::{self, CloseReason, Event, Outcome, Server, WsAction};
use pushwire_engineio::{v4, Limits, OpenPacket, PacketData, ProtocolVersion, WsMessage};

#[path = "common/server.rs"]
mod common;
use common::{body, get, ms, post, respond, ws};

type Srv = Server<Box<dyn FnMut() -> String>>;

fn server_with(config: server::Config) -> Srv {
    let mut n = 0;
    Server::new(
        config,
        Box::new(move || {
            n += 1;
            format!("sid{n}")
        }),
    )
}

fn server() -> Srv {
    server_with(server::Config::DEFAULT.with_allow_eio4(true))
}

const Q: &str = "EIO=4&transport=polling&sid=sid1";
const OPEN1: &str = r#"0{"sid":"sid1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#;

/// A v4 polling session `sid1`, its handshake answered and its `Opened` taken.
fn open_polling() -> Srv {
    let mut s = server();
    let r = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    assert_eq!(body(&r), OPEN1);
    assert_eq!(s.poll_event(), Some(("sid1".into(), Event::Opened)));
    s
}

fn events(s: &mut Srv) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event().map(|(_, e)| e)).collect()
}

fn ws_out(s: &mut Srv, sid: &str) -> Vec<WsAction> {
    std::iter::from_fn(|| s.poll_ws_action(sid)).collect()
}

fn text(s: &str) -> WsAction {
    WsAction::Send(WsMessage::Text(s.into()))
}

/// A GET answered at once (something was waiting).
fn poll_now(s: &mut Srv, t: u64) -> HttpResponse {
    respond(s.handle_request(ms(t), &get(Q)))
}

#[test]
fn handshake_announces_max_payload_in_a_v4_payload() {
    // > If the server accepts the connection, then it MUST respond with an `open` packet with
    // > the following JSON-encoded payload: … `maxPayload`
    let mut s = server_with(
        server::Config::DEFAULT
            .with_allow_eio4(true)
            .with_limits(Limits::DEFAULT.with_max_payload_bytes(1234)),
    );
    let r = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    // One packet: the payload is the packet itself, no length prefix.
    let ps: Vec<_> = v4::decode_payload(r.body.clone(), Limits::DEFAULT)
        .collect::<Result<_, _>>()
        .unwrap();
    let h = v4::Handshake::from_packet(&ps[0]).unwrap();
    assert_eq!(h.max_payload, Some(1234));
    assert_eq!(
        h.open,
        OpenPacket::new("sid1", vec!["websocket".into()], 25000, 5000)
    );
    assert_eq!(s.session("sid1").unwrap().protocol(), ProtocolVersion::V4);
}

#[test]
fn serves_revision_3_and_4_at_once() {
    let mut s = server();
    let r3 = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    assert_eq!(
        body(&r3),
        r#"80:0{"sid":"sid1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#
    );
    let r4 = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    assert!(body(&r4).starts_with(r#"0{"sid":"sid2","#), "{}", body(&r4));
    // No EIO: engine.io's default revision, 3.
    let r = respond(s.handle_request(ms(0), &get("transport=polling")));
    assert!(body(&r).starts_with("80:0{"), "{}", body(&r));
    // Each session keeps its wire forms.
    s.send("sid1", PacketData::Text("a".into())).unwrap();
    s.send("sid2", PacketData::Text("a".into())).unwrap();
    s.send("sid2", PacketData::Binary(Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    let q3 = "EIO=3&transport=polling&sid=sid1";
    assert_eq!(body(&respond(s.handle_request(ms(1), &get(q3)))), "2:4a");
    assert_eq!(
        body(&respond(s.handle_request(
            ms(1),
            &get("EIO=4&transport=polling&sid=sid2")
        ))),
        "4a\u{1e}bAQID"
    );
    // A request of the other revision on a session is refused.
    let r = respond(s.handle_request(ms(2), &get("EIO=3&transport=polling&sid=sid2")));
    assert_eq!(body(&r), r#"{"code":3,"message":"Bad request"}"#);
}

#[test]
fn unsupported_revisions_get_error_5() {
    let five = r#"{"code":5,"message":"Unsupported protocol version"}"#;
    let mut s = server();
    for q in [
        "EIO=5&transport=polling",
        "EIO=2&transport=polling",
        "EIO=04&transport=polling",
        "EIO=&transport=polling",
    ] {
        let r = respond(s.handle_request(ms(0), &get(q)));
        assert_eq!((r.status, body(&r)), (400, five), "{q}");
    }
    // engine.io 6 without `allowEIO3`: revision 3 (named or by default) is refused.
    let mut s = server_with(
        server::Config::DEFAULT
            .with_allow_eio4(true)
            .with_allow_eio3(false),
    );
    for q in ["EIO=3&transport=polling", "transport=polling"] {
        let r = respond(s.handle_request(ms(0), &get(q)));
        assert_eq!((r.status, body(&r)), (400, five), "{q}");
    }
    assert!(matches!(
        s.handle_request(ms(0), &get("EIO=4&transport=polling")),
        Outcome::Respond(r) if r.status == 200
    ));
    // The default server is the revision 3 server it was: EIO=4 is a bad request.
    let mut s = server_with(server::Config::DEFAULT);
    let r = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    assert_eq!(body(&r), r#"{"code":3,"message":"Bad request"}"#);
    // JSONP is revision 3 only.
    let mut s = server();
    let r = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling&j=0")));
    assert_eq!(body(&r), r#"{"code":3,"message":"Bad request"}"#);
}

#[test]
fn the_server_pings_every_interval_and_the_client_answers() {
    let mut s = open_polling();
    // > At a given interval (the `pingInterval` value sent in the handshake) the server sends
    // > a `ping` packet
    assert_eq!(s.poll_timeout(), Some(ms(25_000)));
    s.handle_timeout(ms(24_999));
    assert!(matches!(
        s.handle_request(ms(24_999), &get(Q)),
        Outcome::Hold { .. }
    ));
    s.handle_timeout(ms(25_000));
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "2");
    // > and the client has a few seconds (the `pingTimeout` value) to send a `pong` packet
    // > back.
    assert_eq!(s.poll_timeout(), Some(ms(30_000)));
    assert_eq!(
        body(&respond(s.handle_request(ms(26_000), &post(Q, b"3")))),
        "ok"
    );
    assert_eq!(s.poll_timeout(), Some(ms(51_000)));
    s.handle_timeout(ms(51_000));
    assert_eq!(body(&poll_now(&mut s, 51_000)), "2");
    assert_eq!(
        body(&respond(s.handle_request(ms(55_999), &post(Q, b"3")))),
        "ok"
    );
    s.handle_timeout(ms(60_000));
    assert_eq!(events(&mut s), []);
    assert!(!s.session("sid1").unwrap().is_closed());
}

#[test]
fn a_missing_pong_closes_the_session_and_other_packets_delay_it_once() {
    // > If the server does not receive a `pong` packet back, then it SHOULD consider that the
    // > connection is closed.
    let mut s = open_polling();
    s.handle_timeout(ms(25_000));
    assert_eq!(body(&poll_now(&mut s, 25_000)), "2");
    assert_eq!(s.poll_timeout(), Some(ms(30_000)));
    // engine.io 6.6: the first packet while a pong is awaited restarts the pong timer
    // ("got packet while waiting for pong - refreshing ping timeout"), once per ping.
    respond(s.handle_request(ms(29_000), &post(Q, b"4still here")));
    assert_eq!(s.poll_timeout(), Some(ms(34_000)));
    respond(s.handle_request(ms(33_000), &post(Q, b"4and here")));
    assert_eq!(s.poll_timeout(), Some(ms(34_000)));
    assert!(matches!(
        s.handle_request(ms(33_000), &get(Q)),
        Outcome::Hold { .. }
    ));
    s.handle_timeout(ms(33_999));
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("still here".into())),
            Event::Message(PacketData::Text("and here".into()))
        ]
    );
    s.handle_timeout(ms(34_000));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::PingTimeout)]);
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "1");
}

#[test]
fn a_pong_nobody_asked_for_postpones_the_next_ping() {
    // engine.io 6.6 on any pong: `this.pingIntervalTimer?.refresh()`.
    let mut s = open_polling();
    respond(s.handle_request(ms(10_000), &post(Q, b"3")));
    assert_eq!(s.poll_timeout(), Some(ms(35_000)));
    assert_eq!(events(&mut s), []);
}

#[test]
fn a_late_timer_still_sends_the_ping_first() {
    // The I/O layer's timer fired long after the ping was due: the ping goes out now and the
    // client gets its `pingTimeout` from now.
    let mut s = open_polling();
    s.handle_timeout(ms(40_000));
    assert_eq!(body(&poll_now(&mut s, 40_000)), "2");
    assert_eq!(s.poll_timeout(), Some(ms(45_000)));
    assert_eq!(events(&mut s), []);
}

#[test]
fn a_ping_from_the_client_is_an_error() {
    // engine.io 6: `case "ping": if (this.transport.protocol !== 3) { this.onError(new
    // Error("invalid heartbeat direction")); return; }`
    let mut s = open_polling();
    respond(s.handle_request(ms(1), &post(Q, b"4a\x1e2\x1e4b")));
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("a".into())),
            Event::Closed(CloseReason::TransportError)
        ]
    );
}

#[test]
fn payloads_are_joined_by_the_record_separator() {
    // > 4hello\x1ebAQIDBA==
    let mut s = open_polling();
    let r = respond(s.handle_request(ms(1), &post(Q, b"4hello\x1ebAQIDBA==")));
    assert_eq!((r.status, body(&r)), (200, "ok"));
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("hello".into())),
            Event::Message(PacketData::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        ]
    );
    s.send("sid1", PacketData::Text("hello".into())).unwrap();
    s.send(
        "sid1",
        PacketData::Binary(Bytes::from_static(&[1, 2, 3, 4])),
    )
    .unwrap();
    let r = poll_now(&mut s, 2);
    // > Binary payloads MUST be base64-encoded and prefixed with a `b` character
    assert_eq!(body(&r), "4hello\u{1e}bAQIDBA==");
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    // A revision 3 payload is no v4 payload: `6:4hello` reads as a noop with the data
    // `:4hello` (ignored), and v3's base64 form is a parse error.
    respond(s.handle_request(ms(3), &post(Q, b"6:4hello")));
    assert_eq!(events(&mut s), []);
    assert!(!s.session("sid1").unwrap().is_closed());
    respond(s.handle_request(ms(3), &post(Q, b"b4AQIDBA==")));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::ParseError)]);
}

#[test]
fn a_binary_post_is_refused() {
    // engine.io 6: `if (isBinary && this.protocol === 4) { return this.onError("invalid
    // content"); }` — v4 has no XHR2 payload.
    let mut s = open_polling();
    let mut req = post(Q, &[0, 1, 0xff, b'4']);
    req.content_type = Some("application/octet-stream");
    let r = respond(s.handle_request(ms(1), &req));
    assert_eq!((r.status, r.body.len()), (400, 0));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
}

#[test]
fn max_payload_is_enforced_on_polling_and_websocket() {
    let config = server::Config::DEFAULT
        .with_allow_eio4(true)
        .with_limits(Limits::DEFAULT.with_max_payload_bytes(8));
    let mut s = server_with(config);
    respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    respond(s.handle_request(ms(1), &post(Q, b"4a\x1e4bcdefgh")));
    assert_eq!(
        events(&mut s),
        [Event::Opened, Event::Closed(CloseReason::ParseError)]
    );
    // A websocket message larger than maxPayload closes the session.
    let mut s = server_with(config);
    let o = s.handle_request(ms(0), &ws("EIO=4&transport=websocket"));
    assert_eq!(o, Outcome::AcceptWebSocket { sid: "sid1".into() });
    let open = ws_out(&mut s, "sid1");
    assert_eq!(
        open,
        [text(
            r#"0{"sid":"sid1","upgrades":[],"pingInterval":25000,"pingTimeout":5000,"maxPayload":8}"#
        )]
    );
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("4abcdefg".into()));
    s.handle_ws_message(ms(2), "sid1", WsMessage::Binary(Bytes::from(vec![7u8; 9])));
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
    assert_eq!(
        events(&mut s),
        [
            Event::Opened,
            Event::Message(PacketData::Text("abcdefg".into())),
            Event::Closed(CloseReason::TransportError)
        ]
    );
}

#[test]
fn websocket_frames_carry_binary_without_a_type_byte_and_the_server_pings() {
    let mut s = server();
    let o = s.handle_request(ms(0), &ws("EIO=4&transport=websocket"));
    assert_eq!(o, Outcome::AcceptWebSocket { sid: "sid1".into() });
    assert_eq!(ws_out(&mut s, "sid1").len(), 1);
    // > Binary payloads are sent as is, without modification.
    s.send("sid1", PacketData::Binary(Bytes::from_static(&[4, 1, 2])))
        .unwrap();
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [WsAction::Send(WsMessage::Binary(Bytes::from_static(&[
            4, 1, 2
        ])))]
    );
    s.handle_ws_message(
        ms(1),
        "sid1",
        WsMessage::Binary(Bytes::from_static(&[4, 1])),
    );
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("4hello".into()));
    assert_eq!(
        events(&mut s),
        [
            Event::Opened,
            Event::Message(PacketData::Binary(Bytes::from_static(&[4, 1]))),
            Event::Message(PacketData::Text("hello".into()))
        ]
    );
    s.handle_timeout(ms(25_000));
    assert_eq!(ws_out(&mut s, "sid1"), [text("2")]);
    s.handle_ws_message(ms(25_100), "sid1", WsMessage::Text("3".into()));
    assert_eq!(s.poll_timeout(), Some(ms(50_100)));
    // b64=1: binary as `b<base64>` text.
    let o = s.handle_request(ms(0), &ws("EIO=4&transport=websocket&b64=1"));
    assert_eq!(o, Outcome::AcceptWebSocket { sid: "sid2".into() });
    ws_out(&mut s, "sid2");
    s.send("sid2", PacketData::Binary(Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    assert_eq!(ws_out(&mut s, "sid2"), [text("bAQID")]);
}

#[test]
fn the_upgrade_probe_and_noop_as_in_v3() {
    // > 2probe (ping packet) / 3probe (pong packet) / 5 (upgrade packet)
    let mut s = open_polling();
    assert!(matches!(
        s.handle_request(ms(1), &get(Q)),
        Outcome::Hold { .. }
    ));
    let o = s.handle_request(ms(2), &ws("EIO=4&transport=websocket&sid=sid1"));
    assert_eq!(o, Outcome::AcceptWebSocket { sid: "sid1".into() });
    s.handle_ws_message(ms(3), "sid1", WsMessage::Text("2probe".into()));
    assert_eq!(ws_out(&mut s, "sid1"), [text("3probe")]);
    // > send a `noop` packet to any pending `GET` request
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "6");
    s.send("sid1", PacketData::Text("queued".into())).unwrap();
    s.handle_ws_message(ms(4), "sid1", WsMessage::Text("5".into()));
    assert_eq!(ws_out(&mut s, "sid1"), [text("4queued")]);
    assert_eq!(events(&mut s), [Event::Upgraded]);
    // The heartbeat keeps its schedule across the upgrade.
    assert_eq!(s.poll_timeout(), Some(ms(25_000)));
    s.handle_timeout(ms(25_000));
    assert_eq!(ws_out(&mut s, "sid1"), [text("2")]);
}

#[test]
fn r1_v4_setters_set_their_field_only() {
    let d = server::Config::DEFAULT;
    assert!(d.allow_eio3 && !d.allow_eio4);
    let c = d.with_allow_eio4(true);
    assert!(c.allow_eio4 && c != d);
    let mut e = d;
    e.allow_eio4 = true;
    assert_eq!(c, e);
    let c = d.with_allow_eio3(false);
    let mut e = d;
    e.allow_eio3 = false;
    assert_eq!(c, e);
    assert_ne!(c, d);
}

#[test]
fn a_closing_session_sends_no_more_pings() {
    // Found by the eio_server_session fuzz target: a polling session closing (waiting for a
    // GET to carry `close`) kept a ping due in the past as its next deadline.
    let mut s = open_polling();
    s.close(ms(1), "sid1");
    s.handle_timeout(ms(25_000));
    assert!(s.poll_timeout().is_some_and(|t| t > ms(25_000)));
    // The GET gets the close packet, not a ping.
    assert_eq!(body(&poll_now(&mut s, 25_001)), "1");
}

/// The earliest deadline and the due sessions, as a scan of every session finds them.
fn scan(
    s: &Srv,
    now: pushwire_engineio::Instant,
) -> (Option<pushwire_engineio::Instant>, Vec<String>) {
    let due = |sid: &&str| s.session(sid).and_then(|x| x.poll_timeout());
    let first = s.sids().filter_map(|sid| due(&sid)).min();
    let mut due: Vec<String> = s
        .sids()
        .filter(|sid| due(sid).is_some_and(|t| t <= now))
        .map(String::from)
        .collect();
    due.sort();
    (first, due)
}

fn indexed(
    s: &Srv,
    now: pushwire_engineio::Instant,
) -> (Option<pushwire_engineio::Instant>, Vec<String>) {
    let mut due: Vec<String> = s.due_sessions(now).map(String::from).collect();
    due.sort();
    (s.poll_timeout(), due)
}

#[test]
fn deadlines_are_indexed_and_only_due_sessions_are_visited() {
    // Three sessions opened 100 ms apart, pinged every 300 ms.
    let mut s = server_with(
        server::Config::DEFAULT
            .with_allow_eio4(true)
            .with_ping_interval(std::time::Duration::from_millis(300))
            .with_ping_timeout(std::time::Duration::from_millis(200)),
    );
    for t in [0, 100, 200] {
        let r = respond(s.handle_request(ms(t), &get("EIO=4&transport=polling")));
        assert_eq!(r.status, 200);
        // Before the events are taken, the new session is asked directly.
        assert_eq!(s.poll_timeout(), Some(ms(300)));
        assert_eq!(indexed(&s, ms(t)), scan(&s, ms(t)));
        let _ = events(&mut s);
        assert_eq!(s.poll_timeout(), Some(ms(300)), "from the index");
    }
    // At 300 only sid1 is due: its ping is queued, the others get nothing.
    let due: Vec<&str> = s.due_sessions(ms(300)).collect();
    assert_eq!(due, ["sid1"]);
    s.handle_timeout(ms(300));
    assert_eq!(indexed(&s, ms(300)), scan(&s, ms(300)));
    let _ = events(&mut s);
    let ping = respond(s.handle_request(ms(300), &get("EIO=4&transport=polling&sid=sid1")));
    assert_eq!(body(&ping), "2");
    for sid in ["sid2", "sid3"] {
        let q = format!("EIO=4&transport=polling&sid={sid}");
        let held = s.handle_request(ms(300), &get(&q));
        assert!(matches!(held, Outcome::Hold { .. }), "nothing for {sid}");
    }
    // sid1's next deadline is its ping timeout (300 + 200); sid2 pings at 400.
    assert_eq!(s.poll_timeout(), Some(ms(400)));
    assert_eq!(indexed(&s, ms(450)), scan(&s, ms(450)));
    // A pong moves sid1's deadline; the index follows once the events are taken.
    let r = respond(s.handle_request(ms(350), &post("EIO=4&transport=polling&sid=sid1", b"3")));
    assert_eq!(r.status, 200);
    assert_eq!(indexed(&s, ms(650)), scan(&s, ms(650)));
    let _ = events(&mut s);
    assert_eq!(indexed(&s, ms(650)), scan(&s, ms(650)));
    // Closing drops a session from the index with the session.
    s.close(ms(360), "sid3");
    let _ = events(&mut s);
    assert_eq!(indexed(&s, ms(10_000)), scan(&s, ms(10_000)));
    s.handle_timeout(ms(100_000));
    let _ = events(&mut s);
    assert_eq!(indexed(&s, ms(100_000)), scan(&s, ms(100_000)));
}

#[test]
fn a_session_replaced_through_session_mut_leaves_no_stale_deadline() {
    let config = server::Config::DEFAULT
        .with_allow_eio4(true)
        .with_ping_interval(std::time::Duration::from_millis(300));
    let mut s = server_with(config);
    let r = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    assert_eq!(r.status, 200);
    let _ = events(&mut s);
    assert_eq!(s.poll_timeout(), Some(ms(300)));
    // A new session object under the same id, opened later: its first ping is at 1,300.
    *s.session_mut("sid1").unwrap() = server::Session::with_protocol(
        ProtocolVersion::V4,
        "sid1".into(),
        pushwire_engineio::TransportKind::Polling,
        true,
        None,
        config,
        ms(1000),
    );
    let _ = events(&mut s);
    assert_eq!(indexed(&s, ms(500)), scan(&s, ms(500)));
    assert_eq!(
        s.poll_timeout(),
        Some(ms(1300)),
        "the old entry is not the deadline"
    );
    s.handle_timeout(ms(500));
    assert_eq!(s.due_sessions(ms(500)).count(), 0);
    assert_eq!(s.poll_timeout(), Some(ms(1300)));
}
