//! Server session scenarios, driven with requests and frames, time as an argument.

use std::time::Duration;

use bytes::Bytes;
use pushwire_engineio::http::Method;
use pushwire_engineio::server::{self, CloseReason, Event, Outcome, Server, WsAction};
use pushwire_engineio::{PacketData, WsMessage};

#[path = "common/server.rs"]
mod common;
use common::{body, get, ms, post, respond, ws};

type Srv = Server<Box<dyn FnMut() -> String>>;

fn server() -> Srv {
    let mut n = 0;
    Server::new(
        server::Config::default(),
        Box::new(move || {
            n += 1;
            format!("sid{n}")
        }),
    )
}

/// The events after `Opened` (which `every_session_starts_with_opened` checks).
fn events(s: &mut Srv) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event().map(|(_, e)| e))
        .filter(|e| *e != Event::Opened)
        .collect()
}

fn ws_out(s: &mut Srv, sid: &str) -> Vec<WsAction> {
    std::iter::from_fn(|| s.poll_ws_action(sid)).collect()
}

const OPEN1: &str =
    r#"80:0{"sid":"sid1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;

/// Handshake over polling; returns the server with session `sid1`.
fn open_polling() -> Srv {
    let mut s = server();
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&t=a")));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(body(&r), OPEN1);
    s
}

const Q: &str = "EIO=3&transport=polling&sid=sid1";

#[test]
fn handshake_matches_the_spec_sample() {
    let mut s = open_polling();
    assert!(events(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), Some(ms(30_000)));
}

#[test]
fn long_poll_is_held_until_a_send() {
    let mut s = open_polling();
    assert_eq!(
        s.handle_request(ms(10), &get(Q)),
        Outcome::Hold { sid: "sid1".into() }
    );
    assert_eq!(s.poll_http_response("sid1"), None);
    s.send("sid1", PacketData::Text("hey".into())).unwrap();
    let r = s.poll_http_response("sid1").unwrap();
    // > 4:4hey
    assert_eq!(body(&r), "4:4hey");
    assert_eq!(s.poll_http_response("sid1"), None);
    // Several sends before the next poll go out in one payload.
    s.send("sid1", PacketData::Text("hello".into())).unwrap();
    s.send("sid1", PacketData::Text("😀".into())).unwrap();
    let r = respond(s.handle_request(ms(20), &get(Q)));
    assert_eq!(body(&r), "6:4hello3:4😀");
}

#[test]
fn post_delivers_messages_and_pings_get_pongs() {
    let mut s = open_polling();
    // > 6:4hello6:4world
    let r = respond(s.handle_request(ms(5), &post(Q, "6:4hello6:4world".as_bytes())));
    assert_eq!((r.status, body(&r)), (200, "ok"));
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("hello".into())),
            Event::Message(PacketData::Text("world".into()))
        ]
    );
    assert_eq!(
        s.handle_request(ms(6), &get(Q)),
        Outcome::Hold { sid: "sid1".into() }
    );
    respond(s.handle_request(ms(7), &post(Q, b"1:2")));
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "1:3");
}

#[test]
fn heartbeat_deadline_moves_with_each_packet() {
    let mut s = open_polling();
    assert_eq!(s.poll_timeout(), Some(ms(30_000)));
    respond(s.handle_request(ms(20_000), &post(Q, b"1:2")));
    assert_eq!(s.poll_timeout(), Some(ms(50_000)));
    s.handle_timeout(ms(49_999));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(ms(50_000));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::PingTimeout)]);
    // The session is gone: engine.io answers `Session ID unknown`.
    let r = respond(s.handle_request(ms(50_001), &get(Q)));
    assert_eq!(r.status, 400);
    assert_eq!(body(&r), r#"{"code":1,"message":"Session ID unknown"}"#);
    assert_eq!(s.sids().count(), 0);
}

