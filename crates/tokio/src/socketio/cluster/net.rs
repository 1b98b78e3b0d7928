//! The two Redis connections: publishing (a queue drained by one task) and subscribed
//! (re-subscribed after a loss).

use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

use bytes::Bytes;
use pushwire_socketio::cluster::Channels;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use super::incoming::on_message;
use super::{bump, Link, Outgoing, MAX_BACKOFF, MIN_BACKOFF};
use crate::socketio::Shared;

/// Opens the subscribed connection: every namespace's broadcast pattern, request and
/// response channels, and the application's channels. Returns its two halves; the
/// command half is also kept in the link, for namespaces made later.
pub(super) async fn subscribe(
    client: &redis::Client,
    link: &Link,
) -> Result<redis::aio::PubSubStream, redis::RedisError> {
    let pubsub = client.get_async_pubsub().await?;
    let (mut sink, stream) = pubsub.split();
    let mut done = Vec::new();
    for (nsp, c) in link.namespaces() {
        subscribe_namespace(&mut sink, &c, &link.uid).await?;
        done.push(nsp);
    }
    if !link.config.channels.is_empty() {
        sink.subscribe(&link.config.channels).await?;
    }
    *link.sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink.clone());
    // A namespace added while the list above was being subscribed found no sink yet.
    for (nsp, c) in link.namespaces() {
        if !done.contains(&nsp) {
            subscribe_namespace(&mut sink, &c, &link.uid).await?;
        }
    }
    Ok(stream)
}

/// One namespace: `<key>#<nsp>#*` (broadcasts), its request channel, the shared response
/// channel and this node's own.
pub(super) async fn subscribe_namespace(
    sink: &mut redis::aio::PubSubSink,
    c: &Channels,
    uid: &str,
) -> Result<(), redis::RedisError> {
    sink.psubscribe(c.pattern()).await?;
    sink.subscribe(&[
        c.request().to_owned(),
        c.response().to_owned(),
        c.specific_response(uid),
    ])
    .await
}

/// Most messages written to Redis in one pipeline.
const BATCH: usize = 256;
/// After an outage, how long what was kept waits once Redis answers again: two of the
/// other nodes' reconnection steps (pushwire's and node-redis's are at most 500 ms), so
/// that they have re-subscribed when it arrives.
const RESUBSCRIBE_GRACE: Duration = Duration::from_secs(1);

/// Publishes queued messages until the link is gone: what has queued up meanwhile goes out
/// as one pipeline of `PUBLISH` commands (one write and one round trip for up to [`BATCH`]
/// messages, in order), so the rate is not bound by one round trip per message.
///
/// A pipeline that fails is tried again at once (a connection found broken fails the
/// command that found it, and reconnects). If that fails too, Redis is away: the publisher
/// pings it (100 ms doubling to 500 ms) until it answers, waits [`RESUBSCRIBE_GRACE`] for
/// the other nodes to re-subscribe, and sends what it kept; meanwhile new messages wait in
/// the bounded queue. Messages that have waited longer than
/// [`RedisConfig::offline_hold`](super::RedisConfig::offline_hold) are dropped and counted.
/// node-redis's offline queue, which the node adapters rely on, sends at once on
/// reconnection, so what it kept reaches only the nodes that re-subscribed faster; pushwire
/// waits for them (still at most once: a node that takes longer misses it).
pub(super) async fn publisher(
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<Outgoing>,
    link: Weak<Link>,
) {
    let mut batch: Vec<Outgoing> = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut tries = 0u32;
        loop {
            // What queued up during an outage may have waited too long.
            let Some(l) = link.upgrade() else { return };
            let hold = l.config.offline_hold;
            let before = batch.len();
            batch.retain(|(at, _, _)| at.elapsed() <= hold);
            let stale = (before - batch.len()) as u64;
            l.counters.dropped.fetch_add(stale, Ordering::Relaxed);
            drop(l);
            if batch.is_empty() {
                break;
            }
            let mut pipe = redis::pipe();
            for (_, channel, payload) in &batch {
                pipe.cmd("PUBLISH").arg(channel).arg(payload).ignore();
            }
            let r: Result<(), _> = pipe.query_async(&mut conn).await;
            let Some(l) = link.upgrade() else { return };
            if r.is_ok() {
                let n = batch.len() as u64;
                l.counters.published.fetch_add(n, Ordering::Relaxed);
                break;
            }
            drop(l);
            if tries > 0 {
                // An outage: wait for Redis, then give the other nodes one reconnection
                // step to re-subscribe before sending what was kept (they would miss it).
                let mut pause = MIN_BACKOFF;
                loop {
                    tokio::time::sleep(pause).await;
                    let pong: Result<String, _> = redis::cmd("PING").query_async(&mut conn).await;
                    if pong.is_ok() {
                        break;
                    }
                    if link.strong_count() == 0 {
                        return;
                    }
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
                tokio::time::sleep(RESUBSCRIBE_GRACE).await;
            }
            tries += 1;
        }
        batch.clear();
    }
}

/// Reads the subscribed connection, re-subscribing after a loss, while the endpoint lives.
pub(super) async fn subscriber(
    client: redis::Client,
    first: redis::aio::PubSubStream,
    shared: Weak<Shared>,
) {
    let mut pubsub = Some(first);
    let mut backoff = MIN_BACKOFF;
    loop {
        if let Some(p) = pubsub.take() {
            backoff = MIN_BACKOFF;
            let mut stream = pin!(p);
            while let Some(msg) =
                std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx))
                    .await
            {
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let Some(link) = shared.cluster.get().cloned() else {
                    return;
                };
                let payload = msg.get_payload_bytes();
                if payload.len() > link.config.max_message_bytes {
                    bump(&link.counters.malformed);
                    continue;
                }
                let channel =
                    String::from_utf8_lossy(msg.get_channel_name().as_bytes()).into_owned();
                on_message(&shared, &link, &channel, Bytes::copy_from_slice(payload));
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let Some(link) = shared.cluster.get().cloned() else {
            return;
        };
        drop(shared);
        if let Ok(p) = subscribe(&client, &link).await {
            bump(&link.counters.reconnects);
            pubsub = Some(p);
        }
    }
}
