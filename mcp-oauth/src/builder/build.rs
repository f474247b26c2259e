//! `build()`: every setting checked, every problem collected into one [`ConfigError`],
//! and the middleware assembled: the resource, each authorization server's validators
//! and discovery, the cache, the MCP policy and the session map. No I/O.

use super::AuthorizationServer;
use super::{ConfigError, ConfigProblem};
use crate::admit::Inner;
use crate::discovery::{Discovery, Needs};
use crate::layer::McpOAuth;
use crate::resource::MetadataDocument;
use crate::resource::ProtectedResource;
use crate::scope;
use crate::session::{DEFAULT_MAX_SESSIONS, SessionOwners};
use crate::url_policy::secure_url;
use crate::validate::TokenValidator;
use crate::validate::cache::CachedValidator;
use crate::validate::introspection::{
    CallLimit, ClientCredentials, Introspector, RefusedCache, SharedAnswers,
};
use crate::validate::jwks::{JwksCache, KeyEpoch};
use crate::validate::jwt::{self, JwtValidator, KeySource};
use crate::validate::revoked::Revocations;
use crate::validate::router::{Authorities, Authority};
use jsonwebtoken::{Algorithm, DecodingKey};
use std::sync::Arc;

use super::{MAX_LEEWAY, MIN_HS256_SECRET_BYTES, McpOAuthBuilder, ValidatorSlot};

impl McpOAuthBuilder {
    /// Checks everything and builds the middleware. Does no I/O: metadata and keys are
    /// fetched by [`McpOAuth::discover`] or on first use, and the last good keys keep
    /// serving when a refresh fails.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let err = mcp_oauth::McpOAuth::builder()
    ///     .resource("http://mcp.example.com/mcp") // not https
    ///     .leeway(Duration::from_secs(900))
    ///     .build()
    ///     .unwrap_err();
    /// let settings: Vec<&str> = err.problems().iter().map(|p| p.setting()).collect();
    /// assert_eq!(settings, [
    ///     "MCP_OAUTH_RESOURCE",
    ///     "MCP_OAUTH_AUTHORIZATION_SERVERS",
    ///     "MCP_OAUTH_LEEWAY_SECS",
    /// ]);
    /// ```
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem found.
    pub fn build(self) -> Result<McpOAuth, ConfigError> {
        let mut problems = self.problems.clone();
        let mut problem = |setting: &'static str, message: String| {
            problems.push(ConfigProblem::new(setting, message))
        };

        // Resource (RFC 9728 §1.2, MCP authorization §Canonical Server URI).
        let resource = match &self.resource {
            None => {
                problem(
                    "MCP_OAUTH_RESOURCE",
                    "required: the absolute URL of the MCP endpoint".into(),
                );
                None
            }
            Some(r) => match secure_url(r) {
                Ok(url) => {
                    if url.query().is_some() {
                        tracing::warn!(target: "mcp_oauth", resource = %r, "the resource identifier SHOULD NOT have a query (RFC 8707 §2)");
                    }
                    Some(r.clone())
                }
                Err(e) => {
                    problem("MCP_OAUTH_RESOURCE", e);
                    None
                }
            },
        };

