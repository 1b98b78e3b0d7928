//! The WebSocket demos: `/ws/echo` (every message back to its sender; also usable as an
//! Autobahn fuzzingclient target) and `/ws/chat` (every message to every connected page),
//! and `/sse/chat`, the same chat relayed as an event stream.
//!
//! The chat never waits for a member: a message is offered to each member's bounded inbox
//! ([`crate::wslink::INBOX`] messages); a member whose inbox is full is not keeping up and is
//! disconnected (not skipped: a chat page that silently misses lines would be worse), so one
//! slow reader costs the others nothing.
//!
//! With `--redis`, the chat is fleet-wide: each message from a local member is also
//! published on [`FLEET_CHANNEL`] (`<6-byte node uid><t|b><payload>`), and every node relays
//! the other nodes' messages to its members (at most once, as everything over Redis).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use std::time::Duration;

use hyper::Response;
use pushwire_sse::encode;
use pushwire_tokio::sse::{Channel, LastEventId, Sse, Subscription};
use pushwire_tokio::upgrade::{HyperWebSocket, Upgrade};
use pushwire_tokio::Config;

use crate::http::{self, Body, Req, ResetOnClose};
use crate::wslink::{self, App, Handle, Input, Message, Outbox};

/// Accepts the WebSocket handshake in `req` with `config` (permessage-deflate agreed when
/// the client offers it) and runs `then` on the connection in its own task once hyper hands
/// it over. Returns the response for hyper to send: the 101 (200 over HTTP/2), or the 400 /
/// 426 refusal.
pub(crate) fn accept<F, Fut>(mut req: Req, peer: &str, config: Config, then: F) -> Response<Body>
where
    F: FnOnce(HyperWebSocket, Option<ResetOnClose>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let up = match Upgrade::from_request(&mut req) {
        Ok(up) => up,
        Err(e) => {
            println!(
                "{peer}: WebSocket handshake refused ({e}), {}",
                e.status().as_u16()
            );
            return e.response();
        }
    };
    // An HTTP/1.1 upgrade owns its connection, which may be reset when given up on; an
    // HTTP/2 WebSocket is one stream among others.
    let reset = if req.version() == hyper::Version::HTTP_11 {
        req.extensions_mut().remove::<ResetOnClose>()
    } else {
        None
    };
    drop(req);
    // No subprotocol.
    let (resp, pending) = match up.accept(None, config) {
        Ok(r) => r,
        Err(e) => {
            println!("{peer}: WebSocket handshake refused ({e})");
            return http::respond(
                hyper::StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                b"cannot accept\n",
            );
        }
    };
    let peer = peer.to_string();
    tokio::spawn(async move {
        match pending.await {
            Ok(ws) => then(ws, reset).await,
            Err(e) => println!("{peer}: WebSocket upgrade failed ({e})"),
        }
    });
    resp
}

/// Whether the connection agreed on permessage-deflate, for the log.
fn deflate_note(resp: &Response<Body>) -> &'static str {
    if resp.headers().contains_key("sec-websocket-extensions") {
        ", permessage-deflate"
    } else {
        ""
    }
}

struct Echo {
    messages: u64,
}

impl App for Echo {
    fn on_message(&mut self, out: &mut Outbox, msg: Message) {
        self.messages += 1;
        out.send(msg);
    }
}

/// `GET /ws/echo`.
pub(crate) fn ws_echo(req: Req, peer: &str) -> Response<Body> {
    // Large enough for every Autobahn case (9.* sends 16 MiB messages, and 4 MiB in 64-byte
    // fragments); the write buffer limit bounds what a client that does not read can pile up.
    let config = wslink::timed(
        Config::DEFAULT
            .with_max_message_size(16 << 20)
            .with_max_fragments(1 << 20)
            .with_max_write_buffer_size(32 << 20),
    );
    let who = peer.to_string();
    let resp = accept(req, peer, config, move |ws, reset| async move {
        let (_handle, inbox) = wslink::start();
        let mut app = Echo { messages: 0 };
        let why = wslink::run(ws, inbox, &mut app, reset).await;
        println!(
            "{who}: WebSocket /ws/echo ended: {why}, {} messages echoed",
            app.messages
        );
    });
    if resp.status().as_u16() < 300 {
        println!("{peer}: WebSocket /ws/echo open{}", deflate_note(&resp));
    }
    resp
}

