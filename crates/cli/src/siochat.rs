//! The Socket.IO demo chat at `/socket.io/` (the default; `--reference-apps` serves the
//! reference app instead, see `sio.rs`): chat rooms in namespace `/`, driven by the demo
//! page's compact Socket.IO client.
//!
//! Events from the client (each answers with an ack when the client asks for one; the ack's
//! one argument is `{ok: true, …}` or `{ok: false, error}`):
//!
//! * `join` `(room)` → `{ok, rooms}`: the socket's rooms after joining, sorted.
//! * `leave` `(room)` → `{ok, rooms}`.
//! * `chat` `({room, text})` → `{ok, delivered}`: the message goes out as `chat`
//!   `{room, from, text}` to every **other** socket in `room`; `delivered` is how many it was
//!   queued to. The sender is left out on purpose: its ack is its confirmation (the page
//!   shows its own line marked "delivered" when the ack arrives), so nobody sees a message
//!   twice. The sender must be in the room.
//! * `rooms` `()` → `{ok, rooms: [{name, members}]}`: every room that has members.
//!
//! Events from the server: `rooms` `([{name, members}])` to each socket when it connects, and
//! to every socket when a room's membership changes, at most once per [`ANNOUNCE_EVERY`]
//! (the first change at once, the changes made meanwhile in one announcement at the end of
//! the interval: without that, `N` sockets joining one after another cost `N²/2` messages,
//! 50 million for 10,000 sockets); `chat` as above.
//!
//! The sender's name (`from`) is the `name` of the `CONNECT` payload (`io({auth: {name}})`)
//! when it is a valid name (the rules of a room name, at most [`MAX_NAME_CHARS`]), else
//! `guest-` and the first characters of the socket id.
//!
//! Bounds: a message's text at most [`MAX_TEXT_CHARS`] characters, a room name at most
//! [`MAX_ROOM_CHARS`], at most [`MAX_ROOMS_PER_SOCKET`] rooms per socket and [`MAX_ROOMS`]
//! rooms with members at once; the rest are pushwire-tokio's Socket.IO bounds (events
//! waiting per socket, outgoing messages per session, see `sio.rs`). Malformed events
//! (wrong argument types) are answered with an error ack, or ignored without one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pushwire_tokio::socketio::cluster::Cluster;
use pushwire_tokio::socketio::{Auth, Event, Incoming, Map, Socket, SocketIo, Value};
use tokio::sync::Notify;

/// Most characters (Unicode scalar values) in a chat message.
pub(crate) const MAX_TEXT_CHARS: usize = 500;
/// Most characters in a room name.
pub(crate) const MAX_ROOM_CHARS: usize = 32;
/// Most characters in a sender's name.
pub(crate) const MAX_NAME_CHARS: usize = 24;
/// Most rooms one socket may be in (its own socket.io room not counted).
pub(crate) const MAX_ROOMS_PER_SOCKET: usize = 8;
/// Most rooms with members at once, over all sockets.
pub(crate) const MAX_ROOMS: usize = 256;

/// Least time between two announcements of the room list to every socket.
pub(crate) const ANNOUNCE_EVERY: Duration = Duration::from_millis(250);

/// Chat rooms are socket.io rooms named with this prefix, so a room name can never be a
/// socket id (each socket is alone in the room of its id: joining it would read another
/// socket's private messages).
pub(crate) const ROOM_PREFIX: &str = "chat:";

/// Why a request was refused; its text is the ack's `error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatError {
    /// The arguments are not what the event takes.
    BadArguments,
    /// The room name is empty, too long, or has characters other than letters, digits,
    /// space, `-`, `_`, `.` (or a space at either end).
    BadRoom,
    /// The text is empty (or only spaces) or longer than [`MAX_TEXT_CHARS`].
    BadText,
    /// The socket is in [`MAX_ROOMS_PER_SOCKET`] rooms already.
    TooManyRoomsForSocket,
    /// [`MAX_ROOMS`] rooms have members already.
    TooManyRooms,
    /// A `chat` to a room the socket is not in.
    NotInRoom,
}

impl ChatError {
    /// The text sent to the client.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChatError::BadArguments => "bad arguments",
            ChatError::BadRoom => "bad room name (1-32 letters, digits, space, - _ .)",
            ChatError::BadText => "bad text (1-500 characters)",
            ChatError::TooManyRoomsForSocket => "too many rooms for one socket (8)",
            ChatError::TooManyRooms => "too many rooms (256)",
            ChatError::NotInRoom => "not in that room",
        }
    }
}

/// Whether `c` may appear in a room or sender name.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')
}

