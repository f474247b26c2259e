//! One token explained check by check, in the order the `jwt` strategy applies them
//! (RFC 9068 §4, RFC 8725), then the middleware's own verdict. The token and its
//! signature never appear in a [`Step`]; its claims may.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::{Outcome, Step, fetch};
use crate::layer::McpOAuth;
use crate::refusal::Refusal;
use crate::scope;
use crate::validate::claims::VerifiedClaims;
use crate::validate::jwks::Lookup;
use crate::validate::jwt::{self, Jws, JwtValidator, KeySource};
use crate::validate::rules::{self, Expiry};

/// Explains what `oauth` makes of `token`: the JWS header (`alg`, `kid`, `typ`), the
/// issuer, the key in the issuer's JWKS (fetched now), the signature, `aud`, `exp` /
/// `nbf`, the scopes against the required ones, and last the `verdict` of
/// [`McpOAuth::authenticate`], which decides. An opaque token goes straight to the
/// verdict (introspection). Run it on an actix system.
///
/// ```
/// use mcp_oauth::explain::{self, Outcome};
/// use mcp_oauth::testing::TestAuthServer;
///
/// let auth = TestAuthServer::start();
/// let resource = "http://127.0.0.1:8080/mcp";
/// let oauth = auth.configure(resource).build()?;
/// let token = auth.token().audience("https://elsewhere.example.com").sign();
/// let steps = actix_web::rt::System::new().block_on(explain::explain_token(&oauth, &token));
/// let aud = steps.iter().find(|s| s.check == "aud").expect("an aud step");
/// assert_eq!(aud.outcome, Outcome::Fail);
/// assert_eq!(steps.last().map(|s| (s.check, s.outcome)), Some(("verdict", Outcome::Fail)));
/// assert!(steps.iter().all(|s| !s.detail.contains(&token)));
/// # Ok::<(), mcp_oauth::ConfigError>(())
/// ```
pub async fn explain_token(oauth: &McpOAuth, token: &str) -> Vec<Step> {
    let token = token.trim();
    let mut steps = Vec::new();
    match Jws::parse(token) {
        Ok(jws) => jwt_steps(oauth, jws, &mut steps).await,
        Err(_) => {
            let introspects = oauth
                .inner
                .authorities
                .list
                .iter()
                .any(|a| a.introspection.is_some());
            steps.push(if introspects {
                Step::new(
                    "format",
                    Outcome::Pass,
                    "not a JWT: an opaque token, judged by introspection (RFC 7662)",
                )
            } else {
                Step::new(
                    "format",
                    Outcome::Fail,
                    "not a JWT (three base64url segments with a JSON header naming `alg`), \
                     and no issuer is configured for introspection",
                )
            });
        }
    }
    steps.push(verdict(oauth, token).await);
    steps
}

