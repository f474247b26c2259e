//! Token validation with a warm key cache: [`McpOAuth::authenticate`] against the floor,
//! a bare `jsonwebtoken::decode` of the same token with the same key.
//!
//! One group per algorithm (`validate/RS256`, `validate/ES256`, `validate/EdDSA`,
//! `validate/HS256`), each with two functions (three for RS256):
//! - `mcp_oauth`: `McpOAuth::authenticate(&token)` with the validation cache off
//!   (`cache_ttl(Duration::ZERO)`): header, `alg` allow-list, `typ`,
//!   `crit`, `iss`, key lookup in the JWKS cache, signature, `aud`, `exp`/`nbf`/`iat`,
//!   required scopes, and the `AuthenticatedClient` it returns;
//! - `mcp_oauth_cached` (RS256 only): the same call with the validation cache on (the
//!   default) and the same token every time: a cache hit (SHA-256 of the token, one
//!   lookup, a copy of the claims), then the required scopes and the `AuthenticatedClient`;
//! - `jsonwebtoken_decode`: `jsonwebtoken::decode::<serde_json::Value>` with the
//!   [`DecodingKey`] built from the JWKS the test authorization server serves (or the
//!   shared secret for HS256), and a [`Validation`] doing comparable work: the same
//!   allow-list, audience, issuer, leeway, `exp`/`aud`/`iss` required, `nbf` checked.
//!
//! A last group, `validate/introspection`, measures an opaque token:
//! - `mcp_oauth`: cache off, so every call is an RFC 7662 introspection over loopback HTTP
//!   to the test authorization server (connection kept alive), its checks, and the client;
//! - `mcp_oauth_cached`: the cache on: every call after the first is a hit.
//!
//! # Executor cost, and why `iter_custom`
//! `authenticate` is async and uses awc (`!Send`), so it must run on an actix
//! `System`. Wrapping *each* iteration in `SystemRunner::block_on` would add the cost of
//! entering the runtime (a `LocalSet` + current-thread runtime `block_on`) to every
//! iteration: a fixed cost that a middleware never pays (it is already
//! running inside the runtime when it awaits the validator), and that would weigh most
//! on the cheap HS256 case, flattening its ratio towards 1. Instead each sample is timed with `iter_custom` *inside one*
//! `block_on`: the loop of `iters` calls runs on the runtime thread, the clock starts
//! after the runtime is entered and stops before it is left. Both functions are timed
//! the same way, in the same async block shape; the floor simply has nothing to await.
//! With a warm cache `authenticate` never suspends, so what it costs over the floor is
//! its own work plus polling one boxed future.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use actix_web::rt::{System, SystemRunner};
use criterion::{Criterion, criterion_main};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcp_oauth::McpOAuth;
use mcp_oauth::testing::TestAuthServer;

/// The protected resource (http is accepted on loopback).
const RESOURCE: &str = "http://127.0.0.1:8080/mcp";
/// A required scope, so the scope check runs too.
const SCOPE: &str = "mcp";
/// 33 bytes: at least the 32 the builder requires for HS256.
const HS256_SECRET: &[u8] = b"bench-secret-bench-secret-bench!!";

/// The allow-list `McpOAuth` uses when none is configured (`jwt::DEFAULT_ALGORITHMS`).
/// The floor gets the part of it in the key's family: `jsonwebtoken` refuses a
/// `Validation` listing an algorithm of another family than the key's.
const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// One algorithm: a configured middleware with a warm cache, a token, and the floor's
/// key and validation rules.
struct Case {
    name: &'static str,
    /// Validation cache off: every call verifies the signature.
    oauth: McpOAuth,
    /// Validation cache on (RS256 only): every call after the first is a hit.
    cached: Option<McpOAuth>,
    token: String,
    key: DecodingKey,
    validation: Validation,
}

/// The algorithms of [`ASYMMETRIC`] in the family of `alg`.
fn same_family(alg: Algorithm) -> Vec<Algorithm> {
    ASYMMETRIC
        .into_iter()
        .filter(|a| a.family() == alg.family())
        .collect()
}

/// Validation rules for the floor that match what `McpOAuth` checks.
fn floor_validation(algorithms: &[Algorithm], issuer: &str) -> Validation {
    let mut v = Validation::new(algorithms[0]);
    v.algorithms = algorithms.to_vec();
    v.set_audience(&[RESOURCE]);
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    v.validate_nbf = true;
    v.leeway = mcp_oauth::DEFAULT_LEEWAY.as_secs();
    v
}

/// The key the test server publishes under `kid`, read from its JWKS as a client would.
fn published_key(sys: &SystemRunner, auth: &TestAuthServer, kid: &str) -> DecodingKey {
    let body = sys.block_on(async {
        let mut res = awc::Client::default()
            .get(auth.jwks_uri())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "JWKS answered {}", res.status());
        res.body().await.unwrap()
    });
    let set: JwkSet = serde_json::from_slice(&body).unwrap();
    let jwk = set
        .find(kid)
        .unwrap_or_else(|| panic!("no key {kid} in the JWKS"));
    DecodingKey::from_jwk(jwk).unwrap()
}

