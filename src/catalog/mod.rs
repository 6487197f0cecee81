//! The catalog: what a fix is, what it reports, and the registry of every fix.
//!
//! A fix reads the workspace (documents and the facts they share) and reports [`Finding`]s.
//! A finding may carry a [`Fix`]: edits addressed by path in the finding's file, never byte
//! offsets. The engine applies them, verifies them and repeats until nothing changes.

mod buildspec;
pub mod buildspec_shell;
mod codedeploy;
mod container_health;
mod image_tags;
mod log_signatures;
pub mod secrets;
mod support;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::document::{Op, Path};
use crate::workspace::{Facts, Unit};

pub use crate::meta::{self, Meta, Safety, matches_any};

/// Where in its file a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A node of a JSON/YAML document (or where it would be).
    Node(Path),
    /// A 1-based line of a log.
    Line(usize),
}

#[derive(Clone, Debug)]
pub struct Fix {
    pub title: String,
    pub safety: Safety,
    /// Edits of the finding's file, applied in order.
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static str,
    /// Index of the file in the unit.
    pub file: usize,
    pub location: Location,
    pub message: String,
    pub fix: Option<Fix>,
    /// What a person must still do outside the repository.
    pub follow_ups: Vec<String>,
    /// Values that must never be printed (masked as `****` except in `--format patch`).
    pub secrets: Vec<String>,
}

impl Finding {
    pub fn new(rule: &'static str, file: usize, location: Location, message: String) -> Finding {
        Finding {
            rule,
            file,
            location,
            message,
            fix: None,
            follow_ups: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub fn at(rule: &'static str, file: usize, path: Path, message: impl Into<String>) -> Finding {
        Finding::new(rule, file, Location::Node(path), message.into())
    }

    /// Attach a fix with the safety its catalog file declares (`safety` in
    /// `patches/<ID>-<name>.toml`); [`Finding::lower_safety`] lowers it for one case.
    pub fn with_fix(mut self, title: impl Into<String>, ops: Vec<Op>) -> Finding {
        let safety = meta::get(self.rule).map_or(Safety::Manual, |m| m.safety);
        self.fix = Some(Fix {
            title: title.into(),
            safety,
            ops,
        });
        self
    }

    /// Lower the safety of this finding's fix to at most `to`, for a case the catalog's
    /// safety does not cover (say why where it is called). Never raises it.
    pub fn lower_safety(mut self, to: Safety) -> Finding {
        if let Some(fix) = &mut self.fix {
            fix.safety = fix.safety.min(to);
        }
        self
    }

    pub fn follow_up(mut self, text: impl Into<String>) -> Finding {
        self.follow_ups.push(text.into());
        self
    }

    pub fn secret(mut self, value: impl Into<String>) -> Finding {
        let v = value.into();
        if !v.is_empty() {
            self.secrets.push(v);
        }
        self
    }

    /// Identity of a finding across passes of the engine.
    pub fn key(&self) -> (&'static str, usize, Location) {
        (self.rule, self.file, self.location.clone())
    }
}

/// What a fix sees: the unit of files being checked, the facts they share, the configuration.
pub struct Context<'a> {
    pub unit: &'a Unit,
    pub facts: &'a Facts,
    pub config: &'a Config,
    pub meta: &'a Meta,
}

impl Context<'_> {
    /// This fix's parameters, read into its typed struct: see [`params_for`].
    pub fn params<P: DeserializeOwned>(&self) -> Result<P, String> {
        params_for(self.config, &self.meta.id)
    }

    /// The id of this fix, as `&'static str` for findings.
    pub fn id(&self) -> &'static str {
        id_static(&self.meta.id)
    }
}

