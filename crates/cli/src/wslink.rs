//! The WebSocket I/O layer of the demo: one pushwire-ws [`Connection`] driven by one thread,
//! with a reader thread feeding it socket bytes through a bounded channel. Other threads
//! (the chat, the Engine.io server) reach a connection through the same channel.
//!
//! Bounded: at most [`INBOX`] chunks of [`READ_CHUNK`] bytes wait in the channel (the
//! reader blocks, so TCP flow control slows the peer down), the connection's own limits
//! bound what it buffers, and writes time out after [`WRITE_TIMEOUT`] (a client that does
//! not read is dropped). A ping goes out every [`PING_EVERY`]; a peer silent for
//! [`IDLE_TIMEOUT`] is dropped.

use std::collections::BTreeMap;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use pushwire_ws::{Connection, Event, ProtocolError, SendError, Utf8Bytes};

/// Bytes read from the socket at a time.
pub(crate) const READ_CHUNK: usize = 16 * 1024;
/// Chunks (or messages for the connection) that may wait in a connection's channel.
pub(crate) const INBOX: usize = 64;
/// A write that makes no progress for this long drops the client.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Ping interval.
pub(crate) const PING_EVERY: Duration = Duration::from_secs(20);
/// A peer that sends nothing (not even a pong) for this long is dropped.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A message to send, or received.
#[derive(Debug, Clone)]
pub(crate) enum Message {
    Text(Utf8Bytes),
    Binary(Bytes),
}

/// What a connection's thread receives.
pub(crate) enum Input {
    /// Bytes from the socket.
    Bytes(Vec<u8>),
    /// The socket reached end of stream (or failed).
    Eof,
    /// Send this message to the peer.
    Send(Message),
    /// Something changed elsewhere (the application decides what).
    Wake,
    /// The server is shutting down: close with 1001 (going away).
    Shutdown,
}

/// Every open connection, for the shutdown.
static LINKS: Mutex<BTreeMap<u64, Handle>> = Mutex::new(BTreeMap::new());
static NEXT_LINK: AtomicU64 = AtomicU64::new(0);

/// Removes a connection from the shutdown list when dropped.
pub(crate) struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        LINKS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

/// Asks every open WebSocket connection to close with 1001; returns how many there were.
pub(crate) fn close_all() -> usize {
    let links = LINKS.lock().unwrap_or_else(|e| e.into_inner());
    for h in links.values() {
        // Blocking is fine here: the connection thread is draining its channel.
        let _ = h.tx.send(Input::Shutdown);
    }
    links.len()
}

/// A handle other threads use to reach a connection.
#[derive(Clone)]
pub(crate) struct Handle {
    tx: SyncSender<Input>,
    stream: std::sync::Arc<TcpStream>,
}

