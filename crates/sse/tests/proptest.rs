//! Properties: encode→parse is the identity on every event the encoder accepts, and any
//! chunking of any input gives the same items, errors and final state as feeding it whole.

mod common;

use common::{events, run, Feed};
use proptest::prelude::*;
use pushwire_sse::encode::{EncodeError, EventBuilder};
use pushwire_sse::{Config, Limits, Parser};

/// Characters that stress the format: line ends, NUL, BOM, the colon, spaces, astral and
/// multi-byte characters, plus anything.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '\r', '\n', '\0', '\u{FEFF}', ':', ' ', '😀', 'é', '\u{2028}', 'd', 'a', 't',
        ]),
        2 => any::<char>(),
        2 => prop::char::range('a', 'z'),
    ]
}

fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..max).prop_map(|v| v.into_iter().collect())
}

#[derive(Debug, Clone)]
struct Spec {
    data: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    comment: Option<String>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        prop::option::weighted(0.9, tricky_string(40)),
        prop::option::of(tricky_string(12)),
        prop::option::of(tricky_string(12)),
        prop::option::of(any::<u64>()),
        prop::option::of(tricky_string(12)),
    )
        .prop_map(|(data, event, id, retry, comment)| Spec {
            data,
            event,
            id,
            retry,
            comment,
        })
}

