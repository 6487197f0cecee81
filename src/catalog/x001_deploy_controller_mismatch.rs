//! X001: the pipeline's deploy action and the service's deployment controller agree.

use serde_json::Value;

use crate::model::Kind;
use crate::workspace::pipeline_actions;

use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "X001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some((_, pipeline)) = cx.unit.single(Kind::CodePipeline) else {
            return;
        };
        let providers: Vec<&str> = pipeline_actions(pipeline.value())
            .filter(|a| {
                a.pointer("/actionTypeId/category").and_then(Value::as_str) == Some("Deploy")
            })
            .filter_map(|a| a.pointer("/actionTypeId/provider").and_then(Value::as_str))
            .collect();
        for (file, svc, root) in docs_of(cx.unit, Kind::EcsService) {
            let controller = svc
                .pointer("/deploymentController/type")
                .and_then(Value::as_str)
                .unwrap_or("ECS");
            // A create-service input may leave the name to the command line.
            let file_name = cx.unit.files[file].file_name();
            let name = svc
                .get("serviceName")
                .and_then(Value::as_str)
                .unwrap_or(&file_name);
            let message = if providers.contains(&"CodeDeployToECS") && controller != "CODE_DEPLOY" {
                format!(
                    "the pipeline deploys with CodeDeployToECS (blue/green) but service \"{name}\" uses the {controller} deployment controller; CodeDeploy rejects it (INVALID_ECS_SERVICE). The controller is fixed at creation: recreate the service with CODE_DEPLOY or switch the action to ECS"
                )
            } else if providers.contains(&"ECS") && controller == "CODE_DEPLOY" {
                format!(
                    "the pipeline deploys with the ECS (rolling) action but service \"{name}\" uses the CODE_DEPLOY controller: \"Unable to update task definition on services with a CODE_DEPLOY deployment controller\". Use the CodeDeployToECS action"
                )
            } else {
                continue;
            };
            out.push(Finding::at(
                cx.id(),
                file,
                root.key("deploymentController"),
                message,
            ));
        }
    }
}
