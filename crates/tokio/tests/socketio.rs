//! The Socket.IO server (feature `socketio`) on a real hyper server on loopback, driven by
//! this crate's Engine.io client (polling and websocket, revisions 3 and 4) carrying
//! pushwire-socketio packets.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use hyper::body::Incoming as HyperBody;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pushwire_tokio::engineio::client::{connect, Client, ClientConfig};
use pushwire_tokio::engineio::pushwire_engineio::client::Config as SessionConfig;
use pushwire_tokio::engineio::{PacketData, ProtocolVersion as EioVersion};
use pushwire_tokio::socketio::pushwire_socketio::{Decoder, Limits, PacketType};
use pushwire_tokio::socketio::{
    AckError, Auth, Config, DisconnectReason, Incoming, Map, Packet, ProtocolVersion, SocketIo,
    Value,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// A generous guard: every step must finish within this (never a speed assertion).
const DEADLINE: Duration = Duration::from_secs(10);

/// Serves `io` at every path of a local port.
async fn serve_endpoint(io: SocketIo) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let io = io.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<HyperBody>| {
                    let io = io.clone();
                    async move { Ok::<_, Infallible>(io.handle(req).await) }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    port
}

/// What the test app reports about its sockets.
#[derive(Debug, Clone, PartialEq)]
enum Report {
    Connected {
        nsp: String,
        id: String,
        eio: String,
        query: String,
    },
    Left {
        id: String,
        reason: DisconnectReason,
    },
    Answer(Result<Vec<Value>, AckError>),
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// The test app: refuses `/refuse` (message "refused", data `{code: 42}`); on connection
/// emits `auth`; `message` → `message-back`; `message-with-ack` → ack; `join`/`leave` room
/// (ack); `to-room` room, payload → `room-message` [payload, sender] to the room but the
/// sender; `to-all` → `all-message` to the namespace; `ask` → `question` with an ack (the
/// answer is reported); `ask-fast` → the same with a 100 ms timeout; `kick-me` → disconnect.
fn app(io: SocketIo, mut incoming: Incoming) -> mpsc::UnboundedReceiver<Report> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(req) = incoming.accept().await {
            if req.nsp() == "/refuse" {
                let mut data = Map::new();
                data.insert("code", Value::from(42u64));
                req.refuse("refused", Some(Value::Object(data))).unwrap();
                continue;
            }
            let mut socket = req.accept().unwrap();
            let tx = tx.clone();
            let io = io.clone();
            let _ = tx.send(Report::Connected {
                nsp: socket.nsp().into(),
                id: socket.id().into(),
                eio: socket.eio_sid().into(),
                query: socket.handshake_query().into(),
            });
            let auth = match socket.auth() {
                Auth::Object(m) => Value::Object(m.clone()),
                Auth::Query(q) => s(q),
                _ => Value::Object(Map::new()),
            };
            socket.emit("auth", &[auth]).unwrap();
            tokio::spawn(async move {
                while let Some(mut ev) = socket.recv().await {
                    let args = ev.args().unwrap();
                    let arg =
                        |i: usize| args.get(i).and_then(Value::as_str).unwrap_or("").to_owned();
                    match ev.name() {
                        "message" => socket.emit("message-back", &args).unwrap(),
                        "message-with-ack" => {
                            if let Some(ack) = ev.take_ack() {
                                ack.send(&args).unwrap();
                            }
                        }
                        "join" | "leave" => {
                            if ev.name() == "join" {
                                socket.join(&arg(0)).unwrap();
                            } else {
                                socket.leave(&arg(0));
                            }
                            let rooms: Vec<Value> = socket
                                .rooms()
                                .into_iter()
                                .filter(|r| r != socket.id())
                                .map(|r| s(&r))
                                .collect();
                            ev.take_ack().unwrap().send(&[Value::Array(rooms)]).unwrap();
                        }
                        "to-room" => {
                            let payload = args.get(1).cloned().unwrap_or(Value::Null);
                            socket
                                .to(&arg(0))
                                .emit("room-message", &[payload, s(socket.id())])
                                .unwrap();
                        }
                        "to-all" => {
                            let payload = args.first().cloned().unwrap_or(Value::Null);
                            io.of(socket.nsp())
                                .emit("all-message", &[payload, s(socket.id())])
                                .unwrap();
                        }
                        "ask" | "ask-fast" | "ask-far" => {
                            let t = match ev.name() {
                                "ask" => DEADLINE,
                                "ask-fast" => Duration::from_millis(100),
                                // A deadline beyond any clock: never fires, never panics.
                                _ => Duration::from_secs(u64::MAX),
                            };
                            let answer = socket.emit_with_ack("question", &args, t).unwrap();
                            let tx = tx.clone();
                            tokio::spawn(async move {
                                let r = answer.await.map(|p| p.args().unwrap());
                                let _ = tx.send(Report::Answer(r));
                            });
                        }
                        "kick-me" => socket.disconnect().unwrap(),
                        _ => {}
                    }
                }
                let _ = tx.send(Report::Left {
                    id: socket.id().into(),
                    reason: socket.disconnect_reason().unwrap(),
                });
            });
        }
    });
    rx
}

