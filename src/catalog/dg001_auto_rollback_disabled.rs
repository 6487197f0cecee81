//! DG001: CodeDeploy rolls a failed or stopped deployment back by itself.

use crate::config::Config;
use serde::Deserialize;
use serde_json::json;

use crate::aws::DeploymentGroup;
use crate::document::Position;

use super::codedeploy::{is_group, watches_alarms};
use super::support::{after_first_of, set_key_in};
use super::{Context, Finding};

pub struct Rule;

/// `[rules.DG001]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    extra_events: Vec<String>,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "DG001"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let extra = params.extra_events;
        for (file, dg) in cx.unit.deployment_groups() {
            if !is_group(&dg) {
                continue;
            }
            let arc = dg.auto_rollback();
            let enabled = dg.rollback_enabled();
            let events = dg.rollback_events();
            // Rolling back on failure is what the group needs; on an alarm only where alarms
            // are watched. DEPLOYMENT_STOP_ON_REQUEST is a team's choice and never added.
            let mut required = vec!["DEPLOYMENT_FAILURE"];
            if watches_alarms(&dg) {
                required.push("DEPLOYMENT_STOP_ON_ALARM");
            }
            // Events a team opts into (`extra_events`), e.g. rolling back a deployment a person
            // stops; DEPLOYMENT_STOP_ON_ALARM only where alarms are watched.
            for e in &extra {
                if !required.contains(&e.as_str())
                    && (e == "DEPLOYMENT_STOP_ON_REQUEST"
                        || (e == "DEPLOYMENT_STOP_ON_ALARM" && watches_alarms(&dg)))
                {
                    required.push(e.as_str());
                }
            }
            let missing: Vec<&str> = required
                .iter()
                .copied()
                .filter(|e| !events.contains(e))
                .collect();
            if enabled && missing.is_empty() {
                continue;
            }
            let mut wanted: Vec<String> = events.iter().map(|e| e.to_string()).collect();
            wanted.extend(missing.iter().map(|e| e.to_string()));
            let ops = match &arc {
                Some(a) if a.is_object() => {
                    let mut ops = Vec::new();
                    if !enabled {
                        ops.push(set_key_in(a, "enabled", json!(true), Position::Start));
                    }
                    if !missing.is_empty() {
                        ops.push(set_key_in(a, "events", json!(wanted), Position::End));
                    }
                    ops
                }
                _ => vec![set_key_in(
                    &dg.0,
                    DeploymentGroup::AUTO_ROLLBACK,
                    json!({"enabled": true, "events": wanted}),
                    after_first_of(
                        dg.0.value,
                        &[
                            "alarmConfiguration",
                            "triggerConfigurations",
                            "serviceRoleArn",
                        ],
                    ),
                )],
            };
            let name = super::support::group_name(cx.unit, file, &dg);
            let message = if arc.is_none() {
                format!(
                    "deployment group \"{name}\" has no automatic rollback: a failed deployment stays failed"
                )
            } else if !enabled {
                format!("deployment group \"{name}\" has automatic rollback disabled")
            } else if missing == ["DEPLOYMENT_STOP_ON_ALARM"] {
                format!(
                    "deployment group \"{name}\" watches alarms but does not roll back when one fires"
                )
            } else {
                format!(
                    "deployment group \"{name}\" does not roll back on {}",
                    missing.join(", ")
                )
            };
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    dg.0.path(DeploymentGroup::AUTO_ROLLBACK),
                    message,
                )
                .with_fix(
                    if missing.is_empty() {
                        "enable automatic rollback".to_string()
                    } else {
                        format!("roll back automatically on {}", missing.join(" and "))
                    },
                    ops,
                ),
            );
        }
    }
}
