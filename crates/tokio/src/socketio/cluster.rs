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
//! At most once, as the node adapters: a broadcast published while Redis is unreachable is
//! lost, for node and pushwire nodes alike. Both connections reconnect by themselves (the
//! subscribed one re-subscribes, with backoff from 100 ms to 5 s); local delivery never
//! waits for Redis. Publishing goes through a bounded queue ([`RedisConfig::publish_queue`]):
//! a broadcast that finds it full is dropped and counted ([`ClusterStats::dropped`]).

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hasher};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
/// Which node adapter's wire to speak (re-exported from pushwire-socketio).
pub use pushwire_socketio::cluster::Wire;
use pushwire_socketio::cluster::{
    BroadcastMessage, Channels, ClusterPacket, Request, RequestMessage, ResponseMessage, Target,
};
use pushwire_socketio::server::Adapter as _;
use pushwire_socketio::PacketType;
use redis::aio::ConnectionManager;
use tokio::sync::mpsc;

use super::{Broadcast, BroadcastOptions, Map, Shared, SocketIo, Value};

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
    /// Server-side events from other nodes that may wait for
    /// [`Cluster::server_side_event`]. Default 1,024; more are dropped (and, on
    /// `socket.io-redis` 5, answered with `null` so its sender does not wait).
    pub event_queue: usize,
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
            event_queue: 1_024,
            max_message_bytes: 11_000_000,
        }
    }

    /// Returns this config with [`RedisConfig::wire`] set.
    #[must_use]
    pub fn with_wire(mut self, wire: Wire) -> Self {
        self.wire = wire;
        self
    }

    /// Returns this config with [`RedisConfig::key`] set.
    #[must_use]
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.key = key.into();
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
    /// Messages not published: the queue was full, or Redis failed the command.
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

/// The link between a [`SocketIo`] and Redis, kept in the endpoint's shared state.
pub(crate) struct Link {
    uid: String,
    config: RedisConfig,
    channels: HashMap<String, Channels>,
    out: mpsc::Sender<(String, Vec<u8>)>,
    conn: ConnectionManager,
    waiting: Mutex<HashMap<String, Waiter>>,
    events: mpsc::Sender<ServerSideEvent>,
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

    fn channels(&self, nsp: &str) -> Channels {
        self.channels
            .get(nsp)
            .cloned()
            .unwrap_or_else(|| Channels::new(&self.config.key, nsp))
    }

    /// Queues a message for publishing; a full queue drops it (counted).
    fn publish(&self, channel: String, payload: Vec<u8>) -> bool {
        if self.out.try_send((channel, payload)).is_ok() {
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
        let _ = request;
        if let Ok(payload) = response.encode() {
            self.publish(self.channels(nsp).response(), payload);
        }
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

/// A socket anywhere in the fleet, as `fetchSockets` returns it (socket.io's
/// `RemoteSocket`: `{id, handshake, rooms, data}`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RemoteSocket {
    /// The socket id.
    pub id: String,
    /// The handshake as its server describes it (socket.io 4: `{headers, time, address,
    /// xdomain, secure, issued, url, query, auth}`).
    pub handshake: Value,
    /// Its rooms, its own included.
    pub rooms: BTreeSet<String>,
    /// The application's data of the socket (`socket.data`).
    pub data: Value,
}

impl RemoteSocket {
    fn from_value(v: &Value) -> Option<Self> {
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

    fn to_value(&self) -> Value {
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
    nsp: String,
    data: Value,
    answer: Option<Answer>,
}

#[derive(Debug)]
struct Answer {
    link: Weak<Link>,
    request: RequestMessage,
    nsp: String,
    wire: Wire,
    sent: bool,
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

/// One [`SocketIo`]'s membership of a Redis fleet. Cheap to clone; the link lives as long
/// as the endpoint.
#[derive(Clone)]
pub struct Cluster {
    io: SocketIo,
    link: Arc<Link>,
    events: Arc<tokio::sync::Mutex<mpsc::Receiver<ServerSideEvent>>>,
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
const MAX_BACKOFF: Duration = Duration::from_secs(5);

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
        let conn = ConnectionManager::new(client.clone()).await?;
        let (out, rx) = mpsc::channel(config.publish_queue.max(1));
        let (events_tx, events_rx) = mpsc::channel(config.event_queue.max(1));
        let channels = io
            .shared
            .config
            .namespaces
            .iter()
            .map(|n| (n.clone(), Channels::new(&config.key, n)))
            .collect();
        let link = Arc::new(Link {
            uid: random_id(),
            config,
            channels,
            out,
            conn: conn.clone(),
            waiting: Mutex::new(HashMap::new()),
            events: events_tx,
            counters: Counters::default(),
            subscriber: Mutex::new(None),
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
        })
    }

    /// This node's id in the fleet.
    #[must_use]
    pub fn uid(&self) -> &str {
        &self.link.uid
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
        let id = random_id();
        let (tx, mut rx) = mpsc::channel(expected.max(1));
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
            .publish(self.link.channels(nsp).request(), payload)
        {
            return Err(ClusterError::QueueFull);
        }
        let mut answers = Vec::with_capacity(expected);
        let deadline = tokio::time::Instant::now() + self.link.config.requests_timeout;
        while answers.len() < expected {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(r)) => answers.push(r),
                _ => {
                    return Err(ClusterError::Timeout {
                        got: answers.len(),
                        expected,
                    })
                }
            }
        }
        Ok(answers)
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
        let message = RequestMessage {
            uid: Some(self.link.uid.clone()),
            request_id: None,
            request: Request::ServerSideEmit {
                data: Value::Array(data),
            },
        };
        let payload = message
            .encode(self.link.config.wire)
            .map_err(|_| ClusterError::Unsupported("serverSideEmit"))?;
        if self
            .link
            .publish(self.link.channels(nsp).request(), payload)
        {
            Ok(())
        } else {
            Err(ClusterError::QueueFull)
        }
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
        let rooms: BTreeSet<String> = rooms.iter().map(|r| (*r).to_owned()).collect();
        apply_join(&self.io.shared, nsp, opts, &rooms, true);
        self.tell(
            nsp,
            Request::Join {
                target: Target::Select(opts.clone()),
                rooms,
            },
        )
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
        let rooms: BTreeSet<String> = rooms.iter().map(|r| (*r).to_owned()).collect();
        apply_join(&self.io.shared, nsp, opts, &rooms, false);
        self.tell(
            nsp,
            Request::Leave {
                target: Target::Select(opts.clone()),
                rooms,
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
            .map_err(|_| ClusterError::Unsupported("remote join, leave or disconnect"))?;
        if self
            .link
            .publish(self.link.channels(nsp).request(), payload)
        {
            Ok(())
        } else {
            Err(ClusterError::QueueFull)
        }
    }
}

/// Removes a request's waiter when the asking call ends (answered, timed out or dropped).
struct Forget<'a>(&'a Link, String);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.waiting().remove(&self.1);
    }
}

// ---- the connections ---------------------------------------------------------------------

async fn subscribe(
    client: &redis::Client,
    link: &Link,
) -> Result<redis::aio::PubSub, redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    for (nsp, c) in &link.channels {
        pubsub.psubscribe(c.pattern()).await?;
        pubsub
            .subscribe(&[c.request(), c.response(), c.specific_response(&link.uid)])
            .await?;
        let _ = nsp;
    }
    Ok(pubsub)
}

