//! The Engine.io v3 demo at `/engine.io/`: a chat where every message goes to every session,
//! over long-polling that upgrades to websocket (or websocket only).
//!
//! pushwire-engineio's [`Server`] owns the sessions; this module is its I/O layer: HTTP
//! requests in (from hyper), held polls answered when the session has something to send, and
//! the websocket transport run on pushwire-tokio (the handshake checked by
//! [`Upgrade::from_request`] before the session sees it, messages in [`crate::wslink`]). One
//! mutex guards the server (never held across an `.await`); a timer task drives its
//! heartbeats; held polls wait on a [`Notify`].

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use pushwire_engineio::http::{HttpRequest, HttpResponse, Method};
use pushwire_engineio::server::{self, sid_from_bytes, Event, Outcome, Server, WsAction};
use pushwire_engineio::{Instant as EioInstant, WsMessage};
use pushwire_tokio::upgrade::{HyperWebSocket, Upgrade};
use pushwire_tokio::Config;
use tokio::sync::Notify;

use crate::http::{self, Body, Req};
use crate::wslink::{self, App, Handle, Input, Message, Outbox};

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

/// An engine.io response for hyper.
fn to_response(r: HttpResponse) -> Response<Body> {
    let mut resp = Response::new(Body::Full(Some(Bytes::from(r.body))));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &r.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

/// Handles one request to `/engine.io/`.
pub(crate) async fn handle(mut req: Req, peer: &str, eio: &Eio) -> Response<Body> {
    let shared = &eio.shared;
    let method = match *req.method() {
        hyper::Method::GET => Method::Get,
        hyper::Method::POST => Method::Post,
        hyper::Method::OPTIONS => Method::Options,
        _ => Method::Other,
    };
    // A websocket request is checked by pushwire-ws before the session sees it.
    let mut upgrade = None;
    if pushwire_tokio::upgrade::is_websocket_request(&req) {
        match Upgrade::from_request(&mut req) {
            Ok(up) => upgrade = Some(up),
            Err(e) => {
                println!("{peer}: engine.io WebSocket handshake refused ({e})");
                return e.response();
            }
        }
    }
    let (parts, incoming) = req.into_parts();
    let req = hyper::Request::from_parts(parts, ());
    // The body of a POST, bounded in size and time.
    let mut body = Bytes::new();
    if method == Method::Post {
        let declared = http::header(&req, "content-length").and_then(|l| l.parse::<usize>().ok());
        if declared.is_some_and(|len| len > MAX_BODY) {
            println!(
                "{peer}: engine.io POST of {} bytes refused (413)",
                declared.unwrap_or(0)
            );
            return http::respond(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text/plain",
                b"body too large\n",
            );
        }
        // The whole body must arrive within BODY_TIMEOUT (slow-loris).
        let collected =
            tokio::time::timeout(BODY_TIMEOUT, Limited::new(incoming, MAX_BODY).collect()).await;
        body = match collected {
            Ok(Ok(c)) => c.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                println!("{peer}: engine.io POST body over {MAX_BODY} bytes refused (413)");
                return http::respond(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "text/plain",
                    b"body too large\n",
                );
            }
            Ok(Err(_)) => {
                return http::respond(StatusCode::BAD_REQUEST, "text/plain", b"body not read\n")
            }
            Err(_) => {
                return http::respond(
                    StatusCode::REQUEST_TIMEOUT,
                    "text/plain",
                    b"body too slow\n",
                )
            }
        };
    }
    let target = http::describe(&req);
    let http_req = HttpRequest {
        method,
        query: http::query(&req).unwrap_or(""),
        origin: http::header(&req, "origin"),
        content_type: http::header(&req, "content-type"),
        websocket_upgrade: upgrade.is_some(),
        body: &body,
    };
    let outcome = {
        let mut server = shared.lock();
        let outcome = server.handle_request(shared.now(), &http_req);
        shared.pump(&mut server);
        outcome
    };
    drop(req);
    match outcome {
        Outcome::Respond(r) => {
            if r.status != 200 {
                println!(
                    "{peer}: engine.io {target} -> {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            }
            to_response(r)
        }
        Outcome::Hold { sid } => {
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
                Some(r) => to_response(r),
                None => http::respond(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    b"poll not answered\n",
                ),
            }
        }
        Outcome::AcceptWebSocket { sid } => {
            let Some(up) = upgrade else {
                return http::respond(StatusCode::BAD_REQUEST, "text/plain", b"not a websocket\n");
            };
            let (resp, pending) = match up.accept(None, ws_config()) {
                Ok(r) => r,
                Err(e) => {
                    println!("{peer}: engine.io WebSocket handshake refused ({e})");
                    return http::respond(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "text/plain",
                        b"cannot accept\n",
                    );
                }
            };
            let shared = Arc::clone(shared);
            let peer = peer.to_string();
            tokio::spawn(async move {
                match pending.await {
                    Ok(ws) => websocket(ws, &shared, sid, &peer).await,
                    Err(e) => {
                        println!("{peer}: engine.io {sid}: websocket upgrade failed ({e})");
                        let mut server = shared.lock();
                        server.handle_ws_closed(shared.now(), &sid);
                        shared.pump(&mut server);
                    }
                }
            });
            resp
        }
    }
}

/// The websocket transport of session `sid`.
struct EioSocket<'a> {
    shared: &'a Shared,
    sid: String,
}

impl App for EioSocket<'_> {
    fn on_message(&mut self, _out: &mut Outbox, msg: Message) {
        let message = match msg {
            Message::Text(t) => WsMessage::Text(t.as_str().to_owned()),
            Message::Binary(b) => WsMessage::Binary(b),
        };
        let mut server = self.shared.lock();
        server.handle_ws_message(self.shared.now(), &self.sid, message);
        self.shared.pump(&mut server);
    }

    fn on_wake(&mut self, out: &mut Outbox) {
        let mut server = self.shared.lock();
        while let Some(action) = server.poll_ws_action(&self.sid) {
            match action {
                WsAction::Send(WsMessage::Text(t)) => out.send(Message::Text(t.into())),
                WsAction::Send(WsMessage::Binary(b)) => out.send(Message::Binary(b)),
                WsAction::Close => out.close(1000, ""),
            }
        }
    }
}

/// Limits of an Engine.io websocket transport (permessage-deflate agreed when offered, as
/// engine.io's own server does).
fn ws_config() -> Config {
    wslink::timed(
        Config::DEFAULT
            .with_max_message_size(MAX_BODY as u64)
            .with_max_frame_size(MAX_BODY as u64)
            .with_max_write_buffer_size(8 << 20),
    )
}

async fn websocket(ws: HyperWebSocket, shared: &Shared, sid: String, peer: &str) {
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
    let why = wslink::run(ws, inbox, &mut app).await;
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
}
