//! `pipefix.toml`: which fixes run, where, and with which parameters.
//!
//! ```toml
//! select = ["CP", "TD"]          # ids or prefixes; replaces the default set
//! extend-select = ["DG003"]      # opt-in fixes added to the set
//! ignore = ["TD002"]
//! unsafe-fixes = false
//! max-file-size = 10485760       # bytes; larger files are refused before being read
//! resolve-digests = false        # ask image registries for digests (TD002); network only then
//! registry-timeout = 10          # seconds per registry request
//!
//! [per-path-ignores]
//! "legacy/**" = ["BS"]
//!
//! [pins]                         # image repository (or image) = digest
//! "public.ecr.aws/datadog/agent" = "sha256:…"
//!
//! [rules.CP001]                  # parameters of one fix (see `pipefix explain CP001`)
//! stage_name = "Approval"
//!
//! [[suppress]]                   # one fix, on the nodes a JSONPath expression selects
//! rule = "TD002"
//! path = "deploy/*.json"         # glob relative to this file's folder; default: every file
//! where = "$.containerDefinitions[?(@.name == 'datadog-agent')]"
//! reason = "pinned by the platform team's image policy"
//! ```
//!
//! Unknown keys, unknown fix ids and bad values are errors that name the line.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde_json::Value;
use toml_edit::Item;

use crate::document::Selector;
use crate::document::lines::line_col;
pub use crate::errors::ConfigError;
use crate::meta::{self, matches_any};
use crate::registry::is_digest;

pub const FILE_NAME: &str = "pipefix.toml";
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Config {
    /// Replaces the default set (the catalog's `default = true` fixes) when not empty.
    pub select: Vec<String>,
    /// Added to the set: how a team opts into the trade-offs that are off by default.
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub unsafe_fixes: bool,
    pub max_file_size: u64,
    per_path: Vec<(String, Vec<String>)>,
    per_path_set: Option<GlobSet>,
    params: BTreeMap<String, BTreeMap<String, Value>>,
    pub pins: BTreeMap<String, String>,
    /// `[[suppress]]` entries, in file order.
    pub suppress: Vec<Suppression>,
    /// `resolve-digests`: ask registries for the digests of mutable image tags.
    pub resolve_digests: bool,
    /// `registry-timeout`: seconds one registry request may take.
    pub registry_timeout: std::time::Duration,
    /// Set for a run that resolves digests (`--resolve-digests` or `resolve-digests = true`,
    /// and not `--offline`); absent, nothing touches the network.
    pub resolver: Option<std::sync::Arc<crate::registry::Resolver>>,
    /// The file this came from, if any; per-path globs are relative to its folder.
    pub source: Option<PathBuf>,
    /// The absolute, canonical folder of `source` and current folder, taken when it was
    /// loaded: globs are matched against paths made relative to the former.
    anchor: Option<(PathBuf, PathBuf)>,
}

/// One `[[suppress]]` entry: findings of `rule` (an id or prefix) in files matching `path`
/// whose node lies inside a node that `selector` selects are reported as suppressed and not
/// fixed.
#[derive(Clone, Debug)]
pub struct Suppression {
    pub rule: String,
    /// The glob as written (`None`: every file).
    pub path: Option<String>,
    matcher: Option<GlobMatcher>,
    pub selector: Selector,
    pub reason: Option<String>,
    /// 1-based line of the entry in the configuration file.
    pub line: usize,
}

impl Suppression {
    /// Whether the entry is about findings of `rule`.
    pub fn covers(&self, rule: &str) -> bool {
        rule.starts_with(self.rule.as_str())
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            select: Vec::new(),
            extend_select: Vec::new(),
            ignore: Vec::new(),
            unsafe_fixes: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            per_path: Vec::new(),
            per_path_set: None,
            params: BTreeMap::new(),
            pins: BTreeMap::new(),
            suppress: Vec::new(),
            resolve_digests: false,
            registry_timeout: crate::registry::DEFAULT_TIMEOUT,
            resolver: None,
            source: None,
            anchor: None,
        }
    }
}

impl Config {
    pub fn param(&self, id: &str, name: &str) -> Option<&Value> {
        self.params.get(id)?.get(name)
    }

    /// The `[rules.<ID>]` parameters set for fix `id`.
    pub fn params_of(&self, id: &str) -> impl Iterator<Item = (&String, &Value)> {
        self.params.get(id).into_iter().flatten()
    }

