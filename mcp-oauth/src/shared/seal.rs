//! A fleet secret that makes the shared store's contents worthless to forge or read: with
//! it, every value is stored with an HMAC-SHA256 tag over its key and itself (a value
//! without a good tag is read as absent), and every key names an HMAC of its id instead of
//! the id (an address's or token's hash cannot be tried against a list). RFC 2104.

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The shortest fleet secret: 256 bits (RFC 2104 §3: at least the hash output).
pub(crate) const MIN_SECRET_BYTES: usize = 32;
/// The tag's length in base64url characters (32 bytes).
const TAG_CHARS: usize = 43;

pub(crate) struct Seal {
    key: hmac::Key,
}

/// Never the key.
impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl Seal {
    pub(crate) fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(format!("must be at least {MIN_SECRET_BYTES} bytes"));
        }
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        })
    }

    /// The id a key names: HMAC(kind ‖ 0 ‖ id), so the same id of two kinds differs.
    pub(crate) fn id(&self, kind: &str, id: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(b"id\0");
        ctx.update(kind.as_bytes());
        ctx.update(b"\0");
        ctx.update(id);
        let mut out = [0; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// `<tag>.<value>`, the tag over the key and the value (so a value cannot be moved to
    /// another key).
    pub(crate) fn seal(&self, key: &str, value: &str) -> String {
        let mut out = URL_SAFE_NO_PAD.encode(self.tag(key, value));
        out.push('.');
        out.push_str(value);
        out
    }

    /// The value of a sealed `stored`, if its tag is good.
    pub(crate) fn open<'a>(&self, key: &str, stored: &'a str) -> Option<&'a str> {
        let (tag, value) = stored.split_at_checked(TAG_CHARS)?;
        let value = value.strip_prefix('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        constant_time::verify_slices_are_equal(&tag, self.tag(key, value).as_ref()).ok()?;
        Some(value)
    }

    fn tag(&self, key: &str, value: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(b"value\0");
        ctx.update(key.as_bytes());
        ctx.update(b"\0");
        ctx.update(value.as_bytes());
        ctx.sign()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_under_its_key_and_secret() {
        let seal = Seal::new(&[1; 32]).unwrap();
        let sealed = seal.seal("p:session:ab", "owner");
        assert_eq!(seal.open("p:session:ab", &sealed), Some("owner"));
        assert_eq!(
            seal.open("p:session:cd", &sealed),
            None,
            "moved to another key"
        );
        let forged = sealed.replace("owner", "other");
        assert_eq!(seal.open("p:session:ab", &forged), None, "changed");
        assert_eq!(seal.open("p:session:ab", "owner"), None, "unsealed");
        let other = Seal::new(&[2; 32]).unwrap();
        assert_eq!(other.open("p:session:ab", &sealed), None, "another secret");
        assert!(Seal::new(b"short").is_err());
        assert_ne!(seal.id("a", b"x"), seal.id("b", b"x"));
        assert_ne!(seal.id("a", b"x"), other.id("a", b"x"));
    }
}
