//! CP003: a CodeDeployToECS action maps the build's image onto the task definition's
//! `<IMAGE1_NAME>` placeholder, from an artifact the build produces.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::document::{Path, Position};
use crate::model::Kind;
use crate::workspace::{BY_PIPELINE, Unit};

use super::support::{
    IMAGE1, codedeploy_actions, container_names, image1_placeholder, is_placeholder_text,
    placeholder_name, set_key,
};
use super::{Context, Finding};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "CP003"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, action_path, action) in codedeploy_actions(cx.unit) {
            let Some(cfg) = action.get("configuration").filter(|c| c.is_object()) else {
                continue;
            };
            let cfg_path = action_path.key("configuration");
            let name = action.get("name").and_then(Value::as_str).unwrap_or("?");
            // A task definition template that a build writes (not in the repository) may
            // carry the image already: no image mapping at all is then not a defect.
            let unmapped =
                cfg.get("Image1ContainerName").is_none() && cfg.get("Image1ArtifactName").is_none();
            if unmapped
                && template(cx.unit, cfg).is_none()
                && template_built(cx, file, &action_path, action, cfg)
            {
                continue;
            }
            if let Some(f) = container_name_finding(cx, file, &cfg_path, cfg, name) {
                out.push(f);
            }
            if let Some(f) = artifact_finding(cx, file, &action_path, action, cfg, name) {
                out.push(f);
            }
        }
        wrong_provider(cx, out);
    }
}

/// A `CodeDeploy` deploy action (EC2/on-premises and Lambda) in a unit that deploys to ECS
/// through CodeDeploy: the ECS blue/green deployment needs the `CodeDeployToECS` provider, which
/// registers the task definition and fills in the AppSpec.
fn wrong_provider(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let ecs_appspec = cx.unit.of_kind(Kind::Appspec).next().is_some();
    let ecs_group = cx.unit.of_kind(Kind::DeploymentGroup).any(|(_, f)| {
        f.value()
            .and_then(|v| {
                v.get("ecsServices")
                    .or_else(|| v.pointer("/deploymentGroupInfo/ecsServices"))
            })
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    });
    if !ecs_appspec && !ecs_group {
        return;
    }
    for (file, v, root) in super::support::docs_of(cx.unit, Kind::CodePipeline) {
        let stages = v.get("stages").and_then(Value::as_array);
        for (s, stage) in stages.into_iter().flatten().enumerate() {
            let actions = stage.get("actions").and_then(Value::as_array);
            for (a, action) in actions.into_iter().flatten().enumerate() {
                let category = action
                    .pointer("/actionTypeId/category")
                    .and_then(Value::as_str);
                let provider = action
                    .pointer("/actionTypeId/provider")
                    .and_then(Value::as_str);
                if category != Some("Deploy") || provider != Some("CodeDeploy") {
                    continue;
                }
                let name = action.get("name").and_then(Value::as_str).unwrap_or("?");
                let path = root
                    .key("stages")
                    .index(s)
                    .key("actions")
                    .index(a)
                    .key("actionTypeId")
                    .key("provider");
                let evidence = if ecs_group {
                    "a deployment group of the unit deploys ECS services"
                } else {
                    "the unit's AppSpec is an ECS AppSpec"
                };
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        path,
                        format!(
                            "action \"{name}\" deploys with the CodeDeploy provider (EC2/on-premises, Lambda), but {evidence}: an ECS blue/green deployment needs the CodeDeployToECS provider"
                        ),
                    )
                    .follow_up(
                        "Change the action to provider CodeDeployToECS with ApplicationName, DeploymentGroupName, TaskDefinitionTemplateArtifact, AppSpecTemplateArtifact, Image1ArtifactName and Image1ContainerName",
                    ),
                );
            }
        }
    }
}

fn cfg_str<'a>(cfg: &'a Value, key: &str) -> Option<&'a str> {
    cfg.get(key).and_then(Value::as_str).map(str::trim)
}

/// The task definition template the action registers: the file named by
/// `TaskDefinitionTemplatePath` (default `taskdef.json`), else the unit's only one.
fn template<'a>(unit: &'a Unit, cfg: &Value) -> Option<&'a Value> {
    let wanted = cfg_str(cfg, "TaskDefinitionTemplatePath").unwrap_or("taskdef.json");
    let wanted = wanted.rsplit('/').next().unwrap_or(wanted);
    // A template's task definition resource is CloudFormation's, not the action's template.
    let files = || {
        unit.of_kind(Kind::TaskDef)
            .filter(|(i, _)| super::support::resource_id(unit, *i).is_none())
    };
    let mut all = files();
    let only = match (all.next(), all.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    };
    files()
        .find(|(_, f)| f.file_name() == wanted)
        .or(only)
        .and_then(|(_, f)| f.value())
}

