//! Secret values never reach any output but `--format patch`.
//!
//! The values to mask come from two places: the secrets the fixes report, and a [`sweep`] of
//! every file of the run for values that look like plaintext secrets wherever they are, so that
//! a diff's context lines or a log line never show one even when no fix is about it.

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
    /// One searcher per secret, made once: a mask is tried on every line a unit prints.
    searchers: Vec<memchr::memmem::Finder<'static>>,
}

pub const MASK: &str = "****";

/// From how many secret forms a mask finds them with one automaton instead of one by one.
const FINDER_FROM: usize = 16;

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
        // A mask is made per unit and searches a few short texts: with a few secrets, trying
        // each is cheaper than building an automaton (which finds the same, see `apply`).
        let finder = if v.len() < FINDER_FROM {
            None
        } else {
            aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(&v)
                .ok()
        };
        let starred = (0..v.len()).filter(|&i| v[i].contains('*')).collect();
        let searchers = v
            .iter()
            .map(|s| memchr::memmem::Finder::new(s.as_bytes()).into_owned())
            .collect();
        Mask {
            secrets: v,
            finder,
            starred,
            searchers,
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
            if self.searchers[i].find(out.as_bytes()).is_some() {
                out = out.replace(self.secrets[i].as_str(), MASK);
            }
        }
        out
    }
}

