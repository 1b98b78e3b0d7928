//! The WebSocket I/O layer of the demo: one pushwire-ws [`Connection`] driven by one tokio
//! task, which waits on three things at once: the socket becoming readable, its inbox (a
//! bounded channel through which other tasks — the chat, the Engine.io server, the shutdown —
//! reach it), and its next timer (ping or idle timeout).
//!
//! Bounded: at most [`INBOX`] inputs wait in the inbox; a sender that finds it full gives up
//! on the connection and drops it ([`Handle::offer`]). Reads go through one per-thread
//! scratch buffer of [`READ_CHUNK`] bytes (an idle connection holds no read buffer), the
//! connection's own limits bound what it buffers, and a write that makes no progress for
//! [`crate::http::WRITE_TIMEOUT`] drops the client. A ping goes out every [`PING_EVERY`]; a
//! peer silent for [`IDLE_TIMEOUT`] is dropped.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes};
use pushwire_ws::{Connection, Event, ProtocolError, SendError, Utf8Bytes};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc::{self, error::TrySendError, Receiver, Sender};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::http::WRITE_TIMEOUT;

/// Bytes read from a socket at a time (into the per-thread scratch buffer).
pub(crate) const READ_CHUNK: usize = 16 * 1024;
/// Inputs (messages for the connection) that may wait in a connection's inbox.
pub(crate) const INBOX: usize = 64;
/// Ping interval.
pub(crate) const PING_EVERY: Duration = Duration::from_secs(20);
/// A peer that sends nothing (not even a pong) for this long is dropped.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

thread_local! {
    /// The read buffer shared by every connection served on this thread: a read is copied
    /// into the connection (`feed`) before the task yields, so nothing outlives the borrow.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; READ_CHUNK]);
}

