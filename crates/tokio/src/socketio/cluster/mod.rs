//! Socket.IO on several servers over Redis (feature `redis`), wire-compatible with
//! socket.io's own Redis adapters: `@socket.io/redis-adapter` 8 (classic pub/sub, socket.io
//! 3/4: [`Wire::RedisAdapter8`]) and `socket.io-redis` 5 (socket.io 2:
//! [`Wire::SocketIoRedis5`]). A pushwire server attached with [`Cluster::attach`] is one
//! node of a fleet that may also hold node socket.io servers: its broadcasts reach their
//! clients, theirs reach its clients, and it answers their requests (socket ids, rooms,
//! `fetchSockets`, remote join/leave/disconnect, `serverSideEmit`, broadcasts with acks).
//!
//! # Call order
//!
//! 1. Build the [`SocketIo`] with every namespace the fleet uses in its config (the
//!    subscriptions are made for those; dynamic namespaces are not subscribed).
//! 2. [`Cluster::attach`]`(&io, RedisConfig::new(url))`: connects twice (a publishing
//!    connection and a subscribed one), subscribes, and from then on
//!    [`super::Broadcast::emit`] also publishes (unless the broadcast is
//!    [`super::Broadcast::local`]).
//! 3. Use the cluster-wide calls on [`Cluster`] ([`Cluster::fetch_sockets`],
//!    [`Cluster::server_side_emit`], [`Cluster::sockets_join`], …) and take the other
//!    servers' server-side events from [`Cluster::server_side_event`].
//!
//! # Delivery
//!
//! At most once, as the node adapters. Both connections reconnect by themselves (the
//! subscribed one re-subscribes, with backoff from 100 ms to 500 ms, as node-redis's 50 ms
//! steps to 500 ms); local delivery never waits for Redis. Publishing goes through a
//! bounded queue ([`RedisConfig::publish_queue`]): a broadcast that finds it full is dropped
//! and counted ([`ClusterStats::dropped`]). While Redis is unreachable, what could not be
//! published is kept (at most [`RedisConfig::offline_hold`], default 10 s) and published
//! when it is back, as node-redis's offline queue does for the node adapters — but once
//! the fleet has as many nodes subscribed as before the outage (at most 5 s; node-redis
//! sends at once, and what reaches Redis before a node has re-subscribed is lost for that
//! node). A pipeline that failed where Redis may have run part of it is dropped, never sent
//! twice.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Which node adapter's wire to speak (re-exported from pushwire-socketio).
pub use pushwire_socketio::cluster::Wire;
use pushwire_socketio::cluster::{
    BroadcastMessage, Channels, ClusterPacket, Request, RequestMessage, ResponseMessage, Target,
};
use pushwire_socketio::PacketType;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use super::{BroadcastOptions, SocketIo, Value};

mod incoming;
mod net;
mod types;

use incoming::{apply_disconnect, apply_join, local_sockets};
use net::{publisher, subscribe, subscriber};
pub use types::{RemoteSocket, ServerSideEvent};

