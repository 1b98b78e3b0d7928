//! MessagePack as notepack.io 3 (the codec of `@socket.io/redis-adapter` 8 and
//! `socket.io-redis` 5) writes and reads it, to and from [`Value`].
//!
//! Written from the MessagePack specification (msgpack/spec.md); where notepack.io picks
//! one of several encodings, or reads an extension its own way, the comment at the check
//! says so. What a JavaScript value does that a [`Value`] cannot is mapped as
//! `JSON.stringify` would map it when the packet later goes out to a client: `undefined`
//! (notepack's `d4 00 00`) is `null` in an array and no key in a map, a non-finite double
//! is `null`, a timestamp (a `Date`) is the string `Date.prototype.toJSON` gives.

use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;

use super::date::iso_string;
use crate::value::{MapBuilder, Value};

/// How deep arrays and maps may nest in a decoded value, as in the JSON decoder.
pub const MAX_DEPTH: usize = 128;

/// Why bytes are not a MessagePack value this decoder takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MsgpackError {
    /// The input ends inside a value (notepack.io: a `RangeError` from the buffer read).
    #[error("truncated MessagePack value")]
    Truncated,
    /// Bytes follow the value (notepack.io: "N trailing bytes").
    #[error("{0} trailing bytes after the MessagePack value")]
    TrailingBytes(usize),
    /// The byte `0xc1`, which the spec reserves ("0xc1 is never used"; notepack.io: "Could
    /// not parse").
    #[error("reserved MessagePack byte 0xc1")]
    Reserved,
    /// A string that is not UTF-8 (notepack.io would put U+FFFD in its place).
    #[error("MessagePack string is not UTF-8")]
    InvalidUtf8,
    /// Arrays and maps nested deeper than [`MAX_DEPTH`].
    #[error("MessagePack value nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A map key that is not a string, number, boolean or nil (JavaScript would turn an
    /// array or object key into text such as `[object Object]`).
    #[error("MessagePack map key is not a string, number, boolean or nil")]
    InvalidKey,
    /// A timestamp extension whose length is not the 12 bytes of "timestamp 96"
    /// (notepack.io reads 12 bytes whatever the length says).
    #[error("MessagePack timestamp extension of the wrong length")]
    InvalidTimestamp,
    /// A string, binary, array or map longer than the format can say (2³² − 1).
    #[error("value too large for MessagePack")]
    TooLarge,
}

/// Appends `value` as notepack.io's `encode` writes the same JavaScript value: the smallest
/// integer format for an integral number (a double otherwise, always `float 64`), `str 8`
/// for strings of 32 to 255 bytes (notepack.io uses it; the spec's `fixstr` ends at 31),
/// `bin` for binary, keys in order.
///
/// # Errors
/// [`MsgpackError::TooLarge`] for a string, binary, array or map of 2³² or more bytes or
/// items (`out` then holds a partial value).
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), MsgpackError> {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s)?,
        Value::Binary(b) => {
            write_len(out, b.len(), None, [0xc4, 0xc5, 0xc6])?;
            out.extend_from_slice(b);
        }
        Value::Array(items) => {
            write_len(out, items.len(), Some(0x90), [0xdc, 0xdc, 0xdd])?;
            for v in items {
                encode(v, out)?;
            }
        }
        Value::Object(map) => {
            write_len(out, map.len(), Some(0x80), [0xde, 0xde, 0xdf])?;
            for (k, v) in map.iter() {
                write_str(out, k)?;
                encode(v, out)?;
            }
        }
    }
    Ok(())
}

/// The MessagePack bytes of `value` (see [`encode`]).
///
/// # Errors
/// As [`encode`].
pub fn to_vec(value: &Value) -> Result<Vec<u8>, MsgpackError> {
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}

