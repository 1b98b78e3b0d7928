//! pushwire-sse: sans-IO Server-Sent Events.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
