//! Messages from other nodes: broadcasts delivered to this node's sockets, requests
//! answered from its state, responses handed to the call that waits for them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pushwire_socketio::cluster::{
    BroadcastMessage, ClusterPacket, Request, RequestMessage, ResponseMessage, Target,
};
use pushwire_socketio::server::Adapter as _;

use super::types::Answer;
use super::{bump, Link, RemoteSocket, ServerSideEvent};
use crate::socketio::{Broadcast, BroadcastOptions, Map, Shared, Value};

/// One message from the subscribed connection: `pattern` is the pattern that matched,
/// for a pattern message (a broadcast).
pub(super) fn on_message(
    shared: &Arc<Shared>,
    link: &Arc<Link>,
    channel: &str,
    pattern: Option<&str>,
    payload: Bytes,
) {
    if pattern.is_none() && link.config.channels.iter().any(|c| c == channel) {
        if link.raw.try_send((channel.to_owned(), payload)).is_err() {
            bump(&link.counters.dropped);
        }
        return;
    }
    // The namespace is looked up under the lock and handled after it (handlers take the
    // registry, and the registry's holders may add a namespace). A broadcast belongs to the
    // namespace whose pattern matched (Redis sends one message per matching pattern, as
    // each node adapter gets its own).
    if let Some(p) = pattern {
        if let Some((nsp, c)) = link.namespace_of(|c| c.is_pattern(p)) {
            if let Some(room) = c.room_of(channel) {
                return on_broadcast(shared, link, &nsp, room, &payload);
            }
        }
        bump(&link.counters.ignored);
        return;
    }
    let found =
        link.namespace_of(|c| channel == c.request() || c.is_response_for(channel, &link.uid));
    match found {
        Some((nsp, c)) if channel == c.request() => on_request(shared, link, &nsp, &payload),
        Some(_) => on_response(link, &payload),
        None => bump(&link.counters.ignored),
    }
}

fn on_broadcast(shared: &Arc<Shared>, link: &Link, nsp: &str, room: &str, payload: &Bytes) {
    // "if (room !== "" && !this.hasRoom(room)) { return debug("ignore unknown room %s", room) }"
    if !room.is_empty() {
        let known = shared
            .registry()
            .get(nsp)
            .is_some_and(|n| n.rooms.members(room).next().is_some());
        if !known {
            bump(&link.counters.ignored);
            return;
        }
    }
    let m = match BroadcastMessage::decode(payload) {
        Ok(m) => m,
        Err(_) => {
            bump(&link.counters.malformed);
            return;
        }
    };
    // "if (this.uid === uid) return debug("ignore same uid")"; "if (!packet || packet.nsp
    // !== this.nsp.name) return debug("ignore different namespace")".
    if m.uid == link.uid || m.packet.nsp != nsp {
        bump(&link.counters.ignored);
        return;
    }
    let r = crate::socketio::deliver(shared, nsp, &m.opts, &|v| m.packet.to_packet(v));
    bump(if r.is_ok() {
        &link.counters.delivered
    } else {
        &link.counters.malformed
    });
}

