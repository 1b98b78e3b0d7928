//! The WHATWG examples and one test per parsing rule. Every input goes through `tr`, which
//! also checks that all chunkings give the same result.

mod common;

use common::{ev, events, run, tr, Feed};
use pushwire_sse::{Config, Event, FeedError, Item, Limits, ParseError, Parser};

// --- The examples of WHATWG HTML §9.2.6 -----------------------------------------------

#[test]
fn spec_example_stocks() {
    let o = tr(b"data: YHOO\ndata: +2\ndata: 10\n\n");
    assert_eq!(events(&o), vec![ev("message", "YHOO\n+2\n10", "")]);
}

#[test]
fn spec_example_four_blocks() {
    let stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n";
    let o = tr(stream);
    // "the last still has to end with a blank line, the end of the stream is not enough to
    // trigger the dispatch of the last event."
    assert_eq!(
        events(&o),
        vec![
            ev("message", "first event", "1"),
            ev("message", "second event", "")
        ]
    );
    assert_eq!(o.last_event_id, "");

    let mut terminated = stream.to_vec();
    terminated.push(b'\n');
    let o = tr(&terminated);
    assert_eq!(
        events(&o),
        vec![
            ev("message", "first event", "1"),
            ev("message", "second event", ""),
            ev("message", " third event", ""),
        ]
    );
}

#[test]
fn spec_example_empty_data() {
    // "The first block fires events with the data set to the empty string, as would the last
    // block if it was followed by a blank line. The middle block fires an event with the data
    // set to a single newline character. The last block is discarded"
    let o = tr(b"data\n\ndata\ndata\n\ndata:");
    assert_eq!(
        events(&o),
        vec![ev("message", "", ""), ev("message", "\n", "")]
    );
}

#[test]
fn spec_example_space_after_colon() {
    // "The following stream fires two identical events" (once terminated).
    let o = tr(b"data:test\n\ndata: test\n\n");
    assert_eq!(
        events(&o),
        vec![ev("message", "test", ""), ev("message", "test", "")]
    );
}

/// Seed 000's moving-box stream: `id: x,y` and `data: x,y`, with a retry and keep-alives.
#[test]
fn seed_box_stream() {
    let o = tr(b"retry: 2000\n: keep-alive\nid: 10,20\ndata: 10,20\n\nid: 11,20\ndata: 11,20\n\n: keep-alive\n\nid: 11,21\ndata: 11,21\n\n");
    assert_eq!(
        events(&o),
        vec![
            ev("message", "10,20", "10,20"),
            ev("message", "11,20", "11,20"),
            ev("message", "11,21", "11,21"),
        ]
    );
    assert_eq!(o.retry, Some(2000));
    assert_eq!(o.last_event_id, "11,21");
}

// --- Line ends ----------------------------------------------------------------------

#[test]
fn line_ends_crlf_lf_cr() {
    for stream in [
        &b"data: a\r\ndata: b\r\n\r\n"[..],
        b"data: a\ndata: b\n\n",
        b"data: a\rdata: b\r\r",
        b"data: a\r\ndata: b\r\r",
        b"data: a\rdata: b\n\r\n",
    ] {
        let o = tr(stream);
        assert_eq!(events(&o), vec![ev("message", "a\nb", "")], "{stream:?}");
    }
}

#[test]
fn crlf_split_across_feeds_is_one_line_end() {
    // The bug users hit in other parsers: CR at the end of one read, LF at the start of the
    // next, must not produce an extra blank line (and so an extra dispatch).
    for feed in [Feed::Borrowed, Feed::Owned, Feed::Mixed] {
        let o = run(
            &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
            feed,
            Limits::default(),
            false,
        );
        assert_eq!(events(&o), vec![ev("message", "a\nb", "")]);
    }
}

#[test]
fn cr_alone_dispatches_without_waiting_for_more() {
    let mut p = Parser::new();
    p.feed(b"data: x\r\r").unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "x");
    // The next byte decides nothing about the previous line.
    p.feed(b"\ndata: y\n\n").unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "y");
}

#[test]
fn lf_cr_is_two_line_ends() {
    // LF then CR: "a single U+000D CARRIAGE RETURN (CR) character not followed by a U+000A
    // LINE FEED (LF) character" — the CR ends an empty line, so this dispatches.
    let o = tr(b"data: x\n\rdata: y\n\n");
    assert_eq!(
        events(&o),
        vec![ev("message", "x", ""), ev("message", "y", "")]
    );
}