/// Settings of a [`Cluster`]. Start from [`RedisConfig::new`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisConfig {
    /// The Redis server, `redis://host:port/`.
    pub url: String,
    /// The channel prefix (the adapters' `key` option). Default `socket.io`.
    pub key: String,
    /// The wire. Default [`Wire::RedisAdapter8`].
    pub wire: Wire,
    /// How long a cluster-wide request waits for the other nodes (the adapters'
    /// `requestsTimeout`). Default 5 s.
    pub requests_timeout: Duration,
    /// Messages that may wait to be published. Default 4,096.
    pub publish_queue: usize,
    /// How long a message may wait for Redis to come back: while Redis cannot be reached
    /// the publisher keeps what it could not publish (up to [`RedisConfig::publish_queue`]
    /// messages) and retries, as node-redis's offline queue does for the node adapters;
    /// messages older than this are dropped and counted. Default 10 s (node-redis: no
    /// limit).
    pub offline_hold: Duration,
    /// Server-side events from other nodes that may wait for
    /// [`Cluster::server_side_event`]. Default 1,024; more are dropped (and, on
    /// `socket.io-redis` 5, answered with `null` so its sender does not wait).
    pub event_queue: usize,
    /// Channels of the application's own, besides Socket.IO's: subscribed with the rest,
    /// their messages handed to [`Cluster::channel_message`] (a bounded queue of
    /// [`RedisConfig::event_queue`] entries; more are dropped and counted), published with
    /// [`Cluster::publish`]. Default none.
    pub channels: Vec<String>,
    /// Answer each request on the asking node's own response channel
    /// (`<key>-response#<nsp>#<uid>#`) instead of the shared one, so that only the asking
    /// node receives it: @socket.io/redis-adapter 8's `publishOnSpecificResponseChannel`.
    /// Every node of both wires listens on both channels, so either works in a mixed fleet;
    /// socket.io-redis 5's requests carry no uid and are always answered on the shared
    /// one. Default `false`, as node's.
    pub specific_response_channel: bool,
    /// Largest message taken from Redis. Default 11 MB (a Socket.IO packet's limit plus
    /// room for the envelope).
    pub max_message_bytes: usize,
}

impl RedisConfig {
    /// The defaults with Redis at `url`.
    #[must_use]
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key: "socket.io".into(),
            wire: Wire::RedisAdapter8,
            requests_timeout: Duration::from_secs(5),
            publish_queue: 4_096,
            offline_hold: Duration::from_secs(10),
            event_queue: 1_024,
            max_message_bytes: 11_000_000,
            specific_response_channel: false,
            channels: Vec::new(),
        }
    }

    /// Returns this config with [`RedisConfig::wire`] set.
    #[must_use]
    pub fn with_wire(mut self, wire: Wire) -> Self {
        self.wire = wire;
        self
    }

    /// Returns this config with `channel` added to [`RedisConfig::channels`].
    #[must_use]
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channels.push(channel.into());
        self
    }

    /// Returns this config with [`RedisConfig::key`] set.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
        self
    }

    /// Returns this config with [`RedisConfig::specific_response_channel`] set.
    #[must_use]
    pub fn with_specific_response_channel(mut self, on: bool) -> Self {
        self.specific_response_channel = on;
        self
    }

    /// Returns this config with [`RedisConfig::offline_hold`] set.
    #[must_use]
    pub fn with_offline_hold(mut self, t: Duration) -> Self {
        self.offline_hold = t;
        self
    }

    /// Returns this config with [`RedisConfig::requests_timeout`] set.
    #[must_use]
    pub fn with_requests_timeout(mut self, t: Duration) -> Self {
        self.requests_timeout = t;
        self
    }
}

