//! BS004: on the CodeDeploy path the build writes `imageDetail.json` and ships it with the task
//! definition template and the AppSpec.

use serde_json::{Value, json};

use crate::document::{Op, Position};
use crate::model::Kind;
use crate::workspace::Unit;

use super::image_tags::{Tag, is_fixed_value, is_latest, pushed, tag_of};
use super::buildspec::{commands, referenced_vars, ships, variable_value};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

pub const IMAGE_DETAIL: &str = "imageDetail.json";

/// The template paths the CodeDeployToECS action reads (defaults `taskdef.json`, `appspec.yaml`).
fn template_paths(unit: &Unit) -> (String, String) {
    let mut td = "taskdef.json".to_string();
    let mut ap = "appspec.yaml".to_string();
    for (_, pipeline) in unit.pipelines() {
        for a in pipeline.actions() {
            if a.provider() != Some("CodeDeployToECS") {
                continue;
            }
            if let Some(p) = a
                .configuration("TaskDefinitionTemplatePath")
                .and_then(Value::as_str)
            {
                td = p.to_string();
            }
            if let Some(p) = a
                .configuration("AppSpecTemplatePath")
                .and_then(Value::as_str)
            {
                ap = p.to_string();
            }
            return (td, ap);
        }
    }
    // Without a pipeline: the unit's own files when they sit next to the buildspec.
    let dir_of = |k: Kind| {
        unit.single(k)
            .map(|(_, f)| (f.path.parent().map(|p| p.to_path_buf()), f.file_name()))
    };
    let bs_dir = dir_of(Kind::Buildspec).and_then(|(d, _)| d);
    if let Some((d, name)) = dir_of(Kind::TaskDef)
        && d == bs_dir
    {
        td = name;
    }
    if let Some((d, name)) = dir_of(Kind::Appspec)
        && d == bs_dir
    {
        ap = name;
    }
    (td, ap)
}

/// What the unit's pipelines say the build must provide to their CodeDeployToECS actions.
struct Needs {
    /// A CodeDeployToECS action is in the unit.
    codedeploy: bool,
    /// `Image1ArtifactName` names a build output (not an ECR source action's output, which
    /// carries imageDetail.json itself).
    detail: bool,
    /// The task definition / AppSpec template artifact is a build output (not the source).
    taskdef: bool,
    appspec: bool,
}

fn needs(unit: &Unit) -> Needs {
    let mut n = Needs {
        codedeploy: false,
        detail: false,
        taskdef: false,
        appspec: false,
    };
    for (_, pipeline) in unit.pipelines() {
        let actions = pipeline.actions();
        let mut built: Vec<&str> = Vec::new();
        for a in &actions {
            if a.category() == Some("Build") {
                built.extend(a.output_artifacts());
            }
        }
        for a in &actions {
            if a.provider() != Some("CodeDeployToECS") {
                continue;
            }
            n.codedeploy = true;
            let cfg = |k: &str| a.configuration(k).and_then(Value::as_str);
            let is_built = |k: &str| cfg(k).is_some_and(|x| built.contains(&x));
            n.detail |= is_built("Image1ArtifactName");
            n.taskdef |= is_built("TaskDefinitionTemplateArtifact");
            n.appspec |= is_built("AppSpecTemplateArtifact");
        }
    }
    n
}

