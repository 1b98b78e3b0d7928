//! Input generators shared by the criterion benchmarks in `benches/benches/`.
//!
//! The benchmarks themselves live in `benches/benches/*.rs`; run them with
//! `cargo bench -p pushwire-benches` (see docs/performance.md). Every generator is
//! deterministic, so runs compare like with like.

use bytes::Bytes;

/// Splits `data` into chunks of `size` bytes, as a socket read loop would deliver them.
pub fn chunks(data: &[u8], size: usize) -> Vec<Bytes> {
    data.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// The `sse_parse_small` stream: `n` events, each `id: N`, `event: tick` and one `data:` line
/// of a JSON object of about 100 bytes.
pub fn sse_small_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 140);
    for i in 0..n {
        out.extend_from_slice(
            format!(
                "id: {i}\nevent: tick\ndata: {{\"seq\":{i},\"symbol\":\"PSHW\",\"price\":{}.{:02},\"volume\":{},\"venue\":\"XNAS\",\"flags\":[\"a\",\"b\"]}}\n\n",
                100 + i % 50,
                i % 100,
                1000 + i * 7
            )
            .as_bytes(),
        );
    }
    out
}

/// The `sse_parse_large` stream: `n` events, each one `data:` line of `len` bytes.
pub fn sse_large_stream(n: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * (len + 8));
    for i in 0..n {
        out.extend_from_slice(b"data: ");
        out.extend((0..len).map(|k| b'a' + ((i + k) % 26) as u8));
        out.extend_from_slice(b"\n\n");
    }
    out
}