/// The parameters of fix `id`: the defaults of its catalog file (`[parameters.<name>]` in
/// `patches/<ID>-<name>.toml`) with `pipefix.toml` `[rules.<ID>]` over them, read through
/// serde into the fix's struct (`#[serde(deny_unknown_fields)]`, no field defaults: the
/// struct and the catalog file must name the same parameters, which a test checks).
/// `pipefix.toml` is checked against the catalog when it is read, so this fails only when
/// the struct and the catalog file disagree.
pub fn params_for<P: DeserializeOwned>(config: &Config, id: &str) -> Result<P, String> {
    let m = meta::get(id).ok_or_else(|| format!("no catalog entry {id}"))?;
    let mut map = serde_json::Map::new();
    for (name, p) in &m.parameters {
        map.insert(name.clone(), p.default.clone());
    }
    for (name, v) in config.params_of(id) {
        map.insert(name.clone(), v.clone());
    }
    serde_json::from_value(Value::Object(map)).map_err(|e| format!("{id} parameters: {e}"))
}

/// A fix of the catalog. Its documentation lives in `patches/<ID>-<name>.toml`.
pub trait Rule: Send + Sync {
    fn id(&self) -> &'static str;
    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>);
    /// Reads this fix's parameters into its typed struct under `config` (see
    /// [`params_for`]); fixes without parameters keep the default, which accepts none.
    fn read_params(&self, config: &Config) -> Result<(), String> {
        match meta::get(self.id()) {
            Some(m) if !m.parameters.is_empty() => Err(format!(
                "{} has parameters in its catalog file but reads none",
                self.id()
            )),
            _ => config.params_of(self.id()).next().map_or(Ok(()), |(n, _)| {
                Err(format!("{} has no parameter {n}", self.id()))
            }),
        }
    }
}

// `mod <file>;` for every fix file `src/catalog/<id>_<name>.rs`, and `implemented()`: the
// registry, generated by `build.rs` from the files themselves.
include!(concat!(env!("OUT_DIR"), "/catalog_rules.rs"));

/// Every fix with logic in Rust, plus the data-only log signatures, sorted by id.
pub fn rules() -> &'static [Box<dyn Rule>] {
    use std::sync::OnceLock;
    static RULES: OnceLock<Vec<Box<dyn Rule>>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut v: Vec<Box<dyn Rule>> = implemented().into_iter().map(|(_, r)| r).collect();
        v.extend(log_signatures::rules());
        v.sort_by_key(|r| r.id());
        v
    })
}

/// The `&'static str` of a catalog id (catalog metadata lives for the whole run).
fn id_static(id: &str) -> &'static str {
    meta::all()
        .iter()
        .find(|m| m.id == id)
        .map(|m| m.id.as_str())
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One fix per file, named after its catalog file: `src/catalog/bs005_mutable_latest_tag.rs`
    /// implements `BS005` of `patches/BS005-mutable-latest-tag.toml`.
    #[test]
    fn each_fix_file_implements_the_catalog_entry_it_is_named_after() {
        let files = implemented();
        assert!(!files.is_empty());
        for (file, rule) in &files {
            let (id, name) = file.split_once('_').expect("generated from <id>_<name>.rs");
            assert_eq!(rule.id(), id.to_ascii_uppercase(), "src/catalog/{file}.rs");
            let m = meta::get(rule.id()).unwrap_or_else(|| panic!("{file}: no patches TOML"));
            assert_eq!(
                m.file,
                format!("{}-{}.toml", m.id, name.replace('_', "-")),
                "src/catalog/{file}.rs"
            );
        }
        // Every catalog entry has exactly one implementation: a file, or a log signature.
        for m in meta::all() {
            let n = rules().iter().filter(|r| r.id() == m.id).count();
            assert_eq!(n, 1, "{}: {n} implementations", m.id);
            let in_file = files.iter().any(|(_, r)| r.id() == m.id);
            assert_eq!(in_file, m.signature.is_none(), "{}", m.id);
        }
    }

    /// Fixes share code through the support modules (`support`, `buildspec`, `codedeploy`,
    /// …), never by importing one another.
    #[test]
    fn no_fix_imports_another() {
        let modules: Vec<&str> = implemented().iter().map(|(m, _)| *m).collect();
        for m in &modules {
            let path = format!("{}/src/catalog/{m}.rs", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("the fix's file");
            for other in modules.iter().filter(|o| *o != m) {
                assert!(
                    !text.contains(&format!("{other}::")) && !text.contains(&format!("{other};")),
                    "src/catalog/{m}.rs uses {other}: move what they share to a support module"
                );
            }
        }
    }
}