// --- Byte order mark and UTF-8 --------------------------------------------------------

#[test]
fn one_leading_bom_is_removed() {
    let o = tr(b"\xEF\xBB\xBFdata: x\n\n");
    assert_eq!(events(&o), vec![ev("message", "x", "")]);
}

#[test]
fn bom_before_a_field_name_would_otherwise_hide_it() {
    // Without BOM removal the first field name would be "\u{FEFF}data" and be ignored.
    let o = tr(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n");
    // Only one BOM is removed: the second makes the first field unknown.
    assert_eq!(events(&o), vec![ev("message", "y", "")]);
}

#[test]
fn later_bom_is_data() {
    let o = tr("data: \u{FEFF}x\n\n".as_bytes());
    assert_eq!(events(&o), vec![ev("message", "\u{FEFF}x", "")]);
}

#[test]
fn partial_bom_prefix_then_other_bytes() {
    // EF BB followed by something else is not a BOM: the bytes are data of a field name.
    let o = tr(b"\xEF\xBBdata: x\n\ndata: y\n\n");
    assert_eq!(events(&o), vec![ev("message", "y", "")]);
    let o = tr(b"\xEF");
    assert!(o.items.is_empty());
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    // Maximal subparts: F0 9F 98 (a truncated 4-byte sequence) is one U+FFFD; FF is one.
    let o = tr(b"data: a\xF0\x9F\x98b\xFFc\n\n");
    assert_eq!(events(&o), vec![ev("message", "a\u{FFFD}b\u{FFFD}c", "")]);
}

#[test]
fn code_point_split_across_feeds() {
    let bytes = "data: 😀é\n\n".as_bytes();
    for feed in [Feed::Borrowed, Feed::Owned, Feed::Mixed] {
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        let o = run(&chunks, feed, Limits::default(), false);
        assert_eq!(events(&o), vec![ev("message", "😀é", "")]);
    }
}

#[test]
fn truncated_sequence_before_line_end() {
    let o = tr(b"data: \xE2\x82\ndata: \xE2\x82\xAC\n\n");
    assert_eq!(events(&o), vec![ev("message", "\u{FFFD}\n€", "")]);
}

// --- Fields -------------------------------------------------------------------------

#[test]
fn field_value_split_at_first_colon_and_one_space_removed() {
    let o = tr(b"data:  a: b:c\n\n");
    assert_eq!(events(&o), vec![ev("message", " a: b:c", "")]);
}

#[test]
fn line_without_colon_is_a_field_with_empty_value() {
    let o = tr(b"data\ndata\n\n");
    assert_eq!(events(&o), vec![ev("message", "\n", "")]);
}

#[test]
fn field_names_are_case_sensitive_and_unknown_fields_ignored() {
    let o = tr(b"Data: x\nDATA: y\nfoo: bar\ndata : z\ndata: ok\n\n");
    assert_eq!(events(&o), vec![ev("message", "ok", "")]);
}

#[test]
fn comments_are_ignored_or_returned_on_request() {
    let o = tr(b":\n: hello\n:  two spaces\ndata: x\n\n");
    assert_eq!(
        o.items,
        vec![
            Ok(Item::Comment(String::new())),
            Ok(Item::Comment("hello".into())),
            Ok(Item::Comment(" two spaces".into())),
            Ok(Item::Event(Event::new("message", "x", ""))),
        ]
    );
    let o = run(
        &[b": hello\ndata: x\n\n"],
        Feed::Borrowed,
        Limits::default(),
        false,
    );
    assert_eq!(
        o.items,
        vec![Ok(Item::Event(Event::new("message", "x", "")))]
    );
}

#[test]
fn event_type_is_set_and_reset() {
    let o = tr(b"event: add\ndata: 1\n\ndata: 2\n\nevent: add\nevent: remove\ndata: 3\n\nevent:\ndata: 4\n\n");
    assert_eq!(
        events(&o),
        vec![
            ev("add", "1", ""),
            ev("message", "2", ""),
            ev("remove", "3", ""),
            ev("message", "4", ""),
        ]
    );
}

#[test]
fn event_type_reset_even_when_nothing_is_dispatched() {
    // "If the data buffer is an empty string, set the data buffer and the event type buffer
    // to the empty string and return."
    let o = tr(b"event: add\n\ndata: x\n\n");
    assert_eq!(events(&o), vec![ev("message", "x", "")]);
}

#[test]
fn repeated_event_types_and_ids() {
    // The parser recognises a repeated event type without copying it again, and keeps the
    // last event ID and the last event ID buffer in two strings it swaps: the same values
    // again and again, in every order, must still read as the standard says.
    let o = tr(
        b"event: add\ndata: 1\n\nevent: add\ndata: 2\n\ndata: 3\n\nevent: add\n\n\
                 event: add\ndata: 4\n\nevent: ad\ndata: 5\n\nevent: add\ndata: 6\n\n",
    );
    assert_eq!(
        events(&o),
        vec![
            ev("add", "1", ""),
            ev("add", "2", ""),
            ev("message", "3", ""),
            ev("add", "4", ""),
            ev("ad", "5", ""),
            ev("add", "6", ""),
        ]
    );
    let o = tr(
        b"id: 1\ndata: a\n\nid: 2\nid: 3\ndata: b\n\nid: 3\ndata: c\n\nid: 1\n\ndata: d\n\nid: 4\n",
    );
    assert_eq!(
        events(&o),
        vec![
            ev("message", "a", "1"),
            ev("message", "b", "3"),
            ev("message", "c", "3"),
            ev("message", "d", "1"),
        ]
    );
    // The `id: 4` line was never followed by a blank line.
    assert_eq!(o.last_event_id, "1");
}

#[test]
fn last_event_id_persists_until_changed() {
    let o = tr(b"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\nid\ndata: d\n\n");
    assert_eq!(
        events(&o),
        vec![
            ev("message", "a", "1"),
            ev("message", "b", "1"),
            ev("message", "c", "2"),
            ev("message", "d", ""),
        ]
    );
}

#[test]
fn id_with_nul_is_ignored() {
    let o = tr(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n");
    assert_eq!(
        events(&o),
        vec![ev("message", "a", "1"), ev("message", "b", "1")]
    );
}

#[test]
fn id_without_data_sets_last_event_id_at_blank_line() {
    // Step 1 of dispatch runs before the empty-data check.
    let o = tr(b"id: 5\n\n");
    assert!(events(&o).is_empty());
    assert_eq!(o.last_event_id, "5");
}

#[test]
fn unterminated_id_at_eof_is_not_committed() {
    let o = tr(b"id: 1\ndata: a\n\nid: 2\ndata: b\n");
    assert_eq!(events(&o), vec![ev("message", "a", "1")]);
    assert_eq!(o.last_event_id, "1");
}

#[test]
fn retry_only_when_all_ascii_digits() {
    let o = tr(b"retry: 1000\nretry: 12a\nretry: -5\nretry:\nretry: \nretry: 1 000\nretry:  7\n");
    assert_eq!(o.items, vec![Ok(Item::Retry(1000))]);
    assert_eq!(o.retry, Some(1000));
    let o = tr(b"retry:0500\n");
    assert_eq!(o.retry, Some(500));
    let o = tr(b"retry: 99999999999999999999999\n");
    assert_eq!(o.retry, Some(u64::MAX));
}

#[test]
fn data_trailing_lf_removed_once() {
    let o = tr(b"data: a\ndata:\n\n");
    assert_eq!(events(&o), vec![ev("message", "a\n", "")]);
}

#[test]
fn unterminated_event_discarded_at_eof() {
    let o = tr(b"data: a\n\ndata: b\n");
    assert_eq!(events(&o), vec![ev("message", "a", "")]);
    let o = tr(b"data: a\n\ndata: b");
    assert_eq!(events(&o), vec![ev("message", "a", "")]);
}

#[test]
fn empty_stream() {
    let o = tr(b"");
    assert!(o.items.is_empty());
    let o = tr(b"\n\n\r\n\r");
    assert!(o.items.is_empty());
}

// --- Limits and errors ----------------------------------------------------------------

fn small() -> Limits {
    Limits::DEFAULT
        .with_max_line_len(16)
        .with_max_event_size(32)
        .with_max_buffered_input(64)
}

fn small_parser() -> Parser {
    Parser::with_config(Config::DEFAULT.with_limits(small()))
}

fn all_chunkings(input: &[u8], limits: Limits) -> common::Outcome {
    let expected = run(&[input], Feed::Borrowed, limits, true);
    for feed in [Feed::Borrowed, Feed::Owned, Feed::Mixed] {
        assert_eq!(common::bytewise(input, feed, limits), expected, "{feed:?}");
    }
    for at in 0..=input.len() {
        let (a, b) = input.split_at(at);
        for feed in [Feed::Borrowed, Feed::Owned, Feed::Mixed] {
            assert_eq!(
                run(&[a, b], feed, limits, true),
                expected,
                "split at {at} {feed:?}"
            );
        }
    }
    expected
}

#[test]
fn line_too_long_keeps_earlier_events_and_resyncs_at_blank_line() {
    let input = b"data: ok\n\ndata: 0123456789abcdef\ndata: lost\n\ndata: after\n\n";
    let o = all_chunkings(input, small());
    assert_eq!(
        o.items,
        vec![
            Ok(Item::Event(Event::new("message", "ok", ""))),
            Err(ParseError::LineTooLong { limit: 16 }),
            Ok(Item::Event(Event::new("message", "after", ""))),
        ]
    );
}

#[test]
fn over_long_line_whose_end_is_a_blank_looking_line() {
    // The over-long line ends with CRLF right after the cut: that line end finishes the
    // long line, it is not a blank line; the blank line after it is the resync point.
    let input = b"data: 0123456789abcdefgh\r\n\r\ndata: x\n\n";
    let o = all_chunkings(input, small());
    assert_eq!(
        o.items,
        vec![
            Err(ParseError::LineTooLong { limit: 16 }),
            Ok(Item::Event(Event::new("message", "x", ""))),
        ]
    );
}

#[test]
fn event_too_large() {
    let input = b"data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\ndata: y\n\n";
    let o = all_chunkings(input, small());
    assert_eq!(
        o.items,
        vec![
            Err(ParseError::EventTooLarge { limit: 32 }),
            Ok(Item::Event(Event::new("message", "y", ""))),
        ]
    );
}

#[test]
fn error_is_sticky_until_resync() {
    let mut p = small_parser();
    p.feed(b"data: 0123456789abcdefXYZ\n\ndata: z\n\n").unwrap();
    let e = ParseError::LineTooLong { limit: 16 };
    assert_eq!(p.poll(), Err(e));
    assert_eq!(p.poll(), Err(e));
    assert_eq!(p.error(), Some(&e));
    p.resync();
    assert_eq!(p.error(), None);
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "z");
}

#[test]
fn a_line_that_never_ends_is_cut_without_holding_it() {
    let mut p = small_parser();
    p.feed(b"data: aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
    assert_eq!(p.poll(), Err(ParseError::LineTooLong { limit: 16 }));
    assert_eq!(p.buffered(), 0, "the cut line's bytes are dropped");
    p.resync();
    for _ in 0..100 {
        p.feed(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        assert_eq!(p.poll(), Ok(None));
        assert_eq!(p.buffered(), 0, "skipping holds nothing");
    }
    p.feed(b"\n\ndata: back\n\n").unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "back");
}

#[test]
fn feed_refuses_beyond_max_buffered_without_consuming() {
    let mut p = small_parser();
    p.feed(&[b'x'; 10]).unwrap();
    assert_eq!(
        p.feed(&[b'\n'; 60]),
        Err(FeedError::BufferFull {
            buffered: 10,
            len: 60,
            limit: 64
        })
    );
    assert_eq!(p.buffered(), 10);
    p.feed(b"\n\n").unwrap();
    assert_eq!(p.poll(), Ok(None));
    assert_eq!(p.buffered(), 0);
}

#[test]
fn feeding_far_past_the_bound_is_refused_exactly_and_loses_nothing() {
    for owned in [false, true] {
        let mut p = small_parser();
        let feed = |p: &mut Parser, chunk: &str| {
            if owned {
                p.feed_bytes(chunk.as_bytes().to_vec())
            } else {
                p.feed(chunk.as_bytes())
            }
        };
        // Feed 100 events without polling: the first ones fit in the 64-byte bound, every
        // later feed is refused with the exact sizes and takes nothing.
        let (mut accepted, mut buffered, mut refusals) = (Vec::new(), 0, 0);
        for i in 0..100 {
            let chunk = format!("id: {i}\ndata: {i}\n\n");
            if refusals == 0 && buffered + chunk.len() <= 64 {
                assert_eq!(feed(&mut p, &chunk), Ok(()), "owned {owned}, event {i}");
                accepted.push(i);
                buffered += chunk.len();
            } else {
                assert_eq!(
                    feed(&mut p, &chunk),
                    Err(FeedError::BufferFull {
                        buffered,
                        len: chunk.len(),
                        limit: 64
                    }),
                    "owned {owned}, event {i}"
                );
                refusals += 1;
            }
            assert_eq!(p.buffered(), buffered);
        }
        assert_eq!(accepted, [0, 1, 2, 3], "15 bytes each");
        assert_eq!(refusals, 96);
        // Every accepted event comes out, exactly, and nothing else.
        for &i in &accepted {
            let e = p.poll_event().unwrap().unwrap();
            assert_eq!(
                (e.event_type(), e.data(), e.last_event_id()),
                ("message", &*i.to_string(), &*i.to_string())
            );
        }
        assert_eq!(p.poll_event(), Ok(None));
        assert_eq!(p.buffered(), 0);
        // Polled empty, the parser takes input again, up to the bound in one feed.
        let over = format!("data: {}\n\n", "x".repeat(57));
        assert_eq!(
            feed(&mut p, &over),
            Err(FeedError::BufferFull {
                buffered: 0,
                len: 65,
                limit: 64
            })
        );
        feed(&mut p, "data: again\n\n").unwrap();
        assert_eq!(p.poll_event().unwrap().unwrap().data(), "again");
    }
}

#[test]
fn feed_after_eof_is_refused_and_the_buffered_input_still_parsed() {
    let mut p = Parser::new();
    p.feed(b"data: x\n\ndata: cut").unwrap();
    p.feed_eof();
    p.feed_eof(); // idempotent
    assert_eq!(p.feed(b"\n\n"), Err(FeedError::AfterEof));
    assert_eq!(p.feed(b""), Err(FeedError::AfterEof));
    assert_eq!(
        p.feed_bytes(bytes::Bytes::from_static(b"\n\n")),
        Err(FeedError::AfterEof)
    );
    assert_eq!(p.buffered(), 18, "the refused feeds took nothing");
    assert!(!p.is_finished());
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "x");
    // "If the file ends in the middle of an event [...] the incomplete event is not
    // dispatched."
    assert_eq!(p.poll_event(), Ok(None));
    assert!(p.is_finished());
    assert_eq!(p.feed(b"data: y\n\n"), Err(FeedError::AfterEof));
    assert_eq!(p.poll_event(), Ok(None));
}

#[test]
fn empty_feeds_are_accepted_and_change_nothing() {
    let mut p = small_parser();
    p.feed(&[b'x'; 64]).unwrap();
    assert_eq!(p.feed(b""), Ok(()));
    assert_eq!(p.feed_bytes(Vec::new()), Ok(()));
    assert_eq!(p.buffered(), 64);
}

#[test]
fn polling_again_after_none_is_harmless() {
    let mut p = Parser::new();
    assert_eq!(p.poll(), Ok(None));
    assert_eq!(p.poll(), Ok(None));
    p.feed(b"data: x\n").unwrap();
    assert_eq!(p.poll(), Ok(None));
    assert_eq!(p.poll(), Ok(None));
    p.feed(b"\n").unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "x");
}

