//! The WebSocket demos: `/ws/echo` (every message back to its sender; also usable as an
//! Autobahn fuzzingclient target) and `/ws/chat` (every message to every connected page),
//! and `/sse/chat`, the same chat relayed as an event stream.
//!
//! The chat never waits for a member: a message is offered to each member's bounded inbox
//! ([`crate::wslink::INBOX`] messages); a member whose inbox is full is not keeping up and is
//! disconnected (not skipped: a chat page that silently misses lines would be worse), so one
//! slow reader costs the others nothing.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::BytesMut;
use pushwire_sse::{encode, server};
use pushwire_ws::handshake::{HandshakeLimits, ServerHandshake};
use pushwire_ws::{Config, Connection, Limits};
use tokio::net::TcpStream;

use crate::http::{write_all, Request};
use crate::wslink::{self, App, Handle, Input, Message};

/// Runs the opening handshake on a request head already read. On success the 101 has been
/// written and the connection (with the bytes after the head fed) is returned; on failure the
/// rejection (400, or 426 for an unsupported version) has been written and `None` is returned.
pub(crate) async fn accept(
    stream: &mut TcpStream,
    req: &Request,
    peer: &str,
    config: Config,
) -> io::Result<Option<Connection>> {
    let mut hs = ServerHandshake::new(HandshakeLimits::DEFAULT);
    match hs.feed(&req.raw_head) {
        Ok(Some(offer)) => {
            // No subprotocol, no extension: Chromium's permessage-deflate offer is declined
            // by leaving it out of the response.
            let (response, mut conn) = hs
                .into_connection(&offer, None, config, None)
                .map_err(io::Error::other)?;
            conn.feed(&req.leftover).map_err(io::Error::other)?;
            write_all(stream, &response).await?;
            Ok(Some(conn))
        }
        Ok(None) => {
            write_all(stream, &pushwire_ws::handshake::rejection_response(400)).await?;
            Ok(None)
        }
        Err(e) => {
            println!("{peer}: WebSocket handshake refused ({e}), {}", e.status());
            write_all(stream, &e.response()).await?;
            Ok(None)
        }
    }
}

struct Echo {
    messages: u64,
}

impl App for Echo {
    fn on_message(&mut self, conn: &mut Connection, msg: Message) {
        self.messages += 1;
        wslink::send(conn, msg);
    }
}

/// `GET /ws/echo`.
pub(crate) async fn ws_echo(mut stream: TcpStream, req: Request, peer: &str) -> io::Result<()> {
    // Boxed, and bound before the await: the handshake's state is freed before the
    // connection settles in (see `serve::handle`).
    // Large enough for every Autobahn case (9.* sends 16 MiB messages, and 4 MiB in 64-byte
    // fragments); the output limit bounds what a client that does not read can pile up.
    let limits = Limits::DEFAULT
        .with_max_message_size(16 << 20)
        .with_max_fragments(1 << 20)
        .with_max_buffered_output(32 << 20);
    let config = Config::DEFAULT.with_limits(limits);
    let accepting = Box::pin(accept(&mut stream, &req, peer, config));
    let Some(conn) = accepting.await? else {
        return Ok(());
    };
    drop(req);
    println!("{peer}: WebSocket /ws/echo open");
    let (_handle, inbox) = wslink::start();
    let mut app = Echo { messages: 0 };
    let why = wslink::run(stream, conn, inbox, &mut app).await;
    println!(
        "{peer}: WebSocket /ws/echo ended: {why}, {} messages echoed",
        app.messages
    );
    Ok(())
}

/// The chat's members: WebSocket pages and SSE relays.
#[derive(Default)]
pub(crate) struct Chat {
    members: Mutex<HashMap<u64, Handle>>,
    next_id: AtomicU64,
}

