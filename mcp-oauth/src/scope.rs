//! Scope tokens (RFC 6749 §3.3) and the required-scope decision (OAuth 2.1 §5.2).

/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3).
pub(crate) fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Splits a space-delimited `scope` string; empty and duplicate entries are dropped.
pub(crate) fn split(scope: &str) -> Vec<String> {
    let mut out = Vec::new();
    extend_unique(&mut out, scope.split(' '));
    out
}

/// Appends each non-empty scope of `more` that `list` does not hold yet, in order: the
/// one place scope lists are deduplicated.
pub(crate) fn extend_unique<'a>(list: &mut Vec<String>, more: impl IntoIterator<Item = &'a str>) {
    for s in more {
        if !s.is_empty() && !list.iter().any(|o| o == s) {
            list.push(s.to_owned());
        }
    }
}

/// Is `required` granted? Exactly (case-sensitive, RFC 6749 §3.3), or, with the scope
/// hierarchy on, through a granted `prefix:*` covering `prefix:anything` (MCP 2026-07-28:
/// servers MUST honour scope hierarchies).
pub(crate) fn grants(granted: &[String], required: &str, hierarchy: bool) -> bool {
    granted.iter().any(|g| {
        g == required
            || (hierarchy
                && g.strip_suffix('*').is_some_and(|prefix| {
                    prefix.ends_with(':')
                        && required.starts_with(prefix)
                        && required.len() > prefix.len()
                }))
    })
}

/// Whether every scope in `required` is granted.
pub(crate) fn grants_all(required: &[String], granted: &[String], hierarchy: bool) -> bool {
    required.iter().all(|r| grants(granted, r, hierarchy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_token_grammar_follows_rfc6749() {
        assert!(is_scope_token("tools:call"));
        assert!(is_scope_token("a!#[]~"));
        assert!(!is_scope_token(""));
        assert!(!is_scope_token("a b"));
        assert!(!is_scope_token("a\"b"));
        assert!(!is_scope_token("a\\b"));
        assert!(!is_scope_token("é"));
    }

    #[test]
    fn split_drops_empty_and_duplicate_scopes() {
        assert_eq!(split("  a b  a c"), vec!["a", "b", "c"]);
    }

    #[test]
    fn scopes_are_case_sensitive() {
        let granted = vec!["Tools:Call".to_owned()];
        assert!(!grants_all(&["tools:call".to_owned()], &granted, false));
        assert!(grants_all(&["Tools:Call".to_owned()], &granted, false));
    }

    #[test]
    fn a_wildcard_grants_its_subtree_only_with_the_hierarchy_on() {
        let granted = vec!["tools:*".to_owned()];
        assert!(grants(&granted, "tools:call", true));
        assert!(grants(&granted, "tools:admin:delete", true));
        assert!(!grants(&granted, "tools:call", false));
        assert!(!grants(&granted, "tools:", true));
        assert!(!grants(&granted, "toolsx:call", true));
        assert!(!grants(&granted, "files:read", true));
        assert!(!grants(&["*".to_owned()], "files:read", true));
    }
}
