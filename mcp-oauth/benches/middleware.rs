//! The middleware in-process: one actix `App` with `POST /mcp` answering 200 "ok", called
//! through `actix_web::test::init_service` + `call_service`, per request:
//! - `middleware/unprotected`: the bare `App` (routing + handler: the baseline);
//! - `middleware/rs256_valid`: wrapped with [`McpOAuth`] (warm JWKS, validation cache off:
//!   `cache_ttl(Duration::ZERO)`), a valid RS256 token, verified on every request;
//! - `middleware/rs256_valid_cached`: the same with the validation cache on (the default):
//!   the same token every time, so every request is a cache hit;
//! - `middleware/rs256_valid_cached_metrics` (with `--features metrics`): the cached case
//!   with a real recorder (`metrics-exporter-prometheus`) installed for the benchmark's
//!   thread, so every request is counted twice (the outcome and the cache hit). Without a
//!   recorder, `rs256_valid_cached` built with the feature is the no-op recorder's cost;
//!   the hit path's ratio to `unprotected` should stay where it was without the feature;
//! - `middleware/rs256_valid_cached_limited`: the cached case with the per-address rate
//!   limits on (metadata, refusals): a cache hit spends no refusal budget, so this should
//!   cost what `rs256_valid_cached` costs;
//! - `middleware/rs256_valid_cached_quota`: the same plus a per-principal quota too large
//!   to run out: the principal's key (hashed once per validated token, kept with its
//!   claims), its entry looked up, one GCRA update;
//! - `middleware/rs256_valid_cached_dpop`: the cached case with a DPoP-bound token (RFC
//!   9449) sent as `Authorization: DPoP` with a fresh ES256 proof per request (signed
//!   before the clock starts): the claims come from the cache, the proof is checked every
//!   time (parse, thumbprint, one ECDSA verification, `htu`/`iat`/`ath`, the replay
//!   cache). Window 1 s and no leeway, so the replay cache stays far under its bound;
//! - `middleware/dpop_signature_alone`: not a request: one proof's ES256 signature checked
//!   by aws-lc-rs directly, from the same proofs (the `jwk`'s `x` and `y` and the
//!   signature base64url-decoded, the point built, one verification). The issue's budget
//!   for DPoP is `rs256_valid_cached_dpop - rs256_valid_cached - dpop_signature_alone`
//!   (everything DPoP costs beyond that one signature), to stay within 2 µs;
//! - `middleware/dpop_signature_jsonwebtoken`: the same proofs' signature checked the way
//!   a JOSE library does it (jsonwebtoken 11: `decode_header`, `DecodingKey::from_jwk`
//!   of its `jwk`, `decode` with no claim rules): the other reading of "one signature
//!   check", with the JWS and key handling any verifier has;
//! - `middleware/rs256_valid_cached_dpop_fleet` (with `--features redis` and
//!   `MCP_OAUTH_BENCH_REDIS_URL` naming a running Redis): the DPoP case with the fleet's
//!   replay record on that Redis (one `SET NX PX` per request after the local cache), so
//!   its difference to `rs256_valid_cached_dpop` is one shared-tier round trip; and
//!   `middleware/rs256_valid_cached_fleet`, a cached bearer request on the same
//!   middleware, which must cost what `rs256_valid_cached` costs (no round trip on a hit);
//! - `middleware/no_token`: wrapped, no `Authorization` header (the 401 + challenge path).
//!
//! Like `benches/validation.rs`, each sample is timed with `iter_custom` inside one
//! `SystemRunner::block_on`, so the runtime is entered once per sample, not per request.
//! Requests are built (with `TestRequest`) in batches *before* the clock starts: only
//! `call_service` and dropping its response are timed.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::rt::{System, SystemRunner};
use actix_web::{App, test, web};
use criterion::{Criterion, criterion_main};
use mcp_oauth::testing::TestAuthServer;

/// The protected resource (http is accepted on loopback).
const RESOURCE: &str = "http://127.0.0.1:8080/mcp";
/// Requests built ahead of timing at a time (bounds memory whatever `iters` is).
const BATCH: u64 = 1024;

async fn ok() -> &'static str {
    "ok"
}

/// `iters` calls of `app`, each with a fresh request from `request`, batch by batch;
/// only the calls are timed.
async fn time_calls<S, R, B>(app: &S, request: &impl Fn() -> R, iters: u64) -> Duration
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH);
        let requests: Vec<R> = (0..n).map(|_| request()).collect();
        let start = Instant::now();
        for req in requests {
            black_box(test::call_service(app, req).await.status());
        }
        total += start.elapsed();
        left -= n;
    }
    total
}

/// Checks once, outside timing, that `app` answers `request` with `expected`.
fn check<S, R, B>(sys: &SystemRunner, app: &S, request: &impl Fn() -> R, expected: StatusCode)
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let status = sys.block_on(async { test::call_service(app, request()).await.status() });
    assert_eq!(status, expected, "the check before timing");
}

