//! What a run found and did, in a form every output format renders from. Nothing here holds
//! a document: units are reduced to this as soon as they are processed.

pub mod diff;
pub mod json;
pub mod markdown;
pub mod mask;
pub mod sarif;
pub mod text;

use std::path::{Component, Path, PathBuf};

use crate::config::{Config, FILE_NAME, Suppression};
use crate::engine::Status;
use crate::errors::FileError;
use crate::meta::Safety;
use crate::model::Kind;

pub use crate::registry::sha256_hex;
pub use mask::Mask;

/// A path as shown to the user: relative to the current directory where possible, without
/// `./`, with `/` separators (as `git apply` expects).
pub fn display_path(p: &Path) -> String {
    // The working directory, read once: every path of a run is shown relative to it.
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let rel = if p.is_absolute() {
        CWD.get_or_init(|| std::env::current_dir().ok())
            .as_deref()
            .and_then(|cwd| p.strip_prefix(cwd).ok())
            .unwrap_or(p)
    } else {
        p
    };
    // Most paths are already clean: shown as they are, without being taken apart.
    if let Some(s) = rel.to_str().filter(|s| is_clean(s)) {
        return s.to_string();
    }
    let cleaned: PathBuf = rel
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    cleaned.to_string_lossy().replace('\\', "/")
}

/// Whether a relative path is written as `display_path` would write it: no `.` component, no
/// empty one (`//`, a trailing `/`), no backslash.
fn is_clean(s: &str) -> bool {
    !s.starts_with('/')
        && !s.ends_with('/')
        && !s.contains('\\')
        && !s.contains("//")
        && s.split('/').all(|c| c != ".")
}

/// How a configuration is named in reports.
impl Config {
    /// The configuration file's name as shown to the user.
    pub fn shown_source(&self) -> String {
        self.source
            .as_deref()
            .map(display_path)
            .unwrap_or_else(|| FILE_NAME.to_string())
    }

    /// Where entry `s` is written, as `FILE:LINE`.
    pub fn suppression_origin(&self, s: &Suppression) -> String {
        format!("{}:{}", self.shown_source(), s.line)
    }
}

#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub units: Vec<UnitReport>,
    /// Files that could not be read or parsed (no unit).
    pub errors: Vec<FileError>,
    pub warnings: Vec<String>,
    /// Whether fixes were written (`--apply`).
    pub applied: bool,
    /// The signal that stopped the run between files, if one did.
    pub interrupted: Option<i32>,
    /// What units printed as they went (text and patch output) and then dropped.
    pub streamed: Tally,
}

/// The counts of findings and files printed as the run went, whose reports were dropped.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub findings: usize,
    pub fixed: usize,
    pub addressed: usize,
    pub suppressed: usize,
    pub changed_files: usize,
    /// Whether a finding still needs something (see [`RunReport::exit_code`]).
    pub pending: bool,
}

impl Tally {
    /// Counts a unit's findings and changed files; with `drop`, removes them from it.
    pub fn add(&mut self, unit: &mut UnitReport, applied: bool) {
        self.findings += unit.findings.len();
        for f in &unit.findings {
            match f.status {
                Status::Fixed => self.fixed += 1,
                Status::Addressed => self.addressed += 1,
                Status::Suppressed(_) => self.suppressed += 1,
                _ => {}
            }
            self.pending |= finding_pending(&f.status, applied);
        }
        self.changed_files += unit.files.iter().filter(|f| f.diff.is_some()).count();
        unit.findings = Vec::new();
        unit.files = Vec::new();
    }
}

fn finding_pending(status: &Status, applied: bool) -> bool {
    match status {
        Status::Addressed | Status::Suppressed(_) => false,
        Status::Fixed => !applied,
        _ => true,
    }
}

#[derive(Clone, Debug, Default)]
pub struct UnitReport {
    pub files: Vec<FileReport>,
    pub findings: Vec<FindingReport>,
    pub secrets: Vec<String>,
    pub bugs: Vec<String>,
    /// Files of this unit that could not be written.
    pub errors: Vec<FileError>,
}

#[derive(Clone, Debug)]
pub struct FileReport {
    /// Relative to the current directory where possible, `/`-separated.
    pub path: String,
    pub kind: Kind,
    /// What the whole file is when it holds objects of several kinds (`cloudformation`).
    pub file_kind: Option<&'static str>,
    /// The exact unified diff of the fixes (unmasked: mask before printing).
    pub diff: Option<String>,
    /// The original and fixed text, for formats that need them.
    pub original: Option<String>,
    pub fixed: Option<String>,
    pub written: bool,
    /// Lower-case hex SHA-256 of the file's content as read (for the markdown marker).
    /// Hex SHA-256 of the original content; empty when the run keeps no texts (text, patch).
    pub sha256: String,
}

