//! SV001: a rolling (ECS controller) service rolls back a deployment that cannot start.

use serde_json::{Value, json};

use crate::aws::{Field, Service};
use crate::document::Position;
use crate::workspace::DeployPath;

use super::support::service_name;
use super::support::{after_first_of, set_key_in};
use super::{Context, Finding};

pub struct Rule;

/// Whether an ECS (rolling) deploy action of the unit's pipelines deploys the service: by
/// name, or in a template by `!Ref`/`!GetAtt` to the service's resource.
fn deployed_by_ecs_action(cx: &Context<'_>, file: usize, svc: &Service<'_>) -> bool {
    let name = svc.name();
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
    cx.unit.pipelines().any(|(_, p)| {
        p.actions().iter().any(|a| {
            a.provider() == Some("ECS") && a.configuration("ServiceName").is_some_and(names_it)
        })
    })
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "SV001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, svc) in cx.unit.services() {
            let controller = svc.controller();
            // The circuit breaker exists only for the ECS controller; a CodeDeploy pipeline
            // with a rolling service is X001's finding, not a reason to add one here.
            // In a pipeline that deploys with both, the ECS action names its service.
            let rolling_action = deployed_by_ecs_action(cx, file, &svc);
            if controller != "ECS"
                || (cx.facts().deploy_path == DeployPath::CodeDeploy && !rolling_action)
            {
                continue;
            }
            let dc = svc.deployment_configuration();
            let cb = svc.circuit_breaker();
            let on = |k: &str| cb.as_ref().map(|c| c.bool(k)) == Some(Field::Value(true));
            if on("enable") && on("rollback") {
                continue;
            }
            let name = service_name(cx.unit, file, &svc);
            let ops = match (&dc, &cb) {
                (Some(_), Some(c)) if c.is_object() => {
                    let mut ops = Vec::new();
                    if !on("enable") {
                        ops.push(set_key_in(c, "enable", json!(true), Position::Start));
                    }
                    if !on("rollback") {
                        ops.push(set_key_in(c, "rollback", json!(true), Position::End));
                    }
                    ops
                }
                (Some(d), _) if d.is_object() => vec![set_key_in(
                    d,
                    Service::CIRCUIT_BREAKER,
                    json!({"enable": true, "rollback": true}),
                    Position::Start,
                )],
                _ => vec![set_key_in(
                    &svc.0,
                    Service::DEPLOYMENT_CONFIGURATION,
                    json!({"deploymentCircuitBreaker": {"enable": true, "rollback": true}}),
                    after_first_of(svc.0.value, &["desiredCount", "taskDefinition", "loadBalancers"]),
                )],
            };
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    svc.circuit_breaker_path(),
                    format!("service {name} has no deployment circuit breaker with rollback: a release whose tasks cannot start is retried instead of rolled back"),
                )
                .with_fix("enable the deployment circuit breaker with rollback", ops),
            );
        }
    }
}
