//! Revision 4 payloads: the packets of one polling HTTP body joined by the record separator.
//!
//! > The packets are separated by the record separator character: `\x1e`
//!
//! Each packet is in the revision 4 string form (`4hello`, binary data as `b<base64>`). There
//! are no lengths, no XHR2 binary payload and no `0:` for the empty list.

use alloc::string::String;
use bytes::{Buf, BufMut, Bytes};

use super::packet::{decode_packet, packet_len, write_packet};
use crate::body::Body;
use crate::config::Limits;
use crate::error::{FeedError, PayloadError};
use crate::packet::Packet;
use crate::sink::{BufSink, Sink};
use crate::utf16::find_byte;

/// The record separator between the packets of a payload.
pub const SEPARATOR: u8 = 0x1e;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Reading packets.
    Open,
    /// The last packet came out.
    Done,
    /// Sticky error.
    Failed(PayloadError),
}

/// Incremental revision 4 payload decoder: bytes in, packets out.
///
/// # Call order
/// 1. [`PayloadDecoder::feed`] (or [`PayloadDecoder::feed_bytes`]) whatever part of the body
///    arrived. Feeding only buffers.
/// 2. Call [`PayloadDecoder::poll_packet`] until it returns `Ok(None)` ("need more bytes"):
///    every packet followed by a separator comes out.
/// 3. When the body ends, call [`PayloadDecoder::feed_eof`] and poll again until `Ok(None)`:
///    what follows the last separator is the last packet. [`PayloadDecoder::is_finished`]
///    then tells a clean end.
///
/// # Bounds
/// As the revision 3 [`crate::PayloadDecoder`]: [`Limits::max_payload_bytes`] bounds the
/// whole body (engine.io's `maxHttpBufferSize`; a feed past it is refused with
/// [`FeedError::BufferFull`], takes nothing, and once the packets before it are out the poll
/// reports [`PayloadError::PayloadTooLarge`]); [`Limits::max_packets`] bounds the packets and
/// [`Limits::max_packet_bytes`] the bytes of one packet, checked while its separator is
/// still being looked for. Each byte is scanned once, however the body is split.
///
/// Errors are sticky; the packets returned before one are complete and valid. Within the
/// bounds, the packets and the error are the same however the body is split into feeds.
///
/// ```
/// use pushwire_engineio::{v4, Limits, Packet, PacketType};
///
/// let mut dec = v4::PayloadDecoder::new(Limits::DEFAULT);
/// dec.feed(b"4hello\x1e2\x1e4wor")?;
/// assert_eq!(dec.poll_packet(), Ok(Some(Packet::message("hello"))));
/// assert_eq!(dec.poll_packet(), Ok(Some(Packet::empty(PacketType::Ping))));
/// assert_eq!(dec.poll_packet(), Ok(None)); // "4wor" may go on
/// dec.feed(b"ld")?;
/// dec.feed_eof();
/// assert_eq!(dec.poll_packet(), Ok(Some(Packet::message("world"))));
/// assert_eq!(dec.poll_packet(), Ok(None));
/// assert!(dec.is_finished());
/// # Ok::<(), pushwire_engineio::FeedError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PayloadDecoder {
    limits: Limits,
    body: Body,
    /// Bytes of the buffer known to hold no separator.
    scan: usize,
    state: State,
    packets: usize,
}

