//! The messages socket.io's Redis adapters publish, decoded and encoded: broadcasts
//! (MessagePack `[uid, packet, opts]`), requests and responses (JSON, or MessagePack when
//! they carry a packet).

use alloc::collections::BTreeSet;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use bytes::Bytes;

use super::msgpack::{self, MsgpackError};
use super::Wire;
use crate::server::{BroadcastFlags, BroadcastOptions};
use crate::value::{Map, Value};
use crate::{BuildError, Packet, PacketType, ProtocolVersion};

/// Why a message from another node was not taken. Always the other node's (or a stranger
/// on the Redis server's) doing; the adapters ignore such a message (`debug("ignoring
/// malformed request")`), and so should the caller, after counting it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The MessagePack is malformed.
    #[error(transparent)]
    Msgpack(#[from] MsgpackError),
    /// The JSON is malformed.
    #[error("request or response is not JSON")]
    Json,
    /// The value does not have the shape of this message (the field is named).
    #[error("malformed cluster message: {0}")]
    Shape(&'static str),
    /// A request type this adapter does not know (the adapters ignore it too: "ignoring
    /// unknown request type").
    #[error("unknown request type {0}")]
    UnknownType(u64),
}

/// A packet as the adapters carry it between nodes: socket.io's packet object `{type,
/// data, nsp, id}`, the data with its binary in place (MessagePack `bin`), not as
/// attachments.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPacket {
    /// The packet type. socket.io 3/4 leave an event with binary as
    /// [`PacketType::Event`] (the encoder picks the binary type when it writes the
    /// packet); socket.io 2 sets [`PacketType::BinaryEvent`] before broadcasting.
    pub kind: PacketType,
    /// The namespace (`/` when the packet has none: "if (packet && packet.nsp ===
    /// undefined) { packet.nsp = "/"; }").
    pub nsp: String,
    /// The data (an event's `[name, ...args]`).
    pub data: Option<Value>,
    /// The ack id, when there is one.
    pub id: Option<u64>,
}

impl ClusterPacket {
    /// The packet as `wire`'s servers publish it.
    ///
    /// # Errors
    /// Only for a packet whose JSON was not checked by this crate (never for a decoded or a
    /// built one).
    pub fn from_packet(packet: &Packet, wire: Wire) -> Result<Self, crate::DecodeError> {
        let kind = match (wire, packet.kind()) {
            (Wire::RedisAdapter8, PacketType::BinaryEvent) => PacketType::Event,
            (Wire::RedisAdapter8, PacketType::BinaryAck) => PacketType::Ack,
            (_, k) => k,
        };
        Ok(Self {
            kind,
            nsp: packet.nsp().to_string(),
            data: packet.value()?,
            id: packet.id(),
        })
    }

    /// The packet to send to the local sockets of revision `version`.
    ///
    /// # Errors
    /// [`BuildError`] when the data does not suit the type (as for any built packet).
    pub fn to_packet(&self, version: ProtocolVersion) -> Result<Packet, BuildError> {
        Packet::new(version, self.kind, &self.nsp, self.id, self.data.as_ref())
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("type", Value::from(self.kind as u64));
        if let Some(d) = &self.data {
            m.insert("data", d.clone());
        }
        m.insert("nsp", Value::from(self.nsp.as_str()));
        if let Some(id) = self.id {
            m.insert("id", Value::from(id));
        }
        Value::Object(m)
    }

    fn from_value(v: &Value) -> Result<Self, ClusterError> {
        let m = v.as_object().ok_or(ClusterError::Shape("packet"))?;
        let kind = m
            .get("type")
            .and_then(as_u64)
            .and_then(|t| u8::try_from(t).ok())
            .and_then(|t| PacketType::from_char(b'0'.wrapping_add(t)))
            .ok_or(ClusterError::Shape("packet.type"))?;
        let nsp = match m.get("nsp") {
            None | Some(Value::Null) => String::from("/"),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(ClusterError::Shape("packet.nsp")),
        };
        let id = match m.get("id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(as_u64(v).ok_or(ClusterError::Shape("packet.id"))?),
        };
        Ok(Self {
            kind,
            nsp,
            data: m.get("data").cloned(),
            id,
        })
    }
}

