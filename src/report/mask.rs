//! Secret values never reach any output but `--format patch`.

/// Replaces every known secret value (and its JSON-escaped form) by `****`.
#[derive(Clone, Debug, Default)]
pub struct Mask {
    secrets: Vec<String>,
    /// Finds, in one pass over a text, which secrets occur in it at all: with thousands of
    /// secrets in a big run, testing each one against every line would be quadratic.
    finder: Option<aho_corasick::AhoCorasick>,
    /// Secrets that contain `*`: a replacement by `****` could make them appear, so they are
    /// always tried.
    starred: Vec<usize>,
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
        let finder = if v.is_empty() {
            None
        } else {
            aho_corasick::AhoCorasick::new(&v).ok()
        };
        let starred = (0..v.len()).filter(|&i| v[i].contains('*')).collect();
        Mask {
            secrets: v,
            finder,
            starred,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Each secret in turn, longest first, replaced wherever it occurs in the text as it is
    /// after the replacements before it.
    pub fn apply(&self, text: &str) -> String {
        let mut out = text.to_string();
        let Some(finder) = &self.finder else {
            return self.replace_in(out, 0..self.secrets.len());
        };
        // A secret without `*` can only occur after earlier replacements if it occurred
        // before them (a replacement inserts only `*`), so the secrets found in the original
        // text, plus those with `*`, are all that can change it, in the same order.
        let mut hits: Vec<usize> = self.starred.clone();
        for m in finder.find_overlapping_iter(text) {
            hits.push(m.pattern().as_usize());
        }
        if hits.is_empty() {
            return out;
        }
        hits.sort_unstable();
        hits.dedup();
        out = self.replace_in(out, hits);
        out
    }

    fn replace_in(&self, mut out: String, which: impl IntoIterator<Item = usize>) -> String {
        for i in which {
            let s = self.secrets[i].as_str();
            if out.contains(s) {
                out = out.replace(s, MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass search finds exactly what replacing each secret in turn would.
    #[test]
    fn same_result_as_trying_every_secret() {
        let secrets = [
            "CDEFGH",
            "ABCD",
            "a*b*c",
            "bc**",
            "x***",
            "ABCDEFGH",
            "GHIJ",
            "\"qu\"ote",
        ];
        let m = Mask::new(secrets.iter().map(|s| s.to_string()));
        let texts = [
            "ABCDEFGHIJ",
            "xABCDy CDEFGH",
            "a*b*c bc**** x***",
            "none here",
            "\"qu\"ote\" \\\"qu\\\"ote",
            "GHIJABCD****",
            "",
        ];
        for t in texts {
            let mut slow = t.to_string();
            for s in &m.secrets {
                if slow.contains(s.as_str()) {
                    slow = slow.replace(s.as_str(), MASK);
                }
            }
            assert_eq!(m.apply(t), slow, "{t}");
        }
    }

    #[test]
    fn masks_plain_and_escaped_forms() {
        let m = Mask::new(["p\"ss-word".to_string(), "abc".to_string()]);
        assert_eq!(
            m.apply(r#"x: p"ss-word, y: "p\"ss-word", abc"#),
            r#"x: ****, y: "****", abc"#
        );
    }
}
