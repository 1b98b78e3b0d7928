//! A `client::Session` and a `Server` joined in memory (quinn's `Pair` idea): requests,
//! long-polls, websocket frames and time all pass through the driver, deterministically.

use std::time::Duration;

use bytes::Bytes;
use pushwire_engineio::client;
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, CloseReason, Event, Outcome, Server, WsAction};
use pushwire_engineio::{Instant, PacketData, TransportKind, WsMessage};

fn secs(n: u64) -> Instant {
    Instant::from_duration(Duration::from_secs(n))
}

type Srv = Server<Box<dyn FnMut() -> String>>;

struct Pair {
    client: client::Session,
    server: Srv,
    now: Instant,
    held: Vec<(String, client::RequestKind)>,
    ws_sid: Option<String>,
    client_events: Vec<client::Event>,
    server_events: Vec<Event>,
    /// Messages each side sends the moment the server's `3probe` is on its way.
    on_probe: Vec<(bool, String)>,
    /// The server stops answering anything.
    blackhole: bool,
}

fn binary(r: &HttpResponse) -> bool {
    r.header("content-type") == Some("application/octet-stream")
}

impl Pair {
    fn new(client: client::Config, server: server::Config) -> Self {
        let mut n = 0;
        let mut p = Self {
            client: client::Session::new(client, Instant::ZERO),
            server: Server::new(
                server,
                Box::new(move || {
                    n += 1;
                    format!("sid{n}")
                }),
            ),
            now: Instant::ZERO,
            held: Vec::new(),
            ws_sid: None,
            client_events: Vec::new(),
            server_events: Vec::new(),
            on_probe: Vec::new(),
            blackhole: false,
        };
        p.client.handle_timeout(Instant::ZERO);
        p
    }

    fn drive(&mut self) {
        let now = self.now;
        for _ in 0..10_000 {
            let mut progress = false;
            if !self.blackhole {
                while let Some(req) = self.client.poll_request() {
                    progress = true;
                    let http = HttpRequest {
                        method: req.method,
                        query: &req.query,
                        origin: None,
                        content_type: req.content_type,
                        websocket_upgrade: false,
                        body: &req.body,
                    };
                    match self.server.handle_request(now, &http) {
                        Outcome::Respond(r) => self.client.handle_response(
                            now,
                            req.kind,
                            r.status,
                            binary(&r),
                            &r.body,
                        ),
                        Outcome::Hold { sid } => self.held.push((sid, req.kind)),
                        Outcome::AcceptWebSocket { .. } => panic!("websocket over plain HTTP"),
                    }
                }
                let held = std::mem::take(&mut self.held);
                for (sid, kind) in held {
                    if let Some(r) = self.server.poll_http_response(&sid) {
                        progress = true;
                        self.client
                            .handle_response(now, kind, r.status, binary(&r), &r.body);
                    } else {
                        self.held.push((sid, kind));
                    }
                }
                while let Some(a) = self.client.poll_ws_action() {
                    progress = true;
                    match a {
                        client::WsAction::Connect { query } => {
                            let http = HttpRequest {
                                method: Method::Get,
                                query: &query,
                                origin: None,
                                content_type: None,
                                websocket_upgrade: true,
                                body: b"",
                            };
                            match self.server.handle_request(now, &http) {
                                Outcome::AcceptWebSocket { sid } => {
                                    self.ws_sid = Some(sid);
                                    self.client.handle_ws_connected(now);
                                }
                                _ => self.client.handle_ws_closed(now),
                            }
                        }
                        client::WsAction::Send(f) => {
                            let sid = self.ws_sid.clone().expect("frame without websocket");
                            self.server.handle_ws_message(now, &sid, f);
                        }
                        client::WsAction::Close => {
                            if let Some(sid) = self.ws_sid.take() {
                                self.server.handle_ws_closed(now, &sid);
                            }
                        }
                    }
                }
                if let Some(sid) = self.ws_sid.clone() {
                    while let Some(o) = self.server.poll_ws_action(&sid) {
                        progress = true;
                        match o {
                            WsAction::Send(f) => {
                                if f == WsMessage::Text("3probe".into()) {
                                    for (from_client, m) in std::mem::take(&mut self.on_probe) {
                                        let d = PacketData::Text(m);
                                        if from_client {
                                            self.client.send(d).unwrap();
                                        } else {
                                            self.server.send(&sid, d).unwrap();
                                        }
                                    }
                                }
                                self.client.handle_ws_message(now, f);
                            }
                            WsAction::Close => {
                                self.ws_sid = None;
                                self.client.handle_ws_closed(now);
                                break;
                            }
                        }
                    }
                }
                while let Some((_, e)) = self.server.poll_event() {
                    progress = true;
                    self.server_events.push(e);
                }
            }
            while let Some(e) = self.client.poll_event() {
                progress = true;
                self.client_events.push(e);
            }
            if !progress {
                return;
            }
        }
        panic!("the pair does not settle");
    }

