//! Payloads: several packets in one polling HTTP body.
//!
//! - **Text payload** `<length>:<packet>` repeated, where `length` counts UTF-16 code units
//!   of the packet's string form (what JavaScript's `String.length` returns), with binary
//!   packets in the base64 form. The empty list is written `0:`.
//! - **Binary (XHR2) payload**: per packet a byte `0` (string) or `1` (binary), the length
//!   as decimal digits stored one per byte (values 0–9), a `0xFF` byte, then the packet
//!   (string packets as UTF-8 and their length in bytes; binary packets in the binary form).
//!
//! Decoding is incremental ([`PayloadDecoder`]) or one-shot ([`decode_text_payload`],
//! [`decode_binary_payload`]); both return the packets before a malformed one, then a
//! [`PayloadError`], and check [`Limits`] before buffering.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Buf, BufMut, Bytes};

use crate::body::Body;
use crate::config::Limits;
use crate::error::{FeedError, PayloadError};
use crate::packet::{Packet, PacketData};
use crate::sink::{decimal, BufSink, Sink};
use crate::utf16::ascii_prefix_len;

/// Which payload encoding a body uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadFormat {
    /// `<length>:<packet>…` (`Content-Type: text/plain; charset=UTF-8`).
    Text,
    /// The XHR2 binary payload (`Content-Type: application/octet-stream`).
    Binary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// At a packet boundary.
    Start,
    /// Reading length digits (`value` so far, `digits` read). `binary`: XHR2 marker 1.
    Length {
        value: usize,
        digits: usize,
        binary: bool,
    },
    /// Reading the packet: `len` units (text) or bytes (XHR2). For text, `scan` bytes of the
    /// buffer hold `units` UTF-16 units so far (kept so a feed never re-scans).
    Body {
        len: usize,
        binary: bool,
        scan: usize,
        units: usize,
    },
    /// End of input reached cleanly.
    Done,
    /// Sticky error.
    Failed(PayloadError),
}

/// Incremental payload decoder: bytes in, packets out.
///
/// # Call order
/// 1. [`PayloadDecoder::feed`] (or [`PayloadDecoder::feed_bytes`]) whatever part of the body
///    arrived. Feeding only buffers.
/// 2. Call [`PayloadDecoder::poll_packet`] until it returns `Ok(None)` ("need more bytes").
/// 3. When the body ends, call [`PayloadDecoder::feed_eof`] and poll again until `Ok(None)`:
///    a body that ends inside a packet yields [`PayloadError::Truncated`];
///    [`PayloadDecoder::is_finished`] then tells a clean end.
///
/// # The bound on input
/// [`Limits::max_payload_bytes`] bounds the *whole body*, as engine.io's
/// `maxHttpBufferSize` does, not only the bytes not yet polled: a feed that would take the
/// body past it is refused with [`FeedError::BufferFull`] and takes nothing. Every packet
/// of the input accepted before it is still delivered by polling; once that input is
/// exhausted, the poll reports [`PayloadError::PayloadTooLarge`] (sticky), because the body
/// can no longer be complete — engine.io drops such a request, and the sessions of this
/// crate close with a parse error. Later feeds are refused too.
///
/// Errors are sticky: after the first, every poll returns it again. Packets returned before
/// it are complete and valid. Within the bound, the packets returned are the same however
/// the body is split into feeds.
///
/// ```
/// use pushwire_engineio::{FeedError, Limits, Packet, PayloadDecoder, PayloadError, PayloadFormat};
///
/// let mut dec = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT.with_max_payload_bytes(8));
/// dec.feed(b"4:4hey").unwrap();
/// assert_eq!(dec.feed(b"1:2"), Err(FeedError::BufferFull { buffered: 6, len: 3, limit: 8 }));
/// assert_eq!(dec.poll_packet(), Ok(Some(Packet::message("hey"))));
/// assert_eq!(dec.poll_packet(), Err(PayloadError::PayloadTooLarge { limit: 8 }));
/// ```
#[derive(Debug, Clone)]
pub struct PayloadDecoder {
    format: PayloadFormat,
    limits: Limits,
    body: Body,
    state: State,
    packets: usize,
}

impl PayloadDecoder {
    /// A decoder for one payload in `format`.
    #[must_use]
    pub fn new(format: PayloadFormat, limits: Limits) -> Self {
        Self {
            format,
            limits,
            body: Body::default(),
            state: State::Start,
            packets: 0,
        }
    }

    /// The format this decoder reads.
    #[must_use]
    pub fn format(&self) -> PayloadFormat {
        self.format
    }

