//! UTF-16 length arithmetic: text payload lengths count what JavaScript's `String.length`
//! counts, the ASCII scan the text payload decoder shares with it, and the word-at-a-time
//! search for revision 4's record separator.

use core::ops::ControlFlow;

/// The top bit of every byte of a word: a byte is ASCII when its bit is clear.
const HI: u64 = 0x8080_8080_8080_8080;

/// Length of `s` in UTF-16 code units, as JavaScript's `String.length` counts it.
///
/// Every character counts 1 except those outside the Basic Multilingual Plane (4 UTF-8
/// bytes), which count 2. Computed from the bytes without decoding: the byte length, minus
/// the continuation bytes (`0b10xx_xxxx`), plus the lead bytes of 4-byte sequences
/// (`0b1111_0xxx`), counted eight bytes at a time; ASCII is skipped 32 bytes per test.
#[must_use]
pub fn utf16_len(s: &str) -> usize {
    let (mut continuation, mut four_byte_leads) = (0usize, 0usize);
    // Shifting a word left by k moves bit 7-k of each byte to its bit 7 (bits crossing into
    // the next byte land in bits 0..k, which `HI` masks out), so each test is per byte.
    let _ = scan_non_ascii(s.as_bytes(), |_, w| {
        continuation += ((w & !(w << 1)) & HI).count_ones() as usize;
        four_byte_leads += (w & (w << 1) & (w << 2) & (w << 3) & HI).count_ones() as usize;
        ControlFlow::Continue(())
    });
    s.len() - continuation + four_byte_leads
}

/// Length of the longest all-ASCII prefix of `bytes`.
pub(crate) fn ascii_prefix_len(bytes: &[u8]) -> usize {
    let first = scan_non_ascii(bytes, |at, w| {
        let hi = w & HI;
        if hi == 0 {
            return ControlFlow::Continue(());
        }
        // Little-endian: the first byte in memory is the lowest.
        ControlFlow::Break(at + (hi.trailing_zeros() / 8) as usize)
    });
    match first {
        ControlFlow::Break(n) => n,
        ControlFlow::Continue(()) => bytes.len(),
    }
}

/// The one ASCII scan: walks `bytes` as little-endian words and calls `f(offset, word)` for
/// the words that may hold a non-ASCII byte, in order, until `f` breaks. ASCII is skipped
/// 32 bytes per test; inside a 32-byte block that is not all ASCII every word is handed
/// over (some may be ASCII). The tail is padded with zero bytes, which are ASCII.
#[inline(always)]
fn scan_non_ascii<F>(bytes: &[u8], mut f: F) -> ControlFlow<usize>
where
    F: FnMut(usize, u64) -> ControlFlow<usize>,
{
    let mut at = 0;
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        let w = [
            word(block, 0),
            word(block, 8),
            word(block, 16),
            word(block, 24),
        ];
        if (w[0] | w[1] | w[2] | w[3]) & HI != 0 {
            for (i, w) in w.into_iter().enumerate() {
                f(at + 8 * i, w)?;
            }
        }
        at += 32;
    }
    let mut words = blocks.remainder().chunks_exact(8);
    for w in &mut words {
        let w = word(w, 0);
        if w & HI != 0 {
            f(at, w)?;
        }
        at += 8;
    }
    // The last 0..=7 bytes as one word padded with zero bytes (ASCII), built byte by byte:
    // a `copy_from_slice` of a variable length is a `memcpy` call per scan.
    let mut w = 0u64;
    for (i, &b) in words.remainder().iter().enumerate() {
        w |= u64::from(b) << (8 * i);
    }
    if w & HI != 0 {
        f(at, w)?;
    }
    ControlFlow::Continue(())
}

/// Every byte of a word set to 1.
const LO: u64 = 0x0101_0101_0101_0101;