    /// Runs every timeout of both sides up to `until`.
    fn run_until(&mut self, until: Instant) {
        loop {
            let c = self.client.poll_timeout();
            let s = if self.blackhole {
                None
            } else {
                self.server.poll_timeout()
            };
            let next = match (c, s) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            self.client.handle_timeout(self.now);
            if !self.blackhole {
                self.server.handle_timeout(self.now);
            }
            self.drive();
        }
        self.now = until;
        self.drive();
    }

    fn client_messages(&self) -> Vec<&PacketData> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                client::Event::Message(d) => Some(d),
                _ => None,
            })
            .collect()
    }

    fn server_messages(&self) -> Vec<&PacketData> {
        self.server_events
            .iter()
            .filter_map(|e| match e {
                Event::Message(d) => Some(d),
                _ => None,
            })
            .collect()
    }
}

fn text(s: &str) -> PacketData {
    PacketData::Text(s.into())
}

#[test]
fn polling_then_upgrade_delivers_everything_once_in_order() {
    let mut p = Pair::new(client::Config::default(), server::Config::default());
    // The client buffers before the handshake completes.
    p.client.send(text("c1")).unwrap();
    p.on_probe = vec![
        (true, "c2 during probe".into()),
        (false, "s2 during probe".into()),
    ];
    p.drive();
    assert!(matches!(p.client_events[0], client::Event::Open(_)));
    assert_eq!(p.client.transport(), TransportKind::WebSocket);
    assert!(p.client_events.contains(&client::Event::Upgraded));
    assert!(p.server_events.contains(&Event::Upgraded));
    p.server.send("sid1", text("s3 😀")).unwrap();
    p.server
        .send("sid1", PacketData::Binary(Bytes::from_static(&[0, 255])))
        .unwrap();
    p.client.send(text("c3 €")).unwrap();
    p.client.send(text("")).unwrap();
    p.drive();
    assert_eq!(
        p.server_messages(),
        [
            &text("c1"),
            &text("c2 during probe"),
            &text("c3 €"),
            &text("")
        ]
    );
    assert_eq!(
        p.client_messages(),
        [
            &text("s2 during probe"),
            &text("s3 😀"),
            &PacketData::Binary(Bytes::from_static(&[0, 255]))
        ]
    );
}

#[test]
fn messages_sent_before_the_upgrade_arrive_over_polling() {
    let mut config = client::Config::default();
    config.upgrade = false;
    let mut p = Pair::new(config, server::Config::default());
    p.drive();
    for i in 0..50 {
        p.client.send(text(&format!("c{i}"))).unwrap();
        p.server.send("sid1", text(&format!("s{i}"))).unwrap();
        if i % 7 == 0 {
            p.drive();
        }
    }
    p.drive();
    let want_c: Vec<PacketData> = (0..50).map(|i| text(&format!("c{i}"))).collect();
    let want_s: Vec<PacketData> = (0..50).map(|i| text(&format!("s{i}"))).collect();
    assert_eq!(p.server_messages(), want_c.iter().collect::<Vec<_>>());
    assert_eq!(p.client_messages(), want_s.iter().collect::<Vec<_>>());
    assert_eq!(p.client.transport(), TransportKind::Polling);
}

#[test]
fn heartbeats_keep_both_sides_alive() {
    for upgrade in [false, true] {
        let mut config = client::Config::default();
        config.upgrade = upgrade;
        let mut p = Pair::new(config, server::Config::default());
        p.drive();
        p.run_until(secs(300));
        assert!(
            !p.client.is_closed(),
            "upgrade={upgrade}: {:?}",
            p.client_events
        );
        assert!(
            !p.server_events
                .iter()
                .any(|e| matches!(e, Event::Closed(_))),
            "upgrade={upgrade}: {:?}",
            p.server_events
        );
    }
}

