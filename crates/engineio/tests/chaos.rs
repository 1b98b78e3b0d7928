//! A `client::Session` and a `Server` joined through an adversarial network: proptest picks
//! the order in which requests, responses, websocket messages and clock ticks are
//! delivered (in order per connection, in any order across connections), and when each side
//! sends. Property: messages arrive in order without loss or duplication; and unless a side
//! closed (a heartbeat may legitimately time out under a starving schedule), once the network
//! is drained fairly, every message has arrived. Half of the cases put every timer (the
//! heartbeat and the upgrade timeout) far beyond the longest schedule (an hour, against at
//! most 180 s of ticks): there no side may close, so full delivery is checked in at least
//! those cases and the property cannot shrink to "everything closed".

use std::collections::VecDeque;
use std::time::Duration;

use proptest::prelude::*;
use pushwire_engineio::client;
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, Event, Outcome, Server, WsAction};
use pushwire_engineio::{Instant, PacketData, WsMessage};

type Srv = Server<Box<dyn FnMut() -> String>>;

enum C2s {
    WsMessage(WsMessage),
    Close,
}

struct Net {
    client: client::Session,
    server: Srv,
    now: Instant,
    requests: Vec<client::Request>,
    responses: Vec<(client::RequestKind, HttpResponse)>,
    held: Vec<(String, client::RequestKind)>,
    connect: Option<String>,
    ws: Option<String>,
    c2s: VecDeque<C2s>,
    s2c: VecDeque<WsAction>,
    sid: Option<String>,
    to_server: Vec<String>,
    to_client: Vec<String>,
    got_server: Vec<String>,
    got_client: Vec<String>,
    closed: bool,
}

fn text(d: &PacketData) -> String {
    d.as_text().expect("text").to_owned()
}

impl Net {
    fn new(client: client::Config, server: server::Config) -> Self {
        Self {
            client: client::Session::new(client, Instant::ZERO),
            server: Server::new(
                server,
                Box::new(|| String::from("sid")) as Box<dyn FnMut() -> String>,
            ),
            now: Instant::ZERO,
            requests: Vec::new(),
            responses: Vec::new(),
            held: Vec::new(),
            connect: None,
            ws: None,
            c2s: VecDeque::new(),
            s2c: VecDeque::new(),
            sid: None,
            to_server: Vec::new(),
            to_client: Vec::new(),
            got_server: Vec::new(),
            got_client: Vec::new(),
            closed: false,
        }
    }

    /// Moves every output into the network queues and records events.
    fn collect(&mut self) {
        while let Some(r) = self.client.poll_request() {
            self.requests.push(r);
        }
        while let Some(a) = self.client.poll_ws_action() {
            match a {
                client::WsAction::Connect { query } => self.connect = Some(query),
                client::WsAction::Send(f) => self.c2s.push_back(C2s::WsMessage(f)),
                client::WsAction::Close => self.c2s.push_back(C2s::Close),
            }
        }
        let mut still = Vec::new();
        for (sid, kind) in std::mem::take(&mut self.held) {
            match self.server.poll_http_response(&sid) {
                Some(r) => self.responses.push((kind, r)),
                None => still.push((sid, kind)),
            }
        }
        self.held = still;
        if let Some(sid) = self.ws.clone() {
            while let Some(o) = self.server.poll_ws_action(&sid) {
                self.s2c.push_back(o);
            }
        }
        while let Some((_, e)) = self.server.poll_event() {
            match e {
                Event::Message(d) => self.got_server.push(text(&d)),
                Event::Closed(_) => self.closed = true,
                Event::Opened | Event::Upgraded => {}
            }
        }
        while let Some(e) = self.client.poll_event() {
            match e {
                client::Event::Open(o) => self.sid = Some(o.sid),
                client::Event::Message(d) => self.got_client.push(text(&d)),
                client::Event::Closed(_) => self.closed = true,
                _ => {}
            }
        }
    }