        // Authorization servers (MCP authorization §Authorization Server Location) and the
        // issuer the top-level endpoints belong to.
        let issuers: Vec<&str> = self
            .authorization_servers
            .iter()
            .map(|s| s.issuer.as_str())
            .collect();
        // A preset that could not make its authorization server has said why.
        if issuers.is_empty() && !self.preset {
            problem(
                "MCP_OAUTH_AUTHORIZATION_SERVERS",
                "required: at least one authorization server issuer URL".into(),
            );
        }
        for (i, issuer) in issuers.iter().enumerate() {
            match secure_url(issuer) {
                Ok(url) if url.query().is_some() => problem(
                    "MCP_OAUTH_AUTHORIZATION_SERVERS",
                    format!("`{issuer}`: an issuer has no query"),
                ),
                Ok(_) => {}
                Err(e) => problem("MCP_OAUTH_AUTHORIZATION_SERVERS", e),
            }
            if issuers[..i].contains(issuer) {
                problem(
                    "MCP_OAUTH_AUTHORIZATION_SERVERS",
                    format!("`{issuer}` is listed twice"),
                );
            }
        }
        let top_level_endpoints = self.jwks_uri.is_some()
            || self.hs256_secret.is_some()
            || self.introspection_endpoint.is_some()
            || !self.opaque_token_prefixes.is_empty();
        let issuer = match (&self.issuer, issuers.as_slice()) {
            (Some(i), servers) => {
                if !servers.is_empty() && !servers.contains(&i.as_str()) {
                    problem(
                        "MCP_OAUTH_ISSUER",
                        format!("`{i}` is not one of the authorization servers advertised"),
                    );
                }
                Some(i.clone())
            }
            (None, [one]) => Some((*one).to_owned()),
            (None, [_, _, ..]) if top_level_endpoints => {
                problem(
                    "MCP_OAUTH_ISSUER",
                    "required when several authorization servers are configured: it names \
                     the one MCP_OAUTH_JWKS_URI, MCP_OAUTH_HS256_SECRET, \
                     MCP_OAUTH_INTROSPECTION_ENDPOINT or MCP_OAUTH_OPAQUE_TOKEN_PREFIX \
                     belongs to"
                        .into(),
                );
                None
            }
            (None, _) => None,
        };

        // Scopes.
        for (setting, scopes) in [
            ("MCP_OAUTH_REQUIRED_SCOPES", &self.required_scopes),
            ("MCP_OAUTH_SCOPES_SUPPORTED", &self.scopes_supported),
        ] {
            for s in scopes.iter().filter(|s| !scope::is_scope_token(s)) {
                problem(
                    setting,
                    format!("`{s}` is not a scope token (RFC 6749 §3.3)"),
                );
            }
        }

        for (what, rules) in [
            ("require_scope_for_method", &self.method_scopes),
            ("require_scope_for_tool", &self.tool_scopes),
            ("require_scope_for_prompt", &self.prompt_scopes),
            ("require_scope_for_resource", &self.resource_scopes),
        ] {
            for (name, rule) in rules {
                if name.is_empty() || rule.scopes.is_empty() {
                    problem(
                        what,
                        format!("`{name}` needs a name and at least one scope"),
                    );
                }
                for s in rule.scopes.iter().filter(|s| !scope::is_scope_token(s)) {
                    problem(what, format!("`{s}` is not a scope token (RFC 6749 §3.3)"));
                }
            }
        }
        for why in self.resource_pattern_problems() {
            problem("require_scope_for_resource", why);
        }
        for p in self.mcp_endpoints.iter().filter(|p| !p.starts_with('/')) {
            problem("mcp_endpoint", format!("`{p}` must start with `/`"));
        }
        if self.leeway > MAX_LEEWAY {
            problem(
                "MCP_OAUTH_LEEWAY_SECS",
                format!(
                    "{} s is more than the maximum of {} s",
                    self.leeway.as_secs(),
                    MAX_LEEWAY.as_secs()
                ),
            );
        }
        for (variable, why) in self.dpop_problems() {
            problem(variable, why);
        }
        if let Some(Err(e)) = self.resource_documentation.as_deref().map(secure_url) {
            problem("MCP_OAUTH_RESOURCE_DOCUMENTATION", e);
        }
        for p in &self.public_paths {
            if !p.starts_with('/') || p == "/" {
                problem(
                    "MCP_OAUTH_PUBLIC_PATHS",
                    format!("`{p}` must start with `/` and not be the root"),
                );
            }
        }
        if self.max_token_bytes == 0 {
            problem("max_token_bytes", "must be more than zero".into());
        }
        if self.introspection_limits.max_concurrent == 0 {
            problem(
                "MCP_OAUTH_INTROSPECTION_MAX_CONCURRENT",
                "must be more than zero".into(),
            );
        }
        if self.cache_max_entries == 0 {
            problem(
                "MCP_OAUTH_CACHE_MAX_ENTRIES",
                "must be more than zero (a TTL of 0 turns the cache off)".into(),
            );
        }