/// A broadcast from another node: the MessagePack array `[uid, packet, opts]` published on
/// `<prefix>#<nsp>#` (or `<prefix>#<nsp>#<room>#` when it targets exactly one room).
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastMessage {
    /// The publishing node's id; a node ignores its own ("ignore same uid").
    pub uid: String,
    /// The packet.
    pub packet: ClusterPacket,
    /// Rooms, exceptions and flags.
    pub opts: BroadcastOptions,
}

impl BroadcastMessage {
    /// Decodes a broadcast's payload.
    ///
    /// # Errors
    /// [`ClusterError`].
    pub fn decode(payload: &Bytes) -> Result<Self, ClusterError> {
        let v = msgpack::decode(payload)?;
        let items = v.as_array().ok_or(ClusterError::Shape("message"))?;
        let [uid, packet, opts, ..] = items else {
            return Err(ClusterError::Shape("message"));
        };
        Ok(Self {
            uid: uid.as_str().ok_or(ClusterError::Shape("uid"))?.to_string(),
            packet: ClusterPacket::from_value(packet)?,
            opts: opts_from_value(opts)?,
        })
    }

    /// The payload, as the node adapter writes it.
    ///
    /// # Errors
    /// [`MsgpackError::TooLarge`] only.
    pub fn encode(&self) -> Result<Vec<u8>, MsgpackError> {
        let v = Value::Array(alloc::vec![
            Value::from(self.uid.as_str()),
            self.packet.to_value(),
            opts_to_value(&self.opts, true),
        ]);
        msgpack::to_vec(&v)
    }
}

/// A non-negative integer as JavaScript holds one, a double: `98e9` and `2.0` are the
/// integers `98000000000` and `2` (`type === 2` holds for either in a node adapter), and
/// beyond 2⁵³ the text is read as the nearest double (`880000000000000429.38` and
/// `880000000000000400` are the same number).
fn as_u64(v: &Value) -> Option<u64> {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    match v {
        Value::Number(n) => {
            let f = n.as_f64()?;
            (msgpack::is_integral(f) && (0.0..TWO_64).contains(&f)).then_some(f as u64)
        }
        _ => None,
    }
}

/// A room name as JavaScript has it: rooms are strings, but a number can be used as one.
fn room_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => {
            let mut s = String::new();
            crate::json::write_number(&mut s, n);
            Some(s)
        }
        _ => None,
    }
}

fn rooms_from(v: Option<&Value>, what: &'static str) -> Result<BTreeSet<String>, ClusterError> {
    match v {
        None | Some(Value::Null) => Ok(BTreeSet::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| room_name(r).ok_or(ClusterError::Shape(what)))
            .collect(),
        // socket.io-redis 5 passes a `Set` it was given straight to notepack, which writes
        // it as an empty map.
        Some(Value::Object(m)) if m.is_empty() => Ok(BTreeSet::new()),
        Some(_) => Err(ClusterError::Shape(what)),
    }
}

fn rooms_to(rooms: &BTreeSet<String>) -> Value {
    Value::Array(rooms.iter().map(|r| Value::from(r.as_str())).collect())
}

/// `{rooms, except, flags}`: flags left out unless `with_flags`.
fn opts_from_value(v: &Value) -> Result<BroadcastOptions, ClusterError> {
    let m = v.as_object().ok_or(ClusterError::Shape("opts"))?;
    let mut opts = BroadcastOptions::new();
    opts.rooms = rooms_from(m.get("rooms"), "opts.rooms")?;
    opts.except = rooms_from(m.get("except"), "opts.except")?;
    if let Some(Value::Object(f)) = m.get("flags") {
        let on = |k: &str| matches!(f.get(k), Some(Value::Bool(true)));
        opts.flags = BroadcastFlags {
            local: on("local"),
            volatile: on("volatile"),
            compress: on("compress"),
            timeout: f.get("timeout").and_then(as_u64),
        };
    }
    Ok(opts)
}

