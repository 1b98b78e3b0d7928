//! permessage-deflate negotiation header parsing.
//!
//! Oracles: no panic on any element; a parsed offer survives `to_header` → parse; the server's
//! answer to a valid offer is accepted by a client that made that offer, with the same
//! agreement; any agreement a client accepts has window bits in 8..=15.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pushwire_ws::deflate::negotiate::{self, Offer, ServerPolicy};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let policy = ServerPolicy {
        server_no_context_takeover: data[0] & 1 != 0,
        client_no_context_takeover: data[0] & 2 != 0,
        server_max_window_bits: 8 + ((data[0] >> 2) & 7),
        client_max_window_bits: 8 + ((data[0] >> 5) & 7),
    };
    let Ok(text) = std::str::from_utf8(&data[1..]) else {
        return;
    };
    let elements: Vec<&str> = text.split(',').collect();
    let offers: Vec<Offer> = elements
        .iter()
        .filter_map(|e| Offer::parse(e).ok())
        .collect();
    for o in &offers {
        assert_eq!(Offer::parse(&o.to_header()).as_ref(), Ok(o));
        let a = negotiate::server_agree(o, &policy);
        assert_eq!(negotiate::client_accept(&[*o], &a.to_header()), Ok(a));
    }
    if let Some(a) = negotiate::server_accept(&elements, &policy) {
        assert_eq!(
            Some(a),
            offers.first().map(|o| negotiate::server_agree(o, &policy))
        );
    }
    for e in &elements {
        if let Ok(a) = negotiate::client_accept(&offers, e) {
            assert!((8..=15).contains(&a.server_max_window_bits));
            assert!((8..=15).contains(&a.client_max_window_bits));
        }
    }
});