#[test]
fn owned_chunk_lines_do_not_force_copies_of_the_rest() {
    // Many events in one owned chunk: all parsed, nothing left buffered.
    let mut s = Vec::new();
    for i in 0..100 {
        s.extend_from_slice(format!("id: {i}\ndata: {i}\n\n").as_bytes());
    }
    let mut p = Parser::new();
    p.feed_bytes(bytes::Bytes::from(s)).unwrap();
    let mut n = 0;
    while let Some(e) = p.poll_event().unwrap() {
        assert_eq!(e.data(), n.to_string());
        assert_eq!(e.last_event_id(), n.to_string());
        n += 1;
    }
    assert_eq!(n, 100);
    assert_eq!(p.buffered(), 0);
}

#[test]
fn one_line_data_is_shared_with_an_owned_chunk() {
    // An event whose only data line arrived whole in a `feed_bytes` chunk hands out that
    // chunk's bytes (no copy); a second data line, a borrowed feed or a line split between
    // chunks builds the data instead. The values are the same either way.
    let chunk = bytes::Bytes::from_static(b"data: one\n\ndata: a\ndata: b\n\ndata: spl");
    let range = chunk.as_ptr() as usize..chunk.as_ptr() as usize + chunk.len();
    let mut p = Parser::new();
    p.feed_bytes(chunk.clone()).unwrap();
    let e = p.poll_event().unwrap().unwrap();
    assert_eq!(e.data(), "one");
    let shared = e.into_data_bytes();
    assert_eq!(&shared[..], b"one");
    assert!(
        range.contains(&(shared.as_ptr() as usize)),
        "data was copied"
    );
    let e = p.poll_event().unwrap().unwrap();
    assert_eq!(e.data(), "a\nb");
    assert!(!range.contains(&(e.into_data_bytes().as_ptr() as usize)));
    assert_eq!(p.poll_event(), Ok(None));
    p.feed_bytes(bytes::Bytes::from_static(b"it\n\ndata: \xFFx\n\n"))
        .unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "split");
    // Invalid UTF-8 is never shared: it is decoded with U+FFFD.
    let e = p.poll_event().unwrap().unwrap();
    assert_eq!(e.data(), "\u{FFFD}x");
    assert_eq!(e.into_data(), "\u{FFFD}x");
    // Text other than ASCII is copied (validated by simdutf8, much cheaper than std's
    // validator, which sharing needs, on such text), wherever the first such byte is; long
    // ASCII is shared.
    let ascii = "a".repeat(100);
    let mut wire = String::new();
    for at in [0, 31, 32, 63, 64, 95, 99] {
        let mut value = ascii.clone();
        value.replace_range(at..at + 1, "é");
        wire.push_str(&format!("data: {value}\n\n"));
    }
    wire.push_str(&format!("data: {ascii}\n\n"));
    let other = bytes::Bytes::from(wire);
    let range = other.as_ptr() as usize..other.as_ptr() as usize + other.len();
    p.feed_bytes(other).unwrap();
    for _ in 0..7 {
        let e = p.poll_event().unwrap().unwrap();
        assert_eq!(e.data().len(), 101);
        assert!(!range.contains(&(e.into_data_bytes().as_ptr() as usize)));
    }
    let e = p.poll_event().unwrap().unwrap();
    assert_eq!(e.data(), ascii);
    assert!(range.contains(&(e.into_data_bytes().as_ptr() as usize)));
    // The same bytes given as a borrowed feed give equal events.
    let mut q = Parser::new();
    q.feed(&chunk).unwrap();
    assert_eq!(
        q.poll_event().unwrap().unwrap(),
        Event::new("message", "one", "")
    );
    // An empty first data line is shared too, and still dispatches an empty-data event.
    let mut r = Parser::new();
    r.feed_bytes(bytes::Bytes::from_static(b"data\n\ndata:\ndata\n\n"))
        .unwrap();
    assert_eq!(r.poll_event().unwrap().unwrap().data(), "");
    assert_eq!(r.poll_event().unwrap().unwrap().data(), "\n");
}

