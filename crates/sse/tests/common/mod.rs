//! Drives a parser over chunks of input and records everything it produced, so tests can
//! compare runs over different chunkings of the same bytes.

#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use pushwire_sse::{Config, Item, Limits, ParseError, Parser};

/// Everything a parser produced from a stream, and its final state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Items and errors in order (after an error the parser is resynced and goes on).
    pub items: Vec<Result<Item, ParseError>>,
    /// `Parser::last_event_id` at the end.
    pub last_event_id: String,
    /// `Parser::reconnection_time` at the end.
    pub retry: Option<u64>,
}

/// How to hand the chunks to the parser.
#[derive(Debug, Clone, Copy)]
pub enum Feed {
    /// `feed(&[u8])`.
    Borrowed,
    /// `feed_bytes(Bytes)`.
    Owned,
    /// Alternating, starting with borrowed.
    Mixed,
}

fn drain(p: &mut Parser, items: &mut Vec<Result<Item, ParseError>>, max_buffered: usize) {
    loop {
        match p.poll() {
            Ok(Some(item)) => items.push(Ok(item)),
            Ok(None) => break,
            Err(e) => {
                items.push(Err(e));
                p.resync();
                assert_eq!(p.error(), None, "still failed after resync");
            }
        }
        assert!(p.buffered() <= max_buffered, "buffered beyond the limit");
    }
}

/// Feeds `chunks` in order (polling after each), then the end of stream.
pub fn run(chunks: &[&[u8]], feed: Feed, limits: Limits, comments: bool) -> Outcome {
    let mut p = Parser::with_config(Config::DEFAULT.with_limits(limits).with_comments(comments));
    let mut items = Vec::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let owned = match feed {
            Feed::Borrowed => false,
            Feed::Owned => true,
            Feed::Mixed => i % 2 == 1,
        };
        if owned {
            p.feed_bytes(Bytes::copy_from_slice(chunk)).expect("feed");
        } else {
            p.feed(chunk).expect("feed");
        }
        drain(&mut p, &mut items, limits.max_buffered_input);
    }
    p.feed_eof();
    drain(&mut p, &mut items, limits.max_buffered_input);
    assert!(p.is_finished(), "input left after the end of stream");
    Outcome {
        items,
        last_event_id: p.last_event_id().to_string(),
        retry: p.reconnection_time(),
    }
}

/// The input fed whole.
pub fn whole(input: &[u8]) -> Outcome {
    run(&[input], Feed::Borrowed, Limits::default(), true)
}

/// The input fed one byte at a time.
pub fn bytewise(input: &[u8], feed: Feed, limits: Limits) -> Outcome {
    let chunks: Vec<&[u8]> = input.chunks(1).collect();
    run(&chunks, feed, limits, true)
}

/// The events only.
pub fn events(o: &Outcome) -> Vec<(String, String, String)> {
    o.items
        .iter()
        .filter_map(|i| match i {
            Ok(Item::Event(e)) => Some((
                e.event_type().to_string(),
                e.data().to_string(),
                e.last_event_id().to_string(),
            )),
            _ => None,
        })
        .collect()
}

/// Parses `input` whole, byte by byte (borrowed, owned, mixed), and split at every position
/// with owned chunks; asserts every run gives the same outcome and returns it.
pub fn tr(input: &[u8]) -> Outcome {
    let limits = Limits::default();
    let expected = whole(input);
    for feed in [Feed::Borrowed, Feed::Owned, Feed::Mixed] {
        assert_eq!(bytewise(input, feed, limits), expected, "bytewise {feed:?}");
    }
    for at in 0..=input.len() {
        let (a, b) = input.split_at(at);
        assert_eq!(
            run(&[a, b], Feed::Owned, limits, true),
            expected,
            "split at {at}"
        );
        assert_eq!(
            run(&[a, b], Feed::Mixed, limits, true),
            expected,
            "split at {at}"
        );
    }
    expected
}

/// Shorthand for an expected event.
pub fn ev(t: &str, data: &str, id: &str) -> (String, String, String) {
    (t.to_string(), data.to_string(), id.to_string())
}
