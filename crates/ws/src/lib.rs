//! pushwire-ws: sans-IO WebSocket (RFC 6455).
//!
//! This crate contains no networking code and takes no time from the OS: bytes go in,
//! events come out, bytes to write come out. Work in progress: see the project issues.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
