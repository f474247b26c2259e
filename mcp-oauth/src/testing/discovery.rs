//! The RFC 8414 / OpenID Connect discovery documents, and how they can misbehave.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::server::{Shared, TestAuthServer, fault_status, found, merge_patch};

/// One of the URLs where a client looks for the authorization server metadata. For
/// an issuer with path `/tenant1` (see
/// [`issuer_path`](super::TestAuthServerBuilder::issuer_path)):
///
/// | document | URL |
/// |---|---|
/// | [`OAuth`](Self::OAuth) | `http://127.0.0.1:PORT/.well-known/oauth-authorization-server/tenant1` |
/// | [`OidcPathInserted`](Self::OidcPathInserted) | `http://127.0.0.1:PORT/.well-known/openid-configuration/tenant1` |
/// | [`OidcAppended`](Self::OidcAppended) | `http://127.0.0.1:PORT/tenant1/.well-known/openid-configuration` |
///
/// For an issuer without a path, `OidcPathInserted` and `OidcAppended` are the same
/// URL, `/.well-known/openid-configuration`: one document, one fault (setting either
/// sets it) and one request count (read through either).
///
/// ```
/// use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
///
/// let auth = TestAuthServer::start();
/// assert_eq!(
///     auth.metadata_url(MetadataDocument::OidcPathInserted),
///     auth.metadata_url(MetadataDocument::OidcAppended)
/// );
/// assert_eq!(
///     auth.metadata_url(MetadataDocument::OAuth),
///     format!("{}/.well-known/oauth-authorization-server", auth.issuer())
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetadataDocument {
    /// RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted before the
    /// issuer's path.
    OAuth,
    /// `/.well-known/openid-configuration` inserted before the issuer's path (the
    /// RFC 8414 §5 form for OpenID Connect).
    OidcPathInserted,
    /// `/.well-known/openid-configuration` appended to the issuer (OpenID Connect
    /// Discovery 1.0 §4).
    OidcAppended,
}

impl MetadataDocument {
    const ALL: [Self; 3] = [Self::OAuth, Self::OidcPathInserted, Self::OidcAppended];

    /// The index of this document's fault and counter. Without an issuer path both
    /// OIDC documents are the one URL, so they share a slot.
    pub(super) fn slot(self, has_path: bool) -> usize {
        match self {
            Self::OAuth => 0,
            Self::OidcPathInserted => 1,
            Self::OidcAppended if has_path => 2,
            Self::OidcAppended => 1,
        }
    }

    /// The documents that have a route of their own.
    pub(super) fn served(has_path: bool) -> impl Iterator<Item = Self> {
        Self::ALL
            .into_iter()
            .filter(move |d| has_path || *d != Self::OidcAppended)
    }

    /// The URL path of this document for an issuer whose path is `path` (no
    /// terminating `/`; empty: none).
    pub(super) fn path(self, path: &str) -> String {
        match self {
            Self::OAuth => format!("/.well-known/oauth-authorization-server{path}"),
            Self::OidcPathInserted => format!("/.well-known/openid-configuration{path}"),
            Self::OidcAppended => format!("{path}/.well-known/openid-configuration"),
        }
    }
}