fn opts_to_value(opts: &BroadcastOptions, with_flags: bool) -> Value {
    let mut m = Map::new();
    m.insert("rooms", rooms_to(&opts.rooms));
    m.insert("except", rooms_to(&opts.except));
    if with_flags {
        let mut f = Map::new();
        for (k, on) in [
            ("volatile", opts.flags.volatile),
            ("compress", opts.flags.compress),
            ("local", opts.flags.local),
        ] {
            if on {
                f.insert(k, Value::Bool(true));
            }
        }
        if let Some(t) = opts.flags.timeout {
            f.insert("timeout", Value::from(t));
        }
        m.insert("flags", Value::Object(f));
    }
    Value::Object(m)
}

/// Reads a JSON request or response, or a MessagePack one ("if the buffer starts with a
/// "{" character" it is JSON, `@socket.io/redis-adapter` 8).
fn read_object(payload: &Bytes) -> Result<Map, ClusterError> {
    let v = if payload.first() == Some(&b'{') {
        let text = core::str::from_utf8(payload).map_err(|_| ClusterError::Json)?;
        Value::parse(text).map_err(|_| ClusterError::Json)?
    } else {
        msgpack::decode(payload)?
    };
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(ClusterError::Shape("request")),
    }
}

/// Which sockets a remote join, leave or disconnect applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Those that `opts` selects (`socketsJoin`, `socketsLeave`, `disconnectSockets` of
    /// socket.io 4).
    Select(BroadcastOptions),
    /// One socket by id (`remoteJoin(id, room)` of socket.io-redis 5, and the `sid` form
    /// `@socket.io/redis-adapter` 8 still answers).
    Socket(String),
}

/// What another node asks of this one, on `<prefix>-request#<nsp>#`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// The ids of the sockets in any of `rooms` (all when empty): redis-adapter 8's
    /// `SOCKETS`, socket.io-redis 5's `clients`. Answered.
    Sockets {
        /// The rooms.
        rooms: BTreeSet<String>,
    },
    /// The rooms of one socket (socket.io-redis 5's `clientRooms`). Answered by the node
    /// that has it.
    SocketRooms {
        /// The socket id.
        sid: String,
    },
    /// Every room with a member (`ALL_ROOMS` / `allRooms`). Answered.
    AllRooms,
    /// Sockets join `rooms` (`REMOTE_JOIN` / `remoteJoin`). Answered only in the one-socket
    /// form.
    Join {
        /// Which sockets.
        target: Target,
        /// The rooms to join.
        rooms: BTreeSet<String>,
    },
    /// Sockets leave `rooms` (`REMOTE_LEAVE` / `remoteLeave`).
    Leave {
        /// Which sockets.
        target: Target,
        /// The rooms to leave.
        rooms: BTreeSet<String>,
    },
    /// Sockets are disconnected (`REMOTE_DISCONNECT` / `remoteDisconnect`); `close` closes
    /// their whole connection.
    Disconnect {
        /// Which sockets.
        target: Target,
        /// Close the underlying connection too.
        close: bool,
    },
    /// Details of the sockets `opts` selects (`REMOTE_FETCH`, socket.io 4's
    /// `fetchSockets`). Answered.
    FetchSockets {
        /// Which sockets.
        opts: BroadcastOptions,
    },
    /// An event for the servers themselves (`SERVER_SIDE_EMIT`; socket.io-redis 5's
    /// `customRequest` carries any value). Answered when the request has an id.
    ServerSideEmit {
        /// `[name, ...args]` (redis-adapter 8), or the custom value (socket.io-redis 5).
        data: Value,
    },
    /// A broadcast whose clients are asked for acks (`BROADCAST`,
    /// `io.timeout(ms).emitWithAck`). Answered with the count, then each ack.
    BroadcastWithAck {
        /// The packet.
        packet: ClusterPacket,
        /// Its targets.
        opts: BroadcastOptions,
    },
}

/// A request with its envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestMessage {
    /// The asking node (redis-adapter 8; socket.io-redis 5 sends none, and a node there
    /// also answers its own requests).
    pub uid: Option<String>,
    /// The id the answers carry (`requestId`; socket.io-redis 5: `requestid`); `None` for a
    /// request nobody answers.
    pub request_id: Option<String>,
    /// What is asked.
    pub request: Request,
}