/// Values in `text` that look like secrets, whatever file kind it is: `NAME: value` and
/// `NAME=value` pairs (YAML, JSON, environment dumps in logs), ECS-style
/// `{"name": …, "value": …}` pairs, literal `docker login -p` arguments, credential-shaped
/// tokens anywhere and private key bodies. Used to mask outputs even when no fix reported
/// the value; a false positive only costs a `****` in a report.
pub fn sweep(text: &str) -> Vec<String> {
    use std::borrow::Cow;
    use std::sync::LazyLock;

    use regex::Regex;

    use crate::catalog::secrets::{
        credential_in, is_reference, may_hold_credential, plaintext_secret,
        plaintext_secret_by_name,
    };

    static NAME_VALUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)["']?name["']?\s*:\s*["']?([A-Za-z0-9_.\-]+)["']?\s*,?\s*(?:-\s*)?["']?value["']?\s*:\s*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',}\]#]+)"#,
        )
        .ok()
    });
    static VALUE_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)"value"\s*:\s*("(?:[^"\\\n]|\\.)*")\s*,\s*"name"\s*:\s*"([A-Za-z0-9_.\-]+)""#,
        )
        .ok()
    });
    static LOGIN_ARG: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(r#"(?:^|\s)(?:-p|--password)(?:=|\s+)("[^"\n]*"|'[^'\n]*'|\S+)"#).ok()
    });

    // A quoted value without a backslash is its inner text: no copy is made of it.
    fn unquote(v: &str) -> Cow<'_, str> {
        if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
            if !v.contains('\\') {
                return Cow::Borrowed(&v[1..v.len() - 1]);
            }
            Cow::Owned(
                serde_json::from_str::<String>(v).unwrap_or_else(|_| v[1..v.len() - 1].to_string()),
            )
        } else if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
            Cow::Borrowed(&v[1..v.len() - 1])
        } else {
            Cow::Borrowed(v)
        }
    }

    let mut out: Vec<String> = Vec::new();
    // A text without any credential's word has no part with a credential's shape: its
    // values are judged by their names, and its tokens need no look. An unescaped value may
    // have characters the text does not, and is always looked at.
    let credentials = may_hold_credential(text);
    let push = |name: &str, raw: &str, out: &mut Vec<String>| {
        let value = unquote(raw);
        let secret = match &value {
            Cow::Borrowed(_) if !credentials => plaintext_secret_by_name(name, &value),
            _ => plaintext_secret(name, &value),
        };
        if secret.is_some() {
            out.push(value.into_owned());
        }
    };
    for (n, v) in pairs(text) {
        push(n, v, &mut out);
    }
    // Both patterns below need the word `value`, in any case.
    static WORDS: LazyLock<Option<aho_corasick::AhoCorasick>> = LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["value"])
            .ok()
    });
    let named_values = WORDS.as_ref().is_none_or(|w| w.is_match(text));
    // Each match is found first, then its groups are asked of the match alone: the same
    // groups (nothing in these patterns looks outside the match) for a bounded search.
    if let Some(re) = NAME_VALUE.as_ref().filter(|_| named_values) {
        for m in re.find_iter(text) {
            if let Some(c) = re.captures(m.as_str())
                && let (Some(n), Some(v)) = (c.get(1), c.get(2))
            {
                push(n.as_str(), v.as_str(), &mut out);
            }
        }
    }
    if let Some(re) = VALUE_NAME.as_ref().filter(|_| named_values) {
        for m in re.find_iter(text) {
            if let Some(c) = re.captures(m.as_str())
                && let (Some(v), Some(n)) = (c.get(1), c.get(2))
            {
                push(n.as_str(), v.as_str(), &mut out);
            }
        }
    }
    // Each of the line scans below can only find something in a text that has its word.
    if let Some(re) = LOGIN_ARG.as_ref().filter(|_| text.contains("login")) {
        for line in text.lines().filter(|l| l.contains("login")) {
            for c in re.captures_iter(line) {
                if let Some(v) = c.get(1) {
                    let value = unquote(v.as_str());
                    if !is_reference(&value) && !value.starts_with('$') && value != "****" {
                        out.push(value.into_owned());
                    }
                }
            }
        }
    }
    if credentials {
        for token in tokens(text) {
            if credential_in(token).is_some() {
                out.push(token.to_string());
            }
        }
    }
    let mut in_key = false;
    let key_lines = if text.contains("-----BEGIN") {
        text.lines()
    } else {
        "".lines()
    };
    for line in key_lines {
        let t = line
            .trim()
            .trim_matches(|c| c == '"' || c == ',' || c == '\'');
        if t.contains("-----BEGIN") && t.contains("PRIVATE KEY-----") {
            in_key = true;
        } else if t.contains("-----END") {
            in_key = false;
        } else if in_key && t.len() >= 8 {
            out.push(t.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Classes of a byte for the sweep's scanners, one table lookup each.
const TOKEN: u8 = 1; // `[A-Za-z0-9_\-]`
const NAME: u8 = 2; // `[A-Za-z0-9_.\-]`
const PAIR_START: u8 = 4; // `["'_A-Za-z]`
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let (alpha, digit) = (b.is_ascii_alphabetic(), b.is_ascii_digit());
        if alpha || digit || b == b'_' || b == b'-' {
            t[c] |= TOKEN | NAME;
        }
        if b == b'.' {
            t[c] |= NAME;
        }
        if alpha || b == b'_' || b == b'"' || b == b'\'' {
            t[c] |= PAIR_START;
        }
        c += 1;
    }
    t
};

/// `NAME: value` and `NAME=value` pairs, as `(name, raw value)`: every match, in order, of
///
/// ```text
/// ["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*[:=][ \t]*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',}\]#]+)
/// ```
///
/// searched from left to right as a regex would (tested against that regex), in one pass
/// over the bytes: a search for it with a regex engine was a tenth of a dirty run.
fn pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    let b = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < b.len() {
            // Only a quote or a name's first character can start a pair.
            if CLASS[b[at] as usize] & PAIR_START == 0 {
                at += 1;
                continue;
            }
            match pair_at(text, at) {
                Ok((name, value)) => {
                    at = value.end;
                    return Some((&text[name], &text[value]));
                }
                Err(next) => at = next,
            }
        }
        None
    })
}

