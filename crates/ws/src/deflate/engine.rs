//! The DEFLATE engines behind [`PerMessageDeflate`](super::PerMessageDeflate): miniz_oxide
//! (always, with `deflate`) and zlib-rs (feature `zlib-rs`, the default engine when built).
//! Both are `no_std` + `alloc`; the codec sees only [`Compressor`] and [`Inflater`].

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::config::Engine;

/// How a compressed piece ends: a sync flush (the message's end) or a full flush (a piece
/// of a reduced window: nothing after it refers to anything before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flush {
    Sync,
    Full,
}

/// The engine a configuration gets: the one asked for when it is built, else the other.
pub(super) fn resolve(engine: Engine) -> Engine {
    match engine {
        #[cfg(feature = "zlib-rs")]
        Engine::Auto | Engine::ZlibRs => Engine::ZlibRs,
        #[cfg(not(feature = "zlib-rs"))]
        Engine::Auto | Engine::ZlibRs => Engine::Miniz,
        Engine::Miniz => Engine::Miniz,
    }
}

/// What a compressor is built from: the engine, the level, and the window bits that change
/// it (zlib-rs: 9..=15; miniz_oxide always searches 32 KiB, so none).
fn key(engine: Engine, level: u8, bits: u8) -> (Engine, u8, u8) {
    let engine = resolve(engine);
    let bits = match engine {
        Engine::ZlibRs => bits.clamp(9, 15),
        _ => 15,
    };
    (engine, level.clamp(1, 10), bits)
}

/// A compressor of one engine, with what it was built for (so a shared spare is reused
/// only by a connection with the same settings).
pub(super) struct Compressor {
    key: (Engine, u8, u8),
    inner: CompressorInner,
}

enum CompressorInner {
    Miniz(Box<CompressorOxide>),
    #[cfg(feature = "zlib-rs")]
    Zlib(Box<zlib_rs::Deflate>),
}

impl Compressor {
    /// A compressor for `engine` (resolved), `level` 1..=10 and a window of `bits` (8..=15).
    pub(super) fn new(engine: Engine, level: u8, bits: u8) -> Self {
        let engine = resolve(engine);
        let level = level.clamp(1, 10);
        let inner = match engine {
            #[cfg(feature = "zlib-rs")]
            Engine::ZlibRs => {
                // zlib's levels stop at 9. Its raw deflate refuses an 8-bit window (python-
                // websockets and Bun shipped that failure); a 9-bit one is used then, and
                // the codec's full flush every 2^bits bytes keeps every distance within 256.
                let z = zlib_rs::Deflate::new(i32::from(level.min(9)), false, bits.clamp(9, 15));
                CompressorInner::Zlib(Box::new(z))
            }
            _ => CompressorInner::Miniz(Box::new(CompressorOxide::new(
                create_comp_flags_from_zip_params(i32::from(level), -15, 0),
            ))),
        };
        Compressor {
            key: key(engine, level, bits),
            inner,
        }
    }

    /// Whether this compressor was built for these settings.
    pub(super) fn fits(&self, engine: Engine, level: u8, bits: u8) -> bool {
        self.key == key(engine, level, bits)
    }

    /// Forgets everything compressed so far (keeps the allocation).
    pub(super) fn reset(&mut self) {
        match &mut self.inner {
            CompressorInner::Miniz(c) => c.reset(),
            #[cfg(feature = "zlib-rs")]
            CompressorInner::Zlib(z) => z.reset(),
        }
    }

    /// Compresses all of `input`, ending with `flush`, appending to `out`.
    pub(super) fn compress(
        &mut self,
        input: &[u8],
        flush: Flush,
        out: &mut Vec<u8>,
    ) -> Result<(), ()> {
        match &mut self.inner {
            CompressorInner::Miniz(c) => {
                let f = match flush {
                    Flush::Sync => TDEFLFlush::Sync,
                    Flush::Full => TDEFLFlush::Full,
                };
                let (status, consumed) = compress_to_output(c, input, f, |b| {
                    out.extend_from_slice(b);
                    true
                });
                if status == TDEFLStatus::Okay && consumed == input.len() {
                    Ok(())
                } else {
                    Err(())
                }
            }
            #[cfg(feature = "zlib-rs")]
            CompressorInner::Zlib(z) => zlib_compress(z, input, flush, out),
        }
    }
}

