//! Provider presets on the builder: [`McpOAuthBuilder::provider`] and
//! `MCP_OAUTH_PROVIDER` (read by `env.rs`): the preset's variables read with the same
//! rules as every other (`NAME_FILE`, blank = unset), its authorization server added with
//! its issuer form, keys, algorithms, audiences and claim rules, and every missing or
//! invalid variable reported by `build()` with the other problems, by name.

use std::collections::HashMap;

use super::vars::{list, value};
use super::{AuthorizationServer, ConfigProblem, McpOAuthBuilder};
use crate::providers::recipe::Settings;
use crate::providers::{self, Provider};
use crate::validate::jwt::TypPolicy;
use crate::validate::router::Validation;

impl McpOAuthBuilder {
    /// Configures the authorization server of a provider preset from its variables
    /// ([`Provider::variables`], given here instead of the environment): the issuer in
    /// the provider's form, its JWKS and algorithms, the audiences and claim rules its
    /// tokens need. The same as `MCP_OAUTH_PROVIDER=<name>` with those variables.
    ///
    /// A missing or invalid variable, or one that is not the preset's, is reported by
    /// [`build`](Self::build) with every other problem, naming the variable. Call again
    /// with another preset (or the same with other settings) to trust several issuers.
    ///
    /// ```
    /// use mcp_oauth::{McpOAuth, providers};
    ///
    /// let oauth = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .provider(&providers::AUTH0, [("MCP_OAUTH_AUTH0_DOMAIN", "your-tenant.us.auth0.com")])
    ///     .required_scopes(["mcp:tools"])
    ///     .build()?;
    /// assert_eq!(oauth.resource(), "https://mcp.example.com/mcp");
    ///
    /// let err = McpOAuth::builder()
    ///     .resource("https://mcp.example.com/mcp")
    ///     .provider(&providers::COGNITO, [("MCP_OAUTH_COGNITO_USER_POOL_ID", "eu-west-1_AbC")])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.problems()[0].setting(), "MCP_OAUTH_COGNITO_CLIENT_IDS");
    /// # Ok::<(), mcp_oauth::ConfigError>(())
    /// ```
    pub fn provider<I, K, V>(mut self, provider: &'static Provider, settings: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = settings
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let mut problems = Vec::new();
        for name in vars.keys() {
            let base = name.strip_suffix("_FILE").unwrap_or(name);
            if !provider.variables().iter().any(|v| v.name == base) {
                problems.push(ConfigProblem::new(
                    "MCP_OAUTH_PROVIDER",
                    format!(
                        "`{name}` is not a variable of the `{}` preset",
                        provider.name()
                    ),
                ));
            }
        }
        if provider == &providers::GENERIC {
            let mut read = |name| value(&vars, name, &mut problems);
            if let Some(r) = read("MCP_OAUTH_RESOURCE") {
                self.resource = Some(r);
            }
            let servers = read("MCP_OAUTH_AUTHORIZATION_SERVERS").map(|v| list(&v));
            self.authorization_servers.extend(
                servers
                    .unwrap_or_default()
                    .into_iter()
                    .map(AuthorizationServer::new),
            );
        } else {
            self.apply_provider(provider, &vars, &mut problems);
        }
        self.problems.extend(problems);
        self
    }

    /// Reads `provider`'s variables out of `vars` and adds its authorization server;
    /// problems into `problems`. What the user set explicitly (`MCP_OAUTH_JWKS_URI`,
    /// `MCP_OAUTH_ALGORITHMS`, `MCP_OAUTH_VALIDATION`) is kept.
    pub(super) fn apply_provider(
        &mut self,
        provider: &'static Provider,
        vars: &HashMap<String, String>,
        problems: &mut Vec<ConfigProblem>,
    ) {
        self.preset = true;
        let mut found = Vec::new();
        let recipe = {
            let mut read = |name| value(vars, name, &mut found);
            let mut settings = Settings::new(provider.name(), &mut read);
            let recipe = provider.recipe(&mut settings);
            let said = std::mem::take(&mut settings.problems);
            drop(settings);
            problems.extend(said.into_iter().map(|(n, m)| ConfigProblem::new(n, m)));
            recipe
        };
        problems.extend(found);
        let Some(recipe) = recipe else { return };
        if recipe.never_at_jwt && self.typ == TypPolicy::Strict {
            problems.push(ConfigProblem::new(
                "MCP_OAUTH_TYP",
                format!(
                    "`strict` accepts only `at+jwt` tokens, and {} never types its access \
                     tokens so: every token would be refused (`lenient` refuses ID tokens too)",
                    provider.title()
                ),
            ));
        }
        let mut server = AuthorizationServer::new(recipe.issuer);
        if self.jwks_uri.is_none() {
            server.jwks_uri = recipe.jwks_uri;
        }
        if self.algorithms.is_none() {
            server.algorithms = recipe.algorithms.map(<[_]>::to_vec);
        }
        server.audiences = recipe.audiences;
        server.rules = recipe.rules;
        if let Some(v) = recipe.validation
            && self.validation == Validation::default()
        {
            self.validation = v;
        }
        self.authorization_servers.push(server);
    }
}

/// The variables of presets other than `selected` that are set: each a problem (they
/// would be ignored).
pub(super) fn stray_variables(
    selected: Option<&Provider>,
    vars: &HashMap<String, String>,
    problems: &mut Vec<ConfigProblem>,
) {
    for p in providers::all() {
        if Some(p) == selected || p == &providers::GENERIC {
            continue;
        }
        for v in p.variables() {
            if vars.contains_key(v.name) || vars.contains_key(&format!("{}_FILE", v.name)) {
                problems.push(ConfigProblem::new(
                    v.name,
                    format!("only read with MCP_OAUTH_PROVIDER={}", p.name()),
                ));
            }
        }
    }
}