    pub fn set_param(&mut self, id: &str, name: &str, value: Value) {
        self.params
            .entry(id.to_string())
            .or_default()
            .insert(name.to_string(), value);
    }

    /// Whether fix `id` is in the selected set, whatever the path: `select` (or, without it,
    /// the catalog's default set), plus `extend-select`, minus `ignore`.
    pub fn selected(&self, id: &str) -> bool {
        let chosen = if self.select.is_empty() {
            meta::get(id).is_none_or(|m| m.default)
        } else {
            matches_any(id, &self.select)
        };
        (chosen || matches_any(id, &self.extend_select)) && !matches_any(id, &self.ignore)
    }

    /// Whether fix `id` runs on `path` (a path as discovered).
    pub fn enabled(&self, id: &str, path: &FsPath) -> bool {
        self.selected(id) && self.allowed_at(id, path)
    }

    /// Whether no per-path ignore turns fix `id` off for `path` ([`Config::enabled`] is this
    /// and [`Config::selected`]).
    pub fn allowed_at(&self, id: &str, path: &FsPath) -> bool {
        if let Some(set) = &self.per_path_set {
            let rel = self.relative(path);
            for i in set.matches(&rel) {
                if matches_any(id, &self.per_path[i].1) {
                    return false;
                }
            }
        }
        true
    }

    /// `path` relative to the configuration file's folder, which globs are written against.
    /// A path outside that folder is kept as it is.
    fn relative(&self, path: &FsPath) -> PathBuf {
        let Some((base, cwd)) = &self.anchor else {
            return path.to_path_buf();
        };
        let abs = if path.is_absolute() {
            lexical(path)
        } else {
            lexical(&cwd.join(path))
        };
        match abs.strip_prefix(base) {
            Ok(rel) => rel.to_path_buf(),
            Err(_) => path.to_path_buf(),
        }
    }

    /// Whether `[[suppress]]` entry `s` is about the file at `path` (a path as discovered).
    pub fn suppression_matches_file(&self, s: &Suppression, path: &FsPath) -> bool {
        match &s.matcher {
            Some(m) => m.is_match(self.relative(path)),
            None => true,
        }
    }