fn middleware(c: &mut Criterion) {
    let sys = System::new();
    let auth = TestAuthServer::start();
    // A long max-age, so no background refresh starts while measuring.
    auth.set_jwks_max_age(Some(24 * 3600));
    let oauth = auth
        .configure(RESOURCE)
        .required_scopes(["mcp"])
        .cache_ttl(Duration::ZERO)
        .build()
        .unwrap();
    let cached_oauth = auth
        .configure(RESOURCE)
        .required_scopes(["mcp"])
        .build()
        .unwrap();
    let limited_oauth = auth
        .configure(RESOURCE)
        .required_scopes(["mcp"])
        .rate_limit_metadata(mcp_oauth::Rate::per_minute(60))
        .rate_limit_refusals(mcp_oauth::Rate::per_minute(30));
    let quota_oauth = limited_oauth
        .clone()
        .rate_limit_principal(mcp_oauth::Rate::new(1_000_000_000, Duration::from_secs(1)))
        .build()
        .unwrap();
    let limited_oauth = limited_oauth.build().unwrap();
    let dpop_oauth = auth
        .configure(RESOURCE)
        .required_scopes(["mcp"])
        .dpop_proof_window(Duration::from_secs(1))
        .leeway(Duration::ZERO)
        .build()
        .unwrap();
    #[cfg(feature = "redis")]
    let fleet = std::env::var("MCP_OAUTH_BENCH_REDIS_URL").ok().map(|url| {
        let shared = mcp_oauth::SharedState::redis(&url)
            .unwrap()
            .with_prefix("bench");
        let oauth = auth
            .configure(RESOURCE)
            .required_scopes(["mcp"])
            .dpop_proof_window(Duration::from_secs(1))
            .leeway(Duration::ZERO)
            .shared_state(shared)
            .build()
            .unwrap();
        sys.block_on(test::init_service(
            App::new().wrap(oauth).route("/mcp", web::post().to(ok)),
        ))
    });
    let dpop_key = mcp_oauth::testing::DpopKey::generate();
    let dpop_token = auth
        .token()
        .audience(RESOURCE)
        .scope("mcp")
        .dpop_bound(&dpop_key)
        .sign();
    let dpop_scheme = format!("DPoP {dpop_token}");
    let token = auth.token().audience(RESOURCE).scope("mcp").sign();
    let bearer = format!("Bearer {token}");

    let plain = sys.block_on(test::init_service(
        App::new().route("/mcp", web::post().to(ok)),
    ));
    let protected = sys.block_on(test::init_service(
        App::new().wrap(oauth).route("/mcp", web::post().to(ok)),
    ));
    let cached = sys.block_on(test::init_service(
        App::new()
            .wrap(cached_oauth.clone())
            .route("/mcp", web::post().to(ok)),
    ));

    let limited = sys.block_on(test::init_service(
        App::new()
            .wrap(limited_oauth)
            .route("/mcp", web::post().to(ok)),
    ));
    let quota = sys.block_on(test::init_service(
        App::new()
            .wrap(quota_oauth)
            .route("/mcp", web::post().to(ok)),
    ));

    let dpop = sys.block_on(test::init_service(
        App::new()
            .wrap(dpop_oauth)
            .route("/mcp", web::post().to(ok)),
    ));

    let bare_request = || test::TestRequest::post().uri("/mcp").to_request();
    let dpop_request = || {
        let proof = dpop_key
            .proof("POST", RESOURCE)
            .access_token(&dpop_token)
            .sign();
        test::TestRequest::post()
            .uri("/mcp")
            .insert_header(("authorization", dpop_scheme.as_str()))
            .insert_header(("dpop", proof))
            .to_request()
    };
    let authorized_request = || {
        test::TestRequest::post()
            .uri("/mcp")
            .insert_header(("authorization", bearer.as_str()))
            .to_request()
    };

    check(&sys, &plain, &bare_request, StatusCode::OK);
    // The first authorized call fetches the JWKS: the cache is warm from here on.
    check(&sys, &protected, &authorized_request, StatusCode::OK);
    check(&sys, &protected, &bare_request, StatusCode::UNAUTHORIZED);
    // The first call fills the validation cache: hits from here on.
    check(&sys, &cached, &authorized_request, StatusCode::OK);
    assert_eq!(cached_oauth.cache_len(), Some(1));
    check(&sys, &limited, &authorized_request, StatusCode::OK);
    check(&sys, &quota, &authorized_request, StatusCode::OK);
    // The first DPoP request fills the cache with the bound token's claims.
    check(&sys, &dpop, &dpop_request, StatusCode::OK);
    #[cfg(feature = "redis")]
    if let Some(fleet) = &fleet {
        check(&sys, fleet, &dpop_request, StatusCode::OK);
        check(&sys, fleet, &authorized_request, StatusCode::OK);
    }
    let sample = dpop_key
        .proof("POST", RESOURCE)
        .access_token(&dpop_token)
        .sign();
    assert!(
        es256_signature_alone(&sample),
        "the baseline verifies a good proof"
    );
    assert!(
        !es256_signature_alone(&sample.replace('.', ".x")),
        "and refuses a bad one"
    );
    let jwks_fetches = auth.jwks_requests();

    let mut group = c.benchmark_group("middleware");
    group.bench_function("unprotected", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&plain, &bare_request, iters)));
    });
    group.bench_function("rs256_valid", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&protected, &authorized_request, iters)));
    });
    group.bench_function("rs256_valid_cached", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&cached, &authorized_request, iters)));
    });
    group.bench_function("rs256_valid_cached_limited", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&limited, &authorized_request, iters)));
    });
    group.bench_function("rs256_valid_cached_quota", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&quota, &authorized_request, iters)));
    });
    #[cfg(feature = "metrics")]
    {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let ran = std::cell::Cell::new(false);
        group.bench_function("rs256_valid_cached_metrics", |b| {
            b.iter_custom(|iters| {
                ran.set(true);
                metrics::with_local_recorder(&recorder, || {
                    sys.block_on(time_calls(&cached, &authorized_request, iters))
                })
            });
        });
        // Outside timing (when this variant was not filtered out): the recorder counted.
        let text = handle.render();
        assert!(
            !ran.get()
                || text.contains("mcp_oauth_validation_cache_hits_total ")
                    && text.contains(r#"mcp_oauth_requests_total{outcome="admitted"} "#),
            "{text}"
        );
    }
    group.bench_function("rs256_valid_cached_dpop", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&dpop, &dpop_request, iters)));
    });
    #[cfg(feature = "redis")]
    if let Some(fleet) = &fleet {
        group.bench_function("rs256_valid_cached_fleet", |b| {
            b.iter_custom(|iters| sys.block_on(time_calls(fleet, &authorized_request, iters)));
        });
        group.bench_function("rs256_valid_cached_dpop_fleet", |b| {
            b.iter_custom(|iters| sys.block_on(time_calls(fleet, &dpop_request, iters)));
        });
    }
    let fresh_proof = || {
        dpop_key
            .proof("POST", RESOURCE)
            .access_token(&dpop_token)
            .sign()
    };
    group.bench_function("dpop_signature_alone", |b| {
        b.iter_custom(|iters| time_each(iters, &fresh_proof, es256_signature_alone));
    });
    group.bench_function("dpop_signature_jsonwebtoken", |b| {
        b.iter_custom(|iters| time_each(iters, &fresh_proof, jws_signature_by_jsonwebtoken));
    });
    group.bench_function("no_token", |b| {
        b.iter_custom(|iters| sys.block_on(time_calls(&protected, &bare_request, iters)));
    });
    group.finish();

    assert_eq!(
        auth.jwks_requests(),
        jwks_fetches,
        "the JWKS was refetched during the benchmark"
    );
}