#[test]
fn client_detects_an_unresponsive_server() {
    let mut config = client::Config::default();
    config.upgrade = false;
    let mut p = Pair::new(config, server::Config::default());
    p.drive();
    p.blackhole = true;
    // Ping at 25 s, no pong within pingTimeout (5 s).
    p.run_until(secs(29));
    assert!(!p.client.is_closed());
    p.run_until(secs(31));
    assert_eq!(
        p.client_events.last(),
        Some(&client::Event::Closed(client::CloseReason::PingTimeout))
    );
}

#[test]
fn client_close_reaches_the_server() {
    for upgrade in [false, true] {
        let mut config = client::Config::default();
        config.upgrade = upgrade;
        let mut p = Pair::new(config, server::Config::default());
        p.drive();
        p.client.send(text("last")).unwrap();
        p.client.close();
        p.drive();
        assert_eq!(
            p.client_events.last(),
            Some(&client::Event::Closed(client::CloseReason::ForcedClose))
        );
        assert_eq!(p.server_messages(), [&text("last")], "upgrade={upgrade}");
        assert_eq!(
            p.server_events.last(),
            Some(&Event::Closed(CloseReason::TransportClose)),
            "upgrade={upgrade}"
        );
    }
}

#[test]
fn server_close_reaches_the_client() {
    for upgrade in [false, true] {
        let mut config = client::Config::default();
        config.upgrade = upgrade;
        let mut p = Pair::new(config, server::Config::default());
        p.drive();
        p.server.send("sid1", text("bye")).unwrap();
        p.server.close(p.now, "sid1");
        p.drive();
        assert_eq!(p.client_messages(), [&text("bye")], "upgrade={upgrade}");
        assert_eq!(
            p.client_events.last(),
            Some(&client::Event::Closed(client::CloseReason::TransportClose)),
            "upgrade={upgrade}"
        );
        assert_eq!(
            p.server_events.last(),
            Some(&Event::Closed(CloseReason::ForcedClose))
        );
    }
}

#[test]
fn websocket_only_and_b64_sessions() {
    let mut config = client::Config::default();
    config.websocket_only = true;
    let mut p = Pair::new(config, server::Config::default());
    p.drive();
    assert!(matches!(p.client_events[0], client::Event::Open(ref o) if o.upgrades.is_empty()));
    p.client
        .send(PacketData::Binary(Bytes::from_static(&[1, 2])))
        .unwrap();
    p.drive();
    assert_eq!(
        p.server_messages(),
        [&PacketData::Binary(Bytes::from_static(&[1, 2]))]
    );

    for upgrade in [false, true] {
        let mut config = client::Config::default();
        config.supports_binary = false;
        config.upgrade = upgrade;
        let mut p = Pair::new(config, server::Config::default());
        p.drive();
        p.client
            .send(PacketData::Binary(Bytes::from_static(&[3])))
            .unwrap();
        p.server
            .send("sid1", PacketData::Binary(Bytes::from_static(&[4])))
            .unwrap();
        p.drive();
        assert_eq!(
            p.server_messages(),
            [&PacketData::Binary(Bytes::from_static(&[3]))]
        );
        assert_eq!(
            p.client_messages(),
            [&PacketData::Binary(Bytes::from_static(&[4]))]
        );
    }
}

#[test]
fn refused_upgrade_keeps_polling() {
    let mut server = server::Config::default();
    server.websocket = false;
    let mut p = Pair::new(client::Config::default(), server);
    p.drive();
    // No websocket offered: no probe at all.
    assert!(matches!(p.client_events[0], client::Event::Open(ref o) if o.upgrades.is_empty()));
    p.client.send(text("x")).unwrap();
    p.drive();
    assert_eq!(p.server_messages(), [&text("x")]);
    assert_eq!(p.client.transport(), TransportKind::Polling);
}

#[test]
fn client_survives_a_huge_heartbeat_in_the_handshake() {
    // `pingInterval + pingTimeout` does not fit in a u64 of milliseconds: the deadline is
    // computed on `Instant`s, which cannot overflow.
    let mut c = client::Session::new(client::Config::DEFAULT, Instant::ZERO);
    let req = c.poll_request().expect("the handshake GET");
    let open = format!(
        r#"0{{"sid":"a","upgrades":[],"pingInterval":{m},"pingTimeout":{m}}}"#,
        m = u64::MAX
    );
    let body = format!("{}:{open}", open.len());
    c.handle_response(Instant::ZERO, req.kind, 200, false, body.as_bytes());
    assert!(matches!(c.poll_event(), Some(client::Event::Open(_))));
    let next_ping = Instant::ZERO + Duration::from_millis(u64::MAX);
    assert_eq!(c.poll_timeout(), Some(next_ping));
    c.handle_timeout(Instant::from_duration(Duration::from_secs(3600)));
    assert!(!c.is_closed());
}