async fn start(config: Config) -> (u16, SocketIo, mpsc::UnboundedReceiver<Report>) {
    let (io, incoming) = SocketIo::new(config);
    let port = serve_endpoint(io.clone()).await;
    let reports = app(io.clone(), incoming);
    (port, io, reports)
}

fn config() -> Config {
    Config::new()
        .with_namespace("/custom")
        .with_namespace("/refuse")
        .with_dynamic_namespaces(|n| {
            n.strip_prefix("/dyn-")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// A Socket.IO client made of the Engine.io client and pushwire-socketio packets.
struct Sio {
    eio: Client,
    decoder: Decoder,
    version: ProtocolVersion,
}

impl Sio {
    async fn connect(port: u16, version: ProtocolVersion, websocket: bool) -> Sio {
        let eio = match version {
            ProtocolVersion::V4 => EioVersion::V3,
            _ => EioVersion::V4,
        };
        let session = if websocket {
            SessionConfig::DEFAULT.with_websocket_only(true)
        } else {
            SessionConfig::DEFAULT.with_upgrade(false)
        };
        let config = ClientConfig::DEFAULT.with_engine(session.with_protocol(eio));
        let url = format!("http://127.0.0.1:{port}/socket.io/");
        let eio = timeout(DEADLINE, connect(&url, config))
            .await
            .unwrap()
            .unwrap();
        Sio {
            eio,
            decoder: Decoder::new(version, Limits::DEFAULT),
            version,
        }
    }

    async fn send(&self, p: &Packet) {
        for m in p.to_messages() {
            self.eio.send(m).await.unwrap();
        }
    }

    async fn send_text(&self, text: &str) {
        self.eio.send(PacketData::Text(text.into())).await.unwrap();
    }

    async fn emit(&self, nsp: &str, name: &str, args: &[Value], ack: Option<u64>) {
        let mut p = Packet::event(self.version, nsp, name, args).unwrap();
        p.set_id(ack);
        self.send(&p).await;
    }

    /// The next packet, skipping nothing.
    async fn next(&mut self) -> Packet {
        loop {
            let m = timeout(DEADLINE, self.eio.recv())
                .await
                .expect("a packet within the deadline")
                .expect("the session is open");
            if let Some(p) = self.decoder.push(m).unwrap() {
                return p;
            }
        }
    }

    /// The next packet, or `None` when the session ends.
    async fn next_or_end(&mut self) -> Option<Packet> {
        loop {
            let m = timeout(DEADLINE, self.eio.recv()).await.unwrap()?;
            if let Some(p) = self.decoder.push(m).unwrap() {
                return Some(p);
            }
        }
    }

    /// Connects to `nsp` (revision 5 with `auth`; revision 4 `/` is implicit) and returns
    /// the `CONNECT` answer.
    async fn join(&mut self, nsp: &str, auth: Option<&Value>) -> Packet {
        if !(self.version == ProtocolVersion::V4 && nsp == "/") {
            let p = Packet::connect(self.version, nsp, auth).unwrap();
            self.send(&p).await;
        }
        self.next().await
    }
}

fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(*k, v.clone());
    }
    Value::Object(m)
}

/// Closes the client's session; each of its `n` sockets reports "transport close".
async fn finish(c: Sio, reports: &mut mpsc::UnboundedReceiver<Report>, n: usize) {
    c.eio.close().await;
    for _ in 0..n {
        let r = report(reports).await;
        assert!(
            matches!(
                r,
                Report::Left {
                    reason: DisconnectReason::TransportClose,
                    ..
                }
            ),
            "{r:?}"
        );
    }
}

async fn report(reports: &mut mpsc::UnboundedReceiver<Report>) -> Report {
    timeout(DEADLINE, reports.recv()).await.unwrap().unwrap()
}

#[tokio::test]
async fn v5_client_connects_with_auth_over_polling_and_websocket() {
    let (port, _io, mut reports) = start(config()).await;
    for websocket in [false, true] {
        let mut c = Sio::connect(port, ProtocolVersion::V5, websocket).await;
        let auth = obj(&[("token", s("abc")), ("n", Value::from(1u64))]);
        let ok = c.join("/", Some(&auth)).await;
        assert_eq!(ok.kind(), PacketType::Connect);
        assert_eq!(ok.nsp(), "/");
        let Report::Connected { id, eio, query, .. } = report(&mut reports).await else {
            panic!("expected a connection")
        };
        // The Engine.io handshake request's query is kept.
        assert!(query.split('&').any(|p| p == "EIO=4"), "{query}");
        // "the server responds with a CONNECT packet with the session ID" — the same id as
        // the server's socket, and not the Engine.io id.
        let sid = ok.value().unwrap().unwrap();
        assert_eq!(
            sid.as_object().unwrap().get("sid").unwrap().as_str(),
            Some(&*id)
        );
        assert_ne!(id, eio);
        let ev = c.next().await;
        assert_eq!(ev.event_name(), Some("auth"));
        assert_eq!(ev.args().unwrap(), [auth]);
        // Without auth, `auth` is `{}` (the v5 test suite).
        let ok = c.join("/custom", None).await;
        assert_eq!((ok.kind(), ok.nsp()), (PacketType::Connect, "/custom"));
        let ev = c.next().await;
        assert_eq!((ev.nsp(), ev.event_name()), ("/custom", Some("auth")));
        assert_eq!(ev.args().unwrap(), [obj(&[])]);
        let _ = report(&mut reports).await;
        finish(c, &mut reports, 2).await;
    }
}

#[tokio::test]
async fn v4_client_gets_the_implicit_connect_and_socket_io_2_ids() {
    let (port, _io, mut reports) = start(config()).await;
    for websocket in [false, true] {
        let mut c = Sio::connect(port, ProtocolVersion::V4, websocket).await;
        let ok = c.join("/", None).await;
        assert_eq!((ok.kind(), ok.nsp()), (PacketType::Connect, "/"));
        // Revision 4 sends CONNECT without data.
        assert_eq!(ok.value().unwrap(), None);
        let Report::Connected {
            nsp,
            id,
            eio,
            query,
        } = report(&mut reports).await
        else {
            panic!("expected a connection")
        };
        assert!(query.split('&').any(|p| p == "EIO=3"), "{query}");
        assert_eq!((nsp.as_str(), id.as_str()), ("/", eio.as_str()));
        let ev = c.next().await;
        assert_eq!(ev.event_name(), Some("auth"));
        // A namespace with a query: the query is the auth.
        c.send_text("0/custom?ns=custom,").await;
        let ok = c.next().await;
        assert_eq!((ok.kind(), ok.nsp()), (PacketType::Connect, "/custom"));
        let Report::Connected { id, .. } = report(&mut reports).await else {
            panic!("expected a connection")
        };
        assert_eq!(id, format!("/custom#{eio}"));
        let ev = c.next().await;
        assert_eq!(ev.args().unwrap(), [s("ns=custom")]);
        // Events work on revision 4 too.
        c.emit("/custom", "message", &[s("héllo")], None).await;
        let ev = c.next().await;
        assert_eq!(
            (ev.nsp(), ev.event_name(), ev.args().unwrap()),
            ("/custom", Some("message-back"), vec![s("héllo")])
        );
        finish(c, &mut reports, 2).await;
    }
}

#[tokio::test]
async fn events_and_acks_both_ways_with_binary_on_both_revisions() {
    let (port, _io, mut reports) = start(config()).await;
    for version in [ProtocolVersion::V4, ProtocolVersion::V5] {
        for websocket in [false, true] {
            let mut c = Sio::connect(port, version, websocket).await;
            c.join("/", None).await;
            let _ = report(&mut reports).await;
            assert_eq!(c.next().await.event_name(), Some("auth"));
            let bin = Value::Binary(Bytes::from_static(&[0, 1, 255]));
            let args = vec![
                s("x"),
                obj(&[("b", bin.clone()), ("n", Value::Null)]),
                Value::Binary(Bytes::new()),
            ];
            // Client → server event, server → client event with binary in place.
            c.emit("/", "message", &args, None).await;
            let ev = c.next().await;
            assert_eq!(ev.kind(), PacketType::BinaryEvent);
            assert_eq!(ev.event_name(), Some("message-back"));
            assert_eq!(ev.args().unwrap(), args);
            // Client asks for an ack: a BINARY_ACK with the same id and args.
            c.emit("/", "message-with-ack", &args, Some(7)).await;
            let ack = c.next().await;
            assert_eq!((ack.kind(), ack.id()), (PacketType::BinaryAck, Some(7)));
            assert_eq!(ack.args().unwrap(), args);
            c.emit("/", "message-with-ack", &[], Some(8)).await;
            let ack = c.next().await;
            assert_eq!((ack.kind(), ack.id()), (PacketType::Ack, Some(8)));
            assert_eq!(ack.args().unwrap(), Vec::<Value>::new());
            // Server asks for an ack: the client's answer reaches the server's future.
            c.emit("/", "ask", &[s("q"), bin.clone()], None).await;
            let q = c.next().await;
            assert_eq!(q.event_name(), Some("question"));
            assert_eq!(q.args().unwrap(), [s("q"), bin.clone()]);
            let id = q.id().expect("the question asks for an ack");
            let answer = [s("answer"), Value::from(42u64), bin.clone()];
            c.send(&Packet::ack("/", id, &answer).unwrap()).await;
            assert_eq!(
                report(&mut reports).await,
                Report::Answer(Ok(answer.to_vec()))
            );
            c.emit("/", "ask-far", &[], None).await;
            let q = c.next().await;
            let id = q.id().expect("the question asks for an ack");
            c.send(&Packet::ack("/", id, &[]).unwrap()).await;
            assert_eq!(report(&mut reports).await, Report::Answer(Ok(vec![])));
            // Unanswered: the future ends with a timeout.
            c.emit("/", "ask-fast", &[], None).await;
            let q = c.next().await;
            assert!(q.id().is_some());
            assert_eq!(
                report(&mut reports).await,
                Report::Answer(Err(AckError::Timeout))
            );
            finish(c, &mut reports, 1).await;
        }
    }
}

#[tokio::test]
async fn a_room_broadcast_reaches_exactly_its_members_across_revisions() {
    let (port, io, mut reports) = start(config()).await;
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for (version, websocket) in [
        (ProtocolVersion::V5, false),
        (ProtocolVersion::V4, true),
        (ProtocolVersion::V5, true),
        (ProtocolVersion::V4, false),
    ] {
        let mut c = Sio::connect(port, version, websocket).await;
        c.join("/", None).await;
        let Report::Connected { id, .. } = report(&mut reports).await else {
            panic!()
        };
        assert_eq!(c.next().await.event_name(), Some("auth"));
        clients.push(c);
        ids.push(id);
    }
    // a (v5), b (v4), c (v5) join "r"; d (v4) does not.
    for c in &mut clients[..3] {
        c.emit("/", "join", &[s("r")], Some(1)).await;
        let ack = c.next().await;
        assert_eq!(ack.args().unwrap(), [Value::Array(vec![s("r")])]);
    }
    // From a to "r": b and c get it once, a and d do not.
    clients[0]
        .emit("/", "to-room", &[s("r"), s("hi")], None)
        .await;
    // b has it; then a marker to everyone: c (queued the room message before the marker)
    // gets both in order, a and d get the marker first, so they never got the room message.
    let p = clients[1].next().await;
    assert_eq!(p.event_name(), Some("room-message"));
    assert_eq!(p.args().unwrap(), [s("hi"), s(&ids[0])]);
    let marker = io.of("/").emit("marker", &[]).unwrap();
    assert_eq!(marker.sent, 4);
    assert_eq!(marker.skipped, 0);
    let p = clients[2].next().await;
    assert_eq!(p.event_name(), Some("room-message"));
    assert_eq!(p.args().unwrap(), [s("hi"), s(&ids[0])]);
    for c in &mut clients {
        assert_eq!(c.next().await.event_name(), Some("marker"));
    }
    // The direct API agrees: three members.
    assert_eq!(io.sockets("/", &["r"]).len(), 3);
    // c leaves; to-all from d reaches all four, sender included.
    clients[2].emit("/", "leave", &[s("r")], Some(2)).await;
    assert_eq!(
        clients[2].next().await.args().unwrap(),
        [Value::Array(vec![])]
    );
    assert_eq!(io.sockets("/", &["r"]).len(), 2);
    clients[3].emit("/", "to-all", &[s("all")], None).await;
    for c in &mut clients {
        let p = c.next().await;
        assert_eq!(p.event_name(), Some("all-message"));
        assert_eq!(p.args().unwrap(), [s("all"), s(&ids[3])]);
    }
    // io.of(nsp).to(room).except(room): only b now.
    let d = io
        .of("/")
        .to("r")
        .except(&ids[0])
        .emit("only-b", &[])
        .unwrap();
    assert_eq!(d.sent, 1);
    assert_eq!(clients[1].next().await.event_name(), Some("only-b"));
    io.of("/").emit("marker", &[]).unwrap();
    for c in &mut clients {
        assert_eq!(c.next().await.event_name(), Some("marker"));
    }
    // io.in(room).disconnectSockets(): a and b leave "/", c and d stay.
    let mut in_room = io.of("/").to("r").socket_ids();
    in_room.sort();
    let mut want = vec![ids[0].clone(), ids[1].clone()];
    want.sort();
    assert_eq!(in_room, want);
    assert_eq!(io.of("/").to("r").disconnect(), 2);
    for c in &mut clients[..2] {
        let p = c.next().await;
        assert_eq!((p.kind(), p.nsp()), (PacketType::Disconnect, "/"));
    }
    assert_eq!(io.of("/").emit("marker", &[]).unwrap().sent, 2);
    for c in &mut clients[2..] {
        assert_eq!(c.next().await.event_name(), Some("marker"));
    }
}

#[tokio::test]
async fn refusals_on_both_revisions() {
    let (port, _io, mut reports) = start(config()).await;
    // Revision 5: CONNECT_ERROR objects.
    let mut c = Sio::connect(port, ProtocolVersion::V5, false).await;
    c.send_text("0/nope,").await;
    let p = c.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::ConnectError, "/nope"));
    assert_eq!(
        p.value().unwrap(),
        Some(obj(&[("message", s("Invalid namespace"))]))
    );
    c.send_text("0/refuse,").await;
    let p = c.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::ConnectError, "/refuse"));
    assert_eq!(
        p.value().unwrap(),
        Some(obj(&[
            ("message", s("refused")),
            ("data", obj(&[("code", Value::from(42u64))]))
        ]))
    );
    // The dynamic pattern: /dyn-12 exists, /dyn-x does not.
    c.send_text("0/dyn-x,").await;
    assert_eq!(c.next().await.kind(), PacketType::ConnectError);
    let ok = c.join("/dyn-12", None).await;
    assert_eq!((ok.kind(), ok.nsp()), (PacketType::Connect, "/dyn-12"));
    let _ = report(&mut reports).await;
    // Revision 4: ERROR with the data, or the message as a string.
    let mut c = Sio::connect(port, ProtocolVersion::V4, false).await;
    c.join("/", None).await;
    let _ = report(&mut reports).await;
    assert_eq!(c.next().await.event_name(), Some("auth"));
    c.send_text("0/refuse,").await;
    let p = c.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::ConnectError, "/refuse"));
    assert_eq!(
        p.value().unwrap(),
        Some(obj(&[("code", Value::from(42u64))]))
    );
    c.send_text("0/nope,").await;
    let p = c.next().await;
    assert_eq!(p.value().unwrap(), Some(s("Invalid namespace")));
}