/// The pair that starts at byte `s`, as the byte ranges of its name and value, or where the
/// next one may start. No match can start inside a name that failed: from any of its
/// characters the name ends at the same place and the rest fails the same way.
fn pair_at(
    text: &str,
    s: usize,
) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>), usize> {
    let b = text.as_bytes();
    let is_quote = |c: u8| c == b'"' || c == b'\'';
    let is_name = |c: u8| CLASS[c as usize] & NAME != 0;
    let is_blank = |c: u8| c == b' ' || c == b'\t';
    let mut i = s;
    if is_quote(b[i]) {
        i += 1;
    }
    if !b
        .get(i)
        .is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_')
    {
        return Err(s + 1);
    }
    let name_start = i;
    while b.get(i).is_some_and(|&c| is_name(c)) {
        i += 1;
    }
    let name = name_start..i;
    let fail = Err(i);
    if b.get(i).is_some_and(|&c| is_quote(c)) {
        i += 1;
    }
    while b.get(i).is_some_and(|&c| is_blank(c)) {
        i += 1;
    }
    if !b.get(i).is_some_and(|&c| c == b':' || c == b'=') {
        return fail;
    }
    i += 1;
    while b.get(i).is_some_and(|&c| is_blank(c)) {
        i += 1;
    }
    let value_start = i;
    match b.get(i) {
        // `"(?:[^"\\\n]|\\.)*"`: up to the first unescaped quote, on one line (`.` is not a
        // newline); bytes of a multi-byte character are never `"`, `\\` or a newline.
        Some(b'"') => {
            i += 1;
            loop {
                match b.get(i) {
                    Some(b'"') => break,
                    Some(b'\\') if b.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
                    Some(b'\\' | b'\n') | None => return fail,
                    Some(_) => i += 1,
                }
            }
            i += 1;
        }
        // `'[^'\n]*'`
        Some(b'\'') => match memchr::memchr2(b'\'', b'\n', &b[i + 1..]) {
            Some(k) if b[i + 1 + k] == b'\'' => i += k + 2,
            _ => return fail,
        },
        // `[^\s"',}\]#]+`, where `\s` is Unicode white space.
        _ => {
            for c in text[i..].chars() {
                if c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '}' | ']' | '#') {
                    break;
                }
                i += c.len_utf8();
            }
            if i == value_start {
                return fail;
            }
        }
    }
    Ok((name, value_start..i))
}