#[test]
fn restart_begins_a_new_stream_keeping_the_id_and_retry() {
    let mut p = Parser::new();
    // An event, a retry, then an unfinished event whose id must not survive, and an
    // unpolled complete event.
    p.feed(b"id: 1\nretry: 700\ndata: a\n\nid: 2\ndata: cut")
        .unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "a");
    assert_eq!(p.poll_event(), Ok(None));
    p.feed(b"\r").unwrap(); // a CR whose LF never comes
    p.feed_eof();
    p.restart();
    assert_eq!((p.last_event_id(), p.reconnection_time()), ("1", Some(700)));
    assert_eq!(p.buffered(), 0);
    assert!(!p.is_finished());
    // A BOM is stripped again; the old stream's CR and unfinished event are gone.
    p.feed(b"\xEF\xBB\xBFdata: b\n\n\ndata: c\n\n").unwrap();
    let got: Vec<(String, String)> = std::iter::from_fn(|| p.poll_event().unwrap())
        .map(|e| (e.data().to_string(), e.last_event_id().to_string()))
        .collect();
    assert_eq!(got, [("b".into(), "1".into()), ("c".into(), "1".into())]);
    // Unpolled input and an error are forgotten too.
    let mut p =
        Parser::with_config(Config::DEFAULT.with_limits(Limits::DEFAULT.with_max_line_len(8)));
    p.feed(b"data: far too long\n\n").unwrap();
    assert_eq!(p.poll_event(), Err(ParseError::LineTooLong { limit: 8 }));
    p.feed(b"data: x\n\n").unwrap();
    p.restart();
    assert_eq!(p.error(), None);
    assert_eq!(p.poll_event(), Ok(None));
    p.feed(b"data: y\n\n").unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "y");
}

