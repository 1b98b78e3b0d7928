//! What cluster calls return and what other nodes send: [`RemoteSocket`],
//! [`ServerSideEvent`].

use std::collections::BTreeSet;
use std::sync::Weak;

use pushwire_socketio::cluster::{RequestMessage, ResponseMessage, Wire};

use super::Link;
use crate::socketio::{Map, Value};

/// A socket anywhere in the fleet, as `fetchSockets` returns it (socket.io's
/// `RemoteSocket`: `{id, handshake, rooms, data}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteSocket {
    /// The socket id.
    pub id: String,
    /// The handshake as its server describes it (socket.io 4: `{headers, time, address,
    /// xdomain, secure, issued, url, query, auth}`; a pushwire node fills `time`,
    /// `issued`, `query` and `auth`, and leaves `headers`, `address` and `url` empty and
    /// `xdomain`, `secure` false: its Engine.io layer does not keep them).
    pub handshake: Value,
    /// Its rooms, its own included.
    pub rooms: BTreeSet<String>,
    /// The application's data of the socket (`socket.data`).
    pub data: Value,
}

impl RemoteSocket {
    pub(super) fn from_value(v: &Value) -> Option<Self> {
        let m = v.as_object()?;
        let rooms = m
            .get("rooms")?
            .as_array()?
            .iter()
            .filter_map(|r| r.as_str().map(str::to_owned))
            .collect();
        Some(Self {
            id: m.get("id")?.as_str()?.to_owned(),
            handshake: m.get("handshake").cloned().unwrap_or_default(),
            rooms,
            data: m.get("data").cloned().unwrap_or_default(),
        })
    }

    pub(super) fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("id", Value::from(self.id.as_str()));
        m.insert("handshake", self.handshake.clone());
        m.insert(
            "rooms",
            Value::Array(self.rooms.iter().map(|r| Value::from(r.as_str())).collect()),
        );
        m.insert("data", self.data.clone());
        Value::Object(m)
    }
}

/// An event another server sent to the servers (`io.serverSideEmit(name, ...args)`).
#[derive(Debug)]
pub struct ServerSideEvent {
    pub(super) nsp: String,
    pub(super) data: Value,
    pub(super) answer: Option<Answer>,
}

#[derive(Debug)]
pub(super) struct Answer {
    pub(super) link: Weak<Link>,
    pub(super) request: RequestMessage,
    pub(super) nsp: String,
    pub(super) wire: Wire,
    pub(super) sent: bool,
}

impl Answer {
    fn send(&mut self, data: Value) {
        self.sent = true;
        if let Some(link) = self.link.upgrade() {
            let id = self.request.request_id.as_deref().unwrap_or_default();
            let r = ResponseMessage::server_side_ack(id, data, self.wire);
            link.respond(&self.nsp, &self.request, &r);
        }
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        // socket.io-redis 5 waits for every node, itself included: its default hook
        // answers `null`, so an unanswered request is answered that way here too.
        if !self.sent && self.wire == Wire::SocketIoRedis5 {
            self.send(Value::Null);
        }
    }
}

impl ServerSideEvent {
    /// The namespace it was emitted on.
    #[must_use]
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The event name (`socket.io-redis` 5's custom requests carry any value: `None` when
    /// it is not an event array).
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.data.as_array()?.first()?.as_str()
    }

    /// The arguments after the name (or the whole custom value on `socket.io-redis` 5).
    #[must_use]
    pub fn args(&self) -> Vec<Value> {
        match self.data.as_array() {
            Some([_, rest @ ..]) => rest.to_vec(),
            Some([]) => Vec::new(),
            None => vec![self.data.clone()],
        }
    }

    /// Whether the sender waits for an answer.
    #[must_use]
    pub fn wants_ack(&self) -> bool {
        self.answer.is_some()
    }

    /// Answers the sender (socket.io: the callback's one argument). Does nothing when it
    /// asked for no answer.
    pub fn ack(mut self, data: Value) {
        if let Some(a) = &mut self.answer {
            a.send(data);
        }
    }
}