impl PayloadDecoder {
    /// A decoder for one revision 4 payload.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            body: Body::default(),
            scan: 0,
            state: State::Open,
            packets: 0,
        }
    }

    /// Appends bytes of the body (copied once). Then call [`PayloadDecoder::poll_packet`].
    /// An empty feed is `Ok(())`; input after a peer error is accepted and dropped.
    ///
    /// # Errors
    /// [`FeedError::BufferFull`] when the body would pass [`Limits::max_payload_bytes`],
    /// [`FeedError::AfterEof`] after [`PayloadDecoder::feed_eof`]. A refused feed takes
    /// nothing.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), FeedError> {
        let keep = !matches!(self.state, State::Failed(_));
        self.body.feed(data, self.limits.max_payload_bytes, keep)
    }

    /// Appends an owned chunk of the body; when nothing is buffered and the chunk is not
    /// shared, it is kept without a copy. Then call [`PayloadDecoder::poll_packet`].
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

    /// Returns the next complete packet, `Ok(None)` when more input is needed (or, after
    /// [`PayloadDecoder::feed_eof`], when the payload is finished), or the error at the
    /// first malformed packet. Extra calls are harmless.
    ///
    /// # Errors
    /// A [`PayloadError`]; sticky: [`PayloadError::Empty`] for a body of zero bytes,
    /// [`PayloadError::Packet`] for a malformed packet (an empty one too: `4a\x1e` ends with
    /// one), [`PayloadError::InvalidUtf8`], and the three limits.
    #[must_use = "a polled packet is removed from the decoder"]
    pub fn poll_packet(&mut self) -> Result<Option<Packet>, PayloadError> {
        match self.state {
            State::Failed(ref e) => return Err(e.clone()),
            State::Done => return Ok(None),
            State::Open => {}
        }
        let found = find_byte(&self.body.buf[self.scan..], SEPARATOR).map(|i| self.scan + i);
        let (len, last) = match found {
            Some(i) => (i, false),
            None => {
                self.scan = self.body.buf.len();
                if self.body.overflow {
                    // The body is cut short: what is buffered is not a whole packet.
                    let limit = self.limits.max_payload_bytes;
                    return self.fail(PayloadError::PayloadTooLarge { limit });
                }
                if !self.body.eof {
                    // A packet still growing: its count and size are already known to fail.
                    if !self.body.buf.is_empty() {
                        if let Err(e) = self.check_limits(self.body.buf.len()) {
                            return self.fail(e);
                        }
                    }
                    return Ok(None);
                }
                if self.body.fed == 0 {
                    // engine.io-parser 5 splits "" into one empty packet, a parse error.
                    return self.fail(PayloadError::Empty);
                }
                // > <packet type>[<data>]<separator>…<packet type>[<data>]
                // What follows the last separator is a packet, even when empty.
                (self.body.buf.len(), true)
            }
        };
        if let Err(e) = self.check_limits(len) {
            return self.fail(e);
        }
        let r = match core::str::from_utf8(&self.body.buf[..len]) {
            // > The character encoding is UTF-8 for plain text and for base64-encoded
            // > binary payloads.
            Err(_) => Err(PayloadError::InvalidUtf8),
            Ok(s) => decode_packet(s).map_err(PayloadError::Packet),
        };
        match r {
            Ok(p) => {
                self.body.buf.advance(if last { len } else { len + 1 });
                self.scan = 0;
                self.packets += 1;
                if last {
                    self.state = State::Done;
                }
                Ok(Some(p))
            }
            Err(e) => self.fail(e),
        }
    }

    /// The limits on the packet that starts the buffer and has (at least) `len` bytes.
    fn check_limits(&self, len: usize) -> Result<(), PayloadError> {
        if self.packets >= self.limits.max_packets {
            let limit = self.limits.max_packets;
            return Err(PayloadError::TooManyPackets { limit });
        }
        if len > self.limits.max_packet_bytes {
            let limit = self.limits.max_packet_bytes;
            return Err(PayloadError::PacketTooLarge { limit });
        }
        Ok(())
    }
}

/// One-shot decoding of a whole revision 4 payload: an iterator of `Ok(packet)`s, ending
/// with one `Err` if the payload is malformed. Built by [`decode_payload`].
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
        let r = self.decoder.poll_packet().transpose();
        self.done = !matches!(r, Some(Ok(_)));
        r
    }
}

impl core::iter::FusedIterator for PayloadIter {}