// --- Rules and limits at their exact edges ----------------------------------------------

#[test]
fn id_of_nul_bytes_only_is_ignored() {
    // "If the field value does not contain U+0000 NULL, then set the last event ID buffer to
    // the field value. Otherwise, ignore the field."
    let o = tr(b"id: 1\n\nid: \0\ndata: a\n\nid:\0\0\0\0\0\0\0\0\0\ndata: b\n\n");
    assert_eq!(
        events(&o),
        vec![ev("message", "a", "1"), ev("message", "b", "1")]
    );
}

#[test]
fn id_of_invalid_utf8_is_decoded_with_replacement_characters() {
    // The stream is UTF-8 decoded: a lone 0x80 is U+FFFD, not U+0080.
    let o = tr(b"id: \x80\ndata: a\n\nid: \x80\x80\ndata: b\n\nid: 1\x802\ndata: c\n\n");
    assert_eq!(
        events(&o),
        vec![
            ev("message", "a", "\u{FFFD}"),
            ev("message", "b", "\u{FFFD}\u{FFFD}"),
            ev("message", "c", "1\u{FFFD}2"),
        ]
    );
}

#[test]
fn lines_of_other_bytes_are_unknown_fields_and_ignored() {
    // No colon: "using the whole line as the field name" — a name that is none of the four is
    // ignored. Lines of NULs, and the bytes of `data: ` / `event: ` with every bit flipped.
    let mut input = Vec::new();
    input.extend_from_slice(b"\0\0\0\0\0\0\0\0\n");
    input.extend_from_slice(b"d\0\0\0\0\0\0\0\ne\0\0\0\0\0\0\0\n");
    input.extend(b"data: ".iter().map(|b| !b));
    input.extend_from_slice(b"\0\0\n");
    input.extend(b"event: ".iter().map(|b| !b));
    input.extend_from_slice(b"\0\n");
    input.extend_from_slice(b"data: x\n\n");
    let o = tr(&input);
    assert_eq!(
        o.items,
        vec![Ok(Item::Event(Event::new("message", "x", "")))]
    );
}