fn on_request(shared: &Arc<Shared>, link: &Arc<Link>, nsp: &str, payload: &Bytes) {
    let wire = link.config.wire;
    let Ok(req) = RequestMessage::decode(payload, wire) else {
        bump(&link.counters.malformed);
        return;
    };
    // Our own request (redis-adapter 8 names the sender; socket.io-redis 5 does not, so
    // its ids are checked against the ones this node waits for).
    let own = req.uid.as_deref() == Some(link.uid.as_str())
        || req
            .request_id
            .as_ref()
            .is_some_and(|id| link.waiting().contains_key(id));
    if own {
        bump(&link.counters.ignored);
        return;
    }
    bump(&link.counters.requests);
    let id = req.request_id.clone().unwrap_or_default();
    let answer = |r: ResponseMessage| link.respond(nsp, &req, &r);
    match &req.request {
        Request::Sockets { rooms } => {
            let ids = shared
                .registry()
                .get(nsp)
                .map(|n| n.rooms.sockets(rooms))
                .unwrap_or_default();
            answer(ResponseMessage::sockets(&id, &ids, wire));
        }
        Request::SocketRooms { sid } => {
            let rooms = shared
                .registry()
                .get(nsp)
                .and_then(|n| n.rooms.socket_rooms(sid));
            // "if (!rooms) { return; }": only the node that has the socket answers.
            if let Some(rooms) = rooms {
                answer(ResponseMessage::rooms_answer(&id, &rooms, wire));
            }
        }
        Request::AllRooms => {
            let rooms = shared
                .registry()
                .get(nsp)
                .map(|n| n.rooms.rooms().map(str::to_owned).collect())
                .unwrap_or_default();
            answer(ResponseMessage::rooms_answer(&id, &rooms, wire));
        }
        Request::Join { target, rooms } | Request::Leave { target, rooms } => {
            let join = matches!(req.request, Request::Join { .. });
            match target {
                Target::Select(opts) => {
                    apply_join(shared, nsp, opts, rooms, join);
                }
                Target::Socket(sid) => {
                    if apply_join(
                        shared,
                        nsp,
                        &BroadcastOptions::new().to(sid.clone()),
                        rooms,
                        join,
                    ) > 0
                    {
                        answer(ResponseMessage::done(&id, wire));
                    }
                }
            }
        }
        Request::Disconnect { target, close } => match target {
            Target::Select(opts) => {
                apply_disconnect(shared, nsp, opts, *close);
            }
            Target::Socket(sid) => {
                if apply_disconnect(
                    shared,
                    nsp,
                    &BroadcastOptions::new().to(sid.clone()),
                    *close,
                ) > 0
                {
                    answer(ResponseMessage::done(&id, wire));
                }
            }
        },
        Request::FetchSockets { opts } => {
            let list = local_sockets(shared, nsp, opts)
                .iter()
                .map(RemoteSocket::to_value)
                .collect();
            answer(ResponseMessage::fetched(&id, list));
        }
        Request::ServerSideEmit { data } => {
            let wants = req.request_id.is_some();
            let event = ServerSideEvent {
                nsp: nsp.to_owned(),
                data: data.clone(),
                answer: wants.then(|| Answer {
                    link: Arc::downgrade(link),
                    request: req.clone(),
                    nsp: nsp.to_owned(),
                    wire,
                    sent: false,
                }),
            };
            // A full queue drops the event (its `Answer` answers `null` on
            // socket.io-redis 5 as it drops).
            if link.events.try_send(event).is_err() {
                bump(&link.counters.dropped);
            }
        }
        Request::BroadcastWithAck { packet, opts } => {
            broadcast_with_ack(shared, link, nsp, &req, packet, opts);
        }
        _ => bump(&link.counters.ignored),
    }
}

fn on_response(link: &Link, payload: &Bytes) {
    let Ok(r) = ResponseMessage::decode(payload, link.config.wire) else {
        bump(&link.counters.malformed);
        return;
    };
    let waiter = link.waiting().get(&r.request_id).cloned();
    match waiter {
        // A waiter gets as many answers as it waits for; more are dropped.
        Some(w) => {
            let _ = w.try_send(r);
        }
        None => bump(&link.counters.ignored),
    }
}

/// The local sockets `opts` selects, as `fetchSockets` describes them.
pub(super) fn local_sockets(
    shared: &Shared,
    nsp: &str,
    opts: &BroadcastOptions,
) -> Vec<RemoteSocket> {
    let reg = shared.registry();
    let Some(n) = reg.get(nsp) else {
        return Vec::new();
    };
    n.rooms
        .targets(opts)
        .into_iter()
        .map(|id| {
            let target = n.sockets.get(id);
            let session = target.and_then(|t| t.session.upgrade());
            // socket.io 4's `handshake`, field for field. What the Engine.io layer does not
            // keep (the request's headers, the peer's address, the URL) is empty.
            let issued = session.as_ref().map_or(0, |s| s.issued_ms);
            let mut hs = Map::new();
            hs.insert("headers", Value::Object(Map::new()));
            hs.insert(
                "time",
                Value::from(
                    pushwire_socketio::cluster::date::utc_string(issued as f64).unwrap_or_default(),
                ),
            );
            hs.insert("address", Value::from(""));
            hs.insert("xdomain", Value::Bool(false));
            hs.insert("secure", Value::Bool(false));
            hs.insert("issued", Value::from(issued));
            hs.insert("url", Value::from(""));
            hs.insert(
                "query",
                session.map(|s| query_object(&s.query)).unwrap_or_default(),
            );
            hs.insert(
                "auth",
                target.map_or_else(|| Value::Object(Map::new()), |t| t.auth.clone()),
            );
            RemoteSocket {
                id: id.to_owned(),
                handshake: Value::Object(hs),
                rooms: n.rooms.socket_rooms(id).unwrap_or_default(),
                data: Value::Object(Map::new()),
            }
        })
        .collect()
}

