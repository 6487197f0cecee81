//! What counts as a plaintext secret, shared by every fix that moves or hides secrets
//! (buildspec variables, task definition environment, pipeline tokens, build commands).
//!
//! A value is a secret when its *name* says so (`DB_PASSWORD`, `JWT_SECRET`, `API_KEY`…) and
//! the value is a literal, or when the *value* has the shape of a credential whatever its name
//! (AWS access keys, GitHub and Slack tokens, private key blocks). Names that merely mention a
//! secret (`TOKEN_URL`, `PASSWORD_MIN_LENGTH`) and values that are references
//! (`arn:aws:secretsmanager:…`, `$VAR`, `{{resolve:…}}`) are not.

use std::sync::LazyLock;

use regex::Regex;

/// Words in a variable name that mark its value as secret.
const SECRET_WORDS: [&str; 12] = [
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CLIENT_SECRET",
    "CREDENTIALS",
    "AUTH_KEY",
];

/// Name endings that make a variable *about* a secret rather than the secret itself.
const NOT_SECRET_SUFFIXES: [&str; 22] = [
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HOST",
    "_PATH",
    "_FILE",
    "_ARN",
    "_NAME",
    "_TYPE",
    "_LENGTH",
    "_TTL",
    "_EXPIRY",
    "_EXPIRES",
    "_TIMEOUT",
    "_HEADER",
    "_ENABLED",
    "_VERSION",
    "_REGION",
    "_POLICY",
    "_ROTATION",
    "_ID_NAME",
    "_SECONDS",
];

/// Why a value is considered secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The variable's name says so.
    Name,
    /// The value has the shape of a credential (the str names it).
    Value(&'static str),
}

/// Credential shapes, first match names the value.
pub(crate) const VALUE_PATTERNS: [(&str, &str); 7] = [
    ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        "a GitHub token",
        r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{36}\b",
    ),
    ("a GitHub token", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    ("a Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    ("a GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    ("a Stripe key", r"\b[sr]k_live_[A-Za-z0-9]{16,}"),
    ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
];

/// Literal words of [`VALUE_PATTERNS`], each with the index of its pattern: every match of a
/// pattern contains one of its words (the prefixes of the access key and the tokens, and the
/// start of the key block, read off the patterns above).
const CREDENTIAL_WORDS: [(&str, usize); 13] = [
    ("AKIA", 0),
    ("ASIA", 0),
    ("ghp_", 1),
    ("gho_", 1),
    ("ghs_", 1),
    ("ghu_", 1),
    ("ghr_", 1),
    ("github_pat_", 2),
    ("xox", 3),
    ("glpat-", 4),
    ("sk_live_", 5),
    ("rk_live_", 5),
    ("-----BEGIN ", 6),
];

/// The length of the shortest text that one of [`VALUE_PATTERNS`] matches.
const SHORTEST_CREDENTIAL: usize = 15;

/// Finds the words of [`CREDENTIAL_WORDS`], every occurrence (overlapping ones too).
static CREDENTIAL_WORD_FINDER: LazyLock<Option<aho_corasick::AhoCorasick>> =
    LazyLock::new(|| aho_corasick::AhoCorasick::new(CREDENTIAL_WORDS.iter().map(|(w, _)| w)).ok());

/// Tells whether a text has one of [`CREDENTIAL_WORDS`]. Leftmost-first matching finds a
/// word where the standard kind does (whether there is one does not depend on the kind), and
/// lets the search skip ahead with a vectorised prefilter: texts are swept whole.
static CREDENTIAL_WORD_TEST: LazyLock<Option<aho_corasick::AhoCorasick>> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(CREDENTIAL_WORDS.iter().map(|(w, _)| w))
        .ok()
});

/// Whether some part of `text` may have a credential's shape: `false` when it has none of
/// their words, and then no value taken from it has one ([`credential_in`] is `None`).
pub fn may_hold_credential(text: &str) -> bool {
    text.len() >= SHORTEST_CREDENTIAL
        && CREDENTIAL_WORD_TEST
            .as_ref()
            .is_none_or(|w| w.is_match(text))
}