/// Publishes queued messages until the link is gone. A failed command drops its message.
async fn publisher(
    mut conn: ConnectionManager,
    mut rx: mpsc::Receiver<(String, Vec<u8>)>,
    link: Weak<Link>,
) {
    while let Some((channel, payload)) = rx.recv().await {
        let mut ok = false;
        // A connection found broken fails the command that found it and reconnects: try
        // once more, so the first message after an outage is not lost to the discovery.
        for _ in 0..2 {
            let r: Result<i64, _> = redis::cmd("PUBLISH")
                .arg(&channel)
                .arg(&payload)
                .query_async(&mut conn)
                .await;
            if r.is_ok() {
                ok = true;
                break;
            }
        }
        let Some(link) = link.upgrade() else { return };
        bump(if ok {
            &link.counters.published
        } else {
            &link.counters.dropped
        });
    }
}

/// Reads the subscribed connection, re-subscribing after a loss, while the endpoint lives.
async fn subscriber(client: redis::Client, first: redis::aio::PubSub, shared: Weak<Shared>) {
    let mut pubsub = Some(first);
    let mut backoff = MIN_BACKOFF;
    loop {
        if let Some(p) = pubsub.take() {
            backoff = MIN_BACKOFF;
            let mut stream = pin!(p.into_on_message());
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

// ---- messages from other nodes -------------------------------------------------------------

fn on_message(shared: &Arc<Shared>, link: &Arc<Link>, channel: &str, payload: Bytes) {
    for (nsp, c) in &link.channels {
        if let Some(room) = c.room_of(channel) {
            return on_broadcast(shared, link, nsp, room, &payload);
        }
        if channel == c.request() {
            return on_request(shared, link, nsp, &payload);
        }
        if channel == c.response() || channel == c.specific_response(&link.uid) {
            return on_response(link, &payload);
        }
    }
    bump(&link.counters.ignored);
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
    let r = super::deliver(shared, nsp, &m.opts, &|v| m.packet.to_packet(v));
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
fn local_sockets(shared: &Shared, nsp: &str, opts: &BroadcastOptions) -> Vec<RemoteSocket> {
    let reg = shared.registry();
    let Some(n) = reg.get(nsp) else {
        return Vec::new();
    };
    n.rooms
        .targets(opts)
        .into_iter()
        .map(|id| {
            let query = n
                .sockets
                .get(id)
                .and_then(|t| t.session.upgrade())
                .map(|s| query_object(&s.query))
                .unwrap_or_default();
            let mut hs = Map::new();
            hs.insert("query", query);
            hs.insert("auth", Value::Object(Map::new()));
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
fn apply_join(
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
fn apply_disconnect(
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
