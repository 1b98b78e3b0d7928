//! Serves events written by pushwire-sse's encoder to a real browser, for the interop suite
//! (`tests/interop/browser/sse-browser.js`, run by `cargo xtask interop`).
//!
//! ```text
//! cargo run -p pushwire-sse --example browser_check -- 8090
//! ```
//!
//! * `GET /` — a page that opens an `EventSource` on `/events` and records every event's
//!   type, data and `lastEventId` in `window.result`.
//! * `GET /expected` — what a conforming browser must report, as JSON. It is derived from the
//!   event *specifications* below by the standard's rules (line ends become LF, an empty or
//!   absent type is `message`, the last id persists until changed), never by our parser.
//! * `GET /events` — the stream: response headers and 2 KiB padding from
//!   `pushwire_sse::server`, then every event encoded by `pushwire_sse::EventBuilder`.
//!
//! And a differential check of the *parser* against the browser, on hostile raw streams:
//!
//! * `GET /corpus` — the page that reads every corpus stream in turn with an `EventSource`.
//! * `GET /corpus/N/stream` — corpus stream N, written in its pieces with a flush and a pause
//!   between them, so that the browser sees each awkward split (inside a CRLF, a BOM, a UTF-8
//!   sequence) as a separate read.
//! * `GET /corpus/N/expected` — pushwire-sse's parse of the same bytes. The browser's events
//!   must equal it, event by event.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use pushwire_sse::EventBuilder;
use pushwire_sse::{server, Parser};

/// One event to send: (event type, id, data, comment, retry).
struct Spec {
    event: Option<&'static str>,
    id: Option<String>,
    data: String,
    comment: Option<&'static str>,
    retry: Option<u64>,
}

fn spec(data: &str) -> Spec {
    Spec {
        event: None,
        id: None,
        data: data.to_string(),
        comment: None,
        retry: None,
    }
}

fn specs() -> Vec<Spec> {
    let mut v = vec![
        spec("hello"),
        spec("line1\nline2"),
        spec("a\r\nb\rc\r\n\r\nd"),
        spec(""),
        spec("\n"),
        spec("\r"),
        spec(" leading space"),
        spec("  two leading spaces"),
        spec("nul\u{0}inside"),
        spec("\u{FEFF}bom at the start of a data line"),
        spec("astral 😀, accents é, separators \u{2028}\u{2029}"),
        spec("trailing newline\n"),
        spec("colon: inside : data:"),
        spec("data: looks like a field\nid: 99\nevent: fake"),
        spec(&"x".repeat(70_000)),
    ];
    v.push(Spec {
        event: Some("custom"),
        ..spec("typed")
    });
    v.push(Spec {
        event: Some(" spaced type"),
        ..spec("type with a leading space")
    });
    v.push(Spec {
        event: Some("message"),
        ..spec("explicit message type")
    });
    v.push(Spec {
        id: Some("42".into()),
        ..spec("with id")
    });
    v.push(spec("no id: keeps the previous one"));
    v.push(Spec {
        id: Some(" 7 with spaces ".into()),
        ..spec("id with spaces")
    });
    v.push(Spec {
        id: Some("ünï😀".into()),
        ..spec("unicode id")
    });
    v.push(Spec {
        id: Some(String::new()),
        ..spec("empty id resets")
    });
    v.push(Spec {
        comment: Some("a comment\nover two lines"),
        ..spec("after a comment")
    });
    v.push(Spec {
        retry: Some(10_000),
        ..spec("with retry")
    });
    v.push(Spec {
        event: Some("end"),
        ..spec("done")
    });
    v
}

/// What the standard says a browser reports for `specs`, in order.
fn expected(specs: &[Spec]) -> Vec<(String, String, String)> {
    let mut last_id = String::new();
    specs
        .iter()
        .map(|s| {
            if let Some(id) = &s.id {
                last_id = id.clone();
            }
            let t = match s.event {
                None | Some("") => "message",
                Some(t) => t,
            };
            let data = s.data.replace("\r\n", "\n").replace('\r', "\n");
            (t.to_string(), data, last_id.clone())
        })
        .collect()
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn expected_json() -> String {
    events_json(&expected(&specs()))
}

fn events_json(events: &[(String, String, String)]) -> String {
    let mut out = String::from("[");
    for (i, (t, d, id)) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"type\":");
        json_string(t, &mut out);
        out.push_str(",\"data\":");
        json_string(d, &mut out);
        out.push_str(",\"lastEventId\":");
        json_string(id, &mut out);
        out.push('}');
    }
    out.push(']');
    out
}