    /// Read and check a configuration file.
    pub fn load(path: &FsPath) -> Result<Config, (PathBuf, ConfigError)> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            (
                path.to_path_buf(),
                ConfigError {
                    line: 1,
                    col: 1,
                    message: e.to_string(),
                },
            )
        })?;
        let mut c = Config::parse(&text).map_err(|e| (path.to_path_buf(), e))?;
        c.source = Some(path.to_path_buf());
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => FsPath::new("."),
        };
        let cwd = std::env::current_dir()
            .ok()
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
        if let (Ok(base), Some(cwd)) = (std::fs::canonicalize(folder), cwd) {
            c.anchor = Some((base, cwd));
        }
        Ok(c)
    }

    /// The nearest `pipefix.toml` from `start` upwards, stopping at a repository root.
    pub fn find(start: &FsPath) -> Option<PathBuf> {
        let abs = std::fs::canonicalize(start).ok()?;
        let mut dir = if abs.is_dir() {
            Some(abs.as_path())
        } else {
            abs.parent()
        };
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            if d.join(".git").exists() {
                return None;
            }
            dir = d.parent();
        }
        None
    }

    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let doc = toml_edit::Document::parse(text).map_err(|e: toml_edit::TomlError| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ConfigError {
                line,
                col,
                message: e.message().to_string(),
            }
        })?;
        let err = |item: &Item, message: String| {
            let (line, col) = item
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or((1, 1));
            ConfigError { line, col, message }
        };
        let key_err = |key: &toml_edit::Key, message: String| {
            let (line, col) = key
                .span()
                .map(|s| line_col(text, s.start))
                .unwrap_or((1, 1));
            ConfigError { line, col, message }
        };
        let mut c = Config::default();
        for (key, item) in doc.as_table().iter() {
            let k = doc
                .as_table()
                .key(key)
                .cloned()
                .unwrap_or_else(|| toml_edit::Key::new(key));
            match key {
                "select" | "extend-select" | "ignore" => {
                    let ids = string_list(item).ok_or_else(|| {
                        err(
                            item,
                            format!("`{key}` must be a list of fix ids or prefixes"),
                        )
                    })?;
                    for id in &ids {
                        if !meta::all().iter().any(|m| m.id.starts_with(id.as_str())) {
                            return Err(err(
                                item,
                                format!("`{key}`: no fix id starts with {id:?}"),
                            ));
                        }
                    }
                    match key {
                        "select" => c.select = ids,
                        "extend-select" => c.extend_select = ids,
                        _ => c.ignore = ids,
                    }
                }
                "unsafe-fixes" => {
                    c.unsafe_fixes = item
                        .as_bool()
                        .ok_or_else(|| err(item, "`unsafe-fixes` must be true or false".into()))?;
                }
                "resolve-digests" => {
                    c.resolve_digests = item.as_bool().ok_or_else(|| {
                        err(item, "`resolve-digests` must be true or false".into())
                    })?;
                }
                "registry-timeout" => {
                    let secs = item
                        .as_integer()
                        .filter(|n| (1..=600).contains(n))
                        .ok_or_else(|| {
                            err(
                                item,
                                "`registry-timeout` must be a number of seconds from 1 to 600"
                                    .into(),
                            )
                        })?;
                    c.registry_timeout = std::time::Duration::from_secs(secs as u64);
                }
                "max-file-size" => {
                    let n = item.as_integer().filter(|n| *n > 0).ok_or_else(|| {
                        err(
                            item,
                            "`max-file-size` must be a positive number of bytes".into(),
                        )
                    })?;
                    c.max_file_size = n as u64;
                }
                "per-path-ignores" => {
                    let table = item.as_table_like().ok_or_else(|| {
                        err(
                            item,
                            "`per-path-ignores` must be a table of glob = [ids]".into(),
                        )
                    })?;
                    let mut builder = GlobSetBuilder::new();
                    for (glob, ids) in table.iter() {
                        let list = string_list(ids).ok_or_else(|| {
                            err(ids, format!("`{glob}` must map to a list of fix ids"))
                        })?;
                        let g = Glob::new(glob)
                            .map_err(|e| err(ids, format!("bad glob {glob:?}: {e}")))?;
                        builder.add(g);
                        c.per_path.push((glob.to_string(), list));
                    }
                    c.per_path_set = builder.build().ok();
                }
                "pins" => {
                    let table = item.as_table_like().ok_or_else(|| {
                        err(item, "`pins` must be a table of image = digest".into())
                    })?;
                    for (image, digest) in table.iter() {
                        let d = digest.as_str().filter(|d| is_digest(d)).ok_or_else(|| {
                            err(
                                digest,
                                format!(
                                    "pin for {image:?} must be a digest like \"sha256:<64 hex>\""
                                ),
                            )
                        })?;
                        c.pins.insert(image.to_string(), d.to_string());
                    }
                }
                "rules" => {
                    let table = item.as_table_like().ok_or_else(|| {
                        err(item, "`rules` must be a table of [rules.<ID>]".into())
                    })?;
                    for (id, params) in table.iter() {
                        let m = meta::get(id).ok_or_else(|| {
                            let message = format!("unknown fix id {id:?} in [rules]");
                            match table.get_key_value(id) {
                                Some((k, _)) if k.span().is_some() => key_err(k, message),
                                _ => err(params, message),
                            }
                        })?;
                        let ptable = params
                            .as_table_like()
                            .ok_or_else(|| err(params, format!("[rules.{id}] must be a table")))?;
                        for (name, value) in ptable.iter() {
                            let Some(p) = m.parameters.get(name) else {
                                return Err(err(
                                    value,
                                    format!(
                                        "{id} has no parameter {name:?} (it has: {})",
                                        m.parameters.keys().cloned().collect::<Vec<_>>().join(", ")
                                    ),
                                ));
                            };
                            let v = toml_to_json(value)
                                .ok_or_else(|| err(value, format!("bad value for {id}.{name}")))?;
                            let default = p.default.clone();
                            if !same_type(&default, &v) {
                                return Err(err(
                                    value,
                                    format!(
                                        "{id}.{name} must be of the same type as its default {default}"
                                    ),
                                ));
                            }
                            // A count of seconds or minutes is a whole number, never negative.
                            if default.is_u64() && !v.is_u64() {
                                return Err(err(
                                    value,
                                    format!("{id}.{name} must be a whole number, 0 or more"),
                                ));
                            }
                            // Patterns are compiled here so that a typo names its line
                            // instead of silently falling back to the default.
                            if name.ends_with("_pattern")
                                && let Some(Err(e)) = v.as_str().map(regex::Regex::new)
                            {
                                return Err(err(
                                    value,
                                    format!("{id}.{name} is not a valid regex: {e}"),
                                ));
                            }
                            c.set_param(id, name, v);
                        }
                    }
                }
                "suppress" => {
                    let tables = item.as_array_of_tables().ok_or_else(|| {
                        err(
                            item,
                            "`suppress` must be [[suppress]] tables with rule, where, and optionally path and reason".into(),
                        )
                    })?;
                    for t in tables.iter() {
                        c.suppress.push(suppression(text, t)?);
                    }
                }
                _ => return Err(key_err(&k, format!("unknown key `{key}` in pipefix.toml"))),
            }
        }
        Ok(c)
    }
}

