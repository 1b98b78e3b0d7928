//! The permessage-deflate codec: an [`Extension`] over a DEFLATE [`engine`](super::engine).

use alloc::boxed::Box;
use alloc::vec::Vec;

use bytes::Bytes;

use super::config::DeflateConfig;
use super::engine::{Compressor, Flush, Inflater, Step};
use super::negotiate::Agreement;
use crate::connection::Role;
use crate::extension::{Extension, ExtensionError, MessageKind};
use crate::frame::RSV1;

/// "the last 4 octets of the compressed data are 0x00 0x00 0xff 0xff" (RFC 7692 §7.2.1).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

const DEFLATE_FAILED: ExtensionError = ExtensionError {
    code: 1011,
    reason: "deflate failed",
};

/// "Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end." (RFC 7692 §7.2.1)
fn strip_tail(mut out: Vec<u8>) -> Result<Vec<u8>, ExtensionError> {
    if !out.ends_with(&TAIL) {
        return Err(DEFLATE_FAILED);
    }
    out.truncate(out.len() - 4);
    Ok(out)
}

/// A compressed message being streamed with `send_fragment`: the last bytes produced so far
/// (at most 4), held back because the final fragment must end without the `00 00 ff ff` tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stream {
    carry: [u8; 4],
    len: u8,
}

/// The permessage-deflate [`Extension`] for one connection.
///
/// Sending: a message of at least [`DeflateConfig::threshold`] bytes is compressed as one
/// DEFLATE stream piece ending in a sync flush whose `00 00 ff ff` tail is removed; RSV1 is set
/// on its first frame. If that is not smaller than the message, the message goes out
/// uncompressed (RSV1 clear) instead, and with context takeover the compressor is reset, since
/// the peer's window never sees an uncompressed message. A message streamed with
/// `send_fragment` is compressed fragment by fragment (a sync flush each) unless its first
/// fragment is also its last (then it is a whole message as above). With a window of fewer than 15 bits the input is compressed in pieces
/// of 2^bits bytes, each ended by a full flush, so that no back-reference reaches further than
/// the agreed window (8 bits included: miniz_oxide compresses with any window, and zlib-rs,
/// which refuses a raw 8-bit window, gets a 9-bit one whose pieces of 256 bytes still never
/// refer further back than 256). With no context takeover
/// (or a reduced window) the compressor is dropped after each message, so no compressor state
/// is held between messages.
///
/// Receiving: the tail is appended and the message inflated in steps; the output never grows
/// beyond the connection's `max_message_size` + 1 bytes (then close 1009), nor beyond
/// [`DeflateConfig::max_ratio`]. Corrupt data closes with 1007. With the peer's no context
/// takeover the inflater is dropped after each message.
pub struct PerMessageDeflate {
    config: DeflateConfig,
    /// Our compression: no context takeover, window bits.
    send_reset: bool,
    send_bits: u8,
    /// The peer's compression: whether its context resets per message.
    recv_reset: bool,
    compressor: Option<Compressor>,
    inflater: Option<Inflater>,
    /// The message being streamed with `send_fragment`, between its first and last fragment.
    stream: Option<Stream>,
}

impl PerMessageDeflate {
    /// The extension for `role` under the negotiated `agreed` parameters.
    pub fn new(role: Role, agreed: Agreement, config: DeflateConfig) -> Self {
        let (send_reset, send_bits, recv_reset) = match role {
            Role::Server => (
                agreed.server_no_context_takeover,
                agreed.server_max_window_bits,
                agreed.client_no_context_takeover,
            ),
            Role::Client => (
                agreed.client_no_context_takeover,
                agreed.client_max_window_bits,
                agreed.server_no_context_takeover,
            ),
        };
        PerMessageDeflate {
            config,
            send_reset,
            send_bits: send_bits.clamp(8, 15),
            recv_reset,
            compressor: None,
            inflater: None,
            stream: None,
        }
    }

    /// Whether compressor or decompressor state is held right now (between messages this is
    /// `false` with no context takeover in both directions).
    pub fn holds_state(&self) -> bool {
        self.compressor.is_some() || self.inflater.is_some()
    }

    /// Compresses one message; the result has the `00 00 ff ff` tail removed. Always
    /// compresses (no threshold, no fallback): [`Extension::encode`] is the sending path.
    pub fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, ExtensionError> {
        let mut out = Vec::with_capacity(data.len() / 2 + 16);
        self.deflate_into(data, &mut out)?;
        self.end_message();
        strip_tail(out)
    }

