//! CP003: a CodeDeployToECS action maps the build's image onto the task definition's
//! `<IMAGE1_NAME>` placeholder, from an artifact the build produces.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::aws::{Action, Container, Pipeline, TaskDefinition};
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
        for (file, action) in codedeploy_actions(cx.unit) {
            let Some(cfg_at) = action.at.get("configuration").filter(|c| c.is_object()) else {
                continue;
            };
            let (cfg, cfg_path) = (cfg_at.value, &cfg_at.at);
            let name = action.name().unwrap_or("?");
            // A task definition template that a build writes (not in the repository) may
            // carry the image already: no image mapping at all is then not a defect.
            let unmapped =
                cfg.get("Image1ContainerName").is_none() && cfg.get("Image1ArtifactName").is_none();
            if unmapped
                && template(cx.unit, cfg).is_none()
                && template_built(cx, file, &action, cfg)
            {
                continue;
            }
            if let Some(f) = container_name_finding(cx, file, cfg_path, cfg, name) {
                out.push(f);
            }
            if let Some(f) = artifact_finding(cx, file, &action, cfg, name) {
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
    for (file, pipeline) in cx.unit.pipelines() {
        for action in pipeline.actions() {
            if !action.deploys_with("CodeDeploy") {
                continue;
            }
            let name = action.name().unwrap_or("?");
            let path = action.provider_path();
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

fn cfg_str<'a>(cfg: &'a Value, key: &str) -> Option<&'a str> {
    cfg.get(key).and_then(Value::as_str).map(str::trim)
}

/// The task definition template the action registers: the file named by
/// `TaskDefinitionTemplatePath` (default `taskdef.json`), else the unit's only one.
fn template<'a>(unit: &'a Unit, cfg: &Value) -> Option<TaskDefinition<'a>> {
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
        .and_then(|(_, f)| super::support::task_definition(f))
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
                    .facts()
                    .designated_containers
                    .iter()
                    .any(|(n, by)| n == p && *by != BY_PIPELINE)
                    || cx
                        .unit
                        .task_definitions()
                        .any(|(_, td)| container_names(&td).contains(&p))
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
        .containers()
        .iter()
        .filter_map(Container::image)
        .filter_map(placeholder_name)
        .filter(|p| !others.contains(p))
        .collect();
    if let Some(p) = current
        && placeholders.contains(p)
    {
        return Ok(None);
    }
    if placeholders.is_empty() {
        // TD001 writes this placeholder into the template.
        let planned = image1_placeholder(cx.unit, &td);
        let names = container_names(&td);
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

/// Artifacts output by Build actions (or ECR source actions) that run before an action of `stage` with run order
/// `order`.
fn build_outputs<'a>(pipeline: &Pipeline<'a>, stage: usize, order: i64) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for st in pipeline.stages().iter().take(stage + 1) {
        for a in st.actions() {
            let earlier = st.index < stage || a.run_order() < order;
            // An ECR source action writes imageDetail.json into its output itself.
            if earlier && (a.category() == Some("Build") || a.provider() == Some("ECR")) {
                out.extend(a.output_artifacts());
            }
        }
    }
    out
}

/// The pipeline of file `file` of the unit.
fn pipeline_of<'a>(cx: &Context<'a>, file: usize) -> Option<Pipeline<'a>> {
    cx.unit
        .pipelines()
        .find(|(i, _)| *i == file)
        .map(|(_, p)| p)
}

/// Whether the action's `TaskDefinitionTemplateArtifact` is the output of a build action
/// that runs before it.
fn template_built(cx: &Context<'_>, file: usize, action: &Action<'_>, cfg: &Value) -> bool {
    let Some(artifact) = cfg_str(cfg, "TaskDefinitionTemplateArtifact") else {
        return false;
    };
    pipeline_of(cx, file).is_some_and(|pipeline| {
        build_outputs(&pipeline, action.stage, action.run_order()).contains(artifact)
    })
}

fn artifact_finding(
    cx: &Context<'_>,
    file: usize,
    action: &Action<'_>,
    cfg: &Value,
    name: &str,
) -> Option<Finding> {
    let pipeline = pipeline_of(cx, file)?;
    let built = build_outputs(&pipeline, action.stage, action.run_order());
    let inputs = action.input_artifacts();
    let candidates: Vec<&str> = inputs
        .iter()
        .copied()
        .filter(|i| built.contains(i))
        .collect();
    let current = cfg_str(cfg, "Image1ArtifactName");
    if current.is_some_and(|c| candidates.contains(&c)) {
        return None;
    }
    let cfg_path = action.at.path("configuration");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::At;
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
        let p = Pipeline(At::new(&p, Path::root().key("pipeline")));
        let built = build_outputs(&p, 1, 2);
        assert_eq!(built.into_iter().collect::<Vec<_>>(), vec!["Img"]);
        assert_eq!(p.actions()[2].stage, 1);
    }
}