/// How a metadata document misbehaves. Set per [`MetadataDocument`] with
/// [`TestAuthServer::set_metadata_fault`].
///
/// ```
/// use mcp_oauth::testing::{MetadataDocument, MetadataFault, TestAuthServer};
///
/// let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
/// auth.set_metadata_fault(MetadataDocument::OAuth, MetadataFault::NotFound);
/// let statuses = actix_web::rt::System::new().block_on(async {
///     let client = awc::Client::default();
///     let oauth = client.get(auth.metadata_url(MetadataDocument::OAuth)).send().await?;
///     let oidc = client.get(auth.metadata_url(MetadataDocument::OidcAppended)).send().await?;
///     Ok::<_, Box<dyn std::error::Error>>((oauth.status().as_u16(), oidc.status().as_u16()))
/// })?;
/// assert_eq!(statuses, (404, 200)); // a client must fall back to the next location
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MetadataFault {
    /// Serve the document.
    #[default]
    None,
    /// Answer 404 with no body, as if there were no document at this location.
    NotFound,
    /// Answer with this HTTP status (500 if it is not a valid status) and no document.
    Status(u16),
    /// Answer 200, `Content-Type: application/json`, with a body that is not JSON.
    Garbage,
    /// Serve the document with an `issuer` that is not this server's: a `/`
    /// appended (or, if the issuer ends with `/`, removed). For an entirely different
    /// value use [`TestAuthServer::patch_metadata`] with `{"issuer": "..."}`.
    WrongIssuer,
    /// Wait this long, then serve the document.
    Delay(Duration),
    /// Answer `302 Found` to the same document at another URL (`…/moved/metadata` under
    /// the issuer, counted by [`TestAuthServer::moved_requests`]): a client that follows
    /// redirects gets it.
    Redirect,
}

impl TestAuthServer {
    /// The URL of one of the metadata documents (see [`MetadataDocument`]).
    ///
    /// ```
    /// use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
    ///
    /// let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    /// assert_eq!(
    ///     auth.metadata_url(MetadataDocument::OidcAppended),
    ///     format!("{}/.well-known/openid-configuration", auth.issuer())
    /// );
    /// ```
    pub fn metadata_url(&self, document: MetadataDocument) -> String {
        let shared = self.shared();
        let origin = shared
            .base
            .strip_suffix(shared.path.as_str())
            .unwrap_or(&shared.base);
        format!("{origin}{}", document.path(&shared.path))
    }

    /// Makes the metadata document at one location misbehave (or behave again with
    /// [`MetadataFault::None`]). The other locations are not affected.
    ///
    /// ```
    /// use mcp_oauth::testing::{MetadataDocument, MetadataFault, TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// auth.set_metadata_fault(MetadataDocument::OAuth, MetadataFault::WrongIssuer);
    /// let metadata: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let url = auth.metadata_url(MetadataDocument::OAuth);
    ///     let mut res = awc::Client::default().get(url).send().await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert_eq!(metadata["issuer"], format!("{}/", auth.issuer())); // must be refused
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_metadata_fault(&self, document: MetadataDocument, fault: MetadataFault) {
        let slot = document.slot(self.has_path());
        self.shared().state().metadata_faults[slot] = fault;
    }

    /// Merges the members of `patch` (a JSON object; anything else is ignored) into
    /// every metadata document from now on: a member replaces the field of that name,
    /// a `null` member removes it. Successive patches accumulate.
    ///
    /// ```
    /// use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
    /// use serde_json::json;
    ///
    /// let auth = TestAuthServer::start();
    /// auth.patch_metadata(json!({"jwks_uri": null, "response_types_supported": ["token"]}));
    /// let metadata: serde_json::Value = actix_web::rt::System::new().block_on(async {
    ///     let url = auth.metadata_url(MetadataDocument::OidcAppended);
    ///     let mut res = awc::Client::default().get(url).send().await?;
    ///     Ok::<_, Box<dyn std::error::Error>>(res.json().await?)
    /// })?;
    /// assert!(metadata.get("jwks_uri").is_none());
    /// assert_eq!(metadata["response_types_supported"], json!(["token"]));
    /// assert_eq!(metadata["issuer"], auth.issuer()); // the rest is unchanged
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn patch_metadata(&self, patch: Value) {
        if let Value::Object(members) = patch {
            self.shared().state().metadata_patch.extend(members);
        }
    }

