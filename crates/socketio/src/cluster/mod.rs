//! Socket.IO across servers: the wire of socket.io's Redis adapters, so a pushwire server
//! can be one node of a fleet of node socket.io servers.
//!
//! Two wires, as the node packages write them (read from their sources and checked
//! against messages they published, `tests/cluster.rs`):
//! [`Wire::RedisAdapter8`] (`@socket.io/redis-adapter` 8, classic pub/sub, socket.io 3/4)
//! and [`Wire::SocketIoRedis5`] (`socket.io-redis` 5, socket.io 2).
//!
//! - A broadcast is the MessagePack array `[uid, packet, opts]` ([`BroadcastMessage`])
//!   published on [`Channels::broadcast`]; every node pattern-subscribes to
//!   [`Channels::pattern`] and delivers what others published to its own sockets.
//! - Requests ([`RequestMessage`]) go to [`Channels::request`], answers
//!   ([`ResponseMessage`]) to [`Channels::response`]; a node learns how many answers to
//!   wait for from Redis (`PUBSUB NUMSUB` of the request channel).
//!
//! This module is the encoding only; it does no I/O and keeps no state.
//! [`msgpack`] is the MessagePack codec (notepack.io's choices), usable alone.

pub mod date;
mod message;
pub mod msgpack;

pub use message::{
    BroadcastMessage, ClusterError, ClusterPacket, Request, RequestMessage, ResponseMessage, Target,
};

use alloc::format;
use alloc::string::String;

/// Which node adapter's wire to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Wire {
    /// `@socket.io/redis-adapter` 8.x (socket.io 3/4), the classic pub/sub adapter.
    RedisAdapter8,
    /// `socket.io-redis` 5.x (socket.io 2).
    SocketIoRedis5,
}

/// The Redis channels of one namespace: `<key>#<nsp>#…` ("const prefix = opts.key ||
/// "socket.io"; this.channel = prefix + "#" + nsp.name + "#"").
///
/// ```
/// use pushwire_socketio::cluster::Channels;
///
/// let c = Channels::new("socket.io", "/chat");
/// assert_eq!(c.broadcast(None), "socket.io#/chat#");
/// assert_eq!(c.broadcast(Some("room-1")), "socket.io#/chat#room-1#");
/// assert_eq!(c.pattern(), "socket.io#/chat#*");
/// assert_eq!(c.request(), "socket.io-request#/chat#");
/// assert!(c.is_response_for("socket.io-response#/chat#ab12#", "ab12"));
/// assert_eq!(c.room_of("socket.io#/chat#room-1#"), Some("room-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    channel: String,
    // Compared with the channel of every message a node receives: made once.
    request: String,
    response: String,
}

impl Channels {
    /// The channels of namespace `nsp` under prefix `key` (the adapters' `key` option,
    /// `socket.io` by default).
    #[must_use]
    pub fn new(key: &str, nsp: &str) -> Self {
        Self {
            channel: format!("{key}#{nsp}#"),
            request: format!("{key}-request#{nsp}#"),
            response: format!("{key}-response#{nsp}#"),
        }
    }

    /// Where a broadcast is published: the namespace's channel, with the room appended
    /// when the broadcast targets exactly one ("if (opts.rooms && opts.rooms.size === 1) {
    /// channel += opts.rooms.keys().next().value + "#"").
    #[must_use]
    pub fn broadcast(&self, single_room: Option<&str>) -> String {
        match single_room {
            Some(r) => format!("{}{r}#", self.channel),
            None => self.channel.clone(),
        }
    }

    /// The pattern every node subscribes to for broadcasts (`psubscribe(channel + "*")`).
    #[must_use]
    pub fn pattern(&self) -> String {
        format!("{}*", self.channel)
    }

    /// Whether `pattern` is [`Channels::pattern`] (no allocation: a pattern message names
    /// the pattern that matched, and two namespaces' patterns can match one channel —
    /// `/a`'s matches `/a#b`'s channels — so the pattern, not the channel, says whose it is).
    #[must_use]
    pub fn is_pattern(&self, pattern: &str) -> bool {
        pattern.strip_suffix('*') == Some(self.channel.as_str())
    }

    /// The request channel.
    #[must_use]
    pub fn request(&self) -> &str {
        &self.request
    }

    /// The response channel every node subscribes to.
    #[must_use]
    pub fn response(&self) -> &str {
        &self.response
    }

    /// Whether `channel` is the response channel, or `uid`'s own one (no allocation: it is
    /// asked of every message a node receives).
    #[must_use]
    pub fn is_response_for(&self, channel: &str, uid: &str) -> bool {
        channel
            .strip_prefix(self.response.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.strip_suffix('#') == Some(uid))
    }

    /// A node's own response channel (redis-adapter 8's
    /// `publishOnSpecificResponseChannel`).
    #[must_use]
    pub fn specific_response(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// The room a broadcast channel names: `Some("")` for the namespace's own channel,
    /// `None` for a channel of another namespace ("const room = channel.slice(
    /// this.channel.length, -1)").
    #[must_use]
    pub fn room_of<'a>(&self, channel: &'a str) -> Option<&'a str> {
        let rest = channel.strip_prefix(self.channel.as_str())?;
        if rest.is_empty() {
            return Some("");
        }
        rest.strip_suffix('#')
    }
}