        if self
            .audiences
            .iter()
            .chain(self.authorization_servers.iter().flat_map(|s| &s.audiences))
            .any(|a| a.trim().is_empty())
        {
            problem("MCP_OAUTH_AUDIENCE", "an audience cannot be empty".into());
        }
        let origins = self.origins(&mut problem);
        let limits = self.limits(&mut problem);
        if let Some(p) = &self.diagnostics_path
            && (!p.starts_with('/') || p == "/")
        {
            problem(
                "MCP_OAUTH_DIAGNOSTICS_PATH",
                format!("`{p}` must start with `/` and not be the root"),
            );
        }

        if self.revocation_ttl.is_zero() {
            problem(
                "MCP_OAUTH_REVOCATION_TTL_SECS",
                "must be at least one second".to_owned(),
            );
        }

        // How tokens are judged: each authorization server by itself, unless the
        // application brings its own validator.
        let epoch = KeyEpoch::default();
        let authorities = Arc::new(Authorities {
            list: self
                .authorization_servers
                .iter()
                .map(|server| {
                    self.authority(
                        server,
                        issuer.as_deref(),
                        resource.as_deref(),
                        &epoch,
                        &mut problem,
                    )
                })
                .collect(),
        });
        let validator: Arc<dyn TokenValidator> = match &self.validator {
            Some(ValidatorSlot(v)) => v.clone(),
            None => authorities.clone(),
        };
        // API keys and development tokens, each token routed by its shape (first_of).
        let validator = self.beside_keys(validator, resource.as_deref(), &mut problem);

        // The same problem found for several authorization servers is reported once.
        let mut unique: Vec<ConfigProblem> = Vec::with_capacity(problems.len());
        for p in problems {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        let (Some(resource), true) = (resource, unique.is_empty()) else {
            return Err(ConfigError::new(unique));
        };
        // Revocations: asked after each validation, before its result is cached.
        let revoked = Arc::new(Revocations::new(self.shared.clone(), self.revocation_ttl));
        // The cache wraps whichever validator judges the tokens.
        let cache = (!self.cache_ttl.is_zero()).then(|| {
            Arc::new(
                CachedValidator::new(
                    validator.clone(),
                    self.cache_ttl,
                    self.cache_max_entries,
                    epoch.clone(),
                )
                .with_revocations(revoked.clone()),
            )
        });
        // scopes_supported: required, configured, and those guards and per-method/per-tool
        // rules use (the scopes a client needs to use this server; nothing more).
        let policy = self.mcp_policy();
        let mut supported = self.required_scopes.clone();
        let mut extra: Vec<String> = self.scopes_supported.clone();
        extra.extend(crate::policy::guard::guarded_scopes().map(str::to_owned));
        for rule in policy.rules.all() {
            extra.extend(rule.scopes.iter().cloned());
        }
        scope::extend_unique(&mut supported, extra.iter().map(String::as_str));
        let issuers: Vec<String> = issuers.iter().map(|i| (*i).to_owned()).collect();
        let (dpop_advert, dpop) = self.dpop_parts(&resource);
        let dpop_required = self.dpop == crate::DpopMode::Required;
        let document = MetadataDocument {
            resource: &resource,
            authorization_servers: &issuers,
            scopes_supported: &supported,
            bearer_methods_supported: ["header"],
            resource_name: self.resource_name.as_deref(),
            resource_documentation: self.resource_documentation.as_deref(),
            // RFC 9728 §2: the proof algorithms, whenever proofs are accepted, so a client
            // able to use DPoP learns it may; clients without DPoP ignore the member.
            dpop_signing_alg_values_supported: (self.dpop != crate::DpopMode::Off)
                .then_some(&dpop_advert.algorithms[..]),
            dpop_bound_access_tokens_required: dpop_required.then_some(true),
        };
        let protected = ProtectedResource::new(
            &resource,
            &document,
            self.required_scopes.clone(),
            &supported,
        )
        .with_scope_hierarchy(self.scope_hierarchy)
        .with_dpop(dpop_advert.clone());
        Ok(McpOAuth::from_inner(Inner {
            resource: Arc::new(protected),
            validator,
            cache,
            // `/health/` and `/health` mean the same subtree.
            public_paths: self
                .public_paths
                .iter()
                .map(|p| p.trim_end_matches('/').to_owned())
                .collect(),
            max_token_bytes: self.max_token_bytes,
            expose_token: self.expose_token,
            policy,
            sessions: self
                .session_binding
                .then(|| SessionOwners::new(DEFAULT_MAX_SESSIONS).with_shared(self.shared.clone())),
            authorities,
            retry_discovery: self.retry_discovery,
            diagnostics_path: self.diagnostics_path.clone(),
            origins: Arc::new(origins.with_resource(&resource)),
            limits,
            dpop,
            dpop_accept_unbound: self.dpop_accept_unbound,
            revoked,
        })
        .listening_to_revocations())
    }

