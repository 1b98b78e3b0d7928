//! `pushwire serve` as a process, driven over loopback with raw sockets: the HTTP statuses
//! RFC 9110 / RFC 6455 prescribe for bad requests, SSE resume, a WebSocket echo with the
//! RFC 6455 §5.7 masked "Hello" frame, an Engine.io handshake, and the Socket.IO chat.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `pushwire serve` on a port the OS picks (read back from its first log line, so
/// that tests running in parallel never race for a port).
fn start() -> Server {
    start_with(&[])
}

/// [`start`] with more arguments after `serve --addr 127.0.0.1:0`.
fn start_with(args: &[&str]) -> Server {
    // In the guard from the start: a panic below must not leave the server running.
    let mut server = Server {
        child: Command::new(env!("CARGO_BIN_EXE_pushwire"))
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        port: 0,
    };
    let mut out = std::io::BufReader::new(server.child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    // "pushwire demo listening on http://127.0.0.1:PORT/"
    server.port = first
        .trim_end()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    // Keep draining the log (SERVE_LOG=1 shows it) so the server never blocks on stdout.
    let show = std::env::var_os("SERVE_LOG").is_some();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::BufRead::read_line(&mut out, &mut line).is_ok_and(|n| n > 0) {
            if show {
                eprint!("{line}");
            }
            line.clear();
        }
    });
    server
}

/// Sends `request`, returns everything read until `until` appears, EOF, or 5 s.
fn exchange(port: u16, request: &[u8], until: &[u8]) -> Vec<u8> {
    exchange_with(port, request, |out| {
        out.windows(until.len()).any(|w| w == until)
    })
}

/// Sends `request`, returns everything read until `done` holds, EOF, or 5 s.
fn exchange_with(port: u16, request: &[u8], done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !done(&out) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    out
}

/// Whether an SSE body holds a complete event with an `id` field.
fn has_id_event(out: &[u8]) -> bool {
    String::from_utf8_lossy(out)
        .split("\nid: ")
        .nth(1)
        .is_some_and(|rest| rest.contains("\n\n"))
}

/// The complete chunks of a chunked body (`Transfer-Encoding: chunked`, RFC 9112 §7.1),
/// joined: how a streamed response (an event stream) reads once the framing is removed.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..eol])
            .ok()
            .and_then(|h| usize::from_str_radix(h.split(';').next().unwrap_or("").trim(), 16).ok())
            .expect("a chunk size line");
        let start = eol + 2;
        if size == 0 || body.len() < start + size + 2 {
            break;
        }
        out.extend_from_slice(&body[start..start + size]);
        body = &body[start + size + 2..];
    }
    out
}

/// The head of a response (lowercased: header names are case-insensitive) and its body,
/// dechunked when it is chunked.
fn split_response(resp: &[u8]) -> (String, Vec<u8>) {
    let end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&resp[..end]).to_ascii_lowercase();
    let body = if head.contains("\r\ntransfer-encoding: chunked\r\n") {
        dechunk(&resp[end..])
    } else {
        resp[end..].to_vec()
    };
    (head, body)
}