/// The checks of a JWS, as far as they can go.
async fn jwt_steps(oauth: &McpOAuth, jws: Jws<'_>, steps: &mut Vec<Step>) {
    let authorities = &oauth.inner.authorities;
    let issuer = jws.issuer().map(str::to_owned);
    let authority = issuer.as_deref().and_then(|i| authorities.find(i));
    // As the router: the issuer's own validator; for an unknown issuer, the single one.
    let validator = match authority {
        Some(a) => a.jwt.as_ref(),
        None => {
            let mut all = authorities.list.iter().filter_map(|a| a.jwt.as_ref());
            match (all.next(), all.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    };
    let alg = header_step(&jws, validator, steps);
    let claims = match &jws.claims {
        Ok(claims) => {
            steps.push(claims_step(claims));
            claims
        }
        Err(_) => {
            steps.push(Step::new(
                "claims",
                Outcome::Fail,
                "the payload is not a JSON object",
            ));
            return;
        }
    };
    let trusted: Vec<&str> = authorities
        .list
        .iter()
        .map(|a| a.discovery.issuer())
        .collect();
    match (&issuer, authority) {
        (Some(iss), Some(_)) => steps.push(Step::new("iss", Outcome::Pass, format!("`{iss}`"))),
        (found, _) => {
            let found = found
                .as_deref()
                .map_or("missing".into(), |i| format!("`{i}`"));
            steps.push(Step::new(
                "iss",
                Outcome::Fail,
                format!("{found}; this server trusts {}", trusted.join(", ")),
            ));
            return;
        }
    }
    let Some(validator) = validator else {
        steps.push(Step::new(
            "key",
            Outcome::Skip,
            "this issuer's tokens are introspected, not verified locally",
        ));
        return;
    };
    if let Some(alg) = alg {
        key_steps(validator, &jws, alg, steps).await;
    }
    claim_steps(oauth, validator, &jws, claims, steps);
}

/// `alg`, `kid`, `typ`, `crit`: the allowed algorithm, if it is one.
fn header_step(
    jws: &Jws<'_>,
    validator: Option<&JwtValidator>,
    steps: &mut Vec<Step>,
) -> Option<Algorithm> {
    let header = &jws.header;
    let shown = |v: &Option<String>| v.as_deref().map_or("none".into(), |v| format!("`{v}`"));
    let mut detail = format!(
        "alg `{}`, kid {}, typ {}",
        header.alg,
        shown(&header.kid),
        shown(&header.typ)
    );
    let accepted = validator.map_or(&jwt::DEFAULT_ALGORITHMS[..], |v| &v.algorithms[..]);
    let alg = jwt::algorithm_named(&header.alg).filter(|a| accepted.contains(a));
    let mut outcome = Outcome::Pass;
    if alg.is_none() {
        outcome = Outcome::Fail;
        let names: Vec<String> = accepted.iter().map(|a| format!("{a:?}")).collect();
        detail.push_str(&format!(
            ": alg not accepted (accepted: {}; RFC 8725 §3.1)",
            names.join(", ")
        ));
    }
    if let Some(v) = validator
        && !v.typ.accepts(header.typ.as_deref())
    {
        outcome = Outcome::Fail;
        detail.push_str(&format!(
            ": typ not accepted by the {:?} policy (RFC 9068 §4)",
            v.typ
        ));
    }
    if header.crit.is_some() {
        outcome = Outcome::Fail;
        detail.push_str(": a `crit` header names extensions not understood (RFC 7515 §4.1.11)");
    }
    steps.push(Step::new("header", outcome, detail));
    alg.filter(|_| outcome == Outcome::Pass)
}

/// Who the token is about (not secret: claims, never the token).
fn claims_step(claims: &Map<String, Value>) -> Step {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let mut parts = Vec::new();
    for name in ["sub", "client_id", "azp"] {
        if let Some(v) = text(name) {
            parts.push(format!("{name} `{v}`"));
        }
    }
    let detail = if parts.is_empty() {
        "no sub or client_id".to_owned()
    } else {
        parts.join(", ")
    };
    Step::new("claims", Outcome::Pass, detail)
}

/// The key in the issuer's JWKS (fetched now) and the signature.
async fn key_steps(validator: &JwtValidator, jws: &Jws<'_>, alg: Algorithm, steps: &mut Vec<Step>) {
    let kid = jws.header.kid.as_deref();
    let verified = match fetch(&validator.keys).await {
        Err(why) => {
            steps.push(Step::new("key", Outcome::Fail, why));
            return;
        }
        Ok(None) => {
            steps.push(Step::new("key", Outcome::Pass, "the shared secret (HS256)"));
            match &validator.keys {
                KeySource::Secret(key) => matches!(
                    jsonwebtoken::crypto::verify(
                        jws.parts.signature,
                        jws.parts.signing_input.as_bytes(),
                        key,
                        alg
                    ),
                    Ok(true)
                ),
                _ => false,
            }
        }
        Ok(Some((uri, set))) => {
            let (count, _) = set.summary();
            let named = kid.map_or("no kid: the single key for this alg".into(), |k| {
                format!("kid `{k}`")
            });
            match set.select(kid, alg) {
                Lookup::Found(key) => {
                    steps.push(Step::new(
                        "key",
                        Outcome::Pass,
                        format!("{named} found in the JWKS at {uri} ({count} usable keys)"),
                    ));
                    jwt::verify_signature(&key, alg, &jws.parts).is_ok()
                }
                Lookup::Mismatch => {
                    steps.push(Step::new(
                        "key",
                        Outcome::Fail,
                        format!("{named} is in the JWKS at {uri} but cannot verify {alg:?}"),
                    ));
                    return;
                }
                Lookup::Unknown => {
                    steps.push(Step::new(
                        "key",
                        Outcome::Fail,
                        format!("{named} not in the JWKS at {uri} ({count} usable keys)"),
                    ));
                    return;
                }
            }
        }
    };
    steps.push(if verified {
        Step::new("signature", Outcome::Pass, format!("verifies ({alg:?})"))
    } else {
        Step::new(
            "signature",
            Outcome::Fail,
            "does not verify with that key: altered, or signed by another key",
        )
    });
}

/// Not an ID token, `aud`, `exp` / `nbf`, scopes.
fn claim_steps(
    oauth: &McpOAuth,
    validator: &JwtValidator,
    jws: &Jws<'_>,
    claims: &Map<String, Value>,
    steps: &mut Vec<Step>,
) {
    if !jws.header.typ.as_deref().is_some_and(jwt::is_at_jwt)
        && let Err(r) = rules::not_an_id_token(claims, validator.scope_claim.as_deref())
    {
        steps.push(Step::new("token type", Outcome::Fail, why(&r)));
    }
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => format!("`{a}`"),
        Some(Value::Array(a)) => {
            let list: Vec<String> = a.iter().map(|v| v.to_string()).collect();
            list.join(", ")
        }
        Some(other) => other.to_string(),
        None => "none".to_owned(),
    };
    steps.push(match rules::audience(claims, &validator.audiences) {
        Ok(()) => Step::new("aud", Outcome::Pass, aud),
        Err(r) => Step::new(
            "aud",
            Outcome::Fail,
            format!(
                "{aud}: {}; accepted: {} (RFC 8707, RFC 9068 §4)",
                why(&r),
                validator.audiences.join(", ")
            ),
        ),
    });
    let times = describe_times(claims);
    steps.push(
        match rules::times(claims, validator.leeway_secs, Expiry::Required) {
            Ok(()) => Step::new("exp/nbf", Outcome::Pass, times),
            Err(r) => Step::new("exp/nbf", Outcome::Fail, format!("{}: {times}", why(&r))),
        },
    );
    let verified = VerifiedClaims::from_claims_with_scope_claim(
        claims.clone(),
        validator.scope_claim.as_deref(),
    );
    let resource = &oauth.inner.resource;
    let required = resource.required_scopes();
    let granted = verified.scopes();
    let hierarchy = resource.scope_hierarchy();
    let missing: Vec<&str> = required
        .iter()
        .filter(|r| !scope::grants(granted, r, hierarchy))
        .map(String::as_str)
        .collect();
    let detail = format!(
        "granted: {}; required: {}",
        listed(granted),
        listed(required)
    );
    steps.push(if missing.is_empty() {
        Step::new("scopes", Outcome::Pass, detail)
    } else {
        Step::new(
            "scopes",
            Outcome::Fail,
            format!("missing {}; {detail}", missing.join(" ")),
        )
    });
}

/// `exp` and `nbf` relative to now, in seconds.
fn describe_times(claims: &Map<String, Value>) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let at = |name: &str| claims.get(name).and_then(Value::as_f64).map(|t| t as i64);
    let mut parts = Vec::new();
    match at("exp") {
        Some(exp) if exp > now => parts.push(format!("expires in {} s", exp - now)),
        Some(exp) => parts.push(format!("expired {} s ago", now - exp)),
        None => parts.push("no exp".to_owned()),
    }
    if let Some(nbf) = at("nbf")
        && nbf > now
    {
        parts.push(format!("not valid for another {} s", nbf - now));
    }
    parts.join(", ")
}

fn listed(scopes: &[String]) -> String {
    if scopes.is_empty() {
        "none".to_owned()
    } else {
        scopes.join(" ")
    }
}

/// A refusal's reason, for a person.
fn why(refusal: &Refusal) -> String {
    match refusal {
        Refusal::InvalidToken(rejection) => rejection.to_string(),
        other => other.to_string(),
    }
}

/// What the middleware decides: the one answer that counts.
async fn verdict(oauth: &McpOAuth, token: &str) -> Step {
    match oauth.authenticate(token).await {
        Ok(client) => Step::new(
            "verdict",
            Outcome::Pass,
            format!(
                "accepted (subject {})",
                client.subject().or(client.client_id()).unwrap_or("unknown")
            ),
        ),
        Err(err) => Step::new(
            "verdict",
            Outcome::Fail,
            format!(
                "refused with HTTP {}: {}",
                err.refusal().status().as_u16(),
                err.refusal()
            ),
        ),
    }
}