/// A line that writes imageDetail.json in another shape than `{"ImageURI": "…"}` (the
/// imagedefinitions.json list, or another key).
fn wrong_shape(line: &str) -> bool {
    let Some(i) = line.find(IMAGE_DETAIL) else {
        return false;
    };
    let writes = line[..i].trim_end().ends_with('>');
    writes
        && !line.contains("ImageURI")
        && (line.contains("imageUri") || line.contains("[{") || line.contains("\"name\""))
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS004"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // Written in the wrong shape: CodeDeployToECS (and nothing else) reads this file.
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            for c in commands(bs, root) {
                if c.lines().any(wrong_shape) {
                    out.push(
                        Finding::at(
                            cx.id(),
                            file,
                            c.path(),
                            format!(
                                "{} writes {IMAGE_DETAIL} in another shape than {{\"ImageURI\": \"…\"}} (the imagedefinitions.json list?): CodeDeployToECS cannot read the image from it",
                                c.phase
                            ),
                        )
                        .follow_up(format!(
                            "Write it as `printf '{{\"ImageURI\":\"%s\"}}' \"$REPOSITORY_URI:$IMAGE_TAG\" > {IMAGE_DETAIL}`"
                        )),
                    );
                }
            }
        }
        // Without a pipeline in the unit nothing else is provable: whether a CodeDeployToECS
        // action reads this build's output (and which files from it) only the pipeline says;
        // the build may as well feed the ECS standard action, or fill in a task definition
        // itself (`sed`, `envsubst`). `needs` finds no CodeDeployToECS action then.
        let n = needs(cx.unit);
        if !n.codedeploy {
            return;
        }
        let (td_path, ap_path) = template_paths(cx.unit);
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let cmds = commands(bs, root);
            let writes_detail = cmds
                .iter()
                .flat_map(|c| c.lines())
                .any(|l| l.contains(IMAGE_DETAIL) && l.contains('>'));
            let writes_defs = cmds
                .iter()
                .flat_map(|c| c.lines())
                .any(|l| l.contains("imagedefinitions.json") && l.contains('>'));
            if n.detail && !writes_detail {
                self.writer(cx, file, bs, root, &cmds, writes_defs, out);
            }
            // The artifact must carry the files the action reads from the build output.
            let artifacts = bs.get("artifacts");
            let discard = artifacts
                .and_then(|a| a.get("discard-paths"))
                .is_some_and(|v| {
                    matches!(v, Value::Bool(true))
                        || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case("yes"))
                });
            let files: Vec<&str> = match artifacts.and_then(|a| a.get("files")) {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(s)) => vec![s.as_str()],
                _ => Vec::new(),
            };
            let wanted: Vec<String> = [
                (n.detail, IMAGE_DETAIL.to_string()),
                (n.taskdef, td_path.clone()),
                (n.appspec, ap_path.clone()),
            ]
            .into_iter()
            .filter_map(|(w, p)| w.then_some(p))
            .collect();
            let missing: Vec<String> = wanted
                .into_iter()
                .filter(|p| !files.iter().any(|pat| ships(pat, p, discard)))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let files_path = root.key("artifacts").key("files");
            let f = Finding::at(
                cx.id(),
                file,
                files_path.clone(),
                format!(
                    "the build artifact lacks {}, which the CodeDeployToECS action reads",
                    missing.join(", ")
                ),
            );
            let ops = match (artifacts, artifacts.and_then(|a| a.get("files"))) {
                (Some(a), _) if a.get("base-directory").is_some() => Vec::new(),
                (None, _) => vec![Op::InsertKey {
                    path: root.clone(),
                    key: "artifacts".to_string(),
                    value: json!({ "files": missing }),
                    position: Position::End,
                }],
                (Some(a), None) if a.is_object() => vec![Op::InsertKey {
                    path: root.key("artifacts"),
                    key: "files".to_string(),
                    value: json!(missing),
                    position: Position::Start,
                }],
                (Some(_), Some(Value::Array(a))) => missing
                    .iter()
                    .enumerate()
                    .map(|(k, p)| Op::InsertItem {
                        path: files_path.clone(),
                        index: a.len() + k,
                        value: Value::String(p.clone()),
                    })
                    .collect(),
                (Some(_), Some(Value::String(s))) => {
                    let mut all = vec![s.clone()];
                    all.extend(missing.iter().cloned());
                    vec![Op::Replace {
                        path: files_path.clone(),
                        value: json!(all),
                    }]
                }
                _ => Vec::new(),
            };
            out.push(if ops.is_empty() {
                f.follow_up(format!(
                    "List {} under artifacts.files (relative to base-directory, if you keep one)",
                    missing.join(", ")
                ))
            } else {
                f.with_fix(
                    "ship imageDetail.json, the task definition and the AppSpec",
                    ops,
                )
            });
        }
    }
}

