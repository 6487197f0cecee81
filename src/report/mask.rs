//! Secret values never reach any output but `--format patch`.
//!
//! The values to mask come from two places: the secrets the fixes report, and a scan of every
//! file of the run ([`secrets_in_value`], [`secrets_in_text`]) for values that look like
//! plaintext secrets wherever they are, so that a diff's context lines or a log line never
//! show one even when no fix is about it.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::catalog::secrets;

/// Replaces every known secret value (and its JSON-escaped form) by `****`.
#[derive(Clone, Debug, Default)]
pub struct Mask {
    secrets: Vec<String>,
}

pub const MASK: &str = "****";

impl Mask {
    pub fn new<I: IntoIterator<Item = String>>(secrets: I) -> Mask {
        let mut v: Vec<String> = Vec::new();
        for s in secrets {
            // Very short values would mask ordinary text everywhere; they are still never
            // quoted by messages, which name variables, not values.
            if s.chars().count() < 4 {
                continue;
            }
            let escaped = serde_json::to_string(&s).unwrap_or_default();
            let escaped = escaped.trim_matches('"').to_string();
            if escaped != s {
                v.push(escaped);
            }
            v.push(s);
        }
        // Longest first, so that a secret containing another is masked whole.
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        Mask { secrets: v }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

/// Values in a document that look like plaintext secrets: `NAME: value` entries whose name
/// marks a secret, `{name, value}` pairs (task definition environment), and values of the
/// shape of a credential anywhere.
pub fn secrets_in_value(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(v, &mut out, 0);
    out
}

fn walk(v: &Value, out: &mut Vec<String>, depth: usize) {
    // The document layer bounds depth already; this only keeps the walk finite.
    if depth > 1024 {
        return;
    }
    match v {
        Value::Object(map) => {
            let name = map
                .get("name")
                .or_else(|| map.get("Name"))
                .and_then(Value::as_str);
            let value = map
                .get("value")
                .or_else(|| map.get("Value"))
                .and_then(Value::as_str);
            if let (Some(n), Some(val)) = (name, value)
                && secrets::plaintext_secret(n, val).is_some()
            {
                out.push(val.to_string());
            }
            for (k, child) in map {
                if let Some(s) = scalar_text(child)
                    && secrets::plaintext_secret(k, &s).is_some()
                {
                    out.push(s);
                }
                walk(child, out, depth + 1);
            }
        }
        Value::Array(items) => {
            for i in items {
                walk(i, out, depth + 1);
            }
        }
        // A shell line in a value (`API_TOKEN=… curl …`), or a credential anywhere.
        Value::String(s) => out.extend(secrets_in_text(s)),
        _ => {}
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

static ASSIGNMENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b([a-z_][a-z0-9_.-]*)["']?\s*[:=]\s*["']?([^\s"',;]+)"#).ok()
});

/// Values in free text (a log, a shell line) that look like plaintext secrets: `NAME=value`
/// and `NAME: value` assignments whose name marks a secret, and credential-shaped values.
pub fn secrets_in_text(text: &str) -> Vec<String> {
    let mut out = credentials_in(text);
    if let Some(re) = ASSIGNMENT.as_ref() {
        for c in re.captures_iter(text) {
            if let (Some(name), Some(value)) = (c.get(1), c.get(2))
                && secrets::plaintext_secret(name.as_str(), value.as_str()).is_some()
            {
                out.push(value.as_str().to_string());
            }
        }
    }
    out
}

fn credentials_in(text: &str) -> Vec<String> {
    secrets::credential_matches(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_escaped_forms() {
        let m = Mask::new(["p\"ss-word".to_string(), "abc".to_string()]);
        assert_eq!(
            m.apply(r#"x: p"ss-word, y: "p\"ss-word", abc"#),
            r#"x: ****, y: "****", abc"#
        );
    }

    #[test]
    fn scans_documents_and_text_for_secrets() {
        let v = serde_json::json!({
            "env": {"variables": {"DB_PASSWORD": "hunter2-long", "NODE_ENV": "production"}},
            "environment": [{"name": "API_KEY", "value": "k-123456789"}],
            "note": "key AKIAIOSFODNN7EXAMPLE here",
        });
        let found = secrets_in_value(&v);
        for s in ["hunter2-long", "k-123456789", "AKIAIOSFODNN7EXAMPLE"] {
            assert!(found.iter().any(|f| f == s), "{s} in {found:?}");
        }
        assert!(!found.iter().any(|f| f == "production"));
        let t = secrets_in_text("[Container] export DB_PASSWORD=s3cr3t-val && run\n");
        assert!(t.iter().any(|f| f == "s3cr3t-val"), "{t:?}");
    }
}
