//! JWK SHA-256 thumbprints (RFC 7638), the value of `cnf.jkt` (RFC 9449 §6.1).

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The RFC 7638 §3 thumbprint of a public JWK: its required members only, in
/// lexicographic order, no whitespace (§3.2), hashed with SHA-256, base64url without
/// padding (RFC 9449 §6.1). `None` for a key type without a thumbprint rule here or a
/// required member that is not a string.
pub(crate) fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        // RFC 7638 §3.2: EC `crv`, `kty`, `x`, `y`; RSA `e`, `kty`, `n`;
        // RFC 8037 §2: OKP `crv`, `kty`, `x`.
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut json = Vec::with_capacity(192);
    json.push(b'{');
    for (i, name) in members.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            json.push(b',');
        }
        // serde_json writes a string as RFC 8259 JSON: the same escaping RFC 7638 §3.3
        // asks. Writing to a Vec cannot fail.
        serde_json::to_writer(&mut json, name).ok()?;
        json.push(b':');
        serde_json::to_writer(&mut json, value).ok()?;
    }
    json.push(b'}');
    let hash = digest::digest(&digest::SHA256, &json);
    Some(URL_SAFE_NO_PAD.encode(hash.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn the_rfc_7638_example_has_its_published_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = object(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }));
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn the_rfc_9449_example_key_has_its_published_thumbprint() {
        // RFC 9449 §4.2 (the key of Figure 3) and §6.1 (its `jkt`, Figure 7).
        let jwk = object(json!({
            "kty": "EC",
            "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
            "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
            "crv": "P-256"
        }));
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I")
        );
    }

    #[test]
    fn optional_members_do_not_change_it_and_unknown_key_types_have_none() {
        let bare = object(json!({"kty": "OKP", "crv": "Ed25519", "x": "abc"}));
        let extra =
            object(json!({"kty": "OKP", "crv": "Ed25519", "x": "abc", "use": "sig", "kid": "k"}));
        assert_eq!(thumbprint(&bare), thumbprint(&extra));
        assert!(thumbprint(&bare).is_some());
        assert_eq!(thumbprint(&object(json!({"kty": "oct", "k": "abc"}))), None);
        assert_eq!(
            thumbprint(&object(json!({"kty": "EC", "crv": "P-256", "x": "a"}))),
            None
        );
        assert_eq!(
            thumbprint(&object(json!({"kty": "EC", "crv": 1, "x": "a", "y": "b"}))),
            None
        );
    }
}