// redis-adapter 8's `RequestType` and socket.io-redis 5's `requestTypes`.
const V8_SOCKETS: u64 = 0;
const V8_ALL_ROOMS: u64 = 1;
const V8_REMOTE_JOIN: u64 = 2;
const V8_REMOTE_LEAVE: u64 = 3;
const V8_REMOTE_DISCONNECT: u64 = 4;
const V8_REMOTE_FETCH: u64 = 5;
const V8_SERVER_SIDE_EMIT: u64 = 6;
const V8_BROADCAST: u64 = 7;
/// redis-adapter 8's response type for the number of clients a broadcast-with-ack reached.
const V8_BROADCAST_CLIENT_COUNT: u64 = 8;
/// redis-adapter 8's response type for one client's ack.
const V8_BROADCAST_ACK: u64 = 9;
const V5_CLIENTS: u64 = 0;
const V5_CLIENT_ROOMS: u64 = 1;
const V5_ALL_ROOMS: u64 = 2;
const V5_REMOTE_JOIN: u64 = 3;
const V5_REMOTE_LEAVE: u64 = 4;
const V5_CUSTOM_REQUEST: u64 = 5;
const V5_REMOTE_DISCONNECT: u64 = 6;

fn str_field(m: &Map, key: &'static str) -> Result<String, ClusterError> {
    match m.get(key) {
        Some(v) => room_name(v).ok_or(ClusterError::Shape(key)),
        None => Err(ClusterError::Shape(key)),
    }
}

fn opt_str(m: &Map, key: &'static str) -> Result<Option<String>, ClusterError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => room_name(v).map(Some).ok_or(ClusterError::Shape(key)),
    }
}

