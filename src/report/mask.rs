//! Secret values never reach any output but `--format patch`.

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
}
