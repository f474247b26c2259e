//! Identity-provider presets: what each provider needs to be configured for MCP, as data
//! (`MCP_OAUTH_PROVIDER=<name>`). `cargo mcp-oauth new --provider <name>` writes a
//! project from these.
//!
//! This is the agreed interface with only `generic` and `auth0`; the full set of presets
//! replaces this module.
//!
//! ```
//! let auth0 = mcp_oauth::providers::find("auth0").expect("a preset");
//! assert_eq!(auth0.title(), "Auth0");
//! assert!(auth0.variables().iter().any(|v| v.name == "MCP_OAUTH_AUTH0_DOMAIN"));
//! assert!(mcp_oauth::providers::all().iter().any(|p| p.name() == "generic"));
//! ```

/// One identity provider: its name, the variables it needs and what to set at its
/// console.
///
/// ```
/// for provider in mcp_oauth::providers::all() {
///     assert!(!provider.name().is_empty() && !provider.title().is_empty());
///     assert!(!provider.console_guide().is_empty());
/// }
/// ```
#[derive(Debug)]
pub struct Provider {
    name: &'static str,
    title: &'static str,
    variables: &'static [Variable],
    console_guide: &'static str,
    caveats: &'static str,
}

impl Provider {
    /// The name used in `MCP_OAUTH_PROVIDER` and `--provider`, e.g. `auth0`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::providers::find("auth0").map(|p| p.name()), Some("auth0"));
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The provider's own spelling, e.g. `Auth0`.
    ///
    /// ```
    /// assert_eq!(mcp_oauth::providers::find("auth0").map(|p| p.title()), Some("Auth0"));
    /// ```
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// The `MCP_OAUTH_*` variables this provider is configured with.
    ///
    /// ```
    /// let generic = mcp_oauth::providers::find("generic").expect("always there");
    /// assert!(generic.variables().iter().any(|v| v.name == "MCP_OAUTH_RESOURCE" && v.required));
    /// ```
    pub fn variables(&self) -> &'static [Variable] {
        self.variables
    }

    /// Markdown: what to set at the provider's console for an MCP server.
    ///
    /// ```
    /// let auth0 = mcp_oauth::providers::find("auth0").expect("a preset");
    /// assert!(auth0.console_guide().contains("API"));
    /// ```
    pub fn console_guide(&self) -> &'static str {
        self.console_guide
    }

    /// Markdown: what the provider cannot do for MCP, and the explicit alternative; empty
    /// when there is nothing to say.
    ///
    /// ```
    /// let generic = mcp_oauth::providers::find("generic").expect("always there");
    /// assert!(generic.caveats().is_empty());
    /// ```
    pub fn caveats(&self) -> &'static str {
        self.caveats
    }
}

/// One configuration variable of a provider.
///
/// ```
/// let auth0 = mcp_oauth::providers::find("auth0").expect("a preset");
/// let domain = auth0.variables().iter().find(|v| v.name == "MCP_OAUTH_AUTH0_DOMAIN");
/// assert_eq!(domain.map(|v| v.example), Some("your-tenant.us.auth0.com"));
/// ```
#[derive(Debug)]
pub struct Variable {
    /// The variable, `MCP_OAUTH_*`.
    pub name: &'static str,
    /// A placeholder value of the right shape.
    pub example: &'static str,
    /// One line: what it is.
    pub help: &'static str,
    /// Whether the server refuses to start without it.
    pub required: bool,
}

const RESOURCE: Variable = Variable {
    name: "MCP_OAUTH_RESOURCE",
    example: "https://mcp.example.com",
    help: "this server's public URL: the audience its tokens must carry (RFC 8707, RFC 9728)",
    required: true,
};

const PROVIDERS: &[Provider] = &[
    Provider {
        name: "generic",
        title: "Any OAuth 2.1 / OpenID Connect authorization server",
        variables: &[
            Variable {
                name: "MCP_OAUTH_AUTHORIZATION_SERVERS",
                example: "https://auth.example.com",
                help: "the issuer URL of the authorization server (its metadata is discovered)",
                required: true,
            },
            RESOURCE,
        ],
        console_guide: "Register this server's URL (`MCP_OAUTH_RESOURCE`) as the audience \
            (resource indicator, RFC 8707) of the access tokens your authorization server \
            issues, offer PKCE `S256`, and give MCP clients a way to register (dynamic client \
            registration or client ID metadata documents).",
        caveats: "",
    },
    Provider {
        name: "auth0",
        title: "Auth0",
        variables: &[
            Variable {
                name: "MCP_OAUTH_AUTH0_DOMAIN",
                example: "your-tenant.us.auth0.com",
                help: "your Auth0 tenant's domain (Settings > Domain)",
                required: true,
            },
            RESOURCE,
        ],
        console_guide: "In the Auth0 dashboard, create an **API** whose *Identifier* is this \
            server's URL (`MCP_OAUTH_RESOURCE`): it becomes the tokens' audience. Add the \
            tools' scopes as the API's permissions.",
        caveats: "",
    },
];

/// Every preset, `generic` included.
///
/// ```
/// let names: Vec<&str> = mcp_oauth::providers::all().iter().map(|p| p.name()).collect();
/// assert!(names.contains(&"generic"));
/// ```
pub fn all() -> &'static [Provider] {
    PROVIDERS
}

/// The preset called `name` (`MCP_OAUTH_PROVIDER`), if there is one.
///
/// ```
/// assert!(mcp_oauth::providers::find("auth0").is_some());
/// assert!(mcp_oauth::providers::find("nope").is_none());
/// ```
pub fn find(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.name == name)
}
