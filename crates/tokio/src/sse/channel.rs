//! [`Channel`]: one stream of events for many clients, with a bounded history from which a
//! reconnecting client resumes after its `Last-Event-ID`.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use pushwire_sse::EventBuilder;

use super::Event;

/// A broadcast channel of events for [`Sse`](super::Sse) responses, with resume.
///
/// Every event sent gets the next id of a sequence (`0`, `1`, `2`, … as its `id` field) and is
/// encoded once; the channel keeps the last `history` of them. A subscriber made with a
/// client's `Last-Event-ID` starts right after that id, so a client that reconnects gets
/// every event it missed exactly once, as long as they are still kept.
///
/// Memory is bounded by the history (a count of events and, with
/// [`Channel::with_max_bytes`], of bytes), whatever the clients do: subscribers share it, and
/// hold only their position. A subscriber whose next event has left the history (its client read
/// more slowly than events were sent, `history` events behind) ends its stream: the response
/// ends, the client reconnects with its `Last-Event-ID`, and its new subscriber reports the
/// events it can no longer get in [`Subscription::missed`]. Make the history long enough for
/// the slowest client you want to keep whole.
///
/// ```
/// use futures_util::StreamExt;
/// use pushwire_sse::EventBuilder;
/// use pushwire_tokio::sse::{Channel, Event};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let ch = Channel::new(2);
/// for text in ["a", "b", "c"] {
///     ch.send(EventBuilder::new().data(text)); // ids 0, 1, 2
/// }
/// // A client that last saw id 0: "a" is gone from the 2-event history, "b" and "c" are kept.
/// let mut sub = ch.subscribe(Some("0"));
/// assert_eq!(sub.missed(), 0);
/// assert_eq!(sub.next().await.unwrap(), Event::from(EventBuilder::new().id("1").unwrap().data("b")));
/// // A client that never saw anything gets what is sent from now on.
/// let late = ch.subscribe(None);
/// ch.close();
/// assert_eq!(late.count().await, 0);
/// # });
/// ```
#[derive(Clone)]
pub struct Channel {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    /// The kept events; `history[i]` has id `first + i`.
    history: VecDeque<Event>,
    capacity: usize,
    /// Bytes of the kept events, and their bound.
    bytes: usize,
    max_bytes: usize,
    first: u64,
    closed: bool,
    /// Subscribers waiting for the next event, by subscriber number.
    waiting: HashMap<u64, Waker>,
    next_subscriber: u64,
}

impl State {
    /// The id the next event gets.
    fn next_id(&self) -> u64 {
        self.first + self.history.len() as u64
    }
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Channel")
            .field("next_id", &s.next_id())
            .field("kept", &s.history.len())
            .field("bytes", &s.bytes)
            .field("closed", &s.closed)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// A channel that keeps the last `history` events (at least 1) for resuming clients.
    pub fn new(history: usize) -> Channel {
        Channel::with_max_bytes(history, usize::MAX)
    }