fn cases(sys: &SystemRunner, auth: &TestAuthServer) -> Vec<Case> {
    // A long max-age, so no background refresh starts while measuring.
    auth.set_jwks_max_age(Some(24 * 3600));
    let jwks_oauth = auth
        .configure(RESOURCE)
        .required_scopes([SCOPE])
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let mut cases = Vec::new();
    for (name, alg) in [
        ("RS256", Algorithm::RS256),
        ("ES256", Algorithm::ES256),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let token = auth
            .token()
            .audience(RESOURCE)
            .scope(SCOPE)
            .algorithm(alg)
            .sign();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        let cached = (alg == Algorithm::RS256).then(|| {
            auth.configure(RESOURCE)
                .required_scopes([SCOPE])
                .build()
                .unwrap()
        });
        cases.push(Case {
            name,
            oauth: jwks_oauth.clone(),
            cached,
            key: published_key(sys, auth, &kid),
            validation: floor_validation(&same_family(alg), auth.issuer()),
            token,
        });
    }
    let hs_oauth = McpOAuth::builder()
        .resource(RESOURCE)
        .authorization_server(auth.issuer())
        .hs256_secret(HS256_SECRET)
        .required_scopes([SCOPE])
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    cases.push(Case {
        name: "HS256",
        oauth: hs_oauth,
        cached: None,
        token: auth
            .token()
            .audience(RESOURCE)
            .scope(SCOPE)
            .hs256(HS256_SECRET)
            .sign(),
        key: DecodingKey::from_secret(HS256_SECRET),
        validation: floor_validation(&[Algorithm::HS256], auth.issuer()),
    });
    // Warm the caches (the first call fetches the JWKS) and check both paths accept.
    for case in &cases {
        let client = sys.block_on(case.oauth.authenticate(&case.token));
        assert!(
            client.is_ok(),
            "{}: mcp_oauth refused the token: {client:?}",
            case.name
        );
        assert_eq!(case.oauth.cache_len(), None, "{}: cache on", case.name);
        if let Some(cached) = &case.cached {
            // The first call validates and fills the cache; the bench only hits it.
            assert!(sys.block_on(cached.authenticate(&case.token)).is_ok());
            assert_eq!(cached.cache_len(), Some(1), "{}: not cached", case.name);
        }
        let decoded =
            jsonwebtoken::decode::<serde_json::Value>(&case.token, &case.key, &case.validation);
        assert!(
            decoded.is_ok(),
            "{}: jsonwebtoken refused the token: {decoded:?}",
            case.name
        );
    }
    cases
}

fn validation(c: &mut Criterion) {
    let sys = System::new();
    let auth = TestAuthServer::start();
    let cases = cases(&sys, &auth);
    let jwks_fetches = auth.jwks_requests();

    for case in &cases {
        let mut group = c.benchmark_group(format!("validate/{}", case.name));
        group.bench_function("mcp_oauth", |b| {
            b.iter_custom(|iters| {
                sys.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(
                            case.oauth
                                .authenticate(black_box(&case.token))
                                .await
                                .is_ok(),
                        );
                    }
                    start.elapsed()
                })
            });
        });
        if let Some(cached) = &case.cached {
            group.bench_function("mcp_oauth_cached", |b| {
                b.iter_custom(|iters| {
                    sys.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            black_box(cached.authenticate(black_box(&case.token)).await.is_ok());
                        }
                        start.elapsed()
                    })
                });
            });
        }
        group.bench_function("jsonwebtoken_decode", |b| {
            b.iter_custom(|iters| {
                sys.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(
                            jsonwebtoken::decode::<serde_json::Value>(
                                black_box(&case.token),
                                &case.key,
                                &case.validation,
                            )
                            .is_ok(),
                        );
                    }
                    start.elapsed()
                })
            });
        });
        group.finish();
    }

    // Introspection: uncached (one POST per call) against cached.
    auth.introspection_client("bench", "bench-secret");
    let introspecting = |ttl: Duration| {
        McpOAuth::builder()
            .resource(RESOURCE)
            .authorization_server(auth.issuer())
            .validation(mcp_oauth::Validation::Introspection)
            .introspection_endpoint(auth.introspection_endpoint())
            .introspection_client("bench", "bench-secret")
            .required_scopes([SCOPE])
            .cache_ttl(ttl)
            .build()
            .unwrap()
    };
    let opaque = auth.token().audience(RESOURCE).scope(SCOPE).opaque();
    let mut group = c.benchmark_group("validate/introspection");
    for (name, oauth) in [
        ("mcp_oauth", introspecting(Duration::ZERO)),
        ("mcp_oauth_cached", introspecting(Duration::from_secs(3600))),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                sys.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box(oauth.authenticate(black_box(&opaque)).await.is_ok());
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();

    // The cache stayed warm: no request went to the JWKS while measuring.
    assert_eq!(
        auth.jwks_requests(),
        jwks_fetches,
        "the JWKS was refetched during the benchmark"
    );
    drop(auth);
}

/// `criterion_group!` makes an undocumented `pub fn`.
#[allow(missing_docs, unreachable_pub)]
mod harness {
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().warm_up_time(std::time::Duration::from_secs(2));
        targets = super::validation
    }
}
criterion_main!(harness::benches);
