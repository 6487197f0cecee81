//! X001: the pipeline's deploy action and the service's deployment controller agree.

use crate::aws::{Action, Service};
use crate::model::Kind;

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
        let providers: Vec<&str> = super::support::pipeline(pipeline)
            .map(|p| p.actions())
            .unwrap_or_default()
            .iter()
            .filter(|a| a.category() == Some("Deploy"))
            .filter_map(Action::provider)
            .collect();
        for (file, svc) in cx.unit.services() {
            let controller = svc.controller();
            // A create-service input may leave the name to the command line.
            let file_name = cx.unit.files[file].file_name();
            let name = svc.name().unwrap_or(&file_name);
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
                svc.0.path(Service::CONTROLLER),
                message,
            ));
        }
    }
}
