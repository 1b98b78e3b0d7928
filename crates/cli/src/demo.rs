//! The WebSocket demos: `/ws/echo` (every message back to its sender; also an Autobahn
//! fuzzingclient target) and `/ws/chat` (every message to every connected page).

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use bytes::BytesMut;
use pushwire_ws::handshake::{ClientOffer, HandshakeLimits, ServerHandshake};
use pushwire_ws::{Config, Connection};

use crate::serve::Request;
use crate::wslink::{self, App, Handle, Input, Message};

/// Runs the opening handshake on a request head already read. On success the 101 has been
/// written and the bytes after the head are returned; on failure the rejection (400, or 426
/// for an unsupported version) has been written and `None` is returned.
pub(crate) fn accept(
    stream: &mut TcpStream,
    req: &Request,
    peer: &str,
) -> io::Result<Option<(ClientOffer, BytesMut)>> {
    let mut hs = ServerHandshake::new(HandshakeLimits::default());
    match hs.feed(&req.raw_head) {
        Ok(Some(offer)) => {
            // No subprotocol, no extension: Chromium's permessage-deflate offer is declined
            // by leaving it out of the response.
            let response = offer
                .accept(None, None)
                .map_err(|e| io::Error::other(e.to_string()))?;
            stream.write_all(&response)?;
            let mut rest = hs.take_remaining();
            rest.extend_from_slice(&req.leftover);
            Ok(Some((offer, rest)))
        }
        Ok(None) => {
            stream.write_all(&pushwire_ws::handshake::rejection_response(400))?;
            Ok(None)
        }
        Err(e) => {
            println!("{peer}: WebSocket handshake refused ({e}), {}", e.status());
            stream.write_all(&e.response())?;
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
pub(crate) fn ws_echo(mut stream: TcpStream, req: Request, peer: &str) -> io::Result<()> {
    let Some((_, rest)) = accept(&mut stream, &req, peer)? else {
        return Ok(());
    };
    println!("{peer}: WebSocket /ws/echo open");
    let mut config = Config::default();
    // Large enough for every Autobahn case (9.* sends 16 MiB messages, and 4 MiB in 64-byte
    // fragments); the output limit bounds what a client that does not read can pile up.
    config.max_message_size = 16 << 20;
    config.max_fragments = 1 << 20;
    config.max_buffered_output = 32 << 20;
    let (_handle, rx, _registered) = wslink::start(&stream)?;
    let mut app = Echo { messages: 0 };
    let why = wslink::run(stream, Connection::server(config), rest, rx, &mut app);
    println!(
        "{peer}: WebSocket /ws/echo ended: {why}, {} messages echoed",
        app.messages
    );
    Ok(())
}

/// The connected chat pages.
#[derive(Default)]
pub(crate) struct Chat {
    members: Mutex<HashMap<u64, Handle>>,
    next_id: AtomicU64,
}

impl Chat {
    /// Sends `msg` to every member but `from` (the sender's own thread sends its copy);
    /// members that cannot keep up are dropped.
    fn broadcast(&self, from: u64, msg: &Message) {
        let mut members = self.members.lock().unwrap_or_else(|e| e.into_inner());
        members.retain(|&id, h| id == from || h.offer(Input::Send(msg.clone())));
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
        // Not through our own channel: a burst of messages would fill it and drop us.
        wslink::send(conn, msg);
    }
}

/// Largest chat message: the chat is for short lines.
const MAX_CHAT_MESSAGE: u64 = 64 * 1024;

/// `GET /ws/chat`.
pub(crate) fn ws_chat(
    mut stream: TcpStream,
    req: Request,
    peer: &str,
    chat: &Chat,
) -> io::Result<()> {
    let Some((_, rest)) = accept(&mut stream, &req, peer)? else {
        return Ok(());
    };
    let mut config = Config::default();
    config.max_frame_size = MAX_CHAT_MESSAGE;
    config.max_message_size = MAX_CHAT_MESSAGE;
    config.max_fragments = 64;
    config.max_buffered_output = 4 << 20;
    let (handle, rx, _registered) = wslink::start(&stream)?;
    let id = chat.next_id.fetch_add(1, Ordering::Relaxed);
    let count = {
        let mut m = chat.members.lock().unwrap_or_else(|e| e.into_inner());
        m.insert(id, handle);
        m.len()
    };
    println!("{peer}: WebSocket /ws/chat joined ({count} in the chat)");
    let mut app = ChatMember {
        chat,
        id,
        messages: 0,
    };
    let why = wslink::run(stream, Connection::server(config), rest, rx, &mut app);
    chat.members
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    println!(
        "{peer}: WebSocket /ws/chat left: {why}, {} messages sent",
        app.messages
    );
    Ok(())
}
