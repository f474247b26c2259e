//! The key file (`MCP_OAUTH_API_KEYS_FILE`, or the value of `MCP_OAUTH_API_KEYS`): one
//! JSON object per line,
//!
//! ```text
//! # CI, rotated 2026-11: the old key stays until every runner has the new one
//! {"principal":"ci-bot","sha256":"<64 hex digits>","scopes":["tools:call"],"expires_at":"2027-01-01T00:00:00Z"}
//! ```
//!
//! `principal` and `sha256` required, `scopes` (an array, or one space-separated string)
//! and `expires_at` (RFC 3339) optional; blank lines and lines starting with `#` are
//! skipped. Every bad line is reported with its number; no problem quotes a line, so a
//! key pasted by mistake is never repeated in a log.

use serde_json::Value;

use super::{ApiKey, MAX_API_KEYS, time};

/// The keys of `text`, and a problem for each line that is not one.
pub(crate) fn parse(text: &str) -> (Vec<ApiKey>, Vec<String>) {
    let (mut keys, mut problems) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if keys.len() == MAX_API_KEYS {
            problems.push(format!("more than {MAX_API_KEYS} keys"));
            break;
        }
        match parse_line(line) {
            Ok(key) => keys.push(key),
            Err(why) => problems.push(format!("line {}: {why}", i + 1)),
        }
    }
    (keys, problems)
}

fn parse_line(line: &str) -> Result<ApiKey, String> {
    // serde_json's message is not used: it may quote what it read.
    let value: Value = serde_json::from_str(line)
        .map_err(|e| format!("not a JSON object (error at column {})", e.column()))?;
    let Value::Object(members) = value else {
        return Err("not a JSON object".into());
    };
    let text = |name: &str| match members.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{name}` must be a string")),
    };
    let principal = text("principal")?.ok_or("`principal` is required")?;
    let sha256 = text("sha256")?.ok_or("`sha256` is required")?;
    let mut key = ApiKey::new(principal, sha256);
    match members.get("scopes") {
        None => {}
        Some(Value::String(s)) => key = key.scopes(s.split(' ').filter(|s| !s.is_empty())),
        Some(Value::Array(items)) => {
            let scopes: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            key = key.scopes(scopes.ok_or("`scopes` must hold strings only")?);
        }
        Some(_) => return Err("`scopes` must be an array of strings".into()),
    }
    if let Some(at) = text("expires_at")? {
        let at = time::parse(&at)
            .ok_or("`expires_at` must be an RFC 3339 date-time, e.g. 2027-01-01T00:00:00Z")?;
        key = key.expires_at(at);
    }
    if let Some(other) = members
        .keys()
        .find(|k| !["principal", "sha256", "scopes", "expires_at"].contains(&k.as_str()))
    {
        // A name is shown only when it looks like a misspelt member (`scope`), never
        // when it could be a key pasted as a name.
        let shown = other.len() <= 16 && other.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        return Err(if shown {
            format!("unknown member `{other}` (known: principal, sha256, scopes, expires_at)")
        } else {
            "an unknown member (known: principal, sha256, scopes, expires_at)".into()
        });
    }
    key.check()?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash() -> String {
        ApiKey::hash("mcp_sk_one")
    }

    #[test]
    fn keys_comments_and_blank_lines() {
        let text = format!(
            "# ci\n\n{{\"principal\":\"ci-bot\",\"sha256\":\"{h}\",\"scopes\":[\"a\",\"b\"],\"expires_at\":\"2027-01-01T00:00:00Z\"}}\n  {{\"principal\":\"ops\",\"sha256\":\"{H}\",\"scopes\":\"c d\"}}\r\n",
            h = hash(),
            H = ApiKey::hash("mcp_sk_two").to_uppercase()
        );
        let (keys, problems) = parse(&text);
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].scopes, ["a", "b"]);
        assert_eq!(keys[0].to_line(), text.lines().nth(2).unwrap());
        assert_eq!(keys[1].principal(), "ops");
        assert_eq!(keys[1].scopes, ["c", "d"]);
        assert_eq!(keys[1].expires_at, None);
    }

    #[test]
    fn every_bad_line_is_reported_by_number_without_its_content() {
        let h = hash();
        let secret = "mcp_sk_SECRETSECRETSECRET";
        let lines = [
            format!(r#"{{"principal":"a","sha256":"{secret}"}}"#),
            format!(r#"{{"principal":"a","key":"{secret}"}}"#),
            format!(r#"{{"principal":"a","sha256":"{h}","key":"{secret}"}}"#),
            format!(r#"{{"principal":"a","sha256":"{h}","{secret}":1}}"#),
            format!(r#"{{"principal":"a","sha256":"{h}","scopes":["{secret} x"]}}"#),
            secret.to_owned(),
            format!(r#"["{secret}"]"#),
            format!(r#"{{"principal":"","sha256":"{h}"}}"#),
            format!(r#"{{"principal":"a","sha256":"{h}","expires_at":"tomorrow"}}"#),
            format!(r#"{{"principal":"a","sha256":"{h}","scopes":[1]}}"#),
            format!(r#"{{"principal":7,"sha256":"{h}"}}"#),
        ];
        let (keys, problems) = parse(&lines.join("\n"));
        assert!(keys.is_empty());
        assert_eq!(problems.len(), lines.len(), "{problems:#?}");
        for (i, p) in problems.iter().enumerate() {
            assert!(p.starts_with(&format!("line {}: ", i + 1)), "{p}");
            assert!(!p.contains("SECRET"), "{p}");
        }
        assert!(problems[0].contains("never the key itself"));
        assert!(problems[1].contains("`sha256` is required"));
        assert!(problems[2].contains("unknown member `key`"));
        assert!(problems[3].contains("an unknown member"));
        assert!(problems[8].contains("RFC 3339"));
    }
}
