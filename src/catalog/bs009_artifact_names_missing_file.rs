//! BS009: an `artifacts.files` / `secondary-artifacts` entry names an AppSpec or task definition
//! the repository does not have, while the unit has that file under another spelling
//! (`appspec.yaml` for `appspec.yml`, `taskdef.json` for `task-definition.json`).

use std::path::{Path as FsPath, PathBuf};

use serde_json::Value;

use crate::document::{Op, Path};
use crate::model::Kind;
use crate::workspace::Unit;

use super::buildspec::{commands, ships};
use super::support::{codedeploy_actions, docs_of};
use super::{Context, Finding, Safety};

pub struct Rule;

/// The two files a CodeDeployToECS action reads from an artifact by name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wanted {
    Appspec,
    TaskDef,
}

impl Wanted {
    fn kind(self) -> Kind {
        match self {
            Wanted::Appspec => Kind::Appspec,
            Wanted::TaskDef => Kind::TaskDef,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Wanted::Appspec => "AppSpec",
            Wanted::TaskDef => "task definition",
        }
    }

    /// The action's setting for this file and its default.
    fn setting(self) -> (&'static str, &'static str) {
        match self {
            Wanted::Appspec => ("AppSpecTemplatePath", "appspec.yaml"),
            Wanted::TaskDef => ("TaskDefinitionTemplatePath", "taskdef.json"),
        }
    }
}

/// A file name reduced to what a person means by it: case, `-`, `_` and `.` in the stem
/// dropped, `task-definition` read as `taskdef`, `.yml` as `.yaml`. Two names with the same
/// reduction are spellings of one file. `None` for names that are neither an AppSpec nor a
/// task definition.
fn spelling(file_name: &str) -> Option<(Wanted, String)> {
    let lower = file_name.to_ascii_lowercase();
    let (stem, ext) = lower.rsplit_once('.')?;
    let ext = match ext {
        "yml" | "yaml" => "yaml",
        "json" => "json",
        _ => return None,
    };
    let squashed: String = stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .replace("taskdefinition", "taskdef");
    let wanted = if squashed.contains("appspec") {
        Wanted::Appspec
    } else if squashed.contains("taskdef") {
        Wanted::TaskDef
    } else {
        return None;
    };
    Some((wanted, format!("{squashed}.{ext}")))
}

fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '[', '{'])
}

/// One literal entry of an artifact's `files`.
struct Entry<'a> {
    path: Path,
    text: &'a str,
    /// The other entries of the same list.
    siblings: Vec<&'a str>,
    discard_paths: bool,
}

/// The literal entries of the primary and secondary artifacts, without `base-directory` (files
/// are then relative to a folder the build makes).
fn entries<'a>(bs: &'a Value, root: &Path) -> Vec<Entry<'a>> {
    let mut out = Vec::new();
    let mut artifact = |a: &'a Value, at: Path| {
        if a.get("base-directory").is_some() {
            return;
        }
        let discard_paths = a.get("discard-paths").is_some_and(|v| {
            matches!(v, Value::Bool(true))
                || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("yes"))
        });
        let files_path = at.key("files");
        let list: Vec<(Path, &str)> = match a.get("files") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.as_str().map(|s| (files_path.index(i), s)))
                .collect(),
            Some(Value::String(s)) => vec![(files_path, s.as_str())],
            _ => Vec::new(),
        };
        for (k, (path, text)) in list.iter().enumerate() {
            if is_glob(text) {
                continue;
            }
            out.push(Entry {
                path: path.clone(),
                text,
                siblings: list
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .map(|(_, (_, s))| *s)
                    .collect(),
                discard_paths,
            });
        }
    };
    if let Some(a) = bs.get("artifacts") {
        artifact(a, root.key("artifacts"));
        if let Some(secondary) = a.get("secondary-artifacts").and_then(Value::as_object) {
            for (id, s) in secondary {
                artifact(s, root.key("artifacts").key("secondary-artifacts").key(id));
            }
        }
    }
    out
}