/// Times `check` over `iters` proofs made by `make` in batches before the clock starts.
fn time_each(iters: u64, make: &dyn Fn() -> String, check: fn(&str) -> bool) -> Duration {
    let proofs: Vec<String> = (0..iters.min(BATCH)).map(|_| make()).collect();
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(proofs.len() as u64) as usize;
        let start = Instant::now();
        for proof in &proofs[..n] {
            black_box(check(proof));
        }
        total += start.elapsed();
        left -= n as u64;
    }
    total
}

/// One DPoP proof's ES256 signature checked, and nothing else a resource server must
/// do: the key's coordinates and the signature decoded, the point built, one
/// verification (RFC 7518 §3.4, §6.2.1).
fn es256_signature_alone(proof: &str) -> bool {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    let (input, signature) = proof.rsplit_once('.').unwrap();
    let header = B64.decode(input.split('.').next().unwrap()).unwrap();
    // The header is this crate's own `DpopProof`: find `x` and `y` without a JSON parser,
    // so the baseline holds no more than the signature check needs.
    let member = |name: &str| {
        let text = std::str::from_utf8(&header).unwrap();
        let at = text.find(&format!("\"{name}\":\"")).unwrap() + name.len() + 4;
        B64.decode(&text[at..at + 43]).unwrap()
    };
    let mut point = vec![4u8];
    point.extend(member("x"));
    point.extend(member("y"));
    let signature = B64.decode(signature).unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(input.as_bytes(), &signature)
        .is_ok()
}

/// One DPoP proof's signature checked by a JOSE library: its header read, the key taken
/// from its `jwk`, the JWS verified, no claim checked.
fn jws_signature_by_jsonwebtoken(proof: &str) -> bool {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    let header = decode_header(proof).unwrap();
    let key = DecodingKey::from_jwk(header.jwk.as_ref().unwrap()).unwrap();
    let mut rules = Validation::new(header.alg);
    rules.required_spec_claims.clear();
    rules.validate_exp = false;
    rules.validate_aud = false;
    decode::<serde_json::Value>(proof, &key, &rules).is_ok()
}

/// `criterion_group!` makes an undocumented `pub fn`.
#[allow(missing_docs, unreachable_pub)]
mod harness {
    criterion::criterion_group! {
        name = benches;
        config = criterion::Criterion::default().warm_up_time(std::time::Duration::from_secs(2));
        targets = super::middleware
    }
}
criterion_main!(harness::benches);
