//! Decodes arbitrary bytes as a revision 4 payload (packets joined by `\x1e`) in arbitrary
//! chunks under small limits. Oracle:
//! - the results (packets, then at most one error, last) are the same fed whole, fed in the
//!   fuzzer's chunks (alternating borrowed and owned), and one-shot, while the input fits
//!   `max_payload_bytes`; past it the whole body is refused (`PayloadTooLarge` alone), and
//!   the chunks yield a prefix of what an unbounded decoder returns, then one error;
//! - a feed is refused exactly when it would take the body past `max_payload_bytes`
//!   (`FeedError::BufferFull` with the exact counts), and every later one too;
//! - the limits hold: at most `max_packets` packets, each at most `max_packet_bytes`;
//! - an error-free decode is canonical: the packets re-encode to exactly the input; the
//!   packets before an error re-encode to a prefix of the input;
//! - decode(encode(packets)) == packets.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pushwire_engineio::{v4, FeedError, Limits, Packet, PayloadError};

#[derive(Debug, Arbitrary)]
struct Input {
    data: Vec<u8>,
    cuts: Vec<u16>,
    max_packet_bytes: u8,
    max_payload_bytes: u16,
    max_packets: u8,
}

fn chunked(data: &[u8], cuts: &[u16], limits: Limits) -> Vec<Result<Packet, PayloadError>> {
    let mut d = v4::PayloadDecoder::new(limits);
    let mut out = Vec::new();
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    cuts.sort_unstable();
    cuts.push(data.len());
    let (mut pos, mut accepted, mut refused, mut failed) = (0, 0usize, false, false);
    let drain = |d: &mut v4::PayloadDecoder, out: &mut Vec<_>, failed: &mut bool| {
        while !*failed {
            match d.poll_packet() {
                Ok(Some(p)) => out.push(Ok(p)),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(d.poll_packet(), Err(e.clone()), "sticky");
                    out.push(Err(e));
                    *failed = true;
                }
            }
        }
    };
    for (i, &c) in cuts.iter().enumerate() {
        let len = c - pos;
        let fed = if i % 2 == 0 {
            d.feed(&data[pos..c])
        } else {
            d.feed_bytes(bytes::Bytes::copy_from_slice(&data[pos..c]))
        };
        let limit = limits.max_payload_bytes;
        if len > 0 && (refused || len > limit - accepted) {
            refused = true;
            let buffered = accepted;
            assert_eq!(
                fed,
                Err(FeedError::BufferFull {
                    buffered,
                    len,
                    limit
                })
            );
        } else {
            assert_eq!(fed, Ok(()));
            accepted += len;
        }
        pos = c;
        drain(&mut d, &mut out, &mut failed);
    }
    d.feed_eof();
    assert_eq!(d.feed(b"x"), Err(FeedError::AfterEof));
    drain(&mut d, &mut out, &mut failed);
    if !failed {
        assert!(d.is_finished());
    }
    assert_eq!(d.packets_decoded(), out.iter().filter(|r| r.is_ok()).count());
    out
}

fuzz_target!(|input: Input| {
    let limits = Limits::DEFAULT
        .with_max_packet_bytes(usize::from(input.max_packet_bytes) + 1)
        .with_max_payload_bytes(usize::from(input.max_payload_bytes) + 1)
        .with_max_packets(usize::from(input.max_packets % 32) + 1);
    let data = &input.data;
    let whole = chunked(data, &[], limits);
    let cut = chunked(data, &input.cuts, limits);
    let too_large = PayloadError::PayloadTooLarge {
        limit: limits.max_payload_bytes,
    };
    if data.len() <= limits.max_payload_bytes {
        assert_eq!(whole, cut, "chunk invariance");
    } else {
        assert_eq!(whole, [Err(too_large.clone())], "refused whole");
        let unbounded = chunked(data, &[], limits.with_max_payload_bytes(usize::MAX));
        let (last, before) = cut.split_last().expect("an error at least");
        assert!(last.is_err(), "the error comes last");
        assert_eq!(before, &unbounded[..before.len()]);
        if *last != Err(too_large) {
            assert_eq!(cut, unbounded, "a peer error before the bound is the same");
        }
    }
    let one_shot: Vec<_> = v4::decode_payload(data.clone(), limits).collect();
    assert_eq!(whole, one_shot, "one-shot equals incremental");

    assert!(whole.iter().rev().skip(1).all(Result::is_ok), "one error, last");
    let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
    assert!(ok.len() <= limits.max_packets);
    for p in &ok {
        assert!(v4::packet_len(p) <= limits.max_packet_bytes, "packet over the limit");
    }
    let mut again = Vec::new();
    v4::encode_payload(&ok, &mut again);
    assert_eq!(again.len(), v4::payload_len(&ok));
    if whole.iter().all(Result::is_ok) {
        assert_eq!(again, *data, "an error-free decode is canonical");
    } else if !ok.is_empty() {
        assert!(data.starts_with(&again), "packets before the error are a prefix");
        let back: Vec<_> = v4::decode_payload(again, Limits::UNLIMITED).collect();
        assert_eq!(back, ok.into_iter().map(Ok).collect::<Vec<_>>());
    }
});
