//! Drives a `server::Server` with arbitrary sequences of requests, websocket messages, sends, closes
//! and clock advances, with protocol revision 4 served beside 3 or not (`allow_eio4`) and
//! each request naming `EIO=3`, `4`, another value or none. Oracle: no panic; every HTTP
//! response is well-formed (200 with a payload that decodes cleanly by the session's
//! revision — text, XHR2 or JSONP by its headers for 3, the `\x1e` payload for 4 — or `ok`
//! for a POST, 400 with engine.io's JSON error — or empty, for a binary POST to a v4 session,
//! as engine.io 6.6 answers it — 500 empty); every websocket message is a
//! valid packet of the session's revision; no event after a session's `Closed`; the session
//! count stays bounded by the handshakes; deadlines never lie in the past after
//! `handle_timeout`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, Event, Outcome, Server, WsAction};
use pushwire_engineio::{
    decode_binary_payload, decode_jsonp_response, decode_text_payload, v4, Instant, Limits, Packet,
    PacketData, ProtocolVersion, WsMessage,
};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

#[derive(Debug, Arbitrary)]
enum Op {
    Request {
        eio: u8,
        method: u8,
        transport: u8,
        sid: u8,
        b64: bool,
        j: Option<u8>,
        upgrade: bool,
        binary_body: bool,
        body: Vec<u8>,
    },
    WsText(u8, String),
    WsBinary(u8, Vec<u8>),
    WsClosed(u8),
    GetAborted(u8),
    Send(u8, Option<String>, Vec<u8>),
    Close(u8),
    Advance(u16),
}

fn check_response(r: &HttpResponse, post: bool, binary_body: bool, protocol: ProtocolVersion) {
    match r.status {
        // engine.io 6.6 answers a binary POST of a v4 session with an empty 400 (`if
        // (isBinary && this.protocol === 4) { ... res.writeHead(400).end() }`).
        400 if post && binary_body && protocol == ProtocolVersion::V4 && r.body.is_empty() => {}
        200 if post => assert_eq!(r.body, b"ok"),
        200 if r.body.is_empty() => {} // OPTIONS
        200 if protocol == ProtocolVersion::V4 => {
            assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
            let results: Vec<_> = v4::decode_payload(r.body.clone(), Limits::UNLIMITED).collect();
            assert!(!results.is_empty());
            assert!(results.iter().all(Result::is_ok), "{results:?}");
        }
        200 => {
            let ct = r.header("content-type").unwrap();
            let results: Vec<_> = if ct == "application/octet-stream" {
                decode_binary_payload(r.body.clone(), Limits::UNLIMITED).collect()
            } else {
                let s = String::from_utf8(r.body.clone()).unwrap();
                let text = if s.starts_with("___eio[") {
                    decode_jsonp_response(&s).unwrap().1
                } else {
                    s
                };
                decode_text_payload(text, Limits::UNLIMITED).collect()
            };
            assert!(!results.is_empty());
            assert!(results.iter().all(Result::is_ok), "{results:?}");
        }
        400 => {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert!(matches!(v["code"].as_u64().unwrap(), 0..=3 | 5));
            assert!(v["message"].is_string());
        }
        500 => assert!(r.body.is_empty()),
        s => panic!("unexpected status {s}"),
    }
}