/// Why a cluster call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Redis refused or could not be reached.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Not every node answered within [`RedisConfig::requests_timeout`] (node: "timeout
    /// reached while waiting for … response").
    #[error("timeout: {got} of {expected} answers")]
    Timeout {
        /// Answers received.
        got: usize,
        /// Answers expected.
        expected: usize,
    },
    /// The publishing queue is full; nothing was sent.
    #[error("the publishing queue is full")]
    QueueFull,
    /// The request has no form on this wire (`fetchSockets` and broadcasts with acks on
    /// `socket.io-redis` 5).
    #[error("not on this wire: {0}")]
    Unsupported(&'static str),
    /// A packet could not be built (a bad namespace, a reserved event name).
    #[error(transparent)]
    Build(#[from] pushwire_socketio::BuildError),
    /// A cluster is attached to this endpoint already.
    #[error("a cluster is attached already")]
    AlreadyAttached,
}

/// Counters of a cluster link (since attach).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ClusterStats {
    /// Messages published.
    pub published: u64,
    /// Messages not published: the queue was full, their pipeline failed where Redis may
    /// have run part of it (not sent again: at most once), or Redis stayed away longer than
    /// [`RedisConfig::offline_hold`].
    pub dropped: u64,
    /// Broadcasts from other nodes delivered here.
    pub delivered: u64,
    /// Requests from other nodes handled.
    pub requests: u64,
    /// Messages ignored: this node's own, another namespace's, a room nobody here is in.
    pub ignored: u64,
    /// Messages that did not decode (counted and ignored, as the node adapters do).
    pub malformed: u64,
    /// Times the subscribed connection was re-established.
    pub reconnects: u64,
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    dropped: AtomicU64,
    delivered: AtomicU64,
    requests: AtomicU64,
    ignored: AtomicU64,
    malformed: AtomicU64,
    reconnects: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

type Waiter = mpsc::Sender<ResponseMessage>;

/// A message waiting to be published: when it was queued, its channel, its payload.
type Outgoing = (tokio::time::Instant, String, Vec<u8>);

/// The link between a [`SocketIo`] and Redis, kept in the endpoint's shared state.
pub(crate) struct Link {
    uid: String,
    config: RedisConfig,
    /// The namespaces subscribed: the configured ones, and dynamic ones once a socket
    /// connected to them (as a node server makes a namespace's adapter when it is created).
    channels: std::sync::RwLock<HashMap<Arc<str>, Arc<Channels>>>,
    /// The subscribed connection's command half, to subscribe namespaces made later.
    sink: Mutex<Option<redis::aio::PubSubSink>>,
    out: mpsc::Sender<Outgoing>,
    conn: ConnectionManager,
    waiting: Mutex<HashMap<String, Waiter>>,
    events: mpsc::Sender<ServerSideEvent>,
    raw: mpsc::Sender<(String, bytes::Bytes)>,
    counters: Counters,
    subscriber: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(h) = self.subscriber.get_mut().ok().and_then(Option::take) {
            h.abort();
        }
    }
}