/// The Redis channel of the fleet-wide WebSocket/SSE chat.
pub(crate) const FLEET_CHANNEL: &str = "pushwire-demo#chat";

/// The sender id of messages relayed from other nodes (no local member has it).
const REMOTE: u64 = u64::MAX;

/// Chat events kept for `/sse/chat` readers that reconnect with `Last-Event-ID`.
const SSE_HISTORY: usize = 1024;

/// At most this many bytes of them (a chat message is at most 64 KiB).
const SSE_HISTORY_BYTES: usize = 4 << 20;

/// The chat's members: WebSocket pages; and its event stream, read by `/sse/chat`.
pub(crate) struct Chat {
    members: Mutex<HashMap<u64, Handle>>,
    next_id: AtomicU64,
    fleet: OnceLock<pushwire_tokio::socketio::cluster::Cluster>,
    /// Every chat message as an event, with ids for resuming readers.
    sse: Channel,
}

impl Default for Chat {
    fn default() -> Self {
        Chat {
            members: Mutex::default(),
            next_id: AtomicU64::new(0),
            fleet: OnceLock::new(),
            sse: Channel::with_max_bytes(SSE_HISTORY, SSE_HISTORY_BYTES),
        }
    }
}

impl Chat {
    /// Sends `msg` to every member but `from` (the sender's own task sends its copy);
    /// members that cannot keep up are told to stop and leave the chat at once. A local
    /// member's message also goes to the fleet, when there is one.
    fn broadcast(&self, from: u64, msg: &Message) {
        if from != REMOTE {
            if let Some(c) = self.fleet.get() {
                let (kind, data): (u8, &[u8]) = match msg {
                    Message::Text(t) => (b't', t.as_str().as_bytes()),
                    Message::Binary(b) => (b'b', b),
                };
                let mut frame = Vec::with_capacity(7 + data.len());
                frame.extend_from_slice(c.uid().as_bytes());
                frame.push(kind);
                frame.extend_from_slice(data);
                let _ = c.publish(FLEET_CHANNEL, frame);
            }
        }
        chat_event(msg, &self.sse);
        let msg = Arc::new(msg.clone());
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.retain(|&id, h| id == from || h.offer(Input::Send(msg.clone())));
    }

    /// Ends the event streams of `/sse/chat` readers (at shutdown), after what they have.
    pub(crate) fn close_streams(&self) {
        self.sse.close();
    }

    /// Makes the chat fleet-wide over `cluster` (subscribed to [`FLEET_CHANNEL`]): relays
    /// the other nodes' messages to the members here, from a task of its own.
    pub(crate) fn join_fleet(
        self: &Arc<Self>,
        cluster: pushwire_tokio::socketio::cluster::Cluster,
    ) {
        if self.fleet.set(cluster.clone()).is_err() {
            return;
        }
        let chat = Arc::downgrade(self);
        tokio::spawn(async move {
            let own = cluster.uid().as_bytes().to_vec();
            while let Some((_, frame)) = cluster.channel_message().await {
                let Some(chat) = chat.upgrade() else { return };
                // Ours come back from Redis too: skip them.
                if frame.len() < own.len() + 1 || frame[..own.len()] == own[..] {
                    continue;
                }
                let data = frame.slice(own.len() + 1..);
                let msg = match frame[own.len()] {
                    b't' => match pushwire_tokio::Utf8Bytes::from_bytes(data) {
                        Ok(t) => Message::Text(t),
                        Err(_) => continue,
                    },
                    b'b' => Message::Binary(data),
                    _ => continue,
                };
                chat.broadcast(REMOTE, &msg);
            }
        });
    }