fn event_stream() -> BytesMut {
    let mut out = BytesMut::new();
    out.extend_from_slice(server::PADDING);
    for s in &specs() {
        let mut ev = EventBuilder::new().data(&s.data);
        if let Some(t) = s.event {
            ev = ev.event(t).expect("no CR/LF in the test types");
        }
        if let Some(id) = &s.id {
            ev = ev.id(id).expect("no CR/LF/NUL in the test ids");
        }
        if let Some(c) = s.comment {
            ev = ev.comment(c);
        }
        if let Some(r) = s.retry {
            ev = ev.retry(r);
        }
        ev.encode(&mut out);
    }
    out
}

/// Raw streams that stress the parser, each as the pieces it is written in. Every stream ends
/// with an `end` event (part of the bytes both sides parse) so the page knows it is over.
fn corpus() -> Vec<Vec<&'static [u8]>> {
    let end: &'static [u8] = b"\n\nevent: end\ndata: end\n\n";
    let mut c: Vec<Vec<&'static [u8]>> = vec![
        // CRLF split between reads, at every position of a line end and a blank line.
        vec![b"data: a\r", b"\ndata: b\r\n", b"\r", b"\n"],
        vec![b"data: a\r\n\r", b"\ndata: b\r", b"\r\n"],
        // CR alone, LF then CR, CR then CRLF.
        vec![b"data: a\rdata: b\r\rdata: c\n\rdata: d\r\r\n"],
        // A BOM split into its three bytes; a second BOM (not removed); EF BB without BF.
        vec![b"\xEF", b"\xBB", b"\xBF", b"data: after bom\n\n"],
        vec![b"\xEF\xBB\xBF\xEF\xBB\xBFdata: hidden\n\ndata: seen\n\n"],
        vec![b"\xEF\xBB", b"data: not a bom\n\ndata: ok\n\n"],
        // Invalid UTF-8, truncated sequences before a line end, a code point split over reads.
        vec![b"data: a\xFFb\xC3\n\ndata: \xE2\x82\ndata: \xF0\x9F\x98\n\n"],
        vec![b"data: \xF0\x9F", b"\x98", b"\x80 \xC3", b"\xA9\n\n"],
        vec![b"data: \xED\xA0\x80 surrogate \xC0\xAF overlong \xF4\x90\x80\x80 too big\n\n"],
        // NUL in an id is ignored; NUL in data is kept; ids persist and reset.
        vec![b"id: 1\ndata: a\n\nid: 2\x003\ndata: nul id\n\ndata: nul\x00data\n\n"],
        vec![b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: \xC3\xA9\xFF\ndata: d\n\n"],
        // retry forms (valid, invalid, empty) must not disturb events.
        vec![b"retry: 1000\nretry: abc\nretry:\nretry: 12 3\ndata: r\n\n"],
        // Fields: no colon, case, unknown, spaces, colons in values, comments.
        vec![b"data\n\ndata\ndata\n\ndata:\n\n"],
        vec![b"Data: x\nDATA: y\nfoo: bar\ndata : z\n: comment\ndata:ok\n\n"],
        vec![b"data:  two spaces\ndata:\tTab\ndata: a:b: c\n\n"],
        // Event type set, reset by an empty data block, empty type.
        vec![b"event: x\n\ndata: y\n\nevent: x\ndata: typed\n\nevent:\ndata: empty type\n\n"],
        // A long line split into many pieces.
        vec![b"data: ", &[b'L'; 5000], &[b'M'; 5000], b"\n\n"],
        // An unterminated event right before the end marker's line ends.
        vec![b"data: unterminated"],
    ];
    for item in &mut c {
        item.push(end);
    }
    c
}

/// pushwire-sse's events for a corpus stream, as JSON `[{type, data, lastEventId}]`.
fn corpus_expected(pieces: &[&[u8]]) -> String {
    let mut p = Parser::new();
    let mut events = Vec::new();
    for piece in pieces {
        p.feed(piece).expect("within limits");
        while let Some(e) = p.poll_event().expect("within limits") {
            events.push((
                e.event_type().to_string(),
                e.data().to_string(),
                e.last_event_id().to_string(),
            ));
        }
    }
    events_json(&events)
}