    /// Appends bytes of the body (copied once into the decoder's buffer). Then call
    /// [`PayloadDecoder::poll_packet`]. An empty feed is `Ok(())`; input after a peer error
    /// is accepted and dropped (nothing more will be decoded).
    ///
    /// # Errors
    /// [`FeedError::BufferFull`] when the body would pass [`Limits::max_payload_bytes`]
    /// (see [the bound on input](PayloadDecoder#the-bound-on-input)), [`FeedError::AfterEof`]
    /// after [`PayloadDecoder::feed_eof`]. A refused feed takes nothing.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), FeedError> {
        let keep = !matches!(self.state, State::Failed(_));
        self.body.feed(data, self.limits.max_payload_bytes, keep)
    }

    /// Appends an owned chunk of the body (a `Vec<u8>`, a `String`, [`Bytes`], …); when
    /// nothing is buffered and the chunk is not shared, it is kept without a copy. Then call
    /// [`PayloadDecoder::poll_packet`].
    ///
    /// # Errors
    /// As [`PayloadDecoder::feed`].
    pub fn feed_bytes(&mut self, data: impl Into<Bytes>) -> Result<(), FeedError> {
        let keep = !matches!(self.state, State::Failed(_));
        self.body
            .feed_bytes(data.into(), self.limits.max_payload_bytes, keep)
    }

    /// Marks the end of the body. Then poll until `Ok(None)`. Idempotent.
    pub fn feed_eof(&mut self) {
        self.body.eof = true;
    }

    /// Whether the whole body was decoded without error (after [`PayloadDecoder::feed_eof`]).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.state == State::Done
    }

    /// Number of packets returned so far.
    #[must_use]
    pub fn packets_decoded(&self) -> usize {
        self.packets
    }

    fn fail(&mut self, e: PayloadError) -> Result<Option<Packet>, PayloadError> {
        self.state = State::Failed(e.clone());
        Err(e)
    }

    /// What to report when the buffer holds no more input: need more, or an error.
    fn starved(&mut self) -> Result<Option<Packet>, PayloadError> {
        if self.body.overflow {
            let limit = self.limits.max_payload_bytes;
            self.fail(PayloadError::PayloadTooLarge { limit })
        } else if self.body.eof {
            self.fail(PayloadError::Truncated)
        } else {
            Ok(None)
        }
    }

    /// Returns the next complete packet, `Ok(None)` when more input is needed (or, after
    /// [`PayloadDecoder::feed_eof`], when the payload is finished), or the error at the
    /// first malformed packet. Extra calls are harmless.
    ///
    /// # Errors
    /// A [`PayloadError`]; sticky.
    #[must_use = "a polled packet is removed from the decoder"]
    pub fn poll_packet(&mut self) -> Result<Option<Packet>, PayloadError> {
        loop {
            match self.state {
                State::Failed(ref e) => return Err(e.clone()),
                State::Done => return Ok(None),
                State::Start => {
                    if self.body.buf.is_empty() {
                        if self.body.overflow {
                            return self.starved();
                        }
                        if !self.body.eof {
                            return Ok(None);
                        }
                        if self.format == PayloadFormat::Text && self.body.fed == 0 {
                            // engine.io-parser: `if (data === '') { // parser error`
                            return self.fail(PayloadError::Empty);
                        }
                        self.state = State::Done;
                        return Ok(None);
                    }
                    let binary = match self.format {
                        PayloadFormat::Text => false,
                        PayloadFormat::Binary => {
                            // > <0 for string data, 1 for binary data>
                            let marker = self.body.buf[0];
                            if marker > 1 {
                                return self.fail(PayloadError::InvalidMarker(marker));
                            }
                            self.body.buf.advance(1);
                            marker == 1
                        }
                    };
                    self.state = State::Length {
                        value: 0,
                        digits: 0,
                        binary,
                    };
                }
                State::Length {
                    mut value,
                    mut digits,
                    binary,
                } => {
                    let (sep, digit_of): (u8, fn(u8) -> Option<u8>) = match self.format {
                        // > <length1>:<packet1>
                        PayloadFormat::Text => (b':', |b| b.is_ascii_digit().then(|| b - b'0')),
                        // > <Any number of numbers between 0 and 9><The number 255>
                        PayloadFormat::Binary => (0xFF, |b| (b <= 9).then_some(b)),
                    };
                    let mut i = 0;
                    let mut found = false;
                    let mut err = None;
                    while i < self.body.buf.len() {
                        let b = self.body.buf[i];
                        i += 1;
                        if b == sep {
                            found = true;
                            break;
                        }
                        let Some(d) = digit_of(b) else {
                            err = Some(PayloadError::InvalidLength(b));
                            break;
                        };
                        digits += 1;
                        value = match value
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(usize::from(d)))
                        {
                            Some(v) if v <= self.limits.max_packet_bytes => v,
                            _ => {
                                err = Some(PayloadError::PacketTooLarge {
                                    limit: self.limits.max_packet_bytes,
                                });
                                break;
                            }
                        };
                    }
                    self.body.buf.advance(i);
                    if let Some(e) = err {
                        return self.fail(e);
                    }
                    if !found {
                        self.state = State::Length {
                            value,
                            digits,
                            binary,
                        };
                        return self.starved();
                    }
                    if digits == 0 {
                        return self.fail(PayloadError::MissingLength);
                    }
                    if value == 0 && self.format == PayloadFormat::Text {
                        // engine.io-parser skips `0:` (`if (msg.length) { … }`); it is how
                        // the empty list of packets is written.
                        self.state = State::Start;
                        continue;
                    }
                    if self.packets >= self.limits.max_packets {
                        let limit = self.limits.max_packets;
                        return self.fail(PayloadError::TooManyPackets { limit });
                    }
                    self.state = State::Body {
                        len: value,
                        binary,
                        scan: 0,
                        units: 0,
                    };
                }
                State::Body {
                    len,
                    binary,
                    scan,
                    units,
                } => {
                    let r = match self.format {
                        PayloadFormat::Text => self.text_body(len, scan, units),
                        PayloadFormat::Binary => self.binary_body(len, binary),
                    };
                    match r {
                        Ok(Some(p)) => {
                            self.packets += 1;
                            self.state = State::Start;
                            return Ok(Some(p));
                        }
                        Ok(None) => return self.starved(),
                        Err(e) => return self.fail(e),
                    }
                }
            }
        }
    }

    /// Text payload body: `len` UTF-16 units, `scan` bytes / `units` units already counted.
    fn text_body(
        &mut self,
        len: usize,
        mut scan: usize,
        mut units: usize,
    ) -> Result<Option<Packet>, PayloadError> {
        // > length: length of the packet in __characters__
        // engine.io-parser counts with `String.length`: UTF-16 code units.
        let buf = &self.body.buf[..];
        let max = self.limits.max_packet_bytes;
        let too_large = PayloadError::PacketTooLarge { limit: max };
        while units < len {
            // ASCII run: one byte, one unit.
            let want = (len - units).min(buf.len() - scan);
            let run = ascii_prefix_len(&buf[scan..scan + want]);
            scan += run;
            units += run;
            if scan > max {
                return Err(too_large);
            }
            if units == len || scan == buf.len() {
                break;
            }
            let (width, n) = match buf[scan] {
                0xC2..=0xDF => (2, 1),
                0xE0..=0xEF => (3, 1),
                0xF0..=0xF4 => (4, 2),
                _ => return Err(PayloadError::InvalidUtf8),
            };
            if units + n > len {
                return Err(PayloadError::SplitSurrogate);
            }
            if scan + width > buf.len() {
                break;
            }
            scan += width;
            units += n;
            if scan > max {
                return Err(too_large);
            }
        }
        if units < len {
            self.state = State::Body {
                len,
                binary: false,
                scan,
                units,
            };
            return Ok(None);
        }
        let s = core::str::from_utf8(&buf[..scan]).map_err(|_| PayloadError::InvalidUtf8)?;
        let p = Packet::decode_str(s)?;
        self.body.buf.advance(scan);
        Ok(Some(p))
    }

    /// Binary payload body: `len` bytes, a string packet (UTF-8) or a binary one.
    fn binary_body(&mut self, len: usize, binary: bool) -> Result<Option<Packet>, PayloadError> {
        if self.body.buf.len() < len {
            return Ok(None);
        }
        let body = self.body.buf.split_to(len).freeze();
        if binary {
            Ok(Some(Packet::decode_binary(body)?))
        } else {
            // > string packets UTF-8 encoded; the reference decodes the packet with `utf8.decode`.
            let s = core::str::from_utf8(&body).map_err(|_| PayloadError::InvalidUtf8)?;
            Ok(Some(Packet::decode_str(s)?))
        }
    }
}