#[test]
fn event_size_limit_is_the_data_buffer_with_one_lf_per_line_exactly() {
    // `max_event_size`: "every `data` value plus one LF each". 6 bytes: `hello` + LF fits,
    // `hello!` + LF does not; two lines `ab` + LF + `cd` + LF fit, `ab` + LF + `cde` + LF
    // do not. Every chunking: a whole line (borrowed, or shared from an owned chunk) and a
    // line in pieces.
    let limits = Limits::DEFAULT.with_max_event_size(6);
    let input =
        b"data: hello\n\ndata: hello!\n\ndata: ab\ndata: cd\n\ndata: ab\ndata: cde\n\ndata: y\n\n";
    let o = all_chunkings(input, limits);
    let too_large = || Err(ParseError::EventTooLarge { limit: 6 });
    assert_eq!(
        o.items,
        vec![
            Ok(Item::Event(Event::new("message", "hello", ""))),
            too_large(),
            Ok(Item::Event(Event::new("message", "ab\ncd", ""))),
            too_large(),
            Ok(Item::Event(Event::new("message", "y", ""))),
        ]
    );
    // One data line longer than the limit on its own, borrowed and owned.
    let input = b"data: much too long\n\ndata: y\n\n";
    let o = all_chunkings(input, limits);
    assert_eq!(
        o.items,
        vec![too_large(), Ok(Item::Event(Event::new("message", "y", ""))),]
    );
}

