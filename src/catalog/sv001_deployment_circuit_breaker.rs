//! SV001: a rolling (ECS controller) service rolls back a deployment that cannot start.

use serde_json::{Value, json};

use crate::document::Position;
use crate::model::Kind;
use crate::workspace::DeployPath;

use super::support::service_name;
use super::support::{after_first_of, docs_of, set_key};
use super::{Context, Finding};

pub struct Rule;

/// Whether an ECS (rolling) deploy action of the unit's pipelines deploys the service: by
/// name, or in a template by `!Ref`/`!GetAtt` to the service's resource.
fn deployed_by_ecs_action(cx: &Context<'_>, file: usize, svc: &Value) -> bool {
    let name = svc.get("serviceName").and_then(Value::as_str);
    let id = super::support::resource_id(cx.unit, file);
    let names_it = |v: &Value| match v {
        Value::String(s) => Some(s.as_str()) == name,
        _ => {
            let target =
                v.get("Ref")
                    .and_then(Value::as_str)
                    .or_else(|| match v.get("Fn::GetAtt") {
                        Some(Value::String(s)) => s.split('.').next(),
                        Some(Value::Array(a)) => a.first().and_then(Value::as_str),
                        _ => None,
                    });
            target.is_some() && target == id
        }
    };
    cx.unit.of_kind(Kind::CodePipeline).any(|(_, f)| {
        crate::workspace::pipeline_actions(f.value()).any(|a| {
            a.pointer("/actionTypeId/provider").and_then(Value::as_str) == Some("ECS")
                && a.pointer("/configuration/ServiceName")
                    .is_some_and(names_it)
        })
    })
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "SV001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, svc, root) in docs_of(cx.unit, Kind::EcsService) {
            let controller = svc
                .pointer("/deploymentController/type")
                .and_then(Value::as_str)
                .unwrap_or("ECS");
            // The circuit breaker exists only for the ECS controller; a CodeDeploy pipeline
            // with a rolling service is X001's finding, not a reason to add one here.
            // In a pipeline that deploys with both, the ECS action names its service.
            let rolling_action = deployed_by_ecs_action(cx, file, svc);
            if controller != "ECS"
                || (cx.facts.deploy_path == DeployPath::CodeDeploy && !rolling_action)
            {
                continue;
            }
            let dc = svc.get("deploymentConfiguration");
            let cb = dc.and_then(|d| d.get("deploymentCircuitBreaker"));
            let on = |k: &str| cb.and_then(|c| c.get(k)).and_then(Value::as_bool) == Some(true);
            if on("enable") && on("rollback") {
                continue;
            }
            let name = service_name(cx.unit, file, svc);
            let dc_path = root.key("deploymentConfiguration");
            let ops = match (dc, cb) {
                (Some(_), Some(c)) if c.is_object() => {
                    let p = dc_path.key("deploymentCircuitBreaker");
                    let mut ops = Vec::new();
                    if !on("enable") {
                        ops.push(set_key(&p, c, "enable", json!(true), Position::Start));
                    }
                    if !on("rollback") {
                        ops.push(set_key(&p, c, "rollback", json!(true), Position::End));
                    }
                    ops
                }
                (Some(d), _) if d.is_object() => vec![set_key(
                    &dc_path,
                    d,
                    "deploymentCircuitBreaker",
                    json!({"enable": true, "rollback": true}),
                    Position::Start,
                )],
                _ => vec![set_key(
                    root,
                    svc,
                    "deploymentConfiguration",
                    json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true}}),
                    after_first_of(svc, &["desiredCount", "taskDefinition", "loadBalancers"]),
                )],
            };
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    dc_path.key("deploymentCircuitBreaker"),
                    format!("service {name} has no deployment circuit breaker with rollback: a release whose tasks cannot start is retried instead of rolled back"),
                )
                .with_fix("enable the deployment circuit breaker with rollback", ops),
            );
        }
    }
}
