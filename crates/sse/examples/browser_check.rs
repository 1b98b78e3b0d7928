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
//!   `pushwire_sse::server`, then every event encoded by `pushwire_sse::encode::Event`.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use pushwire_sse::encode::Event;
use pushwire_sse::server;

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
    let mut out = String::from("[");
    for (i, (t, d, id)) in expected(&specs()).iter().enumerate() {
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
        let mut ev = Event::new().data(&s.data);
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