/// A query string as socket.io's `handshake.query` object (values undecoded past `%XX`
/// and `+`).
fn query_object(q: &str) -> Value {
    let mut m = Map::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.insert(percent_decode(k), Value::from(percent_decode(v)));
    }
    Value::Object(m)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(())
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes the local sockets `opts` selects join (or leave) `rooms`; returns how many sockets.
pub(super) fn apply_join(
    shared: &Shared,
    nsp: &str,
    opts: &BroadcastOptions,
    rooms: &BTreeSet<String>,
    join: bool,
) -> usize {
    let mut reg = shared.registry();
    let Some(n) = reg.get_mut(nsp) else { return 0 };
    let ids: Vec<String> = n
        .rooms
        .targets(opts)
        .into_iter()
        .map(str::to_owned)
        .collect();
    for id in &ids {
        for r in rooms {
            if join {
                let _ = n.rooms.join(id, r);
            } else {
                n.rooms.leave(id, r);
            }
        }
    }
    ids.len()
}

/// Disconnects the local sockets `opts` selects (closing their connections when `close`).
pub(super) fn apply_disconnect(
    shared: &Arc<Shared>,
    nsp: &str,
    opts: &BroadcastOptions,
    close: bool,
) -> usize {
    let b = Broadcast {
        shared: Arc::clone(shared),
        nsp: nsp.to_owned(),
        opts: opts.clone(),
    };
    if close {
        b.close()
    } else {
        b.disconnect()
    }
}

/// Another node's broadcast with acks: deliver to the local targets asking each for an
/// ack, answer with their count, then with each ack as it comes.
fn broadcast_with_ack(
    shared: &Arc<Shared>,
    link: &Arc<Link>,
    nsp: &str,
    req: &RequestMessage,
    packet: &ClusterPacket,
    opts: &BroadcastOptions,
) {
    let id = req.request_id.clone().unwrap_or_default();
    let Some(Value::Array(data)) = &packet.data else {
        bump(&link.counters.malformed);
        return;
    };
    let Some((Value::String(name), args)) = data.split_first() else {
        bump(&link.counters.malformed);
        return;
    };
    let b = Broadcast {
        shared: Arc::clone(shared),
        nsp: nsp.to_owned(),
        opts: opts.clone(),
    };
    // The sender's `timeout(ms)` travels as `flags.timeout`.
    let timeout = opts
        .flags
        .timeout
        .map_or(link.config.requests_timeout, Duration::from_millis);
    let futures = b.emit_with_ack_each(name, args, timeout);
    link.respond(
        nsp,
        req,
        &ResponseMessage::client_count_answer(&id, futures.len() as u64),
    );
    for f in futures {
        let link = Arc::downgrade(link);
        let req = req.clone();
        let nsp = nsp.to_owned();
        let id = id.clone();
        tokio::spawn(async move {
            let Ok(packet) = f.await else { return };
            let Some(link) = link.upgrade() else { return };
            // The node adapter relays the ack's first argument only ("(arg) => …
            // packet: arg"; an ack of `(Buffer, {from})` arrives as the Buffer).
            let first = packet
                .args()
                .ok()
                .and_then(|a| a.into_iter().next())
                .unwrap_or_default();
            link.respond(
                &nsp,
                &req,
                &ResponseMessage::broadcast_ack_answer(&id, first),
            );
        });
    }
}
