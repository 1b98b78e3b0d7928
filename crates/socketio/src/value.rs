//! [`Value`]: JSON that can hold binary, as a Socket.IO event's arguments do, with [`Map`]
//! for its objects.
//!
//! On the wire a binary value is a placeholder `{"_placeholder":true,"num":N}` in the JSON
//! and the bytes travel as attachment `N`; [`Value::to_json`] replaces each
//! [`Value::Binary`] depth-first (arrays by index, objects in key order), as
//! socket.io-parser's `deconstructPacket` does, and [`Value::from_json`] puts them back.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use bytes::Bytes;
use serde::de::{Deserialize, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq};

use crate::error::DecodeError;
use crate::json;

/// A JSON value that can also hold binary data.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// Binary data: an attachment on the wire.
    Binary(Bytes),
    /// An array.
    Array(Vec<Value>),
    /// An object.
    Object(Map),
}

/// A JSON object: keys in the order they were inserted or parsed, each key once. Parsing a
/// repeated key keeps its first position and its last value, as `JSON.parse` does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map {
    entries: Vec<(String, Value)>,
}

// Above this many keys, duplicate detection while parsing uses an index instead of a scan,
// so a hostile object of many keys costs n log n, not n².
const SCAN_KEYS: usize = 16;

impl Map {
    /// An empty map.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// The number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no keys.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key` to `value`: in place if the key exists (returning the old value), else at
    /// the end.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(core::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut m = Map::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}
impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Number(n.into())
    }
}
impl From<Bytes> for Value {
    fn from(b: Bytes) -> Self {
        Value::Binary(b)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Object(m)
    }
}

impl Value {
    /// Parses JSON text, putting `attachments` in place of their placeholders: an object whose
    /// `_placeholder` is `true` becomes `attachments[num]` (socket.io-parser's
    /// `reconstructPacket`).
    ///
    /// # Errors
    /// [`DecodeError::InvalidJson`] for text that is not JSON (or nests deeper than 128);
    /// [`DecodeError::IllegalPlaceholder`] for a placeholder whose `num` is not an integer
    /// index of `attachments` ("isIndexValid = typeof data.num === "number" && data.num >= 0
    /// && data.num < buffers.length", socket.io-parser 4.2; a fractional `num`, which the
    /// reference lets through as `undefined`, is refused).
    pub fn from_json(text: &str, attachments: &[Bytes]) -> Result<Value, DecodeError> {
        let mut v = Value::parse(text)?;
        v.reconstruct(attachments)?;
        Ok(v)
    }

    /// Parses JSON text as it is: a placeholder stays an object (the payload of a packet that
    /// is not binary is not reconstructed).
    ///
    /// # Errors
    /// [`DecodeError::InvalidJson`] for text that is not JSON (or nests deeper than 128).
    pub fn parse(text: &str) -> Result<Value, DecodeError> {
        serde_json::from_str(text).map_err(|_| DecodeError::InvalidJson)
    }

    fn reconstruct(&mut self, attachments: &[Bytes]) -> Result<(), DecodeError> {
        match self {
            Value::Array(items) => items
                .iter_mut()
                .try_for_each(|v| v.reconstruct(attachments)),
            Value::Object(map) => {
                if matches!(map.get("_placeholder"), Some(Value::Bool(true))) {
                    let index = match map.get("num") {
                        Some(Value::Number(n)) => placeholder_index(n),
                        _ => None,
                    };
                    match index.and_then(|i| attachments.get(i)) {
                        Some(b) => *self = Value::Binary(b.clone()),
                        None => return Err(DecodeError::IllegalPlaceholder),
                    }
                    Ok(())
                } else {
                    map.entries
                        .iter_mut()
                        .try_for_each(|(_, v)| v.reconstruct(attachments))
                }
            }
            _ => Ok(()),
        }
    }

    /// Whether any [`Value::Binary`] is inside.
    #[must_use]
    pub fn has_binary(&self) -> bool {
        match self {
            Value::Binary(_) => true,
            Value::Array(items) => items.iter().any(Value::has_binary),
            Value::Object(map) => map.entries.iter().any(|(_, v)| v.has_binary()),
            _ => false,
        }
    }

