//! The Engine.io endpoint at `/engine.io/`: pushwire-tokio's [`EngineIo`] (revisions 3 and 4
//! at once, long-polling, websocket and the upgrade) with one of two applications on top:
//!
//! * the demo chat (default): every message goes to every session;
//! * with `--reference-apps`, the reference test server of the v4 spec's "Test suite"
//!   section: an echo server with `pingInterval: 300, pingTimeout: 200, maxPayload: 1e6,
//!   cors: { origin: "*" }`.

use std::time::Duration;

use hyper::Response;
use pushwire_engineio::Limits;
use pushwire_tokio::engineio::{Config, Cors, EngineIo, Handler, PacketData, Sessions, Socket};

use crate::http::{Body, Req};
use crate::wslink;

/// Packets that may wait for a client that does not fetch them.
const MAX_BUFFERED_PACKETS: usize = 1_000;
/// Bytes of the chat's messages that may wait for a client that does not fetch them: two
/// messages of `maxPayload`. Every chat message is copied into every session's buffer, so
/// without it one client posting 1 MB messages made each idle session hold up to 1 GB
/// (`pushwire loadtest --hostile` took the server past 11 GiB).
const MAX_BUFFERED_BYTES: usize = 2_000_000;

/// The Engine.io endpoint's state.
pub(crate) struct Eio {
    engine: EngineIo,
}

/// The demo chat's settings: engine.io's defaults (25 s / 5 s heartbeats, 1 MB bodies),
/// revisions 3 and 4, at most [`MAX_BUFFERED_PACKETS`] and [`MAX_BUFFERED_BYTES`] waiting
/// per client, and the demo's
/// WebSocket timers on the websocket transport.
fn chat_config() -> Config {
    let config = Config::DEFAULT.with_engine(
        Config::DEFAULT
            .engine
            .with_max_buffered_packets(MAX_BUFFERED_PACKETS)
            .with_max_buffered_bytes(MAX_BUFFERED_BYTES),
    );
    let ws = wslink::timed(config.ws.with_max_write_buffer_size(8 << 20));
    config.with_ws(ws)
}

/// The v4 spec's reference test server ("Test suite"):
///
/// ```js
/// const server = listen(3000, {
///   pingInterval: 300,
///   pingTimeout: 200,
///   maxPayload: 1e6,
///   cors: {
///     origin: "*"
///   }
/// });
/// ```
///
/// Revision 3 stays allowed (engine.io 6's `allowEIO3`), so v3 clients can use the same
/// process.
fn reference_config() -> Config {
    let engine = Config::DEFAULT
        .engine
        .with_ping_interval(Duration::from_millis(300))
        .with_ping_timeout(Duration::from_millis(200))
        .with_limits(Limits::DEFAULT.with_max_payload_bytes(1_000_000))
        .with_max_buffered_packets(MAX_BUFFERED_PACKETS);
    Config::DEFAULT.with_engine(engine).with_cors(Cors::ANY)
}

impl Eio {
    /// Creates the endpoint and starts its application (call within the runtime): the chat,
    /// or with `reference` the spec's echo server.
    pub(crate) fn start(reference: bool) -> Eio {
        let config = if reference {
            reference_config()
        } else {
            chat_config()
        };
        let (engine, mut incoming) = if reference {
            EngineIo::new(config)
        } else {
            EngineIo::with_handler(config, Chat)
        };
        tokio::spawn(async move {
            while let Some(socket) = incoming.accept().await {
                let transport = socket.transport().map_or("?", |t| t.name());
                println!(
                    "engine.io {}: session open over {transport} (EIO={})",
                    socket.sid(),
                    socket.protocol().number()
                );
                tokio::spawn(member(socket));
            }
        });
        Eio { engine }
    }

    /// Closes every session (held polls get the `close` packet, websockets a Close).
    pub(crate) fn close_all(&self) -> usize {
        self.engine.close_all()
    }
}

/// The chat: every message goes to every session, queued before the request that carried
/// it is answered (so a poll right after a POST sees all of it).
struct Chat;

impl Handler for Chat {
    fn on_message(
        &mut self,
        sessions: &mut Sessions<'_>,
        _sid: &str,
        data: PacketData,
    ) -> Option<PacketData> {
        // A client whose buffer is full stopped fetching: it misses the message, and its
        // heartbeat will close it.
        sessions.broadcast(&data);
        None
    }
}

/// One session: its messages are echoed (the chat's never arrive here: [`Chat`] takes them).
async fn member(mut socket: Socket) {
    while let Some(data) = socket.recv().await {
        // Refused only when the client stopped fetching (its heartbeat closes it).
        let _ = socket.send(data);
    }
    let reason = socket.close_reason().map_or("?", |r| r.as_str());
    println!("engine.io {}: session closed ({reason})", socket.sid());
}

/// Handles one request to `/engine.io/`.
pub(crate) async fn handle(req: Req, peer: &str, eio: &Eio) -> Response<Body> {
    let target = crate::http::describe(&req);
    let resp = eio.engine.handle(req).await;
    let status = resp.status();
    if !status.is_success() && !status.is_informational() {
        println!("{peer}: engine.io {target} -> {status}");
    }
    resp.map(|b| Body::Full(Some(b.into_bytes())))
}
