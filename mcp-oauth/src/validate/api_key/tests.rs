use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::*;
use crate::validate::cache::CachedValidator;
use crate::validate::jwks::KeyEpoch;

const KEY: &str = "mcp_sk_0123456789abcdef";

fn run<V: TokenValidator + ?Sized>(v: &V, token: &str) -> Result<VerifiedClaims, Refusal> {
    actix_web::rt::System::new().block_on(v.validate(token))
}

fn description(r: Result<VerifiedClaims, Refusal>) -> String {
    match r {
        Err(Refusal::InvalidToken(why)) => why.description().to_owned(),
        other => panic!("expected invalid_token, got {other:?}"),
    }
}

#[test]
fn a_listed_key_gives_its_principal_and_scopes() {
    let entry = ApiKey::new("ci-bot", ApiKey::hash(KEY)).scopes(["tools:call", "files:read"]);
    let keys = ApiKeys::new(DEFAULT_API_KEY_PREFIX, [&entry]);
    let claims = run(&keys, KEY).unwrap();
    assert_eq!(claims.subject(), Some("ci-bot"));
    assert_eq!(claims.scopes(), ["tools:call", "files:read"]);
    assert_eq!(claims.credential(), Credential::ApiKey);
    assert_eq!(claims.issuer(), None);
    assert_eq!(claims.expires_at(), None);
    assert_eq!(
        description(run(&keys, "mcp_sk_other")),
        "The API key is not known"
    );
}

#[test]
fn routing_is_by_prefix_alone() {
    let keys = ApiKeys::new("acme_", []);
    assert_eq!(keys.recognizes("acme_anything"), Recognition::Mine);
    assert_eq!(keys.recognizes(KEY), Recognition::NotMine);
    assert_eq!(
        keys.recognizes("eyJhbGciOiJSUzI1NiJ9.e30.sig"),
        Recognition::NotMine
    );
}

#[test]
fn an_expired_key_stops_working_even_when_cached() {
    let clock = Clock::manual();
    let expiry = clock.wall() + Duration::from_secs(120);
    let entry = ApiKey::new("ci-bot", ApiKey::hash(KEY)).expires_at(expiry);
    let keys = ApiKeys::new(DEFAULT_API_KEY_PREFIX, [&entry]).with_clock(clock.clone());
    let cache = CachedValidator::new(
        Arc::new(keys),
        Duration::from_secs(3600),
        16,
        KeyEpoch::default(),
    )
    .with_clock(clock.clone());
    let claims = |c: &CachedValidator| actix_web::rt::System::new().block_on(c.claims(KEY));
    let first = claims(&cache).unwrap();
    let secs = expiry
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(first.claims()["exp"], secs);
    assert_eq!(cache.len(), 1, "cached under the key's hash");
    clock.advance(Duration::from_secs(121));
    let refusal = claims(&cache).unwrap_err();
    assert!(matches!(refusal, Refusal::InvalidToken(_)), "{refusal:?}");
}

#[test]
fn malformed_entries_never_enter_the_table() {
    let bad = [
        ApiKey::new("", ApiKey::hash(KEY)),
        ApiKey::new("a", KEY),
        ApiKey::new("a", ApiKey::hash(KEY)).scopes(["two words"]),
        ApiKey::new("line\nbreak", ApiKey::hash(KEY)),
    ];
    for key in &bad {
        let why = key.check().unwrap_err();
        assert!(!why.contains(KEY), "{why}");
    }
    let keys = ApiKeys::new(DEFAULT_API_KEY_PREFIX, &bad);
    assert_eq!(keys.table.len(), 0);
}

#[test]
fn hashes_are_read_in_either_case() {
    let upper = ApiKey::hash(KEY).to_uppercase();
    assert_eq!(decode_hex(&upper), Some(key_of(KEY)));
    assert_eq!(decode_hex(&upper[1..]), None);
    assert_eq!(decode_hex(&format!("{}g", &upper[1..])), None);
}