// ---- protocol revision 4 ----------------------------------------------------------------

fn v4_client() -> client::Config {
    client::Config::DEFAULT.with_protocol(pushwire_engineio::ProtocolVersion::V4)
}

fn v4_server() -> server::Config {
    server::Config::DEFAULT.with_allow_eio4(true)
}

#[test]
fn v3_and_v4_clients_on_one_server_deliver_everything_in_order() {
    for client in [client::Config::DEFAULT, v4_client()] {
        let mut p = Pair::new(client, v4_server());
        p.client.send(text("c1")).unwrap();
        p.on_probe = vec![
            (true, "c2 during probe".into()),
            (false, "s2 during probe".into()),
        ];
        p.drive();
        let protocol = p.server.session("sid1").unwrap().protocol();
        assert_eq!(protocol, client.protocol);
        assert_eq!(p.client.transport(), TransportKind::WebSocket, "{protocol}");
        assert!(p.server_events.contains(&Event::Upgraded));
        p.server.send("sid1", text("s3 😀")).unwrap();
        p.server
            .send("sid1", PacketData::Binary(Bytes::from_static(&[4, 255])))
            .unwrap();
        p.client
            .send(PacketData::Binary(Bytes::from_static(&[4])))
            .unwrap();
        p.drive();
        assert_eq!(
            p.server_messages(),
            [
                &text("c1"),
                &text("c2 during probe"),
                &PacketData::Binary(Bytes::from_static(&[4]))
            ],
            "{protocol}"
        );
        assert_eq!(
            p.client_messages(),
            [
                &text("s2 during probe"),
                &text("s3 😀"),
                &PacketData::Binary(Bytes::from_static(&[4, 255]))
            ],
            "{protocol}"
        );
    }
}

#[test]
fn v4_server_pings_keep_both_sides_alive_on_every_transport() {
    for (upgrade, websocket_only) in [(false, false), (true, false), (false, true)] {
        let config = v4_client()
            .with_upgrade(upgrade)
            .with_websocket_only(websocket_only);
        let mut p = Pair::new(config, v4_server());
        p.drive();
        assert_eq!(p.client.max_payload(), Some(1_000_000));
        p.run_until(secs(300));
        let closed = |e: &Event| matches!(e, Event::Closed(_));
        assert!(
            !p.client.is_closed(),
            "{upgrade} {websocket_only}: {:?}",
            p.client_events
        );
        assert!(!p.server_events.iter().any(closed), "{:?}", p.server_events);
    }
}

#[test]
fn v4_client_declares_a_silent_server_dead_after_interval_plus_timeout() {
    // > Conversely, if the client does not receive a `ping` packet within `pingInterval +
    // > pingTimeout`, then it SHOULD consider that the connection is closed.
    let mut p = Pair::new(v4_client().with_upgrade(false), v4_server());
    p.drive();
    p.blackhole = true;
    p.run_until(secs(29));
    assert!(!p.client.is_closed());
    p.run_until(secs(31));
    assert_eq!(
        p.client_events.last(),
        Some(&client::Event::Closed(client::CloseReason::PingTimeout))
    );
}

/// A v4 client whose handshake (`maxPayload` = `max`) was answered, its first poll pending.
fn v4_client_open(max: u64) -> client::Session {
    let mut c = client::Session::new(v4_client().with_upgrade(false), Instant::ZERO);
    let req = c.poll_request().expect("the handshake GET");
    assert!(
        req.query.starts_with("EIO=4&transport=polling"),
        "{}",
        req.query
    );
    let open = format!(
        r#"0{{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":5000,"maxPayload":{max}}}"#
    );
    c.handle_response(Instant::ZERO, req.kind, 200, false, open.as_bytes());
    assert!(matches!(c.poll_event(), Some(client::Event::Open(_))));
    let poll = c.poll_request().expect("the first poll");
    assert_eq!(poll.kind, client::RequestKind::Poll);
    c
}

#[test]
fn v4_client_answers_the_servers_ping_with_a_pong() {
    let mut c = v4_client_open(1000);
    // The client does not ping on its own: only a deadline for the server's ping.
    assert_eq!(c.poll_timeout(), Some(secs(30)));
    c.handle_response(secs(25), client::RequestKind::Poll, 200, false, b"2");
    let reqs: Vec<_> = std::iter::from_fn(|| c.poll_request()).collect();
    let post = reqs
        .iter()
        .find(|r| r.kind == client::RequestKind::Post)
        .unwrap();
    assert_eq!(post.body, b"3");
    assert_eq!(post.content_type, Some("text/plain;charset=UTF-8"));
    assert_eq!(c.poll_timeout(), Some(secs(55)));
}

