//! The protocol version a MCP 2026-07-28 request carries in `params._meta`
//! (`io.modelcontextprotocol/protocolVersion`, changelog "Make MCP stateless"), which
//! the `MCP-Protocol-Version` header must match (transports §Protocol Version Header).

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::visit::{InsertString, nothing_for_scalars};

/// The `_meta` member where MCP 2026-07-28 carries a request's protocol version.
pub(crate) const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";

/// Adds the protocol version of a `params._meta` object to a set (nothing when `_meta`
/// is not an object or the version not a string).
pub(crate) struct MetaVersion<'s>(pub(crate) &'s mut HashSet<String>);

impl<'de> DeserializeSeed<'de> for MetaVersion<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MetaVersion<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request _meta")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<MetaKey>()? {
            if key.0 {
                map.next_value_seed(InsertString(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    nothing_for_scalars!();
}

/// Whether a `_meta` member is the protocol version.
struct MetaKey(bool);

impl<'de> de::Deserialize<'de> for MetaKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MetaKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<MetaKey, E> {
                Ok(MetaKey(key == PROTOCOL_VERSION_META))
            }
        }
        d.deserialize_identifier(V)
    }
}
