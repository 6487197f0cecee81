//! TD001: on the CodeDeploy path, the deployed container's image is the `<IMAGE1_NAME>`
//! placeholder that CodeDeployToECS fills with the build's image.

use serde_json::Value;

use crate::document::Position;
use crate::aws::TaskDefinition;
use crate::workspace::{DeployPath, Unit};

use super::buildspec::shipped_files;
use super::codedeploy::{TASK_DEFINITION_PLACEHOLDER, build_writes_image_detail};
use super::support::{
    codedeploy_actions, image1_placeholder, is_template_value, placeholder_name, set_key_in,
};
use super::{Context, Finding};

pub struct Rule;

/// Whether the unit shows a CodeDeployToECS deployment without its pipeline: AppSpecs whose
/// TaskDefinition is the `<TASK_DEFINITION>` placeholder (all of them), or a buildspec that
/// writes `imageDetail.json`.
fn codedeploy_template_evidence(unit: &Unit) -> bool {
    // Every AppSpec of the unit must be the template: one with a fixed revision beside it
    // says that revisions are registered and deployed by hand.
    let task_definitions: Vec<Option<&str>> = unit
        .appspecs()
        .flat_map(|(_, a)| a.targets())
        // A resource whose Properties is not a mapping is not read.
        .filter(|t| t.properties.is_object())
        .map(|t| t.task_definition())
        .collect();
    let appspec = !task_definitions.is_empty()
        && task_definitions
            .iter()
            .all(|t| t.map(str::trim) == Some(TASK_DEFINITION_PLACEHOLDER));
    appspec || build_writes_image_detail(unit)
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.facts().deploy_path != DeployPath::CodeDeploy {
            return;
        }
        // The pipeline whose CodeDeployToECS action fills the placeholder: only with it in the
        // unit is it certain that this file is that action's template. Without it, the image
        // may be registered by hand, rendered by a GitHub Actions step or filled in by the
        // build: reported with what to check, never changed.
        let pipeline = !codedeploy_actions(cx.unit).is_empty();
        // Without the pipeline, the unit must still show that CodeDeployToECS renders it: an
        // AppSpec that is itself the action's template, or a build that writes imageDetail.json.
        let renders = pipeline || codedeploy_template_evidence(cx.unit);
        let shipped = shipped_files(cx.unit);
        for (file, td) in cx.unit.task_definitions() {
            // When the build names the files it ships, only those are templates; another
            // task definition beside them (for a GitHub workflow, for registering by hand)
            // is not deployed by the pipeline.
            if !shipped.is_empty() && !shipped.contains(&cx.unit.files[file].file_name()) {
                continue;
            }
            // A template's task definition resource is registered by CloudFormation, never
            // rendered by CodeDeployToECS: a placeholder there would be deployed as it is.
            if super::support::resource_id(cx.unit, file).is_some() {
                continue;
            }
            let Some(containers) = td.container_list() else {
                continue;
            };
            let placeholder = image1_placeholder(cx.unit, &td);
            // Already a template: some container takes the pipeline's image.
            if containers
                .iter()
                .any(|c| c.image().and_then(placeholder_name) == Some(placeholder.as_str()))
            {
                continue;
            }
            let Some(target) = cx.facts().image_container(td.0.value) else {
                if !pipeline
                    || containers.is_empty()
                    || containers
                        .iter()
                        .any(|c| c.image().and_then(placeholder_name).is_some())
                {
                    continue;
                }
                let names: Vec<&str> = containers.iter().filter_map(|c| c.name()).collect();
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        td.0.path(TaskDefinition::CONTAINER_DEFINITIONS),
                        format!(
                            "no container image is the <{placeholder}> placeholder, so CodeDeployToECS deploys the images written here, not the one the build pushed; pipefix cannot tell which of {} receives the build's image",
                            names.join(", ")
                        ),
                    )
                    .follow_up(format!(
                        "Set \"image\": \"<{placeholder}>\" on the container that runs the build's image, or name it in the AppSpec LoadBalancerInfo.ContainerName"
                    )),
                );
                continue;
            };
            let Some(container) = containers.get(target.index) else {
                continue;
            };
            let current = container.image();
            if current.and_then(placeholder_name).is_some() {
                // A placeholder of another name: CP003 reconciles the pipeline with it.
                continue;
            }
            // A token the build or a workflow fills in (`REPOSITORY_URI:IMAGE_TAG` with a
            // `sed`, `$IMAGE` with envsubst, `filled-in-by-gh-action`): it must stay.
            if current.is_some_and(is_template_value) {
                continue;
            }
            let designated = cx
                .facts()
                .designated_containers
                .iter()
                .any(|(n, _)| *n == target.name);
            let c_path = container.at.at.clone();
            let message = match current {
                Some(image) => format!(
                    "container \"{}\" ({}) has the fixed image \"{image}\": CodeDeployToECS registers it unchanged instead of the image the build pushed",
                    target.name, target.because
                ),
                None => format!(
                    "container \"{}\" ({}) has no image; CodeDeployToECS needs the <{placeholder}> placeholder there",
                    target.name, target.because
                ),
            };
            let op = set_key_in(
                &container.at,
                "image",
                Value::from(format!("<{placeholder}>")),
                Position::After("name".into()),
            );
            if !pipeline {
                // Only a container the AppSpec or a CODE_DEPLOY service names ties this file to
                // a blue/green deployment at all.
                if !renders || !designated || current.is_none() {
                    continue;
                }
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        c_path.key("image"),
                        format!(
                            "{message}, if a CodeDeployToECS action uses this file as its task definition template (the pipeline is not in this folder, so pipefix does not change it)"
                        ),
                    )
                    .follow_up(format!(
                        "If a CodeDeployToECS action deploys this file (TaskDefinitionTemplateArtifact), set \"image\": \"<{placeholder}>\" on container \"{}\" and Image1ContainerName to \"{placeholder}\"; if the file is registered by hand, rendered by aws-actions/amazon-ecs-render-task-definition or filled in by the build, keep the image and ignore TD001 for it",
                        target.name
                    )),
                );
                continue;
            }
            out.push(
                Finding::at(cx.id(), file, c_path.key("image"), message)
                    .with_fix(
                        format!("take the image from the pipeline (<{placeholder}>)"),
                        vec![op],
                    )
                    .follow_up(format!(
                        "The build must write imageDetail.json ({{\"ImageURI\": \"…\"}}) into the artifact named by Image1ArtifactName, and Image1ContainerName must be \"{placeholder}\" (BS004, CP003)"
                    )),
            );
        }
    }
}
