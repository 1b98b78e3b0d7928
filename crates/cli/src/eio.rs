//! The Engine.io v3 demo at `/engine.io/`: a chat where every message goes to every session,
//! over long-polling that upgrades to websocket (or websocket only).
//!
//! pushwire-engineio's [`Server`] owns the sessions; this module is its I/O layer: HTTP
//! requests in, held polls answered when the session has something to send, and the
//! websocket transport run on pushwire-ws (the handshake by [`ServerHandshake`], messages
//! by a [`Connection`] in [`crate::wslink`]). One mutex guards the server (never held across
//! an `.await`); a timer task drives its heartbeats; held polls wait on a [`Notify`].

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, sid_from_bytes, Event, Outcome, Server, WsAction};
use pushwire_engineio::{Instant as EioInstant, WsMessage};
use pushwire_ws::handshake::{HandshakeLimits, ServerHandshake};
use pushwire_ws::{Config, Connection, Limits};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use crate::http::{respond, write_all, Request};
use crate::wslink::{self, App, Handle, Input, Message};

type Sids = Box<dyn FnMut() -> String + Send>;

/// Largest POST body (engine.io's `maxHttpBufferSize` default).
const MAX_BODY: usize = 1_000_000;
/// Time allowed for a POST body to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Packets that may wait for a client that does not fetch them.
const MAX_BUFFERED_PACKETS: usize = 1_000;

struct Shared {
    server: Mutex<Server<Sids>>,
    /// Signalled after every change, for held polls.
    changed: Notify,
    start: Instant,
    /// The websocket connections, by sid, to wake when their session has output.
    ws: Mutex<HashMap<String, Handle>>,
    ping_interval: Duration,
    ping_timeout: Duration,
}

/// The Engine.io endpoint's state.
pub(crate) struct Eio {
    shared: Arc<Shared>,
}

/// Session ids: 15 bytes from a per-process randomly keyed SipHash of a counter (the std
/// library's `RandomState` is seeded from the OS), so they are unique and not guessable.
fn sid_source() -> Sids {
    let keys = std::collections::hash_map::RandomState::new();
    let mut counter = 0u64;
    Box::new(move || {
        counter += 1;
        let mut b = [0u8; 15];
        for (i, chunk) in b.chunks_mut(8).enumerate() {
            let mut h = keys.build_hasher();
            h.write_u64(counter);
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
        sid_from_bytes(b)
    })
}

impl Eio {
    /// Creates the server and starts its timer task (call within the runtime).
    pub(crate) fn start() -> Eio {
        let config = server::Config::DEFAULT.with_max_buffered_packets(MAX_BUFFERED_PACKETS);
        let shared = Arc::new(Shared {
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            server: Mutex::new(Server::new(config, sid_source())),
            changed: Notify::new(),
            start: Instant::now(),
            ws: Mutex::new(HashMap::new()),
        });
        let timer = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(100));
            loop {
                ticks.tick().await;
                let mut server = timer.lock();
                let now = timer.now();
                if server.poll_timeout().is_some_and(|t| t <= now) {
                    server.handle_timeout(now);
                    timer.pump(&mut server);
                }
            }
        });
        Eio { shared }
    }
}

impl Eio {
    /// Closes every session (held polls get the `close` packet, websockets a Close).
    pub(crate) fn close_all(&self) -> usize {
        let mut server = self.shared.lock();
        let sids: Vec<String> = server.sids().map(String::from).collect();
        let now = self.shared.now();
        for sid in &sids {
            server.close(now, sid);
        }
        self.shared.pump(&mut server);
        sids.len()
    }
}

impl Shared {
    fn now(&self) -> EioInstant {
        EioInstant::from_duration(self.start.elapsed())
    }

