//! Input generators shared by the criterion benchmarks in `benches/benches/`.
//!
//! The benchmarks themselves live in `benches/benches/*.rs`; run them with
//! `cargo bench -p pushwire-benches` (see docs/performance.md).