/// `p` with `.` and `..` resolved without looking at the file system.
fn lexical(p: &FsPath) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// One `[[suppress]]` table, checked; errors name the line of the value at fault.
fn suppression(text: &str, t: &toml_edit::Table) -> Result<Suppression, ConfigError> {
    let at = |span: Option<std::ops::Range<usize>>, message: String| {
        let (line, col) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfigError { line, col, message }
    };
    let header = t.span();
    let line = header.clone().map_or(1, |s| line_col(text, s.start).0);
    let mut rule = None;
    let mut path = None;
    let mut selector = None;
    let mut reason = None;
    for (key, item) in t.iter() {
        let string = || {
            item.as_str().map(str::to_string).ok_or_else(|| {
                at(
                    item.span(),
                    format!("[[suppress]] `{key}` must be a string"),
                )
            })
        };
        match key {
            "rule" => {
                let id = string()?;
                if id.is_empty() || !meta::all().iter().any(|m| m.id.starts_with(id.as_str())) {
                    return Err(at(
                        item.span(),
                        format!("[[suppress]] `rule`: no fix id starts with {id:?}"),
                    ));
                }
                rule = Some(id);
            }
            "path" => {
                let glob = string()?;
                let m = Glob::new(&glob)
                    .map_err(|e| at(item.span(), format!("[[suppress]] bad glob {glob:?}: {e}")))?
                    .compile_matcher();
                path = Some((glob, m));
            }
            "where" => {
                let expr = string()?;
                selector = Some(
                    Selector::parse(&expr)
                        .map_err(|e| at(item.span(), format!("[[suppress]] `where`: {e}")))?,
                );
            }
            "reason" => reason = Some(string()?),
            _ => {
                let span = t.key(key).and_then(|k| k.span()).or(item.span());
                return Err(at(
                    span,
                    format!(
                        "unknown key `{key}` in [[suppress]] (it has: rule, path, where, reason)"
                    ),
                ));
            }
        }
    }
    let missing = |what: &str| at(header.clone(), format!("[[suppress]] needs `{what}`"));
    let rule = rule.ok_or_else(|| missing("rule"))?;
    let selector = selector.ok_or_else(|| missing("where"))?;
    let (path, matcher) = match path {
        Some((g, m)) => (Some(g), Some(m)),
        None => (None, None),
    };
    Ok(Suppression {
        rule,
        path,
        matcher,
        selector,
        reason,
        line,
    })
}

fn same_type(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::String(_), Value::String(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Array(_), Value::Array(_))
            | (Value::Object(_), Value::Object(_))
    )
}

fn string_list(item: &Item) -> Option<Vec<String>> {
    let arr = item.as_array()?;
    arr.iter().map(|v| v.as_str().map(str::to_string)).collect()
}

fn toml_to_json(item: &Item) -> Option<Value> {
    let v = item.as_value()?;
    value_to_json(v)
}

