//! The optional timers of a [`WebSocketStream`](crate::WebSocketStream): auto-ping, pong
//! timeout, idle timeout, close timeout ([`Config::ping_interval`], [`Config::pong_timeout`],
//! [`Config::idle_timeout`], [`Config::close_timeout`]).
//!
//! One [`Sleep`] serves all four. It is re-armed lazily: a read only records the time
//! ([`Timers::received`]); when the sleep fires, the due deadline is recomputed from that
//! record and the sleep is reset only if the deadline moved. So a busy connection resets its
//! sleep about once per interval, not once per message.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use pushwire_ws::ConnectionState;

use crate::{Config, TimeoutKind};

/// How long a stream that ended keeps trying to write its last frames (the Close) and shut
/// the transport down when timers are configured: a dead peer may never read them.
pub(crate) const CLOSE_WRITE_BOUND: Duration = Duration::from_secs(1);

/// Shortest interval or timeout: zero would ping or fail in a busy loop.
const MIN: Duration = Duration::from_millis(1);

/// "Never" for a sleep with nothing due (far, yet no `Instant` overflow).
const FAR: Duration = Duration::from_secs(86_400 * 365 * 30);

/// What a fired timer asks the stream to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fired {
    /// Queue a Ping and write it.
    SendPing,
    /// Fail the connection with [`Error::Timeout`](crate::Error::Timeout).
    Fail(TimeoutKind, Duration),
}

/// Timer state, boxed in the stream only when [`Config::has_timers`].
#[derive(Debug)]
pub(crate) struct Timers {
    ping_interval: Option<Duration>,
    pong_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    close_timeout: Option<Duration>,
    /// When our Close was first seen sent (the close timeout counts from there).
    close_sent: Option<Instant>,
    /// When bytes were last read (or when the stream was made).
    last_rx: Instant,
    /// When our last automatic Ping was queued, if nothing was read since.
    ping_sent: Option<Instant>,
    /// Made on first use, inside the runtime (a `Sleep` needs its time driver).
    sleep: Option<Pin<Box<Sleep>>>,
    /// The stream ended; `sleep` now bounds the final write.
    lingering: bool,
    /// The connection failed on a timeout: shut the transport down after the Close.
    pub(crate) timed_out: bool,
}