impl Chat {
    /// Sends `msg` to every member but `from` (the sender's own task sends its copy);
    /// members that cannot keep up are told to stop and leave the chat at once.
    fn broadcast(&self, from: u64, msg: &Message) {
        let msg = Arc::new(msg.clone());
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.retain(|&id, h| id == from || h.offer(Input::Send(msg.clone())));
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

struct ChatMember<'a> {
    chat: &'a Chat,
    id: u64,
    messages: u64,
}

impl App for ChatMember<'_> {
    fn on_message(&mut self, conn: &mut Connection, msg: Message) {
        self.messages += 1;
        self.chat.broadcast(self.id, &msg);
        // Not through our own inbox: a burst of messages would fill it and drop us.
        wslink::send(conn, msg);
    }
}

/// Largest chat message: the chat is for short lines.
const MAX_CHAT_MESSAGE: u64 = 64 * 1024;

/// `GET /ws/chat`.
pub(crate) async fn ws_chat(
    mut stream: TcpStream,
    req: Request,
    peer: &str,
    chat: &Chat,
) -> io::Result<()> {
    // Boxed, and bound before the await: the handshake's state is freed before the
    // connection settles in (see `serve::handle`).
    let limits = Limits::DEFAULT
        .with_max_frame_size(MAX_CHAT_MESSAGE)
        .with_max_message_size(MAX_CHAT_MESSAGE)
        .with_max_fragments(64)
        .with_max_buffered_output(4 << 20);
    let accepting = Box::pin(accept(
        &mut stream,
        &req,
        peer,
        Config::DEFAULT.with_limits(limits),
    ));
    let Some(conn) = accepting.await? else {
        return Ok(());
    };
    drop(req);
    let (handle, inbox) = wslink::start();
    let (id, count) = chat.join(handle);
    println!("{peer}: WebSocket /ws/chat joined ({count} in the chat)");
    let mut app = ChatMember {
        chat,
        id,
        messages: 0,
    };
    let why = wslink::run(stream, conn, inbox, &mut app).await;
    chat.leave(id);
    println!(
        "{peer}: WebSocket /ws/chat left: {why}, {} messages sent",
        app.messages
    );
    Ok(())
}

/// Encodes one chat message as an event: text as `data:` (one line per line), binary as
/// `event: binary` with the bytes in base64.
fn chat_event(msg: &Message, out: &mut BytesMut) {
    match msg {
        Message::Text(t) => encode::EventBuilder::new().data(t.as_str()).encode(out),
        Message::Binary(b) => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(b);
            if let Ok(ev) = encode::EventBuilder::new().event("binary") {
                ev.data(&b64).encode(out);
            }
        }
    }
}

/// `GET /sse/chat`: every chat message as an event (read-only: post through `/ws/chat`).
pub(crate) async fn sse_chat(
    mut stream: TcpStream,
    req: Request,
    peer: &str,
    chat: &Chat,
) -> io::Result<()> {
    drop(req);
    let mut out = BytesMut::new();
    out.extend_from_slice(&crate::http::sse_head());
    out.extend_from_slice(server::KEEP_ALIVE);
    write_all(&mut stream, &out).await?;
    let (handle, mut inbox) = wslink::start();
    let (id, count) = chat.join(handle);
    println!("{peer}: SSE /sse/chat joined ({count} in the chat)");
    let mut relayed = 0u64;
    let keep_alive = crate::http::KEEP_ALIVE_EVERY;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    let why = loop {
        let input = tokio::select! {
            i = inbox.recv() => i,
            _ = ticks.tick() => Some(Input::Wake),
            // The client closing its side is the only thing it can tell us.
            r = stream.readable() => {
                let mut probe = [0u8; 64];
                match r.and_then(|()| stream.try_read(&mut probe)) {
                    Ok(0) => break "peer went away".to_string(),
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => break format!("read failed ({e})"),
                    _ => continue,
                }
            }
        };
        out.clear();
        match input {
            Some(Input::Send(m)) => {
                chat_event(&m, &mut out);
                relayed += 1;
            }
            Some(Input::Wake) => out.extend_from_slice(server::KEEP_ALIVE),
            Some(Input::Shutdown) => break "server shutting down".to_string(),
            None => break "dropped: not keeping up".to_string(),
        }
        if let Err(e) = write_all(&mut stream, &out).await {
            break format!("write failed ({e})");
        }
    };
    chat.leave(id);
    println!("{peer}: SSE /sse/chat left: {why}, {relayed} messages relayed");
    Ok(())
}