    /// One network step; returns whether something happened.
    fn step(&mut self, action: u8, pick: usize) -> bool {
        let now = self.now;
        let done = match action % 9 {
            0 => {
                let m = format!("c{}", self.to_server.len());
                if self.client.send(PacketData::Text(m.clone())).is_ok() {
                    self.to_server.push(m);
                }
                true
            }
            1 => match self.sid.clone() {
                Some(sid) => {
                    let m = format!("s{}", self.to_client.len());
                    if self.server.send(&sid, PacketData::Text(m.clone())).is_ok() {
                        self.to_client.push(m);
                    }
                    true
                }
                None => false,
            },
            2 | 7 => {
                if self.requests.is_empty() {
                    false
                } else {
                    let r = self.requests.remove(pick % self.requests.len());
                    let http = HttpRequest {
                        method: r.method,
                        query: &r.query,
                        origin: None,
                        content_type: r.content_type,
                        websocket_upgrade: false,
                        body: &r.body,
                    };
                    match self.server.handle_request(now, &http) {
                        Outcome::Respond(resp) => self.responses.push((r.kind, resp)),
                        Outcome::Hold { sid } => self.held.push((sid, r.kind)),
                        Outcome::AcceptWebSocket { .. } => panic!("websocket over HTTP"),
                    }
                    true
                }
            }
            3 | 8 => {
                if self.responses.is_empty() {
                    false
                } else {
                    let (kind, r) = self.responses.remove(pick % self.responses.len());
                    let binary = r.header("content-type") == Some("application/octet-stream");
                    self.client
                        .handle_response(now, kind, r.status, binary, &r.body);
                    true
                }
            }
            4 => match self.connect.take() {
                Some(query) => {
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
                            self.ws = Some(sid);
                            self.client.handle_ws_connected(now);
                        }
                        _ => self.client.handle_ws_closed(now),
                    }
                    true
                }
                None => false,
            },
            5 => match (self.c2s.pop_front(), self.ws.clone()) {
                (Some(C2s::WsMessage(f)), Some(sid)) => {
                    self.server.handle_ws_message(now, &sid, f);
                    true
                }
                (Some(C2s::Close), Some(sid)) => {
                    self.server.handle_ws_closed(now, &sid);
                    self.ws = None;
                    true
                }
                (Some(_), None) => true,
                (None, _) => false,
            },
            _ => match self.s2c.pop_front() {
                Some(WsAction::Send(f)) => {
                    self.client.handle_ws_message(now, f);
                    true
                }
                Some(WsAction::Close) => {
                    self.ws = None;
                    self.client.handle_ws_closed(now);
                    true
                }
                None => false,
            },
        };
        self.collect();
        done
    }

    fn tick(&mut self, ms: u64) {
        self.now = self.now + Duration::from_millis(ms);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.collect();
        // The server's deadline index agrees with a scan of its sessions.
        let deadline = |sid: &str| self.server.session(sid).and_then(|s| s.poll_timeout());
        let first = self.server.sids().filter_map(deadline).min();
        assert_eq!(
            self.server.poll_timeout(),
            first,
            "poll_timeout against a scan"
        );
        assert_eq!(
            self.server.due_sessions(self.now).count(),
            0,
            "all due handled"
        );
    }

    /// Delivers everything in flight, fairly, until nothing moves.
    fn drain(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            for a in [2u8, 3, 4, 5, 6] {
                progress |= self.step(a, 0);
            }
            if !progress {
                return;
            }
        }
        panic!("the network does not settle");
    }
}

fn assert_prefix(got: &[String], sent: &[String]) -> Result<(), TestCaseError> {
    prop_assert!(got.len() <= sent.len(), "more received than sent: {got:?}");
    prop_assert_eq!(got, &sent[..got.len()], "lost, duplicated or reordered");
    Ok(())
}

/// Runs one schedule between a client and a server with `client` and `server` configs
/// (timers put an hour away when `far_timers`) and checks the property.
fn run_schedule(
    client: client::Config,
    mut server: server::Config,
    far_timers: bool,
    steps: Vec<(u8, usize, u64)>,
) -> Result<(), TestCaseError> {
    if far_timers {
        let hour = Duration::from_secs(3600);
        server = server
            .with_ping_interval(hour)
            .with_ping_timeout(hour)
            .with_upgrade_timeout(hour);
    }
    let mut net = Net::new(client, server);
    net.collect();
    for (action, pick, ms) in steps {
        if action == 9 {
            net.tick(ms);
        } else {
            net.step(action, pick);
        }
        assert_prefix(&net.got_server, &net.to_server)?;
        assert_prefix(&net.got_client, &net.to_client)?;
    }
    net.drain();
    // A second pass lets a pong-triggered poll or a late upgrade finish.
    net.tick(1);
    net.drain();
    assert_prefix(&net.got_server, &net.to_server)?;
    assert_prefix(&net.got_client, &net.to_client)?;
    if far_timers {
        prop_assert!(!net.closed, "closed although no timer can expire");
    }
    if !net.closed {
        prop_assert_eq!(&net.got_server, &net.to_server);
        prop_assert_eq!(&net.got_client, &net.to_client);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn exactly_once_in_order_under_any_schedule(
        upgrade in any::<bool>(),
        b64 in any::<bool>(),
        far_timers in any::<bool>(),
        steps in proptest::collection::vec((0u8..10, any::<usize>(), 0u64..1500), 0..120),
    ) {
        let client = client::Config::DEFAULT.with_upgrade(upgrade).with_supports_binary(!b64);
        run_schedule(client, server::Config::DEFAULT, far_timers, steps)?;
    }

    /// The same for protocol revision 4 on a server that serves both (the server pings).
    #[test]
    fn v4_exactly_once_in_order_under_any_schedule(
        upgrade in any::<bool>(),
        b64 in any::<bool>(),
        far_timers in any::<bool>(),
        steps in proptest::collection::vec((0u8..10, any::<usize>(), 0u64..1500), 0..120),
    ) {
        let client = client::Config::DEFAULT
            .with_upgrade(upgrade)
            .with_supports_binary(!b64)
            .with_protocol(pushwire_engineio::ProtocolVersion::V4);
        let server = server::Config::DEFAULT.with_allow_eio4(true);
        run_schedule(client, server, far_timers, steps)?;
    }
}