impl Handle {
    /// Queues `input`. A connection whose channel is full is not keeping up: it is dropped
    /// (its socket shut down) and `false` returned.
    pub(crate) fn offer(&self, input: Input) -> bool {
        match self.tx.try_send(input) {
            Ok(()) => true,
            Err(TrySendError::Full(Input::Wake)) => true, // a wake-up is already pending
            Err(TrySendError::Full(_)) => {
                let _ = self.stream.shutdown(Shutdown::Both);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

/// What the application does with a connection.
pub(crate) trait App {
    /// A complete message from the peer.
    fn on_message(&mut self, conn: &mut Connection, msg: Message);
    /// [`Input::Wake`] arrived (also called once at the start).
    fn on_wake(&mut self, _conn: &mut Connection) {}
    /// The connection is over.
    fn on_end(&mut self, _why: &str) {}
}

/// Creates the channel, starts the reader thread and registers the connection for the
/// shutdown (until the returned guard is dropped).
pub(crate) fn start(stream: &TcpStream) -> io::Result<(Handle, Receiver<Input>, Registered)> {
    let (tx, rx) = sync_channel(INBOX);
    let mut reader = stream.try_clone()?;
    reader.set_read_timeout(None)?;
    let reader_tx = tx.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = reader_tx.send(Input::Eof);
                    return;
                }
                Ok(n) => {
                    if reader_tx.send(Input::Bytes(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let handle = Handle {
        tx,
        stream: std::sync::Arc::new(stream.try_clone()?),
    };
    let id = NEXT_LINK.fetch_add(1, Ordering::Relaxed);
    LINKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, handle.clone());
    Ok((handle, rx, Registered(id)))
}

/// Writes every queued chunk (a vectored write for several).
fn flush(conn: &mut Connection, stream: &mut TcpStream) -> io::Result<()> {
    let mut chunks: Vec<Bytes> = Vec::new();
    while let Some(c) = conn.poll_transmit() {
        chunks.push(c);
    }
    let (mut i, mut off) = (0, 0);
    while i < chunks.len() {
        let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(chunks.len() - i);
        slices.push(IoSlice::new(&chunks[i][off..]));
        slices.extend(chunks[i + 1..].iter().map(|c| IoSlice::new(c)));
        let mut n = stream.write_vectored(&slices)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while i < chunks.len() && n >= chunks[i].len() - off {
            n -= chunks[i].len() - off;
            i += 1;
            off = 0;
        }
        off += n;
    }
    Ok(())
}

/// Sends `msg`, refusing (and failing the connection with 1008) when the peer is so far
/// behind that the output limit is reached.
pub(crate) fn send(conn: &mut Connection, msg: Message) {
    let r = match msg {
        Message::Text(t) => conn.send_text(t),
        Message::Binary(b) => conn.send_binary(b),
    };
    if let Err(SendError::OutputFull { .. }) = r {
        let _ = conn.close(1008, "too slow");
    }
}

/// Drives the connection until it ends; returns a short reason for the log.
pub(crate) fn run(
    mut stream: TcpStream,
    mut conn: Connection,
    leftover: BytesMut,
    rx: Receiver<Input>,
    app: &mut dyn App,
) -> String {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut last_rx = Instant::now();
    let mut next_ping = Instant::now() + PING_EVERY;
    let mut eof = false;
    if !leftover.is_empty() {
        conn.feed_bytes(leftover);
    }
    app.on_wake(&mut conn);
    let why = loop {
        // Events from what was fed.
        let mut failed: Option<ProtocolError> = None;
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Text(t))) => app.on_message(&mut conn, Message::Text(t)),
                Ok(Some(Event::Binary(b))) => app.on_message(&mut conn, Message::Binary(b)),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Err(e) = flush(&mut conn, &mut stream) {
            break format!("write failed ({e})");
        }
        if let Some(e) = failed {
            break format!("protocol error: {e}");
        }
        if conn.should_close_transport() {
            break "closed".to_string();
        }
        if eof {
            break "peer went away".to_string();
        }
        let now = Instant::now();
        let deadline = next_ping.min(last_rx + IDLE_TIMEOUT);
        match rx.recv_timeout(deadline.saturating_duration_since(now)) {
            Ok(Input::Bytes(b)) => {
                last_rx = Instant::now();
                conn.feed(&b);
            }
            Ok(Input::Eof) => {
                conn.feed_eof();
                eof = true;
            }
            Ok(Input::Send(m)) => send(&mut conn, m),
            Ok(Input::Wake) => app.on_wake(&mut conn),
            Ok(Input::Shutdown) => {
                let _ = conn.close(1001, "server shutting down");
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                if now >= last_rx + IDLE_TIMEOUT {
                    break "idle timeout".to_string();
                }
                if now >= next_ping {
                    let _ = conn.send_ping(Bytes::new());
                    next_ping = now + PING_EVERY;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break "channel closed".to_string(),
        }
    };
    // Give the peer a moment to read our Close before the FIN, then end the reader thread.
    let _ = stream.shutdown(Shutdown::Write);
    std::thread::sleep(Duration::from_millis(50));
    let _ = stream.shutdown(Shutdown::Both);
    app.on_end(&why);
    why
}
