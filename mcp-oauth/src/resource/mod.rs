//! The protected resource: its identifier kept verbatim, where its metadata lives,
//! and the scopes it asks for (RFC 9728 §1.2, §3; MCP authorization §Canonical Server
//! URI).
//!
//! Built once from the configuration and shared read-only: [`endpoint`] serves the
//! rendered metadata document. Nothing here fetches, validates or reads a request body.

pub(crate) mod dpop;
pub(crate) mod endpoint;

use actix_web::web::Bytes;

use serde::Serialize;

use dpop::DpopAdvert;

/// The document (RFC 9728 §2). Members with zero values are omitted (§3.2).
#[derive(Debug, Serialize)]
pub(crate) struct MetadataDocument<'a> {
    /// Byte-equal to the configured resource (RFC 9728 §3.3).
    pub(crate) resource: &'a str,
    /// At least one issuer, byte-equal to configuration (MCP authorization §Authorization
    /// Server Location).
    pub(crate) authorization_servers: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) scopes_supported: &'a [String],
    /// Only the header: OAuth 2.1 §5.1 forbids query tokens.
    pub(crate) bearer_methods_supported: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resource_name: Option<&'a str>,
    /// The proof algorithms accepted, when DPoP is required (RFC 9728 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dpop_signing_alg_values_supported: Option<&'a [String]>,
    /// `true` when only DPoP-bound tokens are accepted; omitted otherwise (RFC 9728 §2:
    /// absent means `false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dpop_bound_access_tokens_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) resource_documentation: Option<&'a str>,
}

/// The RFC 9728 well-known prefix.
pub(crate) const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// Everything a challenge or the metadata endpoint needs to know about this resource.
/// Built once, shared behind an `Arc`.
#[derive(Debug)]
pub(crate) struct ProtectedResource {
    /// The identifier, exactly as configured.
    resource: String,
    /// The metadata URL, absolute: what `resource_metadata` names.
    metadata_url: String,
    /// Request path of the path-inserted metadata (`/.well-known/oauth-protected-resource/mcp`).
    metadata_path: String,
    /// The serialised metadata document (RFC 9728 §3.2), made once at build time.
    metadata_json: Bytes,
    /// Scopes every request needs.
    required_scopes: Vec<String>,
    /// Scopes this resource knows (required ∪ supported): what a step-up may repeat.
    known_scopes: Vec<String>,
    /// A granted `prefix:*` covers `prefix:…` (opt-in).
    scope_hierarchy: bool,
    /// Which schemes are accepted and the proof algorithms (RFC 9449 §7.1).
    dpop: DpopAdvert,
}

impl ProtectedResource {
    pub(crate) fn new(
        resource: &str,
        document: &MetadataDocument<'_>,
        required_scopes: Vec<String>,
        supported_scopes: &[String],
    ) -> Self {
        let parts = ResourceParts::split(resource);
        let metadata_path = format!("{WELL_KNOWN}{}", parts.path);
        let metadata_url = format!("{}{}{}", parts.origin, metadata_path, parts.query);
        let mut known_scopes = required_scopes.clone();
        for s in supported_scopes {
            if !known_scopes.contains(s) {
                known_scopes.push(s.clone());
            }
        }
        let metadata_json = Bytes::from(serde_json::to_vec(document).unwrap_or_default());
        Self {
            resource: resource.to_owned(),
            metadata_url,
            metadata_path,
            metadata_json,
            required_scopes,
            known_scopes,
            scope_hierarchy: false,
            dpop: DpopAdvert::default(),
        }
    }

    pub(crate) fn resource(&self) -> &str {
        &self.resource
    }

    pub(crate) fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    pub(crate) fn metadata_json(&self) -> Bytes {
        self.metadata_json.clone()
    }

    pub(crate) fn required_scopes(&self) -> &[String] {
        &self.required_scopes
    }

    /// Turns the scope hierarchy on or off.
    pub(crate) fn with_scope_hierarchy(mut self, on: bool) -> Self {
        self.scope_hierarchy = on;
        self
    }

    /// Sets what the challenges say about DPoP.
    pub(crate) fn with_dpop(mut self, dpop: DpopAdvert) -> Self {
        self.dpop = dpop;
        self
    }

    pub(crate) fn dpop(&self) -> &DpopAdvert {
        &self.dpop
    }

    pub(crate) fn scope_hierarchy(&self) -> bool {
        self.scope_hierarchy
    }

    pub(crate) fn knows_scope(&self, scope: &str) -> bool {
        self.known_scopes.iter().any(|s| s == scope)
    }

    /// Is `path` one of the two places the metadata is served: the path-inserted URL
    /// (RFC 9728 §3.1) or the root (MCP 2025-11-25 authorization §Protected Resource
    /// Metadata Discovery Requirements)?
    pub(crate) fn is_metadata_path(&self, path: &str) -> bool {
        path == self.metadata_path || path == WELL_KNOWN
    }

    /// Is `path` under the well-known prefix without being ours? Answered 404, never
    /// challenged.
    pub(crate) fn is_other_metadata_path(&self, path: &str) -> bool {
        path.strip_prefix(WELL_KNOWN)
            .is_some_and(|rest| rest.starts_with('/'))
            && !self.is_metadata_path(path)
    }
}

/// A resource identifier cut into origin, path (terminating `/` removed) and query,
/// by string slicing only: the configured string is never normalised (RFC 9728 §3.3:
/// `resource` is identical to the identifier).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResourceParts<'a> {
    pub(crate) origin: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
}

impl<'a> ResourceParts<'a> {
    pub(crate) fn split(resource: &'a str) -> Self {
        let authority_start = resource.find("://").map_or(0, |i| i + 3);
        let rest = &resource[authority_start..];
        let origin_end = authority_start + rest.find(['/', '?']).unwrap_or(rest.len());
        let (origin, tail) = resource.split_at(origin_end);
        let (path, query) = match tail.find('?') {
            Some(q) => tail.split_at(q),
            None => (tail, ""),
        };
        // RFC 9728 §3.1: remove a terminating `/` before inserting the well-known segment.
        let path = path.strip_suffix('/').unwrap_or(path);
        Self {
            origin,
            path,
            query,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata_url(resource: &str) -> String {
        let p = ResourceParts::split(resource);
        format!("{}{WELL_KNOWN}{}{}", p.origin, p.path, p.query)
    }

    // RFC 9728 §3.1: the well-known segment goes between host and path; one case a row.
    #[test]
    fn metadata_url_inserts_the_well_known_segment_between_host_and_path() {
        assert_eq!(
            metadata_url("https://h"),
            "https://h/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_url("https://h/"),
            "https://h/.well-known/oauth-protected-resource"
        );
        assert_eq!(
            metadata_url("https://h/mcp"),
            "https://h/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://h/public/mcp"),
            "https://h/.well-known/oauth-protected-resource/public/mcp"
        );
        assert_eq!(
            metadata_url("https://h:8443/mcp"),
            "https://h:8443/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_url("https://h/mcp?t=a"),
            "https://h/.well-known/oauth-protected-resource/mcp?t=a"
        );
        assert_eq!(
            metadata_url("https://h/mcp/"),
            "https://h/.well-known/oauth-protected-resource/mcp"
        );
    }
}
