//! check → fix → verify → repeat, for one unit of files.
//!
//! Each pass checks every fix of the catalog against the unit, then applies at most one fix
//! per file. Edits are addressed by path and resolved against the file as it is *now*, so an
//! earlier fix can never leave a later one pointing at stale offsets. Every edit is re-parsed
//! and its meaning checked by the document layer; the fix is then checked again and must no
//! longer report what it fixed. A fix that fails either check is undone and reported as a bug
//! in that fix. The loop ends when no fix applies, or after [`MAX_PASSES`] (a bug too).

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use crate::catalog::{self, Context, Finding, Location, Rule, Safety, meta};
use crate::config::Config;
use crate::document::{Document, Limits};
use crate::model::Kind;
use crate::workspace::{Body, Facts, Unit};

pub const MAX_PASSES: usize = 32;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub unsafe_fixes: bool,
    pub limits: Limits,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The fix is in the output (written with `--apply`, shown as a diff otherwise).
    Fixed,
    /// A fix exists but changes behaviour more deeply: needs `--unsafe-fixes`.
    NeedsUnsafe,
    /// A person has to act.
    Manual,
    /// The fix was tried and refused by verification (a bug in the fix).
    FixFailed(String),
    /// A log signature whose configuration fixes have all been made: the log shows a past
    /// failure that the configuration no longer causes.
    Addressed,
    /// Silenced by the `[[suppress]]` entry of this index in the configuration: reported,
    /// never fixed.
    Suppressed(usize),
}

/// A finding as reported, with its position at the time it was found.
#[derive(Clone, Debug)]
pub struct Reported {
    pub finding: Finding,
    pub status: Status,
    pub line: usize,
    pub col: usize,
}

