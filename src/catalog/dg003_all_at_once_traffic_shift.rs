//! DG003: shift production traffic progressively (canary) instead of all at once.

use serde_json::{Value, json};

use crate::model::Kind;

use super::support::{after_first_of, docs_of, set_key};
use super::{Context, Finding, Safety};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "DG003"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let target = match cx.param_str("deployment_config") {
            s if s.is_empty() => "CodeDeployDefault.ECSCanary10Percent5Minutes".to_string(),
            s => s,
        };
        for (file, dg, root) in docs_of(cx.unit, Kind::DeploymentGroup) {
            let ecs = dg.get("computePlatform").and_then(Value::as_str) == Some("ECS")
                || dg.get("ecsServices").is_some();
            if !ecs {
                continue;
            }
            let current = dg.get("deploymentConfigName").and_then(Value::as_str);
            // ECSAllAtOnce is also what an ECS group gets when it names no configuration.
            if !matches!(current, None | Some("CodeDeployDefault.ECSAllAtOnce")) {
                continue;
            }
            let name = dg
                .get("deploymentGroupName")
                .and_then(Value::as_str)
                .unwrap_or("?");
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    root.key("deploymentConfigName"),
                    format!("deployment group \"{name}\" shifts all production traffic at once: a bad release reaches every user before any alarm can fire"),
                )
                .with_fix(
                    format!("shift traffic with {target}"),
                    Safety::Unsafe,
                    vec![set_key(root, dg, "deploymentConfigName", json!(target), after_first_of(dg, &["deploymentGroupName"]))],
                ),
            );
        }
    }
}
