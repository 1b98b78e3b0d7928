//! Feeds arbitrary bytes to a server connection, whole and in chunks chosen by the input.
//! Oracle: the events, the error and the bytes queued in reply are the same however the input
//! is split; an error that has a close code queued exactly one Close frame carrying it (last),
//! and every frame the connection wrote obeys the server's masking rule.
#![no_main]

use libfuzzer_sys::fuzz_target;

const ROLE: pushwire_ws::Role = pushwire_ws::Role::Server;

include!("ws_connection_common.rs");