#[derive(Clone, Debug)]
pub struct FileResult {
    /// Index in the unit.
    pub index: usize,
    pub original: String,
    /// The fixed text, when it differs from the original.
    pub fixed: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct UnitResult {
    pub unit: Unit,
    pub files: Vec<FileResult>,
    pub findings: Vec<Reported>,
    /// Failures of the engine or of a fix: always a bug to report upstream.
    pub bugs: Vec<(usize, String)>,
}

/// Run the catalog over `unit` until nothing changes.
pub fn run(mut unit: Unit, config: &Config, opts: &Options) -> UnitResult {
    let originals: Vec<String> = unit.files.iter().map(text_of).collect();
    let mut fixed: Vec<Reported> = Vec::new();
    let mut failed: HashSet<(&'static str, usize, Location)> = HashSet::new();
    let mut failures: BTreeMap<(&'static str, usize, Location), String> = BTreeMap::new();
    let mut bugs = Vec::new();
    let mut remaining = None;

    for _pass in 0..MAX_PASSES {
        let findings = check(&unit, config, None);
        let mut chosen: BTreeMap<usize, Finding> = BTreeMap::new();
        for f in &findings {
            if allowed(f, opts)
                && !failed.contains(&f.key())
                && !chosen.contains_key(&f.file)
                && suppression(&unit, config, f).is_none()
            {
                chosen.insert(f.file, f.clone());
            }
        }
        if chosen.is_empty() {
            remaining = Some(findings);
            break;
        }
        for (file, finding) in chosen {
            let (line, col) = position(&unit, &finding);
            match apply_fix(&mut unit, config, opts, &finding) {
                Ok(()) => fixed.push(Reported {
                    finding,
                    status: Status::Fixed,
                    line,
                    col,
                }),
                Err(why) => {
                    let path = unit.files[file].path.display().to_string();
                    bugs.push((
                        file,
                        format!(
                            "{path}: fix {} was not applied: {why} (this is a bug in {}; please report it)",
                            finding.rule, finding.rule
                        ),
                    ));
                    failed.insert(finding.key());
                    failures.insert(finding.key(), why);
                }
            }
        }
    }
    let remaining = match remaining {
        Some(r) => r,
        None => {
            let ids: Vec<&str> = fixed.iter().map(|r| r.finding.rule).collect();
            bugs.push((
                0,
                format!(
                    "fixes did not converge after {MAX_PASSES} passes (fixes involved: {}); this is a bug",
                    ids.join(", ")
                ),
            ));
            check(&unit, config, None)
        }
    };

    // Fixes that still have something to say after the run.
    let open: HashSet<&'static str> = remaining.iter().map(|f| f.rule).collect();
    let mut findings = fixed;
    for f in remaining {
        // Addressed: every fix the log points to runs here and has nothing left to say.
        let addressed = meta::get(f.rule)
            .and_then(|m| m.signature.as_ref())
            .is_some_and(|s| {
                !s.points_to.is_empty()
                    && s.points_to.iter().all(|id| {
                        !open.contains(id.as_str())
                            && catalog::rules().iter().any(|r| r.id() == id)
                            && unit.files.iter().any(|file| config.enabled(id, &file.path))
                    })
            });
        let status = if let Some(i) = suppression(&unit, config, &f) {
            Status::Suppressed(i)
        } else if let Some(why) = failures.get(&f.key()) {
            Status::FixFailed(why.clone())
        } else if addressed {
            Status::Addressed
        } else {
            match &f.fix {
                Some(fix) if fix.safety == Safety::Unsafe && !opts.unsafe_fixes => {
                    Status::NeedsUnsafe
                }
                _ => Status::Manual,
            }
        };
        let (line, col) = position(&unit, &f);
        findings.push(Reported {
            finding: f,
            status,
            line,
            col,
        });
    }
    findings.sort_by(|a, b| {
        (a.finding.file, a.line, a.col, a.finding.rule).cmp(&(
            b.finding.file,
            b.line,
            b.col,
            b.finding.rule,
        ))
    });

    let files = unit
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let now = text_of(f);
            let original = originals[i].clone();
            FileResult {
                index: i,
                fixed: (now != original).then_some(now),
                original,
            }
        })
        .collect();
    UnitResult {
        unit,
        files,
        findings,
        bugs,
    }
}

fn text_of(f: &crate::workspace::File) -> String {
    match &f.body {
        Body::Doc { doc, .. } => doc.text().to_string(),
        Body::Log { text } => text.clone(),
    }
}

fn allowed(f: &Finding, opts: &Options) -> bool {
    match &f.fix {
        Some(fix) if !fix.ops.is_empty() => match fix.safety {
            Safety::Safe => true,
            Safety::Unsafe => opts.unsafe_fixes,
            Safety::Manual => false,
        },
        _ => false,
    }
}

/// Apply one finding's fix to its file, or leave the unit as it was and say why.
fn apply_fix(
    unit: &mut Unit,
    config: &Config,
    opts: &Options,
    finding: &Finding,
) -> Result<(), String> {
    let Some(fix) = &finding.fix else {
        return Err("no fix".into());
    };
    let file = &unit.files[finding.file];
    let Body::Doc { doc, root } = &file.body else {
        return Err("logs are never rewritten".into());
    };
    let root = root.clone();
    // Each edit makes a new document from the previous one: the original is never cloned.
    let mut edited: Option<Document> = None;
    for op in &fix.ops {
        let from = edited.as_ref().unwrap_or(doc);
        edited = Some(from.apply(op, &opts.limits).map_err(|e| e.to_string())?);
    }
    let doc = edited.unwrap_or_else(|| doc.clone());
    let before = std::mem::replace(
        &mut unit.files[finding.file].body,
        Body::Doc {
            doc,
            root: root.clone(),
        },
    );
    // Other objects of the same document (several services in one file) see the edit.
    let siblings = unit.same_document(finding.file);
    let mut before_siblings = Vec::new();
    for &j in &siblings {
        if let (Body::Doc { doc, .. }, Body::Doc { root, .. }) =
            (&unit.files[finding.file].body, &unit.files[j].body)
        {
            let body = Body::Doc {
                doc: doc.clone(),
                root: root.clone(),
            };
            before_siblings.push((j, std::mem::replace(&mut unit.files[j].body, body)));
        }
    }
    // The fix must no longer report what it fixed.
    let again = check(unit, config, Some(finding.rule));
    if again.iter().any(|f| f.key() == finding.key()) {
        unit.files[finding.file].body = before;
        for (j, body) in before_siblings {
            unit.files[j].body = body;
        }
        return Err(format!(
            "after the edit it still reports: {}",
            finding.message
        ));
    }
    // A buildspec edit must stay valid shell where it runs.
    if unit.files[finding.file].kind == Kind::Buildspec
        && let (Body::Doc { doc: old, root: r0 }, Body::Doc { doc: new, root: r1 }) =
            (&before, &unit.files[finding.file].body)
        && let (Some(v0), Some(v1)) = (old.value_at(r0), new.value_at(r1))
    {
        let problems =
            catalog::buildspec_shell::check_edit((v0, old.text()), (v1, new.text()), r0, r1);
        if !problems.is_empty() {
            unit.files[finding.file].body = before;
            return Err(format!(
                "the edited buildspec would break in the shell: {}",
                problems.join("; ")
            ));
        }
    }
    Ok(())
}

/// Every enabled fix's findings on the unit (or only those of `only`).
pub fn check(unit: &Unit, config: &Config, only: Option<&str>) -> Vec<Finding> {
    let facts = Facts::gather(unit, config);
    let mut out = Vec::new();
    for (rule, m, kinds) in rule_table() {
        let (rule, m) = (rule.as_ref(), *m);
        if only.is_some_and(|id| id != rule.id()) {
            continue;
        }
        if !unit.files.iter().any(|f| kinds.contains(&f.kind)) {
            continue;
        }
        if !unit
            .files
            .iter()
            .any(|f| config.enabled(rule.id(), &f.path))
        {
            continue;
        }
        let cx = Context {
            unit,
            facts: &facts,
            config,
            meta: m,
        };
        let start = out.len();
        rule.check(&cx, &mut out);
        // Per-path ignores and inline suppressions apply to the file a finding is in.
        let mut kept = out.split_off(start);
        kept.retain(|f| {
            let file = &unit.files[f.file];
            config.enabled(f.rule, &file.path) && !suppressed(unit, f)
        });
        out.extend(kept);
    }
    out
}

/// Every rule of the catalog with its metadata and the kinds it reads, in catalog order,
/// looked up once for the whole run.
type RuleEntry = (&'static Box<dyn Rule>, &'static catalog::Meta, Vec<Kind>);

fn rule_table() -> &'static [RuleEntry] {
    static TABLE: OnceLock<Vec<RuleEntry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        catalog::rules()
            .iter()
            .filter_map(|rule| {
                let m = meta::get(rule.id())?;
                Some((rule, m, m.kinds()))
            })
            .collect()
    })
}