#[derive(Clone, Debug)]
pub struct FindingReport {
    pub rule: &'static str,
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub status: Status,
    pub fix_title: Option<String>,
    pub safety: Option<Safety>,
    pub follow_ups: Vec<String>,
    /// The node the finding is about, as a normalized JSONPath (`$['a'][0]`) into its
    /// document as read; `None` for log lines.
    pub node: Option<String>,
    /// The `[[suppress]]` entry that silenced it (its status is then `Suppressed`).
    pub suppression: Option<SuppressionReport>,
}

/// Where a finding was suppressed, and why.
#[derive(Clone, Debug)]
pub struct SuppressionReport {
    /// The configuration file, as shown to the user.
    pub config: String,
    /// 1-based line of the `[[suppress]]` entry.
    pub line: usize,
    /// The JSONPath expression.
    pub selector: String,
    pub reason: Option<String>,
}

/// The status of a finding as every machine-readable format names it.
pub fn status_name(status: &Status, applied: bool) -> &'static str {
    match status {
        Status::Fixed if applied => "fixed",
        Status::Fixed => "fixable",
        Status::NeedsUnsafe => "unsafe",
        Status::Manual => "manual",
        Status::FixFailed(_) => "fix-failed",
        Status::Addressed => "addressed",
        Status::Suppressed(_) => "suppressed",
    }
}

/// Replaces every string of a JSON value (keys included) by its masked form, so that a
/// secret can never reach a JSON-based format, whatever field it ended up in.
pub fn mask_json(v: &mut serde_json::Value, mask: &Mask) {
    use serde_json::Value;
    if mask.is_empty() {
        return;
    }
    match v {
        Value::String(s) => {
            let m = mask.apply(s);
            if m != *s {
                *s = m;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| mask_json(x, mask)),
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                mask_json(&mut x, mask);
                o.insert(mask.apply(&k), x);
            }
        }
        _ => {}
    }
}

impl RunReport {
    /// Ids of the fixes in the output (applied, or shown as a diff in a dry run), sorted.
    pub fn fixed_ids(&self) -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = self
            .findings()
            .filter(|f| f.status == Status::Fixed)
            .map(|f| f.rule)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// SHA-256 over every input file, in path order: for each, its path, a NUL, the hex
    /// SHA-256 of its content and a newline. Independent of the fixes and of the catalog.
    pub fn input_digest(&self) -> String {
        let mut files: Vec<(&str, &str)> = self
            .files()
            .map(|f| (f.path.as_str(), f.sha256.as_str()))
            .collect();
        files.sort_unstable();
        files.dedup();
        let mut buf = String::new();
        for (path, sha) in files {
            buf.push_str(path);
            buf.push('\0');
            buf.push_str(sha);
            buf.push('\n');
        }
        sha256_hex(buf.as_bytes())
    }

    pub fn mask(&self) -> Mask {
        Mask::new(self.units.iter().flat_map(|u| u.secrets.iter().cloned()))
    }

    pub fn findings(&self) -> impl Iterator<Item = &FindingReport> {
        self.units.iter().flat_map(|u| u.findings.iter())
    }

    pub fn files(&self) -> impl Iterator<Item = &FileReport> {
        self.units.iter().flat_map(|u| u.files.iter())
    }

    pub fn all_errors(&self) -> impl Iterator<Item = &FileError> {
        self.errors
            .iter()
            .chain(self.units.iter().flat_map(|u| u.errors.iter()))
    }

    pub fn bugs(&self) -> impl Iterator<Item = &String> {
        self.units.iter().flat_map(|u| u.bugs.iter())
    }

    /// 0: nothing found; 1: changes pending or findings remain (dry run), or findings that need
    /// a person remain (apply); 2: a file could not be read, parsed or written, or a fix failed;
    /// 128 + N: stopped between files by signal N (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_code(&self) -> i32 {
        if let Some(sig) = self.interrupted {
            return crate::interrupt::exit_status(sig);
        }
        if self.all_errors().next().is_some() || self.bugs().next().is_some() {
            return 2;
        }
        let pending = self.streamed.pending
            || self
                .findings()
                .any(|f| finding_pending(&f.status, self.applied));
        if pending { 1 } else { 0 }
    }
}

#[cfg(test)]
mod display_path_tests {
    use super::*;

    /// The shortcut for clean paths shows what taking the path apart shows.
    #[test]
    fn clean_paths_are_shown_as_taking_them_apart_shows() {
        let apart = |s: &str| {
            let cleaned: PathBuf = Path::new(s)
                .components()
                .filter(|c| !matches!(c, Component::CurDir))
                .collect();
            cleaned.to_string_lossy().replace('\\', "/")
        };
        let paths = [
            "",
            ".",
            "./",
            "a",
            "a/b.yml",
            "./a/b",
            "a/./b",
            "a/.",
            "a//b",
            "a/b/",
            "../a/b",
            "a/../b",
            "a\\b",
            ".a/..b/c.",
            "services/team-00/x/ci/buildspec.yml",
            "a/.hidden/./x",
        ];
        let mut shortcut = 0;
        for s in paths {
            assert_eq!(display_path(Path::new(s)), apart(s), "{s:?}");
            shortcut += usize::from(is_clean(s));
        }
        assert!(shortcut >= 6, "{shortcut}");
    }
}