impl Rule {
    #[allow(clippy::too_many_arguments)]
    fn writer(
        &self,
        cx: &Context<'_>,
        file: usize,
        bs: &Value,
        root: &crate::document::Path,
        cmds: &[super::buildspec::Command<'_>],
        writes_defs: bool,
        out: &mut Vec<Finding>,
    ) {
        let mutable = |r: &str| match tag_of(r, None) {
            Tag::Latest(_) => true,
            _ => {
                let tag = r.trim_matches('"').rsplit(':').next().unwrap_or("");
                referenced_vars(tag)
                    .first()
                    .and_then(|v| variable_value(bs, root, v))
                    .is_some_and(|v| is_latest(&v) && is_fixed_value(bs, root, &v))
            }
        };
        let pushes: Vec<(usize, String)> = cmds
            .iter()
            .enumerate()
            .flat_map(|(i, c)| c.lines().flat_map(pushed).map(move |r| (i, r)))
            .collect();
        let last_defs = cmds
            .iter()
            .rposition(|c| c.lines().any(|l| l.contains("imagedefinitions.json")));
        let immutable: Vec<&(usize, String)> = pushes.iter().filter(|(_, r)| !mutable(r)).collect();
        let mut repos: Vec<String> = immutable
            .iter()
            .map(|(_, r)| {
                r.trim_matches('"')
                    .rsplit_once(':')
                    .map_or(r.clone(), |(a, _)| a.to_string())
            })
            .collect();
        repos.dedup();
        let wrong = if writes_defs {
            " (it writes imagedefinitions.json, the ECS standard action's file, which CodeDeployToECS does not read)"
        } else {
            ""
        };
        let anchor = pushes.last().map(|(i, _)| *i).max(last_defs);
        let location = match anchor {
            Some(i) => cmds[i].path(),
            None => root.key("phases").key("post_build").key("commands"),
        };
        let f = Finding::at(
            cx.id(),
            file,
            location,
            format!(
                "the build does not write {IMAGE_DETAIL}, which the CodeDeployToECS action needs{wrong}"
            ),
        );
        let (Some((_, image)), Some(i), 1) = (immutable.last(), anchor, repos.len()) else {
            out.push(f.follow_up(if pushes.is_empty() {
                "Push the image, then write `printf '{\"ImageURI\":\"%s\"}' \"$REPOSITORY_URI:$IMAGE_TAG\" > imageDetail.json`".to_string()
            } else if immutable.is_empty() {
                "Push an immutable tag first (BS005), then write imageDetail.json with it".to_string()
            } else {
                "The build pushes several repositories: write imageDetail.json for the one the deployment's Image1 container runs".to_string()
            }));
            return;
        };
        let cmd = &cmds[i];
        let text = cx.unit.files[file]
            .doc()
            .map(|(d, _)| d.text())
            .unwrap_or_default();
        let shell = super::buildspec_shell::Shell::of(bs, root, text);
        let item = super::buildspec_shell::Shell::item_of(bs, root, &cmd.list, cmd.index) + 1;
        let expandable = referenced_vars(image)
            .iter()
            .all(|v| shell.available_before(item, v));
        if !expandable || (shell.template && image.contains("${")) {
            out.push(f.follow_up(format!(
                "Write imageDetail.json after the push in the same shell as the variables it uses: `printf '{{\"ImageURI\":\"%s\"}}' \"{}\" > {IMAGE_DETAIL}`",
                image.trim_matches('"')
            )));
            return;
        }
        let line = format!(
            "printf '{{\"ImageURI\":\"%s\"}}' \"{}\" > {IMAGE_DETAIL}",
            image.trim_matches('"')
        );
        out.push(f.with_fix(
            format!("write {IMAGE_DETAIL} with the pushed image"),
            vec![Op::InsertItem {
                path: (*cmd.list).clone(),
                index: cmd.index + 1,
                value: Value::String(line),
            }],
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_patterns() {
        assert!(ships("**/*", "taskdef.json", false));
        assert!(ships("*.json", "taskdef.json", false));
        assert!(!ships("*.json", "appspec.yaml", false));
        assert!(ships("deploy/taskdef.json", "taskdef.json", true));
        assert!(!ships("deploy/taskdef.json", "taskdef.json", false));
        assert!(ships("imageDetail.json", "imageDetail.json", false));
    }
}