const CORPUS_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>pushwire-sse parser vs EventSource</title>
<pre id="log">running</pre>
<script>
function read(n, types) {
  return new Promise(resolve => {
    const got = [];
    const es = new EventSource(`/corpus/${n}/stream`);
    const timer = setTimeout(() => { es.close(); resolve({ got, timeout: true }); }, 10000);
    for (const t of types) {
      es.addEventListener(t, ev => {
        got.push({ type: ev.type, data: ev.data, lastEventId: ev.lastEventId });
        if (ev.type === 'end') { clearTimeout(timer); es.close(); resolve({ got }); }
      });
    }
  });
}
(async () => {
  const count = await (await fetch('/corpus/count')).json();
  const results = [];
  for (let n = 0; n < count; n++) {
    const expected = await (await fetch(`/corpus/${n}/expected`)).json();
    const types = [...new Set(['message', 'end', 'x', ...expected.map(e => e.type)])];
    const { got, timeout } = await read(n, types);
    results.push({ n, expected, got, timeout: !!timeout });
  }
  window.corpusResult = results;
  document.getElementById('log').textContent = 'done';
})();
</script>
"#;

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>pushwire-sse browser check</title>
<pre id="log">running</pre>
<script>
(async () => {
  const expected = await (await fetch('/expected')).json();
  const types = [...new Set(expected.map(e => e.type))];
  const got = [];
  const es = new EventSource('/events');
  for (const t of types) {
    es.addEventListener(t, ev => {
      got.push({ type: ev.type, data: ev.data, lastEventId: ev.lastEventId });
      if (ev.type === 'end') {
        es.close();
        window.result = { expected, got };
        document.getElementById('log').textContent = 'done: ' + got.length + ' events';
      }
    });
  }
  es.onerror = () => { if (!window.result) window.error = 'EventSource error'; };
})();
</script>
"#;

fn main() -> io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(8090);
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    eprintln!("browser_check listening on http://127.0.0.1:{port}/");
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            if let Err(e) = handle(stream) {
                eprintln!("connection: {e}");
            }
        });
    }
    Ok(())
}

fn handle(mut stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    match path.as_str() {
        "/" => respond(&mut stream, "text/html; charset=utf-8", PAGE.as_bytes()),
        "/expected" => respond(&mut stream, "application/json", expected_json().as_bytes()),
        "/events" => {
            let mut head = String::from("HTTP/1.1 200 OK\r\n");
            for (k, v) in server::RESPONSE_HEADERS {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("Connection: close\r\n\r\n");
            stream.write_all(head.as_bytes())?;
            // Write in uneven pieces so the browser sees events split across reads.
            let body = event_stream();
            for piece in body.chunks(997) {
                stream.write_all(piece)?;
                stream.flush()?;
            }
            // Hold the stream open so the browser does not reconnect before it has read all.
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        }
        "/corpus" => respond(
            &mut stream,
            "text/html; charset=utf-8",
            CORPUS_PAGE.as_bytes(),
        ),
        "/corpus/count" => respond(
            &mut stream,
            "application/json",
            corpus().len().to_string().as_bytes(),
        ),
        p if p.starts_with("/corpus/") => {
            let mut parts = p["/corpus/".len()..].split('/');
            let n: Option<usize> = parts.next().and_then(|n| n.parse().ok());
            let corpus = corpus();
            match (n.and_then(|n| corpus.get(n)), parts.next()) {
                (Some(pieces), Some("expected")) => respond(
                    &mut stream,
                    "application/json",
                    corpus_expected(pieces).as_bytes(),
                ),
                (Some(pieces), Some("stream")) => {
                    let mut head = String::from("HTTP/1.1 200 OK\r\n");
                    for (k, v) in server::RESPONSE_HEADERS {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("Connection: close\r\n\r\n");
                    stream.write_all(head.as_bytes())?;
                    stream.flush()?;
                    for piece in pieces {
                        stream.write_all(piece)?;
                        stream.flush()?;
                        std::thread::sleep(Duration::from_millis(30));
                    }
                    std::thread::sleep(Duration::from_secs(3));
                    Ok(())
                }
                _ => respond(&mut stream, "text/plain", b"not found\n"),
            }
        }
        _ => respond(&mut stream, "text/plain", b"not found\n"),
    }
}

fn respond(stream: &mut TcpStream, ctype: &str, body: &[u8]) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}