/// Whether `s` is a valid name of at most `max` characters.
fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty() && s.trim() == s && s.chars().count() <= max && s.chars().all(name_char)
}

/// The room name of `v`, if it is a valid one.
pub(crate) fn room_arg(v: Option<&Value>) -> Result<&str, ChatError> {
    let room = v.and_then(Value::as_str).ok_or(ChatError::BadArguments)?;
    if valid_name(room, MAX_ROOM_CHARS) {
        Ok(room)
    } else {
        Err(ChatError::BadRoom)
    }
}

/// The `{room, text}` of a `chat` event's first argument.
pub(crate) fn chat_arg(v: Option<&Value>) -> Result<(&str, &str), ChatError> {
    let m = v
        .and_then(Value::as_object)
        .ok_or(ChatError::BadArguments)?;
    let room = room_arg(m.get("room"))?;
    let text = m
        .get("text")
        .and_then(Value::as_str)
        .ok_or(ChatError::BadArguments)?;
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(ChatError::BadText);
    }
    Ok((room, text))
}

/// The sender name of a socket with `auth` and `id` (see the module docs).
pub(crate) fn sender_name(auth: &Auth, id: &str) -> String {
    if let Auth::Object(m) = auth {
        if let Some(name) = m.get("name").and_then(Value::as_str) {
            if valid_name(name, MAX_NAME_CHARS) {
                return name.to_owned();
            }
        }
    }
    let short: String = id.chars().take(6).collect();
    format!("guest-{short}")
}

/// Every room with members, and how many; each socket's own rooms.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    members: BTreeMap<String, usize>,
}

impl Directory {
    /// Counts a socket that is in `joined` into `room`. `Ok(false)`: it was in it already.
    pub(crate) fn join(
        &mut self,
        joined: &mut BTreeSet<String>,
        room: &str,
    ) -> Result<bool, ChatError> {
        if joined.contains(room) {
            return Ok(false);
        }
        if joined.len() >= MAX_ROOMS_PER_SOCKET {
            return Err(ChatError::TooManyRoomsForSocket);
        }
        if !self.members.contains_key(room) && self.members.len() >= MAX_ROOMS {
            return Err(ChatError::TooManyRooms);
        }
        *self.members.entry(room.to_owned()).or_default() += 1;
        joined.insert(room.to_owned());
        Ok(true)
    }

    /// Takes a socket that is in `joined` out of `room`. `false`: it was not in it.
    pub(crate) fn leave(&mut self, joined: &mut BTreeSet<String>, room: &str) -> bool {
        if !joined.remove(room) {
            return false;
        }
        if let Some(n) = self.members.get_mut(room) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.members.remove(room);
            }
        }
        true
    }

    /// `[{name, members}]`, sorted by name.
    pub(crate) fn list(&self) -> Value {
        Value::Array(
            self.members
                .iter()
                .map(|(name, &n)| {
                    let mut m = Map::new();
                    m.insert("name", Value::String(name.clone()));
                    m.insert("members", Value::from(n as u64));
                    Value::Object(m)
                })
                .collect(),
        )
    }
}

type Shared = Arc<Mutex<Directory>>;

fn lock(dir: &Shared) -> std::sync::MutexGuard<'_, Directory> {
    // The directory holds counts only: a panic elsewhere cannot leave it half-updated.
    dir.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts every connection to `/` and runs the chat (call within the runtime); with a
/// `cluster`, also the fleet's events (`siofleet.rs`).
pub(crate) fn start(io: SocketIo, mut incoming: Incoming, cluster: Option<Cluster>) {
    let dir: Shared = Arc::default();
    if let Some(c) = &cluster {
        tokio::spawn(crate::siofleet::serve_pings(c.clone()));
    }
    let changed = Arc::new(Notify::new());
    tokio::spawn(announcer(io.clone(), dir.clone(), changed.clone()));
    tokio::spawn(async move {
        while let Some(req) = incoming.accept().await {
            match req.accept() {
                Ok(socket) => {
                    println!(
                        "socket.io chat {}: connected (protocol {}, engine.io {})",
                        socket.id(),
                        socket.version().number(),
                        socket.eio_sid()
                    );
                    tokio::spawn(member(
                        dir.clone(),
                        changed.clone(),
                        socket,
                        cluster.clone(),
                    ));
                }
                Err(e) => println!("socket.io chat: accept failed: {e}"),
            }
        }
    });
}