#[tokio::test]
async fn disconnects_from_either_side_and_the_session_end() {
    let (port, io, mut reports) = start(config()).await;
    for version in [ProtocolVersion::V4, ProtocolVersion::V5] {
        let mut c = Sio::connect(port, version, true).await;
        c.join("/", None).await;
        let Report::Connected { id: main, .. } = report(&mut reports).await else {
            panic!()
        };
        c.next().await;
        c.join("/dyn-1", None).await;
        let Report::Connected { id: dyn1, .. } = report(&mut reports).await else {
            panic!()
        };
        c.next().await;
        c.join("/dyn-2", None).await;
        let Report::Connected { id: dyn2, .. } = report(&mut reports).await else {
            panic!()
        };
        c.next().await;
        // Server side: kick-me → DISCONNECT for that namespace only.
        c.emit("/dyn-2", "kick-me", &[], None).await;
        let p = c.next().await;
        assert_eq!((p.kind(), p.nsp()), (PacketType::Disconnect, "/dyn-2"));
        assert_eq!(
            report(&mut reports).await,
            Report::Left {
                id: dyn2,
                reason: DisconnectReason::ServerNamespaceDisconnect
            }
        );
        assert!(io.sockets("/dyn-2", &[]).is_empty());
        // Client side: DISCONNECT for /dyn-1.
        c.send(&Packet::disconnect("/dyn-1").unwrap()).await;
        assert_eq!(
            report(&mut reports).await,
            Report::Left {
                id: dyn1,
                reason: DisconnectReason::ClientNamespaceDisconnect
            }
        );
        // `/` still works on the same session.
        c.emit("/", "message", &[s("still")], None).await;
        assert_eq!(c.next().await.args().unwrap(), [s("still")]);
        // The session ends: the socket learns why.
        c.eio.close().await;
        assert_eq!(
            report(&mut reports).await,
            Report::Left {
                id: main,
                reason: DisconnectReason::TransportClose
            }
        );
        assert!(c.next_or_end().await.is_none());
    }
}