/// What a browser sees as the data: line ends normalised to LF.
fn normalise(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_parse_is_identity(specs in prop::collection::vec(spec(), 0..8)) {
        let mut wire = bytes::BytesMut::new();
        let mut expected = Vec::new();
        let mut last_id = String::new();
        let mut last_retry = None;
        for s in &specs {
            let mut ev = EventBuilder::new();
            if let Some(d) = &s.data { ev = ev.data(d); }
            if let Some(c) = &s.comment { ev = ev.comment(c); }
            if let Some(r) = s.retry { ev = ev.retry(r); }
            if let Some(t) = &s.event {
                match ev.event(t) {
                    Ok(e) => ev = e,
                    Err(e) => {
                        prop_assert!(t.contains(['\r', '\n']));
                        prop_assert_eq!(e, EncodeError::EventTypeHasNewline);
                        continue;
                    }
                }
            }
            if let Some(i) = &s.id {
                match ev.id(i) {
                    Ok(e) => ev = e,
                    Err(e) => {
                        prop_assert!(i.contains(['\r', '\n', '\0']));
                        prop_assert!(matches!(e, EncodeError::IdHasNewline | EncodeError::IdHasNul));
                        continue;
                    }
                }
            }
            let before = wire.len();
            ev.encode(&mut wire);
            prop_assert_eq!(wire.len() - before, ev.encoded_len());
            if let Some(i) = &s.id { last_id = i.clone(); }
            if let Some(r) = s.retry { last_retry = Some(r); }
            if let Some(d) = &s.data {
                let t = match s.event.as_deref() { None | Some("") => "message", Some(t) => t };
                expected.push((t.to_string(), normalise(d), last_id.clone()));
            }
        }
        // Whole, and byte by byte: the encoder's output is read back exactly.
        let o = run(&[&wire], Feed::Borrowed, Limits::default(), false);
        prop_assert_eq!(&events(&o), &expected);
        prop_assert!(o.items.iter().all(|i| i.is_ok()));
        prop_assert_eq!(&o.last_event_id, &last_id);
        prop_assert_eq!(o.retry, last_retry);
        let o2 = common::bytewise(&wire, Feed::Mixed, Limits::default());
        prop_assert_eq!(&events(&o2), &expected);
    }

    #[test]
    fn any_chunking_gives_the_same_outcome(
        input in stream_bytes(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        small_limits in any::<bool>(),
        feed_kind in 0u8..3,
    ) {
        let limits = if small_limits {
            let mut l = Limits::default();
            l.max_line_len = 12;
            l.max_event_size = 24;
            l
        } else {
            Limits::default()
        };
        let feed = match feed_kind { 0 => Feed::Borrowed, 1 => Feed::Owned, _ => Feed::Mixed };
        let whole = run(&[&input], Feed::Borrowed, limits, true);
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut at = 0;
        for p in points {
            chunks.push(&input[at..p]);
            at = p;
        }
        chunks.push(&input[at..]);
        prop_assert_eq!(&run(&chunks, feed, limits, true), &whole);
        prop_assert_eq!(&common::bytewise(&input, feed, limits), &whole);
    }

    /// Invalid UTF-8 is replaced exactly as std's lossy decoder (which follows the same
    /// "maximal subpart" practice as the WHATWG UTF-8 decoder) does, however the bytes are
    /// split.
    #[test]
    fn data_is_decoded_like_from_utf8_lossy(
        value in prop::collection::vec(
            prop_oneof![any::<u8>(), prop::sample::select(vec![0xE2u8, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xC3, 0xA9])],
            0..64,
        ),
        cut in any::<prop::sample::Index>(),
    ) {
        let value: Vec<u8> = value.into_iter().filter(|b| *b != b'\r' && *b != b'\n').collect();
        let mut input = b"data: ".to_vec();
        input.extend_from_slice(&value);
        input.extend_from_slice(b"\n\n");
        let expected = String::from_utf8_lossy(&value).into_owned();
        let at = cut.index(input.len() + 1);
        for feed in [Feed::Borrowed, Feed::Owned] {
            let o = run(&[&input[..at], &input[at..]], feed, Limits::default(), false);
            prop_assert_eq!(events(&o), vec![("message".to_string(), expected.clone(), String::new())]);
            let o = common::bytewise(&input, feed, Limits::default());
            prop_assert_eq!(events(&o), vec![("message".to_string(), expected.clone(), String::new())]);
        }
    }

    /// The borrowed events are the owned events.
    #[test]
    fn borrowed_and_owned_events_agree(
        input in stream_bytes(),
        chunk in 1usize..64,
        feed_bytes in any::<bool>(),
    ) {
        let mut owned = Parser::new();
        let mut borrowed = Parser::new();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for c in input.chunks(chunk) {
            if feed_bytes {
                owned.feed_bytes(bytes::Bytes::copy_from_slice(c)).unwrap();
                borrowed.feed_bytes(bytes::Bytes::copy_from_slice(c)).unwrap();
            } else {
                owned.feed(c).unwrap();
                borrowed.feed(c).unwrap();
            }
            while let Some(e) = owned.poll_event().unwrap() {
                a.push(e);
            }
            while let Some(e) = borrowed.poll_event_ref().unwrap() {
                b.push(e.to_event());
            }
        }
        prop_assert_eq!(a, b);
        prop_assert_eq!(owned.last_event_id(), borrowed.last_event_id());
    }

    #[test]
    fn never_panics_and_stays_bounded(input in prop::collection::vec(any::<u8>(), 0..512)) {
        let l = Limits::DEFAULT
            .with_max_line_len(16)
            .with_max_event_size(40)
            .with_max_buffered_input(64);
        let mut p = Parser::with_config(Config::DEFAULT.with_limits(l).with_comments(true));
        for chunk in input.chunks(7) {
            // Feeding may be refused when more than 64 bytes are unprocessed; polling frees it.
            while p.feed(chunk).is_err() {
                match p.poll() {
                    Ok(Some(_)) => {}
                    Ok(None) => prop_assert!(false, "refused with nothing to poll"),
                    Err(_) => p.resync(),
                }
            }
            loop {
                match p.poll() {
                    Ok(Some(pushwire_sse::Item::Event(e))) => prop_assert!(e.data().len() <= 40),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => p.resync(),
                }
                prop_assert!(p.buffered() <= 64);
            }
        }
    }
}

/// Byte streams made of SSE-shaped pieces: field names, separators, line ends, a BOM,
/// invalid UTF-8, NUL, digits and text.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            &b"data"[..],
            b"data:",
            b"data: ",
            b"event: ",
            b"id: ",
            b"id",
            b"retry: ",
            b"retry:",
            b":",
            b": c",
            b" ",
            b"\r",
            b"\n",
            b"\r\n",
            b"\n\n",
            b"\xEF\xBB\xBF",
            b"\xEF\xBB",
            b"\xF0\x9F\x98",
            b"\xFF",
            b"\0",
            b"123",
            b"x",
            b"hello world",
        ])
        .prop_map(|s| s.to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}
