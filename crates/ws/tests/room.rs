//! Reading straight into the input buffer (`Connection::read_room` / `commit_read`): the read
//! sizes it asks for, its refusals, and that it loses nothing.

use bytes::BufMut;
use pushwire_ws::{Config, Connection, Event, FeedError, FixedMaskKey, Limits, Role};

/// A client connection's encoding of `msgs` binary messages (masked, as a server receives).
fn client_wire(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut c = Connection::with_mask_keys(
        Role::Client,
        Config::default(),
        Box::new(FixedMaskKey([1, 2, 3, 4])),
    );
    for m in msgs {
        c.send_binary(m.clone()).unwrap();
    }
    let mut out = Vec::new();
    while let Some(chunk) = c.poll_transmit() {
        out.extend_from_slice(&chunk);
    }
    out
}

/// Reads `wire[*at..]` into one room of `size`; returns how many bytes the room took.
fn read_once(c: &mut Connection, wire: &[u8], at: &mut usize, size: usize) -> usize {
    let mut room = c.read_room(size).unwrap();
    let n = room.remaining().min(wire.len() - *at);
    room.buf_mut().put_slice(&wire[*at..*at + n]);
    c.commit_read(room).unwrap();
    *at += n;
    n
}

fn drain(c: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(e) = c.poll_event().unwrap() {
        out.push(e);
    }
    out
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| seed.wrapping_add((i % 251) as u8)).collect()
}

#[test]
fn a_large_frame_is_read_to_its_end_and_the_next_read_asks_for_a_whole_frame() {
    let msgs = [payload(65_536, 1), payload(65_536, 2)];
    let wire = client_wire(&msgs);
    let frame_len = wire.len() / 2; // 14 + 65,536
    assert_eq!(frame_len, 65_550);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    // A fresh buffer: the read size asked for.
    assert_eq!(read_once(&mut server, &wire, &mut at, 65_536), 65_536);
    assert!(drain(&mut server).is_empty());
    // The header is known: only the 14 bytes that end the frame, not the next frame's start.
    assert_eq!(read_once(&mut server, &wire, &mut at, 65_536), 14);
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(msgs[0].clone().into())]
    );
    // Nothing of the next frame was read, and the next read takes a whole frame at once.
    assert_eq!(server.buffered_input(), 0);
    assert_eq!(read_once(&mut server, &wire, &mut at, 65_536), frame_len);
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(msgs[1].clone().into())]
    );
    assert_eq!(at, wire.len());
}

#[test]
fn short_frames_are_read_in_full_size_reads() {
    let msgs: Vec<Vec<u8>> = (0..100).map(|i| payload(1000, i)).collect();
    let wire = client_wire(&msgs);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    let mut events = Vec::new();
    while at < wire.len() {
        let before = at;
        let n = read_once(&mut server, &wire, &mut at, 4096);
        // Every read but the last is a full 4,096 bytes: frames of 1 KiB do not cut reads.
        assert!(n == 4096 || at == wire.len(), "read {n} at {before}");
        events.extend(drain(&mut server));
    }
    let want: Vec<Event> = msgs.into_iter().map(|m| Event::Binary(m.into())).collect();
    assert_eq!(events, want);
}

#[test]
fn a_declared_length_alone_gets_no_bigger_read_than_asked() {
    // A header declaring 1 MiB: the room is one read's worth, not the whole frame.
    let wire = client_wire(&[payload(1 << 20, 3)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    read_once(&mut server, &wire, &mut at, 100);
    assert!(drain(&mut server).is_empty());
    let room = server.read_room(4096).unwrap();
    assert_eq!(room.remaining(), 4096);
}

#[test]
fn a_room_at_the_input_limit_is_refused_and_nothing_fed_is_lost() {
    // Limit: one largest frame of 100 bytes (+ 14).
    let limits = Limits::default()
        .with_max_frame_size(100)
        .with_max_message_size(1000)
        .with_max_buffered_input(0);
    let mut server = Connection::server(Config::default().with_limits(limits));
    let wire = client_wire(&[payload(100, 4), payload(100, 5)]);
    // 114 bytes fed in one piece: the first frame (106 bytes) and 8 of the next.
    server.feed(&wire[..114]).unwrap();
    assert_eq!(
        server.read_room(10).unwrap_err(),
        FeedError::BufferFull {
            buffered: 114,
            len: 10,
            limit: 114
        }
    );
    // Poll, and a room is lent again; the rest arrives through it.
    assert_eq!(drain(&mut server).len(), 1);
    let mut at = 114;
    while at < wire.len() {
        read_once(&mut server, &wire, &mut at, 10);
    }
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(payload(100, 5).into())]
    );
}

#[test]
fn a_dropped_room_loses_nothing_fed() {
    let wire = client_wire(&[payload(300, 6)]);
    let mut server = Connection::server(Config::default());
    server.feed(&wire[..100]).unwrap();
    let mut room = server.read_room(64).unwrap();
    room.buf_mut().put_slice(b"never committed");
    drop(room);
    server.feed(&wire[100..]).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(payload(300, 6).into())]
    );
}