/// One-shot decoding of a whole payload: an iterator of `Ok(packet)`s, ending with one
/// `Err` if the payload is malformed. Built by [`decode_text_payload`] and
/// [`decode_binary_payload`].
#[derive(Debug, Clone)]
pub struct PayloadIter {
    decoder: PayloadDecoder,
    done: bool,
}

impl PayloadIter {
    /// The decoder inside (for [`PayloadDecoder::is_finished`] and counts).
    #[must_use]
    pub fn decoder(&self) -> &PayloadDecoder {
        &self.decoder
    }
}

impl Iterator for PayloadIter {
    type Item = Result<Packet, PayloadError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.decoder.poll_packet() {
            Ok(Some(p)) => Some(Ok(p)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for PayloadIter {}

fn decode_all(format: PayloadFormat, input: Bytes, limits: Limits) -> PayloadIter {
    let mut decoder = PayloadDecoder::new(format, limits);
    // A body over the limit is refused whole; the first poll then reports it.
    let _ = decoder.feed_bytes(input);
    decoder.feed_eof();
    PayloadIter {
        decoder,
        done: false,
    }
}

/// Decodes a whole text payload (`6:4hello6:4world`). Accepts a `String`, a `&'static str`,
/// a `Vec<u8>` or [`Bytes`]; a text payload must be UTF-8.
///
/// ```
/// use pushwire_engineio::{decode_text_payload, Limits, Packet, PayloadError};
///
/// let mut it = decode_text_payload("6:4hello2:4€3:4😀", Limits::DEFAULT);
/// assert_eq!(it.next(), Some(Ok(Packet::message("hello"))));
/// assert_eq!(it.next(), Some(Ok(Packet::message("€"))));
/// assert_eq!(it.next(), Some(Ok(Packet::message("😀"))));
/// assert_eq!(it.next(), None);
///
/// let got: Vec<_> = decode_text_payload("2:4a9:4b", Limits::DEFAULT).collect();
/// assert_eq!(got, [Ok(Packet::message("a")), Err(PayloadError::Truncated)]);
/// ```
pub fn decode_text_payload(input: impl Into<Bytes>, limits: Limits) -> PayloadIter {
    decode_all(PayloadFormat::Text, input.into(), limits)
}

/// Decodes a whole XHR2 binary payload; binary packets share `input`'s buffer.
pub fn decode_binary_payload(input: impl Into<Bytes>, limits: Limits) -> PayloadIter {
    decode_all(PayloadFormat::Binary, input.into(), limits)
}

/// Appends the text payload of `packets` to `out`: `<length>:<packet>` each, the length in
/// UTF-16 code units, binary packets in the base64 form; no packets at all are written `0:`.
///
/// ```
/// use pushwire_engineio::{encode_text_payload, Packet};
///
/// let mut out = Vec::new();
/// encode_text_payload(&[Packet::message("hello"), Packet::message("€")], &mut out);
/// assert_eq!(out, "6:4hello2:4€".as_bytes());
/// ```
pub fn encode_text_payload<B: BufMut>(packets: &[Packet], out: &mut B) {
    write_text_payload(packets, &mut BufSink(out));
}

/// [`encode_text_payload`] into any [`Sink`].
fn write_text_payload<S: Sink>(packets: &[Packet], out: &mut S) {
    if packets.is_empty() {
        // engine.io-parser: `if (!packets.length) { return callback('0:'); }`
        out.put_str("0:");
        return;
    }
    let extra: usize = packets.iter().map(|p| p.str_len() + 8).sum();
    out.reserve(extra);
    for p in packets {
        // > <length1>:<packet1>[<length2>:<packet2>[...]]
        out.put_ascii_slice(decimal(p.str_utf16_len() as u64, b'0', &mut [0; 20]));
        out.put_ascii(b':');
        p.write_str(out);
    }
}

/// Appends the XHR2 binary payload of `packets` to `out`. String packets are written as
/// UTF-8 with their length in bytes; no packets at all are written as nothing.
///
/// ```
/// use pushwire_engineio::{encode_binary_payload, Packet};
///
/// let mut out = Vec::new();
/// encode_binary_payload(&[Packet::message("€"), Packet::binary_message(vec![1, 2, 3, 4])], &mut out);
/// assert_eq!(out, [0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 1, 2, 3, 4]);
/// ```
pub fn encode_binary_payload<B: BufMut>(packets: &[Packet], out: &mut B) {
    for p in packets {
        let (marker, first, data): (u8, u8, &[u8]) = match &p.data {
            // > <0 for string data, 1 for binary data>
            PacketData::Text(s) => (0, p.kind.digit(), s.as_bytes()),
            PacketData::Binary(b) => (1, p.kind.number(), b),
        };
        // > <Any number of numbers between 0 and 9><The number 255>
        out.put_u8(marker);
        out.put_slice(decimal(1 + data.len() as u64, 0, &mut [0; 20]));
        out.put_u8(0xFF);
        out.put_u8(first);
        out.put_slice(data);
    }
}

/// A payload ready to send, as [`encode_payload`] chose it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EncodedPayload {
    /// A text payload (`Content-Type: text/plain; charset=UTF-8`).
    Text(String),
    /// An XHR2 binary payload (`Content-Type: application/octet-stream`).
    Binary(Vec<u8>),
}

/// Encodes `packets` into a new buffer the way engine.io 3.x chooses: an XHR2 binary
/// payload when the peer supports binary (no `b64=1`) *and* at least one packet is binary,
/// otherwise a text payload (binary packets in the base64 form).
#[must_use]
pub fn encode_payload(packets: &[Packet], supports_binary: bool) -> EncodedPayload {
    // engine.io-parser: `if (supportsBinary && hasBinary(packets)) { return encodePayloadAsBinary… }`
    if supports_binary && packets.iter().any(|p| p.data.is_binary()) {
        let mut out = Vec::with_capacity(packets.iter().map(|p| p.str_len() + 24).sum());
        encode_binary_payload(packets, &mut out);
        EncodedPayload::Binary(out)
    } else {
        let mut out = String::new();
        write_text_payload(packets, &mut out);
        EncodedPayload::Text(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PacketError;
    use crate::packet_type::PacketType;
    use alloc::vec;

    fn text(input: &'static str) -> Vec<Result<Packet, PayloadError>> {
        decode_text_payload(input, Limits::DEFAULT).collect()
    }

    fn bin(input: &[u8]) -> Vec<Result<Packet, PayloadError>> {
        decode_binary_payload(input.to_vec(), Limits::DEFAULT).collect()
    }

    fn enc_text(packets: &[Packet]) -> String {
        let mut out = Vec::new();
        encode_text_payload(packets, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn enc_bin(packets: &[Packet]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_binary_payload(packets, &mut out);
        out
    }

    #[test]
    fn a_text_packet_of_exactly_max_packet_bytes_fits() {
        // The packet's bytes (type digit and data, 2-byte `é`s included) against the limit.
        let limits = Limits::DEFAULT.with_max_packet_bytes(7);
        let ok = decode_text_payload("5:4aaéé", limits).collect::<Vec<_>>();
        assert_eq!(ok, [Ok(Packet::message("aaéé"))]);
        let over = decode_text_payload("6:4aaaéé", limits).collect::<Vec<_>>();
        assert!(
            matches!(
                over.last(),
                Some(Err(PayloadError::PacketTooLarge { limit: 7 }))
            ),
            "{over:?}"
        );
    }

    #[test]
    fn a_text_packet_may_reach_max_packet_bytes_in_its_last_ascii_run() {
        // The packet's bytes are checked after each run of ASCII as after each multi-byte
        // character. At the limit exactly (7 bytes), ending in ASCII or in a surrogate pair
        // that ends exactly at the declared length, the packet fits:
        // > length: length of the packet in __characters__
        let limits = Limits::DEFAULT.with_max_packet_bytes(7);
        for (wire, data) in [
            ("7:4aaaaaa", "aaaaaa"),
            // 1 + 2 + 2 + 1 + 1 bytes; 5 UTF-16 units.
            ("5:4ééaa", "ééaa"),
            // 1 + 1 + 1 + 4 bytes; `😀` is 2 UTF-16 units, the 4th and 5th.
            ("5:4aa😀", "aa😀"),
        ] {
            let got: Vec<_> = decode_text_payload(wire, limits).collect();
            assert_eq!(got, [Ok(Packet::message(data))], "{wire}");
        }
        // One byte more, found in the ASCII run after the multi-byte characters: 6 units,
        // under the limit, but 8 bytes.
        let got: Vec<_> = decode_text_payload("6:4ééaaa", limits).collect();
        assert_eq!(got, [Err(PayloadError::PacketTooLarge { limit: 7 })]);
        let got: Vec<_> = decode_text_payload("8:4aaaaaaa", limits).collect();
        assert_eq!(got, [Err(PayloadError::PacketTooLarge { limit: 7 })]);
    }

    #[test]
    fn a_character_cut_by_the_end_of_a_feed_waits_for_its_last_byte() {
        let mut d = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
        // `3:4😀` cut inside the 4-byte character: nothing yet.
        d.feed(b"3:4\xf0\x9f\x98").unwrap();
        assert_eq!(d.poll_packet(), Ok(None));
        // Its last byte ends the buffer exactly: the packet is complete, without EOF.
        d.feed(b"\x80").unwrap();
        assert_eq!(d.poll_packet(), Ok(Some(Packet::message("😀"))));
        assert_eq!(d.poll_packet(), Ok(None));
        // The same with a 2-byte character ending both the packet and the buffer.
        d.feed(b"2:4\xc3").unwrap();
        assert_eq!(d.poll_packet(), Ok(None));
        d.feed(b"\xa9").unwrap();
        assert_eq!(d.poll_packet(), Ok(Some(Packet::message("é"))));
        d.feed_eof();
        assert_eq!(d.poll_packet(), Ok(None));
        assert!(d.is_finished());
        assert_eq!(d.packets_decoded(), 2);
    }

    #[test]
    fn a_decoder_is_finished_only_after_the_whole_body() {
        let mut d = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
        assert!(!d.is_finished());
        d.feed(b"4:4hey").unwrap();
        assert_eq!(d.poll_packet(), Ok(Some(Packet::message("hey"))));
        assert!(!d.is_finished(), "more may come before the end of the body");
        d.feed_eof();
        assert_eq!(d.poll_packet(), Ok(None));
        assert!(d.is_finished());
        // A body that ends inside a packet is not finished.
        let mut cut = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
        cut.feed(b"4:4h").unwrap();
        cut.feed_eof();
        assert!(cut.poll_packet().is_err());
        assert!(!cut.is_finished());
    }

    #[test]
    fn spec_sample_request_2() {
        // > 4:4hey
        assert_eq!(text("4:4hey"), [Ok(Packet::message("hey"))]);
        assert_eq!(enc_text(&[Packet::message("hey")]), "4:4hey");
    }

    #[test]
    fn spec_sample_request_3() {
        // > 6:4hello6:4world
        let ps = [Packet::message("hello"), Packet::message("world")];
        assert_eq!(enc_text(&ps), "6:4hello6:4world");
        assert_eq!(
            text("6:4hello6:4world"),
            [Ok(ps[0].clone()), Ok(ps[1].clone())]
        );
    }

    #[test]
    fn spec_example_without_binary_counts_characters() {
        // > Please note that we are not counting bytes, but characters, hence 2 (1 + 1)
        // > instead of 4 (1 + 3).
        let ps = [Packet::message("hello"), Packet::message("€")];
        assert_eq!(enc_text(&ps), "6:4hello2:4€");
        assert_eq!(text("6:4hello2:4€"), [Ok(ps[0].clone()), Ok(ps[1].clone())]);
    }

    #[test]
    fn spec_example_with_binary_xhr2() {
        // > buffer <00 04 ff 34 e2 82 ac 01 05 ff 04 01 02 03 04>
        let wire = [
            0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03,
            0x04,
        ];
        let ps = [
            Packet::message("€"),
            Packet::binary_message(vec![1u8, 2, 3, 4]),
        ];
        assert_eq!(enc_bin(&ps), wire);
        assert_eq!(bin(&wire), [Ok(ps[0].clone()), Ok(ps[1].clone())]);
        assert_eq!(
            encode_payload(&ps, true),
            EncodedPayload::Binary(wire.to_vec())
        );
    }

    #[test]
    fn spec_example_with_binary_base64() {
        // > 2:4€10:b4AQIDBA==
        let ps = [
            Packet::message("€"),
            Packet::binary_message(vec![1u8, 2, 3, 4]),
        ];
        assert_eq!(enc_text(&ps), "2:4€10:b4AQIDBA==");
        assert_eq!(
            text("2:4€10:b4AQIDBA=="),
            [Ok(ps[0].clone()), Ok(ps[1].clone())]
        );
        assert_eq!(
            encode_payload(&ps, false),
            EncodedPayload::Text("2:4€10:b4AQIDBA==".into())
        );
    }

    #[test]
    fn astral_characters_count_two_units() {
        assert_eq!(enc_text(&[Packet::message("😀")]), "3:4😀");
        assert_eq!(text("3:4😀"), [Ok(Packet::message("😀"))]);
        // A byte count (python-engineio's `5:4😀`) is too long for the reference.
        assert_eq!(text("5:4😀"), [Err(PayloadError::Truncated)]);
    }

    #[test]
    fn length_splitting_a_surrogate_pair_is_an_error() {
        assert_eq!(text("2:4😀"), [Err(PayloadError::SplitSurrogate)]);
        assert_eq!(text("1:4"), [Ok(Packet::message(""))]);
    }

    #[test]
    fn empty_list_and_empty_payload() {
        assert_eq!(enc_text(&[]), "0:");
        assert_eq!(text("0:"), []);
        assert_eq!(text("0:0:1:6"), [Ok(Packet::empty(PacketType::Noop))]);
        // engine.io-parser: `if (data === '') { // parser error`
        assert_eq!(text(""), [Err(PayloadError::Empty)]);
        assert_eq!(enc_bin(&[]), b"");
        assert_eq!(bin(b""), []);
        assert_eq!(encode_payload(&[], true), EncodedPayload::Text("0:".into()));
    }

    #[test]
    fn empty_string_message_is_one_character() {
        // INTEROP.md: the empty string travels as `1:4`.
        assert_eq!(enc_text(&[Packet::message("")]), "1:4");
        assert_eq!(enc_bin(&[Packet::message("")]), [0, 1, 0xff, b'4']);
    }

    #[test]
    fn packets_before_an_error_are_returned() {
        assert_eq!(
            text("1:21:x1:3"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::Packet(PacketError::UnknownTypeChar('x')))
            ]
        );
        assert_eq!(
            text("1:2a:3"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::InvalidLength(b'a'))
            ]
        );
        assert_eq!(
            text("1:2:3"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::MissingLength)
            ]
        );
        assert_eq!(
            text("1:212"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::Truncated)
            ]
        );
        assert_eq!(
            bin(&[0, 1, 0xff, b'2', 2, 1, 0xff, 4]),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::InvalidMarker(2))
            ]
        );
    }

