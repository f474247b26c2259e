//! The proof checks one by one (RFC 9449 §4.3), with proofs made by `testing::DpopKey`.

use std::time::Duration;

use serde_json::json;
use url::Url;

use super::*;
use crate::testing::DpopKey;

/// The result of a future that needs no waiting (no shared store, or the in-memory one).
fn ready<T>(f: impl std::future::Future<Output = T>) -> T {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the check waited"),
    }
}

const URI: &str = "https://mcp.example.com/mcp";
const TOKEN: &str = "an-access-token";

fn checker() -> ProofChecker {
    let rules = ProofRules {
        algorithms: DEFAULT_DPOP_ALGORITHMS.to_vec(),
        window: DEFAULT_DPOP_WINDOW,
        leeway: Duration::from_secs(5),
    };
    ProofChecker::new(rules, Url::parse(URI).unwrap(), 1024)
}

fn run(checker: &ProofChecker, proof: &str) -> Result<String, Refusal> {
    let expected = Expected {
        method: "POST",
        uri: checker.uri_for("/mcp"),
        token: Some(TOKEN),
        key: None,
    };
    ready(checker.check(proof, &expected)).map(|c| c.jkt)
}

fn refused(proof: &str) -> DpopRejection {
    match run(&checker(), proof) {
        Err(Refusal::InvalidDpopProof(why)) => why,
        other => panic!("expected an invalid_dpop_proof, got {other:?}"),
    }
}

#[test]
fn a_good_proof_names_its_key_by_thumbprint() {
    let key = DpopKey::generate();
    let proof = key.proof("POST", URI).access_token(TOKEN).sign();
    assert_eq!(run(&checker(), &proof), Ok(key.thumbprint()));
}

#[test]
fn uri_normalisation_and_query_do_not_matter() {
    let key = DpopKey::generate();
    let proof = key
        .proof("POST", "HTTPS://MCP.example.com:443/mcp?x=1")
        .access_token(TOKEN)
        .sign();
    assert!(run(&checker(), &proof).is_ok());
}

#[test]
fn each_broken_claim_is_refused_for_its_reason() {
    let key = DpopKey::generate();
    let good = || key.proof("POST", URI).access_token(TOKEN);
    let cases = [
        (
            key.proof("GET", URI).access_token(TOKEN).sign(),
            DpopRejection::WrongMethod,
        ),
        (
            key.proof("post", URI).access_token(TOKEN).sign(),
            DpopRejection::WrongMethod,
        ),
        (
            key.proof("POST", "https://mcp.example.com/other")
                .access_token(TOKEN)
                .sign(),
            DpopRejection::WrongUri,
        ),
        (
            key.proof("POST", "https://evil.example/mcp")
                .access_token(TOKEN)
                .sign(),
            DpopRejection::WrongUri,
        ),
        (
            good().iat_offset(-3600).sign(),
            DpopRejection::StaleOrFuture,
        ),
        (good().iat_offset(3600).sign(), DpopRejection::StaleOrFuture),
        (
            good().without_claim("iat").sign(),
            DpopRejection::StaleOrFuture,
        ),
        (
            good().claim("iat", json!("now")).sign(),
            DpopRejection::StaleOrFuture,
        ),
        (
            good().without_claim("jti").sign(),
            DpopRejection::MissingJti,
        ),
        (good().jti("").sign(), DpopRejection::MissingJti),
        (
            good().jti(&"j".repeat(300)).sign(),
            DpopRejection::MissingJti,
        ),
        (
            good().claim("ath", json!("not-the-hash")).sign(),
            DpopRejection::WrongTokenHash,
        ),
        (key.proof("POST", URI).sign(), DpopRejection::WrongTokenHash),
        (
            key.proof("POST", URI).access_token("another-token").sign(),
            DpopRejection::WrongTokenHash,
        ),
    ];
    for (proof, why) in cases {
        assert_eq!(refused(&proof), why);
    }
}

