//! The WebSocket I/O layer of the demo: one pushwire-tokio [`HyperWebSocket`] (pushwire-ws
//! under it) driven by one tokio task, which waits on three things at once: the next
//! message from the peer (pushwire-tokio answers pings and runs the ping and idle timers
//! inside `recv`) and its inbox (a bounded channel through which other tasks — the chat, the
//! Engine.io server, the shutdown — reach it).
//!
//! Bounded: at most [`INBOX`] inputs wait in the inbox; a sender that finds it full gives up
//! on the connection and drops it ([`Handle::offer`]). pushwire-tokio reads in bursts of at
//! most [`READ_CHUNK`] bytes and holds no read buffer while idle, the connection's own limits
//! bound what it buffers, and a flush that makes no progress for
//! [`crate::http::WRITE_TIMEOUT`] drops the client. pushwire-tokio's own timers ([`timed`])
//! ping a peer silent for [`PING_EVERY`], drop one silent for [`IDLE_TIMEOUT`] and one that
//! leaves our Close unanswered for [`CLOSE_TIMEOUT`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use pushwire_tokio::upgrade::HyperWebSocket;
use pushwire_tokio::{Config, Error, Message as WsMessage, TimeoutKind, Utf8Bytes};
use tokio::sync::mpsc::{self, error::TrySendError, Receiver, Sender};
use tokio::sync::Notify;

use crate::http::{ResetOnClose, WRITE_TIMEOUT};

/// Most bytes read from a socket at a time.
pub(crate) const READ_CHUNK: usize = 16 * 1024;
/// Inputs (messages for the connection) that may wait in a connection's inbox.
pub(crate) const INBOX: usize = 256;
/// A peer silent this long gets a ping (again every interval while the silence lasts).
pub(crate) const PING_EVERY: Duration = Duration::from_secs(20);
/// A peer that sends nothing (not even a pong) for this long is dropped.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A peer that does not answer our Close within this long is dropped (one that stopped
/// reading never will, and one that keeps sending is not idle).
pub(crate) const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// `config` with the demo's read burst size and its ping, idle and close timers.
pub(crate) const fn timed(config: Config) -> Config {
    config
        .with_read_buffer_size(READ_CHUNK)
        .with_ping_interval(Some(PING_EVERY))
        .with_idle_timeout(Some(IDLE_TIMEOUT))
        .with_close_timeout(Some(CLOSE_TIMEOUT))
}

/// A message to send, or received (the data messages: control frames stay in the link).
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

/// What the application asks of its connection, collected during a callback and sent after.
#[derive(Default)]
pub(crate) struct Outbox {
    messages: Vec<Message>,
    close: Option<(u16, &'static str)>,
}

impl Outbox {
    /// Sends `msg` (after the callback returns).
    pub(crate) fn send(&mut self, msg: Message) {
        self.messages.push(msg);
    }

    /// Starts the closing handshake with `code` (after the messages queued before it).
    pub(crate) fn close(&mut self, code: u16, reason: &'static str) {
        self.close.get_or_insert((code, reason));
    }
}

/// What the application does with a connection.
pub(crate) trait App {
    /// A complete message from the peer.
    fn on_message(&mut self, out: &mut Outbox, msg: Message);
}

/// Sends what the application queued and writes it out; refuses (closing with 1008) when
/// the peer is so far behind that the write buffer limit is reached. `Err` ends the
/// connection: the transport failed or made no progress for [`WRITE_TIMEOUT`].
async fn send_out(ws: &mut HyperWebSocket, out: &mut Outbox) -> Result<(), String> {
    // Nothing to send and nothing queued (a ping read, say): no flush, no timer.
    if out.messages.is_empty() && out.close.is_none() && ws.queued() == 0 {
        return Ok(());
    }
    let sending = async {
        for msg in out.messages.drain(..) {
            let msg = match msg {
                Message::Text(t) => WsMessage::Text(t),
                Message::Binary(b) => WsMessage::Binary(b),
            };
            match ws.feed(msg).await {
                Ok(()) => {}
                Err(Error::WriteBufferFull { .. }) => {
                    out.close.get_or_insert((1008, "too slow"));
                    break;
                }
                // Closing already: the rest is not sent.
                Err(Error::Send(_) | Error::Closed) => break,
                Err(e) => return Err(format!("write failed ({e})")),
            }
        }
        out.messages.clear();
        if let Some((code, reason)) = out.close.take() {
            match ws.close(code, reason).await {
                Ok(()) | Err(Error::Send(_) | Error::Closed) => {}
                Err(e) => return Err(format!("write failed ({e})")),
            }
        }
        ws.flush().await.map_err(|e| format!("write failed ({e})"))
    };
    match tokio::time::timeout(WRITE_TIMEOUT, sending).await {
        Ok(r) => r,
        Err(_) => Err("write failed (write timed out)".to_string()),
    }
}

/// Drives the connection until it ends; returns a short reason for the log. When the
/// connection is given up on (not keeping up, writes failing or stalled), `reset` (the
/// connection's, for an HTTP/1.1 upgrade) makes its close a reset: what the peer did not
/// read is discarded instead of lingering in the kernel.
pub(crate) async fn run(
    ws: HyperWebSocket,
    inbox: Inbox,
    app: &mut (dyn App + Send),
    reset: Option<ResetOnClose>,
) -> String {
    let mut ws = ws;
    let (why, given_up) = drive(&mut ws, inbox, app).await;
    if given_up {
        if let Some(r) = reset {
            r.request();
        }
    }
    // Closed (or reset) here, after the request.
    drop(ws);
    why
}

/// [`run`]'s loop; also says whether the connection was given up on.
async fn drive(
    ws: &mut HyperWebSocket,
    mut inbox: Inbox,
    app: &mut (dyn App + Send),
) -> (String, bool) {
    let mut out = Outbox::default();
    let mut saw_close = false;
    loop {
        if let Err(why) = send_out(ws, &mut out).await {
            return (why, true);
        }
        // `recv` is cancel safe: a message is never lost when the inbox wins.
        tokio::select! {
            m = ws.recv() => match m {
                Some(Ok(WsMessage::Text(t))) => app.on_message(&mut out, Message::Text(t)),
                Some(Ok(WsMessage::Binary(b))) => app.on_message(&mut out, Message::Binary(b)),
                Some(Ok(WsMessage::Close(_))) => saw_close = true,
                Some(Ok(_)) => {}
                Some(Err(Error::Protocol(e))) => return (format!("protocol error: {e}"), false),
                Some(Err(Error::Timeout { kind: TimeoutKind::Idle, .. })) => {
                    return ("idle timeout".to_string(), false)
                }
                Some(Err(Error::Timeout { kind: TimeoutKind::Close, .. })) => {
                    return ("close timeout: our Close was not answered".to_string(), true)
                }
                Some(Err(e)) => return (format!("failed: {e}"), false),
                None if saw_close => return ("closed".to_string(), false),
                None => return ("peer went away".to_string(), false),
            },
            input = inbox.recv() => match input {
                Some(Input::Send(m)) => out.send(Message::clone(&m)),
                Some(Input::Shutdown) => out.close(1001, "server shutting down"),
                None => return ("dropped: not keeping up".to_string(), true),
            },
        }
    }
}