/// The offset of the first `needle` in `bytes`, tested eight bytes at a time (16 per loop
/// turn). A byte-by-byte `position` does not vectorise: on revision 4 payloads of ~100-byte
/// packets it was the larger part of the decoder's time.
#[must_use]
pub(crate) fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    let splat = LO * u64::from(needle);
    // `x - LO & !x & HI` is non-zero when a byte of `x` is zero; its lowest set bit marks the
    // first zero byte exactly (a borrow only sets bits above a zero byte), and the first
    // byte in memory is the lowest of a little-endian word.
    let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let mut at = 0;
    let mut pairs = bytes.chunks_exact(16);
    for pair in &mut pairs {
        let (a, b) = (zero(word(pair, 0) ^ splat), zero(word(pair, 8) ^ splat));
        if a | b != 0 {
            let (off, z) = if a != 0 { (0, a) } else { (8, b) };
            return Some(at + off + (z.trailing_zeros() / 8) as usize);
        }
        at += 16;
    }
    pairs
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|i| at + i)
}

/// The eight bytes of `b` at `at` as a little-endian word.
#[inline(always)]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    #[test]
    fn find_byte_matches_position() {
        // Every length around the 16-byte blocks, the needle anywhere (or nowhere), and the
        // bytes a borrow could confuse with it (needle + 1, needle - 1, 0x80 | needle) around.
        for len in 0..70usize {
            for fill in [b'a', 0x1d, 0x1f, 0x9e, 0x00, 0xff] {
                let mut v = vec![fill; len];
                assert_eq!(find_byte(&v, 0x1e), None, "{len} {fill:#x}");
                for at in 0..len {
                    v[at] = 0x1e;
                    let want = v.iter().position(|&b| b == 0x1e);
                    assert_eq!(find_byte(&v, 0x1e), want, "{len} {fill:#x} {at}");
                    if at + 1 < len {
                        v[at + 1] = 0x1e;
                        assert_eq!(find_byte(&v, 0x1e), Some(at), "{len} {fill:#x} {at} pair");
                        v[at + 1] = fill;
                    }
                    v[at] = fill;
                }
            }
        }
    }

    #[test]
    fn utf16_len_matches_encode_utf16() {
        for s in ["", "a", "€", "😀", "4hello", "a😀b€c", "\u{10FFFF}\u{FFFF}"] {
            assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s:?}");
        }
        // Every length around the 8- and 32-byte blocks, with the non-ASCII character anywhere.
        for len in 0..200usize {
            for at in [0, len / 2, len.saturating_sub(1)] {
                for c in ['é', '€', '😀'] {
                    let mut s: String = "a".repeat(len);
                    if len > 0 {
                        s.replace_range(at..=at, c.encode_utf8(&mut [0; 4]));
                    }
                    assert_eq!(utf16_len(&s), s.encode_utf16().count(), "{len} {at} {c}");
                }
            }
            let mut s: String = "a".repeat(len);
            assert_eq!(ascii_prefix_len(s.as_bytes()), len);
            for at in 0..len {
                s.replace_range(at..=at, "é");
                assert_eq!(ascii_prefix_len(s.as_bytes()), at, "{len} {at}");
                s.replace_range(at..at + 2, "a");
            }
            let all = "😀".repeat(len);
            assert_eq!(utf16_len(&all), 2 * len);
        }
    }

    #[test]
    fn non_ascii_bytes_at_the_same_place_in_two_words_of_a_block_are_seen() {
        // A 32-byte block whose non-ASCII bytes sit at the same offsets in two of its
        // 8-byte words: the block test must OR the words (their high bits would cancel in
        // an XOR). `é` is 2 bytes, 1 UTF-16 unit.
        for (a, b) in [(0, 1), (0, 2), (1, 3), (2, 3), (0, 3), (1, 2)] {
            let mut bytes = [b'a'; 32];
            for w in [a, b] {
                bytes[8 * w + 6..8 * w + 8].copy_from_slice("é".as_bytes());
            }
            let s = core::str::from_utf8(&bytes).unwrap();
            assert_eq!(utf16_len(s), 30, "words {a} and {b}");
            assert_eq!(
                ascii_prefix_len(s.as_bytes()),
                8 * a + 6,
                "words {a} and {b}"
            );
        }
    }
}