/// Runs of at least 16 token characters (`[A-Za-z0-9_\-]{16,}`, each run whole): where a
/// credential can be, whatever surrounds it.
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let b = text.as_bytes();
    let is_token = |c: u8| CLASS[c as usize] & TOKEN != 0;
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < b.len() {
            while at < b.len() && !is_token(b[at]) {
                at += 1;
            }
            let start = at;
            while at < b.len() && is_token(b[at]) {
                at += 1;
            }
            if at - start >= 16 {
                return Some(&text[start..at]);
            }
        }
        None
    })
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
        // As few secrets as a unit has (tried one by one), and as many as a whole run (found
        // with the automaton first).
        let few = Mask::new(secrets.iter().map(|s| s.to_string()));
        assert!(few.finder.is_none());
        let fillers = (0..FINDER_FROM).map(|i| format!("filler-{i}-not-in-any-text"));
        let many = Mask::new(secrets.iter().map(|s| s.to_string()).chain(fillers));
        assert!(many.finder.is_some());
        let texts = [
            "ABCDEFGHIJ",
            "xABCDy CDEFGH",
            "a*b*c bc**** x***",
            "none here",
            "\"qu\"ote\" \\\"qu\\\"ote",
            "GHIJABCD****",
            "",
        ];
        for m in [&few, &many] {
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
    }

    #[test]
    fn sweep_finds_pairs_tokens_and_login_arguments() {
        let yaml = "env:\n  variables:\n    DB_PASSWORD: \"s3cr3t-value!\"\n    TOKEN_URL: \"https://x/token\"\n    PASSWORD_MIN_LENGTH: \"12\"\n    REF: $OTHER\ncmd: docker login -u me -p hunter2hunter2 && echo ok\n";
        let found = sweep(yaml);
        assert!(found.contains(&"s3cr3t-value!".to_string()), "{found:?}");
        assert!(found.contains(&"hunter2hunter2".to_string()), "{found:?}");
        assert!(!found.iter().any(|v| v.contains("https")), "{found:?}");
        assert!(!found.contains(&"12".to_string()));
        let json = r#"{"environment": [{"name": "JWT_SECRET", "value": "abc\"def123"}], "OAuthToken": "x"}"#;
        let found = sweep(json);
        assert!(found.contains(&"abc\"def123".to_string()), "{found:?}");
        let log = "key AKIAIOSFODNN7EXAMPLE here";
        assert_eq!(sweep(log), vec!["AKIAIOSFODNN7EXAMPLE".to_string()]);
    }

    /// `credential_in` as it was before: each shape tried in turn.
    fn reference_credential(v: &str) -> Option<&'static str> {
        use std::sync::LazyLock;

        static SHAPES: LazyLock<Vec<(&'static str, regex::Regex)>> = LazyLock::new(|| {
            crate::catalog::secrets::VALUE_PATTERNS
                .iter()
                .map(|(w, p)| (*w, regex::Regex::new(p).expect("pattern")))
                .collect()
        });
        SHAPES.iter().find(|(_, r)| r.is_match(v)).map(|(w, _)| *w)
    }

    /// `sweep` as it was before it shared one search among its patterns: every pattern
    /// tried in turn, each credential shape tried in turn.
    fn reference_sweep(text: &str) -> Vec<String> {
        use regex::Regex;

        use crate::catalog::secrets::{is_reference, plaintext_secret};

        let re = |p: &str| Regex::new(p).expect("pattern");
        let pair = re(
            r#"["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*[:=][ \t]*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',}\]#]+)"#,
        );
        let name_value = re(
            r#"(?i)["']?name["']?\s*:\s*["']?([A-Za-z0-9_.\-]+)["']?\s*,?\s*(?:-\s*)?["']?value["']?\s*:\s*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',}\]#]+)"#,
        );
        let value_name = re(
            r#"(?i)"value"\s*:\s*("(?:[^"\\\n]|\\.)*")\s*,\s*"name"\s*:\s*"([A-Za-z0-9_.\-]+)""#,
        );
        let login = re(r#"(?:^|\s)(?:-p|--password)(?:=|\s+)("[^"\n]*"|'[^'\n]*'|\S+)"#);
        let token = re(r"[A-Za-z0-9_\-]{16,}");
        let unquote = |v: &str| {
            if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                serde_json::from_str::<String>(v).unwrap_or_else(|_| v[1..v.len() - 1].to_string())
            } else if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
                v[1..v.len() - 1].to_string()
            } else {
                v.to_string()
            }
        };
        let mut out: Vec<String> = Vec::new();
        let mut push = |name: &str, raw: &str| {
            let value = unquote(raw);
            if plaintext_secret(name, &value).is_some() {
                out.push(value);
            }
        };
        for c in pair.captures_iter(text) {
            push(&c[1], &c[2]);
        }
        for c in name_value.captures_iter(text) {
            push(&c[1], &c[2]);
        }
        for c in value_name.captures_iter(text) {
            push(&c[2], &c[1]);
        }
        for line in text.lines().filter(|l| l.contains("login")) {
            for c in login.captures_iter(line) {
                let value = unquote(&c[1]);
                if !is_reference(&value) && !value.starts_with('$') && value != "****" {
                    out.push(value);
                }
            }
        }
        for m in token.find_iter(text) {
            if reference_credential(m.as_str()).is_some() {
                out.push(m.as_str().to_string());
            }
        }
        let mut in_key = false;
        for line in text.lines() {
            let t = line
                .trim()
                .trim_matches(|c| c == '"' || c == ',' || c == '\'');
            if t.contains("-----BEGIN") && t.contains("PRIVATE KEY-----") {
                in_key = true;
            } else if t.contains("-----END") {
                in_key = false;
            } else if in_key && t.len() >= 8 {
                out.push(t.to_string());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The one-search sweep finds what trying every pattern in turn finds, on the examples,
    /// the shared real-world files and corpus, and texts full of credential shapes.
    #[test]
    fn sweep_finds_what_every_pattern_in_turn_finds() {
        let mut texts = crate::testing::shared_texts();
        assert!(texts.len() > 20, "{} texts", texts.len());
        let shapes = [
            "AKIAIOSFODNN7EXAMPLE",
            "ASIAY34FZKBOKMUTVV7A",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "gho_0123456789abcdefghijABCDEFGHIJ01234",
            "github_pat_11ABCDEFG0123456789_abcdefghij",
            "xoxb-1234567890-abcdefghij",
            "glpat-abcdefghij0123456789",
            "sk_live_0123456789abcdefgh",
            "rk_live_0123456789abcdef",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
            "xAKIAIOSFODNN7EXAMPLE",
            "éAKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLEX",
        ];
        for (i, s) in shapes.iter().enumerate() {
            texts.push(format!(
                "env:\n  variables:\n    V{i}: {s}\n    API_TOKEN: \"{s}\"\nphases:\n  build:\n    commands:\n      - echo {s} && docker login -u x -p {s}\n"
            ));
            texts.push(format!(
                r#"{{"environment": [{{"name": "N{i}", "value": "{s}"}}, {{"value": "{s}", "name": "DB_PASSWORD"}}]}}"#
            ));
        }
        let pair = regex::Regex::new(
            r#"["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?[ \t]*[:=][ \t]*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"',}\]#]+)"#,
        )
        .expect("pattern");
        let token = regex::Regex::new(r"[A-Za-z0-9_\-]{16,}").expect("pattern");
        // Texts that end or break inside each part of a pair.
        for t in [
            "a",
            "a:",
            "\"a\"",
            "'a' =",
            "a: \"x",
            "a: \"x\\",
            "a: \"x\\\n\"",
            "a: 'x",
            "a: 'x\ny'",
            "9a: b",
            "-a=b",
            "a.b-c=d=e",
            "x\"a\": \"v\\\"w\" b: c",
            "é: x a:é",
            "a:\u{a0}b c:d\u{2003}e",
            "k: \"é\\é\" n: v",
            "'a': 'b' 'c'= d",
            "a :b",
            "a\t:\tb",
            "a : # c",
            "a: ,b",
            "a: x}y",
            "_:_ __:__",
            "a=\"\" b=''",
            "abcdefghijklmnop-q_r ABCDEFGHIJKLMNO",
        ] {
            texts.push(t.to_string());
        }
        let (mut pairs_seen, mut tokens_seen) = (0, 0);
        for t in &texts {
            let want: Vec<(&str, &str)> = pair
                .captures_iter(t)
                .map(|c| {
                    let (n, v) = (c.get(1).expect("name"), c.get(2).expect("value"));
                    (n.as_str(), v.as_str())
                })
                .collect();
            assert_eq!(pairs(t).collect::<Vec<_>>(), want, "{t}");
            pairs_seen += want.len();
            let want: Vec<&str> = token.find_iter(t).map(|m| m.as_str()).collect();
            assert_eq!(tokens(t).collect::<Vec<_>>(), want, "{t}");
            tokens_seen += want.len();
        }
        assert!(pairs_seen > 1000, "{pairs_seen} pairs");
        assert!(tokens_seen > 100, "{tokens_seen} tokens");
        let mut found = 0;
        let words = regex::Regex::new(r"[^\s\x22',]+|[^\n]+").expect("pattern");
        for t in &texts {
            for w in words.find_iter(t) {
                let w = w.as_str();
                assert_eq!(
                    crate::catalog::secrets::credential_in(w),
                    reference_credential(w),
                    "{w}"
                );
            }
            let new = sweep(t);
            assert_eq!(new, reference_sweep(t), "{t}");
            found += new.len();
        }
        assert!(found > 30, "{found} values found");
    }

    #[test]
    fn masks_plain_and_escaped_forms() {
        let m = Mask::new(["p\"ss-word".to_string(), "abc".to_string()]);
        assert_eq!(
            m.apply(r#"x: p"ss-word, y: "p\"ss-word", abc"#),
            r#"x: ****, y: "****", abc"#
        );
    }

    #[test]
    fn sweeps_documents_and_logs_for_secrets() {
        let yaml = "env:\n  variables:\n    DB_PASSWORD: hunter2-long\n    NODE_ENV: production\n";
        let json = r#"{"environment": [{"name": "API_KEY", "value": "k-123456789"}], "note": "key AKIAIOSFODNN7EXAMPLE here"}"#;
        let found: Vec<String> = [yaml, json].iter().flat_map(|t| sweep(t)).collect();
        for s in ["hunter2-long", "k-123456789", "AKIAIOSFODNN7EXAMPLE"] {
            assert!(found.iter().any(|f| f == s), "{s} in {found:?}");
        }
        assert!(!found.iter().any(|f| f == "production"));
        let t = sweep("[Container] export DB_PASSWORD=s3cr3t-val && run\n");
        assert!(t.iter().any(|f| f == "s3cr3t-val"), "{t:?}");
    }
}
