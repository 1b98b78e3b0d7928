//! A reconnecting event-stream client on blocking `std::net`, driven by
//! `pushwire_sse::client::Session`: the call order of the crate docs in a real loop.
//!
//! ```text
//! cargo run -p pushwire-sse --example client_std -- 127.0.0.1:8091 /events [max-events]
//! ```
//!
//! Prints `id<TAB>type<TAB>data` per event and how the session ended. The request is
//! HTTP/1.0 so that the body is never chunked and ends when the server closes; plain TCP,
//! no redirects, no TLS. A real client uses an HTTP library (pushwire-tokio's
//! `EventSource`); the session's part is the same.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use pushwire_sse::client::{self, Action, Config, ReadyState, Session};
use pushwire_sse::Instant;

/// Largest response head accepted.
const MAX_HEAD: usize = 16 << 10;

/// One connection: the socket, and the response head until it is complete.
struct Conn {
    stream: TcpStream,
    head: Option<Vec<u8>>,
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| io::Error::other("usage: client_std ADDR PATH [MAX_EVENTS]"))?;
    let path = args.next().unwrap_or_else(|| "/".into());
    let max_events: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);

    let origin = std::time::Instant::now();
    let now = || Instant::from_duration(origin.elapsed());
    let mut session = Session::new(Config::DEFAULT, client::random_seed());
    let mut conn: Option<Conn> = None;
    let mut events = 0;
    let mut buf = vec![0u8; 16 << 10];
    loop {
        match session.poll_action(now()) {
            Action::Connect { last_event_id } => {
                eprintln!("connect, Last-Event-ID: {last_event_id:?}");
                conn = None;
                match open(addr, &path, last_event_id.as_deref()) {
                    Ok(stream) => {
                        conn = Some(Conn {
                            stream,
                            head: Some(Vec::new()),
                        })
                    }
                    Err(_) => session.handle_error(now()),
                }
            }
            Action::Disconnect(reason) => {
                eprintln!("disconnect: {reason:?}");
                conn = None;
            }
            Action::Wait { until } => {
                let timeout = until.map(|t| t.saturating_duration_since(now()));
                let Some(c) = conn.as_mut() else {
                    // Between connections: sleep until the reconnection is due.
                    std::thread::sleep(timeout.unwrap_or(Duration::from_secs(1)));
                    continue;
                };
                // A zero read timeout means "block for ever" to std: wait at least 1 ms.
                c.stream
                    .set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))))?;
                match c.stream.read(&mut buf) {
                    Ok(0) if c.head.is_some() => session.handle_error(now()),
                    Ok(0) => session.feed_eof(now()),
                    Ok(n) => receive(&mut session, now(), c, &buf[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => session.handle_error(now()),
                }
                if session.ready_state() != ReadyState::Open {
                    conn = None;
                }
                // Poll every event before the next `poll_action`.
                loop {
                    match session.poll_event() {
                        Ok(Some(ev)) => {
                            println!("{}\t{}\t{}", ev.last_event_id(), ev.event_type(), ev.data());
                            events += 1;
                            if events == max_events {
                                session.close();
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            eprintln!("stream error: {e}");
                            break;
                        }
                    }
                }
            }
            Action::Closed(reason) => {
                eprintln!("closed: {reason:?}");
                return Ok(());
            }
            Action::Failed(reason) => {
                eprintln!("failed: {reason}");
                return Ok(());
            }
            other => {
                eprintln!("unknown action {other:?}");
                return Ok(());
            }
        }
    }
}

/// Connects and sends the request.
fn open(addr: SocketAddr, path: &str, last_event_id: Option<&str>) -> io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    let mut req = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
    );
    if let Some(id) = last_event_id {
        // The session only hands out ids without CR, LF or NUL.
        req.push_str(&format!("Last-Event-ID: {id}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    Ok(s)
}

/// Bytes from the socket at `t`: the response head first (then `handle_response`), then
/// the body.
fn receive(session: &mut Session, t: Instant, c: &mut Conn, bytes: &[u8]) {
    let Some(head) = c.head.as_mut() else {
        // A full parser buffer would need polling first; a 16 KiB read always fits.
        let _ = session.feed(t, bytes);
        return;
    };
    head.extend_from_slice(bytes);
    let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
        if head.len() > MAX_HEAD {
            session.handle_error(t);
        }
        return;
    };
    let head = c.head.take().unwrap_or_default();
    let (status, content_type) = parse_head(&head[..end]);
    session.handle_response(t, status, content_type.as_deref());
    let _ = session.feed(t, &head[end + 4..]);
}

/// The status code and the `Content-Type` value of a response head (status 0 if garbled).
fn parse_head(head: &[u8]) -> (u16, Option<Vec<u8>>) {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status = lines
        .next()
        .and_then(|l| l.split(|&b| b == b' ').nth(1))
        .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok())
        .unwrap_or(0);
    // The last Content-Type wins.
    let content_type = lines.rev().find_map(|l| {
        let colon = l.iter().position(|&b| b == b':')?;
        l[..colon]
            .eq_ignore_ascii_case(b"content-type")
            .then(|| l[colon + 1..].trim_ascii().to_vec())
    });
    (status, content_type)
}