#[test]
fn v4_client_batches_posts_under_max_payload() {
    // > The client SHOULD use the `maxPayload` value sent during the handshake to decide
    // > how many packets should be concatenated.
    let mut c = v4_client_open(20);
    let sent: Vec<String> = (0..5).map(|i| format!("msg{i}xx")).collect();
    for m in &sent {
        c.send(text(m)).unwrap();
    }
    let mut got = Vec::new();
    let mut posts = 0;
    while let Some(req) = c.poll_request() {
        assert_eq!(req.kind, client::RequestKind::Post);
        assert!(req.body.len() <= 20, "{} bytes", req.body.len());
        for p in pushwire_engineio::v4::decode_payload(
            req.body.clone(),
            pushwire_engineio::Limits::DEFAULT,
        ) {
            got.push(p.unwrap().data);
        }
        posts += 1;
        c.handle_response(secs(1), req.kind, 200, false, b"ok");
    }
    // `4msg0xx` is 7 bytes: the first goes alone at once, the other four two per POST
    // (7 + 1 + 7 = 15; a third would make 23).
    assert_eq!(posts, 3);
    assert_eq!(got, sent.iter().map(|m| text(m)).collect::<Vec<_>>());
    // One packet larger than maxPayload still goes, alone.
    c.send(text(&"x".repeat(50))).unwrap();
    let req = c.poll_request().unwrap();
    assert_eq!(req.body.len(), 51);
}

// ---- The client session alone: the server's side is written by hand. ----

/// Everything the client asks for now: requests, websocket actions, events.
fn drain(
    c: &mut client::Session,
) -> (
    Vec<client::Request>,
    Vec<client::WsAction>,
    Vec<client::Event>,
) {
    (
        std::iter::from_fn(|| c.poll_request()).collect(),
        std::iter::from_fn(|| c.poll_ws_action()).collect(),
        std::iter::from_fn(|| c.poll_event()).collect(),
    )
}

/// A revision 3 text payload of one packet: `<length>:<packet>`.
fn v3_body(packet: &str) -> Vec<u8> {
    format!("{}:{packet}", packet.encode_utf16().count()).into_bytes()
}

const V3_OPEN_A: &str =
    r#"0{"sid":"a","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;

/// A v3 polling client whose handshake (`V3_OPEN_A`) was answered at time 0; everything
/// it queued is drained and returned.
fn v3_client_open(
    config: client::Config,
) -> (client::Session, Vec<client::Request>, Vec<client::WsAction>) {
    let mut c = client::Session::new(config, Instant::ZERO);
    let hs = c.poll_request().expect("the handshake GET");
    assert_eq!(hs.kind, client::RequestKind::Handshake);
    c.handle_response(Instant::ZERO, hs.kind, 200, false, &v3_body(V3_OPEN_A));
    let (reqs, ws, events) = drain(&mut c);
    assert!(
        matches!(events.as_slice(), [client::Event::Open(o)] if o.sid == "a"),
        "{events:?}"
    );
    (c, reqs, ws)
}

/// The value of `key` in a query string.
fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn client_handshake_is_none_until_the_open_packet_then_its_data() {
    // `handshake()`: "The handshake data, once open."
    let mut c = client::Session::new(client::Config::DEFAULT.with_upgrade(false), Instant::ZERO);
    assert!(c.handshake().is_none());
    let hs = c.poll_request().unwrap();
    c.handle_response(Instant::ZERO, hs.kind, 200, false, &v3_body(V3_OPEN_A));
    let open = c.handshake().expect("open after the open packet");
    assert_eq!(open.sid, "a");
    assert_eq!(open.upgrades, ["websocket"]);
    assert_eq!(
        (open.ping_interval_ms, open.ping_timeout_ms),
        (25_000, 5_000)
    );
}

