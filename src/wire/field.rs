//! A JSON value where a request expects a string, read without building
//! what it does not need.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON value where a string is expected: kept if it is a string or a
/// number, otherwise only noted as wrong (without building it).
pub(super) enum Field<'a> {
    Text(Cow<'a, str>),
    Number(String),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field<'a>, D::Error> {
        struct FieldVisitor<'a>(std::marker::PhantomData<&'a ()>);

        impl<'de: 'a, 'a> Visitor<'de> for FieldVisitor<'a> {
            type Value = Field<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "any JSON value")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Field<'a>, E> {
                Ok(Field::Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Field<'a>, E> {
                Ok(Field::Text(Cow::Owned(text.to_string())))
            }
            fn visit_string<E>(self, text: String) -> Result<Field<'a>, E> {
                Ok(Field::Text(Cow::Owned(text)))
            }
            fn visit_u64<E>(self, number: u64) -> Result<Field<'a>, E> {
                Ok(Field::Number(number.to_string()))
            }
            fn visit_i64<E>(self, number: i64) -> Result<Field<'a>, E> {
                Ok(Field::Number(number.to_string()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Field<'a>, E> {
                // Only integers name a call: `1.5`, `1e3` or an integer too
                // big for 64 bits would not read back as the same id.
                Ok(Field::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Field<'a>, E> {
                Ok(Field::Other)
            }
            fn visit_unit<E>(self) -> Result<Field<'a>, E> {
                Ok(Field::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }

        deserializer.deserialize_any(FieldVisitor(std::marker::PhantomData))
    }
}