impl RequestMessage {
    /// The name of the request id field on `wire`.
    fn id_key(wire: Wire) -> &'static str {
        match wire {
            Wire::RedisAdapter8 => "requestId",
            Wire::SocketIoRedis5 => "requestid",
        }
    }

    /// Decodes a request published on the request channel.
    ///
    /// # Errors
    /// [`ClusterError`].
    pub fn decode(payload: &Bytes, wire: Wire) -> Result<Self, ClusterError> {
        let m = read_object(payload)?;
        let ty = m
            .get("type")
            .and_then(as_u64)
            .ok_or(ClusterError::Shape("type"))?;
        let uid = opt_str(&m, "uid")?;
        let request_id = opt_str(&m, Self::id_key(wire))?;
        let target = |m: &Map| -> Result<Target, ClusterError> {
            match m.get("opts") {
                Some(o @ Value::Object(_)) => Ok(Target::Select(opts_from_value(o)?)),
                _ => Ok(Target::Socket(str_field(m, "sid")?)),
            }
        };
        let join_rooms = |m: &Map| -> Result<BTreeSet<String>, ClusterError> {
            match m.get("room") {
                Some(r) => Ok([room_name(r).ok_or(ClusterError::Shape("room"))?].into()),
                None => rooms_from(m.get("rooms"), "rooms"),
            }
        };
        let request = match (wire, ty) {
            (Wire::RedisAdapter8, V8_SOCKETS) | (Wire::SocketIoRedis5, V5_CLIENTS) => {
                Request::Sockets {
                    rooms: rooms_from(m.get("rooms"), "rooms")?,
                }
            }
            (Wire::SocketIoRedis5, V5_CLIENT_ROOMS) => Request::SocketRooms {
                sid: str_field(&m, "sid")?,
            },
            (Wire::RedisAdapter8, V8_ALL_ROOMS) | (Wire::SocketIoRedis5, V5_ALL_ROOMS) => {
                Request::AllRooms
            }
            (Wire::RedisAdapter8, V8_REMOTE_JOIN) | (Wire::SocketIoRedis5, V5_REMOTE_JOIN) => {
                Request::Join {
                    target: target(&m)?,
                    rooms: join_rooms(&m)?,
                }
            }
            (Wire::RedisAdapter8, V8_REMOTE_LEAVE) | (Wire::SocketIoRedis5, V5_REMOTE_LEAVE) => {
                Request::Leave {
                    target: target(&m)?,
                    rooms: join_rooms(&m)?,
                }
            }
            (Wire::RedisAdapter8, V8_REMOTE_DISCONNECT)
            | (Wire::SocketIoRedis5, V5_REMOTE_DISCONNECT) => Request::Disconnect {
                target: target(&m)?,
                close: matches!(m.get("close"), Some(Value::Bool(true))),
            },
            (Wire::RedisAdapter8, V8_REMOTE_FETCH) => Request::FetchSockets {
                opts: opts_from_value(m.get("opts").ok_or(ClusterError::Shape("opts"))?)?,
            },
            (Wire::RedisAdapter8, V8_SERVER_SIDE_EMIT)
            | (Wire::SocketIoRedis5, V5_CUSTOM_REQUEST) => Request::ServerSideEmit {
                data: m.get("data").cloned().unwrap_or(Value::Null),
            },
            (Wire::RedisAdapter8, V8_BROADCAST) => Request::BroadcastWithAck {
                packet: ClusterPacket::from_value(
                    m.get("packet").ok_or(ClusterError::Shape("packet"))?,
                )?,
                opts: opts_from_value(m.get("opts").ok_or(ClusterError::Shape("opts"))?)?,
            },
            (_, t) => return Err(ClusterError::UnknownType(t)),
        };
        Ok(Self {
            uid,
            request_id,
            request,
        })
    }

    /// The payload as the node adapter of `wire` writes this request: JSON with its keys in
    /// the adapter's order, MessagePack for a broadcast with acks (its packet may hold
    /// binary).
    ///
    /// # Errors
    /// [`ClusterError::Shape`] for a request `wire` does not have
    /// ([`Request::FetchSockets`] and [`Request::BroadcastWithAck`] on socket.io-redis 5,
    /// [`Request::SocketRooms`] on redis-adapter 8, a one-socket [`Target`] with several
    /// rooms); [`ClusterError::Msgpack`] for a value too large.
    pub fn encode(&self, wire: Wire) -> Result<Vec<u8>, ClusterError> {
        let v8 = wire == Wire::RedisAdapter8;
        let mut m = Map::new();
        // The id goes out whenever the request has one (node sends none with the `opts`
        // forms of join, leave and disconnect; a request decoded with one keeps it).
        let put_head = |m: &mut Map, ty: u64| {
            if v8 {
                if let Some(uid) = &self.uid {
                    m.insert("uid", Value::from(uid.as_str()));
                }
            }
            if let Some(id) = &self.request_id {
                m.insert(Self::id_key(wire), Value::from(id.as_str()));
            }
            m.insert("type", Value::from(ty));
        };
        let pick = |a: u64, b: u64| if v8 { a } else { b };
        match &self.request {
            Request::Sockets { rooms } => {
                put_head(&mut m, pick(V8_SOCKETS, V5_CLIENTS));
                m.insert("rooms", rooms_to(rooms));
            }
            Request::SocketRooms { sid } if !v8 => {
                put_head(&mut m, V5_CLIENT_ROOMS);
                m.insert("sid", Value::from(sid.as_str()));
            }
            Request::AllRooms => put_head(&mut m, pick(V8_ALL_ROOMS, V5_ALL_ROOMS)),
            Request::Join { target, rooms } | Request::Leave { target, rooms } => {
                let join = matches!(self.request, Request::Join { .. });
                let ty = match (join, v8) {
                    (true, true) => V8_REMOTE_JOIN,
                    (true, false) => V5_REMOTE_JOIN,
                    (false, true) => V8_REMOTE_LEAVE,
                    (false, false) => V5_REMOTE_LEAVE,
                };
                match target {
                    Target::Select(opts) if v8 => {
                        put_head(&mut m, ty);
                        m.insert("opts", opts_to_value(opts, false));
                        m.insert("rooms", rooms_to(rooms));
                    }
                    Target::Socket(sid) if rooms.len() == 1 => {
                        put_head(&mut m, ty);
                        m.insert("sid", Value::from(sid.as_str()));
                        let room = rooms.iter().next().map_or("", String::as_str);
                        m.insert("room", Value::from(room));
                    }
                    _ => return Err(ClusterError::Shape("target")),
                }
            }
            Request::Disconnect { target, close } => {
                let ty = pick(V8_REMOTE_DISCONNECT, V5_REMOTE_DISCONNECT);
                match target {
                    Target::Select(opts) if v8 => {
                        put_head(&mut m, ty);
                        m.insert("opts", opts_to_value(opts, false));
                    }
                    Target::Socket(sid) => {
                        put_head(&mut m, ty);
                        m.insert("sid", Value::from(sid.as_str()));
                    }
                    Target::Select(_) => return Err(ClusterError::Shape("target")),
                }
                m.insert("close", Value::Bool(*close));
            }
            Request::FetchSockets { opts } if v8 => {
                put_head(&mut m, V8_REMOTE_FETCH);
                m.insert("opts", opts_to_value(opts, false));
            }
            Request::ServerSideEmit { data } => {
                put_head(&mut m, pick(V8_SERVER_SIDE_EMIT, V5_CUSTOM_REQUEST));
                m.insert("data", data.clone());
            }
            Request::BroadcastWithAck { packet, opts } if v8 => {
                put_head(&mut m, V8_BROADCAST);
                m.insert("packet", packet.to_value());
                m.insert("opts", opts_to_value(opts, true));
                return Ok(msgpack::to_vec(&Value::Object(m))?);
            }
            _ => return Err(ClusterError::Shape("request")),
        }
        let mut out = String::new();
        Value::Object(m).to_json(&mut out, &mut Vec::new());
        Ok(out.into_bytes())
    }
}