#[test]
fn a_room_after_end_of_input_is_refused() {
    let mut server = Connection::server(Config::default());
    let room = server.read_room(64).unwrap();
    server.feed_eof();
    assert_eq!(
        server.commit_read(room),
        Ok(()),
        "an empty room commits nothing"
    );
    assert_eq!(server.read_room(64).unwrap_err(), FeedError::AfterEof);
}

#[test]
fn an_idle_connection_holds_no_input_buffer_after_reads() {
    let wire = client_wire(&[payload(10, 7)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    read_once(&mut server, &wire, &mut at, 65_536);
    let events = drain(&mut server);
    assert_eq!(events.len(), 1);
    drop(events);
    // The read that finds nothing: its room is dropped, and no buffer stays behind.
    let room = server.read_room(65_536).unwrap();
    assert!(room.remaining() > 0);
    drop(room);
    assert_eq!(server.input_capacity(), 0);
}

#[test]
fn a_short_read_into_a_fresh_buffer_is_kept_in_a_buffer_of_its_size() {
    // A 10-byte message the application may keep must not hold a whole read buffer.
    let wire = client_wire(&[payload(10, 8)]);
    let mut server = Connection::server(Config::default());
    let mut room = server.read_room(65_536).unwrap();
    assert!(room.remaining() >= 65_536);
    room.buf_mut().put_slice(&wire);
    server.commit_read(room).unwrap();
    assert!(
        server.input_capacity() <= 64,
        "{} bytes held for a {}-byte read",
        server.input_capacity(),
        wire.len()
    );
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(payload(10, 8).into())]
    );
}

#[test]
fn the_size_hint_ends_when_a_read_begins_with_a_short_frame() {
    let large = client_wire(&[payload(65_536, 9)]);
    let short = client_wire(&[payload(100, 10)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    read_once(&mut server, &large, &mut at, 65_536);
    read_once(&mut server, &large, &mut at, 65_536);
    assert_eq!(drain(&mut server).len(), 1);
    // The next fresh read expects another large frame...
    let mut room = server.read_room(65_536).unwrap();
    assert!(room.remaining() >= large.len(), "{}", room.remaining());
    // ...but a short one arrives: from then on, reads are of the size asked for again.
    room.buf_mut().put_slice(&short);
    server.commit_read(room).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(payload(100, 10).into())]
    );
    assert_eq!(server.read_room(65_536).unwrap().remaining(), 65_536);
}

#[test]
fn bytes_read_after_end_of_input_are_refused() {
    let wire = client_wire(&[payload(10, 11)]);
    let mut server = Connection::server(Config::default());
    let mut room = server.read_room(64).unwrap();
    room.buf_mut().put_slice(&wire);
    server.feed_eof();
    assert_eq!(server.commit_read(room), Err(FeedError::AfterEof));
}

#[test]
fn a_room_is_writable_in_one_chunk_and_counts_what_it_took() {
    // A fresh buffer, then one with bytes of a short frame (under a quarter of the read)
    // already in it: either way the room's first chunk covers the whole room (one read
    // system call can fill it).
    let wire = client_wire(&[payload(1000, 4)]);
    let mut server = Connection::server(Config::default());
    let mut room = server.read_room(8192).unwrap();
    assert_eq!(room.remaining(), 8192);
    assert_eq!(room.buf_mut().chunk_mut().len(), 8192);
    room.buf_mut().put_slice(&wire[..10]);
    assert_eq!((room.filled(), room.remaining()), (10, 8182));
    room.buf_mut().put_slice(&wire[10..100]);
    server.commit_read(room).unwrap();
    assert!(drain(&mut server).is_empty());
    let mut room = server.read_room(8192).unwrap();
    assert_eq!(room.remaining(), 8192);
    assert_eq!(room.buf_mut().chunk_mut().len(), 8192);
    room.buf_mut().put_slice(&wire[100..]);
    server.commit_read(room).unwrap();
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(payload(1000, 4).into())]
    );
}

