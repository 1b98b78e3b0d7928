// Shared by eio_payload_text, eio_payload_binary and eio4_payload (included with
// `include!`); `run_with` and `chunked` work on either revision's decoder.
//
// Oracle for decoding an arbitrary payload in arbitrary chunks under small limits:
// - the results (packets, then at most one error, last) are the same fed whole, fed in the
//   fuzzer's chunks (alternating borrowed and owned), and one-shot, while the input fits
//   `max_payload_bytes`; past it the whole body is refused (`PayloadTooLarge` alone), and
//   the chunks yield a prefix of what an unbounded decoder returns, then one error;
// - a feed is refused exactly when it would take the body past `max_payload_bytes`
//   (`FeedError::BufferFull` with the exact counts), and every later one too;
// - the limits hold: at most `max_packets` packets, each encoded packet at most
//   `max_packet_bytes`, all of them at most `max_payload_bytes`;
// - the packets before the error re-encode to a subsequence of the input: the encoder only
//   drops what the decoder tolerates as non-canonical (leading zero digits in lengths,
//   empty `0:` entries of text payloads); when nothing was dropped the bytes are identical;
// - decode(encode(packets)) == packets.

use arbitrary::Arbitrary;
use pushwire_engineio::{FeedError, Limits, Packet, PayloadDecoder, PayloadError, PayloadFormat};

// The `Decoding` trait over both revisions' decoders, shared with the engineio proptests.
include!("../../crates/engineio/tests/common/decoding.rs");

type Results = Vec<Result<Packet, PayloadError>>;

#[derive(Debug, Arbitrary)]
struct Input {
    data: Vec<u8>,
    cuts: Vec<u16>,
    max_packet_bytes: u8,
    max_payload_bytes: u16,
    max_packets: u8,
}

#[allow(dead_code)] // eio4_payload uses `run_with` only
fn run(format: PayloadFormat, input: &Input) -> (Results, Limits) {
    let one_shot = |data: Vec<u8>, limits| -> Results {
        match format {
            PayloadFormat::Text => pushwire_engineio::decode_text_payload(data, limits).collect(),
            PayloadFormat::Binary => {
                pushwire_engineio::decode_binary_payload(data, limits).collect()
            }
        }
    };
    let (whole, limits) = run_with(&|l| PayloadDecoder::new(format, l), &one_shot, input);
    let ok: Vec<Packet> = whole.iter().filter_map(|r| r.clone().ok()).collect();
    let mut total = 0;
    for p in &ok {
        // Bytes of the packet as this format writes it; never more than the declared length
        // the limit was checked on (a base64 packet inside an XHR2 string entry shrinks).
        let n = match (format, p.data.as_binary()) {
            (PayloadFormat::Binary, Some(b)) => 1 + b.len(),
            _ => p.str_len(),
        };
        assert!(n <= limits.max_packet_bytes, "packet over the limit");
        total += n;
    }
    assert!(total <= limits.max_payload_bytes);
    (whole, limits)
}

/// The checks both revisions share: chunk invariance within the bound, the refusal past it,
/// one-shot equal to incremental, at most one error and last, at most `max_packets`.
fn run_with<D: Decoding>(
    new: &dyn Fn(Limits) -> D,
    one_shot: &dyn Fn(Vec<u8>, Limits) -> Results,
    input: &Input,
) -> (Results, Limits) {
    let limits = Limits::DEFAULT
        .with_max_packet_bytes(usize::from(input.max_packet_bytes) + 1)
        .with_max_payload_bytes(usize::from(input.max_payload_bytes) + 1)
        .with_max_packets(usize::from(input.max_packets % 32) + 1);
    let data = &input.data;
    let whole = chunked(new(limits), data, &[], limits);
    let cut = chunked(new(limits), data, &input.cuts, limits);
    let too_large = PayloadError::PayloadTooLarge {
        limit: limits.max_payload_bytes,
    };
    if data.len() <= limits.max_payload_bytes {
        assert_eq!(whole, cut, "chunk invariance");
    } else {
        assert_eq!(
            whole,
            [Err(too_large.clone())],
            "a body over the limit is refused whole"
        );
        let unbounded_limits = limits.with_max_payload_bytes(usize::MAX);
        let unbounded = chunked(new(unbounded_limits), data, &[], unbounded_limits);
        let (last, before) = cut.split_last().expect("an error at least");
        assert!(last.is_err(), "the error comes last");
        assert_eq!(
            before,
            &unbounded[..before.len()],
            "packets of the accepted part"
        );
        if *last != Err(too_large) {
            assert_eq!(cut, unbounded, "a peer error before the bound is the same");
        }
    }
    assert_eq!(
        whole,
        one_shot(data.clone(), limits),
        "one-shot equals incremental"
    );

    let errors = whole.iter().filter(|r| r.is_err()).count();
    assert!(errors <= 1);
    if errors == 1 {
        assert!(whole.last().unwrap().is_err(), "the error comes last");
    }
    assert!(whole.iter().filter(|r| r.is_ok()).count() <= limits.max_packets);
    if errors == 0 {
        assert!(matches!(whole.last(), None | Some(Ok(_))));
    }
    (whole, limits)
}

fn chunked<D: Decoding>(mut d: D, data: &[u8], cuts: &[u16], limits: Limits) -> Results {
    let mut out = Vec::new();
    let mut cuts: Vec<usize> = cuts
        .iter()
        .map(|&c| usize::from(c) % (data.len() + 1))
        .collect();
    cuts.sort_unstable();
    cuts.push(data.len());
    let mut pos = 0;
    let mut failed = false;
    let mut accepted = 0usize;
    let mut refused = false;
    let drain = |d: &mut D, out: &mut Vec<_>, failed: &mut bool| {
        while !*failed {
            match d.poll_packet() {
                Ok(Some(p)) => out.push(Ok(p)),
                Ok(None) => break,
                Err(e) => {
                    // Sticky.
                    assert_eq!(d.poll_packet(), Err(e.clone()));
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
    out
}

#[allow(dead_code)] // not used by eio4_payload
fn is_subsequence(small: &[u8], big: &[u8]) -> bool {
    let mut it = big.iter();
    small.iter().all(|b| it.any(|x| x == b))
}

#[allow(dead_code)] // not used by eio4_payload
fn check_reencoding(encoded: &[u8], input: &[u8], error_free: bool) {
    assert!(
        is_subsequence(encoded, input),
        "decoded packets do not re-encode to a subsequence of the input"
    );
    if error_free && encoded.len() == input.len() {
        assert_eq!(encoded, input);
    }
}