/// Whether a variable name marks a secret.
pub fn is_secret_name(name: &str) -> bool {
    // Names are compared upper-cased with `-` read as `_`; a short name is folded on the
    // stack (this runs for every key of every file swept).
    const SHORT: usize = 64;
    const FOLD: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            t[c] = if c as u8 == b'-' {
                b'_'
            } else {
                (c as u8).to_ascii_uppercase()
            };
            c += 1;
        }
        t
    };
    let fold = |b: u8| FOLD[b as usize];
    let mut buf = [0u8; SHORT];
    let long: Vec<u8>;
    let upper: &[u8] = if name.len() <= SHORT {
        for (d, &b) in buf.iter_mut().zip(name.as_bytes()) {
            *d = fold(b);
        }
        &buf[..name.len()]
    } else {
        long = name.bytes().map(fold).collect();
        &long
    };
    // Names are short: the words are tried where their first letter is (most names have
    // none of the words, and need no look at their ends).
    const FIRST: [bool; 256] = {
        let mut first = [false; 256];
        let mut i = 0;
        while i < SECRET_WORDS.len() {
            first[SECRET_WORDS[i].as_bytes()[0] as usize] = true;
            i += 1;
        }
        first
    };
    let has_word = (0..upper.len()).any(|i| {
        FIRST[upper[i] as usize]
            && SECRET_WORDS
                .iter()
                .any(|w| upper[i..].starts_with(w.as_bytes()))
    });
    let secret = has_word
        || upper == b"PASS"
        || upper.ends_with(b"_PASS")
        || upper.ends_with(b"_PWD")
        || upper == b"PWD_HASH";
    secret
        && !NOT_SECRET_SUFFIXES
            .iter()
            .any(|s| upper.ends_with(s.as_bytes()))
}

/// The credential shape a value has, if any.
pub fn credential_in(value: &str) -> Option<&'static str> {
    // The shortest text any shape matches is a Slack token (`xoxb-` and ten more): most
    // values (names, numbers, regions) are shorter and need no search.
    if value.len() < SHORTEST_CREDENTIAL {
        return None;
    }
    // Every match of a shape contains its word: only the shapes whose words the value has
    // are tried, in their order (most long values are image names, commands and URLs, and
    // have none).
    static SHAPES: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
        VALUE_PATTERNS
            .iter()
            .map(|(_, p)| Regex::new(p).ok())
            .collect()
    });
    let Some(words) = CREDENTIAL_WORD_FINDER.as_ref() else {
        // Not reached: the words are constants (tested).
        return VALUE_PATTERNS
            .iter()
            .find(|(_, p)| Regex::new(p).is_ok_and(|r| r.is_match(value)))
            .map(|(what, _)| *what);
    };
    // A plain search first: it skips ahead with a prefilter, the overlapping one cannot.
    if !may_hold_credential(value) {
        return None;
    }
    let mut tried = [false; VALUE_PATTERNS.len()];
    for m in words.find_overlapping_iter(value) {
        tried[CREDENTIAL_WORDS[m.pattern().as_usize()].1] = true;
    }
    (0..VALUE_PATTERNS.len())
        .filter(|&i| tried[i])
        .find(|&i| SHAPES[i].as_ref().is_some_and(|r| r.is_match(value)))
        .map(|i| VALUE_PATTERNS[i].0)
}

/// Whether a value points at a secret instead of being one.
pub fn is_reference(value: &str) -> bool {
    let v = value.trim();
    v.starts_with("arn:aws")
        || v.starts_with("{{resolve:")
        || v.starts_with("${")
        || (v.starts_with('$')
            && v[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || v.starts_with("/aws/reference/")
        || v.starts_with("ssm:")
}

/// Values that fill a secret's slot without being one: empty, placeholders, booleans, small
/// numbers, masks.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    const WORDS: [&str; 10] = [
        "true",
        "false",
        "yes",
        "no",
        "none",
        "null",
        "changeme",
        "change-me",
        "xxx",
        "todo",
    ];
    v.is_empty()
        || v == "****"
        || v.chars().all(|c| c == '*')
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with("{{") && v.ends_with("}}"))
        || WORDS.iter().any(|w| v.eq_ignore_ascii_case(w))
        || (v.len() <= 6 && v.chars().all(|c| c.is_ascii_digit()))
        || is_template_token(v)
}

/// A whole value that a template engine or a `sed` fills in: `{name}`, `%NAME%`, `#{name}`,
/// `__NAME__`, `@NAME@`, `[Your token]`.
fn is_template_token(v: &str) -> bool {
    let inner_ok = |inner: &str| {
        !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | ':'))
    };
    let wrapped = |open: &str, close: &str| {
        v.len() > open.len() + close.len()
            && v.strip_prefix(open)
                .and_then(|r| r.strip_suffix(close))
                .is_some_and(inner_ok)
    };
    wrapped("{", "}")
        || wrapped("%", "%")
        || wrapped("#{", "}")
        || wrapped("__", "__")
        || wrapped("@", "@")
        || wrapped("[", "]")
}