#[test]
fn error_responses_are_engineio_json() {
    let mut s = open_polling();
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=flash")));
    assert_eq!(r.status, 400);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(body(&r), r#"{"code":0,"message":"Transport unknown"}"#);
    let r = respond(s.handle_request(ms(0), &post("EIO=3&transport=polling", b"1:2")));
    assert_eq!(body(&r), r#"{"code":2,"message":"Bad handshake method"}"#);
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&sid=nope")));
    assert_eq!(body(&r), r#"{"code":1,"message":"Session ID unknown"}"#);
    // A websocket request without the upgrade, and polling on a websocket session.
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=websocket&sid=sid1")));
    assert_eq!(body(&r), r#"{"code":3,"message":"Bad request"}"#);
    let r = respond(s.handle_request(ms(0), &get("EIO=4&transport=polling")));
    assert_eq!(body(&r), r#"{"code":3,"message":"Bad request"}"#);
    let mut req = get("EIO=3&transport=polling&sid=nope");
    req.origin = Some("https://a.example");
    let r = respond(s.handle_request(ms(0), &req));
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://a.example")
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
}

#[test]
fn overlapping_gets_close_the_session() {
    let mut s = open_polling();
    assert!(matches!(
        s.handle_request(ms(1), &get(Q)),
        Outcome::Hold { .. }
    ));
    let r = respond(s.handle_request(ms(2), &get(Q)));
    assert_eq!(r.status, 500);
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "1:1");
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
}

#[test]
fn client_close_releases_the_poll_with_a_noop() {
    let mut s = open_polling();
    assert!(matches!(
        s.handle_request(ms(1), &get(Q)),
        Outcome::Hold { .. }
    ));
    // The rest of the payload after `close` is not read (engine.io returns false).
    respond(s.handle_request(ms(2), &post(Q, b"1:11:2")));
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "1:6");
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
}

#[test]
fn server_close_delivers_buffered_packets_then_close() {
    let mut s = open_polling();
    s.send("sid1", PacketData::Text("bye".into())).unwrap();
    s.close(ms(1), "sid1");
    assert_eq!(
        s.send("sid1", PacketData::Text("late".into())),
        Err(pushwire_engineio::SendError::Closed)
    );
    assert!(events(&mut s).is_empty());
    let r = respond(s.handle_request(ms(2), &get(Q)));
    assert_eq!(body(&r), "4:4bye1:1");
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::ForcedClose)]);
}

#[test]
fn server_close_without_a_poll_times_out() {
    let mut s = open_polling();
    s.close(ms(1), "sid1");
    // The heartbeat keeps running while closing, and packets from the client are ignored
    // (engine.io only handles packets in the `open` state), so a ping does not move it.
    assert_eq!(s.poll_timeout(), Some(ms(30_000)));
    respond(s.handle_request(ms(10_000), &post(Q, b"1:25:4late")));
    assert!(events(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), Some(ms(30_000)));
    s.handle_timeout(ms(30_000));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::PingTimeout)]);
    // With a longer heartbeat, the close timeout (30 s) ends it.
    let mut config = server::Config::default();
    config.ping_interval = Duration::from_secs(60);
    let mut s: Srv = Server::new(config, Box::new(|| String::from("x")));
    respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    s.close(ms(1), "x");
    assert_eq!(s.poll_timeout(), Some(ms(30_001)));
    s.handle_timeout(ms(30_001));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::ForcedClose)]);
}

#[test]
fn parse_error_closes_after_the_good_packets() {
    let mut s = open_polling();
    let r = respond(s.handle_request(ms(1), &post(Q, b"6:4hello1:x")));
    assert_eq!(body(&r), "ok");
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("hello".into())),
            Event::Closed(CloseReason::ParseError)
        ]
    );
}

#[test]
fn post_over_the_payload_limit_is_refused_whole_and_closes() {
    let limits = pushwire_engineio::Limits::DEFAULT.with_max_payload_bytes(10);
    let mut s = Server::new(
        server::Config::DEFAULT.with_limits(limits),
        Box::new(|| String::from("sid1")) as Box<dyn FnMut() -> String>,
    );
    respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    // Exactly at the limit: delivered.
    let r = respond(s.handle_request(ms(1), &post(Q, b"3:4hi3:4yo")));
    assert_eq!(body(&r), "ok");
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("hi".into())),
            Event::Message(PacketData::Text("yo".into()))
        ]
    );
    // One byte over: engine.io drops such a body unread; nothing of it is delivered.
    let r = respond(s.handle_request(ms(2), &post(Q, b"6:4hello1:2")));
    assert_eq!(body(&r), "ok");
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::ParseError)]);
}