    /// Adds a member; returns its id and how many members there are now.
    fn join(&self, handle: Handle) -> (u64, usize) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut m = self.members.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(id, handle);
        (id, m.len())
    }

    /// Removes member `id` (gone already when it was dropped for not keeping up).
    fn leave(&self, id: u64) {
        self.members
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

struct ChatMember {
    chat: Arc<Chat>,
    id: u64,
    messages: u64,
}

impl App for ChatMember {
    fn on_message(&mut self, out: &mut Outbox, msg: Message) {
        self.messages += 1;
        self.chat.broadcast(self.id, &msg);
        // Not through our own inbox: a burst of messages would fill it and drop us.
        out.send(msg);
    }
}

/// Largest chat message: the chat is for short lines.
const MAX_CHAT_MESSAGE: u64 = 64 * 1024;

/// `GET /ws/chat`.
pub(crate) fn ws_chat(req: Req, peer: &str, chat: &Arc<Chat>) -> Response<Body> {
    let config = wslink::timed(
        Config::DEFAULT
            .with_max_frame_size(MAX_CHAT_MESSAGE)
            .with_max_message_size(MAX_CHAT_MESSAGE)
            .with_max_fragments(64)
            .with_max_write_buffer_size(4 << 20),
    );
    let who = peer.to_string();
    let chat = chat.clone();
    accept(req, peer, config, move |ws, reset| async move {
        let (handle, inbox) = wslink::start();
        let (id, count) = chat.join(handle);
        println!("{who}: WebSocket /ws/chat joined ({count} in the chat)");
        let mut app = ChatMember {
            chat: chat.clone(),
            id,
            messages: 0,
        };
        let why = wslink::run(ws, inbox, &mut app, reset).await;
        chat.leave(id);
        println!(
            "{who}: WebSocket /ws/chat left: {why}, {} messages sent",
            app.messages
        );
    })
}

/// Sends one chat message as an event: text as `data:` (one line per line), binary as
/// `event: binary` with the bytes in base64. The channel gives it its id.
fn chat_event(msg: &Message, sse: &Channel) {
    match msg {
        Message::Text(t) => {
            sse.send(encode::EventBuilder::new().data(t.as_str()));
        }
        Message::Binary(b) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(b);
            if let Ok(ev) = encode::EventBuilder::new().event("binary") {
                sse.send(ev.data(&b64));
            }
        }
    }
}

/// `GET /sse/chat`: every chat message as an event (read-only: post through `/ws/chat`).
/// A reader that reconnects with `Last-Event-ID` (or `?lastEventId=`) gets what it missed,
/// once, while the last [`SSE_HISTORY`] messages are kept; one that falls that far behind
/// is ended (and resumes when it reconnects).
pub(crate) fn sse_chat(req: Req, peer: &str, chat: &Arc<Chat>) -> Response<Body> {
    let last = LastEventId::from_request(&req);
    drop(req);
    let sub = chat.sse.subscribe(last.as_deref());
    match last.as_deref() {
        Some(id) if sub.missed() > 0 => println!(
            "{peer}: SSE /sse/chat resumed after {id:?}: {} messages were no longer kept",
            sub.missed()
        ),
        Some(id) => println!("{peer}: SSE /sse/chat resumed after {id:?}"),
        None => println!("{peer}: SSE /sse/chat joined"),
    }
    let reader = Reader {
        sub,
        peer: peer.to_string(),
        relayed: 0,
    };
    let resp = Sse::new(reader)
        .retry(Duration::from_millis(crate::serve::RETRY_MS))
        .keep_alive(Some(http::KEEP_ALIVE_EVERY))
        .into_http_response();
    resp.map(|b| Body::Dyn(Box::pin(b)))
}

/// A `/sse/chat` reader's stream, which logs why it ended.
struct Reader {
    sub: Subscription,
    peer: String,
    relayed: u64,
}

impl futures_core::Stream for Reader {
    type Item = pushwire_tokio::sse::Event;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let r = std::pin::Pin::new(&mut this.sub).poll_next(cx);
        if let std::task::Poll::Ready(Some(_)) = &r {
            this.relayed += 1;
        }
        r
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        let why = if self.sub.lagged() {
            "ended: not keeping up"
        } else if crate::serve::shutting_down() {
            "server shutting down"
        } else {
            "peer went away"
        };
        println!(
            "{}: SSE /sse/chat left: {why}, {} messages relayed",
            self.peer, self.relayed
        );
    }
}