#[test]
fn client_is_closed_after_close_and_after_the_server_closes() {
    let (mut c, _, _) = v3_client_open(client::Config::DEFAULT.with_upgrade(false));
    assert!(!c.is_closed());
    c.close();
    assert!(c.is_closed());
    assert_eq!(c.send(text("late")), Err(client::SendError::Closed));

    // > Polling transports can send a `close` packet to close the socket
    let (mut c, _, _) = v3_client_open(client::Config::DEFAULT.with_upgrade(false));
    c.handle_response(
        secs(1),
        client::RequestKind::Poll,
        200,
        false,
        &v3_body("1"),
    );
    assert!(c.is_closed());
    let (_, _, events) = drain(&mut c);
    assert_eq!(
        events,
        [client::Event::Closed(client::CloseReason::TransportClose)]
    );
}

#[test]
fn client_requests_carry_a_fresh_t_and_b64_only_without_binary_support() {
    // > `t`: a hashed-timestamp used for cache-busting
    // > Note: the `t` query param is used to ensure that the request is not cached by the
    // > browser.
    let mut c = client::Session::new(client::Config::DEFAULT.with_upgrade(false), Instant::ZERO);
    let hs = c.poll_request().unwrap();
    c.handle_response(Instant::ZERO, hs.kind, 200, false, &v3_body(V3_OPEN_A));
    c.send(text("hi")).unwrap();
    let (reqs, _, _) = drain(&mut c);
    let mut ts: Vec<&str> = std::iter::once(&hs)
        .chain(&reqs)
        .map(|r| query_param(&r.query, "t").expect("a t parameter"))
        .collect();
    assert_eq!(ts.len(), 3, "handshake, poll and post");
    ts.sort_unstable();
    ts.dedup();
    assert_eq!(ts.len(), 3, "each request has its own t");

    // > `b64`: if the client doesn't support XHR2, `b64=1` is sent in the query string
    assert_eq!(query_param(&hs.query, "b64"), None, "{}", hs.query);
    let mut c = client::Session::new(
        client::Config::DEFAULT.with_supports_binary(false),
        Instant::ZERO,
    );
    let hs = c.poll_request().unwrap();
    assert_eq!(query_param(&hs.query, "b64"), Some("1"), "{}", hs.query);
}

