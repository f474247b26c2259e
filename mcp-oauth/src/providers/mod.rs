//! Provider presets: what each identity provider needs from a resource server, as data.
//!
//! A [`Provider`] knows its issuer form (`https://{domain}/` for Auth0,
//! `https://login.microsoftonline.com/{tenant}/v2.0` for Entra ID, ...), its JWKS location,
//! the algorithms it signs with, how its access tokens differ from RFC 9068 (Cognito's
//! `token_use` and missing `aud`, Entra's `scp`/`roles` and `ver`, Keycloak's `typ`
//! claim), the few `MCP_OAUTH_*` variables it needs, what must be set at its console
//! ([`console_guide`](Provider::console_guide)) and what it cannot do for MCP
//! ([`caveats`](Provider::caveats)). Select one with `MCP_OAUTH_PROVIDER=<name>` or
//! [`McpOAuthBuilder::provider`](crate::McpOAuthBuilder::provider).
//!
//! None of them changes the `typ` policy: their access tokens are typed `JWT`, or not at
//! all, or `at+jwt` (Auth0's RFC 9068 profile), which the default `lenient` accepts while
//! refusing ID tokens; `MCP_OAUTH_TYP=strict` with a provider that never types its tokens
//! `at+jwt` (Okta, Cognito, Entra ID) is a configuration problem.
//!
//! Every variable that names where a provider lives (a domain, a base URL, an
//! authority) also accepts a full URL, `https`, or `http` on a loopback host only:
//! that is how a test points a preset at a server on 127.0.0.1, and how a sovereign
//! cloud or a custom domain is reached.
//!
//! ```
//! use mcp_oauth::providers;
//!
//! let auth0 = providers::find("auth0").expect("a preset");
//! assert_eq!(auth0.title(), "Auth0");
//! assert!(auth0.variables().iter().any(|v| v.name == "MCP_OAUTH_AUTH0_DOMAIN" && v.required));
//! assert!(providers::all().iter().any(|p| p.name() == "generic"));
//! ```

mod auth0;
mod clerk;
mod cognito;
mod descope;
mod entra;
mod generic;
mod keycloak;
mod okta;
pub(crate) mod recipe;
mod supabase;
mod workos;

pub use auth0::AUTH0;
pub use clerk::CLERK;
pub use cognito::COGNITO;
pub use descope::DESCOPE;
pub use entra::ENTRA;
pub use generic::GENERIC;
pub use keycloak::KEYCLOAK;
pub use okta::OKTA;
pub use supabase::SUPABASE;
pub use workos::WORKOS;

use recipe::{Recipe, Settings};

/// An identity provider preset. See the [module](self) documentation.
///
/// ```
/// let okta = &mcp_oauth::providers::OKTA;
/// assert_eq!((okta.name(), okta.title()), ("okta", "Okta"));
/// assert!(okta.console_guide().contains("Audience"));
/// ```
pub struct Provider {
    name: &'static str,
    title: &'static str,
    variables: &'static [Variable],
    console_guide: &'static str,
    caveats: &'static str,
    /// The authorization server the variables describe (`None` with no problem: the
    /// preset adds nothing, as `generic`).
    recipe: fn(&mut Settings<'_>) -> Option<Recipe>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Provider {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Provider {}

/// One variable a provider reads.
///
/// ```
/// for provider in mcp_oauth::providers::all() {
///     for v in provider.variables() {
///         assert!(v.name.starts_with("MCP_OAUTH_") && !v.example.is_empty() && !v.help.is_empty());
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// `MCP_OAUTH_…`; may also be given as `NAME_FILE`.
    pub name: &'static str,
    /// A value of the right shape.
    pub example: &'static str,
    /// What it means.
    pub help: &'static str,
    /// Whether the preset needs it.
    pub required: bool,
}

impl Provider {
    /// The name used in `MCP_OAUTH_PROVIDER` and `--provider`, e.g. `auth0`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::providers::ENTRA.name(), "entra");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The provider's name for people, e.g. `Auth0`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::providers::COGNITO.title(), "AWS Cognito");
    /// ```
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// The provider's own `MCP_OAUTH_*` variables (`MCP_OAUTH_RESOURCE` and the general
    /// ones apply to every provider).
    ///
    /// ```
    /// let names: Vec<&str> = mcp_oauth::providers::KEYCLOAK.variables().iter().map(|v| v.name).collect();
    /// assert_eq!(names, ["MCP_OAUTH_KEYCLOAK_URL", "MCP_OAUTH_KEYCLOAK_REALM"]);
    /// ```
    pub fn variables(&self) -> &'static [Variable] {
        self.variables
    }

    /// Markdown: what to set at the provider's console for an MCP server.
    ///
    /// ```
    /// assert!(mcp_oauth::providers::AUTH0.console_guide().contains("Identifier"));
    /// ```
    pub fn console_guide(&self) -> &'static str {
        self.console_guide
    }

    /// Markdown: what the provider cannot do for MCP and the explicit alternative (`""`
    /// if nothing).
    ///
    /// ```
    /// assert!(mcp_oauth::providers::COGNITO.caveats().contains("MCP_OAUTH_COGNITO_CLIENT_IDS"));
    /// assert_eq!(mcp_oauth::providers::AUTH0.caveats(), "");
    /// ```
    pub fn caveats(&self) -> &'static str {
        self.caveats
    }

    /// The authorization server the settings describe; problems in `settings`.
    pub(crate) fn recipe(&self, settings: &mut Settings<'_>) -> Option<Recipe> {
        (self.recipe)(settings)
    }
}

static ALL: [Provider; 10] = [
    GENERIC, AUTH0, OKTA, COGNITO, ENTRA, KEYCLOAK, WORKOS, DESCOPE, CLERK, SUPABASE,
];

/// Every preset, `generic` first.
///
/// ```
/// let names: Vec<&str> = mcp_oauth::providers::all().iter().map(|p| p.name()).collect();
/// assert_eq!(names[0], "generic");
/// assert!(names.contains(&"okta") && names.contains(&"cognito"));
/// ```
pub fn all() -> &'static [Provider] {
    &ALL
}

/// The preset named `name` (as in `MCP_OAUTH_PROVIDER`, ASCII case ignored).
///
/// ```
/// assert_eq!(mcp_oauth::providers::find("Auth0").map(|p| p.name()), Some("auth0"));
/// assert!(mcp_oauth::providers::find("nope").is_none());
/// ```
pub fn find(name: &str) -> Option<&'static Provider> {
    ALL.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_variables_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for p in all() {
            assert!(seen.insert(p.name()), "{}", p.name());
            assert!(!p.console_guide().is_empty(), "{}", p.name());
        }
        let mut vars = std::collections::BTreeSet::new();
        for p in all().iter().filter(|p| p.name() != "generic") {
            for v in p.variables() {
                assert!(vars.insert(v.name), "{}", v.name);
            }
        }
    }

    // Unknown `MCP_OAUTH_*` names are refused, so every preset variable needs its row.
    #[test]
    fn every_variable_is_listed_in_env_variables() {
        for p in all() {
            for v in p.variables() {
                assert!(
                    crate::ENV_VARIABLES.iter().any(|(name, _)| *name == v.name),
                    "{}",
                    v.name
                );
            }
        }
    }
}