    /// Appends this value as `JSON.stringify` writes it, each [`Value::Binary`] replaced by a
    /// placeholder numbered in depth-first order and its bytes pushed onto `attachments`.
    pub fn to_json(&self, out: &mut String, attachments: &mut Vec<Bytes>) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => json::write_number(out, n),
            Value::String(s) => json::write_str(out, s),
            Value::Binary(b) => {
                use core::fmt::Write as _;
                let _ = write!(
                    out,
                    "{{\"_placeholder\":true,\"num\":{}}}",
                    attachments.len()
                );
                attachments.push(b.clone());
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.to_json(out, attachments);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::write_str(out, k);
                    out.push(':');
                    v.to_json(out, attachments);
                }
                out.push('}');
            }
        }
    }

    /// The string, if this is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(v) => Some(v),
            _ => None,
        }
    }

    /// The map, if this is an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// The bytes, if this is binary.
    #[must_use]
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Value::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// Builds a value from any serde type; `serialize_bytes` (for example a `serde_bytes`
    /// field) becomes [`Value::Binary`].
    ///
    /// # Errors
    /// [`crate::BuildError::Serialize`] when the type's `Serialize` fails or a map key is
    /// not a string.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Value, crate::BuildError> {
        value
            .serialize(crate::ser::ValueSerializer)
            .map_err(|e| crate::BuildError::Serialize(e.0))
    }

    /// Deserializes a serde type from this value; [`Value::Binary`] is offered as bytes
    /// (`visit_bytes`), so `Vec<u8>`, `bytes::Bytes` and `serde_bytes` fields take it.
    ///
    /// # Errors
    /// When the value does not have the shape `T` expects.
    pub fn deserialize_into<'a, T: Deserialize<'a>>(
        &'a self,
    ) -> Result<T, crate::de::ValueDeError> {
        T::deserialize(self)
    }
}

/// The index a placeholder's `num` names, if it is a non-negative integer.
pub(crate) fn placeholder_index(n: &serde_json::Number) -> Option<usize> {
    if let Some(u) = n.as_u64() {
        return usize::try_from(u).ok();
    }
    let f = n.as_f64()?;
    // 1.0 is the index 1 in JavaScript too; 0.5 is not an index.
    if (0.0..9.007_199_254_740_992e15).contains(&f) {
        // Below 2^53 the cast is exact for integers; a fraction does not survive it.
        let i = f as u64;
        (i as f64 == f).then(|| usize::try_from(i).ok()).flatten()
    } else {
        None
    }
}

// ---- serde -----------------------------------------------------------------------------

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(v) => s.serialize_str(v),
            Value::Binary(b) => s.serialize_bytes(b),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in &map.entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = MapBuilder::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(ValueSeed)?;
            map.push(key, value);
        }
        Ok(Value::Object(map.finish()))
    }
}

/// Builds a [`Map`] from keys and values as they are parsed, with `JSON.parse`'s rule for a
/// repeated key (it keeps its first position and takes the last value), in n log n for a
/// hostile object of many keys (an index replaces the scan above [`SCAN_KEYS`] keys).
/// Shared by the JSON and the MessagePack decoders.
pub(crate) struct MapBuilder {
    map: Map,
    index: Option<BTreeMap<String, usize>>,
}

impl MapBuilder {
    pub(crate) fn new() -> Self {
        Self {
            map: Map::new(),
            index: None,
        }
    }

    pub(crate) fn push(&mut self, key: String, value: Value) {
        let entries = &mut self.map.entries;
        let found = match &self.index {
            Some(ix) => ix.get(&key).copied(),
            None => entries.iter().position(|(k, _)| *k == key),
        };
        match found {
            Some(i) => entries[i].1 = value,
            None => {
                if let Some(ix) = &mut self.index {
                    ix.insert(key.clone(), entries.len());
                }
                entries.push((key, value));
                if self.index.is_none() && entries.len() > SCAN_KEYS {
                    self.index = Some(
                        entries
                            .iter()
                            .enumerate()
                            .map(|(i, (k, _))| (k.clone(), i))
                            .collect(),
                    );
                }
            }
        }
    }

    pub(crate) fn finish(self) -> Map {
        self.map
    }
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
}

// `de` and `ser` use the private entries.
impl Map {
    pub(crate) fn entries(&self) -> &[(String, Value)] {
        &self.entries
    }
}