/// A unit file's path relative to `dir`, with `/` separators.
fn relative(path: &FsPath, dir: &FsPath) -> Option<String> {
    let rel = path.strip_prefix(dir).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// What the unit's CodeDeployToECS actions read for `wanted` (their setting or its default);
/// `None` when the unit has no such action.
fn read_by_pipeline(unit: &Unit, wanted: Wanted) -> Option<Vec<String>> {
    let (key, default) = wanted.setting();
    let actions = codedeploy_actions(unit);
    if actions.is_empty() {
        return None;
    }
    Some(
        actions
            .iter()
            .map(|(_, a)| {
                a.configuration(key)
                    .and_then(Value::as_str)
                    .unwrap_or(default)
                    .trim_start_matches("./")
                    .to_string()
            })
            .collect(),
    )
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS009"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let bs_path = &cx.unit.files[file].path;
            let bs_dir = bs_path.parent().unwrap_or(FsPath::new("")).to_path_buf();
            // CodeBuild runs in the source root: the buildspec's folder, or the folder above
            // when the buildspec sits in a `ci/`, `deploy/`… folder of the unit.
            let source_root = crate::discover::unit_key(bs_path);
            let roots: Vec<PathBuf> = if source_root == bs_dir {
                vec![bs_dir.clone()]
            } else {
                vec![bs_dir.clone(), source_root.clone()]
            };
            let lines: Vec<&str> = commands(bs, root).into_iter().map(|c| c.text).collect();
            for e in entries(bs, root) {
                let entry = e.text.trim().trim_start_matches("./");
                let (entry_dir, entry_name) = match entry.rsplit_once('/') {
                    Some((d, n)) => (d, n),
                    None => ("", entry),
                };
                let Some((wanted, spelled)) = spelling(entry_name) else {
                    continue;
                };
                // The file exists (in the unit or beside it), or the build makes it.
                if roots.iter().any(|r| r.join(entry).exists())
                    || cx
                        .unit
                        .files
                        .iter()
                        .any(|f| roots.iter().any(|r| f.path == r.join(entry)))
                    || lines.iter().any(|l| l.contains(entry_name))
                {
                    continue;
                }
                // The unit's files of the kind, under another spelling of the name, in the
                // entry's folder.
                let candidates: Vec<String> = cx
                    .unit
                    .of_kind(wanted.kind())
                    .filter_map(|(_, f)| relative(&f.path, &source_root))
                    .filter(|rel| {
                        let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
                        dir == entry_dir
                            && spelling(name).is_some_and(|(w, s)| w == wanted && s == spelled)
                    })
                    .collect();
                let Some(existing) = candidates.first() else {
                    continue;
                };
                // Another entry of the same artifact already ships it.
                if e.siblings
                    .iter()
                    .any(|s| ships(s, existing, e.discard_paths))
                {
                    continue;
                }
                let f = Finding::at(
                    cx.id(),
                    file,
                    e.path.clone(),
                    format!(
                        "the artifact lists {entry}, which the repository does not have (it has {}): the artifact will lack the {} and the deploy cannot read it",
                        candidates.join(", "),
                        wanted.what()
                    ),
                );
                if candidates.len() > 1 {
                    out.push(f.follow_up(format!(
                        "List the {} the deploy uses ({}) instead of {entry}",
                        wanted.what(),
                        candidates.join(" or ")
                    )));
                    continue;
                }
                let (setting, default) = wanted.setting();
                let fix = |f: Finding| {
                    f.with_fix(
                        format!("list {existing}, the file the repository has"),
                        vec![Op::Replace {
                            path: e.path.clone(),
                            value: Value::String(existing.clone()),
                        }],
                    )
                };
                out.push(match read_by_pipeline(cx.unit, wanted) {
                    // The pipeline reads the existing name, or no CodeDeployToECS action reads
                    // the file by name.
                    Some(paths) if paths.iter().any(|p| p == existing) => fix(f),
                    Some(paths) if !paths.is_empty() => f.follow_up(format!(
                        "The pipeline reads {} as {setting}: rename {existing} to {entry} in the repository, or list {existing} and set {setting} to it",
                        paths.join(", ")
                    )),
                    None if cx.unit.of_kind(Kind::CodePipeline).next().is_some() => {
                        fix(f)
                    }
                    // No pipeline in the unit: the action reads `default` unless it sets
                    // another path. Listing the existing file is right as it stands only when
                    // it is the default name.
                    _ if existing == default => fix(f),
                    // Otherwise the action may read another path than the listed file: the
                    // fix is right only once a person sets the action's path, so it is unsafe.
                    _ => fix(f).lower_safety(Safety::Unsafe).follow_up(format!(
                        "The CodeDeployToECS action reads {setting} (default {default}) from the artifact: set it to {existing}, or rename the file to {default} and list that"
                    )),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let s = |n: &str| spelling(n).map(|(_, s)| s);
        assert_eq!(s("appspec.yml"), s("appspec.yaml"));
        assert_eq!(s("AppSpec.YAML"), s("appspec.yml"));
        assert_ne!(s("appspec.json"), s("appspec.yaml"));
        assert_eq!(s("taskdef.json"), s("task-definition.json"));
        assert_eq!(s("task_definition.json"), s("taskdef.json"));
        assert_ne!(s("taskdef_src.json"), s("taskdef.json"));
        assert_eq!(s("imageDetail.json"), None);
        assert_eq!(
            spelling("taskdef.json").map(|(w, _)| w),
            Some(Wanted::TaskDef)
        );
    }
}