impl Link {
    fn waiting(&self) -> MutexGuard<'_, HashMap<String, Waiter>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn channels(&self, nsp: &str) -> Arc<Channels> {
        let known = self
            .channels
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(nsp)
            .cloned();
        known.unwrap_or_else(|| Arc::new(Channels::new(&self.config.key, nsp)))
    }

    /// The subscribed namespace whose channels `f` accepts.
    /// (Asked for every message received: nothing is copied, two counts are raised.)
    fn namespace_of(&self, f: impl Fn(&Channels) -> bool) -> Option<(Arc<str>, Arc<Channels>)> {
        let map = self.channels.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .find(|(_, c)| f(c))
            .map(|(n, c)| (Arc::clone(n), Arc::clone(c)))
    }

    /// The subscribed namespaces and their channels, now.
    fn namespaces(&self) -> Vec<(Arc<str>, Arc<Channels>)> {
        let map = self.channels.read().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(n, c)| (Arc::clone(n), Arc::clone(c)))
            .collect()
    }

    /// Notes namespace `nsp` as subscribed if it is not yet: its channels and the
    /// subscribed connection's command half to subscribe it with (none while
    /// disconnected: the next re-subscription takes it).
    fn insert_namespace(
        &self,
        nsp: &str,
    ) -> Option<(Arc<Channels>, Option<redis::aio::PubSubSink>)> {
        let c = {
            let mut map = self.channels.write().unwrap_or_else(|e| e.into_inner());
            if map.contains_key(nsp) {
                return None;
            }
            let c = Arc::new(Channels::new(&self.config.key, nsp));
            map.insert(Arc::from(nsp), Arc::clone(&c));
            c
        };
        let sink = self.sink.lock().unwrap_or_else(|e| e.into_inner()).clone();
        Some((c, sink))
    }

    /// Subscribes namespace `nsp` (a dynamic one, when its first socket connected) if it
    /// is not yet, in the background. Called with no lock held that a message handler
    /// takes.
    pub(crate) fn add_namespace(&self, nsp: &str) {
        if let Some((c, Some(mut sink))) = self.insert_namespace(nsp) {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let uid = self.uid.clone();
                rt.spawn(async move {
                    let _ = net::subscribe_namespace(&mut sink, &c, &uid).await;
                });
            }
        }
    }

    /// Subscribes namespace `nsp` if it is not yet, before this node asks the fleet about
    /// it: it must hear the answers, and count itself among the request channel's
    /// subscribers (as a node server has the namespace's adapter once `io.of(nsp)` ran).
    async fn ensure_namespace(&self, nsp: &str) -> Result<(), ClusterError> {
        if let Some((c, Some(mut sink))) = self.insert_namespace(nsp) {
            net::subscribe_namespace(&mut sink, &c, &self.uid).await?;
        }
        Ok(())
    }

    /// Queues a message for publishing; a full queue drops it (counted).
    fn publish(&self, channel: String, payload: Vec<u8>) -> bool {
        if self
            .out
            .try_send((tokio::time::Instant::now(), channel, payload))
            .is_ok()
        {
            true
        } else {
            bump(&self.counters.dropped);
            false
        }
    }

    /// Publishes a broadcast of this node (called by [`Broadcast::emit`]).
    pub(crate) fn publish_event(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
        name: &str,
        args: &[Value],
    ) {
        let mut data = Vec::with_capacity(args.len() + 1);
        data.push(Value::from(name));
        data.extend_from_slice(args);
        let data = Value::Array(data);
        // socket.io 2 sets the binary type before broadcasting; socket.io 3/4 leave it to
        // the encoder.
        let kind = if self.config.wire == Wire::SocketIoRedis5 && data.has_binary() {
            PacketType::BinaryEvent
        } else {
            PacketType::Event
        };
        let message = BroadcastMessage {
            uid: self.uid.clone(),
            packet: ClusterPacket {
                kind,
                nsp: nsp.to_owned(),
                data: Some(data),
                id: None,
            },
            opts: opts.clone(),
        };
        let single = (opts.rooms.len() == 1)
            .then(|| opts.rooms.iter().next().map(String::as_str))
            .flatten();
        let channel = self.channels(nsp).broadcast(single);
        match message.encode() {
            Ok(payload) => {
                self.publish(channel, payload);
            }
            Err(_) => bump(&self.counters.dropped),
        }
    }

    fn respond(&self, nsp: &str, request: &RequestMessage, response: &ResponseMessage) {
        let Ok(payload) = response.encode() else {
            return;
        };
        let channels = self.channels(nsp);
        // redis-adapter 8: "const responseChannel = this.publishOnSpecificResponseChannel
        // ? `${this.responseChannel}${request.uid}#` : this.responseChannel;"
        let channel = match &request.uid {
            Some(uid) if self.config.specific_response_channel => channels.specific_response(uid),
            _ => channels.response().to_owned(),
        };
        self.publish(channel, payload);
    }
}

/// A random id of 6 characters from `[A-Za-z0-9]` (the node adapters' `uid2(6)`).
fn random_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut x = h.finish();
    (0..6)
        .map(|_| {
            let c = ALPHABET[(x % ALPHABET.len() as u64) as usize];
            x /= ALPHABET.len() as u64;
            char::from(c)
        })
        .collect()
}

/// One [`SocketIo`]'s membership of a Redis fleet. Cheap to clone; the link lives as long
/// as the endpoint.
#[derive(Clone)]
pub struct Cluster {
    io: SocketIo,
    link: Arc<Link>,
    events: Arc<tokio::sync::Mutex<mpsc::Receiver<ServerSideEvent>>>,
    raw: Arc<tokio::sync::Mutex<mpsc::Receiver<(String, bytes::Bytes)>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("uid", &self.link.uid)
            .field("config", &self.link.config)
            .finish_non_exhaustive()
    }
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