fn value_to_json(v: &toml_edit::Value) -> Option<Value> {
    Some(match v {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(i) => Value::from(*i.value()),
        toml_edit::Value::Float(f) => {
            serde_json::Number::from_f64(*f.value()).map(Value::Number)?
        }
        toml_edit::Value::Boolean(b) => Value::Bool(*b.value()),
        toml_edit::Value::Array(a) => {
            Value::Array(a.iter().map(value_to_json).collect::<Option<_>>()?)
        }
        toml_edit::Value::InlineTable(t) => Value::Object(
            t.iter()
                .map(|(k, v)| value_to_json(v).map(|v| (k.to_string(), v)))
                .collect::<Option<_>>()?,
        ),
        toml_edit::Value::Datetime(d) => Value::String(d.value().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_their_line() {
        let e = Config::parse("select = [\"TD\"]\n\nbogus = 1\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "unknown key `bogus` in pipefix.toml")
        );
    }

    #[test]
    fn pattern_parameters_must_compile() {
        let e = Config::parse("[rules.CP001]\nproduction_pattern = \"(prod\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("not a valid regex"), "{}", e.message);
    }

    #[test]
    fn suppressions_are_checked_with_their_line() {
        let ok = "[[suppress]]\nrule = \"TD002\"\npath = \"deploy/*.json\"\n\
                  where = \"$.containerDefinitions[?(@.name == 'datadog-agent')]\"\n\
                  reason = \"policy\"\n";
        let c = Config::parse(ok).unwrap();
        assert_eq!(c.suppress.len(), 1);
        let s = &c.suppress[0];
        assert_eq!((s.rule.as_str(), s.line), ("TD002", 1));
        assert_eq!(s.reason.as_deref(), Some("policy"));
        assert!(c.suppression_matches_file(s, FsPath::new("deploy/a.json")));
        assert!(!c.suppression_matches_file(s, FsPath::new("other/a.json")));

        let bad = "select = [\"TD\"]\n\n[[suppress]]\nrule = \"TD002\"\nwhere = \"$.containerDefinitions[?(@.name == \"\n";
        let e = Config::parse(bad).unwrap_err();
        assert_eq!(e.line, 5, "{}", e.message);
        assert!(
            e.message.contains("not a JSONPath expression"),
            "{}",
            e.message
        );

        let e = Config::parse("[[suppress]]\nrule = \"ZZ\"\nwhere = \"$\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Config::parse("[[suppress]]\nrule = \"TD\"\n").unwrap_err();
        assert!(e.message.contains("needs `where`"), "{}", e.message);
        let e = Config::parse("[[suppress]]\nrule = \"TD\"\nwhere = \"$\"\nwhy = 1\n").unwrap_err();
        assert_eq!(e.line, 4);
        let e = Config::parse("suppress = 1\n").unwrap_err();
        assert!(e.message.contains("[[suppress]]"), "{}", e.message);
    }

    #[test]
    fn select_replaces_the_default_set_extend_select_adds_ignore_removes() {
        let p = FsPath::new("x.json");
        let opt_in = meta::all()
            .iter()
            .find(|m| !m.default)
            .map(|m| m.id.clone())
            .expect("the catalog has opt-in fixes");
        let on = meta::all()
            .iter()
            .find(|m| m.default)
            .map(|m| m.id.clone())
            .expect("the catalog has default fixes");
        let c = Config::default();
        assert!(c.enabled(&on, p) && !c.enabled(&opt_in, p));
        let c = Config::parse(&format!("extend-select = [{opt_in:?}]\n")).unwrap();
        assert!(c.enabled(&on, p) && c.enabled(&opt_in, p));
        let c = Config::parse(&format!("select = [{opt_in:?}]\n")).unwrap();
        assert!(!c.enabled(&on, p) && c.enabled(&opt_in, p));
        let c = Config::parse(&format!(
            "extend-select = [{opt_in:?}]\nignore = [{opt_in:?}]\n"
        ))
        .unwrap();
        assert!(!c.enabled(&opt_in, p));
        assert!(Config::parse("extend-select = [\"ZZ\"]\n").is_err());
    }

    #[test]
    fn parameters_are_typed() {
        let c = Config::parse("[rules.TD003]\nstartup_time = 90\n").unwrap();
        assert_eq!(c.param("TD003", "startup_time"), Some(&Value::from(90)));
        let e = Config::parse("[rules.TD003]\nstartup_time = \"90\"\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = Config::parse("[rules.TD003]\nnope = 1\n").unwrap_err();
        assert!(e.message.contains("has no parameter"), "{}", e.message);
        for bad in ["-5", "1.5"] {
            let e = Config::parse(&format!("\n[rules.TD003]\nstartup_time = {bad}\n")).unwrap_err();
            assert_eq!(e.line, 3, "{bad}");
            assert!(e.message.contains("whole number"), "{}", e.message);
        }
    }
}
