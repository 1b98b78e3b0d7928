//! Reading serde types out of a [`Value`]: `impl Deserializer for &Value`, and its error
//! [`ValueDeError`].

use alloc::string::{String, ToString};
use core::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use crate::value::Value;

/// Why a [`Value`] could not be deserialized into a type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueDeError(pub String);

impl de::Error for ValueDeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueDeError(msg.to_string())
    }
}

impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = ValueDeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueDeError> {
        match self {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    v.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    v.visit_i64(i)
                } else {
                    v.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => v.visit_borrowed_str(s),
            Value::Binary(b) => v.visit_borrowed_bytes(b),
            Value::Array(items) => v.visit_seq(Seq { it: items.iter() }),
            Value::Object(map) => v.visit_map(MapAccess {
                it: map.entries().iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, ValueDeError> {
        match self {
            Value::Null => v.visit_none(),
            other => v.visit_some(other),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, ValueDeError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ValueDeError> {
        match self {
            // A unit variant as its name, the way serde_json writes it.
            Value::String(s) => v.visit_enum(s.as_str().into_deserializer()),
            // Any other variant as `{"Name": content}`.
            Value::Object(map) if map.len() == 1 => {
                let (k, val) = &map.entries()[0];
                v.visit_enum(Enum { key: k, value: val })
            }
            _ => Err(de::Error::custom(
                "expected an enum: a string or a one-key object",
            )),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'a> {
    it: core::slice::Iter<'a, Value>,
}

impl<'de> de::SeqAccess<'de> for Seq<'de> {
    type Error = ValueDeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ValueDeError> {
        self.it.next().map(|v| seed.deserialize(v)).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct MapAccess<'a> {
    it: core::slice::Iter<'a, (String, Value)>,
    value: Option<&'a Value>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'de> {
    type Error = ValueDeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ValueDeError> {
        match self.it.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ValueDeError> {
        match self.value.take() {
            Some(v) => seed.deserialize(v),
            None => Err(de::Error::custom("value asked for before its key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct Enum<'a> {
    key: &'a str,
    value: &'a Value,
}

impl<'de> de::EnumAccess<'de> for Enum<'de> {
    type Error = ValueDeError;
    type Variant = &'de Value;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, &'de Value), ValueDeError> {
        let name = seed.deserialize(de::value::BorrowedStrDeserializer::<ValueDeError>::new(
            self.key,
        ))?;
        Ok((name, self.value))
    }
}

impl<'de> de::VariantAccess<'de> for &'de Value {
    type Error = ValueDeError;
    fn unit_variant(self) -> Result<(), ValueDeError> {
        match self {
            Value::Null => Ok(()),
            _ => Err(de::Error::custom("expected a unit variant")),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, ValueDeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, ValueDeError> {
        de::Deserializer::deserialize_seq(self, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, ValueDeError> {
        de::Deserializer::deserialize_map(self, v)
    }
}