    #[test]
    fn text_length_rejects_non_digits() {
        // The reference's `Number(length)` would accept these; we accept ASCII digits only.
        for bad in [" 1:2", "+1:2", "1.0:2", "0x1:2", "1e0:2"] {
            let got: Vec<_> = decode_text_payload(bad, Limits::DEFAULT).collect();
            assert!(
                matches!(got.as_slice(), [Err(PayloadError::InvalidLength(_))]),
                "{bad}: {got:?}"
            );
        }
        assert_eq!(text("01:2"), [Ok(Packet::empty(PacketType::Ping))]);
    }

    #[test]
    fn text_payload_must_be_utf8() {
        let got: Vec<_> = decode_text_payload(&b"2:4\xff"[..], Limits::DEFAULT).collect();
        assert_eq!(got, [Err(PayloadError::InvalidUtf8)]);
        let got: Vec<_> = decode_text_payload(&b"2:4\xed\xa0\x80"[..], Limits::DEFAULT).collect();
        assert_eq!(got, [Err(PayloadError::InvalidUtf8)]);
    }

    #[test]
    fn binary_payload_rules() {
        // Digits are byte values 0-9, not ASCII.
        assert_eq!(
            bin(&[0, b'1', 0xff, b'2']),
            [Err(PayloadError::InvalidLength(b'1'))]
        );
        assert_eq!(bin(&[0, 0xff, b'2']), [Err(PayloadError::MissingLength)]);
        assert_eq!(bin(&[0, 1]), [Err(PayloadError::Truncated)]);
        assert_eq!(bin(&[0, 2, 0xff, b'4']), [Err(PayloadError::Truncated)]);
        assert_eq!(
            bin(&[0, 0, 0xff]),
            [Err(PayloadError::Packet(PacketError::Empty))]
        );
        assert_eq!(
            bin(&[1, 0, 0xff]),
            [Err(PayloadError::Packet(PacketError::Empty))]
        );
        assert_eq!(
            bin(&[1, 1, 0xff, 9]),
            [Err(PayloadError::Packet(PacketError::UnknownTypeByte(9)))]
        );
        // String packets are UTF-8 with their length in bytes.
        assert_eq!(
            bin(&[0, 5, 0xff, b'4', 0xf0, 0x9f, 0x98, 0x80]),
            [Ok(Packet::message("😀"))]
        );
        assert_eq!(
            bin(&[0, 2, 0xff, b'4', 0xff]),
            [Err(PayloadError::InvalidUtf8)]
        );
        // A string entry may hold a base64 packet, as in engine.io-parser's decodePacket.
        assert_eq!(
            bin(&[0, 4, 0xff, b'b', b'4', b'A', b'Q', b'=', b'=']),
            [Err(PayloadError::Packet(PacketError::InvalidBase64))]
        );
        assert_eq!(
            bin(&[0, 6, 0xff, b'b', b'4', b'A', b'Q', b'=', b'=']),
            [Ok(Packet::binary_message(vec![1u8]))]
        );
        // Multi-digit lengths.
        let long = Packet::message("x".repeat(1234));
        let wire = enc_bin(core::slice::from_ref(&long));
        assert_eq!(&wire[..7], &[0, 1, 2, 3, 5, 0xff, b'4']);
        assert_eq!(bin(&wire), [Ok(long)]);
    }

