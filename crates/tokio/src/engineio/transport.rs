//! The two transports' I/O: a held long-poll GET, and the task that runs a websocket.

use std::sync::Arc;

use http::header::HeaderValue;
use http::{Response, StatusCode};
use pushwire_engineio::server::WsAction;
use pushwire_engineio::WsMessage;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::shared::Shared;
use super::{plain, Body, EngineIo};
use crate::upgrade::HyperWebSocket;
use crate::{Error, Message};

/// A held GET: if its `handle` future is dropped (the client went away) before the answer,
/// the session learns of it.
pub(super) struct Held {
    shared: Arc<Shared>,
    sid: String,
    /// Woken when the session may have the answer (registered in `Inner::polls`).
    wake: Arc<Notify>,
    answered: bool,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        if inner
            .polls
            .get(&self.sid)
            .is_some_and(|w| Arc::ptr_eq(w, &self.wake))
        {
            inner.polls.remove(&self.sid);
        }
        if !self.answered {
            inner
                .server
                .handle_get_aborted(self.shared.now(), &self.sid);
            self.shared.pump_for(&mut inner, Some(&self.sid), true);
        }
    }
}

impl EngineIo {
    /// Holds a long-poll GET until its session has something to send.
    pub(super) async fn hold(&self, sid: String, origin: Option<&HeaderValue>) -> Response<Body> {
        let shared = &self.shared;
        let mut held = Held {
            shared: Arc::clone(shared),
            sid,
            wake: Arc::new(Notify::new()),
            answered: false,
        };
        shared
            .lock()
            .polls
            .insert(held.sid.clone(), Arc::clone(&held.wake));
        // The session answers on its own within a heartbeat (a ping, or the close on a
        // timeout); the cap only guards against a bug here.
        let engine = &shared.config.engine;
        // `None` (no cap) when it is too far to represent (a huge configured heartbeat).
        let cap = Instant::now().checked_add(
            engine
                .ping_interval
                .saturating_add(engine.ping_timeout.saturating_mul(2)),
        );
        loop {
            // `notify_one` leaves a permit when nobody waits: a wake-up given between the
            // look below and the wait is not missed.
            let changed = held.wake.notified();
            {
                let mut inner = shared.lock();
                if let Some(r) = inner.server.poll_http_response(&held.sid) {
                    held.answered = true;
                    shared.pump_for(&mut inner, Some(&held.sid), true);
                    drop(inner);
                    return self.response(r, origin);
                }
                let capped = cap.is_some_and(|cap| Instant::now() >= cap);
                if capped || inner.server.session(&held.sid).is_none() {
                    drop(inner);
                    // `held` tells the session on drop.
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, "poll not answered\n");
                }
            }
            match cap {
                Some(cap) => {
                    let _ = tokio::time::timeout_at(cap, changed).await;
                }
                None => changed.await,
            }
        }
    }
}

/// Runs the websocket transport of session `sid` until it ends.
pub(super) async fn websocket(mut ws: HyperWebSocket, shared: Arc<Shared>, sid: String) {
    let wake = Arc::new(Notify::new());
    shared.lock().ws.insert(sid.clone(), Arc::clone(&wake));
    let write_timeout = shared.config.write_timeout;
    'run: loop {
        let actions: Vec<WsAction> = {
            let mut inner = shared.lock();
            std::iter::from_fn(|| inner.server.poll_ws_action(&sid)).collect()
        };
        if !actions.is_empty() || ws.queued() > 0 {
            let sending = async {
                for action in actions {
                    let msg = match action {
                        WsAction::Send(WsMessage::Text(t)) => Message::text(t),
                        WsAction::Send(WsMessage::Binary(b)) => Message::Binary(b),
                        WsAction::Close => {
                            match ws.close(1000, "").await {
                                Ok(()) | Err(Error::Send(_) | Error::Closed) => {}
                                Err(e) => return Err(e),
                            }
                            break;
                        }
                    };
                    match ws.feed(msg).await {
                        Ok(()) => {}
                        Err(Error::WriteBufferFull { .. }) => {
                            // The client does not read: 1008 (policy violation).
                            let _ = ws.close(1008, "too slow").await;
                            break;
                        }
                        Err(Error::Send(_) | Error::Closed) => break,
                        Err(e) => return Err(e),
                    }
                }
                ws.flush().await
            };
            match tokio::time::timeout(write_timeout, sending).await {
                Ok(Ok(()) | Err(Error::Closed)) => {}
                Ok(Err(_)) | Err(_) => break 'run,
            }
        }
        let woken = wake.notified();
        tokio::select! {
            m = ws.recv() => {
                let message = match m {
                    Some(Ok(Message::Text(t))) => WsMessage::Text(t.as_str().to_owned()),
                    Some(Ok(Message::Binary(b))) => WsMessage::Binary(b),
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break 'run,
                };
                let mut inner = shared.lock();
                inner.server.handle_ws_message(shared.now(), &sid, message);
                shared.pump_for(&mut inner, Some(&sid), true);
            }
            () = woken => {}
        }
    }
    let mut inner = shared.lock();
    inner.ws.remove(&sid);
    inner.server.handle_ws_closed(shared.now(), &sid);
    shared.pump_for(&mut inner, Some(&sid), true);
}
