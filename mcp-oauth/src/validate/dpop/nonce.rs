//! Server-provided DPoP nonces (RFC 9449 §9, with §8's `DPoP-Nonce` mechanics): made
//! and checked without state, so every instance holding the same key accepts the nonces
//! of the others and nothing grows with the number of clients.
//!
//! A nonce is `base64url(t ‖ tag)`: `t` the second it was made (8 bytes, big-endian) and
//! `tag` the first 16 bytes of HMAC-SHA256(key, label ‖ origin ‖ t). It is accepted from
//! `t` (less the leeway) until `t + lifetime`; past half its lifetime a new one is offered
//! on the successful response (§8.2), so a busy client never sees a `use_dpop_nonce`
//! refusal after its first.

use std::time::Duration;

use aws_lc_rs::{constant_time, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The default time a nonce is accepted for.
pub(crate) const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// The shortest secret accepted: 256 bits (RFC 2104 §3: at least the hash output).
pub(crate) const MIN_NONCE_SECRET_BYTES: usize = 32;

/// Separates these tags from any other use of the same key.
const LABEL: &[u8] = b"mcp-oauth DPoP-Nonce v1\0";
const TAG_BYTES: usize = 16;
const NONCE_BYTES: usize = 8 + TAG_BYTES;
/// The base64url length of a nonce; anything else is not one of ours.
const NONCE_CHARS: usize = (NONCE_BYTES * 4).div_ceil(3);

/// What a proof's `nonce` claim is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonceCheck {
    /// Ours and fresh.
    Fresh,
    /// Ours and accepted, past half its lifetime: offer the next one.
    Renew,
    /// Missing, not ours, or expired: refuse with `use_dpop_nonce` and a new one.
    Invalid,
}

/// Makes and checks the nonces of one protected resource.
pub(crate) struct Nonces {
    key: hmac::Key,
    lifetime: u64,
    /// The resource's origin: a nonce of another resource sharing the key is not ours.
    origin: String,
}

/// The lifetime only: never the key.
impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces keyed by `secret` (shared by a fleet), or by 32 random bytes of this
    /// process when there is none.
    pub(crate) fn new(secret: Option<&[u8]>, lifetime: Duration, origin: &str) -> Self {
        let mut random = [0u8; MIN_NONCE_SECRET_BYTES];
        let secret = match secret {
            Some(secret) => secret,
            None => {
                // A failing system random source leaves the process unable to do TLS
                // either; the all-zero key it would leave is never used.
                rand::fill(&mut random).expect("the system random source failed");
                &random
            }
        };
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            lifetime: lifetime.as_secs().max(1),
            origin: origin.to_owned(),
        }
    }

    /// A new nonce made at `now` (Unix seconds).
    pub(crate) fn issue(&self, now: u64) -> String {
        let mut bytes = [0u8; NONCE_BYTES];
        bytes[..8].copy_from_slice(&now.to_be_bytes());
        bytes[8..].copy_from_slice(&self.tag(now));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Judges the `nonce` claim of a proof at `now`, allowing `leeway` seconds for a
    /// nonce made by an instance whose clock is ahead.
    pub(crate) fn check(&self, nonce: Option<&str>, now: u64, leeway: u64) -> NonceCheck {
        let Some(made) = nonce.and_then(|n| self.made_at(n)) else {
            return NonceCheck::Invalid;
        };
        if made > now.saturating_add(leeway) || now.saturating_sub(made) > self.lifetime {
            NonceCheck::Invalid
        } else if now.saturating_sub(made) > self.lifetime / 2 {
            NonceCheck::Renew
        } else {
            NonceCheck::Fresh
        }
    }

    /// The second `nonce` was made, if it is one of ours.
    fn made_at(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != NONCE_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        let (time, tag) = bytes.split_at_checked(8)?;
        let made = u64::from_be_bytes(time.try_into().ok()?);
        constant_time::verify_slices_are_equal(tag, &self.tag(made)).ok()?;
        Some(made)
    }

    fn tag(&self, made: u64) -> [u8; TAG_BYTES] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(LABEL);
        ctx.update(self.origin.as_bytes());
        ctx.update(b"\0");
        ctx.update(&made.to_be_bytes());
        let full = ctx.sign();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full.as_ref()[..TAG_BYTES]);
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: u64 = 1_800_000_000;

    fn nonces() -> Nonces {
        Nonces::new(
            Some(SECRET),
            Duration::from_secs(300),
            "https://mcp.example.com",
        )
    }

    #[test]
    fn a_nonce_is_fresh_then_renewed_then_refused() {
        let n = nonces();
        let nonce = n.issue(NOW);
        assert_eq!(nonce.len(), NONCE_CHARS);
        // RFC 9449 §8.1: 1*NQCHAR; base64url has no quote or backslash.
        assert!(
            nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(n.check(Some(&nonce), NOW, 0), NonceCheck::Fresh);
        assert_eq!(n.check(Some(&nonce), NOW + 150, 0), NonceCheck::Fresh);
        assert_eq!(n.check(Some(&nonce), NOW + 151, 0), NonceCheck::Renew);
        assert_eq!(n.check(Some(&nonce), NOW + 300, 0), NonceCheck::Renew);
        assert_eq!(n.check(Some(&nonce), NOW + 301, 0), NonceCheck::Invalid);
    }

    #[test]
    fn a_nonce_from_the_future_passes_only_within_the_leeway() {
        let n = nonces();
        let ahead = n.issue(NOW + 30);
        assert_eq!(n.check(Some(&ahead), NOW, 60), NonceCheck::Fresh);
        assert_eq!(n.check(Some(&ahead), NOW, 10), NonceCheck::Invalid);
    }

    #[test]
    fn another_key_or_origin_or_a_changed_byte_is_not_ours() {
        let n = nonces();
        let nonce = n.issue(NOW);
        let other_key = Nonces::new(
            Some(b"another secret of thirty-two byte"),
            Duration::from_secs(300),
            "https://mcp.example.com",
        );
        assert_eq!(other_key.check(Some(&nonce), NOW, 0), NonceCheck::Invalid);
        let other_origin = Nonces::new(
            Some(SECRET),
            Duration::from_secs(300),
            "https://other.example.com",
        );
        assert_eq!(
            other_origin.check(Some(&nonce), NOW, 0),
            NonceCheck::Invalid
        );
        // Same key, same origin: a fleet's other instance accepts it.
        assert_eq!(nonces().check(Some(&nonce), NOW, 0), NonceCheck::Fresh);

        // A later time with the old tag (extending a nonce's life) is refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        bytes[7] ^= 1;
        let moved = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(n.check(Some(&moved), NOW, 0), NonceCheck::Invalid);
        for bad in ["", "short", &format!("{nonce}A"), &"!".repeat(NONCE_CHARS)] {
            assert_eq!(n.check(Some(bad), NOW, 0), NonceCheck::Invalid, "{bad}");
        }
        assert_eq!(n.check(None, NOW, 0), NonceCheck::Invalid);
    }

    #[test]
    fn per_process_keys_differ() {
        let a = Nonces::new(None, Duration::from_secs(300), "https://mcp.example.com");
        let b = Nonces::new(None, Duration::from_secs(300), "https://mcp.example.com");
        assert_eq!(a.check(Some(&a.issue(NOW)), NOW, 0), NonceCheck::Fresh);
        assert_eq!(b.check(Some(&a.issue(NOW)), NOW, 0), NonceCheck::Invalid);
        assert!(!format!("{a:?}").contains("key"));
    }
}