/// The placeholder `Image1ContainerName` must name, or `Err(message)` when pipefix cannot
/// choose; `Ok(None)` when the current value is right.
fn wanted_placeholder(
    cx: &Context<'_>,
    cfg: &Value,
    current: Option<&str>,
) -> Result<Option<String>, String> {
    let Some(td) = template(cx.unit, cfg) else {
        // Without the template: fix only what is certainly wrong.
        return Ok(match current {
            None => Some(IMAGE1.to_string()),
            Some(p) => match placeholder_name(p) {
                Some(inner) => Some(inner.to_string()),
                // A container's name (of a task definition the unit declares, or named by
                // the AppSpec or the service) is not a placeholder.
                None if cx
                    .facts
                    .designated_containers
                    .iter()
                    .any(|(n, by)| n == p && *by != BY_PIPELINE)
                    || cx
                        .unit
                        .of_kind(Kind::TaskDef)
                        .filter_map(|(_, f)| f.value())
                        .any(|td| container_names(td).contains(&p))
                    || !is_placeholder_text(p) =>
                {
                    Some(IMAGE1.to_string())
                }
                None => None,
            },
        });
    };
    let others: Vec<&str> = (2..=4)
        .filter_map(|n| cfg_str(cfg, &format!("Image{n}ContainerName")))
        .collect();
    let placeholders: BTreeSet<&str> = td
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .filter_map(|i| placeholder_name(i.trim()))
        .filter(|p| !others.contains(p))
        .collect();
    if let Some(p) = current
        && placeholders.contains(p)
    {
        return Ok(None);
    }
    if placeholders.is_empty() {
        // TD001 writes this placeholder into the template.
        let planned = image1_placeholder(cx.unit, td);
        let names = container_names(td);
        return Ok(match current {
            Some(p) if p == planned && !names.contains(&p) => None,
            _ => Some(planned),
        });
    }
    if placeholders.contains(IMAGE1) {
        return Ok(Some(IMAGE1.to_string()));
    }
    let mut it = placeholders.iter();
    match (it.next(), it.next()) {
        (Some(one), None) => Ok(Some((*one).to_string())),
        _ => Err(format!(
            "the task definition has several placeholders ({}) and none is IMAGE1_NAME",
            placeholders.iter().copied().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn container_name_finding(
    cx: &Context<'_>,
    file: usize,
    cfg_path: &Path,
    cfg: &Value,
    action: &str,
) -> Option<Finding> {
    let current = cfg_str(cfg, "Image1ContainerName");
    let path = cfg_path.key("Image1ContainerName");
    let what = match current {
        Some(p) => format!("Image1ContainerName \"{p}\""),
        None => "no Image1ContainerName".to_string(),
    };
    match wanted_placeholder(cx, cfg, current) {
        Ok(None) => None,
        Ok(Some(p)) => {
            let position = if cfg.get("Image1ArtifactName").is_some() {
                Position::After("Image1ArtifactName".into())
            } else {
                Position::Before("TaskDefinitionTemplateArtifact".into())
            };
            let op = set_key(cfg_path, cfg, "Image1ContainerName", Value::from(p.clone()), position);
            Some(
                Finding::at(
                    cx.id(),
                    file,
                    path,
                    format!(
                        "action \"{action}\" has {what}: it must name the placeholder \"<{p}>\" of the task definition template (without the brackets), or the build's image never replaces the template's image"
                    ),
                )
                .with_fix(
                    format!("set Image1ContainerName to \"{p}\""),
                    vec![op],
                ),
            )
        }
        Err(why) => Some(
            Finding::at(
                cx.id(),
                file,
                path,
                format!(
                    "action \"{action}\" has {what}, which matches no <…> placeholder of the task definition template; {why}"
                ),
            )
            .follow_up(
                "Set Image1ContainerName to the placeholder of the container that runs the build's image",
            ),
        ),
    }
}

fn names(list: Option<&Value>) -> Vec<&str> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .collect()
}

fn run_order(action: &Value) -> i64 {
    action.get("runOrder").and_then(Value::as_i64).unwrap_or(1)
}

/// Artifacts output by Build actions (or ECR source actions) that run before an action of `stage` with run order
/// `order`.
fn build_outputs(pipeline: &Value, stage: usize, order: i64) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let stages = pipeline.get("stages").and_then(Value::as_array);
    for (s, st) in stages.into_iter().flatten().enumerate().take(stage + 1) {
        let actions = st.get("actions").and_then(Value::as_array);
        for a in actions.into_iter().flatten() {
            let earlier = s < stage || run_order(a) < order;
            let category = a.pointer("/actionTypeId/category").and_then(Value::as_str);
            let provider = a.pointer("/actionTypeId/provider").and_then(Value::as_str);
            // An ECR source action writes imageDetail.json into its output itself.
            if earlier && (category == Some("Build") || provider == Some("ECR")) {
                out.extend(names(a.get("outputArtifacts")));
            }
        }
    }
    out
}

/// Whether the action's `TaskDefinitionTemplateArtifact` is the output of a build action
/// that runs before it.
fn template_built(
    cx: &Context<'_>,
    file: usize,
    action_path: &Path,
    action: &Value,
    cfg: &Value,
) -> bool {
    let Some(artifact) = cfg_str(cfg, "TaskDefinitionTemplateArtifact") else {
        return false;
    };
    let Some(pipeline_file) = cx.unit.files.get(file) else {
        return false;
    };
    let (Some((_, root)), Some(pipeline)) = (pipeline_file.doc(), pipeline_file.value()) else {
        return false;
    };
    stage_index(root, action_path)
        .is_some_and(|stage| build_outputs(pipeline, stage, run_order(action)).contains(artifact))
}

fn artifact_finding(
    cx: &Context<'_>,
    file: usize,
    action_path: &Path,
    action: &Value,
    cfg: &Value,
    name: &str,
) -> Option<Finding> {
    let pipeline_file = cx.unit.files.get(file)?;
    let (_, root) = pipeline_file.doc()?;
    let pipeline = pipeline_file.value()?;
    // The stage index is the third segment from the end of `…stages[s].actions[a]`.
    let stage = stage_index(root, action_path)?;
    let built = build_outputs(pipeline, stage, run_order(action));
    let inputs = names(action.get("inputArtifacts"));
    let candidates: Vec<&str> = inputs
        .iter()
        .copied()
        .filter(|i| built.contains(i))
        .collect();
    let current = cfg_str(cfg, "Image1ArtifactName");
    if current.is_some_and(|c| candidates.contains(&c)) {
        return None;
    }
    let cfg_path = action_path.key("configuration");
    let path = cfg_path.key("Image1ArtifactName");
    let problem = match current {
        Some(c) if inputs.contains(&c) => {
            format!("Image1ArtifactName \"{c}\" is not produced by a build action before it")
        }
        Some(c) => format!("Image1ArtifactName \"{c}\" is not one of its input artifacts"),
        None => "no Image1ArtifactName".to_string(),
    };
    let message = format!(
        "action \"{name}\" has {problem}: CodeDeployToECS reads imageDetail.json from that artifact and fails with \"Exception while trying to read the image artifact file\""
    );
    if let [one] = candidates.as_slice() {
        let position = if cfg.get("Image1ContainerName").is_some() {
            Position::Before("Image1ContainerName".into())
        } else {
            Position::Before("TaskDefinitionTemplateArtifact".into())
        };
        let op = set_key(
            &cfg_path,
            cfg,
            "Image1ArtifactName",
            Value::from(*one),
            position,
        );
        return Some(
            Finding::at(cx.id(), file, path, message)
                .with_fix(
                    format!("set Image1ArtifactName to the build output \"{one}\""),
                    vec![op],
                )
                .follow_up(format!(
                    "The build must put imageDetail.json ({{\"ImageURI\": \"…\"}}) at the root of \"{one}\" (BS004)"
                )),
        );
    }
    let choice = if candidates.is_empty() {
        "no input artifact of the action is the output of a build action before it".to_string()
    } else {
        format!(
            "several build outputs could hold the image ({})",
            candidates.join(", ")
        )
    };
    Some(
        Finding::at(cx.id(), file, path, format!("{message}; {choice}"))
            .follow_up("Set Image1ArtifactName to the input artifact that holds imageDetail.json"),
    )
}

/// `s` of a path `<root>.stages[s].actions[a]`.
fn stage_index(root: &Path, action_path: &Path) -> Option<usize> {
    use crate::document::Seg;
    let segs = action_path.segs();
    let rel = segs.get(root.segs().len()..)?;
    match rel {
        [Seg::Key(k), Seg::Index(s), ..] if k == "stages" => Some(*s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_earlier_build_actions_count() {
        let p = json!({"stages": [
            {"name": "Source", "actions": [{"actionTypeId": {"category": "Source"}, "outputArtifacts": [{"name": "Src"}]}]},
            {"name": "Ship", "actions": [
                {"actionTypeId": {"category": "Build"}, "runOrder": 1, "outputArtifacts": [{"name": "Img"}]},
                {"actionTypeId": {"category": "Deploy"}, "runOrder": 2},
                {"actionTypeId": {"category": "Build"}, "runOrder": 2, "outputArtifacts": [{"name": "Late"}]}
            ]}
        ]});
        let built = build_outputs(&p, 1, 2);
        assert_eq!(built.into_iter().collect::<Vec<_>>(), vec!["Img"]);
        let root = Path::root().key("pipeline");
        let action = root.key("stages").index(1).key("actions").index(1);
        assert_eq!(stage_index(&root, &action), Some(1));
    }
}
