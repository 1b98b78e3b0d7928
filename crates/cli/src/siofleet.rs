//! The Socket.IO chat's part in a Redis fleet (`pushwire serve --redis URL`): chat
//! broadcasts already cross nodes (pushwire-tokio publishes every broadcast of an attached
//! endpoint); this module adds the events that ask the whole fleet, and answers the other
//! servers' server-side events.
//!
//! Client events (each answered by an ack `{ok: true, …}` or `{ok: false, error}`, like
//! the chat's):
//!
//! * `who` `(room)` → `{ok, sockets}`: the ids of the sockets in chat room `room` on every
//!   node (`fetchSockets`; on a `socket.io-redis` 5 fleet, which has no such request, this
//!   node's only, and `local: true` in the answer).
//! * `ssping` `()` → `{ok, answers}`: a server-side `ping` to every other server
//!   (`serverSideEmitWithAck`), with their answers.
//! * `askall` `(room)` → `{ok, answers}`: the event `q` to every socket in chat room `room`
//!   on every node, each asked for an ack within 3 s (`io.to(room).timeout(3000)
//!   .emitWithAck("q")`); `answers` holds each ack's first argument (redis-adapter 8
//!   fleets only).
//!
//! Server-side events: `ping` is answered `{node: "pushwire", uid}`; others are answered
//! `null` when the sender waits for an answer.

use std::time::Duration;

use pushwire_tokio::socketio::cluster::{Cluster, Wire};
use pushwire_tokio::socketio::{BroadcastOptions, Event, Map, Value};

use crate::siochat::ROOM_PREFIX;

/// How long a fleet-wide question waits for its ack to go out (the cluster's own
/// requests timeout, 5 s, bounds the question itself).
const ASK_BOUND: Duration = Duration::from_secs(6);

/// Handles `ev` when it is a fleet event (returns false otherwise). The answer is sent
/// from a task of its own, so the socket's other events are not held up by the fleet.
pub(crate) fn on_event(cluster: &Cluster, ev: &mut Event) -> bool {
    let name = ev.name().to_owned();
    if !matches!(name.as_str(), "who" | "ssping" | "askall") {
        return false;
    }
    let args = ev.args().unwrap_or_default();
    let ack = ev.take_ack();
    let cluster = cluster.clone();
    tokio::spawn(async move {
        let mut m = Map::new();
        let answer = tokio::time::timeout(ASK_BOUND, ask(&cluster, &name, &args)).await;
        match answer {
            Ok(Ok(fields)) => {
                m.insert("ok", Value::Bool(true));
                for (k, v) in fields.iter() {
                    m.insert(k, v.clone());
                }
            }
            Ok(Err(e)) => {
                m.insert("ok", Value::Bool(false));
                m.insert("error", Value::String(e));
            }
            Err(_) => {
                m.insert("ok", Value::Bool(false));
                m.insert("error", Value::from("timeout"));
            }
        }
        if let Some(ack) = ack {
            let _ = ack.send(&[Value::Object(m)]);
        }
    });
    true
}

async fn ask(cluster: &Cluster, name: &str, args: &[Value]) -> Result<Map, String> {
    let mut m = Map::new();
    match name {
        "who" => {
            let room = crate::siochat::room_arg(args.first()).map_err(|e| e.as_str().to_owned())?;
            let opts = BroadcastOptions::new().to(format!("{ROOM_PREFIX}{room}"));
            let local = cluster.wire() == Wire::SocketIoRedis5;
            let ids: Vec<Value> = if local {
                cluster
                    .local_sockets("/", &opts)
                    .into_iter()
                    .map(|s| Value::String(s.id))
                    .collect()
            } else {
                cluster
                    .fetch_sockets("/", &opts)
                    .await
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(|s| Value::String(s.id))
                    .collect()
            };
            m.insert("sockets", Value::Array(ids));
            if local {
                m.insert("local", Value::Bool(true));
            }
        }
        "askall" => {
            let room = crate::siochat::room_arg(args.first()).map_err(|e| e.as_str().to_owned())?;
            let opts = BroadcastOptions::new().to(format!("{ROOM_PREFIX}{room}"));
            let answers = cluster
                .emit_with_ack("/", &opts, "q", &[], Duration::from_secs(3))
                .await
                .map_err(|e| e.to_string())?;
            m.insert("answers", Value::Array(answers));
        }
        _ => {
            let answers = cluster
                .server_side_emit_with_ack("/", "ping", &[])
                .await
                .map_err(|e| e.to_string())?;
            m.insert("answers", Value::Array(answers));
        }
    }
    Ok(m)
}

/// Answers the other servers' server-side events while the fleet link lives.
pub(crate) async fn serve_pings(cluster: Cluster) {
    while let Some(ev) = cluster.server_side_event().await {
        let answer = if ev.name() == Some("ping") {
            let mut m = Map::new();
            m.insert("node", Value::from("pushwire"));
            m.insert("uid", Value::from(cluster.uid()));
            Value::Object(m)
        } else {
            Value::Null
        };
        ev.ack(answer);
    }
}
