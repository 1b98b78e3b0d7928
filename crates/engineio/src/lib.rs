//! pushwire-engineio: sans-IO Engine.io protocol v3.
//!
//! This crate contains no networking code and takes no time from the OS. Work in
//! progress: see the project issues.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