    /// A channel that keeps the last `history` events (at least 1), and fewer when they
    /// add up to more than `max_bytes` encoded bytes (the newest event is always kept).
    pub fn with_max_bytes(history: usize, max_bytes: usize) -> Channel {
        let capacity = history.max(1);
        Channel {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    history: VecDeque::with_capacity(capacity.min(4096)),
                    capacity,
                    bytes: 0,
                    max_bytes,
                    first: 0,
                    closed: false,
                    waiting: HashMap::new(),
                    next_subscriber: 0,
                }),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.shared)
    }

    /// Sends an event to every subscriber: the channel sets its `id` (replacing one the
    /// builder has) to the next number of its sequence, which it returns. Never waits;
    /// ignored (returns `None`) once the channel is closed.
    pub fn send(&self, event: EventBuilder<'_>) -> Option<u64> {
        let wake;
        let id;
        {
            let mut s = self.lock();
            if s.closed {
                return None;
            }
            id = s.next_id();
            let digits = id.to_string();
            let event = match event.id(&digits) {
                Ok(e) => Event::from(e),
                // Digits are always a valid id.
                Err(_) => return None,
            };
            s.bytes += event.as_bytes().len();
            s.history.push_back(event);
            while s.history.len() > s.capacity || (s.bytes > s.max_bytes && s.history.len() > 1) {
                if let Some(old) = s.history.pop_front() {
                    s.bytes -= old.as_bytes().len();
                    s.first += 1;
                }
            }
            wake = std::mem::take(&mut s.waiting);
        }
        for (_, w) in wake {
            w.wake();
        }
        Some(id)
    }

    /// A stream of the events after `last_event_id` (a client's `Last-Event-ID`, see
    /// [`LastEventId`](super::LastEventId)): the kept ones first, then each new one. Without
    /// an id, or with one this channel did not give (not a number, or not sent yet), only
    /// new events.
    pub fn subscribe(&self, last_event_id: Option<&str>) -> Subscription {
        let mut s = self.lock();
        let next = s.next_id();
        let resume = last_event_id
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|&id| id < next)
            .map_or(next, |id| id + 1);
        self.subscriber(&mut s, resume)
    }

    /// A stream of the events from id `first` on (0: everything still kept, e.g. a backlog
    /// for a new client); [`Subscription::missed`] counts those no longer kept. An id not
    /// sent yet waits for it.
    pub fn subscribe_at(&self, first: u64) -> Subscription {
        let mut s = self.lock();
        self.subscriber(&mut s, first)
    }

    /// A subscriber from id `first` on, under the lock.
    fn subscriber(&self, s: &mut State, first: u64) -> Subscription {
        let (next, missed) = if first < s.first {
            (s.first, s.first - first)
        } else {
            (first, 0)
        };
        let number = s.next_subscriber;
        s.next_subscriber += 1;
        Subscription {
            shared: Arc::clone(&self.shared),
            next,
            missed,
            number,
            lagged: false,
        }
    }

    /// Ends the channel: subscribers end their streams once they have every event sent
    /// before, and later sends are ignored.
    pub fn close(&self) {
        let wake = {
            let mut s = self.lock();
            s.closed = true;
            std::mem::take(&mut s.waiting)
        };
        for (_, w) in wake {
            w.wake();
        }
    }

    /// The id the next event will get (the number of events sent so far).
    pub fn next_id(&self) -> u64 {
        self.lock().next_id()
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic while the lock was held cannot leave the state half-changed (every change is
    // one push or one counter), so a poisoned lock is used as it is.
    shared
        .state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One client's position in a [`Channel`]: a `Stream` of its [`Event`]s, for
/// [`Sse::new`](super::Sse::new).
///
/// It ends when the channel is closed and it has every event, or when it fell a whole
/// history behind ([`Subscription::lagged`]).
pub struct Subscription {
    shared: Arc<Shared>,
    next: u64,
    missed: u64,
    number: u64,
    lagged: bool,
}

impl Subscription {
    /// How many events after the client's `Last-Event-ID` were no longer kept when it
    /// subscribed (0 when it gets everything it missed). An application can send the client
    /// a snapshot first when it is not 0.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Whether the stream ended because its next event left the history before it was read.
    pub fn lagged(&self) -> bool {
        self.lagged
    }

    /// The id of the next event this subscriber will yield.
    pub fn next_id(&self) -> u64 {
        self.next
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("next", &self.next)
            .field("missed", &self.missed)
            .field("lagged", &self.lagged)
            .finish_non_exhaustive()
    }
}

impl Stream for Subscription {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let this = self.get_mut();
        if this.lagged {
            return Poll::Ready(None);
        }
        let mut s = lock(&this.shared);
        if this.next < s.first {
            this.lagged = true;
            s.waiting.remove(&this.number);
            return Poll::Ready(None);
        }
        let index = usize::try_from(this.next - s.first).unwrap_or(usize::MAX);
        if let Some(event) = s.history.get(index) {
            let event = event.clone();
            this.next += 1;
            return Poll::Ready(Some(event));
        }
        if s.closed {
            return Poll::Ready(None);
        }
        s.waiting.insert(this.number, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        lock(&self.shared).waiting.remove(&self.number);
    }
}
