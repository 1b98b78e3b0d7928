//! Rooms and broadcasts of one namespace: the [`Adapter`] trait a broadcast goes through,
//! [`Rooms`] (the in-memory adapter, socket.io-adapter's `InMemoryAdapter`), and
//! [`BroadcastOptions`].

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use crate::packet::Packet;

/// Flags of a broadcast (socket.io's `BroadcastFlags`). None changes which sockets are
/// targeted; they tell the I/O layer and a multi-node adapter how to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct BroadcastFlags {
    /// Only this node's sockets: a multi-node adapter does not publish (`io.local`).
    pub local: bool,
    /// The packet may be dropped for a socket whose transport is not writable now
    /// (`volatile`).
    pub volatile: bool,
    /// Whether to compress (`compress`, per-message deflate on websocket). Default false
    /// here (socket.io's default is true, decided by the I/O layer).
    pub compress: bool,
    /// How long a broadcast that asks for acks waits for them, in milliseconds (socket.io's
    /// `timeout(ms)`; the node adapters carry it between nodes as `flags.timeout`).
    pub timeout: Option<u64>,
}

/// Which sockets of a namespace a broadcast reaches (socket.io-adapter's
/// `BroadcastOptions`): every socket in any of `rooms` (every socket of the namespace when
/// `rooms` is empty), minus every socket in any of `except`, each once.
///
/// ```
/// use pushwire_socketio::server::BroadcastOptions;
///
/// let opts = BroadcastOptions::new().to("room-101").to("room-102").except("sock-A");
/// assert_eq!(opts.rooms.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BroadcastOptions {
    /// The target rooms; empty means the whole namespace.
    pub rooms: BTreeSet<String>,
    /// Rooms whose sockets are left out (a socket id is a room: `except(socket.id)`).
    pub except: BTreeSet<String>,
    /// The flags.
    pub flags: BroadcastFlags,
}

impl BroadcastOptions {
    /// The whole namespace, no exception, no flag.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a target room (`to(room)` / `in(room)`).
    #[must_use]
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.rooms.insert(room.into());
        self
    }

    /// Leaves out the sockets of `room` (`except(room)`).
    #[must_use]
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.except.insert(room.into());
        self
    }

    /// Sets the flags.
    #[must_use]
    pub fn with_flags(mut self, flags: BroadcastFlags) -> Self {
        self.flags = flags;
        self
    }
}

/// Why a socket could not join a room.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The socket is in [`Rooms::max_rooms_per_socket`] rooms already (its own room
    /// included).
    #[error("the socket is in {limit} rooms already")]
    TooManyRooms {
        /// The limit.
        limit: usize,
    },
}

/// Room membership and broadcast of one namespace, the part of socket.io-adapter's
/// `Adapter` that a server needs now. [`Rooms`] is the in-memory implementation; a
/// multi-node adapter (such as one wire-compatible with `@socket.io/redis-adapter`) keeps a
/// [`Rooms`] for the local sockets and, in [`Adapter::broadcast`], also publishes the packet
/// to the other nodes (unless [`BroadcastFlags::local`]).
///
/// Not in the trait yet (socket.io-adapter has them): `broadcastWithAck` (acks from many
/// sockets, with a count of expected answers), `fetchSockets`, `addSockets`, `delSockets`,
/// `disconnectSockets` (the same over other nodes: locally, iterate [`Adapter::sockets`] and
/// act on each connection), `serverSideEmit`, `serverCount`, `persistSession` /
/// `restoreSession` (connection state recovery).
pub trait Adapter {
    /// Adds socket `id` to `rooms` (`addAll`). Call with `[id]` when the socket connects:
    /// socket.io's `_onconnect` does "this.join(this.id)".
    ///
    /// # Errors
    /// A limit of the adapter; rooms joined before it are kept.
    fn add_all(&mut self, id: &str, rooms: &[&str]) -> Result<(), JoinError>;

    /// Removes socket `id` from `room` (`del`); an empty room disappears.
    fn del(&mut self, id: &str, room: &str);

    /// Removes socket `id` from every room (`delAll`): call when it disconnects.
    fn del_all(&mut self, id: &str);

    /// Broadcasts `packet` (`broadcast`): calls `deliver` once with each local socket id
    /// that `opts` targets, so the caller sends the packet, encoded once
    /// ([`Packet::to_messages`]), with [`crate::server::Connection::send_encoded`]. A
    /// multi-node adapter also publishes it.
    fn broadcast(
        &mut self,
        packet: &Packet,
        opts: &BroadcastOptions,
        deliver: &mut dyn FnMut(&str),
    );

    /// The local socket ids in any of `rooms`, or all when `rooms` is empty (`sockets`).
    fn sockets(&self, rooms: &BTreeSet<String>) -> BTreeSet<String>;

    /// The rooms of socket `id`, `None` for an unknown socket (`socketRooms`).
    fn socket_rooms(&self, id: &str) -> Option<BTreeSet<String>>;
}

/// The in-memory [`Adapter`] of one namespace (socket.io-adapter's in-memory `Adapter`):
/// room → sockets and socket → rooms.
///
/// ```
/// use pushwire_socketio::server::{Adapter, BroadcastOptions, Rooms};
///
/// let mut rooms = Rooms::new();
/// rooms.add_all("A", &["A", "game"])?;
/// rooms.add_all("B", &["B", "game"])?;
/// rooms.add_all("C", &["C"])?;
/// let game_but_a = rooms.targets(&BroadcastOptions::new().to("game").except("A"));
/// assert_eq!(game_but_a, ["B"]);
/// # Ok::<(), pushwire_socketio::server::JoinError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rooms {
    rooms: BTreeMap<String, BTreeSet<String>>,
    sids: BTreeMap<String, BTreeSet<String>>,
    max_rooms_per_socket: usize,
}