/// Writes a length header: `fix | len` below 16 when the type has a fix form (arrays and
/// maps; strings have their own), else the 8-bit (binary only, `formats[0]`), 16-bit or
/// 32-bit form.
fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<u8>,
    formats: [u8; 3],
) -> Result<(), MsgpackError> {
    let len = u32::try_from(len).map_err(|_| MsgpackError::TooLarge)?;
    match fix {
        Some(f) if len < 16 => out.push(f | len as u8),
        None if len < 0x100 => out.extend_from_slice(&[formats[0], len as u8]),
        _ if len < 0x1_0000 => {
            out.push(formats[1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(formats[2]);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), MsgpackError> {
    let len = u32::try_from(s.len()).map_err(|_| MsgpackError::TooLarge)?;
    // notepack.io: "if (length < 0x20) { // fixstr" … "else if (length < 0x100) { // str 8".
    if len < 0x20 {
        out.push(0xa0 | len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len < 0x1_0000 {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// 2⁵³: integers up to here are exact as doubles, so they are written as they are.
const EXACT: u64 = 1 << 53;

fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) {
    if let Some(u) = n.as_u64() {
        if u <= EXACT {
            return write_uint(out, u);
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= EXACT {
            return write_int(out, i);
        }
    }
    // A JavaScript peer holds every number as a double: round as it would, then write the
    // double as notepack.io does.
    write_double(out, n.as_f64().unwrap_or(0.0));
}

/// Whether `f` is a finite integer (`f64::trunc` is not in `core`: below 2⁵², where a
/// double can have a fraction, truncate through `i64`; above, every double is an integer).
pub(crate) fn is_integral(f: f64) -> bool {
    const NO_FRACTION: f64 = 4_503_599_627_370_496.0; // 2^52
    f.is_finite() && (f.abs() >= NO_FRACTION || (f as i64) as f64 == f)
}

/// notepack.io: "if (Math.floor(value) !== value || !isFinite(value)) { // float 64", else
/// the smallest integer format. Its integer path is wrong beyond 64 bits (it writes the
/// value modulo 2⁶⁴); such a double is written as `float 64` here, which notepack.io reads
/// back correctly.
fn write_double(out: &mut Vec<u8>, f: f64) {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    const MINUS_TWO_63: f64 = -9_223_372_036_854_775_808.0;
    if is_integral(f) {
        if (0.0..TWO_64).contains(&f) {
            // `-0.0 >= 0` holds, and notepack.io writes -0 as the fixint 0 too.
            return write_uint(out, f as u64);
        }
        if (MINUS_TWO_63..0.0).contains(&f) {
            return write_int(out, f as i64);
        }
    }
    out.push(0xcb);
    out.extend_from_slice(&f.to_be_bytes());
}

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 0x80 {
        out.push(u as u8);
    } else if u < 0x100 {
        out.extend_from_slice(&[0xcc, u as u8]);
    } else if u < 0x1_0000 {
        out.push(0xcd);
        out.extend_from_slice(&(u as u16).to_be_bytes());
    } else if u < 0x1_0000_0000 {
        out.push(0xce);
        out.extend_from_slice(&(u as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        write_uint(out, i as u64);
    } else if i >= -0x20 {
        out.push(i as i8 as u8);
    } else if i >= -0x80 {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// Decodes one MessagePack value that fills `input` exactly. Binary becomes
/// [`Value::Binary`] slices of `input` (no copy). Nothing is allocated for a length before
/// the bytes it announces are known to be there, so a hostile length costs nothing.
///
/// # Errors
/// [`MsgpackError`]; a decoder error never panics.
pub fn decode(input: &Bytes) -> Result<Value, MsgpackError> {
    let mut r = Reader { input, pos: 0 };
    let v = r.value(0)?.unwrap_or(Value::Null);
    match input.len() - r.pos {
        0 => Ok(v),
        n => Err(MsgpackError::TrailingBytes(n)),
    }
}

struct Reader<'a> {
    input: &'a Bytes,
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], MsgpackError> {
        let end = self.pos.checked_add(n).ok_or(MsgpackError::Truncated)?;
        let s = self
            .input
            .get(self.pos..end)
            .ok_or(MsgpackError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MsgpackError> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, MsgpackError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<usize, MsgpackError> {
        Ok(usize::from(u16::from_be_bytes(self.array()?)))
    }

    fn u32(&mut self) -> Result<u32, MsgpackError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn len32(&mut self) -> Result<usize, MsgpackError> {
        usize::try_from(self.u32()?).map_err(|_| MsgpackError::Truncated)
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn bin(&mut self, n: usize) -> Result<Bytes, MsgpackError> {
        let start = self.pos;
        self.take(n)?;
        Ok(self.input.slice(start..start + n))
    }

    fn str(&mut self, n: usize) -> Result<String, MsgpackError> {
        let b = self.take(n)?;
        core::str::from_utf8(b)
            .map(String::from)
            .map_err(|_| MsgpackError::InvalidUtf8)
    }

    /// One value; `None` is JavaScript's `undefined`.
    fn value(&mut self, depth: usize) -> Result<Option<Value>, MsgpackError> {
        let b = self.u8()?;
        let v = match b {
            0x00..=0x7f => int(i64::from(b)),
            0x80..=0x8f => self.map(usize::from(b & 0x0f), depth)?,
            0x90..=0x9f => self.seq(usize::from(b & 0x0f), depth)?,
            0xa0..=0xbf => Value::String(self.str(usize::from(b & 0x1f))?),
            0xc0 => Value::Null,
            0xc1 => return Err(MsgpackError::Reserved),
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let n = usize::from(self.u8()?);
                Value::Binary(self.bin(n)?)
            }
            0xc5 => {
                let n = self.u16()?;
                Value::Binary(self.bin(n)?)
            }
            0xc6 => {
                let n = self.len32()?;
                Value::Binary(self.bin(n)?)
            }
            0xc7 => {
                let n = usize::from(self.u8()?);
                self.ext(n)?
            }
            0xc8 => {
                let n = self.u16()?;
                self.ext(n)?
            }
            0xc9 => {
                let n = self.len32()?;
                self.ext(n)?
            }
            0xca => double(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => double(f64::from_be_bytes(self.array()?)),
            0xcc => int(i64::from(self.u8()?)),
            0xcd => int(i64::from(u16::from_be_bytes(self.array()?))),
            0xce => int(i64::from(self.u32()?)),
            0xcf => uint64(u64::from_be_bytes(self.array()?)),
            0xd0 => int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => int64(i64::from_be_bytes(self.array()?)),
            0xd4 => {
                let ty = self.u8()? as i8;
                let data = self.bin(1)?;
                // notepack.io: "custom encoding for 'undefined'" (`d4 00 00`).
                if ty == 0 {
                    return Ok(None);
                }
                other_ext(ty, data)
            }
            0xd5 => self.fixext(2)?,
            0xd6 => {
                let ty = self.u8()? as i8;
                if ty == -1 {
                    // "timestamp 32 stores the number of seconds … in an 32-bit unsigned int"
                    date(f64::from(self.u32()?) * 1e3)
                } else {
                    other_ext(ty, self.bin(4)?)
                }
            }
            0xd7 => {
                let ty = self.u8()? as i8;
                match ty {
                    // notepack.io: "custom date encoding (kept for backward-compatibility)":
                    // milliseconds as a signed high and an unsigned low 32-bit word.
                    0 => {
                        let hi = i32::from_be_bytes(self.array()?);
                        let lo = self.u32()?;
                        date(f64::from(hi) * 4_294_967_296.0 + f64::from(lo))
                    }
                    // "timestamp 64 stores the number of seconds and nanoseconds … in
                    // 32-bit unsigned int and 34-bit unsigned int".
                    -1 => {
                        let hi = self.u32()?;
                        let lo = self.u32()?;
                        let secs = f64::from(hi & 3) * 4_294_967_296.0 + f64::from(lo);
                        date(secs * 1e3 + f64::from(hi >> 2) / 1e6)
                    }
                    _ => other_ext(ty, self.bin(8)?),
                }
            }
            0xd8 => self.fixext(16)?,
            0xd9 => {
                let n = usize::from(self.u8()?);
                Value::String(self.str(n)?)
            }
            0xda => {
                let n = self.u16()?;
                Value::String(self.str(n)?)
            }
            0xdb => {
                let n = self.len32()?;
                Value::String(self.str(n)?)
            }
            0xdc => {
                let n = self.u16()?;
                self.seq(n, depth)?
            }
            0xdd => {
                let n = self.len32()?;
                self.seq(n, depth)?
            }
            0xde => {
                let n = self.u16()?;
                self.map(n, depth)?
            }
            0xdf => {
                let n = self.len32()?;
                self.map(n, depth)?
            }
            0xe0..=0xff => int(i64::from(b as i8)),
        };
        Ok(Some(v))
    }

    fn fixext(&mut self, n: usize) -> Result<Value, MsgpackError> {
        let ty = self.u8()? as i8;
        Ok(other_ext(ty, self.bin(n)?))
    }

    /// `ext 8/16/32`: type 0 is notepack.io's old `ArrayBuffer` encoding, -1 "timestamp
    /// 96" ("stores the number of seconds and nanoseconds … in 64-bit signed int and
    /// 32-bit unsigned int").
    fn ext(&mut self, n: usize) -> Result<Value, MsgpackError> {
        let ty = self.u8()? as i8;
        match ty {
            0 => Ok(Value::Binary(self.bin(n)?)),
            -1 => {
                if n != 12 {
                    return Err(MsgpackError::InvalidTimestamp);
                }
                let nanos = self.u32()?;
                let secs = i64::from_be_bytes(self.array()?);
                Ok(date(secs as f64 * 1e3 + f64::from(nanos) / 1e6))
            }
            _ => Ok(other_ext(ty, self.bin(n)?)),
        }
    }

    fn seq(&mut self, n: usize, depth: usize) -> Result<Value, MsgpackError> {
        if depth >= MAX_DEPTH {
            return Err(MsgpackError::TooDeep);
        }
        // Every item takes at least one byte: a longer count is a lie, refused before
        // anything is allocated for it.
        if n > self.remaining() {
            return Err(MsgpackError::Truncated);
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            // `JSON.stringify([undefined])` is `[null]`.
            items.push(self.value(depth + 1)?.unwrap_or(Value::Null));
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, MsgpackError> {
        if depth >= MAX_DEPTH {
            return Err(MsgpackError::TooDeep);
        }
        if n > self.remaining() / 2 {
            return Err(MsgpackError::Truncated);
        }
        let mut map = MapBuilder::new();
        for _ in 0..n {
            let key = match self.value(depth + 1)? {
                Some(Value::String(s)) => s,
                // JavaScript turns a key into a string (`ToPropertyKey`).
                Some(Value::Number(n)) => {
                    let mut s = String::new();
                    crate::json::write_number(&mut s, &n);
                    s
                }
                Some(Value::Bool(b)) => String::from(if b { "true" } else { "false" }),
                Some(Value::Null) => String::from("null"),
                None => String::from("undefined"),
                Some(_) => return Err(MsgpackError::InvalidKey),
            };
            // A key whose value is `undefined` is left out, as `JSON.stringify` leaves it.
            if let Some(v) = self.value(depth + 1)? {
                map.push(key, v);
            }
        }
        Ok(Value::Object(map.finish()))
    }
}

fn int(i: i64) -> Value {
    Value::Number(i.into())
}

/// A `uint 64` as notepack.io reads it: `hi * 4294967296 + lo`, a JavaScript number, so
/// beyond 2⁵³ rounded to the nearest double (what this module's encoder writes for such a
/// value too, so that decoding what it encoded gives the same value).
fn uint64(u: u64) -> Value {
    if u <= EXACT {
        return Value::Number(u.into());
    }
    js_integer(u as f64)
}

/// An `int 64` as notepack.io reads it (see [`uint64`]).
fn int64(i: i64) -> Value {
    if i.unsigned_abs() <= EXACT {
        return int(i);
    }
    js_integer(i as f64)
}

/// An integral double beyond 2⁵³ as the encoder's input takes it: an integer while one
/// fits (`u64` up to 2⁶⁴, `i64` down to -2⁶³), else the double.
fn js_integer(f: f64) -> Value {
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if f > 0.0 && f < TWO_64 {
        Value::Number((f as u64).into())
    } else if (-(TWO_64 / 2.0)..0.0).contains(&f) {
        int(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// A double as a [`Value`]: integral ones within 2⁵³ as integers (JavaScript does not tell
/// `3.0` from `3`, and notepack.io writes `3.0` as the integer 3), non-finite ones as
/// `null` (`JSON.stringify(NaN)`).
fn double(f: f64) -> Value {
    if is_integral(f) && f.abs() <= EXACT as f64 {
        return int(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// notepack.io reads an extension it does not know as `[type, Buffer]`.
fn other_ext(ty: i8, data: Bytes) -> Value {
    Value::Array(alloc::vec![int(i64::from(ty)), Value::Binary(data)])
}

/// A `Date` as `JSON.stringify` writes it: `null` outside the time range.
fn date(ms: f64) -> Value {
    iso_string(ms).map_or(Value::Null, Value::String)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<Value, MsgpackError> {
        decode(&Bytes::copy_from_slice(b))
    }

    #[test]
    fn spec_formats_decode() {
        // Examples from the spec's format table.
        assert_eq!(dec(&[0x7f]), Ok(int(127)));
        assert_eq!(dec(&[0xe0]), Ok(int(-32)));
        assert_eq!(dec(&[0xcc, 0xff]), Ok(int(255)));
        assert_eq!(dec(&[0xd0, 0x80]), Ok(int(-128)));
        // u64::MAX as notepack.io reads it: the double 2^64.
        assert_eq!(
            dec(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(Value::Number(
                serde_json::Number::from_f64(18_446_744_073_709_551_616.0).unwrap()
            ))
        );
        // 2^53 + 155 (int 64 and uint 64): the nearest double, 2^53 + 156; found by the
        // proptest `msgpack_hostile_bytes` (decoding what the encoder wrote changed it).
        let near = Ok(Value::Number(((1u64 << 53) + 156).into()));
        assert_eq!(dec(&[0xd3, 0, 0x20, 0, 0, 0, 0, 0, 155]), near);
        assert_eq!(dec(&[0xcf, 0, 0x20, 0, 0, 0, 0, 0, 155]), near);
        assert_eq!(
            dec(&[0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0]),
            Ok(int(-(1i64 << 53)))
        );
        assert_eq!(dec(&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]), Ok(int(i64::MIN)));
        assert_eq!(dec(&[0xa3, b'a', b'b', b'c']), Ok(Value::from("abc")));
        assert_eq!(
            dec(&[0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0xc0]),
            Ok(Value::Object(
                [("a", int(1)), ("b", Value::Null)].into_iter().collect()
            ))
        );
        assert_eq!(
            dec(&[0xca, 0x3f, 0xc0, 0, 0]),
            Ok(Value::Number(serde_json::Number::from_f64(1.5).unwrap()))
        );
        assert_eq!(dec(&[0xc1]), Err(MsgpackError::Reserved));
        assert_eq!(dec(&[0xc0, 0xc0]), Err(MsgpackError::TrailingBytes(1)));
        assert_eq!(dec(&[0xa2, b'a']), Err(MsgpackError::Truncated));
        assert_eq!(dec(&[0xa1, 0xff]), Err(MsgpackError::InvalidUtf8));
    }

    #[test]
    fn hostile_counts_allocate_nothing() {
        // An array32 of 4 billion items with no items after it.
        assert_eq!(
            dec(&[0xdd, 0xff, 0xff, 0xff, 0xff]),
            Err(MsgpackError::Truncated)
        );
        assert_eq!(
            dec(&[0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0]),
            Err(MsgpackError::Truncated)
        );
        assert_eq!(
            dec(&[0xc6, 0xff, 0xff, 0xff, 0xff]),
            Err(MsgpackError::Truncated)
        );
        let deep = [0x91u8; MAX_DEPTH + 1];
        assert_eq!(dec(&deep), Err(MsgpackError::TooDeep));
    }

    #[test]
    fn notepack_extensions() {
        // undefined: `null` in an array, no key in a map.
        assert_eq!(
            dec(&[0x92, 0xd4, 0, 0, 0x01]),
            Ok(Value::Array(alloc::vec![Value::Null, int(1)]))
        );
        assert_eq!(
            dec(&[0x81, 0xa1, b'a', 0xd4, 0, 0]),
            Ok(Value::Object(crate::Map::new()))
        );
        // timestamp 32: 2026-12-06T00:00:00Z is 1,796,515,200 s.
        let s = 1_796_515_200u32.to_be_bytes();
        assert_eq!(
            dec(&[0xd6, 0xff, s[0], s[1], s[2], s[3]]),
            Ok(Value::from("2026-12-06T00:00:00.000Z"))
        );
        // timestamp 96 before the epoch: -1 s + 500 ms.
        let mut t96 = alloc::vec![0xc7, 12, 0xff];
        t96.extend_from_slice(&500_000_000u32.to_be_bytes());
        t96.extend_from_slice(&(-1i64).to_be_bytes());
        assert_eq!(dec(&t96), Ok(Value::from("1969-12-31T23:59:59.500Z")));
        // Another extension type: `[type, bytes]`.
        assert_eq!(
            dec(&[0xd5, 0x05, 1, 2]),
            Ok(Value::Array(alloc::vec![
                int(5),
                Value::Binary(Bytes::from_static(&[1, 2]))
            ]))
        );
    }

    #[test]
    fn encodes_as_notepack() {
        let enc = |v: Value| to_vec(&v).unwrap();
        assert_eq!(enc(int(-1)), [0xff]);
        assert_eq!(enc(int(-33)), [0xd0, 0xdf]);
        assert_eq!(enc(int(65_536)), [0xce, 0, 1, 0, 0]);
        // Integral doubles are integers; 2^64 is beyond notepack.io's integer path.
        let f = |x: f64| Value::Number(serde_json::Number::from_f64(x).unwrap());
        assert_eq!(enc(f(3.0)), [0x03]);
        assert_eq!(enc(f(-0.0)), [0x00]);
        assert_eq!(enc(f(0.5)), [0xcb, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(enc(f(18_446_744_073_709_551_616.0))[0], 0xcb);
        // 2^53 + 1 as a u64 is rounded as JavaScript would hold it: 2^53.
        assert_eq!(
            enc(Value::Number(((1u64 << 53) + 1).into())),
            [0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0]
        );
        let s32: String = core::iter::repeat_n('x', 32).collect();
        assert_eq!(enc(Value::String(s32))[..2], [0xd9, 32]);
        assert_eq!(
            enc(Value::Binary(Bytes::from_static(&[9])))[..],
            [0xc4, 1, 9]
        );
    }

    #[test]
    fn dates_match_to_iso_string() {
        // Values from `new Date(ms).toISOString()`.
        assert_eq!(date(0.0), Value::from("1970-01-01T00:00:00.000Z"));
        assert_eq!(
            date(951_782_400_000.0),
            Value::from("2000-02-29T00:00:00.000Z")
        );
        assert_eq!(
            date(-62_198_755_200_000.0),
            Value::from("-000001-01-01T00:00:00.000Z")
        );
        assert_eq!(
            date(253_402_300_800_000.0),
            Value::from("+010000-01-01T00:00:00.000Z")
        );
        assert_eq!(date(8.64e15 + 1.0), Value::Null);
    }
}
