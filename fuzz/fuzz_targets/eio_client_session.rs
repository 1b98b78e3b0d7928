//! Drives a `client::Session` of protocol revision 3 or 4 with arbitrary HTTP responses,
//! websocket events, messages, sends, closes and clock steps. Oracle: no panic; never more
//! than one GET and one POST in flight; every request well-formed (`EIO=3` or `4`, a POST
//! body that decodes cleanly as the payload its content type and revision say; in revision 4,
//! a POST of several packets within the handshake's `maxPayload`); every websocket message a
//! valid packet of the revision; no event after `Closed`; no deadline in the past after
//! `handle_timeout`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::client::{self, RequestKind};
use pushwire_engineio::http::Method;
use pushwire_engineio::{
    decode_binary_payload, decode_text_payload, v4, Instant, Limits, Packet, PacketData,
    ProtocolVersion, WsMessage,
};
use std::time::Duration;

#[derive(Debug, Arbitrary)]
enum Op {
    /// Answer the oldest outstanding request.
    Respond {
        status_ok: bool,
        binary: bool,
        body: Vec<u8>,
    },
    /// Answer the oldest outstanding request with a canned good payload.
    RespondOpen,
    WsConnected,
    WsClosed,
    WsText(String),
    WsBinary(Vec<u8>),
    Send(Option<String>, Vec<u8>),
    Close,
    Advance(u16),
}

const OPEN: &str =
    r#"77:0{"sid":"abc","upgrades":["websocket"],"pingInterval":1000,"pingTimeout":500}"#;
/// Revision 4's handshake, with a small `maxPayload` so that POSTs are split.
const OPEN_V4: &str = r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":1000,"pingTimeout":500,"maxPayload":40}"#;

fuzz_target!(|input: (bool, bool, bool, Vec<Op>)| {
    let (b64, ws_only, v4_protocol, ops) = input;
    let protocol = if v4_protocol {
        ProtocolVersion::V4
    } else {
        ProtocolVersion::V3
    };
    let (open, eio) = match protocol {
        ProtocolVersion::V3 => (OPEN, "EIO=3"),
        ProtocolVersion::V4 => (OPEN_V4, "EIO=4"),
    };
    let config = client::Config::DEFAULT
        .with_supports_binary(!b64)
        .with_websocket_only(ws_only)
        .with_max_buffered_packets(16)
        .with_protocol(protocol);
    let mut now = Instant::ZERO;
    let mut c = client::Session::new(config, now);
    let mut outstanding: Vec<RequestKind> = Vec::new();
    let mut closed = false;

    for op in ops {
        match op {
            Op::Respond {
                status_ok,
                binary,
                body,
            } => {
                if !outstanding.is_empty() {
                    let k = outstanding.remove(0);
                    c.handle_response(now, k, if status_ok { 200 } else { 400 }, binary, &body);
                }
            }
            Op::RespondOpen => {
                if !outstanding.is_empty() {
                    let k = outstanding.remove(0);
                    c.handle_response(now, k, 200, false, open.as_bytes());
                }
            }
            Op::WsConnected => c.handle_ws_connected(now),
            Op::WsClosed => c.handle_ws_closed(now),
            Op::WsText(t) => c.handle_ws_message(now, WsMessage::Text(t)),
            Op::WsBinary(b) => c.handle_ws_message(now, WsMessage::Binary(b.into())),
            Op::Send(t, b) => {
                let _ = c.send(match t {
                    // A v4 polling payload cannot carry U+001E ("this assumes the record
                    // separator is not used in the data"); the application must not send it.
                    Some(t) if protocol == ProtocolVersion::V4 => {
                        PacketData::Text(t.replace('\u{1e}', ""))
                    }
                    Some(t) => PacketData::Text(t),
                    None => PacketData::Binary(b.into()),
                });
            }
            Op::Close => c.close(),
            Op::Advance(ms) => {
                now = now + Duration::from_millis(u64::from(ms));
                c.handle_timeout(now);
                if let Some(t) = c.poll_timeout() {
                    assert!(t > now, "deadline in the past after handle_timeout");
                }
            }
        }
        while let Some(req) = c.poll_request() {
            assert!(
                req.query
                    .starts_with(&format!("{eio}&transport=polling&t=")),
                "{}",
                req.query
            );
            match req.method {
                Method::Get => assert!(req.body.is_empty() && req.kind != RequestKind::Post),
                Method::Post => {
                    assert_eq!(req.kind, RequestKind::Post);
                    let results: Vec<_> = if protocol == ProtocolVersion::V4 {
                        assert_eq!(req.content_type, Some("text/plain;charset=UTF-8"));
                        let r: Vec<_> =
                            v4::decode_payload(req.body.clone(), Limits::UNLIMITED).collect();
                        if let (Some(max), true) = (c.max_payload(), r.len() > 1) {
                            assert!(req.body.len() as u64 <= max, "POST over maxPayload");
                        }
                        r
                    } else if req.content_type == Some("application/octet-stream") {
                        decode_binary_payload(req.body.clone(), Limits::UNLIMITED).collect()
                    } else {
                        decode_text_payload(req.body.clone(), Limits::UNLIMITED).collect()
                    };
                    assert!(!results.is_empty() && results.iter().all(Result::is_ok));
                }
                m => panic!("unexpected method {m:?}"),
            }
            outstanding.push(req.kind);
        }
        let gets = outstanding
            .iter()
            .filter(|k| **k != RequestKind::Post)
            .count();
        let posts = outstanding
            .iter()
            .filter(|k| **k == RequestKind::Post)
            .count();
        // After a close, one last POST may follow the one in flight.
        assert!(gets <= 1, "{outstanding:?}");
        assert!(
            posts <= if c.is_closed() { 2 } else { 1 },
            "{outstanding:?}"
        );
        while let Some(a) = c.poll_ws_action() {
            match a {
                client::WsAction::Connect { query } => {
                    assert!(query.starts_with(&format!("{eio}&transport=websocket&t=")))
                }
                client::WsAction::Send(m) => {
                    match protocol {
                        ProtocolVersion::V3 => Packet::from_ws_message(m),
                        ProtocolVersion::V4 => v4::packet_from_ws_message(m),
                    }
                    .expect("valid packet message");
                }
                client::WsAction::Close => {}
            }
        }
        while let Some(e) = c.poll_event() {
            assert!(!closed, "event after Closed: {e:?}");
            if let client::Event::Closed(_) = e {
                closed = true;
            }
        }
    }
});