/// zlib's deflate loop: "If deflate returns with avail_out == 0, this function must be
/// called again with the same value of the flush parameter and more output space" (zlib.h).
#[cfg(feature = "zlib-rs")]
fn zlib_compress(
    z: &mut zlib_rs::Deflate,
    mut input: &[u8],
    flush: Flush,
    out: &mut Vec<u8>,
) -> Result<(), ()> {
    let f = match flush {
        Flush::Sync => zlib_rs::DeflateFlush::SyncFlush,
        Flush::Full => zlib_rs::DeflateFlush::FullFlush,
    };
    let begin = out.len();
    loop {
        // A sync flush adds at most 5 bytes plus pending bits; deflate's worst case is a few
        // bytes per 16 KiB over the input.
        let room = (input.len() + input.len() / 8 + 64).max(256);
        let start = out.len();
        out.resize(start + room, 0);
        let (in0, out0) = (z.total_in(), z.total_out());
        let r = z.compress(input, &mut out[start..], f);
        let written = (z.total_out() - out0) as usize;
        let consumed = (z.total_in() - in0) as usize;
        out.truncate(start + written);
        input = &input[consumed..];
        match r {
            Ok(zlib_rs::Status::Ok) if written < room && input.is_empty() => break,
            Ok(zlib_rs::Status::Ok) => {}
            // "Z_BUF_ERROR ... if no progress was possible": with all input taken and the
            // flush already complete, there is nothing left to write.
            Ok(zlib_rs::Status::BufError) if input.is_empty() => break,
            _ => return Err(()),
        }
    }
    if out.len() == begin {
        // zlib skips a flush that repeats the previous one with no input in between
        // ("avoid duplicate consecutive flushes"), writing nothing for an empty message,
        // which still needs its empty stored block. The stream is byte-aligned after that
        // previous flush, so the block is these 5 bytes, as a sync flush writes them.
        out.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
    }
    Ok(())
}

/// What one inflate step reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Progress; call again while there is input or the output filled up.
    Ok,
    /// A block with BFINAL set ended the stream.
    End,
    /// No progress was possible (needs more input or more room).
    Stuck,
    /// The input is not valid DEFLATE.
    Corrupt,
}

/// An inflater (raw DEFLATE, 32 KiB window) of one engine.
pub(super) enum Inflater {
    Miniz(Box<InflateState>),
    #[cfg(feature = "zlib-rs")]
    Zlib(Box<zlib_rs::Inflate>),
}

impl Inflater {
    /// An inflater for `engine` (resolved).
    pub(super) fn new(engine: Engine) -> Self {
        match resolve(engine) {
            #[cfg(feature = "zlib-rs")]
            Engine::ZlibRs => Inflater::Zlib(Box::new(zlib_rs::Inflate::new(false, 15))),
            _ => Inflater::Miniz(InflateState::new_boxed(DataFormat::Raw)),
        }
    }

    /// Whether this inflater is of `engine` (resolved).
    pub(super) fn fits(&self, engine: Engine) -> bool {
        let mine = match self {
            Inflater::Miniz(_) => Engine::Miniz,
            #[cfg(feature = "zlib-rs")]
            Inflater::Zlib(_) => Engine::ZlibRs,
        };
        mine == resolve(engine)
    }

    /// Starts a new stream (keeps the allocation).
    pub(super) fn reset(&mut self) {
        match self {
            Inflater::Miniz(st) => st.reset(DataFormat::Raw),
            #[cfg(feature = "zlib-rs")]
            Inflater::Zlib(z) => z.reset(false),
        }
    }

    /// Inflates from `input` into `out`: (bytes consumed, bytes written, what happened).
    pub(super) fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize, Step) {
        match self {
            Inflater::Miniz(st) => {
                let r = inflate(st, input, out, MZFlush::None);
                let step = match r.status {
                    Ok(MZStatus::StreamEnd) => Step::End,
                    Ok(_) => Step::Ok,
                    Err(MZError::Buf) => Step::Stuck,
                    Err(_) => Step::Corrupt,
                };
                (r.bytes_consumed, r.bytes_written, step)
            }
            #[cfg(feature = "zlib-rs")]
            Inflater::Zlib(z) => {
                let (in0, out0) = (z.total_in(), z.total_out());
                let r = z.decompress(input, out, zlib_rs::InflateFlush::NoFlush);
                let consumed = (z.total_in() - in0) as usize;
                let written = (z.total_out() - out0) as usize;
                let step = match r {
                    Ok(zlib_rs::Status::StreamEnd) => Step::End,
                    Ok(zlib_rs::Status::Ok) => Step::Ok,
                    Ok(zlib_rs::Status::BufError) => Step::Stuck,
                    Err(_) => Step::Corrupt,
                };
                (consumed, written, step)
            }
        }
    }
}
