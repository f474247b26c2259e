//! A proof's JOSE header and claims as RFC 9449 §4.2 names them, read in one pass into
//! fields that borrow from the decoded bytes: members this server does not judge are
//! skipped unread, and a member of the wrong type is read as absent, so its own check
//! refuses it with its own reason (a proof is a few hundred bytes, read on every request).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The header members a proof is judged by.
#[derive(Deserialize)]
pub(super) struct Header<'a> {
    #[serde(default, borrow)]
    pub(super) typ: Text<'a>,
    #[serde(default, borrow)]
    pub(super) alg: Text<'a>,
    /// Whole: its private members are looked for, its thumbprint taken, its key read.
    #[serde(default)]
    pub(super) jwk: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub(super) crit: bool,
}

/// The claims a proof is judged by.
#[derive(Deserialize)]
pub(super) struct Claims<'a> {
    #[serde(default, borrow)]
    pub(super) jti: Text<'a>,
    #[serde(default, borrow)]
    pub(super) htm: Text<'a>,
    #[serde(default, borrow)]
    pub(super) htu: Text<'a>,
    #[serde(default)]
    pub(super) iat: Option<Value>,
    #[serde(default, borrow)]
    pub(super) ath: Text<'a>,
    #[serde(default, borrow)]
    pub(super) nonce: Text<'a>,
}

/// A member that must be a string: its text when it is one, `None` for any other value.
#[derive(Default)]
pub(super) struct Text<'a>(pub(super) Option<Cow<'a, str>>);

impl Text<'_> {
    pub(super) fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Borrowed(s))))
    }

    // An escaped string cannot be borrowed.
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Owned(s.to_owned()))))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Text(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Text(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Text(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Text(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Text(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// `true` when the member is there, whatever its value (`null` included).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_read_and_other_values_are_absent() {
        let claims: Claims<'_> = serde_json::from_str(
            r#"{"jti":"a\"b","htm":"POST","htu":7,"ath":{"x":[1]},"iat":5,"other":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(claims.jti.get(), Some("a\"b"));
        assert_eq!(claims.htm.get(), Some("POST"));
        assert_eq!(claims.htu.get(), None);
        assert_eq!(claims.ath.get(), None);
        assert_eq!(claims.nonce.get(), None);
        assert_eq!(claims.iat, Some(Value::from(5)));
        let header: Header<'_> = serde_json::from_str(r#"{"typ":"dpop+jwt","crit":null}"#).unwrap();
        assert!(header.crit);
        assert!(header.jwk.is_none());
        let header: Header<'_> = serde_json::from_str(r#"{"alg":"ES256"}"#).unwrap();
        assert!(!header.crit);
    }
}
