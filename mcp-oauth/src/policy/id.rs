//! A JSON-RPC request `id`, read from a body to be echoed in an error response
//! (JSON-RPC 2.0 §5: the id of the request, or null when it cannot be determined).
//! Only a number or a short string is kept, so a huge `id` costs no memory.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The longest string `id` kept; a longer one is answered with a null id.
pub(crate) const MAX_ID_BYTES: usize = 256;

/// A JSON-RPC `id` kept only when it is a number or a short string (nothing else is
/// echoed, so nothing unbounded is kept).
pub(crate) struct Id(pub(crate) Option<serde_json::Value>);

impl<'de> de::Deserialize<'de> for Id {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON-RPC id")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Id, E> {
                Ok(Id((s.len() <= MAX_ID_BYTES).then(|| s.into())))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Id, E> {
                Ok(Id(Some(n.into())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id, E> {
                Ok(Id(Some(n.into())))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Id, E> {
                Ok(Id(serde_json::Number::from_f64(n).map(Into::into)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Id, E> {
                Ok(Id(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Id, E> {
                Ok(Id(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Id, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Id(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Id, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Id(None))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}