#[test]
fn websocket_only_client_closes_on_the_servers_close_packet() {
    // > #### 1 close
    // > Request the close of this transport
    let mut c = client::Session::new(
        client::Config::DEFAULT.with_websocket_only(true),
        Instant::ZERO,
    );
    assert!(matches!(
        c.poll_ws_action(),
        Some(client::WsAction::Connect { .. })
    ));
    c.handle_ws_connected(Instant::ZERO);
    c.handle_ws_message(
        Instant::ZERO,
        WsMessage::Text(V3_OPEN_A.replace(r#"["websocket"]"#, "[]")),
    );
    let (_, _, events) = drain(&mut c);
    assert!(matches!(events.as_slice(), [client::Event::Open(_)]));
    c.handle_ws_message(secs(1), WsMessage::Text("1".into()));
    let (reqs, ws, events) = drain(&mut c);
    assert!(reqs.is_empty());
    // The transport is done with: its websocket is closed.
    assert_eq!(ws, [client::WsAction::Close]);
    assert_eq!(
        events,
        [client::Event::Closed(client::CloseReason::TransportClose)]
    );
    assert!(c.is_closed());
}

#[test]
fn client_probe_fails_unless_the_answer_is_pong_probe() {
    // > The probe sent by the client is a `ping` packet with `probe` sent as data.
    // > The probe sent by the server is a `pong` packet with `probe` sent as data.
    for answer in ["3foo", "3", "2probe", "4probe"] {
        let (mut c, _, ws) = v3_client_open(client::Config::DEFAULT);
        assert!(
            matches!(ws.as_slice(), [client::WsAction::Connect { .. }]),
            "{ws:?}"
        );
        c.handle_ws_connected(Instant::ZERO);
        assert_eq!(
            c.poll_ws_action(),
            Some(client::WsAction::Send(WsMessage::Text("2probe".into())))
        );
        c.handle_ws_message(Instant::ZERO, WsMessage::Text(answer.into()));
        let (_, ws, events) = drain(&mut c);
        assert_eq!(ws, [client::WsAction::Close], "answer {answer}");
        assert_eq!(events, [client::Event::UpgradeFailed], "answer {answer}");
        // `UpgradeFailed`: "The websocket probe failed; polling goes on."
        assert_eq!(c.transport(), TransportKind::Polling);
        assert!(!c.is_closed());
        c.send(text("still here")).unwrap();
        let (reqs, ws, _) = drain(&mut c);
        assert!(ws.is_empty());
        assert!(reqs.iter().any(|r| r.kind == client::RequestKind::Post));
    }
}

#[test]
fn client_gives_up_a_probe_not_answered_within_its_upgrade_timeout() {
    // `Config::upgrade_timeout`: "past it the probe is given up (`WsAction::Close`,
    // `Event::UpgradeFailed`) and polling goes on".
    for connected in [false, true] {
        let config = client::Config::DEFAULT.with_upgrade_timeout(Duration::from_secs(3));
        let (mut c, _, ws) = v3_client_open(config);
        assert!(matches!(ws.as_slice(), [client::WsAction::Connect { .. }]));
        // The probe's deadline comes before the first ping (25 s).
        assert_eq!(c.poll_timeout(), Some(secs(3)), "connected {connected}");
        if connected {
            c.handle_ws_connected(secs(1));
            let (_, ws, _) = drain(&mut c);
            assert_eq!(
                ws,
                [client::WsAction::Send(WsMessage::Text("2probe".into()))]
            );
        }
        // Early: nothing happens.
        c.handle_timeout(secs(2));
        let (_, ws, events) = drain(&mut c);
        assert!(ws.is_empty() && events.is_empty(), "{ws:?} {events:?}");
        c.handle_timeout(secs(3));
        let (_, ws, events) = drain(&mut c);
        assert_eq!(ws, [client::WsAction::Close], "connected {connected}");
        assert_eq!(events, [client::Event::UpgradeFailed]);
        assert_eq!(c.transport(), TransportKind::Polling);
        assert!(!c.is_closed());
        assert_eq!(c.poll_timeout(), Some(secs(25)), "back to the heartbeat");
        // A late answer to the given-up probe changes nothing.
        c.handle_ws_message(secs(4), WsMessage::Text("3probe".into()));
        assert_eq!(drain(&mut c), (vec![], vec![], vec![]));
        assert_eq!(c.transport(), TransportKind::Polling);
        if !connected {
            // The websocket opened only after the probe was given up: closed at once.
            c.handle_ws_connected(secs(4));
            let (_, ws, events) = drain(&mut c);
            assert_eq!(ws, [client::WsAction::Close]);
            assert!(events.is_empty());
        }
        c.send(text("still here")).unwrap();
        let (reqs, _, _) = drain(&mut c);
        assert!(reqs.iter().any(|r| r.kind == client::RequestKind::Post));
    }
    // A websocket that opens after the session closed is closed too.
    let (mut c, _, ws) = v3_client_open(client::Config::DEFAULT);
    assert!(matches!(ws.as_slice(), [client::WsAction::Connect { .. }]));
    c.close();
    let _ = drain(&mut c);
    c.handle_ws_connected(secs(1));
    let (_, ws, events) = drain(&mut c);
    assert_eq!(ws, [client::WsAction::Close]);
    assert!(events.is_empty(), "{events:?}");
    // An answered probe is not given up: no deadline after `3probe`.
    let config = client::Config::DEFAULT.with_upgrade_timeout(Duration::from_secs(3));
    let (mut c, _, _) = v3_client_open(config);
    c.handle_ws_connected(secs(1));
    c.handle_ws_message(secs(2), WsMessage::Text("3probe".into()));
    let _ = drain(&mut c);
    c.handle_timeout(secs(3));
    let (_, ws, events) = drain(&mut c);
    assert!(!ws.contains(&client::WsAction::Close), "{ws:?}");
    assert!(
        !events.contains(&client::Event::UpgradeFailed),
        "{events:?}"
    );
}

#[test]
fn client_ignores_a_second_open_packet() {
    // > #### 0 open
    // > Sent from the server when a new transport is opened
    // A session is opened once; a later open packet changes nothing.
    let (mut c, reqs, _) = v3_client_open(client::Config::DEFAULT.with_upgrade(false));
    assert_eq!(reqs.len(), 1);
    let other = r#"0{"sid":"b","upgrades":[],"pingInterval":1000,"pingTimeout":1000}"#;
    c.handle_response(secs(1), reqs[0].kind, 200, false, &v3_body(other));
    let (reqs, ws, events) = drain(&mut c);
    assert!(events.is_empty(), "{events:?}");
    assert!(ws.is_empty());
    assert_eq!(c.handshake().unwrap().sid, "a");
    assert_eq!(reqs.len(), 1);
    assert_eq!(query_param(&reqs[0].query, "sid"), Some("a"));
    // Still the handshake's heartbeat: a ping 25 s after the open, not 1 s after this.
    assert_eq!(c.poll_timeout(), Some(secs(25)));
}

#[test]
fn v3_client_does_not_answer_a_servers_ping() {
    // > #### 2 ping
    // > Sent by the client. Server should answer with a pong packet
    // > #### 3 pong
    // > Sent by the server to respond to ping packets.
    let (mut c, reqs, _) = v3_client_open(client::Config::DEFAULT.with_upgrade(false));
    c.handle_response(secs(1), reqs[0].kind, 200, false, &v3_body("2"));
    let (reqs, ws, events) = drain(&mut c);
    assert!(events.is_empty());
    assert!(ws.is_empty());
    let kinds: Vec<_> = reqs.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [client::RequestKind::Poll], "no pong POSTed");
}

#[test]
fn v4_client_ignores_a_pong_and_keeps_waiting_for_the_servers_ping() {
    // > At a given interval (the `pingInterval` value sent in the handshake) the server
    // > sends a `ping` packet and the client has a few seconds (the `pingTimeout` value)
    // > to send a `pong` packet back.
    // The v4 client never pings, so a pong from the server starts no ping timer of its own.
    let mut c = v4_client_open(1000);
    c.handle_response(secs(1), client::RequestKind::Poll, 200, false, b"3");
    let (reqs, _, events) = drain(&mut c);
    assert!(events.is_empty());
    assert_eq!(
        reqs.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [client::RequestKind::Poll]
    );
    // Only the deadline for the server's ping: interval + timeout from the open.
    assert_eq!(c.poll_timeout(), Some(secs(30)));
    c.handle_timeout(secs(26));
    assert!(c.poll_request().is_none(), "the client sent nothing");
}

#[test]
fn client_handshake_without_an_open_packet_delivers_no_message() {
    // A handshake response must start with the open packet: one that does not is a bad
    // handshake (`CloseReason::TransportError`), and no session ever opened to deliver to.
    let mut c = client::Session::new(client::Config::DEFAULT, Instant::ZERO);
    let hs = c.poll_request().unwrap();
    c.handle_response(Instant::ZERO, hs.kind, 200, false, &v3_body("4hello"));
    let (reqs, ws, events) = drain(&mut c);
    assert!(reqs.is_empty());
    assert!(ws.is_empty());
    assert_eq!(
        events,
        [client::Event::Closed(client::CloseReason::TransportError)]
    );
}

#[test]
fn v4_client_post_may_reach_max_payload_exactly() {
    // > `maxPayload`: The maximum number of bytes per chunk, used by the client to
    // > aggregate packets into payloads.
    // `4msg0xx` is 7 bytes: two with their separator make 15, exactly `maxPayload`.
    let mut c = v4_client_open(15);
    // A single packet larger than maxPayload still goes, alone.
    c.send(text(&"x".repeat(20))).unwrap();
    c.send(text("msg0xx")).unwrap();
    c.send(text("msg1xx")).unwrap();
    let first = c.poll_request().unwrap();
    assert_eq!(first.body, format!("4{}", "x".repeat(20)).into_bytes());
    assert!(c.poll_request().is_none(), "one POST at a time");
    c.handle_response(secs(1), first.kind, 200, false, b"ok");
    let second = c.poll_request().unwrap();
    assert_eq!(second.kind, client::RequestKind::Post);
    assert_eq!(second.body, b"4msg0xx\x1e4msg1xx");
}

#[test]
fn client_failure_closes_the_websocket_only_when_there_is_one() {
    // An HTTP error status is a transport error (`CloseReason::TransportError`).
    // Polling, no probe: there is no websocket to close.
    let (mut c, reqs, _) = v3_client_open(client::Config::DEFAULT.with_upgrade(false));
    c.handle_response(secs(1), reqs[0].kind, 500, false, b"");
    let (_, ws, events) = drain(&mut c);
    assert!(ws.is_empty(), "{ws:?}");
    assert_eq!(
        events,
        [client::Event::Closed(client::CloseReason::TransportError)]
    );

    // Polling with a probe websocket under way: it is closed too.
    let (mut c, reqs, ws) = v3_client_open(client::Config::DEFAULT);
    assert!(matches!(ws.as_slice(), [client::WsAction::Connect { .. }]));
    c.handle_response(secs(1), reqs[0].kind, 500, false, b"");
    let (_, ws, events) = drain(&mut c);
    assert_eq!(ws, [client::WsAction::Close]);
    assert_eq!(
        events,
        [client::Event::Closed(client::CloseReason::TransportError)]
    );
}