/// An answer from another node, on `<prefix>-response#<nsp>#` (or the asking node's own
/// `…#<uid>#` channel). Responses other than those of a broadcast with acks carry no type:
/// the asking node reads them by the type of its request with that id
/// ([`ResponseMessage::fields`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseMessage {
    /// The request this answers.
    pub request_id: String,
    /// `type` when the response has one (redis-adapter 8: server-side emit,
    /// broadcast-with-ack count and ack).
    pub kind: Option<u64>,
    /// Every field, for the asking side to read as its request needs (`sockets`, `rooms`,
    /// `data`, `clientCount`, `packet`).
    pub fields: Map,
}

impl ResponseMessage {
    /// Decodes a response.
    ///
    /// # Errors
    /// [`ClusterError`]; a response without a request id is [`ClusterError::Shape`] (the
    /// adapters ignore it).
    pub fn decode(payload: &Bytes, wire: Wire) -> Result<Self, ClusterError> {
        let fields = read_object(payload)?;
        let request_id = str_field(&fields, RequestMessage::id_key(wire))?;
        let kind = fields.get("type").and_then(as_u64);
        Ok(Self {
            request_id,
            kind,
            fields,
        })
    }

    /// The ids of `Sockets` answer (`{requestId, sockets}`; socket.io-redis 5: `clients`).
    #[must_use]
    pub fn socket_ids(&self) -> Option<BTreeSet<String>> {
        let list = self
            .fields
            .get("sockets")
            .or_else(|| self.fields.get("clients"))?;
        rooms_from(Some(list), "sockets").ok()
    }

    /// The rooms of an `AllRooms` or `SocketRooms` answer.
    #[must_use]
    pub fn rooms(&self) -> Option<BTreeSet<String>> {
        rooms_from(Some(self.fields.get("rooms")?), "rooms").ok()
    }

    /// Whether this is the client count of a broadcast with acks, and the count.
    #[must_use]
    pub fn client_count(&self) -> Option<u64> {
        (self.kind == Some(V8_BROADCAST_CLIENT_COUNT))
            .then(|| self.fields.get("clientCount").and_then(as_u64))
            .flatten()
    }

    /// Whether this is one client's ack to a broadcast, and the ack's arguments.
    #[must_use]
    pub fn broadcast_ack(&self) -> Option<&Value> {
        (self.kind == Some(V8_BROADCAST_ACK))
            .then(|| self.fields.get("packet"))
            .flatten()
    }