#[test]
fn the_window_plus_leeway_is_accepted_and_no_more() {
    let key = DpopKey::generate();
    let at = |offset| {
        key.proof("POST", URI)
            .access_token(TOKEN)
            .iat_offset(offset)
            .sign()
    };
    // 60 s window + 5 s leeway; a second of margin either side for the clock's tick.
    assert!(run(&checker(), &at(-64)).is_ok());
    assert!(run(&checker(), &at(64)).is_ok());
    assert_eq!(refused(&at(-67)), DpopRejection::StaleOrFuture);
    assert_eq!(refused(&at(67)), DpopRejection::StaleOrFuture);
}

#[test]
fn each_broken_header_is_refused_for_its_reason() {
    let key = DpopKey::generate();
    let good = || key.proof("POST", URI).access_token(TOKEN);
    let other = DpopKey::generate();
    let cases = [
        (good().typ("JWT").sign(), DpopRejection::WrongType),
        (good().header("typ", None).sign(), DpopRejection::WrongType),
        (good().alg_none().sign(), DpopRejection::Malformed),
        (
            good().hs256(b"a shared secret of 32 bytes or more").sign(),
            DpopRejection::DisallowedAlgorithm,
        ),
        (good().with_private_key().sign(), DpopRejection::PrivateKey),
        (good().header("jwk", None).sign(), DpopRejection::BadKey),
        (
            good()
                .header("jwk", Some(json!({"kty": "oct", "k": "c2VjcmV0"})))
                .sign(),
            DpopRejection::PrivateKey,
        ),
        (
            good()
                .header(
                    "jwk",
                    Some(json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"})),
                )
                .sign(),
            DpopRejection::BadKey,
        ),
        // Signed by `key`, naming `other`'s public key.
        (
            good().header("jwk", Some(other.public_jwk())).sign(),
            DpopRejection::BadSignature,
        ),
        (
            good().header("crit", Some(json!(["exp"]))).sign(),
            DpopRejection::UnsupportedCritical,
        ),
        ("not a jwt".to_owned(), DpopRejection::Malformed),
        ("a".repeat(9000), DpopRejection::Malformed),
    ];
    for (proof, why) in cases {
        assert_eq!(refused(&proof), why, "{proof:.60}");
    }
    // `alg: none` named with a signature still gets no further than the allow-list.
    let none = good().alg_none().sign() + "c2ln";
    assert_eq!(refused(&none), DpopRejection::DisallowedAlgorithm);
}

#[test]
fn a_disallowed_asymmetric_algorithm_is_refused() {
    let rules = ProofRules {
        algorithms: vec![Algorithm::EdDSA],
        window: DEFAULT_DPOP_WINDOW,
        leeway: Duration::ZERO,
    };
    let checker = ProofChecker::new(rules, Url::parse(URI).unwrap(), 16);
    let proof = DpopKey::generate()
        .proof("POST", URI)
        .access_token(TOKEN)
        .sign();
    assert_eq!(
        run(&checker, &proof),
        Err(Refusal::InvalidDpopProof(
            DpopRejection::DisallowedAlgorithm
        ))
    );
}

#[test]
fn a_proof_is_accepted_once_and_its_jti_is_per_key() {
    let checker = checker();
    let (key, other) = (DpopKey::generate(), DpopKey::generate());
    let proof = key
        .proof("POST", URI)
        .access_token(TOKEN)
        .jti("same")
        .sign();
    assert!(run(&checker, &proof).is_ok());
    assert_eq!(
        run(&checker, &proof),
        Err(Refusal::InvalidDpopProof(DpopRejection::Replayed))
    );
    // A new proof reusing the jti (a new signature) is a replay too.
    let again = key
        .proof("POST", URI)
        .access_token(TOKEN)
        .jti("same")
        .sign();
    assert_eq!(
        run(&checker, &again),
        Err(Refusal::InvalidDpopProof(DpopRejection::Replayed))
    );
    let theirs = other
        .proof("POST", URI)
        .access_token(TOKEN)
        .jti("same")
        .sign();
    assert!(run(&checker, &theirs).is_ok());
    // A refused proof is not remembered: its jti stays free.
    let stale = key
        .proof("POST", URI)
        .access_token(TOKEN)
        .jti("fresh")
        .iat_offset(-3600)
        .sign();
    assert!(run(&checker, &stale).is_err());
    let fresh = key
        .proof("POST", URI)
        .access_token(TOKEN)
        .jti("fresh")
        .sign();
    assert!(run(&checker, &fresh).is_ok());
    assert_eq!(checker.replay.len(), 3);
}

#[test]
fn a_full_replay_cache_refuses_with_a_503_rather_than_forget() {
    let clock = Clock::manual();
    let rules = ProofRules {
        algorithms: DEFAULT_DPOP_ALGORITHMS.to_vec(),
        window: DEFAULT_DPOP_WINDOW,
        leeway: Duration::ZERO,
    };
    let checker = ProofChecker::new(rules, Url::parse(URI).unwrap(), 2).with_clock(clock);
    let key = DpopKey::generate();
    let proof = || key.proof("POST", URI).access_token(TOKEN).sign();
    assert!(run(&checker, &proof()).is_ok());
    assert!(run(&checker, &proof()).is_ok());
    assert!(matches!(
        run(&checker, &proof()),
        Err(Refusal::Overloaded { .. })
    ));
}

#[test]
fn the_expected_uri_is_the_configured_origin_and_the_path() {
    let checker = checker();
    assert_eq!(checker.uri_for("/mcp").url().as_str(), URI);
    // A path that looks like an authority stays a path.
    assert_eq!(
        checker.uri_for("//evil.example/mcp").url().host_str(),
        Some("mcp.example.com")
    );
}

#[test]
fn the_binding_is_cnf_jkt_compared_exactly() {
    let claims =
        |v: serde_json::Value| VerifiedClaims::from_claims(v.as_object().cloned().unwrap());
    let bound = claims(json!({"sub": "a", "cnf": {"jkt": "abc"}}));
    assert_eq!(bound_key(&bound), Some("abc"));
    assert!(matches_binding("abc", "abc"));
    assert!(!matches_binding("abc", "abd"));
    assert!(!matches_binding("", ""));
    assert_eq!(bound_key(&claims(json!({"sub": "a"}))), None);
    assert_eq!(bound_key(&claims(json!({"cnf": {"x5t#S256": "h"}}))), None);
    assert_eq!(bound_key(&claims(json!({"cnf": {"jkt": 1}}))), Some(""));
}

fn with_nonces(clock: &Clock) -> ProofChecker {
    let nonces = nonce::Nonces::new(Some(&[7; 32]), Duration::from_secs(300), URI);
    checker().with_nonces(nonces).with_clock(clock.clone())
}

fn check_at(checker: &ProofChecker, proof: &str) -> Result<Checked, Refusal> {
    let expected = Expected {
        method: "POST",
        uri: checker.uri_for("/mcp"),
        token: Some(TOKEN),
        key: None,
    };
    ready(checker.check(proof, &expected))
}

#[test]
fn with_nonces_a_proof_needs_a_current_one_and_an_ageing_one_is_renewed() {
    let clock = Clock::manual();
    let checker = with_nonces(&clock);
    let key = DpopKey::generate();
    let moved = std::cell::Cell::new(0);
    let proof = |nonce: Option<&str>| {
        // The proof is made as the moved clock reads.
        let p = key
            .proof("POST", URI)
            .access_token(TOKEN)
            .iat_offset(moved.get());
        match nonce {
            Some(n) => p.nonce(n).sign(),
            None => p.sign(),
        }
    };
    // No nonce: refused with one to use (RFC 9449 §9).
    let Err(Refusal::UseDpopNonce { nonce }) = check_at(&checker, &proof(None)) else {
        panic!("expected use_dpop_nonce");
    };
    // A made-up nonce: the same.
    assert!(matches!(
        check_at(&checker, &proof(Some("made-up"))),
        Err(Refusal::UseDpopNonce { .. })
    ));
    let accepted = check_at(&checker, &proof(Some(&nonce))).unwrap();
    assert_eq!(accepted.jkt, key.thumbprint());
    assert_eq!(accepted.next_nonce, None);
    // Past half its life it still works, and the next one is offered (RFC 9449 §8.2).
    clock.advance(Duration::from_secs(200));
    moved.set(200);
    let renewed = check_at(&checker, &proof(Some(&nonce))).unwrap();
    let next = renewed.next_nonce.expect("a new nonce offered");
    assert_ne!(next, nonce);
    // Past its lifetime it is refused; the offered one works.
    clock.advance(Duration::from_secs(150));
    moved.set(350);
    assert!(matches!(
        check_at(&checker, &proof(Some(&nonce))),
        Err(Refusal::UseDpopNonce { .. })
    ));
    assert!(check_at(&checker, &proof(Some(&next))).is_ok());
    // A nonce does not make a proof reusable.
    let once = proof(Some(&next));
    assert!(check_at(&checker, &once).is_ok());
    assert_eq!(
        check_at(&checker, &once).unwrap_err(),
        Refusal::InvalidDpopProof(DpopRejection::Replayed)
    );
}

#[test]
fn a_bad_proof_is_refused_for_itself_before_the_nonce_is_looked_at() {
    let clock = Clock::manual();
    let checker = with_nonces(&clock);
    let key = DpopKey::generate();
    let wrong_method = key.proof("GET", URI).access_token(TOKEN).sign();
    assert_eq!(
        check_at(&checker, &wrong_method).unwrap_err(),
        Refusal::InvalidDpopProof(DpopRejection::WrongMethod)
    );
}

/// A proof whose signature is broken (its last character changed).
fn with_bad_signature(proof: &str) -> String {
    let mut bad = proof.to_owned();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    bad
}

#[test]
fn a_proof_costs_a_signature_check_only_when_all_else_is_right() {
    let key = DpopKey::generate();
    let other = DpopKey::generate();
    let checker = checker();
    let bound = key.thumbprint();
    let expected = Expected {
        method: "POST",
        uri: checker.uri_for("/mcp"),
        token: Some(TOKEN),
        key: Some(&bound),
    };
    let forged = |k: &DpopKey| with_bad_signature(&k.proof("POST", URI).access_token(TOKEN).sign());
    // Another key (its signature not even good): refused for the key, not the signature.
    assert_eq!(
        ready(checker.check(&forged(&other), &expected)).unwrap_err(),
        Refusal::InvalidDpopProof(DpopRejection::KeyMismatch)
    );
    // Wrong claims with a bad signature: refused for the claims.
    let wrong = with_bad_signature(&key.proof("GET", URI).access_token(TOKEN).sign());
    assert_eq!(
        ready(checker.check(&wrong, &expected)).unwrap_err(),
        Refusal::InvalidDpopProof(DpopRejection::WrongMethod)
    );
    // Nonces on, none carried, a bad signature: the nonce refusal, no signature work.
    let clock = Clock::manual();
    let with_nonces = with_nonces(&clock);
    assert!(matches!(
        ready(with_nonces.check(&forged(&key), &expected)),
        Err(Refusal::UseDpopNonce { .. })
    ));
    // The right key and all else right: now the signature decides.
    assert_eq!(
        ready(checker.check(&forged(&key), &expected)).unwrap_err(),
        Refusal::InvalidDpopProof(DpopRejection::BadSignature)
    );
    let good = key.proof("POST", URI).access_token(TOKEN).sign();
    assert_eq!(ready(checker.check(&good, &expected)).unwrap().jkt, bound);
}
