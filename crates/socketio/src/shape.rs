//! One pass over a packet's JSON that checks it is JSON, learns what the packet rules need
//! (the top-level kind, an array's first element, the event name's place) and, for a binary
//! packet, that every placeholder names an attachment — without building the value.

use alloc::string::String;
use core::cell::Cell;
use core::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::error::DecodeError;
use crate::value::placeholder_index;

/// Where a string sits: a byte range of the text it was read from (no escapes), or a copy
/// (it had escapes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StrRef {
    Span(usize, usize),
    Owned(String),
}

impl StrRef {
    pub(crate) fn get<'a>(&'a self, text: &'a str) -> &'a str {
        match self {
            StrRef::Span(a, b) => text.get(*a..*b).unwrap_or(""),
            StrRef::Owned(s) => s,
        }
    }
}

/// What an array starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum First {
    Empty,
    Str(StrRef),
    Number,
    Other,
}

/// The top-level kind of a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    Null,
    Bool,
    Number,
    String,
    Array(First),
    Object,
}

/// Checks `json` (which sits at byte `offset` of the packet text) and returns its shape,
/// and whether a placeholder names no attachment. `attachments`: `Some(n)` checks
/// placeholders against `n` attachments.
///
/// A bad placeholder does not stop the pass: text that is not JSON is
/// [`DecodeError::InvalidJson`] wherever its placeholders are, and the caller reports the
/// placeholder only after the payload rules, in the reference's order (`JSON.parse`, then
/// `isPayloadValid`, then `reconstructPacket`; found by tests/differential.rs).
pub(crate) fn check(
    json: &str,
    offset: usize,
    attachments: Option<usize>,
) -> Result<(Shape, bool), DecodeError> {
    let ctx = Ctx {
        base: json.as_ptr() as usize,
        offset,
        attachments,
        bad_placeholder: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_str(json);
    let node = Walk {
        ctx: &ctx,
        top: true,
        name: false,
    }
    .deserialize(&mut de)
    .and_then(|n| de.end().map(|()| n));
    match node {
        Ok(n) => Ok((n.shape, ctx.bad_placeholder.get())),
        Err(_) => Err(DecodeError::InvalidJson),
    }
}

struct Ctx {
    base: usize,
    offset: usize,
    attachments: Option<usize>,
    bad_placeholder: Cell<bool>,
}

struct Node {
    shape: Shape,
    is_true: bool,
    index: Option<usize>,
    name: Option<StrRef>,
}

impl Node {
    fn of(shape: Shape) -> Self {
        Node {
            shape,
            is_true: false,
            index: None,
            name: None,
        }
    }
}

#[derive(Clone, Copy)]
struct Walk<'c> {
    ctx: &'c Ctx,
    /// The top-level value: its array's first element is looked at.
    top: bool,
    /// Keep where this string is (the event name).
    name: bool,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Node;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::of(Shape::Null))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        let mut n = Node::of(Shape::Bool);
        n.is_true = v;
        Ok(n)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        let mut n = Node::of(Shape::Number);
        n.index = usize::try_from(v).ok();
        Ok(n)
    }
    fn visit_i64<E>(self, _v: i64) -> Result<Node, E> {
        Ok(Node::of(Shape::Number))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        let mut n = Node::of(Shape::Number);
        n.index = serde_json::Number::from_f64(v).and_then(|x| placeholder_index(&x));
        Ok(n)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node, E> {
        let mut n = Node::of(Shape::String);
        if self.name {
            let start = v.as_ptr() as usize - self.ctx.base + self.ctx.offset;
            n.name = Some(StrRef::Span(start, start + v.len()));
        }
        Ok(n)
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        let mut n = Node::of(Shape::String);
        if self.name {
            n.name = Some(StrRef::Owned(v.into()));
        }
        Ok(n)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let inner = Walk {
            ctx: self.ctx,
            top: false,
            name: self.top,
        };
        let first = match seq.next_element_seed(inner)? {
            None => First::Empty,
            Some(n) => match n.shape {
                Shape::String => First::Str(n.name.unwrap_or(StrRef::Span(0, 0))),
                Shape::Number => First::Number,
                _ => First::Other,
            },
        };
        let rest = Walk {
            name: false,
            ..inner
        };
        while seq.next_element_seed(rest)?.is_some() {}
        Ok(Node::of(Shape::Array(first)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let inner = Walk {
            ctx: self.ctx,
            top: false,
            name: false,
        };
        // `JSON.parse` keeps the last of repeated keys; so do these.
        let mut placeholder = false;
        let mut num: Option<Option<usize>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let node = map.next_value_seed(inner)?;
            match key {
                Key::Placeholder => placeholder = node.is_true,
                Key::Num => num = Some(node.index.filter(|_| node.shape == Shape::Number)),
                Key::Other => {}
            }
        }
        if let (Some(n), true) = (self.ctx.attachments, placeholder) {
            // socket.io-parser 4.2 `_reconstructPacket`: "if (data && data._placeholder ===
            // true) { const isIndexValid = typeof data.num === "number" && data.num >= 0 &&
            // data.num < buffers.length; … else throw new Error("illegal attachments")".
            if !matches!(num, Some(Some(i)) if i < n) {
                self.ctx.bad_placeholder.set(true);
            }
        }
        Ok(Node::of(Shape::Object))
    }
}

enum Key {
    Placeholder,
    Num,
    Other,
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(match v {
            "_placeholder" => Key::Placeholder,
            "num" => Key::Num,
            _ => Key::Other,
        })
    }
}
