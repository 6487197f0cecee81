//! SV002: a service behind a load balancer gives new tasks a grace period before health
//! checks count, at least as long as the container's start period.

use serde_json::{Value, json};

use crate::model::Kind;

use super::support::{after_first_of, docs_of, set_key};
use super::{Context, Finding, Safety};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "SV002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // The floor is TD003's start period (configuration, else its catalog default), as
        // the catalog documents: the grace period covers the same start-up time.
        let floor = cx
            .config
            .param("TD003", "start_period")
            .cloned()
            .or_else(|| super::meta::get("TD003").and_then(|m| m.default_param("start_period")))
            .and_then(|v| v.as_u64())
            .unwrap_or(60);
        // The longest container start period of the unit's task definition, when there is one.
        let start_period = cx
            .unit
            .single(Kind::TaskDef)
            .and_then(|(_, f)| f.value())
            .and_then(|td| td.get("containerDefinitions").and_then(Value::as_array))
            .map(|cs| {
                cs.iter()
                    .filter_map(|c| {
                        c.pointer("/healthCheck/startPeriod")
                            .and_then(Value::as_u64)
                    })
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let wanted = floor.max(start_period);
        for (file, svc, root) in docs_of(cx.unit, Kind::EcsService) {
            let has_lb = svc
                .get("loadBalancers")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if !has_lb {
                continue;
            }
            let current = svc
                .get("healthCheckGracePeriodSeconds")
                .and_then(Value::as_u64);
            if current.is_some_and(|c| c >= wanted) {
                continue;
            }
            let name = svc
                .get("serviceName")
                .and_then(Value::as_str)
                .unwrap_or("?");
            let what = match current {
                Some(c) => format!("a health check grace period of {c}s"),
                None => "no health check grace period".to_string(),
            };
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    root.key("healthCheckGracePeriodSeconds"),
                    format!("service \"{name}\" has {what}: the load balancer fails new tasks before they finish starting (wanted at least {wanted}s)"),
                )
                .with_fix(
                    format!("set healthCheckGracePeriodSeconds to {wanted}"),
                    Safety::Safe,
                    vec![set_key(root, svc, "healthCheckGracePeriodSeconds", json!(wanted), after_first_of(svc, &["loadBalancers", "desiredCount"]))],
                ),
            );
        }
    }
}