/// Decodes a whole revision 4 payload (`4hello\x1e2\x1e4world`). Accepts a `String`, a
/// `&'static str`, a `Vec<u8>` or [`Bytes`]. A body over [`Limits::max_payload_bytes`] is
/// refused whole ([`PayloadError::PayloadTooLarge`] first).
///
/// ```
/// use pushwire_engineio::{v4, Limits, Packet, PacketError, PayloadError};
///
/// let got: Vec<_> = v4::decode_payload("4hello\x1ebAQIDBA==", Limits::DEFAULT).collect();
/// assert_eq!(got, [Ok(Packet::message("hello")), Ok(Packet::binary_message(vec![1, 2, 3, 4]))]);
///
/// let got: Vec<_> = v4::decode_payload("4a\x1e", Limits::DEFAULT).collect();
/// assert_eq!(got, [Ok(Packet::message("a")), Err(PayloadError::Packet(PacketError::Empty))]);
/// ```
pub fn decode_payload(input: impl Into<Bytes>, limits: Limits) -> PayloadIter {
    let mut decoder = PayloadDecoder::new(limits);
    // A body over the limit is refused whole; the first poll then reports it.
    let _ = decoder.feed_bytes(input);
    decoder.feed_eof();
    PayloadIter {
        decoder,
        done: false,
    }
}

/// Length in bytes of [`encode_payload`]'s output: what a client compares with the
/// handshake's `maxPayload` when it batches packets into one POST.
#[must_use]
pub fn payload_len(packets: &[Packet]) -> usize {
    packets.iter().map(packet_len).sum::<usize>() + packets.len().saturating_sub(1)
}

/// Appends the revision 4 payload of `packets` to `out`: each packet in the string form
/// (binary data as `b<base64>`), joined by `\x1e`. No packets at all are written as nothing
/// (engine.io-parser 5 never answers for an empty list; an empty body does not decode).
///
/// > The packets are separated by the record separator character: `\x1e`
///
/// The separator is not escaped: a text containing U+001E cannot travel in a polling
/// payload ("this assumes the record separator is not used in the data"); engine.io-parser 5
/// writes it as it is too, and the receiver then splits the text there.
///
/// ```
/// use pushwire_engineio::{v4, Packet, PacketType};
///
/// let mut out = Vec::new();
/// v4::encode_payload(&[Packet::message("hello"), Packet::empty(PacketType::Ping), Packet::message("world")], &mut out);
/// assert_eq!(out, b"4hello\x1e2\x1e4world");
/// ```
pub fn encode_payload<B: BufMut>(packets: &[Packet], out: &mut B) {
    write_payload(packets, &mut BufSink(out));
}

/// The revision 4 payload of `packets` as a new `String` (see [`encode_payload`]).
#[must_use]
pub fn payload_to_string(packets: &[Packet]) -> String {
    let mut s = String::new();
    write_payload(packets, &mut s);
    s
}

