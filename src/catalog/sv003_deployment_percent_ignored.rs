//! SV003: rolling-update percentages on a CodeDeploy-controlled Fargate service do nothing.

use serde_json::Value;

use crate::model::Kind;

use super::support::docs_of;
use super::support::service_name;
use super::{Context, Finding};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "SV003"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, svc, root) in docs_of(cx.unit, Kind::EcsService) {
            let code_deploy = svc
                .pointer("/deploymentController/type")
                .and_then(Value::as_str)
                == Some("CODE_DEPLOY");
            let fargate = svc.get("launchType").and_then(Value::as_str) == Some("FARGATE")
                || svc
                    .get("capacityProviderStrategy")
                    .and_then(Value::as_array)
                    .is_some_and(|s| {
                        s.iter().any(|p| {
                            p.get("capacityProvider")
                                .and_then(Value::as_str)
                                .is_some_and(|c| c.starts_with("FARGATE"))
                        })
                    });
            let Some(dc) = svc.get("deploymentConfiguration") else {
                continue;
            };
            let set: Vec<&str> = ["minimumHealthyPercent", "maximumPercent"]
                .into_iter()
                .filter(|k| dc.get(*k).is_some())
                .collect();
            if !(code_deploy && fargate) || set.is_empty() {
                continue;
            }
            let name = service_name(cx.unit, file, svc);
            out.push(Finding::at(
                cx.id(),
                file,
                root.key("deploymentConfiguration").key(set[0]),
                format!(
                    "service {name} sets {} but deploys with CodeDeploy on Fargate, where they are ignored: the deployment's pace is the deployment group's configuration",
                    set.join(" and ")
                ),
            ));
        }
    }
}