#[tokio::test]
async fn a_socket_whose_application_falls_behind_is_disconnected() {
    let (io, mut incoming) = SocketIo::new(Config::new().with_event_queue(2));
    let port = serve_endpoint(io.clone()).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(req) = incoming.accept().await {
            // Accepted, but not read until the test says so.
            let _ = tx.send(req.accept().unwrap());
        }
    });
    let mut c = Sio::connect(port, ProtocolVersion::V5, true).await;
    c.join("/", None).await;
    let mut socket = timeout(DEADLINE, rx.recv()).await.unwrap().unwrap();
    for i in 0..3u64 {
        c.emit("/", "e", &[Value::from(i)], None).await;
    }
    // The third event finds the queue (2) full: the client is told to leave.
    let p = c.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::Disconnect, "/"));
    // The application still gets what was queued, then the end.
    for i in 0..2u64 {
        let ev = timeout(DEADLINE, socket.recv()).await.unwrap().unwrap();
        assert_eq!(ev.args().unwrap(), [Value::from(i)]);
    }
    assert!(timeout(DEADLINE, socket.recv()).await.unwrap().is_none());
    assert_eq!(
        socket.disconnect_reason(),
        Some(DisconnectReason::ServerNamespaceDisconnect)
    );
    assert_eq!(
        socket.emit("late", &[]),
        Err(pushwire_tokio::socketio::SendError::NotConnected)
    );
}

