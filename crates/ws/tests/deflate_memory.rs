//! Heap held by permessage-deflate between messages, per configuration, and the peak while
//! it refuses a zip bomb, measured with a counting global allocator (the figures in
//! docs/ws.md and docs/performance.md):
//!
//! ```text
//! cargo test -p pushwire-ws --release --test deflate_memory -- --nocapture
//! ```
//!
//! One test in its own binary, so no other test allocates while it measures.
#![cfg(feature = "deflate")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use pushwire_ws::deflate::negotiate::Agreement;
use pushwire_ws::deflate::{DeflateConfig, Engine, PerMessageDeflate};
use pushwire_ws::Role;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// The highest `LIVE` since it was last reset.
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract, which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded as is; `ptr` and `layout` came from this allocator (`System`).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes a server's extension holds after sending and receiving one ~1 KiB JSON message.
fn held_by_server(a: Agreement, config: DeflateConfig) -> isize {
    let msg = br#"{"type":"book_update","seq":1000000,"symbol":"BTC-USD","bids":[{"price":"620.85","size":"4.051"}]}"#.repeat(10);
    let mut client = PerMessageDeflate::new(Role::Client, a, config);
    let z = client.compress(&msg).unwrap();
    // A first connection fills the thread's spares (with `share_per_thread`); they belong to
    // the thread, not to the connection measured next.
    let mut warm = PerMessageDeflate::new(Role::Server, a, config);
    drop(warm.compress(&msg).unwrap());
    drop(warm.decompress(&client.compress(&msg).unwrap(), 1 << 20));
    drop(warm);
    let z = if a.client_no_context_takeover {
        z
    } else {
        // With context takeover `z` must be the first message of a stream.
        PerMessageDeflate::new(Role::Client, a, config)
            .compress(&msg)
            .unwrap()
    };
    let before = LIVE.load(Relaxed);
    let mut server = PerMessageDeflate::new(Role::Server, a, config);
    drop(server.compress(&msg).unwrap());
    drop(server.decompress(&z, 1 << 20).unwrap());
    let held = LIVE.load(Relaxed) - before;
    assert_eq!(held > 0, server.holds_state());
    drop(server);
    held
}

#[test]
fn memory_per_configuration() {
    for engine in [Engine::Miniz, Engine::ZlibRs] {
        println!("engine {engine:?}:");
        memory_on(DeflateConfig::default().with_engine(engine));
        let peak = bomb_peak(engine);
        println!("  an 8 MiB bomb refused at 1 MiB: peak {peak} bytes above the start");
        // The output never grows past the limit plus one byte; the rest is the inflater's
        // state (tens of KiB).
        assert!(peak > 1 << 20, "{peak}");
        assert!(peak <= (1 << 20) + 1 + (256 << 10), "{peak}");
    }
}

/// Peak heap while a message that inflates to 8 MiB is refused at a 1 MiB limit (the ratio
/// check off, so that the size limit is what stops it).
fn bomb_peak(engine: Engine) -> isize {
    let config = DeflateConfig::default()
        .with_engine(engine)
        .with_max_ratio(0);
    let a = Agreement::default();
    let z = PerMessageDeflate::new(Role::Client, a, config)
        .compress(&vec![0u8; 8 << 20])
        .unwrap();
    let mut server = PerMessageDeflate::new(Role::Server, a, config);
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let e = server.decompress(&z, 1 << 20).unwrap_err();
    assert_eq!(e.code, 1009);
    PEAK.load(Relaxed) - before
}

fn memory_on(d: DeflateConfig) {
    let rows = [
        (
            "context takeover both ways (default)",
            Agreement::default(),
            d,
        ),
        (
            "server_no_context_takeover + client_no_context_takeover, not shared",
            Agreement {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..Agreement::default()
            },
            d.with_share_per_thread(false),
        ),
        (
            "client_no_context_takeover only",
            Agreement {
                client_no_context_takeover: true,
                ..Agreement::default()
            },
            d,
        ),
        (
            "server_no_context_takeover only",
            Agreement {
                server_no_context_takeover: true,
                ..Agreement::default()
            },
            d,
        ),
        (
            "server_max_window_bits=10",
            Agreement {
                server_max_window_bits: 10,
                ..Agreement::default()
            },
            d,
        ),
        (
            "no context takeover both ways + share_per_thread",
            Agreement {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..Agreement::default()
            },
            d.with_share_per_thread(true),
        ),
    ];
    let mut held = Vec::new();
    for (name, a, config) in rows {
        let h = held_by_server(a, config);
        println!("  {name}: {h} bytes held between messages (server side)");
        held.push(h);
    }
    // Structure, not exact sizes (those depend on the miniz_oxide version):
    let [both, none, compressor, inflater, small_window, shared] = held[..] else {
        unreachable!()
    };
    assert_eq!(none, 0, "no context takeover: nothing held");
    assert_eq!(shared, 0, "shared per thread: nothing held per connection");
    assert_eq!(both, compressor + inflater);
    assert_eq!(inflater, small_window);
    assert!(compressor > inflater && inflater > 0);
}