    /// How many times a metadata document was requested, at any location (failed
    /// requests included).
    ///
    /// ```
    /// use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
    ///
    /// let auth = TestAuthServer::start();
    /// actix_web::rt::System::new().block_on(async {
    ///     let client = awc::Client::default();
    ///     let _ = client.get(auth.metadata_url(MetadataDocument::OAuth)).send().await;
    ///     let _ = client.get(auth.metadata_url(MetadataDocument::OidcAppended)).send().await;
    /// });
    /// assert_eq!(auth.metadata_requests(), 2);
    /// ```
    pub fn metadata_requests(&self) -> usize {
        self.shared()
            .metadata_requests
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .sum()
    }

    /// How many times the document at one location was requested (failed requests
    /// included). Without an issuer path both OIDC documents are one URL, counted once.
    ///
    /// ```
    /// use mcp_oauth::testing::{MetadataDocument, TestAuthServer};
    ///
    /// let auth = TestAuthServer::builder().issuer_path("/tenant1").start();
    /// actix_web::rt::System::new().block_on(async {
    ///     let url = auth.metadata_url(MetadataDocument::OidcAppended);
    ///     let _ = awc::Client::default().get(url).send().await;
    /// });
    /// assert_eq!(auth.metadata_requests_at(MetadataDocument::OidcAppended), 1);
    /// assert_eq!(auth.metadata_requests_at(MetadataDocument::OAuth), 0);
    /// ```
    pub fn metadata_requests_at(&self, document: MetadataDocument) -> usize {
        self.shared().metadata_requests[document.slot(self.has_path())].load(Ordering::SeqCst)
    }

    fn has_path(&self) -> bool {
        !self.shared().path.is_empty()
    }
}

/// The metadata document, as served without faults or patches.
fn document(shared: &Shared) -> Map<String, Value> {
    let (issuer, base) = (&shared.issuer, &shared.base);
    let document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{}{}", shared.origin, shared.jwks_path),
        "token_endpoint": format!("{base}/token"),
        "authorization_endpoint": format!("{base}/authorize"),
        "registration_endpoint": format!("{base}/register"),
        "introspection_endpoint": format!("{base}/introspect"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "authorization_response_iss_parameter_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
    });
    match document {
        Value::Object(members) => members,
        _ => Map::new(),
    }
}

/// Serves one metadata document, with its fault and the patch applied.
pub(super) async fn metadata(
    shared: web::Data<Shared>,
    document_at: MetadataDocument,
) -> HttpResponse {
    let slot = document_at.slot(!shared.path.is_empty());
    shared.metadata_requests[slot].fetch_add(1, Ordering::SeqCst);
    let (fault, patch) = {
        let state = shared.state();
        (state.metadata_faults[slot], state.metadata_patch.clone())
    };
    match fault {
        MetadataFault::None | MetadataFault::WrongIssuer => {}
        MetadataFault::NotFound => return HttpResponse::NotFound().finish(),
        MetadataFault::Status(code) => return fault_status(code),
        MetadataFault::Garbage => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("<html>this is not JSON</html>");
        }
        MetadataFault::Delay(d) => actix_web::rt::time::sleep(d).await,
        MetadataFault::Redirect => return found(&format!("{}/moved/metadata", shared.base)),
    }
    let mut body = document(&shared);
    merge_patch(&mut body, patch);
    if fault == MetadataFault::WrongIssuer {
        let issuer = &shared.issuer;
        let wrong = match issuer.strip_suffix('/') {
            Some(trimmed) => trimmed.to_owned(),
            None => format!("{issuer}/"),
        };
        body.insert("issuer".into(), json!(wrong));
    }
    HttpResponse::Ok().json(Value::Object(body))
}

/// The target of [`MetadataFault::Redirect`]: the document with the patch, counted apart.
pub(super) async fn moved_metadata(shared: web::Data<Shared>) -> HttpResponse {
    shared.moved_requests.fetch_add(1, Ordering::SeqCst);
    let patch = shared.state().metadata_patch.clone();
    let mut body = document(&shared);
    merge_patch(&mut body, patch);
    HttpResponse::Ok().json(Value::Object(body))
}