/// Obvious stand-ins: `your-token-here`, `dummy`, `placeholder`, `xxxxxxxx`.
fn is_dummy(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let words = ["your", "dummy", "placeholder", "replace", "fake"];
    words.iter().any(|w| lower.contains(w))
        || (lower.len() >= 3 && lower.chars().all(|c| c == 'x' || c == '*' || c == '-'))
}

/// Whether `name = value` holds a plaintext secret, and why.
pub fn plaintext_secret(name: &str, value: &str) -> Option<Reason> {
    plaintext_secret_with(name, value, credential_in(value))
}

/// [`plaintext_secret`] of a value known to have no credential's shape (taken from a text
/// that [`may_hold_credential`] says has none).
pub fn plaintext_secret_by_name(name: &str, value: &str) -> Option<Reason> {
    plaintext_secret_with(name, value, None)
}

fn plaintext_secret_with(
    name: &str,
    value: &str,
    credential: Option<&'static str>,
) -> Option<Reason> {
    // Most pairs have neither a secret's name nor a credential's shape: both tests are cheap,
    // and without either the answer is no whatever the value is.
    let named = credential.is_none() && is_secret_name(name);
    if credential.is_none() && !named {
        return None;
    }
    if is_reference(value) || is_placeholder(value) {
        return None;
    }
    if let Some(what) = credential {
        return Some(Reason::Value(what));
    }
    (named && !is_dummy(value.trim())).then_some(Reason::Name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_secrets_and_look_alikes() {
        for n in [
            "DB_PASSWORD",
            "JWT_SECRET",
            "api-key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "SMTP_PASS",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "TOKEN_URL",
            "PASSWORD_MIN_LENGTH",
            "SECRET_ARN",
            "NODE_ENV",
            "DB_HOST",
            "TOKEN_TTL",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn no_credential_shape_is_shorter_than_the_bound() {
        // The shortest text each shape matches, in the order of VALUE_PATTERNS.
        let shortest = [
            "AKIAIOSFODNN7EXAMPLE".to_string(),
            format!("ghp_{}", "a".repeat(36)),
            format!("github_pat_{}", "a".repeat(20)),
            format!("xoxb-{}", "a".repeat(10)),
            format!("glpat-{}", "a".repeat(20)),
            format!("sk_live_{}", "a".repeat(16)),
            "-----BEGIN PRIVATE KEY-----".to_string(),
        ];
        assert_eq!(shortest.len(), VALUE_PATTERNS.len());
        for ((what, pattern), text) in VALUE_PATTERNS.iter().zip(&shortest) {
            let re = Regex::new(pattern).expect("shape compiles");
            assert!(re.is_match(text), "{what}: {text}");
            assert!(may_hold_credential(text), "{what}: {text}");
            assert!(
                !re.is_match(&text[..text.len() - 1]),
                "{what}: shorter than {text}"
            );
            assert!(text.len() >= SHORTEST_CREDENTIAL, "{what}: {text}");
            assert_eq!(credential_in(text), Some(*what));
        }
        // Each alternative of each shape, with the word it needs.
        for (i, text) in [
            (0, "ASIAIOSFODNN7EXAMPLE"),
            (1, &format!("gho_{}", "a".repeat(36))),
            (1, &format!("ghs_{}", "a".repeat(36))),
            (1, &format!("ghu_{}", "a".repeat(36))),
            (1, &format!("ghr_{}", "a".repeat(36))),
            (3, &format!("xoxs-{}", "a".repeat(10))),
            (5, &format!("rk_live_{}", "a".repeat(16))),
            (6, "-----BEGIN RSA PRIVATE KEY-----"),
        ] {
            assert_eq!(credential_in(text), Some(VALUE_PATTERNS[i].0), "{text}");
        }
        for (i, text) in shortest.iter().enumerate() {
            assert!(
                CREDENTIAL_WORDS
                    .iter()
                    .any(|(w, p)| *p == i && text.contains(w)),
                "{text}"
            );
        }
    }

    #[test]
    fn values_decide_too() {
        assert_eq!(
            plaintext_secret("DB_PASSWORD", "Pl00ral-prod!"),
            Some(Reason::Name)
        );
        assert_eq!(
            plaintext_secret("DB_PASSWORD", "$DB_PASSWORD_FROM_SM"),
            None
        );
        assert_eq!(
            plaintext_secret("DB_PASSWORD", "arn:aws:secretsmanager:us-east-1:1:secret:x"),
            None
        );
        assert_eq!(plaintext_secret("PASSWORD_MIN_LENGTH", "12"), None);
        assert_eq!(
            plaintext_secret("NOTES", "key AKIAIOSFODNN7EXAMPLE here"),
            Some(Reason::Value("an AWS access key id"))
        );
        assert_eq!(plaintext_secret("DB_PASSWORD", "<DB_PASSWORD>"), None);
        for stand_in in [
            "{aws_secret_access_key}",
            "%GitHubToken%",
            "#{DbPassword}",
            "__DB_PASSWORD__",
            "your-github-token",
            "xxxxxxxx",
            "[Your token]",
        ] {
            assert_eq!(
                plaintext_secret("GITHUB_TOKEN", stand_in),
                None,
                "{stand_in}"
            );
        }
        assert_eq!(
            plaintext_secret("SPRING_DATASOURCE_PASSWORD", "SuperSecretPGSqlPwd##2006"),
            Some(Reason::Name)
        );
    }

    /// `plaintext_secret` as it was before it tested the name and the shape first, with the
    /// names upper-cased into new strings.
    fn reference_plaintext_secret(name: &str, value: &str) -> Option<Reason> {
        let secret_name = |name: &str| {
            let upper = name.to_ascii_uppercase().replace('-', "_");
            if NOT_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
                return false;
            }
            SECRET_WORDS.iter().any(|w| upper.contains(w))
                || upper == "PASS"
                || upper.ends_with("_PASS")
                || upper.ends_with("_PWD")
                || upper == "PWD_HASH"
        };
        let placeholder = |v: &str| {
            let v = v.trim();
            v.is_empty()
                || v == "****"
                || v.chars().all(|c| c == '*')
                || (v.starts_with('<') && v.ends_with('>'))
                || (v.starts_with("{{") && v.ends_with("}}"))
                || matches!(
                    v.to_ascii_lowercase().as_str(),
                    "true"
                        | "false"
                        | "yes"
                        | "no"
                        | "none"
                        | "null"
                        | "changeme"
                        | "change-me"
                        | "xxx"
                        | "todo"
                )
                || (v.len() <= 6 && v.chars().all(|c| c.is_ascii_digit()))
                || is_template_token(v)
        };
        if is_reference(value) || placeholder(value) {
            return None;
        }
        if let Some(what) = credential_in(value) {
            return Some(Reason::Value(what));
        }
        (secret_name(name) && !is_dummy(value.trim())).then_some(Reason::Name)
    }

    /// Every name and every value of the examples and the shared files, each with each
    /// other, and names longer than the stack buffer: the same answers as before.
    #[test]
    fn same_answers_as_the_reference() {
        let texts = crate::testing::shared_texts();
        let pair = Regex::new(r#"["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*[:=]\s*["']?([^"'\n]*)"#)
            .expect("pattern");
        let mut names: Vec<String> = vec![
            "TOKEN".into(),
            "pass".into(),
            "x_pwd".into(),
            "pwd-hash".into(),
            "API-KEY".into(),
            format!("{}_PASSWORD", "A".repeat(70)),
            format!("{}_PASSWORD_URL", "b".repeat(70)),
            "é_SECRET".into(),
        ];
        let mut values: Vec<String> =
            ["", " TRUE ", "No", "Change-Me", "123456", "1234567", "****"]
                .iter()
                .map(|v| v.to_string())
                .collect();
        for t in &texts {
            for c in pair.captures_iter(t) {
                names.push(c[1].to_string());
                values.push(c[2].to_string());
            }
        }
        names.sort();
        names.dedup();
        values.sort();
        values.dedup();
        assert!(
            names.len() > 300 && values.len() > 300,
            "{} {}",
            names.len(),
            values.len()
        );
        // A value with a credential's shape is never one the sweep judges by name alone.
        for v in &values {
            if credential_in(v).is_some() {
                assert!(may_hold_credential(v), "{v}");
            }
        }
        let (mut named, mut shaped) = (0, 0);
        for n in &names {
            for v in &values {
                let got = plaintext_secret(n, v);
                if !may_hold_credential(v) {
                    assert_eq!(got, plaintext_secret_by_name(n, v), "{n} = {v}");
                }
                assert_eq!(got, reference_plaintext_secret(n, v), "{n} = {v}");
                match got {
                    Some(Reason::Name) => named += 1,
                    Some(Reason::Value(_)) => shaped += 1,
                    None => {}
                }
            }
        }
        assert!(named > 1000 && shaped > 100, "{named} {shaped}");
    }
}