    /// Whether our compressor starts afresh with each message (no context takeover, or a
    /// window under 15 bits, which is compressed in independent pieces).
    fn stateless(&self) -> bool {
        self.send_reset || self.send_bits < 15
    }

    /// Compresses `data` into `out`, ending with a sync flush (a full flush per 2^bits bytes
    /// with a reduced window), so the output ends with `00 00 ff ff` and every input byte is
    /// in it. The compressor is taken (or borrowed from the thread's spare) if not held.
    fn deflate_into(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), ExtensionError> {
        let (engine, level, bits) = (self.config.engine, self.config.level, self.send_bits);
        let shared = self.stateless() && self.config.share_per_thread;
        if shared && self.compressor.is_none() {
            // A spare built for other settings stays where it is (connections of one thread
            // may differ in level, engine or window).
            self.compressor =
                spare::take_compressor_if(|c| c.fits(engine, level, bits)).map(|mut c| {
                    c.reset();
                    c
                });
        }
        let c = self
            .compressor
            .get_or_insert_with(|| Compressor::new(engine, level, bits));
        let (piece, flush) = if bits < 15 {
            (1usize << bits, Flush::Full)
        } else {
            (usize::MAX, Flush::Sync)
        };
        let mut rest = data;
        loop {
            let n = rest.len().min(piece);
            let (chunk, tail) = rest.split_at(n);
            if c.compress(chunk, flush, out).is_err() {
                self.compressor = None;
                self.stream = None;
                return Err(DEFLATE_FAILED);
            }
            rest = tail;
            if rest.is_empty() {
                return Ok(());
            }
        }
    }

    /// The end of a message sent compressed: a stateless compressor is dropped (or given back
    /// to the thread's spare), so no state is held between messages.
    fn end_message(&mut self) {
        if self.stateless() {
            let c = self.compressor.take();
            if self.config.share_per_thread {
                spare::put_compressor(c);
            }
        }
    }

    /// A message compressed with context takeover is being sent uncompressed instead: our
    /// compressor's window now holds bytes the peer's decompressor never sees, so it must not
    /// refer to them. Resetting it (keeping its allocation) makes the next message a stream
    /// that refers only to itself, which the peer's inflater, whose window still holds the
    /// earlier messages, decodes all the same.
    fn forget_message(&mut self) {
        if let Some(c) = self.compressor.as_mut() {
            c.reset();
        }
        self.end_message();
    }

    /// Decompresses one message (the tail is appended here), bounded by `max_len` bytes of
    /// output and by the ratio limit.
    pub fn decompress(&mut self, data: &[u8], max_len: u64) -> Result<Vec<u8>, ExtensionError> {
        let shared = self.recv_reset && self.config.share_per_thread;
        if shared && self.inflater.is_none() {
            let engine = self.config.engine;
            self.inflater = spare::take_inflater_if(|st| st.fits(engine)).map(|mut st| {
                st.reset();
                st
            });
        }
        let r = self.inflate_bounded(data, max_len);
        if r.is_err() || self.recv_reset {
            // After an error the stream is unusable; with no context takeover nothing is kept
            // (a shared inflater goes back to the thread; it is reset before each use).
            let st = self.inflater.take();
            if shared {
                spare::put_inflater(st);
            }
        }
        r
    }