impl Default for Rooms {
    fn default() -> Self {
        Self::new()
    }
}

impl Rooms {
    /// The default for [`Rooms::max_rooms_per_socket`]: 1,024. socket.io has no bound;
    /// rooms are joined by the application, not the peer, so this guards against a loop
    /// that joins without leaving more than against a client.
    pub const DEFAULT_MAX_ROOMS_PER_SOCKET: usize = 1_024;

    /// No sockets, no rooms.
    #[must_use]
    pub fn new() -> Self {
        Self {
            rooms: BTreeMap::new(),
            sids: BTreeMap::new(),
            max_rooms_per_socket: Self::DEFAULT_MAX_ROOMS_PER_SOCKET,
        }
    }

    /// These rooms with [`Rooms::max_rooms_per_socket`] set to `n`.
    #[must_use]
    pub fn with_max_rooms_per_socket(mut self, n: usize) -> Self {
        self.max_rooms_per_socket = n;
        self
    }

    /// Most rooms one socket may be in, its own included.
    #[must_use]
    pub fn max_rooms_per_socket(&self) -> usize {
        self.max_rooms_per_socket
    }

    /// Adds socket `id` and its own room (`join(socket.id)` in socket.io's `_onconnect`).
    ///
    /// # Errors
    /// [`JoinError::TooManyRooms`] when the limit is 0.
    pub fn add_socket(&mut self, id: &str) -> Result<(), JoinError> {
        self.add_all(id, &[id])
    }

    /// Adds socket `id` to `room`.
    ///
    /// # Errors
    /// [`JoinError::TooManyRooms`].
    pub fn join(&mut self, id: &str, room: &str) -> Result<(), JoinError> {
        self.add_all(id, &[room])
    }

    /// Removes socket `id` from `room`.
    pub fn leave(&mut self, id: &str, room: &str) {
        self.del(id, room);
    }

    /// Removes socket `id` from every room.
    pub fn leave_all(&mut self, id: &str) {
        self.del_all(id);
    }

    /// The rooms that exist (have a socket), in order.
    pub fn rooms(&self) -> impl Iterator<Item = &str> {
        self.rooms.keys().map(String::as_str)
    }

    /// The sockets of `room`.
    pub fn members(&self, room: &str) -> impl Iterator<Item = &str> {
        self.rooms
            .get(room)
            .into_iter()
            .flat_map(|s| s.iter().map(String::as_str))
    }

    /// The socket ids a broadcast with `opts` reaches, each once, in id order
    /// (socket-io-adapter's `apply` with `computeExceptSids`).
    #[must_use]
    pub fn targets(&self, opts: &BroadcastOptions) -> Vec<&str> {
        // `computeExceptSids`: the union of the sockets of every `except` room.
        let except: BTreeSet<&str> = opts.except.iter().flat_map(|r| self.members(r)).collect();
        if opts.rooms.is_empty() {
            // "for (const [id] of this.sids) { if (except.has(id)) continue; …".
            self.sids
                .keys()
                .map(String::as_str)
                .filter(|id| !except.contains(id))
                .collect()
        } else {
            // "for (const room of rooms) { … if (ids.has(id) || except.has(id)) continue;".
            let ids: BTreeSet<&str> = opts
                .rooms
                .iter()
                .flat_map(|r| self.members(r))
                .filter(|id| !except.contains(id))
                .collect();
            ids.into_iter().collect()
        }
    }
}

impl Adapter for Rooms {
    fn add_all(&mut self, id: &str, rooms: &[&str]) -> Result<(), JoinError> {
        let limit = self.max_rooms_per_socket;
        for room in rooms {
            let mine = self.sids.get(id).map_or(0, BTreeSet::len);
            let has = self.sids.get(id).is_some_and(|s| s.contains(*room));
            if !has && mine >= limit {
                return Err(JoinError::TooManyRooms { limit });
            }
            self.sids
                .entry(id.into())
                .or_default()
                .insert((*room).into());
            self.rooms
                .entry((*room).into())
                .or_default()
                .insert(id.into());
        }
        Ok(())
    }

    fn del(&mut self, id: &str, room: &str) {
        if let Some(s) = self.sids.get_mut(id) {
            s.remove(room);
        }
        if let Some(r) = self.rooms.get_mut(room) {
            r.remove(id);
            // "if (_room.size === 0 && this.rooms.delete(room))".
            if r.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    fn del_all(&mut self, id: &str) {
        let Some(mine) = self.sids.remove(id) else {
            return;
        };
        for room in mine {
            if let Some(r) = self.rooms.get_mut(&room) {
                r.remove(id);
                if r.is_empty() {
                    self.rooms.remove(&room);
                }
            }
        }
    }

    fn broadcast(
        &mut self,
        packet: &Packet,
        opts: &BroadcastOptions,
        deliver: &mut dyn FnMut(&str),
    ) {
        let _ = packet; // one node: nothing to publish
        for id in self.targets(opts) {
            deliver(id);
        }
    }

    fn sockets(&self, rooms: &BTreeSet<String>) -> BTreeSet<String> {
        let opts = BroadcastOptions {
            rooms: rooms.clone(),
            ..BroadcastOptions::default()
        };
        self.targets(&opts).into_iter().map(String::from).collect()
    }

    fn socket_rooms(&self, id: &str) -> Option<BTreeSet<String>> {
        self.sids.get(id).cloned()
    }
}
