//! The catalog's data: one `patches/*.toml` file per fix, embedded at build time: id, title,
//! kinds, safety, default or opt-in, parameters with their defaults, documentation and
//! examples. Below the configuration (which checks `pipefix.toml` against it) and the catalog
//! (whose fixes it describes).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::Kind;

/// How far a fix may be trusted to run unattended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Safety {
    /// Reported, never applied.
    Manual,
    /// Applied only with `--unsafe-fixes`: changes deploy behaviour more deeply.
    Unsafe,
    /// Applied by `--apply`.
    Safe,
}

impl fmt::Display for Safety {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Safety::Manual => "manual",
            Safety::Unsafe => "unsafe",
            Safety::Safe => "safe",
        })
    }
}

static PATCHES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/patches.rs"));

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub id: String,
    pub name: String,
    pub title: String,
    pub kinds: Vec<String>,
    pub safety: Safety,
    /// On by default (a defect by definition) or opt-in (a trade-off a team chooses with
    /// `select` / `extend-select`).
    pub default: bool,
    pub summary: String,
    pub why: String,
    #[serde(default)]
    pub safe_when: String,
    #[serde(default)]
    pub references: Vec<Reference>,
    /// What to change in an AWS CDK app, for findings in templates the CDK generated.
    #[serde(default)]
    pub cdk: Option<String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Log signatures are pure data: a regex over log lines.
    #[serde(default)]
    pub signature: Option<Signature>,
    /// The catalog file this came from (set after loading).
    #[serde(skip)]
    pub file: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub title: String,
    pub url: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    pub default: serde_json::Value,
    pub description: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub pattern: String,
    pub kinds: Vec<String>,
    #[serde(default)]
    pub points_to: Vec<String>,
    pub message: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub title: String,
    #[serde(default)]
    pub options: ExampleOptions,
    /// How many findings of this fix the first run reports (checked when given).
    #[serde(default)]
    pub findings: Option<usize>,
    pub files: Vec<ExampleFile>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleOptions {
    #[serde(default)]
    pub unsafe_fixes: bool,
    /// Other fixes that run with this one (as `extend-select`), for fixes that follow them.
    #[serde(default)]
    pub select: Vec<String>,
    /// `[rules.<ID>]` parameters, as in pipefix.toml.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// `IMAGE=DIGEST` pins, as given with `--pin`.
    #[serde(default)]
    pub pins: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleFile {
    pub path: String,
    pub before: String,
    /// Absent: the file must stay unchanged.
    pub after: Option<String>,
}

impl Meta {
    pub fn kinds(&self) -> Vec<Kind> {
        self.kinds
            .iter()
            .filter_map(|k| Kind::from_name(k))
            .collect()
    }

    /// `on` for the default set, `opt-in` for the rest.
    pub fn selection(&self) -> &'static str {
        if self.default { "on" } else { "opt-in" }
    }
}

/// Every catalog entry, sorted by id. Panics only if a file of `patches/` is malformed, which
/// the test suite rules out before a release.
pub fn all() -> &'static [Meta] {
    static ALL: OnceLock<Vec<Meta>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Meta> = PATCHES
            .iter()
            .map(|(file, text)| {
                let mut m = parse(head(text)).unwrap_or_else(|e| panic!("patches/{file}: {e}"));
                m.file = (*file).to_string();
                m
            })
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    })
}

/// A catalog file without its examples, which are most of it and which a run never reads
/// (parsing them was most of a one-file run): they are parsed by [`examples`] when shown or
/// tested. The examples come last in every file.
fn head(text: &str) -> &str {
    match text.find("\n[[examples]]\n") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// The before/after examples of catalog entry `id` (parsed from its file on each call).
pub fn examples(id: &str) -> Vec<Example> {
    let Some(m) = get(id) else {
        return Vec::new();
    };
    PATCHES
        .iter()
        .find(|(file, _)| *file == m.file)
        .and_then(|(_, text)| parse(text).ok())
        .map(|full| full.examples)
        .unwrap_or_default()
}

pub fn parse(text: &str) -> Result<Meta, String> {
    toml_edit::de::from_str::<Meta>(text).map_err(|e| e.to_string())
}

pub fn get(id: &str) -> Option<&'static Meta> {
    // `all` is sorted by id, and ids are unique (tested): asked for every rule of every check.
    let all = all();
    all.binary_search_by(|m| m.id.as_str().cmp(id))
        .ok()
        .map(|i| &all[i])
}

/// The catalog as a Markdown table (the README's list is this, checked by a test).
pub fn markdown_table() -> String {
    let mut out = String::from("| id | default | safety | reads | fix |\n|---|---|---|---|---|\n");
    for m in all() {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            m.id,
            m.selection(),
            m.safety,
            m.kinds.join(", "),
            m.title.replace('|', "\\|")
        ));
    }
    out
}

/// Whether `id` is chosen by a list of ids and prefixes (`TD`, `BS00`, `CP001`).
pub fn matches_any(id: &str, patterns: &[String]) -> bool {
    patterns
        .iter()
        .any(|p| !p.is_empty() && id.starts_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_each_is_found() {
        let all = all();
        assert!(all.len() > 20);
        assert!(
            all.windows(2).all(|w| w[0].id < w[1].id),
            "sorted, no id twice"
        );
        for m in all {
            assert!(get(&m.id).is_some_and(|g| std::ptr::eq(g, m)), "{}", m.id);
        }
        assert!(get("XX999").is_none() && get("").is_none());
    }

    #[test]
    fn a_run_reads_every_entry_without_its_examples() {
        for m in all() {
            let text = PATCHES
                .iter()
                .find(|(f, _)| *f == m.file)
                .map(|(_, t)| *t)
                .expect("embedded");
            let full = parse(text).expect("parses");
            assert!(m.examples.is_empty(), "{}", m.id);
            assert_eq!(
                (
                    full.id.as_str(),
                    full.title.as_str(),
                    full.kinds.len(),
                    full.parameters.len()
                ),
                (
                    m.id.as_str(),
                    m.title.as_str(),
                    m.kinds.len(),
                    m.parameters.len()
                )
            );
            assert_eq!(full.signature.is_some(), m.signature.is_some(), "{}", m.id);
            assert_eq!(examples(&m.id).len(), full.examples.len());
        }
    }
}
