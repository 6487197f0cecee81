//! SV003: rolling-update percentages on a CodeDeploy-controlled Fargate service do nothing.

use super::support::service_name;
use super::{Context, Finding};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "SV003"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, svc) in cx.unit.services() {
            let code_deploy = svc.controller() == "CODE_DEPLOY";
            let fargate = svc.launch_type() == Some("FARGATE")
                || svc
                    .capacity_providers()
                    .iter()
                    .any(|c| c.starts_with("FARGATE"));
            let Some(dc) = svc.deployment_configuration() else {
                continue;
            };
            let set: Vec<&str> = ["minimumHealthyPercent", "maximumPercent"]
                .into_iter()
                .filter(|k| dc.has(k))
                .collect();
            if !(code_deploy && fargate) || set.is_empty() {
                continue;
            }
            let name = service_name(cx.unit, file, &svc);
            out.push(Finding::at(
                cx.id(),
                file,
                dc.path(set[0]),
                format!(
                    "service {name} sets {} but deploys with CodeDeploy on Fargate, where they are ignored: the deployment's pace is the deployment group's configuration",
                    set.join(" and ")
                ),
            ));
        }
    }
}