#[tokio::test]
async fn a_full_accept_queue_and_a_dropped_request_refuse() {
    let config = Config::new()
        .with_namespace("/other")
        .with_namespace("/third")
        .with_accept_queue(1);
    let (io, mut incoming) = SocketIo::new(config);
    let port = serve_endpoint(io.clone()).await;
    let mut a = Sio::connect(port, ProtocolVersion::V5, false).await;
    a.send_text("0").await;
    let first = timeout(DEADLINE, incoming.accept()).await.unwrap().unwrap();
    assert_eq!(
        (first.eio_sid(), first.nsp()),
        (&*a.eio.handshake().sid, "/")
    );
    // Nobody accepts now: a's CONNECT to "/other" takes the queue's only place, the next
    // one (to "/third", handled after it by the same driver) finds it full and is refused
    // at once.
    a.send_text("0/other,").await;
    a.send_text("0/third,").await;
    let p = a.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::ConnectError, "/third"));
    assert_eq!(
        p.value().unwrap(),
        Some(obj(&[(
            "message",
            s(pushwire_tokio::socketio::SERVER_BUSY)
        )]))
    );
    // "/x" does not exist: refused by the endpoint whatever the queue.
    let mut b = Sio::connect(port, ProtocolVersion::V5, false).await;
    b.send_text("0/x,").await;
    let p = b.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::ConnectError, "/x"));
    assert_eq!(
        p.value().unwrap(),
        Some(obj(&[("message", s("Invalid namespace"))]))
    );
    // Dropping an unanswered request refuses it.
    let second = timeout(DEADLINE, incoming.accept()).await.unwrap().unwrap();
    assert_eq!(second.nsp(), "/other");
    drop(second);
    let p = a.next().await;
    assert_eq!((p.kind(), p.nsp()), (PacketType::ConnectError, "/other"));
    assert_eq!(
        p.value().unwrap(),
        Some(obj(&[(
            "message",
            s(pushwire_tokio::socketio::REQUEST_DROPPED)
        )]))
    );
    // Answering late still works.
    let socket = first.accept().unwrap();
    let ok = a.next().await;
    assert_eq!((ok.kind(), ok.nsp()), (PacketType::Connect, "/"));
    assert_eq!(socket.nsp(), "/");
}

#[tokio::test]
async fn a_connection_that_joins_nothing_is_closed_after_the_connect_timeout() {
    use pushwire_tokio::socketio::pushwire_socketio::server::Config as ServerConfig;
    let config = Config::new()
        .with_server(ServerConfig::DEFAULT.with_connect_timeout(Duration::from_millis(200)));
    let (io, _incoming) = SocketIo::new(config);
    let port = serve_endpoint(io.clone()).await;
    let mut c = Sio::connect(port, ProtocolVersion::V5, true).await;
    // socket.io 4 `client.js`: "no namespace joined yet, close the client".
    assert!(c.next_or_end().await.is_none());
}
