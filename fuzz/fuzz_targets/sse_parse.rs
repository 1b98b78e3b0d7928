//! Parses arbitrary bytes in arbitrary chunks (borrowed and owned) under small limits.
//! Oracle: no panic; nothing held beyond the limits; every event's data within the event
//! limit; and the items, errors and final state equal those of feeding the input whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_sse::{Config, Item, Limits, ParseError, Parser};

#[derive(Debug, PartialEq)]
struct Outcome {
    items: Vec<Result<Item, ParseError>>,
    last_event_id: String,
    retry: Option<u64>,
}

fn limits() -> Limits {
    Limits::DEFAULT
        .with_max_line_len(64)
        .with_max_event_size(256)
}

fn drain(p: &mut Parser, items: &mut Vec<Result<Item, ParseError>>) {
    loop {
        let r = p.poll();
        assert!(p.buffered() <= limits().max_buffered_input);
        match r {
            Ok(Some(item)) => {
                if let Item::Event(e) = &item {
                    assert!(e.data().len() <= limits().max_event_size);
                }
                items.push(Ok(item));
            }
            Ok(None) => break,
            Err(e) => {
                items.push(Err(e));
                p.resync();
            }
        }
    }
}

fn run(chunks: &[&[u8]], owned_mask: u8) -> Outcome {
    let mut p = Parser::with_config(Config::DEFAULT.with_limits(limits()).with_comments(true));
    let mut items = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        if owned_mask >> (i % 8) & 1 == 1 {
            p.feed_bytes(bytes::Bytes::copy_from_slice(c)).unwrap();
        } else {
            p.feed(c).unwrap();
        }
        drain(&mut p, &mut items);
    }
    p.feed_eof();
    drain(&mut p, &mut items);
    assert!(p.is_finished());
    Outcome {
        items,
        last_event_id: p.last_event_id().to_string(),
        retry: p.reconnection_time(),
    }
}

fuzz_target!(|data: &[u8]| {
    // First byte: chunk size seed; second: which chunks go in owned.
    let (seed, owned_mask, input) = match data {
        [a, b, rest @ ..] => (*a, *b, rest),
        _ => return,
    };
    let whole = run(&[input], 0);
    let mut chunks = Vec::new();
    let mut rest = input;
    let mut k = seed as usize;
    while !rest.is_empty() {
        k = (k * 31 + 7) % 17;
        let n = (k + 1).min(rest.len());
        chunks.push(&rest[..n]);
        rest = &rest[n..];
    }
    assert_eq!(run(&chunks, owned_mask), whole);
});
