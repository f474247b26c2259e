//! The scope rules per JSON-RPC method and per name: tools (`tools/call`), prompts
//! (`prompts/get`) and resources (`resources/read`, `resources/subscribe`, by URI
//! pattern), configured on the builder or registered by `#[require_scope]`.
//!
//! One set of rules with two readers: the middleware's policy (what a request body asks,
//! refused with a 403 before the MCP service runs) and the list filter of
//! `mcp_oauth::rmcp` (what a caller may see in `tools/list`, `prompts/list`,
//! `resources/list`), so a list never shows what the middleware would refuse. A leaf
//! beside [`crate::scope`]: the policy and the client both hold these rules.

pub(crate) mod uri;

use std::collections::HashMap;

use crate::scope;

/// Scopes one operation needs: all of them, or any one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requirement {
    pub(crate) scopes: Vec<String>,
    pub(crate) any: bool,
}

impl Requirement {
    pub(crate) fn is_met(&self, granted: &[String], hierarchy: bool) -> bool {
        let has = |s: &String| scope::grants(granted, s, hierarchy);
        if self.any {
            self.scopes.is_empty() || self.scopes.iter().any(has)
        } else {
            self.scopes.iter().all(has)
        }
    }
}

/// The kind of a named operation, and the method that performs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tool,
    Prompt,
    Resource,
}

impl Kind {
    /// The method whose rules also apply to this kind of name.
    pub(crate) const fn method(self) -> &'static str {
        match self {
            Self::Tool => "tools/call",
            Self::Prompt => "prompts/get",
            Self::Resource => "resources/read",
        }
    }
}

/// Every per-method and per-name rule.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    pub(crate) methods: HashMap<String, Vec<Requirement>>,
    pub(crate) tools: HashMap<String, Vec<Requirement>>,
    pub(crate) prompts: HashMap<String, Vec<Requirement>>,
    /// In configuration order; every pattern that matches applies (their union).
    pub(crate) resources: Vec<(uri::Pattern, Requirement)>,
}

impl Rules {
    pub(crate) fn is_empty(&self) -> bool {
        self.methods.is_empty()
            && self.tools.is_empty()
            && self.prompts.is_empty()
            && self.resources.is_empty()
    }

    /// Every requirement of every rule (for `scopes_supported`).
    pub(crate) fn all(&self) -> impl Iterator<Item = &Requirement> {
        self.methods
            .values()
            .chain(self.tools.values())
            .chain(self.prompts.values())
            .flatten()
            .chain(self.resources.iter().map(|(_, r)| r))
    }

    /// The rules of one name of `kind` (its method's not included). A resource URI is
    /// normalised first ([`uri::normalize`]); one without a single reading is an error
    /// when resource rules exist, and matches nothing when none do.
    pub(crate) fn for_name(
        &self,
        kind: Kind,
        name: &str,
    ) -> Result<Vec<&Requirement>, uri::Unclear> {
        let map = match kind {
            Kind::Tool => &self.tools,
            Kind::Prompt => &self.prompts,
            Kind::Resource => {
                if self.resources.is_empty() {
                    return Ok(Vec::new());
                }
                let uri = uri::normalize(name)?;
                return Ok(self
                    .resources
                    .iter()
                    .filter(|(p, _)| p.matches(&uri))
                    .map(|(_, r)| r)
                    .collect());
            }
        };
        Ok(map.get(name).into_iter().flatten().collect())
    }

    /// Whether a caller holding `granted` may use the name: its method's rules and its
    /// own are all met (a resource URI without a single reading: no).
    #[cfg(feature = "rmcp")]
    pub(crate) fn allows(
        &self,
        kind: Kind,
        name: &str,
        granted: &[String],
        hierarchy: bool,
    ) -> bool {
        let Ok(own) = self.for_name(kind, name) else {
            return false;
        };
        self.methods
            .get(kind.method())
            .into_iter()
            .flatten()
            .chain(own)
            .all(|r| r.is_met(granted, hierarchy))
    }
}

