//! Image tags in buildspec commands: which references `docker push` pushes, and whether their
//! tag is the same in every build (`latest` or another constant). BS005 fixes such tags; BS003
//! and BS004 read them.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::document::Path;

use super::buildspec::{TokKind, assignment, commands, env_map, scalar_text, tokenize};

/// `latest`, `${X:=latest}`, `${X:-latest}`: a value that ends up as `latest`.
static LATEST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"^["']?(?:latest|\$\{[A-Za-z_][A-Za-z0-9_]*:?[=-]latest\})["']?$"#).ok()
});

pub fn is_latest(value: &str) -> bool {
    LATEST.as_ref().is_some_and(|r| r.is_match(value.trim()))
}

/// Whether a value given to a tag variable is provably the same in every build: `latest` or
/// another constant, or `${X:=latest}` / `${X:-latest}` where nothing in the build gives `X` a
/// value that changes. `X` set from the commit (`$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut
/// -c 1-7)`, `$(git rev-parse …)`), a CodeBuild variable, a parameter or a secret is not fixed:
/// `latest` is then only the fallback for an empty source version.
pub fn is_fixed_value(bs: &Value, root: &Path, value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    if is_fixed_tag(v) {
        return true;
    }
    if !is_latest(v) {
        return false;
    }
    let Some(name) = v
        .strip_prefix("${")
        .and_then(|x| x.split([':', '=', '-']).next())
    else {
        return true;
    };
    if super::buildspec_shell::built_in(name)
        || ["secrets-manager", "parameter-store", "exported-variables"]
            .iter()
            .any(|k| {
                env_map(bs, k).is_some_and(|m| m.contains_key(name))
                    || bs
                        .pointer(&format!("/env/{k}"))
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(name)))
            })
    {
        return false;
    }
    // Every value the buildspec gives X must be a constant (none: X is empty or a constant of
    // the project, and the tag is fixed either way).
    let env = env_map(bs, "variables")
        .and_then(|m| m.get(name))
        .and_then(scalar_text);
    let values: Vec<String> = commands(bs, root)
        .iter()
        .flat_map(|c| {
            c.lines()
                .filter_map(|l| assignment(l, name))
                .collect::<Vec<_>>()
        })
        .map(str::to_string)
        .chain(env)
        .collect();
    let assigned_elsewhere = commands(bs, root).iter().any(|c| {
        c.lines().any(|l| {
            assignment(l, name).is_none() && super::buildspec_shell::assignments(l).contains(name)
        })
    });
    !assigned_elsewhere
        && values
            .iter()
            .all(|x| is_fixed_tag(x.trim().trim_matches(['"', '\''])))
}

/// How a pushed reference is tagged.
#[derive(Debug, PartialEq, Eq)]
pub enum Tag {
    /// `repo:latest` or `repo` (the repository part, as written).
    Latest(String),
    /// `repo:$VAR` where VAR is `latest` (the repository part).
    LatestVar(String),
    /// Anything else: a commit, a build number, a digest, unknown.
    Other,
}

/// The references `docker push` pushes in a line.
pub fn pushed(line: &str) -> Vec<String> {
    // Tokens are slices of the line: without the word there is no `docker push`.
    if !line.contains("push") {
        return Vec::new();
    }
    let Some(toks) = tokenize(line) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, w) in toks.windows(2).enumerate() {
        if w[0].raw == "docker"
            && w[1].raw == "push"
            && let Some(t) = toks[i + 2..]
                .iter()
                .take_while(|t| t.kind == TokKind::Word)
                .find(|t| !t.raw.starts_with('-'))
        {
            out.push(t.raw.to_string());
        }
    }
    out
}

pub fn tag_of(reference: &str, latest_var: Option<&str>) -> Tag {
    let r = reference.trim_matches('"');
    // A digest, or a reference read from a command's output (`$(cat build_tag.out)`), which
    // may carry any tag.
    if r.contains('@') || r.contains("$(") || r.contains('`') {
        return Tag::Other;
    }
    let last_slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[last_slash..].rfind(':').map(|i| i + last_slash) {
        None => Tag::Latest(r.to_string()),
        Some(i) => {
            let (repo, tag) = (&r[..i], &r[i + 1..]);
            // `latest`, or any other fixed tag: pushed again by every build, so it is just as
            // mutable (`:web`, `:prod`).
            if tag == "latest" || is_fixed_tag(tag) {
                Tag::Latest(repo.to_string())
            } else if latest_var
                .is_some_and(|v| tag == format!("${v}") || tag == format!("${{{v}}}"))
            {
                Tag::LatestVar(repo.to_string())
            } else {
                Tag::Other
            }
        }
    }
}

/// A tag written as a constant (no expansion): every build pushes the same tag again.
pub fn is_fixed_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}