    fn inflate_bounded(&mut self, data: &[u8], max_len: u64) -> Result<Vec<u8>, ExtensionError> {
        const CORRUPT: ExtensionError = ExtensionError {
            code: 1007,
            reason: "invalid compressed data",
        };
        const TOO_BIG: ExtensionError = ExtensionError {
            code: 1009,
            reason: "decompressed message too big",
        };
        let limit = usize::try_from(max_len).unwrap_or(usize::MAX);
        // The buffer may reach limit + 1 bytes: one more than allowed proves "too big".
        let hard = limit.saturating_add(1);
        let ratio_cap = match self.config.max_ratio {
            0 => usize::MAX,
            r => (data.len() + 4).saturating_mul(r as usize),
        };
        let engine = self.config.engine;
        let st = self.inflater.get_or_insert_with(|| Inflater::new(engine));
        let mut out: Vec<u8> = Vec::new();
        let mut ended = false;
        for mut input in [data, &TAIL[..]] {
            loop {
                if out.len() == out.capacity() {
                    if out.len() >= hard {
                        return Err(TOO_BIG);
                    }
                    let want = (out.capacity().max(2048) * 2).min(hard);
                    out.reserve_exact(want - out.len());
                }
                let start = out.len();
                let space = out.capacity() - start;
                out.resize(start + space, 0);
                let (consumed, written, step) = st.inflate(input, &mut out[start..]);
                out.truncate(start + written);
                input = &input[consumed..];
                if out.len() > limit {
                    return Err(TOO_BIG);
                }
                if out.len() > self.config.ratio_floor && out.len() > ratio_cap {
                    return Err(ExtensionError {
                        code: 1009,
                        reason: "compression ratio above the limit",
                    });
                }
                match step {
                    Step::End => {
                        // A block with BFINAL set ended the stream; anything after it (the
                        // appended tail) is ignored.
                        ended = true;
                        break;
                    }
                    Step::Ok => {}
                    Step::Stuck => {
                        if input.is_empty() {
                            break;
                        }
                        if consumed == 0 && written == 0 {
                            return Err(CORRUPT);
                        }
                    }
                    Step::Corrupt => return Err(CORRUPT),
                }
                if input.is_empty() && written < space {
                    break;
                }
            }
            if ended {
                break;
            }
        }
        if !ended && self.recv_reset {
            // With no context takeover nothing of this stream is used again, so a message
            // cut inside a block would lose its end silently (an inflater only waits for
            // more input). After the data and the tail the stream must stand at a block
            // boundary, where an empty final stored block ends it without output.
            const END: [u8; 5] = [0x01, 0x00, 0x00, 0xff, 0xff];
            let mut scratch = [0u8; 8];
            let (_, written, step) = st.inflate(&END, &mut scratch);
            if step != Step::End || written != 0 {
                return Err(CORRUPT);
            }
        }
        if ended {
            // A finished stream cannot continue: the next message starts a new one.
            self.inflater = None;
        }
        Ok(out)
    }
}

/// One spare compressor and inflater per thread, for [`DeflateConfig::share_per_thread`].
#[cfg(feature = "std")]
mod spare {
    use super::{Compressor, Inflater};
    use core::cell::RefCell;

    std::thread_local! {
        static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
        static INFLATER: RefCell<Option<Inflater>> = const { RefCell::new(None) };
    }

    type Slot<T> = std::thread::LocalKey<RefCell<Option<T>>>;

    /// The spare in `slot`, if it passes `fits` (else it stays).
    fn take_if<T: 'static>(slot: &'static Slot<T>, fits: impl Fn(&T) -> bool) -> Option<T> {
        slot.with(|s| {
            let mut s = s.borrow_mut();
            if s.as_ref().is_some_and(fits) {
                s.take()
            } else {
                None
            }
        })
    }

    /// Gives `v` to `slot` when it holds none (else `v` is dropped).
    fn put<T: 'static>(slot: &'static Slot<T>, v: Option<T>) {
        slot.with(|s| {
            let mut s = s.borrow_mut();
            if s.is_none() {
                *s = v;
            }
        });
    }

    /// The thread's spare compressor, if it passes `fits` (else it stays).
    pub(super) fn take_compressor_if(fits: impl Fn(&Compressor) -> bool) -> Option<Compressor> {
        take_if(&COMPRESSOR, fits)
    }

    /// Gives a compressor to the thread when it has none (else it is dropped).
    pub(super) fn put_compressor(c: Option<Compressor>) {
        put(&COMPRESSOR, c);
    }

    /// The thread's spare inflater, if it passes `fits` (else it stays).
    pub(super) fn take_inflater_if(fits: impl Fn(&Inflater) -> bool) -> Option<Inflater> {
        take_if(&INFLATER, fits)
    }

    /// Gives an inflater to the thread when it has none (else it is dropped).
    pub(super) fn put_inflater(st: Option<Inflater>) {
        put(&INFLATER, st);
    }
}

/// Without std there is no thread-local storage: nothing is shared.
#[cfg(not(feature = "std"))]
mod spare {
    use super::{Compressor, Inflater};

    pub(super) fn take_compressor_if(_: impl Fn(&Compressor) -> bool) -> Option<Compressor> {
        None
    }

    pub(super) fn put_compressor(_: Option<Compressor>) {}

    pub(super) fn take_inflater_if(_: impl Fn(&Inflater) -> bool) -> Option<Inflater> {
        None
    }

    pub(super) fn put_inflater(_: Option<Inflater>) {}
}

impl Extension for PerMessageDeflate {
    fn rsv_bits(&self) -> u8 {
        RSV1
    }