#[test]
fn upgrade_dance_loses_and_duplicates_nothing() {
    let mut s = open_polling();
    s.send("sid1", PacketData::Text("m1".into())).unwrap();
    let r = respond(s.handle_request(ms(1), &get(Q)));
    assert_eq!(body(&r), "3:4m1");
    assert!(matches!(
        s.handle_request(ms(2), &get(Q)),
        Outcome::Hold { .. }
    ));
    // The client opens the probe websocket.
    assert_eq!(
        s.handle_request(ms(3), &ws("EIO=3&transport=websocket&sid=sid1")),
        Outcome::AcceptWebSocket { sid: "sid1".into() }
    );
    // A second probe is refused.
    let r = respond(s.handle_request(ms(3), &ws("EIO=3&transport=websocket&sid=sid1")));
    assert_eq!(r.status, 400);
    // > < 2probe  > 3probe
    s.handle_ws_message(ms(4), "sid1", WsMessage::Text("2probe".into()));
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [WsAction::Send(WsMessage::Text("3probe".into()))]
    );
    // The held poll is released with a noop.
    assert_eq!(body(&s.poll_http_response("sid1").unwrap()), "1:6");
    // A poll that was already on its way when the client got `3probe` must not be held
    // either, or the client never finishes pausing (engine.io re-sends the noop every
    // 100 ms while the probe is pending).
    let r = respond(s.handle_request(ms(4), &get(Q)));
    assert_eq!(body(&r), "1:6");
    // A message sent while the client pauses polling waits for the new transport.
    s.send("sid1", PacketData::Text("m2".into())).unwrap();
    assert_eq!(s.poll_http_response("sid1"), None);
    assert!(ws_out(&mut s, "sid1").is_empty());
    // > 5 => "upgrade" packet type
    s.handle_ws_message(ms(5), "sid1", WsMessage::Text("5".into()));
    assert_eq!(events(&mut s), [Event::Upgraded]);
    s.send("sid1", PacketData::Binary(Bytes::from_static(&[1, 2])))
        .unwrap();
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [
            WsAction::Send(WsMessage::Text("4m2".into())),
            WsAction::Send(WsMessage::Binary(Bytes::from_static(&[4, 1, 2])))
        ]
    );
    // Polling on the upgraded session is a bad request.
    let r = respond(s.handle_request(ms(6), &get(Q)));
    assert_eq!(r.status, 400);
    // Heartbeats now travel on the websocket.
    s.handle_ws_message(ms(7), "sid1", WsMessage::Text("2".into()));
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [WsAction::Send(WsMessage::Text("3".into()))]
    );
    s.handle_ws_message(ms(8), "sid1", WsMessage::Text("4hi".into()));
    assert_eq!(
        events(&mut s),
        [Event::Message(PacketData::Text("hi".into()))]
    );
    s.handle_ws_message(ms(9), "sid1", WsMessage::Text("1".into()));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
}

#[test]
fn upgrade_times_out_and_polling_goes_on() {
    let mut s = open_polling();
    assert!(matches!(
        s.handle_request(ms(0), &ws("EIO=3&transport=websocket&sid=sid1")),
        Outcome::AcceptWebSocket { .. }
    ));
    assert_eq!(s.poll_timeout(), Some(ms(10_000)));
    s.handle_timeout(ms(10_000));
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
    s.send("sid1", PacketData::Text("still".into())).unwrap();
    assert_eq!(
        body(&respond(s.handle_request(ms(10_001), &get(Q)))),
        "6:4still"
    );
}

#[test]
fn a_wrong_probe_aborts_the_upgrade() {
    let mut s = open_polling();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket&sid=sid1"));
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("4nope".into()));
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
    assert!(!s.session("sid1").unwrap().is_upgrading());
    assert!(events(&mut s).is_empty());
}