#[test]
fn a_fresh_read_buffer_is_at_most_one_and_a_half_reads() {
    // Room for the end of a large frame the read starts, but bounded: a connection does not
    // hold more than half a read beyond what it asked for.
    let wire = client_wire(&[payload(1 << 20, 5)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    assert_eq!(read_once(&mut server, &wire, &mut at, 8192), 8192);
    assert!(
        server.input_capacity() <= 8192 * 3 / 2,
        "{} bytes for a read of 8,192",
        server.input_capacity()
    );
}

#[test]
fn a_frame_under_16_kib_or_a_quarter_read_does_not_cut_a_read_short() {
    // 8 KiB frames are "short" (under READ_TO_FRAME_END): a read that starts inside one is a
    // full-size read, not one that stops at the frame's end.
    let wire = client_wire(&[payload(8192, 6), payload(8192, 7)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    assert_eq!(read_once(&mut server, &wire, &mut at, 100), 100);
    assert!(drain(&mut server).is_empty());
    let room = server.read_room(65_536).unwrap();
    assert_eq!(room.remaining(), 65_536);
    drop(room);
    // A 20 KiB frame is large: the read stops where the frame ends.
    let wire = client_wire(&[payload(20_480, 8), payload(10, 9)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    assert_eq!(read_once(&mut server, &wire, &mut at, 100), 100);
    let room = server.read_room(65_536).unwrap();
    assert_eq!(room.remaining(), 20_480 + 8 - 100);
    drop(room);
    // With 8 KiB reads, a quarter of the read is the bound: a 3 KiB frame is read to its end.
    let wire = client_wire(&[payload(3000, 10), payload(10, 11)]);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    assert_eq!(read_once(&mut server, &wire, &mut at, 100), 100);
    let room = server.read_room(8192).unwrap();
    assert_eq!(room.remaining(), 3000 + 8 - 100);
}

#[test]
fn a_frame_of_exactly_16_kib_keeps_the_size_hint() {
    let large = client_wire(&[payload(65_536, 12)]);
    // 8 header bytes (16-bit length, mask) + 16,376 = 16,384: large, not short.
    let edge = client_wire(&[payload(16_376, 13)]);
    assert_eq!(edge.len(), 16_384);
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    read_once(&mut server, &large, &mut at, 65_536);
    read_once(&mut server, &large, &mut at, 65_536);
    assert_eq!(drain(&mut server).len(), 1);
    let mut room = server.read_room(65_536).unwrap();
    room.buf_mut().put_slice(&edge);
    server.commit_read(room).unwrap();
    assert_eq!(drain(&mut server).len(), 1);
    let room = server.read_room(65_536).unwrap();
    assert!(room.remaining() >= large.len(), "{}", room.remaining());
}

#[test]
fn a_frame_of_exactly_max_frame_size_is_read_to_its_end() {
    let limits = Limits::DEFAULT.with_max_frame_size(20_480);
    let config = Config::default().with_limits(limits);
    let wire = client_wire(&[payload(20_480, 14), payload(10, 15)]);
    let mut server = Connection::server(config);
    let mut at = 0;
    assert_eq!(read_once(&mut server, &wire, &mut at, 100), 100);
    assert!(drain(&mut server).is_empty());
    let room = server.read_room(65_536).unwrap();
    assert_eq!(room.remaining(), 20_480 + 8 - 100);
}

#[test]
fn a_room_is_never_empty_even_before_polling_a_whole_frame() {
    // "at least 1": a whole large frame fed and not yet polled needs nothing more, but a
    // room of 0 bytes would look like the end of the stream to a reader.
    let wire = client_wire(&[payload(20_000, 16)]);
    let mut server = Connection::server(Config::default());
    server.feed(&wire).unwrap();
    let room = server.read_room(65_536).unwrap();
    assert!(room.remaining() >= 1);
    drop(room);
    assert_eq!(
        drain(&mut server),
        vec![Event::Binary(payload(20_000, 16).into())]
    );
}

#[test]
fn a_read_that_fills_half_its_buffer_is_kept_without_a_copy() {
    // Only a short read into a mostly empty fresh buffer is copied into one of its own size;
    // a read filling half the buffer or more is kept where it was read (no copy).
    let wire = client_wire(&[payload(100, 17)]);
    let read = |n: usize| {
        let mut server = Connection::server(Config::default());
        let mut room = server.read_room(64).unwrap();
        room.buf_mut().put_slice(&wire[..n]);
        server.commit_read(room).unwrap();
        let kept = server.input_capacity();
        let mut at = n;
        while at < wire.len() {
            read_once(&mut server, &wire, &mut at, 64);
        }
        assert_eq!(
            drain(&mut server),
            vec![Event::Binary(payload(100, 17).into())]
        );
        kept
    };
    // A full room: kept in the buffer it was read into (larger than the read).
    let buffer = read(64);
    assert!(buffer > 64, "{buffer}");
    // Exactly half of that buffer: still kept.
    assert_eq!(read(buffer / 2), buffer);
    // Less than half: copied into a buffer of its own size.
    assert_eq!(read(buffer / 2 - 1), buffer / 2 - 1);
}

#[test]
fn a_room_after_polled_frames_is_writable_in_one_chunk() {
    // Short frames polled off the front of a read buffer leave less room behind them than
    // the next read asks for: the buffer grows so that one chunk takes the whole read.
    let wire = client_wire(&(0..10).map(|i| payload(1000, i)).collect::<Vec<_>>());
    let mut server = Connection::server(Config::default());
    let mut at = 0;
    assert_eq!(read_once(&mut server, &wire, &mut at, 8192), 8192);
    assert_eq!(drain(&mut server).len(), 8);
    assert_eq!(server.buffered_input(), 8192 - 8 * 1008);
    // One byte more than the room left behind the buffered bytes.
    let spare = server.input_capacity() - server.buffered_input();
    let read = spare + 1;
    assert!(
        read / 4 > 1008,
        "the frames stay short for a read of {read}"
    );
    let mut room = server.read_room(read).unwrap();
    assert_eq!(room.remaining(), read);
    assert_eq!(room.buf_mut().chunk_mut().len(), read);
}
