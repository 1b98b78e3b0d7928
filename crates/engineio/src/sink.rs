//! Where the text encoders write. Each encoder is written once against [`Sink`]; the public
//! functions hand it the caller's [`BufMut`] ([`BufSink`]) and the owned conveniences
//! (`Packet::to_str_form`, `encode_payload`) a `String`, so no text is validated again.
//! Also the two byte-level helpers every encoder shares: decimal digits and base64.

use alloc::string::String;
use base64::Engine as _;
use bytes::BufMut;

/// The base64 engine of the base64 form: standard alphabet, padding written and required,
/// as Node's `Buffer.toString('base64')` writes it.
pub(crate) const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Text output: the caller's buffer or a `String`.
pub(crate) trait Sink {
    /// Appends `s`.
    fn put_str(&mut self, s: &str);
    /// Appends one ASCII byte (`b < 0x80`).
    fn put_ascii(&mut self, b: u8);
    /// Appends ASCII bytes (each `< 0x80`).
    fn put_ascii_slice(&mut self, bytes: &[u8]);
    /// Appends `data` in padded base64.
    fn put_base64(&mut self, data: &[u8]);
    /// Room for `n` more bytes, where the sink can reserve it.
    fn reserve(&mut self, n: usize);
}

impl Sink for String {
    #[inline]
    fn put_str(&mut self, s: &str) {
        self.push_str(s);
    }

    #[inline]
    fn put_ascii(&mut self, b: u8) {
        self.push(char::from(b));
    }

    #[inline]
    fn put_ascii_slice(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(char::from(b));
        }
    }

    fn put_base64(&mut self, data: &[u8]) {
        BASE64.encode_string(data, self);
    }

    #[inline]
    fn reserve(&mut self, n: usize) {
        String::reserve(self, n);
    }
}

/// The caller's [`BufMut`] as a [`Sink`].
pub(crate) struct BufSink<'a, B>(pub(crate) &'a mut B);

impl<B: BufMut> Sink for BufSink<'_, B> {
    #[inline]
    fn put_str(&mut self, s: &str) {
        self.0.put_slice(s.as_bytes());
    }

    #[inline]
    fn put_ascii(&mut self, b: u8) {
        self.0.put_u8(b);
    }

    #[inline]
    fn put_ascii_slice(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }

    fn put_base64(&mut self, data: &[u8]) {
        // 768 input bytes are exactly 1,024 base64 characters, so each chunk fits.
        let mut block = [0u8; 1024];
        for chunk in data.chunks(768) {
            let n = BASE64.encode_slice(chunk, &mut block).unwrap_or(0);
            self.0.put_slice(&block[..n]);
        }
    }

    #[inline]
    fn reserve(&mut self, _: usize) {
        // `BufMut` has no reservation; growable buffers grow as they are written.
    }
}

/// Writes `n` in decimal at the end of `buf`, one digit per byte, each as `zero + digit`:
/// `b'0'` for ASCII digits (text payload lengths, the JSONP index), `0` for the XHR2
/// payload's digit bytes. Returns the digits. The caller owns the buffer, so nothing is
/// moved on the way out (returning the digits in a struct doubled the cost of a payload's
/// length prefixes).
#[inline(always)]
pub(crate) fn decimal(n: u64, zero: u8, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    let mut n = n;
    loop {
        start -= 1;
        buf[start] = zero + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn decimal_digits_in_both_forms() {
        for n in [0u64, 7, 10, 1234, u64::MAX] {
            let ascii = alloc::format!("{n}");
            assert_eq!(decimal(n, b'0', &mut [0; 20]), ascii.as_bytes());
            let values: Vec<u8> = ascii.bytes().map(|b| b - b'0').collect();
            assert_eq!(decimal(n, 0, &mut [0; 20]), values);
        }
    }

    #[test]
    fn both_sinks_write_the_same_base64() {
        for len in [0usize, 1, 2, 3, 767, 768, 769, 2000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut s = String::new();
            s.put_base64(&data);
            let mut v = Vec::new();
            BufSink(&mut v).put_base64(&data);
            assert_eq!(v, s.as_bytes(), "{len}");
            assert_eq!(s, BASE64.encode(&data));
        }
    }
}