#[test]
fn event_too_large_is_reported_when_the_character_that_crosses_the_limit_arrives() {
    // 5 bytes of room: `abcde` fits; the first three bytes of a four-byte character do not
    // add to the data until the character is complete.
    let limits = Limits::DEFAULT.with_max_event_size(5);
    let mut p = Parser::with_config(Config::DEFAULT.with_limits(limits));
    p.feed(b"data: abcde\xF0\x9F\x98").unwrap();
    assert_eq!(p.poll_event(), Ok(None));
    p.feed(b"\x80\n\ndata: y\n\n").unwrap();
    assert_eq!(p.poll_event(), Err(ParseError::EventTooLarge { limit: 5 }));
    p.resync();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "y");
}

#[test]
fn poll_event_ref_lends_the_event_type() {
    let mut p = Parser::new();
    p.feed(b"event: tick\ndata: a\n\ndata: b\n\nevent: tock\ndata: c\n\n")
        .unwrap();
    let e = p.poll_event_ref().unwrap().unwrap();
    assert_eq!((e.event_type, e.data, e.last_event_id), ("tick", "a", ""));
    let e = p.poll_event_ref().unwrap().unwrap();
    assert_eq!((e.event_type, e.data), ("message", "b"));
    let e = p.poll_event_ref().unwrap().unwrap();
    assert_eq!((e.event_type, e.data), ("tock", "c"));
    assert_eq!(p.poll_event_ref(), Ok(None));
}