#[test]
fn websocket_only_session() {
    let mut s = server();
    assert_eq!(
        s.handle_request(ms(0), &ws("EIO=3&transport=websocket")),
        Outcome::AcceptWebSocket { sid: "sid1".into() }
    );
    // > < 0{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}
    // engine.io 3.6.2 writes `"upgrades":[]` for a websocket session.
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [WsAction::Send(WsMessage::Text(
            r#"0{"sid":"sid1","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#.into()
        ))]
    );
    s.send("sid1", PacketData::Binary(Bytes::from_static(&[9])))
        .unwrap();
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [WsAction::Send(WsMessage::Binary(Bytes::from_static(&[
            4, 9
        ])))]
    );
    s.handle_ws_message(
        ms(1),
        "sid1",
        WsMessage::Binary(Bytes::from_static(&[4, 7])),
    );
    assert_eq!(
        events(&mut s),
        [Event::Message(PacketData::Binary(Bytes::from_static(&[7])))]
    );
    s.close(ms(2), "sid1");
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::ForcedClose)]);
}

#[test]
fn websocket_b64_client_gets_base64_text() {
    let mut s = server();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket&b64=1"));
    let _ = ws_out(&mut s, "sid1");
    s.send("sid1", PacketData::Binary(Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    assert_eq!(
        ws_out(&mut s, "sid1"),
        [WsAction::Send(WsMessage::Text("b4AQID".into()))]
    );
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("x".into()));
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::ParseError)]);
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
}

#[test]
fn xhr2_and_b64_polling() {
    // XHR2 client: binary goes out as an octet-stream payload (INTEROP: `00 06 ff 4hello`).
    let mut s = open_polling();
    s.send("sid1", PacketData::Text("hello".into())).unwrap();
    s.send("sid1", PacketData::Binary(Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    let r = respond(s.handle_request(ms(1), &get(Q)));
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        r.body,
        b"\x00\x06\xff4hello\x01\x04\xff\x04\x01\x02\x03".to_vec()
    );
    let mut req = post(Q, b"\x00\x03\xff4hi\x01\x02\xff\x04\x07");
    req.content_type = Some("application/octet-stream");
    respond(s.handle_request(ms(2), &req));
    assert_eq!(
        events(&mut s),
        [
            Event::Message(PacketData::Text("hi".into())),
            Event::Message(PacketData::Binary(Bytes::from_static(&[7])))
        ]
    );
    // A b64=1 client: base64 in a text payload (INTEROP: `10:b4AAEC/v8=`).
    let mut s = server();
    respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&b64=1")));
    s.send(
        "sid1",
        PacketData::Binary(Bytes::from_static(&[0, 1, 2, 254, 255])),
    )
    .unwrap();
    let r = respond(s.handle_request(ms(1), &get("EIO=3&transport=polling&b64=1&sid=sid1")));
    assert_eq!(body(&r), "10:b4AAEC/v8=");
}

#[test]
fn jsonp_polling() {
    let mut s = server();
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&j=2&b64=1")));
    assert_eq!(
        body(&r),
        r#"___eio[2]("80:0{\"sid\":\"sid1\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":5000}");"#
    );
    assert_eq!(r.header("access-control-allow-origin"), None);
    let q = "EIO=3&transport=polling&j=2&b64=1&sid=sid1";
    let r = respond(s.handle_request(ms(1), &post(q, b"d=6%3A4a%5Cnb%5C%5Cn")));
    assert_eq!(body(&r), "ok");
    assert_eq!(
        events(&mut s),
        [Event::Message(PacketData::Text("a\nb\\n".into()))]
    );
    s.send("sid1", PacketData::Text("x\u{2028}".into()))
        .unwrap();
    let r = respond(s.handle_request(ms(2), &get(q)));
    assert_eq!(body(&r), r#"___eio[2]("3:4x\u2028");"#);
}

#[test]
fn options_preflight() {
    let mut s = open_polling();
    let mut req = get(Q);
    req.method = Method::Options;
    req.origin = Some("https://a.example");
    let r = respond(s.handle_request(ms(0), &req));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("Content-Type")
    );
}

#[test]
fn send_buffer_is_bounded() {
    let mut config = server::Config::default();
    config.max_buffered_packets = 2;
    let mut s = Server::new(config, || String::from("only"));
    respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    s.send("only", PacketData::Text("a".into())).unwrap();
    s.send("only", PacketData::Text("b".into())).unwrap();
    assert_eq!(
        s.send("only", PacketData::Text("c".into())),
        Err(pushwire_engineio::SendError::OutputFull {
            buffered: 2,
            limit: 2
        })
    );
}

#[test]
fn send_buffer_is_bounded_in_bytes() {
    let mut config = server::Config::default();
    config.max_buffered_bytes = 10;
    let mut s = Server::new(config, || String::from("only"));
    respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    let text = |t: &str| PacketData::Text(t.into());
    s.send("only", text("aaaaaa")).unwrap();
    assert_eq!(
        s.send("only", text("bbbbb")),
        Err(pushwire_engineio::SendError::OutputBytesFull {
            buffered: 6,
            len: 5,
            limit: 10
        })
    );
    // A broadcast skips a session without room (and does not copy the data for it).
    assert_eq!(s.broadcast(&text("bbbbb")), 0);
    // Exactly at the limit is allowed; the count is of data bytes, not of the encoding.
    s.send("only", text("cccc")).unwrap();
    let r = respond(s.handle_request(ms(1), &get("EIO=3&transport=polling&sid=only")));
    assert_eq!(body(&r), "7:4aaaaaa5:4cccc");
    // Fetched: the budget is free again, and one packet is never refused for its size.
    let big = "x".repeat(100);
    s.send("only", text(&big)).unwrap();
    assert!(matches!(
        s.send("only", text("y")),
        Err(pushwire_engineio::SendError::OutputBytesFull { buffered: 100, .. })
    ));
    assert_eq!(s.broadcast(&text("y")), 0);
}

#[test]
fn aborted_poll_closes_the_session() {
    let mut s = open_polling();
    assert!(matches!(
        s.handle_request(ms(1), &get(Q)),
        Outcome::Hold { .. }
    ));
    s.handle_get_aborted(ms(2), "sid1");
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportError)]);
}