/// Tells every socket of `/` on this node (this node's directory: not published to a
/// fleet) the room list each time `changed` is notified, at most once per
/// [`ANNOUNCE_EVERY`] (a notification during the pause is kept by `Notify` as one permit, so
/// the changes made meanwhile go out in one announcement right after it).
async fn announcer(io: SocketIo, dir: Shared, changed: Arc<Notify>) {
    loop {
        changed.notified().await;
        let list = lock(&dir).list();
        let _ = io.of("/").local().emit("rooms", &[list]);
        tokio::time::sleep(ANNOUNCE_EVERY).await;
    }
}

/// `{ok: true, rooms: [...]}`: the socket's rooms.
fn rooms_reply(joined: &BTreeSet<String>) -> Map {
    let mut m = Map::new();
    m.insert(
        "rooms",
        Value::Array(joined.iter().cloned().map(Value::String).collect()),
    );
    m
}

/// One socket, until it leaves.
async fn member(dir: Shared, announce: Arc<Notify>, mut socket: Socket, cluster: Option<Cluster>) {
    let from = sender_name(socket.auth(), socket.id());
    let mut joined = BTreeSet::new();
    let _ = socket.emit("rooms", &[lock(&dir).list()]);
    while let Some(mut ev) = socket.recv().await {
        if cluster
            .as_ref()
            .is_some_and(|c| crate::siofleet::on_event(c, &mut ev))
        {
            continue;
        }
        let mut changed = false;
        let reply = on_event(&dir, &socket, &from, &mut joined, &ev, &mut changed);
        if let (Some(reply), Some(ack)) = (reply, ev.take_ack()) {
            let mut m = Map::new();
            match reply {
                Ok(fields) => {
                    m.insert("ok", Value::Bool(true));
                    for (k, v) in fields.iter() {
                        m.insert(k, v.clone());
                    }
                }
                Err(e) => {
                    m.insert("ok", Value::Bool(false));
                    m.insert("error", Value::String(e.as_str().to_owned()));
                }
            }
            let _ = ack.send(&[Value::Object(m)]);
        }
        if changed {
            announce.notify_one();
        }
    }
    let left = {
        let mut d = lock(&dir);
        let rooms: Vec<String> = joined.iter().cloned().collect();
        for room in &rooms {
            d.leave(&mut joined, room);
        }
        !rooms.is_empty()
    };
    if left {
        announce.notify_one();
    }
    let reason = socket.disconnect_reason().map_or("?", |r| r.as_str());
    println!("socket.io chat {}: left ({reason})", socket.id());
}