/// A message to send, or received.
#[derive(Debug, Clone)]
pub(crate) enum Message {
    /// A text message (valid UTF-8).
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

/// What a connection's task receives through its inbox.
pub(crate) enum Input {
    /// Send this message to the peer (shared: a broadcast queues one pointer per member, and
    /// an inbox slot stays small — its memory is part of every idle connection's).
    Send(Arc<Message>),
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

/// Asks every open connection (WebSocket, and SSE chat streams) to close (WebSockets with
/// 1001); returns how many there were.
pub(crate) fn close_all() -> usize {
    let links = LINKS.lock().unwrap_or_else(|e| e.into_inner());
    for h in links.values() {
        h.offer(Input::Shutdown);
    }
    links.len()
}

/// A handle other tasks use to reach a connection.
#[derive(Clone)]
pub(crate) struct Handle {
    tx: Sender<Input>,
    /// Tells the connection's task to stop at once (it is not keeping up).
    kill: Arc<Notify>,
}

impl Handle {
    /// Queues `input` without waiting. A connection whose inbox is full is not keeping up:
    /// it is told to stop (it drops its socket without a goodbye) and `false` is returned.
    pub(crate) fn offer(&self, input: Input) -> bool {
        match self.tx.try_send(input) {
            Ok(()) => true,
            Err(TrySendError::Full(Input::Wake)) => true, // a wake-up is already pending
            Err(TrySendError::Full(_)) => {
                self.kill.notify_one();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }
}

/// The receiving side of a [`Handle`], owned by the connection's task.
pub(crate) struct Inbox {
    rx: Receiver<Input>,
    kill: Arc<Notify>,
    _registered: Registered,
}

impl Inbox {
    /// The next input; `None` once the connection was told to stop (see [`Handle::offer`]).
    pub(crate) async fn recv(&mut self) -> Option<Input> {
        tokio::select! {
            biased;
            () = self.kill.notified() => None,
            i = self.rx.recv() => i,
        }
    }
}

/// Creates a connection's inbox and registers it for the shutdown (until the inbox is
/// dropped).
pub(crate) fn start() -> (Handle, Inbox) {
    let (tx, rx) = mpsc::channel(INBOX);
    let handle = Handle {
        tx,
        kill: Arc::new(Notify::new()),
    };
    let id = NEXT_LINK.fetch_add(1, Ordering::Relaxed);
    LINKS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, handle.clone());
    let inbox = Inbox {
        rx,
        kill: handle.kill.clone(),
        _registered: Registered(id),
    };
    (handle, inbox)
}

/// What the application does with a connection.
pub(crate) trait App {
    /// A complete message from the peer.
    fn on_message(&mut self, conn: &mut Connection, msg: Message);
    /// [`Input::Wake`] arrived (also called once at the start).
    fn on_wake(&mut self, _conn: &mut Connection) {}
}

/// Reads what the socket has without waiting, into the per-thread scratch buffer, and feeds
/// it to `conn`. `Ok(0)` at end of stream; `WouldBlock` when there was nothing after all.
fn read_into(stream: &TcpStream, conn: &mut Connection) -> io::Result<usize> {
    SCRATCH.with(|s| {
        let mut buf = s.borrow_mut();
        let n = stream.try_read(&mut buf)?;
        // Every event is polled after each read, so the input bound is never reached.
        conn.feed(&buf[..n]).map_err(io::Error::other)?;
        Ok(n)
    })
}

/// Writes everything queued (vectored writes); fails when a write makes no progress for
/// [`WRITE_TIMEOUT`].
async fn flush(conn: &mut Connection, stream: &mut TcpStream) -> io::Result<()> {
    let mut out = conn.take_transmit();
    while out.has_remaining() {
        match tokio::time::timeout(WRITE_TIMEOUT, stream.write_buf(&mut out)).await {
            Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
        }
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
        let _ = conn.send_close(1008, "too slow");
    }
}

/// Drives the connection until it ends; returns a short reason for the log.
pub(crate) async fn run(
    mut stream: TcpStream,
    mut conn: Connection,
    mut inbox: Inbox,
    app: &mut (dyn App + Send),
) -> String {
    let _ = stream.set_nodelay(true);
    let mut last_rx = Instant::now();
    let mut next_ping = Instant::now() + PING_EVERY;
    let mut eof = false;
    app.on_wake(&mut conn);
    let timer = tokio::time::sleep_until(next_ping);
    tokio::pin!(timer);
    let why = loop {
        // Events from what was fed.
        let mut failed: Option<ProtocolError> = None;
        let mut written = Ok(());
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Text(t))) => app.on_message(&mut conn, Message::Text(t)),
                Ok(Some(Event::Binary(b))) => app.on_message(&mut conn, Message::Binary(b)),
                // Answer each ping before the next: the connection keeps only the newest pong
                // not yet handed out (RFC 6455 §5.5.3).
                Ok(Some(Event::Ping(_))) => {
                    written = flush(&mut conn, &mut stream).await;
                    if written.is_err() {
                        break;
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if written.is_ok() {
            written = flush(&mut conn, &mut stream).await;
        }
        if let Err(e) = written {
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
        // One timer for the connection's life, moved only when its deadline changes (after
        // a read or a ping), not re-armed for every message the connection passes on.
        let deadline = next_ping.min(last_rx + IDLE_TIMEOUT);
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        tokio::select! {
            r = stream.readable() => {
                match r.and_then(|()| read_into(&stream, &mut conn)) {
                    Ok(n) if n > 0 => last_rx = Instant::now(),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Ok(_) | Err(_) => {
                        conn.feed_eof();
                        eof = true;
                    }
                }
            }
            input = inbox.recv() => match input {
                Some(Input::Send(m)) => send(&mut conn, Message::clone(&m)),
                Some(Input::Wake) => app.on_wake(&mut conn),
                Some(Input::Shutdown) => {
                    let _ = conn.send_close(1001, "server shutting down");
                }
                None => break "dropped: not keeping up".to_string(),
            },
            () = &mut timer => {
                let now = Instant::now();
                if now >= last_rx + IDLE_TIMEOUT {
                    break "idle timeout".to_string();
                }
                if now >= next_ping {
                    let _ = conn.send_ping(Bytes::new());
                    next_ping = now + PING_EVERY;
                }
            }
        }
    };
    // Give the peer a moment to read our Close before the FIN.
    let _ = stream.shutdown().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    why
}