    fn lock(&self) -> MutexGuard<'_, Server<Sids>> {
        self.server.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles the server's events (the chat), logs session changes, then wakes the held
    /// polls and websocket writers.
    fn pump(&self, server: &mut Server<Sids>) {
        while let Some((sid, event)) = server.poll_event() {
            match event {
                Event::Opened => {
                    let transport = server.session(&sid).map_or("?", |s| s.transport().name());
                    println!("engine.io {sid}: session open over {transport}");
                }
                // A client whose buffer is full stopped fetching: it misses the message,
                // and its heartbeat will close it.
                Event::Message(data) => {
                    server.broadcast(&data);
                }
                Event::Upgraded => println!("engine.io {sid}: upgraded to websocket"),
                Event::Closed(reason) => {
                    println!("engine.io {sid}: session closed ({})", reason.as_str());
                }
            }
        }
        self.changed.notify_waiters();
        let ws = self.ws.lock().unwrap_or_else(|e| e.into_inner());
        for h in ws.values() {
            h.offer(Input::Wake);
        }
    }
}

/// Writes an engine.io response with `Content-Length` and `Connection: close`.
async fn write_response(stream: &mut TcpStream, r: &HttpResponse) -> io::Result<()> {
    let reason = match r.status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    let mut out = head.into_bytes();
    out.extend_from_slice(&r.body);
    write_all(stream, &out).await
}

/// Handles one request to `/engine.io/`.
pub(crate) async fn handle(
    mut stream: TcpStream,
    req: Request,
    peer: &str,
    eio: &Eio,
) -> io::Result<()> {
    let shared = &eio.shared;
    let method = match req.method.as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "OPTIONS" => Method::Options,
        _ => Method::Other,
    };
    let upgrade = req
        .header("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    // The body of a POST, bounded.
    let mut body = Vec::new();
    if method == Method::Post {
        let Some(len) = req
            .header("content-length")
            .and_then(|l| l.parse::<usize>().ok())
        else {
            return respond(
                &mut stream,
                "411 Length Required",
                "text/plain",
                b"Content-Length required\n",
            )
            .await;
        };
        if len > MAX_BODY {
            println!("{peer}: engine.io POST of {len} bytes refused (413)");
            return respond(
                &mut stream,
                "413 Payload Too Large",
                "text/plain",
                b"body too large\n",
            )
            .await;
        }
        body = req.leftover.clone();
        body.truncate(len);
        // The whole body must arrive within BODY_TIMEOUT (slow-loris).
        let deadline = tokio::time::Instant::now() + BODY_TIMEOUT;
        let mut chunk = vec![0u8; 16 * 1024];
        while body.len() < len {
            let want = (len - body.len()).min(chunk.len());
            match tokio::time::timeout_at(deadline, stream.read(&mut chunk[..want])).await {
                Ok(Ok(0)) => return Ok(()),
                Ok(Ok(n)) => body.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return respond(
                        &mut stream,
                        "408 Request Timeout",
                        "text/plain",
                        b"body too slow\n",
                    )
                    .await
                }
            }
        }
    }
    // A websocket request is checked by pushwire-ws before the session sees it.
    let mut offer = None;
    if upgrade {
        let mut hs = ServerHandshake::new(HandshakeLimits::DEFAULT);
        match hs.feed(&req.raw_head) {
            Ok(Some(o)) => {
                // No subprotocol, no extension; written only if the session accepts.
                let (response, mut conn) = hs
                    .into_connection(&o, None, ws_config(), None)
                    .map_err(io::Error::other)?;
                conn.feed(&req.leftover).map_err(io::Error::other)?;
                offer = Some((response, conn));
            }
            Ok(None) => {
                return write_all(
                    &mut stream,
                    &pushwire_ws::handshake::rejection_response(400),
                )
                .await;
            }
            Err(e) => {
                println!("{peer}: engine.io WebSocket handshake refused ({e})");
                return write_all(&mut stream, &e.response()).await;
            }
        }
    }
    let query = req.query().unwrap_or("");
    let http = HttpRequest {
        method,
        query,
        origin: req.header("origin"),
        content_type: req.header("content-type"),
        websocket_upgrade: offer.is_some(),
        body: &body,
    };
    let outcome = {
        let mut server = shared.lock();
        let outcome = server.handle_request(shared.now(), &http);
        shared.pump(&mut server);
        outcome
    };
    match outcome {
        Outcome::Respond(r) => {
            if r.status != 200 {
                println!(
                    "{peer}: engine.io {} {} -> {} {}",
                    req.method,
                    req.target,
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            }
            write_response(&mut stream, &r).await
        }
        Outcome::Hold { sid } => {
            drop(req);
            // Held until the session has something to send. The session answers on its own
            // within a heartbeat; the cap only guards against a bug here.
            let cap = Instant::now() + shared.ping_interval + shared.ping_timeout * 2;
            let r = loop {
                // Registered before looking, so a change made in between is not missed.
                let changed = shared.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                {
                    let mut server = shared.lock();
                    if let Some(r) = server.poll_http_response(&sid) {
                        shared.pump(&mut server);
                        break Some(r);
                    }
                    if Instant::now() >= cap || server.session(&sid).is_none() {
                        server.handle_get_aborted(shared.now(), &sid);
                        shared.pump(&mut server);
                        break None;
                    }
                }
                let _ = tokio::time::timeout(Duration::from_millis(500), changed).await;
            };
            match r {
                Some(r) => write_response(&mut stream, &r).await,
                None => {
                    respond(
                        &mut stream,
                        "500 Internal Server Error",
                        "text/plain",
                        b"poll not answered\n",
                    )
                    .await
                }
            }
        }
        Outcome::AcceptWebSocket { sid } => {
            drop(req);
            let Some((response, conn)) = offer else {
                return Ok(());
            };
            write_all(&mut stream, &response).await?;
            websocket(stream, conn, shared, sid, peer).await
        }
    }
}