/// 1-based line and column of a finding in its file as it is now.
pub fn position(unit: &Unit, f: &Finding) -> (usize, usize) {
    let file = &unit.files[f.file];
    match (&f.location, &file.body) {
        (Location::Node(path), Body::Doc { doc, .. }) => doc.locate(path),
        (Location::Line(n), _) => (*n, 1),
        _ => (1, 1),
    }
}

/// The index of the first `[[suppress]]` entry of the configuration that silences `f`: one
/// about its fix and its file whose JSONPath expression selects the finding's node or a node
/// that holds it. Evaluated on the document as it is now.
pub fn suppression(unit: &Unit, config: &Config, f: &Finding) -> Option<usize> {
    if config.suppress.is_empty() {
        return None;
    }
    let Location::Node(at) = &f.location else {
        return None;
    };
    let file = &unit.files[f.file];
    let (doc, _) = file.doc()?;
    config.suppress.iter().position(|s| {
        s.covers(f.rule)
            && config.suppression_matches_file(s, &file.path)
            && s.selector
                .select(doc.value())
                .iter()
                .any(|node| at.starts_with(node))
    })
}

/// `# pipefix: ignore[ID]` (ids or prefixes, comma-separated) on the finding's line or on
/// the line above it silences the finding. YAML only: JSON has no comments.
fn suppressed(unit: &Unit, f: &Finding) -> bool {
    let file = &unit.files[f.file];
    let Body::Doc { doc, .. } = &file.body else {
        return false;
    };
    if doc.format() != crate::document::Format::Yaml || !doc.text().contains("pipefix:") {
        return false;
    }
    let (line, _) = position(unit, f);
    let lines: Vec<&str> = doc.text().lines().collect();
    let candidates = [line.checked_sub(1), line.checked_sub(2)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|i| lines.get(i))
        .any(|l| {
            suppression_ids(l)
                .iter()
                .any(|p| f.rule.starts_with(p.as_str()))
        })
}

fn suppression_ids(line: &str) -> Vec<String> {
    let Some(i) = line.find("# pipefix: ignore[") else {
        return Vec::new();
    };
    let rest = &line[i + "# pipefix: ignore[".len()..];
    let Some(end) = rest.find(']') else {
        return Vec::new();
    };
    rest[..end]
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_comment_lists_ids() {
        assert_eq!(
            suppression_ids("  - echo hi # pipefix: ignore[BS007, TD]"),
            vec!["BS007".to_string(), "TD".to_string()]
        );
        assert!(suppression_ids("# pipefix ignore").is_empty());
    }
}
