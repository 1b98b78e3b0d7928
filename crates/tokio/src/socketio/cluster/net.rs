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
/// How often, while publishing, the publisher notes how many nodes the fleet has: the
/// subscribers of the namespaces' request channels (`PUBSUB NUMSUB`; every node of both
/// wires subscribes there).
const COUNT_EVERY: Duration = Duration::from_secs(2);
/// After an outage, the longest wait for the fleet to be back to what it was before it (a
/// node that left meanwhile never comes back).
const RESUBSCRIBE_WAIT: Duration = Duration::from_secs(5);
/// After an outage with no count noted before it: a fixed wait, two of the other nodes'
/// reconnection steps (pushwire's and node-redis 4's are at most 500 ms).
const RESUBSCRIBE_GRACE: Duration = Duration::from_secs(1);

/// The subscribers of every namespace's request channel, summed.
async fn subscribers(conn: &mut ConnectionManager, link: &Weak<Link>) -> Option<i64> {
    let channels: Vec<String> = link
        .upgrade()?
        .namespaces()
        .iter()
        .map(|(_, c)| c.request().to_owned())
        .collect();
    let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(&channels)
        .query_async(conn)
        .await
        .ok()?;
    Some(counts.iter().map(|(_, n)| n).sum())
}

/// After an outage, once Redis answers: until the fleet has as many subscribers as
/// `before` (at most [`RESUBSCRIBE_WAIT`]), or [`RESUBSCRIBE_GRACE`] when unknown.
async fn wait_for_resubscription(
    conn: &mut ConnectionManager,
    link: &Weak<Link>,
    before: Option<i64>,
) {
    let Some(before) = before else {
        tokio::time::sleep(RESUBSCRIBE_GRACE).await;
        return;
    };
    let until = tokio::time::Instant::now() + RESUBSCRIBE_WAIT;
    while tokio::time::Instant::now() < until {
        if subscribers(conn, link).await.is_some_and(|n| n >= before) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether a failed pipeline cannot have reached Redis: it refused the connection,
/// connecting took too long (the connection has no response timeout), or the write found
/// the connection already closed by Redis (`EPIPE`, `ENOTCONN`; a pipeline is one write).
/// A connection reset or closed while the answer was awaited is not among them: Redis may
/// have run it.
fn never_sent(e: &redis::RedisError) -> bool {
    use std::io::ErrorKind as K;
    // redis keeps the I/O error behind an `Arc<dyn Error>`, which is what `source` lends.
    type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
    let io = std::error::Error::source(e).and_then(|s| {
        s.downcast_ref::<std::io::Error>().or_else(|| {
            s.downcast_ref::<Shared>()
                .and_then(|a| a.downcast_ref::<std::io::Error>())
        })
    });
    e.is_connection_refusal()
        || e.is_timeout()
        || io.is_some_and(|io| matches!(io.kind(), K::BrokenPipe | K::NotConnected))
}

/// Publishes queued messages until the link is gone: what has queued up meanwhile goes out
/// as one pipeline of `PUBLISH` commands (one write and one round trip for up to [`BATCH`]
/// messages, in order), so the rate is not bound by one round trip per message.
///
/// At most once. A pipeline that fails where Redis may have run part of it (the
/// connection dropped under it, or Redis refused a command) is not sent again: its
/// messages are dropped and counted, as node-redis rejects the commands in flight when its
/// connection drops. A pipeline that cannot have reached Redis (the connection is refused:
/// Redis is away) is kept: the publisher pings Redis (100 ms doubling to 500 ms) until it
/// answers, waits until the fleet has as many nodes subscribed as it noted before the
/// outage (every [`COUNT_EVERY`] while publishing; at most [`RESUBSCRIBE_WAIT`]), and
/// sends it; meanwhile new messages wait in the bounded queue. Messages that have waited
/// longer than [`RedisConfig::offline_hold`](super::RedisConfig::offline_hold) are dropped
/// and counted. The node adapters' Redis clients (node-redis 4, node_redis 3) keep commands
/// while disconnected too but send them at once on reconnection, so what they kept reaches
/// only the nodes that re-subscribed faster; pushwire waits for the others (a node that
/// takes longer than the wait misses it).
pub(super) async fn publisher(
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<Outgoing>,
    link: Weak<Link>,
) {
    let mut batch: Vec<Outgoing> = Vec::with_capacity(BATCH);
    // The fleet's subscribers, as last noted, and when.
    let mut fleet: Option<(i64, tokio::time::Instant)> = None;
    while rx.recv_many(&mut batch, BATCH).await > 0 {
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
            let n = batch.len() as u64;
            match r {
                Ok(()) => {
                    l.counters.published.fetch_add(n, Ordering::Relaxed);
                    drop(l);
                    if fleet.is_none_or(|(_, at)| at.elapsed() >= COUNT_EVERY) {
                        if let Some(n) = subscribers(&mut conn, &link).await {
                            fleet = Some((n, tokio::time::Instant::now()));
                        }
                    }
                    break;
                }
                Err(e) if !never_sent(&e) => {
                    l.counters.dropped.fetch_add(n, Ordering::Relaxed);
                    break;
                }
                Err(_) => {}
            }
            drop(l);
            // Redis is away: wait for it, then for the other nodes to re-subscribe before
            // sending what was kept (they would miss it).
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
            wait_for_resubscription(&mut conn, &link, fleet.map(|(n, _)| n)).await;
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
                let pattern: Option<String> = msg.get_pattern().ok().flatten();
                on_message(
                    &shared,
                    &link,
                    &channel,
                    pattern.as_deref(),
                    Bytes::copy_from_slice(payload),
                );
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

#[cfg(test)]
mod tests {
    use super::never_sent;
    use std::io::{Error, ErrorKind};

    #[test]
    fn only_errors_before_the_write_count_as_never_sent() {
        let e = |k: ErrorKind| redis::RedisError::from(Error::new(k, "x"));
        for k in [
            ErrorKind::ConnectionRefused,
            ErrorKind::BrokenPipe,
            ErrorKind::NotConnected,
            ErrorKind::TimedOut,
        ] {
            assert!(never_sent(&e(k)), "{k:?}");
        }
        // Redis may have run what it was sent before these.
        for k in [
            ErrorKind::ConnectionReset,
            ErrorKind::UnexpectedEof,
            ErrorKind::ConnectionAborted,
        ] {
            assert!(!never_sent(&e(k)), "{k:?}");
        }
        let server = redis::RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError),
            "NOPERM",
        ));
        assert!(!never_sent(&server));
    }
}