/// The websocket transport of session `sid`.
struct EioSocket<'a> {
    shared: &'a Shared,
    sid: String,
}

impl App for EioSocket<'_> {
    fn on_message(&mut self, _conn: &mut Connection, msg: Message) {
        let message = match msg {
            Message::Text(t) => WsMessage::Text(t.as_str().to_owned()),
            Message::Binary(b) => WsMessage::Binary(b),
        };
        let mut server = self.shared.lock();
        server.handle_ws_message(self.shared.now(), &self.sid, message);
        self.shared.pump(&mut server);
    }

    fn on_wake(&mut self, conn: &mut Connection) {
        let mut server = self.shared.lock();
        while let Some(action) = server.poll_ws_action(&self.sid) {
            match action {
                WsAction::Send(WsMessage::Text(t)) => wslink::send(conn, Message::Text(t.into())),
                WsAction::Send(WsMessage::Binary(b)) => wslink::send(conn, Message::Binary(b)),
                WsAction::Close => {
                    let _ = conn.send_close(1000, "");
                }
            }
        }
    }
}

/// Limits of an Engine.io websocket transport.
fn ws_config() -> Config {
    Config::DEFAULT.with_limits(
        Limits::DEFAULT
            .with_max_message_size(MAX_BODY as u64)
            .with_max_frame_size(MAX_BODY as u64)
            .with_max_buffered_output(8 << 20),
    )
}

async fn websocket(
    stream: TcpStream,
    conn: Connection,
    shared: &Shared,
    sid: String,
    peer: &str,
) -> io::Result<()> {
    println!("{peer}: engine.io {sid}: websocket open");
    let (handle, inbox) = wslink::start();
    shared
        .ws
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(sid.clone(), handle);
    let mut app = EioSocket {
        shared,
        sid: sid.clone(),
    };
    let why = wslink::run(stream, conn, inbox, &mut app).await;
    shared
        .ws
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&sid);
    let mut server = shared.lock();
    server.handle_ws_closed(shared.now(), &sid);
    shared.pump(&mut server);
    drop(server);
    println!("{peer}: engine.io {sid}: websocket ended: {why}");
    Ok(())
}