    /// A response built from its fields (the asking side's view); `kind` and `request_id`
    /// are read from them.
    #[must_use]
    pub fn from_fields(request_id: &str, fields: Map) -> Self {
        Self {
            request_id: request_id.to_string(),
            kind: fields.get("type").and_then(as_u64),
            fields,
        }
    }

    /// The answer to a `Sockets` request.
    #[must_use]
    pub fn sockets(request_id: &str, ids: &BTreeSet<String>, wire: Wire) -> Self {
        let key = match wire {
            Wire::RedisAdapter8 => "sockets",
            Wire::SocketIoRedis5 => "clients",
        };
        Self::with_id(request_id, wire, None, [(key, rooms_to(ids))])
    }

    /// The answer to an `AllRooms` or `SocketRooms` request.
    #[must_use]
    pub fn rooms_answer(request_id: &str, rooms: &BTreeSet<String>, wire: Wire) -> Self {
        Self::with_id(request_id, wire, None, [("rooms", rooms_to(rooms))])
    }

    /// The empty answer to a one-socket join, leave or disconnect.
    #[must_use]
    pub fn done(request_id: &str, wire: Wire) -> Self {
        Self::with_id(request_id, wire, None, [])
    }

    /// The answer to a `FetchSockets` request: `sockets` is the list of `{id, handshake,
    /// rooms, data}` objects.
    #[must_use]
    pub fn fetched(request_id: &str, sockets: Vec<Value>) -> Self {
        Self::with_id(
            request_id,
            Wire::RedisAdapter8,
            None,
            [("sockets", Value::Array(sockets))],
        )
    }

    /// One server's answer to a server-side emit with an ack (redis-adapter 8: typed;
    /// socket.io-redis 5's `customRequest`: untyped).
    #[must_use]
    pub fn server_side_ack(request_id: &str, data: Value, wire: Wire) -> Self {
        let kind = (wire == Wire::RedisAdapter8).then_some(V8_SERVER_SIDE_EMIT);
        Self::with_id(request_id, wire, kind, [("data", data)])
    }

    /// How many local clients a broadcast with acks reached.
    #[must_use]
    pub fn client_count_answer(request_id: &str, count: u64) -> Self {
        Self::with_id(
            request_id,
            Wire::RedisAdapter8,
            Some(V8_BROADCAST_CLIENT_COUNT),
            [("clientCount", Value::from(count))],
        )
    }

    /// One client's ack to a broadcast with acks: `args` is the ack's argument array.
    #[must_use]
    pub fn broadcast_ack_answer(request_id: &str, args: Value) -> Self {
        Self::with_id(
            request_id,
            Wire::RedisAdapter8,
            Some(V8_BROADCAST_ACK),
            [("packet", args)],
        )
    }

    fn with_id<const N: usize>(
        request_id: &str,
        wire: Wire,
        kind: Option<u64>,
        rest: [(&'static str, Value); N],
    ) -> Self {
        let mut fields = Map::new();
        // The adapters write `type` first in typed responses, `requestId` first otherwise.
        if let Some(k) = kind {
            fields.insert("type", Value::from(k));
        }
        fields.insert(RequestMessage::id_key(wire), Value::from(request_id));
        for (k, v) in rest {
            fields.insert(k, v);
        }
        Self {
            request_id: request_id.to_string(),
            kind,
            fields,
        }
    }

    /// The payload: MessagePack for a broadcast ack (it may hold binary), JSON otherwise,
    /// keys in the order the node adapters write them.
    ///
    /// # Errors
    /// [`MsgpackError::TooLarge`] only.
    pub fn encode(&self) -> Result<Vec<u8>, MsgpackError> {
        let v = Value::Object(self.fields.clone());
        if self.kind == Some(V8_BROADCAST_ACK) {
            return msgpack::to_vec(&v);
        }
        let mut out = String::new();
        v.to_json(&mut out, &mut Vec::new());
        Ok(out.into_bytes())
    }
}