impl Rules {
    /// Whether a caller holding `granted` may read some URI of an RFC 6570 URI
    /// `template`: its method's rules are met, and no resource rule it does not meet
    /// covers every URI the template can make. The fixed part before the first `{`,
    /// normalised, starts every such URI; a prefix rule that part starts with covers
    /// them all. An exact rule covers no template with a variable; a template without
    /// one is its URI. A fixed part with no single reading hides nothing (the reads of
    /// its URIs are judged one by one).
    #[cfg(feature = "rmcp")]
    pub(crate) fn allows_template(
        &self,
        template: &str,
        granted: &[String],
        hierarchy: bool,
    ) -> bool {
        let Some((fixed, _)) = template.split_once('{') else {
            return self.allows(Kind::Resource, template, granted, hierarchy);
        };
        let mut method = self
            .methods
            .get(Kind::Resource.method())
            .into_iter()
            .flatten();
        if !method.all(|r| r.is_met(granted, hierarchy)) {
            return false;
        }
        let Ok(fixed) = uri::normalize(fixed) else {
            return true;
        };
        !self
            .resources
            .iter()
            .any(|(p, r)| p.covers_every_uri_from(&fixed) && !r.is_met(granted, hierarchy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(scopes: &[&str], any: bool) -> Requirement {
        Requirement {
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            any,
        }
    }

    #[test]
    fn any_and_all_requirements() {
        let granted = vec!["a".to_owned()];
        assert!(req(&["a", "b"], true).is_met(&granted, false));
        assert!(!req(&["a", "b"], false).is_met(&granted, false));
    }

    #[test]
    fn every_matching_resource_rule_applies_and_the_method_too() {
        let mut rules = Rules::default();
        let pattern = |p: &str| uri::Pattern::parse(p).unwrap_or_else(|e| panic!("{e}"));
        rules
            .resources
            .push((pattern("file:///*"), req(&["files:read"], false)));
        rules
            .resources
            .push((pattern("file:///secrets/*"), req(&["secrets"], false)));
        rules
            .methods
            .insert("resources/read".into(), vec![req(&["res"], false)]);
        let g = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let secret = "file:///public/../secrets/k";
        assert_eq!(
            rules.for_name(Kind::Resource, secret).map(|r| r.len()),
            Ok(2)
        );
        assert!(!rules.allows(Kind::Resource, secret, &g(&["files:read", "res"]), false));
        assert!(rules.allows(
            Kind::Resource,
            secret,
            &g(&["files:read", "secrets", "res"]),
            false
        ));
        assert!(!rules.allows(
            Kind::Resource,
            "file:///%2e%2e/x",
            &g(&["files:read", "secrets", "res"]),
            false
        ));
        assert!(rules.allows(Kind::Prompt, "p", &[], false));
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    #[test]
    fn a_template_is_hidden_only_when_a_refused_rule_covers_all_it_makes() {
        let mut rules = Rules::default();
        let pattern = |p: &str| uri::Pattern::parse(p).unwrap_or_else(|e| panic!("{e}"));
        let need = |s: &str| Requirement {
            scopes: vec![s.to_owned()],
            any: false,
        };
        rules
            .resources
            .push((pattern("file:///secrets/*"), need("secrets")));
        rules
            .resources
            .push((pattern("file:///exact"), need("exact")));
        let none: Vec<String> = Vec::new();
        let allows = |t: &str, g: &[String]| rules.allows_template(t, g, false);
        assert!(!allows("file:///secrets/{name}", &none));
        assert!(!allows("FILE:///public/../secrets/{name}", &none));
        assert!(allows("file:///secrets/{name}", &["secrets".to_owned()]));
        // Only some of its URIs fall under the rule: shown (each read is judged).
        assert!(allows("file:///secret{s}/x", &none));
        assert!(allows("file:///{path}", &none));
        // No variable: the template is one URI.
        assert!(!allows("file:///exact", &none));
        rules
            .methods
            .insert("resources/read".into(), vec![need("res")]);
        assert!(!rules.allows_template("note:///{n}", &none, false));
    }
}
