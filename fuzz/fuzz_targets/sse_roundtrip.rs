//! Encodes arbitrary events and parses the bytes back.
//! Oracle: the encoder refuses exactly the values that cannot be written (CR/LF in `event`
//! or `id`, NUL in `id`), and every accepted event is parsed back as exactly that event
//! (data with line ends normalised to LF, empty type = `message`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pushwire_sse::EventBuilder;
use pushwire_sse::Parser;

#[derive(Debug, Arbitrary)]
struct Spec {
    data: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    comment: Option<String>,
}

fuzz_target!(|specs: Vec<Spec>| {
    let mut wire = bytes::BytesMut::new();
    let mut expected = Vec::new();
    let mut last_id = String::new();
    for s in &specs {
        let mut ev = EventBuilder::new();
        if let Some(d) = &s.data {
            ev = ev.data(d);
        }
        if let Some(c) = &s.comment {
            ev = ev.comment(c);
        }
        if let Some(r) = s.retry {
            ev = ev.retry(r);
        }
        if let Some(t) = &s.event {
            match ev.event(t) {
                Ok(e) => ev = e,
                Err(_) => {
                    assert!(t.contains(['\r', '\n']));
                    continue;
                }
            }
        }
        if let Some(i) = &s.id {
            match ev.id(i) {
                Ok(e) => ev = e,
                Err(_) => {
                    assert!(i.contains(['\r', '\n', '\0']));
                    continue;
                }
            }
        }
        ev.encode(&mut wire);
        if let Some(i) = &s.id {
            last_id = i.clone();
        }
        if let Some(d) = &s.data {
            let t = match s.event.as_deref() {
                None | Some("") => "message",
                Some(t) => t,
            };
            let d = d.replace("\r\n", "\n").replace('\r', "\n");
            expected.push((t.to_string(), d, last_id.clone()));
        }
    }
    let mut p = Parser::new();
    p.feed(&wire).unwrap();
    p.feed_eof();
    let mut got = Vec::new();
    while let Some(e) = p.poll_event().unwrap() {
        got.push((
            e.event_type().to_string(),
            e.data().to_string(),
            e.last_event_id().to_string(),
        ));
    }
    assert_eq!(got, expected);
    assert_eq!(p.last_event_id(), last_id);
});