fn status(resp: &[u8]) -> u16 {
    let line = String::from_utf8_lossy(resp);
    line.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn bad_requests_get_the_right_status() {
    let s = start();
    let get = |req: &str| status(&exchange(s.port, req.as_bytes(), b"\r\n\r\n"));
    assert_eq!(get("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    assert_eq!(get("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
    assert_eq!(get("DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
    // hyper cannot parse a request line of another version (HTTP/2 has no request line; a
    // client speaking it sends the connection preface): 400, where the hand-written
    // server of 0.1 answered 505.
    assert_eq!(get("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 400);
    assert_eq!(get("GARBAGE\r\n\r\n"), 400);
    let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    assert_eq!(get(&huge), 431);
    // RFC 6455 §4.2.2: a request that is not a valid upgrade gets 400; a version other
    // than 13 gets 426 with Sec-WebSocket-Version.
    assert_eq!(get("GET /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    let v8 = exchange(
        s.port,
        b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        b"\r\n\r\n",
    );
    assert_eq!(status(&v8), 426);
    assert!(String::from_utf8_lossy(&v8)
        .to_ascii_lowercase()
        .contains("sec-websocket-version: 13\r\n"));
    // POST bodies to Engine.io above its 1,000,000-byte limit: 413, whether the length is
    // declared up front or the chunks only add up to it.
    assert_eq!(
        get("POST /engine.io/?EIO=3&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000001\r\n\r\n"),
        413
    );
    let mut chunked = b"POST /engine.io/?EIO=3&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        chunked.extend_from_slice(b"7a120\r\n"); // 500,000 bytes
        chunked.extend_from_slice(&vec![b'a'; 500_000]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"1\r\na\r\n0\r\n\r\n");
    assert_eq!(status(&exchange(s.port, &chunked, b"\r\n\r\n")), 413);
    // Engine.io's own 400 for an unknown transport.
    let r = exchange(
        s.port,
        b"GET /engine.io/?EIO=3&transport=carrier-pigeon HTTP/1.1\r\nHost: x\r\n\r\n",
        b"}",
    );
    assert_eq!(status(&r), 400);
    assert!(String::from_utf8_lossy(&r).contains(r#"{"code":0,"message":"Transport unknown"}"#));
}

#[test]
fn websocket_echo_answers_the_rfc_example() {
    let s = start();
    // RFC 6455 §1.3: the sample key and its accept value.
    let mut req = b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec();
    // §5.7: a single-frame masked text message "Hello", sent with the head.
    req.extend_from_slice(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
    let unmasked_hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let r = exchange(s.port, &req, &unmasked_hello);
    let text = String::from_utf8_lossy(&r);
    assert!(text.starts_with("HTTP/1.1 101 "), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=\r\n"),
        "{text}"
    );
    assert!(r.ends_with(&unmasked_hello), "{r:?}");
}

/// The `x,y` after `"id":"` in `text`, and whether it is one step from `(x0, y0)`.
fn next_to(text: &str, (x0, y0): (i64, i64)) -> bool {
    let id = text
        .split("\"id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let (x, y) = id.split_once(',').unwrap();
    let (x, y): (i64, i64) = (x.parse().unwrap(), y.parse().unwrap());
    (x - x0).abs() <= 20 && (y - y0).abs() <= 20
}

#[test]
fn comet_long_poll_and_forever_frame_resume_the_walk() {
    let s = start();
    // Long-polling: held for one step, then JSON with the step after lastEventId.
    let (code, head, body) = http(
        s.port,
        b"GET /comet/box/poll?lastEventId=700%2C500 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(code, 200, "{text}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(
        text.starts_with("{\"events\":[{\"type\":\"message\",\"id\":\""),
        "{text}"
    );
    assert!(text.ends_with("],\"ended\":false}"), "{text}");
    assert!(next_to(&text, (700, 500)), "{text}");
    // The forever frame: an HTML document, a script per step, the resume first.
    let r = exchange(
        s.port,
        b"GET /comet/box/frame?lastEventId=40%2C60&drop=2 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"</body></html>",
    );
    let (head, body) = split_response(&r);
    assert!(
        head.contains("content-type: text/html; charset=utf-8"),
        "{head}"
    );
    let text = String::from_utf8_lossy(&body).into_owned();
    assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
    let resume = "<script>parent.pushwireFrame({\"type\":\"resume\",\"id\":\"\",\"data\":\"40,60\"});</script>";
    assert!(text.contains(resume), "{text}");
    let after = &text[text.find(resume).unwrap() + resume.len()..];
    assert!(next_to(after, (40, 60)), "{text}");
    assert_eq!(after.matches("<script>").count(), 2, "drop=2: {text}");
    assert!(text.ends_with("</body></html>\n"), "{text}");
}

#[test]
fn sse_resumes_from_last_event_id() {
    let s = start();
    let r = exchange_with(
        s.port,
        b"GET /sse/box HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 100,200\r\n\r\n",
        has_id_event,
    );
    let (head, body) = split_response(&r);
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("retry: 2000\n"));
    assert!(text.contains("event: resume\ndata: 100,200\n\n"), "{text}");
    // The walk goes on from 100,200: the next id is one step (20 px) away on each axis.
    let id = text
        .split("\nid: ")
        .nth(1)
        .unwrap()
        .split('\n')
        .next()
        .unwrap();
    let (x, y) = id.split_once(',').unwrap();
    let (x, y): (i64, i64) = (x.parse().unwrap(), y.parse().unwrap());
    assert!((x - 100).abs() <= 20 && (y - 200).abs() <= 20, "{id}");
    // The lastEventId query parameter, for polyfills.
    let r = exchange_with(
        s.port,
        b"GET /sse/box?lastEventId=300%2C40 HTTP/1.1\r\nHost: x\r\n\r\n",
        has_id_event,
    );
    assert!(String::from_utf8_lossy(&r).contains("event: resume\ndata: 300,40\n\n"));
}

#[test]
fn sse_many_serves_the_many_sources_page() {
    let s = start();
    let (status, head, body) = http(s.port, b"GET /sse/many?n=5 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"), "{head}");
    let page = String::from_utf8_lossy(&body);
    // The sources go to /sse/box, one query each, and the page says what it saw.
    assert!(
        page.contains("new EventSource('/sse/box?many=' + i)"),
        "{page}"
    );
    assert!(page.contains("many.summary = "), "{page}");
    let (status, _, _) = http(
        s.port,
        b"POST /sse/many HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(status, 405);
}

#[test]
fn engineio_handshake_over_polling() {
    let s = start();
    let r = exchange(
        s.port,
        b"GET /engine.io/?EIO=3&transport=polling&b64=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"}",
    );
    let text = String::from_utf8_lossy(&r);
    assert_eq!(status(&r), 200);
    // engine.io 3.x: `<len>:0{"sid":…,"upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`
    assert!(text.contains(r#":0{"sid":""#), "{text}");
    assert!(text.ends_with(r#","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#));
}

#[test]
fn engineio_chat_serves_v4_beside_v3() {
    let s = start();
    // v4 (engine.io 6): the open packet alone, with maxPayload, no `<len>:` framing.
    let (code, _, body) = http(
        s.port,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&body);
    assert_eq!(code, 200);
    assert!(text.starts_with(r#"0{"sid":""#), "{text}");
    assert!(text.ends_with(r#","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}"#), "{text}");
    // An EIO it does not serve: engine.io 6's error 5.
    let (code, _, body) = http(
        s.port,
        b"GET /engine.io/?EIO=5&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(code, 400);
    assert_eq!(
        body,
        br#"{"code":5,"message":"Unsupported protocol version"}"#
    );
}

#[test]
fn reference_apps_serve_the_v4_test_suite_server() {
    let s = start_with(&["--reference-apps"]);
    // The v4 spec's "Test suite": `pingInterval: 300, pingTimeout: 200, maxPayload: 1e6,
    // cors: { origin: "*" }`.
    let (code, head, body) = http(
        s.port,
        b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: https://a.example\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&body);
    assert_eq!(code, 200);
    assert!(text.ends_with(r#","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#), "{text}");
    assert!(
        head.contains("access-control-allow-origin: *\r\n"),
        "{head}"
    );
    let sid = text.split('"').nth(3).unwrap().to_string();
    // An echo server: a message comes back to its sender.
    let (code, _, _) = http(
        s.port,
        format!("POST /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n4hello").as_bytes(),
    );
    assert_eq!(code, 200);
    let (code, _, body) = http(
        s.port,
        format!("GET /engine.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(code, 200);
    // (A ping may follow it if the poll came late: the server pings every 300 ms.)
    assert!(body.starts_with(b"4hello"), "{body:?}");
}

/// A whole HTTP response (asked with `Connection: close`, so read to EOF): status, head
/// (lowercased), body.
fn http(port: u16, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let line_end = request.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
    s.write_all(&request[..line_end]).unwrap();
    s.write_all(b"Connection: close\r\n").unwrap();
    s.write_all(&request[line_end..]).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let (head, body) = split_response(&out);
    (status(&out), head, body)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn engineio_chat_over_xhr2_and_base64_polling_matches_the_reference_bodies() {
    // The bodies engine.io 3.6.2 sends for the messages "hello", "😀" and binary [1, 2, 3]
    // (crates/engineio/tests/fixtures/eio3-vectors.json, `live_server`): an XHR2 binary
    // payload to a client without `b64`, a text payload to one with `b64=1`.
    const XHR2: &str = "0006ff3468656c6c6f0005ff34f09f98800104ff04010203";
    const B64: &str = "6:4hello3:4\u{1f600}6:b4AQID";
    let s = start();
    let open = |b64: &str| {
        let (st, _, body) = http(
            s.port,
            format!("GET /engine.io/?EIO=3&transport=polling{b64} HTTP/1.1\r\nHost: x\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(st, 200);
        let body = String::from_utf8(body).unwrap();
        body.split(r#""sid":""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    let binary_sid = open("");
    let text_sid = open("&b64=1");
    // The XHR2 client posts the three messages as a binary payload; the chat sends them to
    // every session.
    let body = unhex(XHR2);
    let mut post = format!(
        "POST /engine.io/?EIO=3&transport=polling&sid={binary_sid} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    post.extend_from_slice(&body);
    let (st, _, reply) = http(s.port, &post);
    assert_eq!((st, &reply[..]), (200, &b"ok"[..]));
    let poll = |sid: &str, b64: &str| {
        http(
            s.port,
            format!("GET /engine.io/?EIO=3&transport=polling&sid={sid}{b64} HTTP/1.1\r\nHost: x\r\n\r\n")
                .as_bytes(),
        )
    };
    let (st, head, body) = poll(&binary_sid, "");
    assert_eq!(st, 200);
    assert!(
        head.contains("content-type: application/octet-stream"),
        "{head}"
    );
    assert_eq!(body, unhex(XHR2));
    let (st, head, body) = poll(&text_sid, "&b64=1");
    assert_eq!(st, 200);
    assert!(
        head.contains("content-type: text/plain; charset=utf-8"),
        "{head}"
    );
    assert_eq!(String::from_utf8(body).unwrap(), B64);
}

/// Opens a WebSocket to `path` with raw bytes; returns the stream after the 101.
fn ws_open(port: u16, path: &str) -> TcpStream {
    ws_handshake(TcpStream::connect(("127.0.0.1", port)).unwrap(), path)
}

/// The WebSocket opening handshake for `path` on a connected socket; asserts the 101.
fn ws_handshake(mut s: TcpStream, path: &str) -> TcpStream {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    s
}

/// A masked binary frame (RFC 6455 §5.2) with the all-zero mask key, so the payload bytes
/// appear unchanged; `payload.len()` must be below 65,536.
fn masked_binary(payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).unwrap();
    let mut f = vec![0x82, 0x80 | 126];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// `ws_open` over a socket with a 4 KiB receive buffer: a peer that stops reading is seen
/// by the server after kilobytes, not after the tens of megabytes loopback buffers hold.
fn ws_open_small_window(port: u16, path: &str) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.set_recv_buffer_size(4096).unwrap();
        sock.connect(([127, 0, 0, 1], port).into()).await.unwrap()
    });
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    drop(rt);
    ws_handshake(s, path)
}

/// Counts the binary messages of `len` bytes in a server's (unmasked, unfragmented)
/// frames read from `r` until EOF; other frames (pings) are skipped.
fn count_binary_frames(mut r: TcpStream, len: usize, count: &std::sync::atomic::AtomicUsize) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Whole frames at the front of `buf`.
        loop {
            if buf.len() < 2 {
                break;
            }
            let (n, at) = match buf[1] & 0x7F {
                126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
                127 if buf.len() >= 10 => {
                    let mut b8 = [0u8; 8];
                    b8.copy_from_slice(&buf[2..10]);
                    (u64::from_be_bytes(b8) as usize, 10)
                }
                126 | 127 => break,
                n => (n as usize, 2),
            };
            if buf.len() < at + n {
                break;
            }
            if buf[0] == 0x82 && n == len {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            buf.drain(..at + n);
        }
        match r.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
}

/// Reads until the connection ends: `None` for EOF, the error kind for an error, and a
/// `TimedOut` error when nothing arrives for the read timeout set on `s`.
fn read_until_end(s: &mut TcpStream) -> Option<std::io::ErrorKind> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                return Some(std::io::ErrorKind::TimedOut)
            }
            Err(e) => return Some(e.kind()),
        }
    }
}

#[test]
fn an_echo_client_that_does_not_read_is_reset_after_the_write_timeout() {
    let s = start();
    let mut c = ws_open_small_window(s.port, "/ws/echo");
    // Messages until the server stops taking them: its echoes fill our 4 KiB window and the
    // kernel's buffers, its writes stall, and it stops reading.
    let mut w = c.try_clone().unwrap();
    w.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let frame = masked_binary(&[b'e'; 60_000]);
    let t = Instant::now();
    let mut sent = 0usize;
    let mut write_end = None;
    while t.elapsed() < Duration::from_secs(30) {
        match w.write_all(&frame) {
            Ok(()) => sent += 1,
            // Our write timeout: the server stopped reading.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                write_end = Some(e.kind());
                break;
            }
        }
    }
    // Writes made no progress for 10 s: the server gives up and resets the connection. The
    // reset is reported once, to the write blocked at the time or to the read.
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let read_end = read_until_end(&mut c);
    eprintln!(
        "{sent} messages sent; write {write_end:?}, read {read_end:?} after {:?}",
        t.elapsed()
    );
    assert!(
        write_end == Some(std::io::ErrorKind::ConnectionReset)
            || read_end == Some(std::io::ErrorKind::ConnectionReset),
        "write {write_end:?}, read {read_end:?}"
    );
    assert!(t.elapsed() >= Duration::from_secs(10), "{:?}", t.elapsed());
    // The server still serves.
    let (st, _, _) = http(s.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(st, 200);
}

#[test]
fn a_chat_member_that_does_not_read_is_dropped() {
    let s = start();
    // The slow member never reads, and its socket holds only a few KiB.
    let mut slow = ws_open_small_window(s.port, "/ws/chat");
    let mut fast = ws_open(s.port, "/ws/chat");
    let fast_reader = fast.try_clone().unwrap();
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = received.clone();
    let drain = std::thread::spawn(move || count_binary_frames(fast_reader, 60_000, &counter));
    // 60 MB of chat: far more than the slow member's socket, its write buffer (4 MiB) and
    // its bounded inbox hold.
    let frame = masked_binary(&[b'x'; 60_000]);
    let t = Instant::now();
    for _ in 0..1_000 {
        fast.write_all(&frame).unwrap();
    }
    // The slow member's connection is shut down (its inbox overflowed, or its writes made no
    // progress for 10 s): reading drains what was buffered, then ends (EOF or reset) instead
    // of blocking. Pings come every 20 s and the idle timeout is 60 s, so a read timeout
    // of 30 s fails a member kept open.
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let end = read_until_end(&mut slow);
    eprintln!("slow member: {end:?} within {:?}", t.elapsed());
    // Given up on, it is reset (not closed: a close would leave megabytes it will never read
    // in the kernel for minutes).
    assert_eq!(
        end,
        Some(std::io::ErrorKind::ConnectionReset),
        "after {:?}",
        t.elapsed()
    );
    // The server still serves.
    let (st, _, _) = http(s.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(st, 200);
    // The sender, which reads, gets every one of its messages back.
    let t = Instant::now();
    while received.load(std::sync::atomic::Ordering::Relaxed) < 1_000
        && t.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(received.load(std::sync::atomic::Ordering::Relaxed), 1_000);
    let _ = fast.shutdown(std::net::Shutdown::Both);
    let _ = drain.join();
}

#[test]
fn connections_beyond_max_conns_get_503() {
    let s = start_with(&["--max-conns", "1"]);
    // The one connection allowed: an event stream, held open.
    let mut held = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    held.write_all(b"GET /sse/chat HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    let n = held.read(&mut buf).unwrap();
    assert_eq!(status(&buf[..n]), 200);
    let busy = exchange(s.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"busy\n");
    assert_eq!(status(&busy), 503, "{}", String::from_utf8_lossy(&busy));
    // Once it is gone, the next one is served.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = exchange(s.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n\r\n");
        if status(&r) == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the slot was never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sse_chat_relays_websocket_chat_messages() {
    let s = start();
    let mut sse = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    sse.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sse.write_all(b"GET /sse/chat HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    // The head and the prelude (`retry`): the stream is a chat reader from then on.
    while !split_response(&got)
        .1
        .windows(13)
        .any(|w| w == b"retry: 2000\n\n")
    {
        let n = sse.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(status(&got), 200);
    assert!(split_response(&got)
        .0
        .contains("content-type: text/event-stream"));
    let mut ws = ws_open(s.port, "/ws/chat");
    // A masked text frame "a\nb" (zero mask key) and a binary frame 01 02 03.
    ws.write_all(&[0x81, 0x83, 0, 0, 0, 0, b'a', b'\n', b'b'])
        .unwrap();
    ws.write_all(&[0x82, 0x83, 0, 0, 0, 0, 1, 2, 3]).unwrap();
    let want = b"id: 0\ndata: a\ndata: b\n\n";
    let want2 = b"event: binary\nid: 1\ndata: AQID\n\n";
    let text = |got: &[u8]| String::from_utf8_lossy(got).into_owned();
    while !text(&got).contains(std::str::from_utf8(want2).unwrap()) {
        let n = sse.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended: {}", text(&got));
        got.extend_from_slice(&buf[..n]);
    }
    let all = text(&got);
    let a = all
        .find(std::str::from_utf8(want).unwrap())
        .expect("the text event");
    assert!(a < all.find("event: binary").unwrap(), "in order: {all}");
    drop(sse);
    // A reader that reconnects after id 0 gets the binary message again, and only it.
    let mut again = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    again
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    again
        .write_all(b"GET /sse/chat HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 0\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    while !text(&got).contains(std::str::from_utf8(want2).unwrap()) {
        let n = again.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended: {}", text(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(!text(&got).contains("data: a"), "{}", text(&got));
}

/// One Engine.io v4 polling session on `/socket.io/`, driven by hand: every packet it has
/// received, in order.
struct SioPolling {
    port: u16,
    sid: String,
    received: Vec<String>,
}

impl SioPolling {
    /// The Engine.io handshake (`EIO=4`), then the Socket.IO `CONNECT` with `auth`; returns
    /// once the server's `CONNECT` arrived.
    fn connect(port: u16, auth: &str) -> SioPolling {
        let (code, _, body) = http(
            port,
            b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        let text = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(code, 200, "{text}");
        assert!(text.starts_with(r#"0{"sid":""#), "{text}");
        let sid = text.split('"').nth(3).unwrap().to_string();
        let mut s = SioPolling {
            port,
            sid,
            received: Vec::new(),
        };
        // "At the beginning of a Socket.IO session, the client MUST send a CONNECT packet"
        s.post(&format!("40{auth}"));
        s.poll_until(|p| p.starts_with(r#"40{"sid":""#));
        s
    }

    fn post(&self, packet: &str) {
        let (code, _, _) = http(
            self.port,
            format!(
                "POST /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{packet}",
                self.sid,
                packet.len()
            )
            .as_bytes(),
        );
        assert_eq!(code, 200, "POST {packet}");
    }

    /// Polls until a packet matching `want` arrives (the server's pings are answered);
    /// returns it.
    fn poll_until(&mut self, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(p) = self.received.iter().find(|p| want(p)) {
                return p.clone();
            }
            assert!(
                Instant::now() < deadline,
                "not received; got {:?}",
                self.received
            );
            let (code, _, body) = http(
                self.port,
                format!(
                    "GET /socket.io/?EIO=4&transport=polling&sid={} HTTP/1.1\r\nHost: x\r\n\r\n",
                    self.sid
                )
                .as_bytes(),
            );
            assert_eq!(code, 200);
            for p in String::from_utf8(body).unwrap().split('\x1e') {
                if p == "2" {
                    self.post("3");
                }
                self.received.push(p.to_string());
            }
        }
    }
}

#[test]
fn socketio_chat_delivers_to_the_room_and_acks_the_sender() {
    let s = start();
    let mut ann = SioPolling::connect(s.port, r#"{"name":"ann"}"#);
    let mut bob = SioPolling::connect(s.port, r#"{"name":"bob"}"#);
    let mut cy = SioPolling::connect(s.port, "");
    // Each socket is told the room list when it connects.
    ann.poll_until(|p| p.starts_with(r#"42["rooms","#));

    ann.post(r#"420["join","lobby"]"#);
    ann.poll_until(|p| p == r#"430[{"ok":true,"rooms":["lobby"]}]"#);
    bob.post(r#"421["join","lobby"]"#);
    bob.poll_until(|p| p == r#"431[{"ok":true,"rooms":["lobby"]}]"#);
    cy.post(r#"42["join","elsewhere"]"#); // no ack asked: none comes
    cy.post(r#"427["rooms"]"#);
    cy.poll_until(|p| {
        p == r#"437[{"ok":true,"rooms":[{"name":"elsewhere","members":1},{"name":"lobby","members":2}]}]"#
    });

    ann.post(r#"422["chat",{"room":"lobby","text":"hi 😀"}]"#);
    // The ack says to how many others it went; the sender is left out of the broadcast.
    ann.poll_until(|p| p == r#"432[{"ok":true,"delivered":1}]"#);
    bob.poll_until(|p| p == r#"42["chat",{"room":"lobby","from":"ann","text":"hi 😀"}]"#);
    // Not in the room: refused, and nobody gets it.
    ann.post(r#"423["chat",{"room":"elsewhere","text":"psst"}]"#);
    ann.poll_until(|p| p == r#"433[{"ok":false,"error":"not in that room"}]"#);
    let too_long = "x".repeat(501);
    bob.post(&format!(
        r#"422["chat",{{"room":"lobby","text":"{too_long}"}}]"#
    ));
    bob.poll_until(|p| p.starts_with(r#"432[{"ok":false,"error":"bad text"#));
    // No name in the CONNECT payload: a guest name.
    cy.post(r#"42["join","lobby"]"#);
    cy.post(r#"428["chat",{"room":"lobby","text":"from cy"}]"#);
    cy.poll_until(|p| p == r#"438[{"ok":true,"delivered":2}]"#);
    let heard = bob.poll_until(|p| p.starts_with(r#"42["chat""#) && p.contains("from cy"));
    assert!(heard.contains(r#""from":"guest-"#), "{heard}");
    ann.poll_until(|p| p.starts_with(r#"42["chat""#) && p.contains("from cy"));

    let chats = |s: &SioPolling, text: &str| {
        s.received
            .iter()
            .filter(|p| p.starts_with(r#"42["chat""#) && p.contains(text))
            .count()
    };
    assert_eq!(chats(&ann, "hi 😀"), 0, "{:?}", ann.received);
    assert_eq!(chats(&bob, "hi 😀"), 1, "{:?}", bob.received);
    assert_eq!(chats(&cy, "hi 😀"), 0, "{:?}", cy.received);
    assert_eq!(chats(&cy, "psst") + chats(&bob, "psst"), 0);
    assert_eq!(chats(&ann, "xxxxx"), 0);
}

#[test]
fn reference_apps_keep_the_socketio_reference_app() {
    let s = start_with(&["--reference-apps"]);
    // The interop app: `socket.emit("auth", socket.handshake.auth)` on connection, and
    // `message-with-ack` answers with its arguments.
    let mut c = SioPolling::connect(s.port, r#"{"token":"t"}"#);
    c.poll_until(|p| p == r#"42["auth",{"token":"t"}]"#);
    c.post(r#"425["message-with-ack",1,"2"]"#);
    c.poll_until(|p| p == r#"435[1,"2"]"#);
    // Not the chat's `join`: the reference app acks with the bare rooms array.
    c.post(r#"426["join","lobby"]"#);
    c.poll_until(|p| p == r#"436[["lobby"]]"#);
}

/// A TLS client of `pushwire serve --tls-cert/--tls-key` with `alpn`, trusting only `cert`.
fn tls_client(
    port: u16,
    cert: &rcgen::CertifiedKey<rcgen::KeyPair>,
    alpn: &[u8],
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    #[allow(deprecated)] // ring, as the server (src/tls.rs says why)
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // Finish the handshake now (the server's first flight is read here).
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).unwrap();
    }
    tls
}

#[test]
fn a_tls_client_silent_after_its_handshake_is_let_go() {
    // Issue 18 (hostile neighbours): hyper's header timeout starts only once it has seen
    // bytes to choose HTTP/1.1 or HTTP/2 by, so a client that completed the TLS handshake
    // and then sent nothing held its connection for ever. The server now ends it after its
    // head timeout (10 s); a client that speaks is served as before.
    let dir = std::env::temp_dir().join(format!("pushwire-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let s = start_with(&[
        "--tls-cert",
        cert_pem.to_str().unwrap(),
        "--tls-key",
        key_pem.to_str().unwrap(),
    ]);
    // Silent at once (ALPN http/1.1, h2), and silent after the start of the HTTP/2 preface,
    // which hyper's version detection waits on without a bound too.
    for (alpn, first) in [
        (&b"http/1.1"[..], &b""[..]),
        (b"h2", b""),
        (b"h2", b"PRI * HTTP/2.0\r\n"),
    ] {
        let mut silent = tls_client(s.port, &cert, alpn);
        silent.write_all(first).unwrap();
        silent.flush().unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 256];
        // The server's end: EOF (or its close_notify), or a reset; never our 30 s read
        // timeout.
        let end = loop {
            match silent.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(_) => {} // h2: the server's SETTINGS frame
                Err(e) => break Err(e.kind()),
            }
        };
        assert!(
            !matches!(
                end,
                Err(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
            ),
            "{} {:?}: the silent client was never let go ({end:?} after {:?})",
            String::from_utf8_lossy(alpn),
            String::from_utf8_lossy(first),
            started.elapsed()
        );
    }
    // A client that speaks is served.
    let mut c = tls_client(s.port, &cert, b"http/1.1");
    c.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut resp = Vec::new();
    let _ = c.read_to_end(&mut resp);
    assert_eq!(status(&resp), 200, "{}", String::from_utf8_lossy(&resp));
    let _ = std::fs::remove_dir_all(&dir);
}