impl Cluster {
    /// Connects `io` to the fleet on `config.url`: two connections (publishing, and
    /// subscribed to each configured namespace's broadcast pattern, request and response
    /// channels). Call from inside a tokio runtime.
    ///
    /// # Errors
    /// [`ClusterError::Redis`] when Redis cannot be reached now (later outages are
    /// survived); [`ClusterError::AlreadyAttached`].
    pub async fn attach(io: &SocketIo, config: RedisConfig) -> Result<Cluster, ClusterError> {
        let client = redis::Client::open(config.url.as_str())?;
        // The manager's own reconnection: 100 ms doubling to 500 ms, six tries (then the
        // command fails and the publisher's next try starts another round).
        let conn = ConnectionManager::new_with_config(
            client.clone(),
            redis::aio::ConnectionManagerConfig::new()
                .set_max_delay(MAX_BACKOFF)
                // No response timeout: a pipeline that timed out may have run, and would be
                // lost or (if sent again) doubled; a stalled Redis fills the bounded queue.
                .set_response_timeout(None),
        )
        .await?;
        let (out, rx) = mpsc::channel(config.publish_queue.max(1));
        let (events_tx, events_rx) = mpsc::channel(config.event_queue.max(1));
        let (raw_tx, raw_rx) = mpsc::channel(config.event_queue.max(1));
        let channels = io
            .shared
            .config
            .namespaces
            .iter()
            .map(|n| {
                (
                    Arc::from(n.as_str()),
                    Arc::new(Channels::new(&config.key, n)),
                )
            })
            .collect::<HashMap<_, _>>();
        let channels = std::sync::RwLock::new(channels);
        let link = Arc::new(Link {
            uid: random_id(),
            config,
            channels,
            out,
            conn: conn.clone(),
            waiting: Mutex::new(HashMap::new()),
            events: events_tx,
            raw: raw_tx,
            counters: Counters::default(),
            subscriber: Mutex::new(None),
            sink: Mutex::new(None),
        });
        let pubsub = subscribe(&client, &link).await?;
        io.shared
            .cluster
            .set(Arc::clone(&link))
            .map_err(|_| ClusterError::AlreadyAttached)?;
        tokio::spawn(publisher(conn, rx, Arc::downgrade(&link)));
        let task = tokio::spawn(subscriber(client, pubsub, Arc::downgrade(&io.shared)));
        *link.subscriber.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        Ok(Cluster {
            io: io.clone(),
            link,
            events: Arc::new(tokio::sync::Mutex::new(events_rx)),
            raw: Arc::new(tokio::sync::Mutex::new(raw_rx)),
        })
    }

    /// This node's id in the fleet.
    #[must_use]
    pub fn uid(&self) -> &str {
        &self.link.uid
    }

    /// The wire this node speaks.
    #[must_use]
    pub fn wire(&self) -> Wire {
        self.link.config.wire
    }

