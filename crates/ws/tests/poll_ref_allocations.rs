//! `poll_event_ref`'s promise, counted with a global allocator: a whole message that arrived
//! in one frame "is unmasked and validated where it lies in the input buffer and lent out as
//! is — no `Bytes` split off, no reference count, no allocation". Whole frames of every kind
//! the fast path takes (text short and long, ASCII and not, binary with 7- and 16-bit
//! lengths, a frame of exactly the frame limit), masked towards a server and unmasked towards
//! a client, are polled from one buffer without a single allocation.
//!
//! One test in its own binary, so no other test allocates while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use pushwire_ws::{Config, Connection, EventRef, FixedMaskKey, Limits, Role};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        // SAFETY: forwarded as is; `ptr` and `layout` came from this allocator (`System`).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The largest frame (and message) the connections under test accept.
const FRAME_LIMIT: usize = 1000;

/// The messages, as (text, bytes).
fn messages() -> Vec<(bool, Vec<u8>)> {
    let mut m = Vec::new();
    for len in [1usize, 5, 64, 65, 125, 126, 300, FRAME_LIMIT] {
        m.push((true, "a".repeat(len).into_bytes()));
        m.push((true, "é".repeat(len / 2).into_bytes()));
        m.push((false, vec![7u8; len]));
    }
    m
}

/// `messages` as the peer of `receiver` sends them.
fn wire(receiver: Role, messages: &[(bool, Vec<u8>)]) -> Vec<u8> {
    let sender_role = match receiver {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut sender = Connection::with_mask_keys(
        sender_role,
        Config::default(),
        Box::new(FixedMaskKey([1, 2, 3, 4])),
    );
    let mut out = Vec::new();
    for (text, m) in messages {
        if *text {
            sender
                .send_text(String::from_utf8(m.clone()).unwrap())
                .unwrap();
        } else {
            sender.send_binary(m.clone()).unwrap();
        }
        while let Some(chunk) = sender.poll_transmit() {
            out.extend_from_slice(&chunk);
        }
    }
    out
}

#[test]
fn whole_frames_are_polled_without_an_allocation() {
    let messages = messages();
    let limits = Limits::DEFAULT
        .with_max_frame_size(FRAME_LIMIT as u64)
        .with_max_message_size(FRAME_LIMIT as u64);
    let config = Config::default().with_limits(limits);
    for role in [Role::Server, Role::Client] {
        let wire = wire(role, &messages);
        let mut c = match role {
            Role::Server => Connection::server(config),
            Role::Client => {
                Connection::with_mask_keys(role, config, Box::new(FixedMaskKey([0; 4])))
            }
        };
        // Each message alone in the buffer (the frame ends where the input ends), then all
        // of them in one buffer.
        let mut at = 0;
        let mut alone = Vec::new();
        for _ in &messages {
            let end = at + frame_len(&wire[at..]);
            alone.push(at..end);
            at = end;
        }
        for range in alone {
            c.feed(&wire[range.clone()]).unwrap();
            let before = ALLOCATIONS.load(Relaxed);
            let got = owned(c.poll_event_ref().unwrap());
            let allocated = ALLOCATIONS.load(Relaxed) - before;
            assert_eq!(allocated, 0, "{role:?}: frame at {range:?} allocated");
            assert!(got.is_some());
            assert_eq!(c.poll_event_ref(), Ok(None));
        }
        c.feed(&wire).unwrap();
        let mut lens = Vec::with_capacity(messages.len());
        let before = ALLOCATIONS.load(Relaxed);
        while let Some(ev) = c.poll_event_ref().unwrap() {
            lens.push(match ev {
                EventRef::Text(t) => t.len(),
                EventRef::Binary(b) => b.len(),
                other => panic!("{other:?}"),
            });
        }
        let allocated = ALLOCATIONS.load(Relaxed) - before;
        assert_eq!(
            allocated,
            0,
            "{role:?}: {} frames in one buffer",
            lens.len()
        );
        let want: Vec<usize> = messages.iter().map(|(_, m)| m.len()).collect();
        assert_eq!(lens, want);
    }
}

/// Whether a `poll_event_ref` result held an event (read without allocating).
fn owned(ev: Option<EventRef<'_>>) -> Option<usize> {
    ev.map(|e| match e {
        EventRef::Text(t) => t.len(),
        EventRef::Binary(b) => b.len(),
        other => panic!("{other:?}"),
    })
}

/// The length of the frame at the start of `wire` (header and payload).
fn frame_len(wire: &[u8]) -> usize {
    let masked = wire[1] & 0x80 != 0;
    let (len, header) = match wire[1] & 0x7F {
        126 => (usize::from(u16::from_be_bytes([wire[2], wire[3]])), 4),
        127 => panic!("no 64-bit lengths here"),
        n => (usize::from(n), 2),
    };
    header + if masked { 4 } else { 0 } + len
}