fn add(t: Instant, d: Duration) -> Instant {
    t.checked_add(d.min(FAR))
        .or_else(|| t.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(t)
}

impl Timers {
    /// `None` when no timer is configured (nothing is allocated).
    pub(crate) fn new(config: &Config) -> Option<Box<Timers>> {
        if !config.has_timers() {
            return None;
        }
        Some(Box::new(Timers {
            ping_interval: config.ping_interval.map(|d| d.max(MIN)),
            pong_timeout: config.pong_timeout.map(|d| d.max(MIN)),
            idle_timeout: config.idle_timeout.map(|d| d.max(MIN)),
            close_timeout: config.close_timeout.map(|d| d.max(MIN)),
            close_sent: None,
            last_rx: Instant::now(),
            ping_sent: None,
            sleep: None,
            lingering: false,
            timed_out: false,
        }))
    }

    /// Bytes arrived: the peer is alive (it answered any outstanding Ping).
    #[inline]
    pub(crate) fn received(&mut self) {
        self.last_rx = Instant::now();
        self.ping_sent = None;
    }

    /// The close deadline, if our Close was sent and a close timeout is configured.
    fn close_deadline(&self) -> Option<Instant> {
        Some(add(self.close_sent?, self.close_timeout?))
    }

    /// Records when our Close was first seen sent (`state` is the codec's).
    fn observe(&mut self, now: Instant, state: ConnectionState) {
        if state == ConnectionState::CloseSent && self.close_sent.is_none() {
            self.close_sent = Some(now);
        }
    }

    /// The earliest deadline due, if any. `can_ping`: the connection is open.
    fn next_deadline(&self, can_ping: bool) -> Option<Instant> {
        let idle = [
            self.idle_timeout.map(|d| add(self.last_rx, d)),
            self.close_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
        let ping = self
            .ping_interval
            .and_then(|i| match (self.ping_sent, self.pong_timeout) {
                (Some(sent), Some(pong)) => Some(add(sent, pong)),
                _ if !can_ping => None,
                (Some(sent), None) => Some(add(sent, i)),
                (None, _) => Some(add(self.last_rx, i)),
            });
        match (idle, ping) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What is due at `now` (and records a Ping as sent).
    fn due(&mut self, now: Instant, can_ping: bool) -> Option<Fired> {
        if let (Some(at), Some(d)) = (self.close_deadline(), self.close_timeout) {
            if now >= at {
                return Some(Fired::Fail(TimeoutKind::Close, d));
            }
        }
        if let Some(d) = self.idle_timeout {
            if now >= add(self.last_rx, d) {
                return Some(Fired::Fail(TimeoutKind::Idle, d));
            }
        }
        let interval = self.ping_interval?;
        match (self.ping_sent, self.pong_timeout) {
            (Some(sent), Some(pong)) => {
                (now >= add(sent, pong)).then_some(Fired::Fail(TimeoutKind::Pong, pong))
            }
            _ if !can_ping => None,
            (sent, _) => {
                let due = add(sent.unwrap_or(self.last_rx), interval);
                (now >= due).then(|| {
                    self.ping_sent = Some(now);
                    Fired::SendPing
                })
            }
        }
    }

    fn arm(&mut self, at: Instant) -> Pin<&mut Sleep> {
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if sleep.deadline() != at {
            sleep.as_mut().reset(at);
        }
        sleep.as_mut()
    }

    /// `Ready` with what to do when a deadline passed; `Pending` (waker registered) when
    /// nothing is due yet. `state`: the codec's (no Ping unless open; the close timeout
    /// starts once our Close is seen sent).
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, state: ConnectionState) -> Poll<Fired> {
        let can_ping = state == ConnectionState::Open;
        loop {
            let now = Instant::now();
            self.observe(now, state);
            if let Some(fired) = self.due(now, can_ping) {
                return Poll::Ready(fired);
            }
            let at = self
                .next_deadline(can_ping)
                .unwrap_or_else(|| add(now, FAR));
            if self.arm(at).poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// The stream ended: from now on the sleep bounds the final write.
    pub(crate) fn start_linger(&mut self) {
        if !self.lingering {
            self.lingering = true;
            self.arm(add(Instant::now(), CLOSE_WRITE_BOUND));
        }
    }

    /// `Ready` once [`CLOSE_WRITE_BOUND`] has passed since [`start_linger`](Self::start_linger).
    pub(crate) fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.start_linger();
        match self.sleep.as_mut() {
            Some(s) => s.as_mut().poll(cx),
            None => Poll::Ready(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timers(config: Config) -> Timers {
        *Timers::new(&config).expect("timers configured")
    }

    #[test]
    fn no_timer_configured_allocates_nothing() {
        assert!(Timers::new(&Config::DEFAULT).is_none());
        // A pong timeout alone has nothing to time.
        let c = Config::DEFAULT.with_pong_timeout(Some(Duration::from_secs(1)));
        assert!(Timers::new(&c).is_none());
    }

    #[test]
    fn close_deadline_counts_from_the_first_sight_of_our_close() {
        let mut t = timers(Config::DEFAULT.with_close_timeout(Some(Duration::from_secs(10))));
        let t0 = t.last_rx;
        // Open: nothing is due, ever.
        t.observe(t0 + Duration::from_secs(100), ConnectionState::Open);
        assert_eq!(t.next_deadline(true), None);
        assert_eq!(t.due(t0 + Duration::from_secs(1000), true), None);
        // Our Close seen at 1000 s: due at 1010 s, and later sightings do not move it.
        t.observe(t0 + Duration::from_secs(1000), ConnectionState::CloseSent);
        t.observe(t0 + Duration::from_secs(1005), ConnectionState::CloseSent);
        assert_eq!(t.next_deadline(false), Some(t0 + Duration::from_secs(1010)));
        assert_eq!(t.due(t0 + Duration::from_secs(1009), false), None);
        assert_eq!(
            t.due(t0 + Duration::from_secs(1010), false),
            Some(Fired::Fail(TimeoutKind::Close, Duration::from_secs(10)))
        );
    }

    #[test]
    fn the_earlier_of_idle_and_close_deadlines_is_next() {
        let mut t = timers(
            Config::DEFAULT
                .with_idle_timeout(Some(Duration::from_secs(30)))
                .with_close_timeout(Some(Duration::from_secs(10))),
        );
        let t0 = t.last_rx;
        t.observe(t0 + Duration::from_secs(25), ConnectionState::CloseSent);
        assert_eq!(t.next_deadline(false), Some(t0 + Duration::from_secs(30)));
        assert_eq!(
            t.due(t0 + Duration::from_secs(30), false),
            Some(Fired::Fail(TimeoutKind::Idle, Duration::from_secs(30)))
        );
        let mut t = timers(
            Config::DEFAULT
                .with_idle_timeout(Some(Duration::from_secs(30)))
                .with_close_timeout(Some(Duration::from_secs(10))),
        );
        t.observe(t0 + Duration::from_secs(5), ConnectionState::CloseSent);
        assert_eq!(t.next_deadline(false), Some(t0 + Duration::from_secs(15)));
    }

    #[test]
    fn ping_is_due_after_silence_then_pong_deadline_applies() {
        let mut t = timers(
            Config::DEFAULT
                .with_ping_interval(Some(Duration::from_secs(10)))
                .with_pong_timeout(Some(Duration::from_secs(5))),
        );
        let t0 = t.last_rx;
        assert_eq!(t.due(t0 + Duration::from_secs(9), true), None);
        assert_eq!(t.next_deadline(true), Some(t0 + Duration::from_secs(10)));
        assert_eq!(
            t.due(t0 + Duration::from_secs(10), true),
            Some(Fired::SendPing)
        );
        // Outstanding ping: no second ping, the pong deadline instead.
        assert_eq!(t.next_deadline(true), Some(t0 + Duration::from_secs(15)));
        assert_eq!(t.due(t0 + Duration::from_secs(14), true), None);
        assert_eq!(
            t.due(t0 + Duration::from_secs(15), true),
            Some(Fired::Fail(TimeoutKind::Pong, Duration::from_secs(5)))
        );
    }

    #[test]
    fn keepalive_pings_repeat_without_pong_timeout_and_stop_when_closing() {
        let mut t = timers(Config::DEFAULT.with_ping_interval(Some(Duration::from_secs(10))));
        let t0 = t.last_rx;
        assert_eq!(
            t.due(t0 + Duration::from_secs(10), true),
            Some(Fired::SendPing)
        );
        assert_eq!(t.next_deadline(true), Some(t0 + Duration::from_secs(20)));
        assert_eq!(t.next_deadline(false), None);
        assert_eq!(t.due(t0 + Duration::from_secs(20), false), None);
    }

    #[test]
    fn zero_durations_are_taken_as_one_millisecond() {
        let t = timers(Config::DEFAULT.with_idle_timeout(Some(Duration::ZERO)));
        assert_eq!(t.idle_timeout, Some(MIN));
    }
}