fn write_payload<S: Sink>(packets: &[Packet], out: &mut S) {
    out.reserve(payload_len(packets));
    for (i, p) in packets.iter().enumerate() {
        if i > 0 {
            out.put_ascii(SEPARATOR);
        }
        write_packet(p, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PacketError;
    use crate::packet_type::PacketType;
    use alloc::vec;
    use alloc::vec::Vec;

    fn dec(input: &'static [u8]) -> Vec<Result<Packet, PayloadError>> {
        decode_payload(input, Limits::DEFAULT).collect()
    }

    fn enc(packets: &[Packet]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_payload(packets, &mut out);
        assert_eq!(out, payload_to_string(packets).as_bytes());
        assert_eq!(out.len(), payload_len(packets));
        out
    }

    #[test]
    fn spec_example_hello_ping_world() {
        // > 4hello\x1e2\x1e4world
        let ps = [
            Packet::message("hello"),
            Packet::empty(PacketType::Ping),
            Packet::message("world"),
        ];
        assert_eq!(enc(&ps), b"4hello\x1e2\x1e4world");
        assert_eq!(dec(b"4hello\x1e2\x1e4world"), ps.map(Ok).to_vec());
    }

    #[test]
    fn spec_example_hello_and_binary() {
        // > 4hello\x1ebAQIDBA==
        let ps = [
            Packet::message("hello"),
            Packet::binary_message(vec![1u8, 2, 3, 4]),
        ];
        assert_eq!(enc(&ps), b"4hello\x1ebAQIDBA==");
        assert_eq!(dec(b"4hello\x1ebAQIDBA=="), ps.map(Ok).to_vec());
    }

    #[test]
    fn spec_history_euro_is_three_bytes_and_needs_no_length() {
        // > For example, `€` was encoded to `2:4€`, though `Buffer.byteLength('€') === 3`.
        assert_eq!(enc(&[Packet::message("€")]), "4€".as_bytes());
        assert_eq!(
            dec("4€\u{1e}4😀".as_bytes()),
            [Ok(Packet::message("€")), Ok(Packet::message("😀"))]
        );
    }

    #[test]
    fn empty_list_body_and_packets() {
        assert_eq!(enc(&[]), b"");
        assert_eq!(dec(b""), [Err(PayloadError::Empty)]);
        assert_eq!(
            dec(b"4a\x1e"),
            [
                Ok(Packet::message("a")),
                Err(PayloadError::Packet(PacketError::Empty))
            ]
        );
        assert_eq!(
            dec(b"\x1e4a"),
            [Err(PayloadError::Packet(PacketError::Empty))]
        );
        assert_eq!(dec(b"4"), [Ok(Packet::message(""))]);
        assert_eq!(enc(&[Packet::message("")]), b"4");
    }

    #[test]
    fn packets_before_an_error_are_returned_then_it_sticks() {
        assert_eq!(
            dec(b"2\x1ex\x1e3"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::Packet(PacketError::UnknownTypeChar('x')))
            ]
        );
        assert_eq!(
            dec(b"2\x1ebAQ=\x1e3"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::Packet(PacketError::InvalidBase64))
            ]
        );
        assert_eq!(
            dec(b"2\x1e4\xff"),
            [
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::InvalidUtf8)
            ]
        );
        let mut d = PayloadDecoder::new(Limits::DEFAULT);
        d.feed(b"7\x1e2").unwrap();
        let e = Err(PayloadError::Packet(PacketError::UnknownTypeChar('7')));
        assert_eq!(d.poll_packet(), e);
        d.feed(b"\x1e2").unwrap();
        d.feed_eof();
        assert_eq!(d.poll_packet(), e);
        assert!(!d.is_finished());
    }

    #[test]
    fn revision_3_payloads_do_not_decode_as_revision_4() {
        // v3's `6:4hello`: `6` is a noop whose data is `:4hello` — a valid v4 packet, but the
        // v3 base64 form inside a v3 payload is not.
        assert_eq!(
            dec(b"6:4hello"),
            [Ok(Packet::text(PacketType::Noop, ":4hello"))]
        );
        assert_eq!(
            dec(b"b4AQIDBA=="),
            [Err(PayloadError::Packet(PacketError::InvalidBase64))]
        );
    }

    #[test]
    fn limit_on_packets() {
        let l = Limits::DEFAULT.with_max_packets(2);
        let got: Vec<_> = decode_payload(&b"2\x1e2\x1e2"[..], l).collect();
        assert_eq!(
            got,
            [
                Ok(Packet::empty(PacketType::Ping)),
                Ok(Packet::empty(PacketType::Ping)),
                Err(PayloadError::TooManyPackets { limit: 2 })
            ]
        );
        // Even an empty third packet counts.
        let got: Vec<_> = decode_payload(&b"2\x1e2\x1e"[..], l).collect();
        assert_eq!(got[2], Err(PayloadError::TooManyPackets { limit: 2 }));
        let got: Vec<_> = decode_payload(&b"2\x1e2"[..], l).collect();
        assert!(got.iter().all(Result::is_ok) && got.len() == 2);
    }

    #[test]
    fn limit_on_packet_bytes_fires_before_the_separator_arrives() {
        let l = Limits::DEFAULT.with_max_packet_bytes(5);
        let mut d = PayloadDecoder::new(l);
        d.feed(b"4abcd\x1e4abc").unwrap();
        assert_eq!(d.poll_packet(), Ok(Some(Packet::message("abcd"))));
        assert_eq!(d.poll_packet(), Ok(None));
        d.feed(b"de").unwrap();
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PacketTooLarge { limit: 5 })
        );
        // Whole: the same.
        let got: Vec<_> = decode_payload(&b"4abcd\x1e4abcde"[..], l).collect();
        assert_eq!(
            got,
            [
                Ok(Packet::message("abcd")),
                Err(PayloadError::PacketTooLarge { limit: 5 })
            ]
        );
        // Bytes, not characters: `4€€` is 7 bytes.
        let got: Vec<_> = decode_payload("4€€", l).collect();
        assert_eq!(got, [Err(PayloadError::PacketTooLarge { limit: 5 })]);
    }

    #[test]
    fn limit_on_the_body_refuses_exactly_and_keeps_what_it_took() {
        let limit = 10;
        let mut d = PayloadDecoder::new(Limits::DEFAULT.with_max_payload_bytes(limit));
        d.feed(b"2\x1e3\x1e4ab").unwrap();
        assert_eq!(
            d.feed(b"cdef"),
            Err(FeedError::BufferFull {
                buffered: 7,
                len: 4,
                limit
            })
        );
        // A chunk that would fit is refused too: the body has a hole now.
        assert_eq!(
            d.feed(b"c"),
            Err(FeedError::BufferFull {
                buffered: 7,
                len: 1,
                limit
            })
        );
        assert_eq!(d.poll_packet(), Ok(Some(Packet::empty(PacketType::Ping))));
        assert_eq!(d.poll_packet(), Ok(Some(Packet::empty(PacketType::Pong))));
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PayloadTooLarge { limit })
        );
        assert_eq!(
            d.poll_packet(),
            Err(PayloadError::PayloadTooLarge { limit })
        );
        assert_eq!(d.packets_decoded(), 2);
        let got: Vec<_> = decode_payload(
            &b"2\x1e3\x1e4abcdef"[..],
            Limits::DEFAULT.with_max_payload_bytes(10),
        )
        .collect();
        assert_eq!(got, [Err(PayloadError::PayloadTooLarge { limit: 10 })]);
    }

    #[test]
    fn feeds_after_eof_are_refused_and_polls_are_harmless() {
        let mut d = PayloadDecoder::new(Limits::DEFAULT);
        d.feed(b"2").unwrap();
        d.feed(b"").unwrap();
        d.feed_eof();
        d.feed_eof();
        assert_eq!(d.feed(b"2"), Err(FeedError::AfterEof));
        assert_eq!(d.feed_bytes(&b""[..]), Err(FeedError::AfterEof));
        assert_eq!(d.poll_packet(), Ok(Some(Packet::empty(PacketType::Ping))));
        assert_eq!(d.poll_packet(), Ok(None));
        assert_eq!(d.poll_packet(), Ok(None));
        assert!(d.is_finished());
    }

    #[test]
    fn scanning_resumes_where_it_stopped() {
        // One byte at a time: each byte is looked at once (the scan offset moves on).
        let mut d = PayloadDecoder::new(Limits::DEFAULT);
        for &b in b"4hello" {
            d.feed(&[b]).unwrap();
            assert_eq!(d.poll_packet(), Ok(None));
            assert_eq!(d.scan, d.body.buf.len());
        }
        d.feed(b"\x1e").unwrap();
        assert_eq!(d.poll_packet(), Ok(Some(Packet::message("hello"))));
        assert_eq!((d.scan, d.body.buf.len()), (0, 0));
    }
}