/// One event: the ack's fields or error (`None` for an unknown event); `changed` is set
/// when the room list changed.
fn on_event(
    dir: &Shared,
    socket: &Socket,
    from: &str,
    joined: &mut BTreeSet<String>,
    ev: &Event,
    changed: &mut bool,
) -> Option<Result<Map, ChatError>> {
    let args = ev.args().unwrap_or_default();
    Some(match ev.name() {
        "join" => room_arg(args.first()).and_then(|room| {
            let new = lock(dir).join(joined, room)?;
            if new {
                if socket.join(&format!("{ROOM_PREFIX}{room}")).is_err() {
                    lock(dir).leave(joined, room);
                    return Err(ChatError::TooManyRoomsForSocket);
                }
                *changed = true;
            }
            Ok(rooms_reply(joined))
        }),
        "leave" => room_arg(args.first()).map(|room| {
            if lock(dir).leave(joined, room) {
                socket.leave(&format!("{ROOM_PREFIX}{room}"));
                *changed = true;
            }
            rooms_reply(joined)
        }),
        "chat" => chat_arg(args.first()).and_then(|(room, text)| {
            // In the room by its own `join`, or by another node's `socketsJoin` (which
            // only the socket.io rooms know of).
            if !joined.contains(room) && !socket.rooms().contains(&format!("{ROOM_PREFIX}{room}")) {
                return Err(ChatError::NotInRoom);
            }
            let mut msg = Map::new();
            msg.insert("room", Value::String(room.to_owned()));
            msg.insert("from", Value::String(from.to_owned()));
            msg.insert("text", Value::String(text.to_owned()));
            // Only a reserved event name fails to build; "chat" is not one.
            let delivered = socket
                .to(&format!("{ROOM_PREFIX}{room}"))
                .emit("chat", &[Value::Object(msg)])
                .map_or(0, |d| d.sent);
            let mut m = Map::new();
            m.insert("delivered", Value::from(delivered as u64));
            Ok(m)
        }),
        "rooms" => {
            let mut m = Map::new();
            m.insert("rooms", lock(dir).list());
            Ok(m)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn chat(room: Value, text: Value) -> Value {
        let mut m = Map::new();
        m.insert("room", room);
        m.insert("text", text);
        Value::Object(m)
    }

    #[test]
    fn room_names_are_bounded_and_plain() {
        assert_eq!(room_arg(Some(&s("lobby"))), Ok("lobby"));
        assert_eq!(room_arg(Some(&s("Café 2.0_x-y"))), Ok("Café 2.0_x-y"));
        let longest = "r".repeat(MAX_ROOM_CHARS);
        assert_eq!(room_arg(Some(&s(&longest))), Ok(longest.as_str()));
        for bad in ["", " lobby", "lobby ", "a:b", "a/b", "new\nline"] {
            assert_eq!(room_arg(Some(&s(bad))), Err(ChatError::BadRoom), "{bad:?}");
        }
        let too_long = "r".repeat(MAX_ROOM_CHARS + 1);
        assert_eq!(room_arg(Some(&s(&too_long))), Err(ChatError::BadRoom));
        assert_eq!(room_arg(None), Err(ChatError::BadArguments));
        assert_eq!(room_arg(Some(&Value::Null)), Err(ChatError::BadArguments));
    }

    #[test]
    fn chat_text_is_bounded_in_characters() {
        let max = "é".repeat(MAX_TEXT_CHARS); // 2 bytes each: counted in characters
        assert_eq!(
            chat_arg(Some(&chat(s("a"), s(&max)))),
            Ok(("a", max.as_str()))
        );
        let over = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            chat_arg(Some(&chat(s("a"), s(&over)))),
            Err(ChatError::BadText)
        );
        assert_eq!(
            chat_arg(Some(&chat(s("a"), s("  ")))),
            Err(ChatError::BadText)
        );
        assert_eq!(
            chat_arg(Some(&chat(s("a"), Value::Null))),
            Err(ChatError::BadArguments)
        );
        assert_eq!(
            chat_arg(Some(&chat(s("a:b"), s("hi")))),
            Err(ChatError::BadRoom)
        );
        assert_eq!(chat_arg(Some(&s("hi"))), Err(ChatError::BadArguments));
    }

    #[test]
    fn sender_names_come_from_auth_or_the_id() {
        let mut m = Map::new();
        m.insert("name", s("ada"));
        assert_eq!(sender_name(&Auth::Object(m), "abcdefghij"), "ada");
        let mut bad = Map::new();
        bad.insert("name", s("<script>"));
        assert_eq!(
            sender_name(&Auth::Object(bad), "abcdefghij"),
            "guest-abcdef"
        );
        assert_eq!(sender_name(&Auth::None, "xy"), "guest-xy");
    }

    #[test]
    fn directory_counts_members_and_enforces_its_limits() {
        let mut d = Directory::default();
        let (mut a, mut b) = (BTreeSet::new(), BTreeSet::new());
        assert_eq!(d.join(&mut a, "lobby"), Ok(true));
        assert_eq!(d.join(&mut a, "lobby"), Ok(false));
        assert_eq!(d.join(&mut b, "lobby"), Ok(true));
        let names = |d: &Directory| -> Vec<(String, u64)> {
            d.list()
                .as_array()
                .unwrap_or_default()
                .iter()
                .filter_map(|r| {
                    let m = r.as_object()?;
                    let n = m.get("name")?.as_str()?.to_owned();
                    let Value::Number(c) = m.get("members")? else {
                        return None;
                    };
                    Some((n, c.as_u64()?))
                })
                .collect()
        };
        assert_eq!(names(&d), [("lobby".to_owned(), 2)]);
        assert!(d.leave(&mut a, "lobby"));
        assert!(!d.leave(&mut a, "lobby"));
        assert_eq!(names(&d), [("lobby".to_owned(), 1)]);
        assert!(d.leave(&mut b, "lobby"));
        assert!(names(&d).is_empty());

        for i in 0..MAX_ROOMS_PER_SOCKET {
            assert_eq!(d.join(&mut a, &format!("r{i}")), Ok(true));
        }
        assert_eq!(
            d.join(&mut a, "one more"),
            Err(ChatError::TooManyRoomsForSocket)
        );
        assert!(!a.contains("one more"));

        let mut others: Vec<BTreeSet<String>> = Vec::new();
        while d.members.len() < MAX_ROOMS {
            let mut j = BTreeSet::new();
            let room = format!("room {}", d.members.len());
            assert_eq!(d.join(&mut j, &room), Ok(true));
            others.push(j);
        }
        assert_eq!(d.join(&mut b, "fresh"), Err(ChatError::TooManyRooms));
        // An existing room still takes members.
        assert_eq!(d.join(&mut b, "r0"), Ok(true));
    }
}