    /// The built-in JWT strategy, or `None` with problems recorded.
    /// One authorization server's validators and discovery, from its own settings, the
    /// builder's defaults and, for the [`issuer`](Self::issuer), the top-level endpoints.
    fn authority(
        &self,
        server: &AuthorizationServer,
        keys_issuer: Option<&str>,
        resource: Option<&str>,
        epoch: &KeyEpoch,
        problem: &mut impl FnMut(&'static str, String),
    ) -> Authority {
        let ours = keys_issuer == Some(server.issuer.as_str());
        let top = |value: &Option<String>| if ours { value.clone() } else { None };
        let jwks_uri = server.jwks_uri.clone().or_else(|| top(&self.jwks_uri));
        let secret = if ours {
            self.hs256_secret.clone()
        } else {
            None
        };
        let introspection_endpoint = server
            .introspection_endpoint
            .clone()
            .or_else(|| top(&self.introspection_endpoint));
        let prefixes = match (&server.opaque_token_prefixes, ours) {
            (own, _) if !own.is_empty() => own.clone(),
            (_, true) => self.opaque_token_prefixes.clone(),
            (_, false) => Vec::new(),
        };
        // A custom validator judges every token: nothing here is needed then.
        let judging = self.validator.is_none();
        let verifies_jwts = judging && self.validation.verifies_jwts();
        let introspects = judging && self.validation.introspects();

        for (setting, uri) in [
            ("MCP_OAUTH_JWKS_URI", &jwks_uri),
            ("MCP_OAUTH_INTROSPECTION_ENDPOINT", &introspection_endpoint),
        ] {
            if let Some(Err(e)) = uri.as_deref().map(secure_url) {
                problem(setting, e);
            }
        }
        if !self.validation.verifies_jwts() && (jwks_uri.is_some() || secret.is_some()) {
            problem(
                if secret.is_some() {
                    "MCP_OAUTH_HS256_SECRET"
                } else {
                    "MCP_OAUTH_JWKS_URI"
                },
                "not used by the `introspection` validation (use `hybrid` to verify JWTs too)"
                    .into(),
            );
        }
        if !prefixes.is_empty() && !self.validation.introspects() {
            problem(
                "MCP_OAUTH_OPAQUE_TOKEN_PREFIX",
                "only used when tokens are introspected (`introspection` or `hybrid`)".into(),
            );
        }
        // RFC 6750 §2.1: a bearer token is b64token characters (`=` only at its end).
        for p in prefixes.iter().filter(|p| {
            p.is_empty()
                || !p
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        }) {
            problem(
                "MCP_OAUTH_OPAQUE_TOKEN_PREFIX",
                format!(
                    "`{p}`: a prefix is one or more token characters (letters, digits, -._~+/; RFC 6750 §2.1)"
                ),
            );
        }
        if jwks_uri.is_some() && secret.is_some() {
            problem(
                "MCP_OAUTH_HS256_SECRET",
                "set either a JWKS URI or a shared secret, not both (RFC 8725 §2.1)".into(),
            );
        }

        // The resource is always an accepted audience; configured ones are added to it.
        let mut audiences: Vec<String> = resource.iter().map(|r| (*r).to_owned()).collect();
        scope::extend_unique(
            &mut audiences,
            self.audiences
                .iter()
                .chain(&server.audiences)
                .map(String::as_str),
        );

        let discovery = Arc::new(Discovery::new(
            server.issuer.clone(),
            Needs {
                jwks: verifies_jwts && secret.is_none(),
                jwks_uri: jwks_uri.clone().filter(|_| verifies_jwts),
                introspection: introspects,
                introspection_endpoint: introspection_endpoint.clone().filter(|_| introspects),
                introspection_auth: self.introspection_auth.as_str(),
                resource: resource.map(str::to_owned),
            },
            self.strictness,
            self.jwks.limits,
        ));

        let jwt = verifies_jwts.then(|| {
            let keys = match (&secret, &jwks_uri) {
                (Some(secret), _) => {
                    if secret.0.len() < MIN_HS256_SECRET_BYTES {
                        problem(
                            "MCP_OAUTH_HS256_SECRET",
                            format!(
                                "must be at least {MIN_HS256_SECRET_BYTES} bytes (RFC 7518 §3.2)"
                            ),
                        );
                    }
                    KeySource::Secret(DecodingKey::from_secret(&secret.0))
                }
                (None, Some(uri)) => KeySource::Jwks(Arc::new(JwksCache::new(
                    uri.clone(),
                    self.jwks,
                    epoch.clone(),
                    discovery.metrics().clone(),
                ))),
                (None, None) => KeySource::Discovered {
                    discovery: discovery.clone(),
                    cache: std::sync::OnceLock::new(),
                    settings: self.jwks,
                    epoch: epoch.clone(),
                },
            };
            let symmetric = secret.is_some();
            let algorithms = match server.algorithms.as_ref().or(self.algorithms.as_ref()) {
                Some(list) => list.clone(),
                None if symmetric => vec![Algorithm::HS256],
                None => jwt::DEFAULT_ALGORITHMS.to_vec(),
            };
            if algorithms.is_empty() {
                problem(
                    "MCP_OAUTH_ALGORITHMS",
                    "at least one algorithm is required".into(),
                );
            }
            for alg in &algorithms {
                if jwt::is_hmac(*alg) != symmetric {
                    let why = if symmetric {
                        "only HS256, HS384 or HS512 can be used with a shared secret"
                    } else {
                        "HS* algorithms need a shared secret and are never accepted with JWKS keys"
                    };
                    problem("MCP_OAUTH_ALGORITHMS", format!("{alg:?}: {why}"));
                }
            }
            JwtValidator {
                issuer: server.issuer.clone(),
                audiences: audiences.clone(),
                algorithms,
                leeway_secs: self.leeway.as_secs(),
                typ: self.typ,
                scope_claim: self.scope_claim.clone(),
                keys,
                rules: server.rules.clone(),
            }
        });

        let introspection = if introspects {
            let credentials = match (
                &server.introspection_client,
                &self.introspection_client_id,
                &self.introspection_client_secret,
            ) {
                (Some((id, secret)), _, _) => Some((id.clone(), secret.clone())),
                (None, Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
                (None, Some(_), None) => {
                    problem(
                        "MCP_OAUTH_INTROSPECTION_CLIENT_SECRET",
                        "required with MCP_OAUTH_INTROSPECTION_CLIENT_ID".into(),
                    );
                    None
                }
                (None, None, _) => {
                    problem(
                        "MCP_OAUTH_INTROSPECTION_CLIENT_ID",
                        "required to introspect tokens: the authorization server must \
                         authenticate this resource server (RFC 7662 §2.1)"
                            .into(),
                    );
                    None
                }
            };
            credentials.map(|(id, secret)| Introspector {
                issuer: server.issuer.clone(),
                endpoint: introspection_endpoint,
                discovery: discovery.clone(),
                client: ClientCredentials {
                    id,
                    secret,
                    method: self.introspection_auth,
                },
                audiences,
                leeway_secs: self.leeway.as_secs(),
                scope_claim: self.scope_claim.clone(),
                rules: server.rules.clone(),
                limits: self.jwks.limits,
                prefixes,
                refused: RefusedCache::new(self.introspection_limits.negative_ttl),
                calls: CallLimit::new(self.introspection_limits.max_concurrent),
                shared: self.shared.clone().map(|state| {
                    SharedAnswers::new(
                        state,
                        self.cache_ttl,
                        self.introspection_limits.negative_ttl,
                    )
                }),
            })
        } else {
            None
        };

        Authority {
            discovery,
            jwt,
            introspection,
        }
    }
}
