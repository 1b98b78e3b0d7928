//! The Socket.IO endpoint at `/socket.io/`: pushwire-tokio's [`SocketIo`] (protocol
//! revisions 4 and 5 at once, over Engine.io 3 and 4) with one of two applications on top:
//!
//! * the demo chat with rooms (default, namespace `/` only; see `siochat.rs`);
//! * with `--reference-apps`, the v5 spec's "Test suite" reference server, extended with the
//!   events of the interop app (`tests/interop/socketio/APP.md`):
//!
//! ```js
//! const io = new Server(3000, {
//!   pingInterval: 300, pingTimeout: 200, maxPayload: 1000000, connectTimeout: 1000,
//!   cors: { origin: "*" }
//! });
//! io.on("connection", (socket) => {
//!   socket.emit("auth", socket.handshake.auth);
//!   socket.on("message", (...args) => { socket.emit.apply(socket, ["message-back", ...args]); });
//!   socket.on("message-with-ack", (...args) => { const ack = args.pop(); ack(...args); })
//! });
//! io.of("/custom").on("connection", (socket) => { socket.emit("auth", socket.handshake.auth); });
//! ```
//!
//! Namespaces: `/` and `/dyn-<digits>` run the full app; `/custom` emits `auth` only;
//! `/refuse` and `/refuse-plain` are refused by a "middleware"; anything else is refused as
//! socket.io does ("Invalid namespace").

use std::time::Duration;

use hyper::Response;
use pushwire_engineio::Limits;
use pushwire_tokio::engineio::{self, Cors};
use pushwire_tokio::socketio::pushwire_socketio::server::Config as ServerConfig;
use pushwire_tokio::socketio::{
    Auth, Config, Event, Map, ProtocolVersion, Socket, SocketIo, Value,
};

use crate::http::{Body, Req};
use crate::wslink;

/// Packets that may wait for a client that does not fetch them.
const MAX_BUFFERED_PACKETS: usize = 1_000;

/// The Socket.IO endpoint's state.
pub(crate) struct Sio {
    io: SocketIo,
    /// The Redis fleet the chat is a node of (`--redis`).
    cluster: Option<pushwire_tokio::socketio::cluster::Cluster>,
}