#[test]
fn every_session_starts_with_opened() {
    // Over polling: `Opened` once, before anything else the session reports.
    let mut s = open_polling();
    s.handle_request(ms(1), &post(Q, b"6:4hello"));
    assert_eq!(s.poll_event(), Some(("sid1".into(), Event::Opened)));
    assert_eq!(
        s.poll_event(),
        Some((
            "sid1".into(),
            Event::Message(PacketData::Text("hello".into()))
        ))
    );
    assert_eq!(s.poll_event(), None);
    // Over websocket only.
    let mut s = server();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket"));
    assert_eq!(s.poll_event(), Some(("sid1".into(), Event::Opened)));
    assert_eq!(s.poll_event(), None);
}

#[test]
fn broadcast_reaches_every_open_session() {
    let mut s = server();
    s.handle_request(ms(0), &get("EIO=3&transport=polling"));
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket"));
    s.handle_request(ms(0), &get("EIO=3&transport=polling"));
    let sids: Vec<String> = s.sids().map(String::from).collect();
    assert_eq!(sids.len(), 3);
    s.close(ms(1), &sids[2]);
    assert_eq!(s.broadcast(&PacketData::Text("all".into())), 2);
    // The polling session has it in its next poll, the websocket one as a frame.
    let poll = respond(s.handle_request(
        ms(2),
        &get(&format!("EIO=3&transport=polling&sid={}", sids[0])),
    ));
    assert_eq!(body(&poll), "4:4all");
    assert_eq!(
        ws_out(&mut s, &sids[1]).last(),
        Some(&WsAction::Send(WsMessage::Text("4all".into())))
    );
}

