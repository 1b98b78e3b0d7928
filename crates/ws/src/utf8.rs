//! Incremental UTF-8 validation for text messages that arrive in pieces.
//!
//! "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte stream is
//! not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket Connection_."
//! (RFC 6455 §8.1). The validator fails at the first byte that cannot start or continue a valid
//! sequence, so a bad message is rejected at the first bad frame (or even the first bad piece
//! of a frame), not after reassembly.

pub use crate::error::Utf8Error;

/// Validates a byte stream as UTF-8, one piece at a time.
///
/// A code point may be split across pieces; [`finish`](Self::finish) reports an error if the
/// stream ends in the middle of one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// Bytes of an incomplete code point carried from the previous piece.
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    pub const fn new() -> Self {
        Utf8Validator {
            partial: [0; 4],
            partial_len: 0,
        }
    }

    /// Whether the stream so far ends on a code point boundary.
    pub const fn is_complete(&self) -> bool {
        self.partial_len == 0
    }

    /// Validates the next piece of the stream. After an error the validator's state is
    /// unspecified; start a new one.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), Utf8Error> {
        if self.partial_len > 0 {
            let have = self.partial_len as usize;
            let need = sequence_len(self.partial[0]);
            let take = (need - have).min(data.len());
            self.partial[have..have + take].copy_from_slice(&data[..take]);
            let now = have + take;
            match simdutf8::compat::from_utf8(&self.partial[..now]) {
                Ok(_) => {
                    self.partial_len = 0;
                    data = &data[take..];
                }
                Err(e) if e.error_len().is_none() && now < need => {
                    // Still a valid prefix, and `data` is exhausted.
                    self.partial_len = now as u8;
                    return Ok(());
                }
                Err(_) => return Err(Utf8Error),
            }
        }
        match simdutf8::compat::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                // The input ends inside a code point that is valid so far.
                let tail = &data[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(Utf8Error),
        }
    }

    /// Ends the stream: an error if it stopped in the middle of a code point.
    pub fn finish(&self) -> Result<(), Utf8Error> {
        if self.partial_len == 0 {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }
}

/// Inputs from this length on are validated with simdutf8, whose SIMD pass pays for its
/// set-up there; shorter ones with `core`.
const SIMD_MIN: usize = 64;

/// Whether `data` is valid UTF-8, for a whole message in one piece. Short inputs (the
/// common chat- and ticker-sized message) are checked for ASCII a word at a time first, then
/// with `core`; simdutf8 is used from [`SIMD_MIN`] bytes on.
#[inline]
pub(crate) fn is_utf8(data: &[u8]) -> bool {
    if data.len() < SIMD_MIN {
        data.is_ascii() || core::str::from_utf8(data).is_ok()
    } else {
        simdutf8::basic::from_utf8(data).is_ok()
    }
}

/// `data` as text if it is valid UTF-8 (the same validators as [`is_utf8`]). The crate allows
/// no `unsafe` outside masking, so text checked earlier is turned into `&str` through this.
#[inline]
pub(crate) fn to_str(data: &[u8]) -> Option<&str> {
    if data.len() < SIMD_MIN {
        core::str::from_utf8(data).ok()
    } else {
        simdutf8::basic::from_utf8(data).ok()
    }
}

/// Length of the sequence introduced by a lead byte already accepted as a valid prefix.
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_and_a_broken_sequence_across_feeds() {
        let mut v = Utf8Validator::new();
        assert!(v.is_complete());
        v.feed(&[0xC3]).unwrap();
        assert!(!v.is_complete(), "inside `é`");
        v.feed(&[0xA9, b'x']).unwrap();
        assert!(v.is_complete());
        // A three-byte lead, then a byte that cannot continue it: an error at once, though
        // the sequence is still short of its length.
        let mut v = Utf8Validator::new();
        v.feed(&[0xE0]).unwrap();
        assert_eq!(v.feed(&[0x41]), Err(Utf8Error));
    }
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn chunked(data: &[u8], cuts: &[usize]) -> Result<(), Utf8Error> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &c in cuts {
            let c = c.clamp(start, data.len());
            v.feed(&data[start..c])?;
            start = c;
        }
        v.feed(&data[start..])?;
        v.finish()
    }

    #[test]
    fn split_code_points() {
        let s = "a\u{3ba}\u{1f79}\u{10348}z".as_bytes();
        for i in 0..=s.len() {
            for j in i..=s.len() {
                assert_eq!(chunked(s, &[i, j]), Ok(()), "{i} {j}");
            }
        }
    }

    #[test]
    fn fails_at_first_bad_piece() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xCE]).unwrap();
        assert_eq!(v.feed(&[0x41]), Err(Utf8Error));
        let mut v = Utf8Validator::new();
        // 0xED 0xA0 is the start of a surrogate: invalid at once.
        assert_eq!(v.feed(&[0xED, 0xA0]), Err(Utf8Error));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xF4, 0x90]), Err(Utf8Error));
        let mut v = Utf8Validator::new();
        v.feed(&[0xF0, 0x90]).unwrap();
        assert_eq!(v.finish(), Err(Utf8Error));
    }

    proptest! {
        #[test]
        fn prop_is_utf8_matches_core(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(is_utf8(&data), core::str::from_utf8(&data).is_ok());
        }

        #[test]
        fn prop_chunked_matches_whole(
            data in proptest::collection::vec(any::<u8>(), 0..40),
            cuts in proptest::collection::vec(0usize..40, 0..6),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let whole = core::str::from_utf8(&data).is_ok();
            prop_assert_eq!(chunked(&data, &cuts).is_ok(), whole);
        }

        #[test]
        fn prop_valid_strings_any_split(s in ".{0,20}", cuts in proptest::collection::vec(0usize..80, 0..6)) {
            let mut cuts: Vec<usize> = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(chunked(s.as_bytes(), &cuts), Ok(()));
        }
    }
}