    /// The decompressor moves to the returned half; this one keeps the compressor. The two
    /// directions of permessage-deflate share nothing but the agreed parameters.
    fn split_inbound(&mut self) -> Option<Box<dyn Extension>> {
        Some(Box::new(PerMessageDeflate {
            config: self.config,
            send_reset: self.send_reset,
            send_bits: self.send_bits,
            recv_reset: self.recv_reset,
            compressor: None,
            inflater: self.inflater.take(),
            stream: None,
        }))
    }

    fn decode(
        &mut self,
        _kind: MessageKind,
        rsv: u8,
        payload: Bytes,
        max_len: u64,
    ) -> Result<Bytes, ExtensionError> {
        if rsv & RSV1 == 0 {
            return Ok(payload);
        }
        self.decompress(&payload, max_len).map(Bytes::from)
    }

    fn encode(
        &mut self,
        _kind: MessageKind,
        payload: Bytes,
    ) -> Result<(u8, Bytes), ExtensionError> {
        if payload.len() < self.config.threshold {
            return Ok((0, payload));
        }
        let mut out = Vec::with_capacity(payload.len() / 2 + 16);
        self.deflate_into(&payload, &mut out)?;
        // Compare before the tail is removed: `out` without it is `len - 4` bytes.
        if out.len() - TAIL.len() >= payload.len() {
            // Not smaller: "An endpoint MUST use the following algorithm to send a message
            // in the form of an uncompressed message. ... unset the "Per-Message Compressed"
            // bit of the first frame" (RFC 7692 §6.1). And since "uncompressed messages
            // (with the RSV1 bit unset) ... don't affect the LZ77 sliding window" (§7.2.3.2)
            // of the peer, ours must forget this message too.
            self.forget_message();
            return Ok((0, payload));
        }
        self.end_message();
        Ok((RSV1, Bytes::from(strip_tail(out)?)))
    }