    /// The sockets `opts` selects in namespace `nsp` on this node only (what this node
    /// answers to another's `fetchSockets`).
    #[must_use]
    pub fn local_sockets(&self, nsp: &str, opts: &BroadcastOptions) -> Vec<RemoteSocket> {
        local_sockets(&self.io.shared, nsp, opts)
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> ClusterStats {
        let c = &self.link.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClusterStats {
            published: g(&c.published),
            dropped: g(&c.dropped),
            delivered: g(&c.delivered),
            requests: g(&c.requests),
            ignored: g(&c.ignored),
            malformed: g(&c.malformed),
            reconnects: g(&c.reconnects),
        }
    }

    /// The next message on one of [`RedisConfig::channels`] (this node's own included:
    /// Redis sends a publisher its own messages; tag them to tell). Cancel safe.
    pub async fn channel_message(&self) -> Option<(String, bytes::Bytes)> {
        self.raw.lock().await.recv().await
    }

    /// Publishes `payload` on `channel` (one of the application's, through the same
    /// bounded queue as broadcasts).
    ///
    /// # Errors
    /// [`ClusterError::QueueFull`].
    pub fn publish(&self, channel: &str, payload: Vec<u8>) -> Result<(), ClusterError> {
        if self.link.publish(channel.to_owned(), payload) {
            Ok(())
        } else {
            Err(ClusterError::QueueFull)
        }
    }

    /// The next server-side event from another node. Cancel safe.
    pub async fn server_side_event(&self) -> Option<ServerSideEvent> {
        self.events.lock().await.recv().await
    }

    /// The number of nodes subscribed to `nsp`'s request channel, this one included (the
    /// adapters' `serverCount`: `PUBSUB NUMSUB`).
    ///
    /// # Errors
    /// [`ClusterError::Redis`].
    pub async fn server_count(&self, nsp: &str) -> Result<usize, ClusterError> {
        self.link.ensure_namespace(nsp).await?;
        let mut conn = self.link.conn.clone();
        let (_, n): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(self.link.channels(nsp).request())
            .query_async(&mut conn)
            .await?;
        Ok(n)
    }

    /// Publishes `request` and collects the answers of the `expected` other nodes within
    /// the requests timeout.
    async fn ask(
        &self,
        nsp: &str,
        request: Request,
        expected: usize,
    ) -> Result<Vec<ResponseMessage>, ClusterError> {
        let wait = self.link.config.requests_timeout;
        let (answers, complete) = self
            .ask_until(nsp, request, expected, wait, |a| a.len() >= expected)
            .await?;
        if complete {
            Ok(answers)
        } else {
            Err(ClusterError::Timeout {
                got: answers.len(),
                expected,
            })
        }
    }

    /// Publishes `request` and collects answers (at most `capacity` waiting at once)
    /// until `done` says so, or `wait` has passed: the answers, and whether `done` said so.
    async fn ask_until(
        &self,
        nsp: &str,
        request: Request,
        capacity: usize,
        wait: Duration,
        done: impl Fn(&[ResponseMessage]) -> bool,
    ) -> Result<(Vec<ResponseMessage>, bool), ClusterError> {
        self.link.ensure_namespace(nsp).await?;
        let id = random_id();
        let (tx, mut rx) = mpsc::channel(capacity.max(1));
        self.link.waiting().insert(id.clone(), tx);
        let message = RequestMessage {
            uid: Some(self.link.uid.clone()),
            request_id: Some(id.clone()),
            request,
        };
        let payload = message
            .encode(self.link.config.wire)
            .map_err(|_| ClusterError::Unsupported("request"))?;
        let _guard = Forget(&self.link, id);
        if !self
            .link
            .publish(self.link.channels(nsp).request().to_owned(), payload)
        {
            return Err(ClusterError::QueueFull);
        }
        let mut answers = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while !done(&answers) {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(r)) => answers.push(r),
                _ => return Ok((answers, false)),
            }
        }
        Ok((answers, true))
    }

    /// Emits event `name` with `args` to the sockets `opts` selects on every node and
    /// collects each client's ack (its first argument, as the node adapter relays it),
    /// within `timeout` (socket.io 4's `io.timeout(ms).emitWithAck`). This node's sockets
    /// answer first; the others are asked with a broadcast-with-acks request, each node
    /// saying how many clients it reached, then relaying each ack.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] when a node did not say its count or a client did not
    /// answer in time (`got` acks of `expected`); [`ClusterError::Unsupported`] on
    /// `socket.io-redis` 5; [`ClusterError::Build`] for a bad event.
    pub async fn emit_with_ack(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
        name: &str,
        args: &[Value],
        timeout: Duration,
    ) -> Result<Vec<Value>, ClusterError> {
        if self.link.config.wire != Wire::RedisAdapter8 {
            return Err(ClusterError::Unsupported("broadcast with acks"));
        }
        // Checked before anything is sent.
        pushwire_socketio::Packet::event(pushwire_socketio::ProtocolVersion::V5, nsp, name, args)?;
        let local = super::Broadcast {
            shared: Arc::clone(&self.io.shared),
            nsp: nsp.to_owned(),
            opts: opts.clone(),
        }
        .emit_with_ack_each(name, args, timeout);
        let local_count = local.len();
        let mut expected = local_count;
        let local = tokio::spawn(async move {
            let mut out = Vec::with_capacity(local.len());
            for f in local {
                if let Ok(p) = f.await {
                    out.push(
                        p.args()
                            .ok()
                            .and_then(|a| a.into_iter().next())
                            .unwrap_or_default(),
                    );
                }
            }
            out
        });
        let others = self.server_count(nsp).await?.saturating_sub(1);
        let mut answers = Vec::new();
        let mut complete = true;
        if others > 0 {
            let mut data = vec![Value::from(name)];
            data.extend_from_slice(args);
            let mut remote_opts = opts.clone();
            remote_opts.flags.timeout =
                Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
            let request = Request::BroadcastWithAck {
                packet: ClusterPacket {
                    kind: PacketType::Event,
                    nsp: nsp.to_owned(),
                    data: Some(Value::Array(data)),
                    id: None,
                },
                opts: remote_opts,
            };
            // Done when every other node said its count and that many acks came.
            let done = |a: &[ResponseMessage]| {
                let counts: Vec<u64> = a.iter().filter_map(ResponseMessage::client_count).collect();
                let acks = a.iter().filter(|r| r.broadcast_ack().is_some()).count() as u64;
                counts.len() >= others && acks >= counts.iter().sum()
            };
            let (got, all) = self.ask_until(nsp, request, 4_096, timeout, done).await?;
            complete = all;
            for r in &got {
                if let Some(n) = r.client_count() {
                    expected += usize::try_from(n).unwrap_or(usize::MAX);
                }
                if let Some(v) = r.broadcast_ack() {
                    answers.push(v.clone());
                }
            }
        }
        let mut all = local.await.unwrap_or_default();
        complete &= all.len() == local_count;
        all.append(&mut answers);
        if complete {
            Ok(all)
        } else {
            Err(ClusterError::Timeout {
                got: all.len(),
                expected,
            })
        }
    }

    /// The sockets `opts` selects in namespace `nsp` on every node (socket.io 4's
    /// `io.in(room).fetchSockets()`): this node's first.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] when a node did not answer, [`ClusterError::Redis`],
    /// [`ClusterError::Unsupported`] on `socket.io-redis` 5 (which has no such request).
    pub async fn fetch_sockets(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
    ) -> Result<Vec<RemoteSocket>, ClusterError> {
        if self.link.config.wire != Wire::RedisAdapter8 {
            return Err(ClusterError::Unsupported("fetchSockets"));
        }
        let mut all = local_sockets(&self.io.shared, nsp, opts);
        let others = self.server_count(nsp).await?.saturating_sub(1);
        if others > 0 {
            let mut plain = opts.clone();
            plain.flags = Default::default();
            for r in self
                .ask(nsp, Request::FetchSockets { opts: plain }, others)
                .await?
            {
                if let Some(Value::Array(list)) = r.fields.get("sockets") {
                    all.extend(list.iter().filter_map(RemoteSocket::from_value));
                }
            }
        }
        Ok(all)
    }

    /// Every room with a member in namespace `nsp`, on every node (`adapter.allRooms()`).
    ///
    /// # Errors
    /// As [`Cluster::fetch_sockets`].
    pub async fn all_rooms(&self, nsp: &str) -> Result<BTreeSet<String>, ClusterError> {
        let mut all: BTreeSet<String> = self
            .io
            .shared
            .registry()
            .get(nsp)
            .map(|n| n.rooms.rooms().map(str::to_owned).collect())
            .unwrap_or_default();
        let others = self.server_count(nsp).await?.saturating_sub(1);
        if others > 0 {
            for r in self.ask(nsp, Request::AllRooms, others).await? {
                all.extend(r.rooms().unwrap_or_default());
            }
        }
        Ok(all)
    }

    /// Sends event `name` with `args` to the other servers (`io.serverSideEmit`), not
    /// waiting for answers.
    ///
    /// # Errors
    /// [`ClusterError::QueueFull`], [`ClusterError::Unsupported`] (a value too large).
    pub fn server_side_emit(
        &self,
        nsp: &str,
        name: &str,
        args: &[Value],
    ) -> Result<(), ClusterError> {
        let mut data = vec![Value::from(name)];
        data.extend_from_slice(args);
        self.tell(
            nsp,
            Request::ServerSideEmit {
                data: Value::Array(data),
            },
        )
    }

    /// Sends event `name` to the other servers and collects each one's answer
    /// (`io.serverSideEmitWithAck`).
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] when a server did not answer in time,
    /// [`ClusterError::Redis`].
    pub async fn server_side_emit_with_ack(
        &self,
        nsp: &str,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, ClusterError> {
        let others = self.server_count(nsp).await?.saturating_sub(1);
        if others == 0 {
            return Ok(Vec::new());
        }
        let mut data = vec![Value::from(name)];
        data.extend_from_slice(args);
        let answers = self
            .ask(
                nsp,
                Request::ServerSideEmit {
                    data: Value::Array(data),
                },
                others,
            )
            .await?;
        Ok(answers
            .into_iter()
            .map(|r| r.fields.get("data").cloned().unwrap_or_default())
            .collect())
    }

    /// Makes the sockets `opts` selects on every node join `rooms` (`io.socketsJoin`).
    ///
    /// # Errors
    /// [`ClusterError::QueueFull`], [`ClusterError::Unsupported`] on `socket.io-redis` 5.
    pub fn sockets_join(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
        rooms: &[&str],
    ) -> Result<(), ClusterError> {
        self.membership(nsp, opts, rooms, true)
    }

    /// Makes the sockets `opts` selects on every node leave `rooms` (`io.socketsLeave`).
    ///
    /// # Errors
    /// As [`Cluster::sockets_join`].
    pub fn sockets_leave(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
        rooms: &[&str],
    ) -> Result<(), ClusterError> {
        self.membership(nsp, opts, rooms, false)
    }

    /// Joins (or leaves) here, then tells the other nodes.
    fn membership(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
        rooms: &[&str],
        join: bool,
    ) -> Result<(), ClusterError> {
        let rooms: BTreeSet<String> = rooms.iter().map(|r| (*r).to_owned()).collect();
        apply_join(&self.io.shared, nsp, opts, &rooms, join);
        let target = Target::Select(opts.clone());
        self.tell(
            nsp,
            if join {
                Request::Join { target, rooms }
            } else {
                Request::Leave { target, rooms }
            },
        )
    }

    /// Disconnects the sockets `opts` selects on every node (`io.disconnectSockets(close)`).
    ///
    /// # Errors
    /// As [`Cluster::sockets_join`].
    pub fn disconnect_sockets(
        &self,
        nsp: &str,
        opts: &BroadcastOptions,
        close: bool,
    ) -> Result<(), ClusterError> {
        apply_disconnect(&self.io.shared, nsp, opts, close);
        self.tell(
            nsp,
            Request::Disconnect {
                target: Target::Select(opts.clone()),
                close,
            },
        )
    }

    fn tell(&self, nsp: &str, request: Request) -> Result<(), ClusterError> {
        let mut message = RequestMessage {
            uid: Some(self.link.uid.clone()),
            request_id: None,
            request,
        };
        if let Request::Join { target, .. }
        | Request::Leave { target, .. }
        | Request::Disconnect { target, .. } = &mut message.request
        {
            if let Target::Select(o) = target {
                o.flags = Default::default();
            }
        }
        let payload = message
            .encode(self.link.config.wire)
            .map_err(|_| ClusterError::Unsupported("this request"))?;
        self.publish(self.link.channels(nsp).request(), payload)
    }
}

/// Removes a request's waiter when the asking call ends (answered, timed out or dropped).
struct Forget<'a>(&'a Link, String);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.waiting().remove(&self.1);
    }
}
