//! pushwire-ws: sans-IO WebSocket (RFC 6455).
//!
//! This crate contains no networking code and takes no time from the OS: bytes go in,
//! events come out, bytes to write come out.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod close;
pub mod frame;
pub mod mask;