fuzz_target!(|input: (bool, Vec<Op>)| {
    let (allow_eio4, ops) = input;
    let config = server::Config::DEFAULT
        .with_max_buffered_packets(8)
        .with_allow_eio4(allow_eio4);
    let mut n = 0u32;
    let mut server = Server::new(config, move || {
        n += 1;
        format!("s{n}")
    });
    let sid_name = |x: u8| format!("s{}", x % 4);
    let mut now = Instant::ZERO;
    let mut handshakes = 0usize;
    let mut closed: BTreeSet<String> = BTreeSet::new();
    let mut held: BTreeMap<String, ()> = BTreeMap::new();

    for op in ops {
        match op {
            Op::Request {
                eio,
                method,
                transport,
                sid,
                b64,
                j,
                upgrade,
                binary_body,
                body,
            } => {
                let mut q = String::from(match eio % 4 {
                    0 => "EIO=3",
                    1 => "EIO=4",
                    2 => "EIO=5",
                    _ => "x=1",
                });
                // The revision a 200 answer speaks: the session's, which the server only
                // creates or serves for the request's own.
                let protocol = if allow_eio4 && eio % 4 == 1 {
                    ProtocolVersion::V4
                } else {
                    ProtocolVersion::V3
                };
                q.push_str(match transport % 3 {
                    0 => "&transport=polling",
                    1 => "&transport=websocket",
                    _ => "&transport=x",
                });
                if sid % 5 != 0 {
                    q.push_str("&sid=");
                    q.push_str(&sid_name(sid));
                }
                if b64 {
                    q.push_str("&b64=1");
                }
                if let Some(j) = j {
                    q.push_str(&format!("&j={j}"));
                }
                let method = match method % 4 {
                    0 => Method::Get,
                    1 => Method::Post,
                    2 => Method::Options,
                    _ => Method::Other,
                };
                let req = HttpRequest {
                    method,
                    query: &q,
                    origin: None,
                    content_type: binary_body.then_some("application/octet-stream"),
                    websocket_upgrade: upgrade,
                    body: &body,
                };
                let before = server.sids().count();
                match server.handle_request(now, &req) {
                    Outcome::Respond(r) => {
                        check_response(&r, method == Method::Post, binary_body, protocol)
                    }
                    Outcome::Hold { sid } => {
                        held.insert(sid, ());
                    }
                    Outcome::AcceptWebSocket { .. } => {}
                }
                if server.sids().count() > before {
                    handshakes += 1;
                }
            }
            Op::WsText(s, t) => server.handle_ws_message(now, &sid_name(s), WsMessage::Text(t)),
            Op::WsBinary(s, b) => {
                server.handle_ws_message(now, &sid_name(s), WsMessage::Binary(b.into()))
            }
            Op::WsClosed(s) => server.handle_ws_closed(now, &sid_name(s)),
            Op::GetAborted(s) => server.handle_get_aborted(now, &sid_name(s)),
            Op::Send(s, text, bin) => {
                let data = match text {
                    Some(t) => PacketData::Text(t),
                    None => PacketData::Binary(bin.into()),
                };
                let _ = server.send(&sid_name(s), data);
            }
            Op::Close(s) => server.close(now, &sid_name(s)),
            Op::Advance(ms) => {
                now = now + Duration::from_millis(u64::from(ms) * 16);
                server.handle_timeout(now);
            }
        }
        // Drain every output.
        let sids: Vec<String> = server.sids().map(String::from).collect();
        assert!(sids.len() <= handshakes);
        for sid in &sids {
            let protocol = server.session(sid).unwrap().protocol();
            if let Some(r) = server.poll_http_response(sid) {
                assert!(held.remove(sid).is_some(), "response without a held GET");
                check_response(&r, false, false, protocol);
            }
            while let Some(a) = server.poll_ws_action(sid) {
                if let WsAction::Send(m) = a {
                    match protocol {
                        ProtocolVersion::V3 => Packet::from_ws_message(m),
                        ProtocolVersion::V4 => v4::packet_from_ws_message(m),
                    }
                    .expect("valid packet message");
                }
            }
        }
        while let Some((sid, e)) = server.poll_event() {
            assert!(!closed.contains(&sid), "event after Closed");
            if let Event::Closed(_) = e {
                closed.insert(sid);
            }
        }
        check_deadlines(&server, now);
    }
    server.handle_timeout(now);
    check_deadlines(&server, now);
    if let Some(t) = server.poll_timeout() {
        assert!(t > now, "deadline in the past after handle_timeout");
    }
});

/// The server's deadline index agrees with a scan of every session: the earliest deadline,
/// and the sessions due at `now` (each once).
fn check_deadlines<S: server::SidSource>(server: &Server<S>, now: Instant) {
    let deadline = |sid: &str| server.session(sid).and_then(|s| s.poll_timeout());
    let first = server.sids().filter_map(deadline).min();
    assert_eq!(server.poll_timeout(), first, "poll_timeout against a scan");
    let mut want: Vec<&str> = server
        .sids()
        .filter(|sid| deadline(sid).is_some_and(|t| t <= now))
        .collect();
    let mut got: Vec<&str> = server.due_sessions(now).collect();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want, "due_sessions against a scan");
}
