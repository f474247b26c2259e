//! The protocol version a MCP 2026-07-28 request carries in `params._meta`
//! (`io.modelcontextprotocol/protocolVersion`, changelog "Make MCP stateless"), which
//! the `MCP-Protocol-Version` header must match (transports §Protocol Version Header).

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};

use super::visit::{InsertString, ObjectReader};

/// The `_meta` member where MCP 2026-07-28 carries a request's protocol version.
pub(crate) const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";

/// Adds the protocol version of a `params._meta` object to a set (nothing when `_meta`
/// is not an object or the version not a string).
pub(crate) struct MetaVersion<'s>(pub(crate) &'s mut HashSet<String>);

impl<'de> ObjectReader<'de> for MetaVersion<'_> {
    type Key = MetaKey;
    const WHAT: &'static str = "request _meta";

    fn member<A: MapAccess<'de>>(&mut self, key: MetaKey, map: &mut A) -> Result<(), A::Error> {
        if key.0 {
            map.next_value_seed(InsertString(&mut *self.0))
        } else {
            map.next_value::<IgnoredAny>().map(drop)
        }
    }
}

/// Whether a `_meta` member is the protocol version.
pub(crate) struct MetaKey(bool);

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