    #[test]
    fn limits_packets_per_payload() {
        let l = Limits::DEFAULT.with_max_packets(2);
        let got: Vec<_> = decode_text_payload("1:21:21:2", l).collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], Err(PayloadError::TooManyPackets { limit: 2 }));
        // `0:` entries are not packets.
        let got: Vec<_> = decode_text_payload("1:20:0:1:2", l).collect();
        assert!(got.iter().all(Result::is_ok));
        const { assert!(Limits::DEFAULT.max_packets > 16) };
    }

    #[test]
    fn limits_packet_bytes_checked_on_the_declared_length() {
        let l = Limits::DEFAULT.with_max_packet_bytes(5);
        // Rejected as soon as the digits exceed the limit, before any body byte.
        let mut d = PayloadDecoder::new(PayloadFormat::Text, l);
        d.feed(b"1:299").unwrap();
        assert_eq!(d.poll_packet(), Ok(Some(Packet::empty(PacketType::Ping))));
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PacketTooLarge { limit: 5 })
        );
        // UTF-16 units under the limit but bytes over it.
        let got: Vec<_> = decode_text_payload("3:4€€", l).collect();
        assert_eq!(got, [Err(PayloadError::PacketTooLarge { limit: 5 })]);
        let got: Vec<_> = decode_binary_payload(vec![1u8, 6, 0xff], l).collect();
        assert_eq!(got, [Err(PayloadError::PacketTooLarge { limit: 5 })]);
        // A huge digit string neither overflows nor allocates.
        let got: Vec<_> = decode_text_payload("99999999999999999999999999:", l).collect();
        assert_eq!(got, [Err(PayloadError::PacketTooLarge { limit: 5 })]);
    }

    #[test]
    fn limits_payload_bytes_refuse_a_whole_body_over_the_limit() {
        let l = Limits::DEFAULT.with_max_payload_bytes(6);
        // One-shot: the body is refused whole, as engine.io drops it unread.
        let got: Vec<_> = decode_text_payload("1:21:21:2", l).collect();
        assert_eq!(got, [Err(PayloadError::PayloadTooLarge { limit: 6 })]);
        let got: Vec<_> = decode_text_payload("1:21:2", l).collect();
        assert_eq!(
            got,
            [
                Ok(Packet::empty(PacketType::Ping)),
                Ok(Packet::empty(PacketType::Ping))
            ]
        );
    }

    #[test]
    fn feed_far_past_the_bound_is_refused_exactly_and_nothing_accepted_is_lost() {
        let limit = 100;
        let mut d = PayloadDecoder::new(
            PayloadFormat::Text,
            Limits::DEFAULT.with_max_payload_bytes(limit),
        );
        // 33 three-byte pings (99 bytes) fit; nothing is polled in between.
        for i in 0..33 {
            assert_eq!(d.feed(b"1:2"), Ok(()), "feed {i}");
        }
        assert_eq!(d.feed(b""), Ok(()));
        assert_eq!(
            d.feed(b"1:2"),
            Err(FeedError::BufferFull {
                buffered: 99,
                len: 3,
                limit
            })
        );
        // Far past the bound, owned or not: refused, nothing taken.
        assert_eq!(
            d.feed_bytes(vec![b'x'; 10_000]),
            Err(FeedError::BufferFull {
                buffered: 99,
                len: 10_000,
                limit
            })
        );
        // A chunk that would fit on its own is refused too: the body has a hole now.
        assert_eq!(
            d.feed(b"1"),
            Err(FeedError::BufferFull {
                buffered: 99,
                len: 1,
                limit
            })
        );
        for i in 0..33 {
            assert_eq!(
                d.poll_packet(),
                Ok(Some(Packet::empty(PacketType::Ping))),
                "packet {i}"
            );
        }
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PayloadTooLarge { limit })
        );
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PayloadTooLarge { limit })
        );
        assert_eq!(d.packets_decoded(), 33);
        // Within the bound, a refusal in the middle of a packet reports the same after the
        // packets before it.
        let mut d = PayloadDecoder::new(
            PayloadFormat::Binary,
            Limits::DEFAULT.with_max_payload_bytes(8),
        );
        d.feed(&[0, 1, 0xff, b'6', 0, 3]).unwrap();
        assert_eq!(
            d.feed(&[0xff, b'4', b'a', b'b']),
            Err(FeedError::BufferFull {
                buffered: 6,
                len: 4,
                limit: 8
            })
        );
        assert_eq!(d.poll_packet(), Ok(Some(Packet::empty(PacketType::Noop))));
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PayloadTooLarge { limit: 8 })
        );
    }

    #[test]
    fn errors_are_sticky_and_polls_harmless() {
        let mut d = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
        d.feed(b"x").unwrap();
        assert_eq!(d.poll_packet(), Err(PayloadError::InvalidLength(b'x')));
        d.feed(b"1:2").unwrap();
        assert_eq!(d.poll_packet(), Err(PayloadError::InvalidLength(b'x')));
        let mut d = PayloadDecoder::new(PayloadFormat::Text, Limits::DEFAULT);
        d.feed(b"1:2").unwrap();
        d.feed_eof();
        d.feed_eof();
        assert_eq!(d.feed(b"1:2"), Err(FeedError::AfterEof));
        assert_eq!(d.feed(b""), Err(FeedError::AfterEof));
        assert_eq!(d.feed_bytes(&b"1:2"[..]), Err(FeedError::AfterEof));
        assert!(d.poll_packet().unwrap().is_some());
        assert_eq!(d.poll_packet(), Ok(None));
        assert_eq!(d.poll_packet(), Ok(None));
        assert!(d.is_finished());
        assert_eq!(d.packets_decoded(), 1);
    }

    #[test]
    fn binary_packets_share_the_input_buffer() {
        let input = Bytes::from(vec![1u8, 4, 0xff, 4, 9, 9, 9]);
        let start = input.as_ptr() as usize;
        let p = decode_binary_payload(input, Limits::DEFAULT)
            .next()
            .unwrap()
            .unwrap();
        let data = p.data.as_binary().unwrap();
        assert_eq!(&data[..], [9, 9, 9]);
        assert_eq!(data.as_ptr() as usize, start + 4);
    }
}