#[test]
fn config_is_the_one_given() {
    let config = Config::DEFAULT
        .with_comments(true)
        .with_limits(Limits::DEFAULT.with_max_line_len(77));
    assert_eq!(Parser::with_config(config).config(), &config);
    assert_eq!(Parser::new().config(), &Config::DEFAULT);
}

#[test]
fn borrowed_and_owned_feeds_are_parsed_in_the_order_fed() {
    // Fed without polling in between: an owned chunk still waiting comes before a later
    // borrowed feed, and that before a later owned chunk.
    let mut p = Parser::new();
    p.feed_bytes(&b"data: 1"[..]).unwrap();
    p.feed(b"2").unwrap();
    p.feed_bytes(&b"3\n"[..]).unwrap();
    p.feed(b"data: 4").unwrap();
    p.feed_bytes(&b"\n\n"[..]).unwrap();
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "123\n4");
    assert_eq!(p.poll_event(), Ok(None));
}

#[test]
fn events_are_equal_when_type_data_and_id_are() {
    let e = Event::new("t", "d", "i");
    assert_eq!(e, Event::new("t", "d", "i"));
    assert_ne!(e, Event::new("u", "d", "i"));
    assert_ne!(e, Event::new("t", "e", "i"));
    assert_ne!(e, Event::new("t", "d", "j"));
    // An empty type reads as `message`.
    assert_eq!(Event::new("", "d", ""), Event::new("message", "d", ""));
}

#[test]
fn lent_event_is_the_last_lent_event_until_the_parser_changes() {
    let mut p = Parser::new();
    assert!(p.lent_event().is_none());
    p.feed(b"event: a\nid: 1\ndata: x\ndata: y\n\ndata: z\n\n")
        .unwrap();
    let first = p.poll_event_ref().unwrap().unwrap();
    let copy = first.to_event();
    // Lent again, equal to what was lent, as often as asked.
    assert_eq!(p.lent_event().unwrap().to_event(), copy);
    assert_eq!(p.lent_event().unwrap().to_event(), copy);
    // Feeding does not touch the event's buffers.
    p.feed(b"data: w\n\n").unwrap();
    assert_eq!(p.lent_event().unwrap().data, "x\ny");
    // An owned poll moves on: nothing is lent.
    assert_eq!(p.poll_event().unwrap().unwrap().data(), "z");
    assert!(p.lent_event().is_none());
    assert_eq!(p.poll_event_ref().unwrap().unwrap().data, "w");
    p.restart();
    assert!(p.lent_event().is_none(), "a new stream lends nothing");
    assert_eq!(p.poll_event_ref(), Ok(None));
    assert!(p.lent_event().is_none());
}