/// `/^\/dyn-\d+$/`: the interop app's dynamic namespaces.
fn is_dynamic(nsp: &str) -> bool {
    nsp.strip_prefix("/dyn-")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The v5 spec's test-suite server options (see the module docs); revision 4 (EIO=3) stays
/// allowed, as socket.io 4 with `allowEIO3`.
fn reference_config() -> Config {
    let engine = engineio::Config::DEFAULT
        .engine
        .with_ping_interval(Duration::from_millis(300))
        .with_ping_timeout(Duration::from_millis(200))
        .with_limits(Limits::DEFAULT.with_max_payload_bytes(1_000_000))
        .with_max_buffered_packets(MAX_BUFFERED_PACKETS);
    let eio = engineio::Config::DEFAULT
        .with_engine(engine)
        .with_cors(Cors::ANY);
    Config::new()
        .with_engineio(eio)
        .with_server(ServerConfig::DEFAULT.with_connect_timeout(Duration::from_millis(1000)))
        .with_namespace("/custom")
        .with_namespace("/refuse")
        .with_namespace("/refuse-plain")
        .with_dynamic_namespaces(is_dynamic)
}

/// Most bytes of an HTTP body or websocket message of the chat: a chat event is at most
/// [`crate::siochat::MAX_TEXT_CHARS`] characters (4 bytes each) plus its JSON.
const CHAT_MAX_PAYLOAD: usize = 64 * 1024;

/// The chat's settings: engine.io's default heartbeats (25 s / 5 s), revisions 3 and 4,
/// [`CHAT_MAX_PAYLOAD`], at most [`MAX_BUFFERED_PACKETS`] waiting per client, the demo's
/// WebSocket timers on the websocket transport; namespace `/` only.
fn chat_config() -> Config {
    let engine = engineio::Config::DEFAULT
        .engine
        .with_limits(Limits::DEFAULT.with_max_payload_bytes(CHAT_MAX_PAYLOAD))
        .with_max_buffered_packets(MAX_BUFFERED_PACKETS);
    let eio = engineio::Config::DEFAULT.with_engine(engine);
    let ws = wslink::timed(eio.ws.with_max_write_buffer_size(8 << 20));
    Config::new().with_engineio(eio.with_ws(ws))
}

/// `--redis URL` and `--redis-wire`: the chat as one node of a Redis fleet.
#[derive(Debug, Clone)]
pub(crate) struct RedisOpts {
    /// `redis://host:port/`.
    pub(crate) url: String,
    /// Which node adapter's wire the fleet speaks.
    pub(crate) wire: pushwire_tokio::socketio::cluster::Wire,
}

impl Sio {
    /// The Redis fleet the chat is a node of.
    pub(crate) fn cluster(&self) -> Option<&pushwire_tokio::socketio::cluster::Cluster> {
        self.cluster.as_ref()
    }

    /// Creates the endpoint and starts its application (call within the runtime): the
    /// chat (with `redis`, attached to that fleet), or with `reference` the reference app.
    pub(crate) async fn start(reference: bool, redis: Option<&RedisOpts>) -> std::io::Result<Sio> {
        if !reference {
            let (io, incoming) = SocketIo::new(chat_config());
            let cluster = match redis {
                None => None,
                Some(r) => {
                    use pushwire_tokio::socketio::cluster::{Cluster, RedisConfig};
                    let config = RedisConfig::new(r.url.as_str())
                        .with_wire(r.wire)
                        .with_channel(crate::demo::FLEET_CHANNEL);
                    let c = Cluster::attach(&io, config)
                        .await
                        .map_err(|e| std::io::Error::other(format!("--redis {}: {e}", r.url)))?;
                    println!(
                        "socket.io chat: node {} of the Redis fleet at {} ({:?} wire)",
                        c.uid(),
                        r.url,
                        r.wire
                    );
                    Some(c)
                }
            };
            crate::siochat::start(io.clone(), incoming, cluster.clone());
            return Ok(Sio { io, cluster });
        }
        let (io, mut incoming) = SocketIo::new(reference_config());
        let app = io.clone();
        tokio::spawn(async move {
            while let Some(req) = incoming.accept().await {
                match req.nsp() {
                    // The interop app's middlewares: `next(err)` with `err.data = {code: 42}`,
                    // or without data.
                    "/refuse" => {
                        let mut data = Map::new();
                        data.insert("code", Value::from(42u64));
                        let _ = req.refuse("refused", Some(Value::Object(data)));
                    }
                    "/refuse-plain" => {
                        let _ = req.refuse("refused", None);
                    }
                    _ => match req.accept() {
                        Ok(socket) => {
                            println!(
                                "socket.io {}: {} connected (protocol {}, engine.io {})",
                                socket.id(),
                                socket.nsp(),
                                socket.version().number(),
                                socket.eio_sid()
                            );
                            tokio::spawn(member(app.clone(), socket));
                        }
                        Err(e) => println!("socket.io: accept failed: {e}"),
                    },
                }
            }
        });
        Ok(Sio { io, cluster: None })
    }

    /// Closes every session.
    pub(crate) fn close_all(&self) -> usize {
        self.io.engineio().close_all()
    }
}

/// `<auth>` of the interop app: revision 5 the `CONNECT` payload (`{}` without one);
/// revision 4 the Engine.io handshake query overlaid with the namespace's query, without
/// Engine.io's own keys (socket.io 2's `socket.handshake.query`).
fn auth_of(socket: &Socket) -> Value {
    match (socket.version(), socket.auth()) {
        (ProtocolVersion::V5, Auth::Object(m)) => Value::Object(m.clone()),
        (ProtocolVersion::V5, _) => Value::Object(Map::new()),
        (_, auth) => {
            let mut m = Map::new();
            let nsp_query = match auth {
                Auth::Query(q) => q.as_str(),
                _ => "",
            };
            for (k, v) in parse_query(socket.handshake_query()).chain(parse_query(nsp_query)) {
                if !matches!(k.as_str(), "EIO" | "transport" | "t" | "sid" | "b64" | "j") {
                    m.insert(k, Value::String(v));
                }
            }
            Value::Object(m)
        }
    }
}

/// `key=value&…` pairs, percent-decoded (`+` is a space), as node's `querystring.parse`.
fn parse_query(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

fn decode(s: &str) -> String {
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = match (b[i], b.get(i + 1), b.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (escaped, b[i]) {
            (Some(v), _) => {
                out.push(v);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, c) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The rooms of `socket`, sorted, without its own room (the `join`/`leave` ack).
fn rooms_ack(socket: &Socket) -> Value {
    Value::Array(
        socket
            .rooms()
            .into_iter()
            .filter(|r| r != socket.id())
            .map(Value::String)
            .collect(),
    )
}

/// One socket: `auth` on connection, then the app's events until it leaves.
async fn member(io: SocketIo, mut socket: Socket) {
    let _ = socket.emit("auth", &[auth_of(&socket)]);
    let full = socket.nsp() != "/custom";
    while let Some(ev) = socket.recv().await {
        if full {
            on_event(&io, &socket, ev);
        }
    }
    let reason = socket.disconnect_reason().map_or("?", |r| r.as_str());
    println!(
        "socket.io {}: {} left ({reason})",
        socket.id(),
        socket.nsp()
    );
}

/// The full app's events (APP.md "The full app"); arguments of the wrong type are ignored.
fn on_event(io: &SocketIo, socket: &Socket, mut ev: Event) {
    let Ok(args) = ev.args() else { return };
    let first_str = args.first().and_then(Value::as_str).map(str::to_owned);
    let id = Value::String(socket.id().to_owned());
    match ev.name() {
        "message" => {
            let _ = socket.emit("message-back", &args);
        }
        "message-with-ack" => {
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&args);
            }
        }
        "join" | "leave" => {
            let Some(room) = first_str else { return };
            if ev.name() == "join" {
                if socket.join(&room).is_err() {
                    return;
                }
            } else {
                socket.leave(&room);
            }
            if let Some(ack) = ev.take_ack() {
                let _ = ack.send(&[rooms_ack(socket)]);
            }
        }
        "to-room" => {
            let Some(room) = first_str else { return };
            let payload = args.get(1).cloned().unwrap_or(Value::Null);
            let _ = socket.to(&room).emit("room-message", &[payload, id]);
        }
        "to-all" => {
            let payload = args.first().cloned().unwrap_or(Value::Null);
            let _ = io.of(socket.nsp()).emit("all-message", &[payload, id]);
        }
        "ask-client" => {
            let payload = args.first().cloned().unwrap_or(Value::Null);
            // socket.io's `emit(…, callback)` has no timeout: the answer may come any time
            // until the socket leaves.
            if let Ok(answer) = socket.emit_with_ack("question", &[payload], Duration::MAX) {
                // The answer comes later: emit to the socket's own room (`io.to(socket.id)`).
                let back = io.of(socket.nsp()).to(socket.id());
                tokio::spawn(async move {
                    if let Ok(p) = answer.await {
                        if let Ok(args) = p.args() {
                            let _ = back.emit("answer-was", &args);
                        }
                    }
                });
            }
        }
        "kick-me" => {
            let _ = socket.disconnect();
        }
        _ => {}
    }
}

/// Handles one request to `/socket.io/`.
pub(crate) async fn handle(req: Req, peer: &str, sio: &Sio) -> Response<Body> {
    let target = crate::http::describe(&req);
    let resp = sio.io.handle(req).await;
    let status = resp.status();
    if !status.is_success() && !status.is_informational() {
        println!("{peer}: socket.io {target} -> {status}");
    }
    resp.map(|b| Body::Full(Some(b.into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_follows_querystring_parse() {
        let got: Vec<_> = parse_query("token=abc&who=root+%F0%9F%98%80&EIO=3&bad=%zz&e").collect();
        let want = [
            ("token", "abc"),
            ("who", "root 😀"),
            ("EIO", "3"),
            ("bad", "%zz"),
            ("e", ""),
        ];
        assert_eq!(got.len(), want.len());
        for ((k, v), (wk, wv)) in got.iter().zip(want) {
            assert_eq!((k.as_str(), v.as_str()), (wk, wv));
        }
    }

    #[test]
    fn the_dynamic_pattern_is_dyn_digits() {
        assert!(is_dynamic("/dyn-0") && is_dynamic("/dyn-123"));
        assert!(!is_dynamic("/dyn-") && !is_dynamic("/dyn-1a") && !is_dynamic("/dyn1"));
    }
}