    fn encode_fragment(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
        first: bool,
        fin: bool,
    ) -> Result<(u8, Bytes), ExtensionError> {
        if first {
            if fin {
                // A message streamed in one fragment is a whole message.
                self.stream = None;
                return self.encode(kind, payload);
            }
            // The message's size is unknown when RSV1 must be decided: always compressed.
            self.stream = Some(Stream {
                carry: [0; 4],
                len: 0,
            });
        }
        let Some(Stream { carry, len }) = self.stream else {
            // A continuation without a first fragment (the connection does not let one
            // through) passes as is.
            return Ok((0, payload));
        };
        // "Even when only part of the payload is available, a fragment can be built by
        // compressing the available data and choosing the block type appropriately so that
        // the end of the resulting compressed data is aligned at a byte boundary" (RFC 7692
        // §7.2.1): a sync flush per fragment.
        let mut out = Vec::with_capacity(usize::from(len) + payload.len() / 2 + 16);
        out.extend_from_slice(&carry[..usize::from(len)]);
        self.deflate_into(&payload, &mut out)?;
        if fin {
            self.stream = None;
            self.end_message();
            return Ok((RSV1, Bytes::from(strip_tail(out)?)));
        }
        // "for non-final fragments, the removal of 0x00 0x00 0xff 0xff MUST NOT be done"
        // (§7.2.1): nothing is removed; the last 4 bytes are held back and go out at the
        // start of the next fragment, so that the final one can end without the tail even
        // when it compresses nothing.
        let keep = out.len().min(4);
        let mut next = [0u8; 4];
        next[..keep].copy_from_slice(&out[out.len() - keep..]);
        out.truncate(out.len() - keep);
        self.stream = Some(Stream {
            carry: next,
            len: keep as u8,
        });
        Ok((RSV1, Bytes::from(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    use crate::deflate::Engine;

    /// Both engines; the tests that exercise the engine itself run once per engine.
    const ENGINES: [Engine; 2] = [Engine::Miniz, Engine::ZlibRs];

    fn pair(a: Agreement) -> (PerMessageDeflate, PerMessageDeflate) {
        pair_on(a, Engine::Auto)
    }

    fn pair_on(a: Agreement, engine: Engine) -> (PerMessageDeflate, PerMessageDeflate) {
        let cfg = DeflateConfig {
            threshold: 0,
            engine,
            ..DeflateConfig::default()
        };
        (
            PerMessageDeflate::new(Role::Client, a, cfg),
            PerMessageDeflate::new(Role::Server, a, cfg),
        )
    }

    #[test]
    fn rfc_example_hello() {
        for engine in ENGINES {
            rfc_example_hello_on(engine);
        }
    }

    fn rfc_example_hello_on(engine: Engine) {
        let pair = |a| pair_on(a, engine);
        // RFC 7692 §7.2.3.1: "Hello" compressed is 0xf2 0x48 0xcd 0xc9 0xc9 0x07 0x00.
        let (_, mut s) = pair(Agreement::default());
        let out = s
            .decompress(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 100)
            .unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.2: with context takeover the second "Hello" is 0xf2 0x00 0x11 0x00 0x00.
        let out = s.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100).unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.3: uncompressed block.
        let (_, mut s) = pair(Agreement::default());
        let out = s
            .decompress(
                &[
                    0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
                ],
                100,
            )
            .unwrap();
        assert_eq!(out, b"Hello");
        // §7.2.3.4: BFINAL set.
        let (_, mut s) = pair(Agreement::default());
        let out = s
            .decompress(&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00], 100)
            .unwrap();
        assert_eq!(out, b"Hello");
        assert!(s.inflater.is_none());
    }

    #[test]
    fn tail_removed_and_context_taken_over() {
        let (mut c, mut s) = pair(Agreement::default());
        let a = c.compress(b"Hello").unwrap();
        assert!(!a.ends_with(&TAIL));
        let b = c.compress(b"Hello").unwrap();
        assert!(
            b.len() < a.len(),
            "second message uses the first as dictionary"
        );
        assert_eq!(s.decompress(&a, 100).unwrap(), b"Hello");
        assert_eq!(s.decompress(&b, 100).unwrap(), b"Hello");
        assert!(c.holds_state() && s.holds_state());
    }

    #[test]
    fn no_context_takeover_holds_no_state() {
        let a = Agreement {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..Agreement::default()
        };
        let (mut c, mut s) = pair(a);
        for _ in 0..3 {
            let m = c.compress(b"Hello Hello Hello").unwrap();
            assert!(!c.holds_state());
            assert_eq!(s.decompress(&m, 100).unwrap(), b"Hello Hello Hello");
            assert!(!s.holds_state());
        }
    }

    #[test]
    fn small_window_keeps_distances_short() {
        // A 300-byte pattern repeated: with a 256-byte window it cannot be referenced, yet
        // the stream must still decode; an inflater restricted to 256 bytes proves it.
        let pattern: Vec<u8> = (0..300u32).map(|i| (i * 7 % 251) as u8).collect();
        let msg = [pattern.clone(), pattern.clone(), pattern].concat();
        for (bits, engine) in (8..=15).flat_map(|b| ENGINES.map(|e| (b, e))) {
            let a = Agreement {
                client_max_window_bits: bits,
                ..Agreement::default()
            };
            let (mut c, mut s) = pair_on(a, engine);
            let m = c.compress(&msg).unwrap();
            assert_eq!(s.decompress(&m, 10_000).unwrap(), msg);
            let mut tail = m.clone();
            tail.extend_from_slice(&TAIL);
            let max = check_max_distance(&tail);
            if bits < 15 {
                assert!(max <= 1 << bits, "{engine:?} bits {bits}: distance {max}");
            } else {
                assert!(
                    max >= 300,
                    "{engine:?}: the checker sees the long references"
                );
            }
        }
    }

    /// The largest back-reference distance in a raw DEFLATE stream (a small decoder for the
    /// test only: fixed and dynamic Huffman blocks, stored blocks).
    fn check_max_distance(data: &[u8]) -> usize {
        struct Bits<'a> {
            d: &'a [u8],
            pos: usize,
        }
        impl Bits<'_> {
            fn bit(&mut self) -> u32 {
                let b = (self.d[self.pos / 8] >> (self.pos % 8)) & 1;
                self.pos += 1;
                u32::from(b)
            }
            fn bits(&mut self, n: u32) -> u32 {
                (0..n).fold(0, |acc, i| acc | (self.bit() << i))
            }
            fn more(&self) -> bool {
                self.pos + 8 <= self.d.len() * 8
            }
        }
        fn table(lengths: &[u8]) -> Vec<(u32, u8, u16)> {
            // (code, len, symbol), canonical.
            let mut v = Vec::new();
            let mut code = 0u32;
            for len in 1..=15u8 {
                for (sym, &l) in lengths.iter().enumerate() {
                    if l == len {
                        v.push((code, len, sym as u16));
                        code += 1;
                    }
                }
                code <<= 1;
            }
            v
        }
        fn decode(b: &mut Bits<'_>, t: &[(u32, u8, u16)]) -> u16 {
            let mut code = 0u32;
            for len in 1..=15u8 {
                code = (code << 1) | b.bit();
                if let Some(e) = t.iter().find(|e| e.1 == len && e.0 == code) {
                    return e.2;
                }
            }
            panic!("bad code");
        }
        const LBASE: [u16; 29] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
            115, 131, 163, 195, 227, 258,
        ];
        const LEXT: [u8; 29] = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ];
        const DBASE: [u32; 30] = [
            1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
            1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
        ];
        const DEXT: [u8; 30] = [
            0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
            12, 13, 13,
        ];
        let mut b = Bits { d: data, pos: 0 };
        let mut max = 0usize;
        while b.more() {
            let _final = b.bit();
            let ty = b.bits(2);
            let (lt, dt) = match ty {
                0 => {
                    b.pos = b.pos.div_ceil(8) * 8;
                    if b.pos / 8 + 4 > data.len() {
                        break;
                    }
                    let len = b.bits(16) as usize;
                    b.bits(16);
                    b.pos += len * 8;
                    continue;
                }
                1 => {
                    let mut l = vec![8u8; 144];
                    l.extend(vec![9u8; 112]);
                    l.extend(vec![7u8; 24]);
                    l.extend(vec![8u8; 8]);
                    (table(&l), table(&[5u8; 30]))
                }
                2 => {
                    let hlit = b.bits(5) as usize + 257;
                    let hdist = b.bits(5) as usize + 1;
                    let hclen = b.bits(4) as usize + 4;
                    const ORD: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &o in &ORD[..hclen] {
                        cl[o] = b.bits(3) as u8;
                    }
                    let ct = table(&cl);
                    let mut lens = Vec::new();
                    while lens.len() < hlit + hdist {
                        match decode(&mut b, &ct) {
                            s @ 0..=15 => lens.push(s as u8),
                            16 => {
                                let p = *lens.last().unwrap();
                                for _ in 0..3 + b.bits(2) {
                                    lens.push(p);
                                }
                            }
                            17 => lens.extend(vec![0; 3 + b.bits(3) as usize]),
                            _ => lens.extend(vec![0; 11 + b.bits(7) as usize]),
                        }
                    }
                    (table(&lens[..hlit]), table(&lens[hlit..]))
                }
                _ => panic!("reserved block type"),
            };
            loop {
                let s = decode(&mut b, &lt);
                if s < 256 {
                    continue;
                }
                if s == 256 {
                    break;
                }
                let i = usize::from(s - 257);
                let _len = LBASE[i] + b.bits(u32::from(LEXT[i])) as u16;
                let d = usize::from(decode(&mut b, &dt));
                let dist = DBASE[d] + b.bits(u32::from(DEXT[d]));
                max = max.max(dist as usize);
            }
        }
        max
    }

    #[test]
    fn zip_bomb_is_1009_without_big_allocation() {
        for engine in ENGINES {
            zip_bomb_on(engine);
        }
    }

    fn zip_bomb_on(engine: Engine) {
        let (mut c, mut s) = pair_on(Agreement::default(), engine);
        let big = vec![0u8; 4 << 20];
        let m = c.compress(&big).unwrap();
        assert!(m.len() < 8 << 10);
        let e = s.decompress(&m, 1 << 16).unwrap_err();
        assert_eq!(e.code, 1009);
        // The ratio limit alone (size limit high).
        let mut s = PerMessageDeflate::new(
            Role::Server,
            Agreement::default(),
            DeflateConfig {
                max_ratio: 100,
                ratio_floor: 1024,
                engine,
                ..DeflateConfig::default()
            },
        );
        let e = s.decompress(&m, u64::MAX).unwrap_err();
        assert_eq!(e.code, 1009);
        assert_eq!(e.reason, "compression ratio above the limit");
    }

    /// A server with the ratio limit `ratio` above `floor` bytes.
    fn ratio_server(ratio: usize, floor: usize) -> PerMessageDeflate {
        PerMessageDeflate::new(
            Role::Server,
            Agreement::default(),
            DeflateConfig {
                max_ratio: ratio as u32,
                ratio_floor: floor,
                ..DeflateConfig::default()
            },
        )
    }

    #[test]
    fn the_ratio_bound_counts_the_compressed_size_with_its_tail() {
        // "may not inflate to more than `max_ratio` times its compressed size": the size of
        // the data with the 4-byte tail that RFC 7692 removes from the wire put back.
        let msg = vec![b'a'; 20_000];
        let m = pair(Agreement::default()).0.compress(&msg).unwrap();
        let compressed = m.len() + 4;
        let r = (msg.len() - 1) / compressed;
        assert!(r >= 2, "{r}");
        let with_ratio = |r: usize| ratio_server(r, 0).decompress(&m, u64::MAX);
        // `r` times is less than the message; `r + 1` times is at least the message.
        assert_eq!(
            with_ratio(r).unwrap_err().reason,
            "compression ratio above the limit"
        );
        assert_eq!(with_ratio(r + 1).unwrap(), msg);
    }

    #[test]
    fn the_ratio_bound_and_its_floor_are_inclusive() {
        // "not more than `max_ratio` times": a message of exactly that many bytes passes;
        // the ratio is checked only "once it exceeds `ratio_floor` bytes".
        let exact = (20_000..21_000)
            .find_map(|n| {
                let msg = vec![b'a'; n];
                let m = pair(Agreement::default()).0.compress(&msg).unwrap();
                (n % (m.len() + 4) == 0).then_some((msg, m))
            })
            .expect("a length that is a multiple of its compressed size");
        let (msg, m) = exact;
        let r = msg.len() / (m.len() + 4);
        let server = ratio_server;
        assert_eq!(server(r, 0).decompress(&m, u64::MAX).unwrap(), msg);
        assert!(server(r - 1, 0).decompress(&m, u64::MAX).is_err());
        // Over the ratio, but not over the floor: accepted; one byte over the floor: not.
        let n = msg.len();
        assert_eq!(server(r - 1, n).decompress(&m, u64::MAX).unwrap(), msg);
        assert_eq!(
            server(r - 1, n - 1)
                .decompress(&m, u64::MAX)
                .unwrap_err()
                .reason,
            "compression ratio above the limit"
        );
    }

    #[test]
    fn a_message_cut_inside_a_block_is_corrupt_without_context_takeover() {
        // With no context takeover nothing waits for the rest of the stream: a message whose
        // compressed data stops inside a block must not be delivered as its first part.
        let a = Agreement {
            client_no_context_takeover: true,
            ..Agreement::default()
        };
        let msg: Vec<u8> = (0..4000u32)
            .flat_map(|i| (i * 7919).to_le_bytes())
            .collect();
        for engine in ENGINES {
            let (mut c, mut s) = pair_on(a, engine);
            let m = c.compress(&msg).unwrap();
            assert_eq!(s.decompress(&m, u64::MAX).unwrap(), msg, "{engine:?}");
            let cut = s.decompress(&m[..m.len() / 2], u64::MAX).unwrap_err();
            assert_eq!(cut.code, 1007, "{engine:?}");
            // And the next message is decoded on its own.
            let m = c.compress(&msg).unwrap();
            assert_eq!(s.decompress(&m, u64::MAX).unwrap(), msg, "{engine:?}");
        }
    }

    #[test]
    fn exact_limit_is_allowed() {
        let (mut c, mut s) = pair(Agreement::default());
        let msg = vec![b'a'; 5000];
        let m = c.compress(&msg).unwrap();
        assert_eq!(s.decompress(&m, 5000).unwrap(), msg);
        let (mut c, mut s) = pair(Agreement::default());
        let m = c.compress(&msg).unwrap();
        assert_eq!(s.decompress(&m, 4999).unwrap_err().code, 1009);
    }

    #[cfg(feature = "std")]
    #[test]
    fn shared_per_thread_roundtrips_and_holds_nothing() {
        let a = Agreement {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..Agreement::default()
        };
        let cfg = DeflateConfig {
            threshold: 0,
            share_per_thread: true,
            ..DeflateConfig::default()
        };
        // Several connections of one thread, interleaved, on alternating engines (a spare
        // of one engine is never handed to the other).
        let mut conns: Vec<_> = (0..4)
            .map(|i| {
                let cfg = cfg.with_engine(ENGINES[i % 2]);
                (
                    PerMessageDeflate::new(Role::Client, a, cfg),
                    PerMessageDeflate::new(Role::Server, a, cfg),
                )
            })
            .collect();
        for round in 0..4u8 {
            for (i, (c, s)) in conns.iter_mut().enumerate() {
                let msg = vec![round.wrapping_mul(31).wrapping_add(i as u8); 500 + i * 100];
                let z = c.compress(&msg).unwrap();
                assert_eq!(s.decompress(&z, 10_000).unwrap(), msg);
                let z = s.compress(&msg).unwrap();
                assert_eq!(c.decompress(&z, 10_000).unwrap(), msg);
                assert!(!c.holds_state() && !s.holds_state());
            }
        }
        // A corrupt message through a shared inflater does not poison the next one.
        let (c, s) = &mut conns[0];
        assert_eq!(s.decompress(&[0xff, 0xff], 100).unwrap_err().code, 1007);
        let z = c.compress(b"after the error").unwrap();
        assert_eq!(s.decompress(&z, 100).unwrap(), b"after the error");
    }

    #[test]
    fn corrupt_is_1007() {
        for engine in ENGINES {
            let (_, mut s) = pair_on(Agreement::default(), engine);
            // Block type 3 is reserved.
            assert_eq!(
                s.decompress(&[0xff, 0xff, 0xff], 100).unwrap_err().code,
                1007
            );
            assert!(!s.holds_state());
        }
    }

    #[test]
    fn threshold_leaves_small_messages_alone() {
        let mut c =
            PerMessageDeflate::new(Role::Client, Agreement::default(), DeflateConfig::default());
        let (rsv, out) = c
            .encode(MessageKind::Text, Bytes::from_static(b"hi"))
            .unwrap();
        assert_eq!((rsv, &out[..]), (0, &b"hi"[..]));
        let long = Bytes::from(vec![b'x'; 1000]);
        let (rsv, out) = c.encode(MessageKind::Text, long).unwrap();
        assert_eq!(rsv, RSV1);
        assert!(out.len() < 100);
    }

    #[cfg(feature = "zlib-rs")]
    #[test]
    fn where_the_engines_differ_on_broken_streams() {
        // Found by the ws_inflate fuzz target's engine differential (seeds kept in
        // fuzz/seeds/ws_inflate). A fixed-Huffman block whose first match reaches before the
        // start of the stream: zlib-rs refuses it as zlib does ("invalid distance too far
        // back"); miniz_oxide inflates the distance as zeros.
        let (_, mut z) = pair_on(Agreement::default(), Engine::ZlibRs);
        assert_eq!(z.decompress(&[0x23], 1000).unwrap_err().code, 1007);
        let (_, mut m) = pair_on(Agreement::default(), Engine::Miniz);
        assert!(m.decompress(&[0x23], 1000).unwrap().iter().all(|&b| b == 0));
        // A dynamic block whose code-length codes all have length 0: miniz_oxide refuses it
        // at once; zlib-rs, like zlib, reads on and waits for more input (the next message's
        // bytes), so the message inflates to nothing and the error comes later.
        let (_, mut z) = pair_on(Agreement::default(), Engine::ZlibRs);
        assert_eq!(z.decompress(&[0xbd, 0x18], 1000).unwrap(), b"");
        let (_, mut m) = pair_on(Agreement::default(), Engine::Miniz);
        assert_eq!(m.decompress(&[0xbd, 0x18], 1000).unwrap_err().code, 1007);
    }

    #[test]
    fn a_cut_message_is_1007_without_context_takeover() {
        let msg: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 13) as u8 + b'a').collect();
        let none = Agreement {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..Agreement::default()
        };
        for engine in ENGINES {
            let (mut c, mut s) = pair_on(none, engine);
            let z = c.compress(&msg).unwrap();
            assert_eq!(s.decompress(&z, 10_000).unwrap(), msg, "{engine:?}");
            // The same message cut short: its last block never ends.
            let cut = &z[..z.len() - 6];
            assert_eq!(
                s.decompress(cut, 10_000).unwrap_err().code,
                1007,
                "{engine:?}"
            );
            // The next whole message still inflates (a fresh stream).
            assert_eq!(s.decompress(&z, 10_000).unwrap(), msg, "{engine:?}");
        }
    }

    #[test]
    fn empty_messages_after_others_with_context_takeover() {
        // zlib writes nothing for a flush that repeats the previous one; each empty message
        // must still be a valid (empty) compressed message for the peer.
        for engine in ENGINES {
            let (mut c, mut s) = pair_on(Agreement::default(), engine);
            for m in [&b"hello hello"[..], b"", b"", b"hello", b""] {
                let z = c.compress(m).unwrap();
                assert_eq!(s.decompress(&z, 100).unwrap(), m, "{engine:?}");
            }
        }
    }

    #[test]
    fn empty_message_compresses() {
        let (mut c, mut s) = pair(Agreement::default());
        let m = c.compress(b"").unwrap();
        assert_eq!(s.decompress(&m, 10).unwrap(), b"");
        // RFC 7692 §7.2.3.6: an empty message may be sent as a single 0x00.
        let (_, mut s) = pair(Agreement::default());
        assert_eq!(s.decompress(&[0x00], 10).unwrap(), b"");
    }
}