#[test]
fn a_transport_switched_off_is_unknown() {
    // engine.io: `if (!~this.opts.transports.indexOf(transport))` → 0 "Transport unknown".
    let unknown = r#"{"code":0,"message":"Transport unknown"}"#;
    let mut config = server::Config::default();
    config.polling = false;
    let mut s = Server::new(config, || String::from("only"));
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    assert_eq!((r.status, body(&r)), (400, unknown));
    // The other transport still opens a session.
    assert!(matches!(
        s.handle_request(ms(0), &ws("EIO=3&transport=websocket")),
        Outcome::AcceptWebSocket { .. }
    ));
    let mut config = server::Config::default();
    config.websocket = false;
    let mut s = Server::new(config, || String::from("only"));
    let r = respond(s.handle_request(ms(0), &ws("EIO=3&transport=websocket")));
    assert_eq!((r.status, body(&r)), (400, unknown));
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling")));
    assert_eq!(r.status, 200);
}

#[test]
fn a_jsonp_index_is_digits_only() {
    // `"+1".parse::<u64>()` succeeds: the digits check must refuse it (engine.io's
    // `this.head = '___eio[' + (req._query.j || '').replace(/[^0-9]/g, '') + ']('`
    // would even rewrite it; we refuse rather than guess).
    let mut s = server();
    for j in ["+1", "1a"] {
        let q = format!("EIO=3&transport=polling&j={j}");
        let r = respond(s.handle_request(ms(0), &get(&q)));
        assert_eq!(body(&r), r#"{"code":3,"message":"Bad request"}"#, "j={j}");
    }
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&j=12")));
    assert_eq!(r.status, 200);
    assert!(body(&r).starts_with("___eio[12](\""), "{}", body(&r));
}

#[test]
fn a_jsonp_index_percent_encoded_to_a_plus_sign_is_refused() {
    // > `j` is an integer.
    // In a query string `+` is a space: `j=+1` reaches the index check as ` 1`, which
    // `parse::<u64>` refuses by itself. `%2B1` decodes to `+1`, which `parse::<u64>` accepts
    // (as 1): only the digits check refuses it, with the answer to any other bad `j`.
    let mut s = server();
    for q in [
        "EIO=3&transport=polling&j=%2B1",
        "EIO=3&transport=polling&j=%2b1",
    ] {
        let r = respond(s.handle_request(ms(0), &get(q)));
        assert_eq!(
            (r.status, body(&r)),
            (400, r#"{"code":3,"message":"Bad request"}"#),
            "{q}"
        );
    }
    assert_eq!(s.sids().count(), 0, "no session was opened");
    // Percent-encoded digits are digits.
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&j=%31")));
    assert_eq!(r.status, 200);
    assert!(body(&r).starts_with("___eio[1](\""), "{}", body(&r));
}

#[test]
fn options_on_a_jsonp_session_is_no_preflight() {
    // engine.io 3.x: only the XHR polling transport answers `OPTIONS` (200 and
    // `Access-Control-Allow-Headers: Content-Type`, `options_preflight`); the JSONP one has
    // no such handler, and polling answers any method but GET and POST with a bare 500.
    let mut s = server();
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&j=2")));
    assert_eq!(r.status, 200);
    assert!(body(&r).starts_with("___eio[2](\""), "{}", body(&r));
    let q = "EIO=3&transport=polling&j=2&sid=sid1";
    let mut req = get(q);
    req.method = Method::Options;
    req.origin = Some("https://a.example");
    let r = respond(s.handle_request(ms(1), &req));
    assert_eq!(r.status, 500);
    assert_eq!(r.header("access-control-allow-headers"), None);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert!(r.body.is_empty(), "{}", body(&r));
    // The session goes on: the next poll gets what was sent.
    s.send("sid1", PacketData::Text("x".into())).unwrap();
    let r = respond(s.handle_request(ms(2), &get(q)));
    assert_eq!(body(&r), r#"___eio[2]("2:4x");"#);
}

#[test]
fn a_closed_websocket_closes_its_session() {
    let mut s = server();
    assert_eq!(
        s.handle_request(ms(0), &ws("EIO=3&transport=websocket")),
        Outcome::AcceptWebSocket { sid: "sid1".into() }
    );
    let _ = ws_out(&mut s, "sid1");
    s.handle_ws_closed(ms(1), "sid1");
    assert_eq!(events(&mut s), [Event::Closed(CloseReason::TransportClose)]);
    let r = respond(s.handle_request(ms(2), &get(Q)));
    assert_eq!(body(&r), r#"{"code":1,"message":"Session ID unknown"}"#);
}

#[test]
fn session_ids_are_url_safe_base64_of_15_bytes() {
    // 0xFB 0xFF 0xBF is 111110 111111 111110 111111: base64 `+/+/`, URL-safe `-_-_`.
    let sid = server::sid_from_bytes([0xFB, 0xFF, 0xBF].repeat(5).try_into().unwrap());
    assert_eq!(sid, "-_-_".repeat(5));
    // RFC 4648's "foobar" example, padded to 15 bytes with zeros.
    let mut b = [0u8; 15];
    b[..6].copy_from_slice(b"foobar");
    assert_eq!(server::sid_from_bytes(b), "Zm9vYmFyAAAAAAAAAAAA");
}

#[test]
fn close_reasons_are_engine_io_strings() {
    // Each variant's documented engine.io reason string.
    for (reason, s) in [
        (CloseReason::TransportClose, "transport close"),
        (CloseReason::ForcedClose, "forced close"),
        (CloseReason::PingTimeout, "ping timeout"),
        (CloseReason::ParseError, "parse error"),
        (CloseReason::TransportError, "transport error"),
    ] {
        assert_eq!(reason.as_str(), s);
    }
}

#[test]
fn session_sid_is_the_one_sent_in_the_handshake() {
    // > `sid` session id (`String`)
    let s = open_polling();
    let session = s.session("sid1").expect("the session of the handshake");
    assert_eq!(session.sid(), "sid1");
}

#[test]
fn a_session_reports_its_upgrade_while_it_is_probed() {
    let mut s = open_polling();
    assert!(!s.session("sid1").unwrap().is_upgrading());
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket&sid=sid1"));
    assert!(s.session("sid1").unwrap().is_upgrading());
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("2probe".into()));
    assert!(s.session("sid1").unwrap().is_upgrading());
    s.handle_ws_message(ms(2), "sid1", WsMessage::Text("5".into()));
    assert!(!s.session("sid1").unwrap().is_upgrading());
}

/// The session's own guards, for code that drives a [`server::Session`] directly (through
/// `Server::session_mut`): each refuses what the server's router refuses first.
#[test]
fn session_methods_refuse_the_wrong_transport_on_their_own() {
    use pushwire_engineio::http::RequestInfo;
    // A websocket session: polling GETs and POSTs are bad requests, and it cannot be
    // upgraded again.
    let mut s = server();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket"));
    let session = s.session_mut("sid1").unwrap();
    assert!(!session.is_closed());
    assert_eq!(
        session
            .handle_get(ms(1), RequestInfo::default())
            .map(|r| r.status),
        Some(400)
    );
    assert_eq!(
        session
            .handle_post(ms(1), RequestInfo::default(), false, b"1:2")
            .status,
        400
    );
    assert!(!session.handle_ws_open(ms(1), true));
    assert!(!session.is_closed());

    // A polling session on a server that does not upgrade, or has no websocket.
    for config in [
        server::Config::default().with_allow_upgrades(false),
        server::Config::default().with_websocket(false),
    ] {
        let mut s = Server::new(config, || String::from("p"));
        s.handle_request(ms(0), &get("EIO=3&transport=polling"));
        let session = s.session_mut("p").unwrap();
        assert!(!session.handle_ws_open(ms(1), true));
        assert!(!session.is_upgrading());
    }
    // The same polling session with upgrades on accepts one probe, not two.
    let mut s = open_polling();
    let session = s.session_mut("sid1").unwrap();
    assert!(session.handle_ws_open(ms(1), true));
    assert!(!session.handle_ws_open(ms(1), true));
}

#[test]
fn a_large_websocket_message_is_fine_in_revision_3() {
    // The v4 `maxPayload` check on websocket messages is a revision 4 rule: a v3 session
    // takes a message over `max_payload_bytes` (engine.io 3 has no such limit there).
    let mut config = server::Config::default();
    config.limits.max_payload_bytes = 16;
    let mut s: Srv = Server::new(config, Box::new(|| String::from("w")));
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket"));
    let _ = ws_out(&mut s, "w");
    let _ = events(&mut s);
    let text = "4".to_string() + &"x".repeat(64);
    s.handle_ws_message(ms(1), "w", WsMessage::Text(text));
    assert_eq!(
        events(&mut s),
        [Event::Message(PacketData::Text("x".repeat(64)))]
    );
    assert!(!s.session("w").unwrap().is_closed());
}

#[test]
fn a_query_key_given_twice_is_refused_as_engine_io_refuses_it() {
    // node's querystring makes a repeated key an array, which engine.io's checks refuse.
    let unknown_transport = r#"{"code":0,"message":"Transport unknown"}"#;
    let unknown_sid = r#"{"code":1,"message":"Session ID unknown"}"#;
    let bad_request = r#"{"code":3,"message":"Bad request"}"#;
    let mut s = open_polling();
    // `transports.indexOf(["polling", "websocket"])` is -1.
    let r = respond(s.handle_request(ms(1), &get("EIO=3&transport=polling&transport=polling")));
    assert_eq!((r.status, body(&r)), (400, unknown_transport));
    let r = respond(s.handle_request(
        ms(1),
        &ws("EIO=3&transport=websocket&transport=polling&sid=sid1"),
    ));
    assert_eq!((r.status, body(&r)), (400, unknown_transport));
    // `clients.hasOwnProperty(["sid1", "sid1"])` looks up "sid1,sid1".
    let r = respond(s.handle_request(ms(1), &get("EIO=3&transport=polling&sid=sid1&sid=sid1")));
    assert_eq!((r.status, body(&r)), (400, unknown_sid));
    let r = respond(s.handle_request(ms(1), &get("EIO=3&transport=polling&sid=x&sid=sid1")));
    assert_eq!((r.status, body(&r)), (400, unknown_sid));
    // A repeated JSONP index or protocol revision is no valid value.
    let r = respond(s.handle_request(ms(1), &get("EIO=3&transport=polling&j=1&j=2")));
    assert_eq!((r.status, body(&r)), (400, bad_request));
    let r = respond(s.handle_request(ms(1), &get("EIO=3&EIO=3&transport=polling")));
    assert_eq!((r.status, body(&r)), (400, bad_request));
    // The session itself is untouched.
    s.send("sid1", PacketData::Text("still".into())).unwrap();
    assert_eq!(body(&respond(s.handle_request(ms(2), &get(Q)))), "6:4still");
}

#[test]
fn a_sid_with_broken_percent_encoding_is_an_unknown_sid_not_a_handshake() {
    let mut s = server();
    let r = respond(s.handle_request(ms(0), &get("EIO=3&transport=polling&sid=%ZZ")));
    assert_eq!(
        (r.status, body(&r)),
        (400, r#"{"code":1,"message":"Session ID unknown"}"#)
    );
    assert!(s.session("sid1").is_none());
}

#[test]
fn only_a_ping_probe_is_a_probe() {
    // > The probe sent by the client is a `ping` packet with `probe` sent as data.
    // A plain ping on the probe socket aborts the upgrade, as a wrong probe does.
    let mut s = open_polling();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket&sid=sid1"));
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("2".into()));
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
    assert!(!s.session("sid1").unwrap().is_upgrading());
    // And a `probe` that is no ping (a message saying "probe") too.
    let mut s = open_polling();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket&sid=sid1"));
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("4probe".into()));
    assert_eq!(ws_out(&mut s, "sid1"), [WsAction::Close]);
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_v3_upgrade_restarts_the_heartbeat_deadline() {
    // v3: the client pings; the upgrade counts as the client being alive, so the deadline
    // is pingInterval + pingTimeout (25 s + 5 s) after the `5`.
    let mut s = open_polling();
    s.handle_request(ms(0), &ws("EIO=3&transport=websocket&sid=sid1"));
    s.handle_ws_message(ms(1), "sid1", WsMessage::Text("2probe".into()));
    let _ = ws_out(&mut s, "sid1");
    s.handle_ws_message(ms(7_000), "sid1", WsMessage::Text("5".into()));
    assert_eq!(events(&mut s), [Event::Upgraded]);
    assert_eq!(s.poll_timeout(), Some(ms(37_000)));
}
