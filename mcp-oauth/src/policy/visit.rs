//! Visitors shared by the body readers (`jsonrpc.rs`, `meta.rs`): a
//! string added to a set, and the arms that read any other scalar as nothing. They keep
//! the work linear: a value is read once, and a string allocated only when new.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The arms of a visitor that reads a non-container value as "nothing here".
macro_rules! nothing_for_scalars {
    () => {
        nothing_for_scalars!(@not_strings);
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
    (@not_strings) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

pub(crate) use nothing_for_scalars;

/// Reads the members of a JSON object it cares about; [`Object`] reads anything else (an
/// array, a scalar) as nothing, so a body of the wrong shape costs one linear pass.
pub(crate) trait ObjectReader<'de> {
    /// How a member name is read (usually an enum of the members of interest).
    type Key: de::Deserialize<'de>;
    /// What the object is, for serde's error messages.
    const WHAT: &'static str;
    /// Reads the value of the member `key` from `map` (or skips it).
    fn member<A: MapAccess<'de>>(&mut self, key: Self::Key, map: &mut A) -> Result<(), A::Error>;
}

/// The seed and visitor of an [`ObjectReader`].
pub(crate) struct Object<R>(pub(crate) R);

impl<'de, R: ObjectReader<'de>> DeserializeSeed<'de> for Object<R> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: ObjectReader<'de>> Visitor<'de> for Object<R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<R::Key>()? {
            self.0.member(key, &mut map)?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    nothing_for_scalars!();
}

/// Adds a string value to a set (allocating only for a value not yet in it); any other
/// value is skipped.
pub(crate) struct InsertString<'s>(pub(crate) &'s mut HashSet<String>);

impl<'de> DeserializeSeed<'de> for InsertString<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InsertString<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }

    // Escaped or not, every string arrives here (serde_json's default for borrowed
    // strings): the set holds the text the server reads.
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        if !self.0.contains(s) {
            self.0.insert(s.to_owned());
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    nothing_for_scalars!(@not_strings);
}
