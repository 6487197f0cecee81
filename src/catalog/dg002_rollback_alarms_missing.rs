//! DG002: the deployment group watches alarms and rolls back when one fires.

use crate::config::Config;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::DeploymentGroup;
use crate::document::{Op, Position};

use super::codedeploy::{is_group, watches_alarms};
use super::support::{after_first_of, set_key_in};
use super::{Context, Finding, Safety};

pub struct Rule;

/// `[rules.DG002]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    alarm_names: Vec<String>,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "DG002"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let configured = params.alarm_names;
        for (file, dg) in cx.unit.deployment_groups() {
            if !is_group(&dg) {
                continue;
            }
            let name = super::support::group_name(cx.unit, file, &dg);
            let arc = dg.auto_rollback();
            let rollback_on = dg.rollback_enabled();
            let events = dg.rollback_events();
            // A group that watches alarms is DG001's: it rolls back when one fires.
            if watches_alarms(&dg) {
                continue;
            }
            let at = dg.0.path(DeploymentGroup::ALARM_CONFIGURATION);
            // Alarms the group already lists (monitoring switched off) are kept, never lost.
            let existing: Vec<String> = dg.alarm_names().into_iter().map(str::to_string).collect();
            let mut names = existing.clone();
            for n in &configured {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            if !names.is_empty() {
                let mut ops = match dg.alarm_configuration() {
                    // Edit the existing configuration in place: switch it on, add what is missing.
                    Some(cfg) if cfg.is_object() => {
                        let mut ops = Vec::new();
                        if !dg.alarms_enabled() {
                            ops.push(set_key_in(&cfg, "enabled", json!(true), Position::Start));
                        }
                        match dg.alarm_list() {
                            Some(list) => {
                                let len = list.value.as_array().map_or(0, Vec::len);
                                for (k, n) in names.iter().skip(existing.len()).enumerate() {
                                    ops.push(Op::InsertItem {
                                        path: list.at.clone(),
                                        index: len + k,
                                        value: json!({"name": n}),
                                    });
                                }
                            }
                            None => {
                                let alarms: Vec<Value> =
                                    names.iter().map(|n| json!({"name": n})).collect();
                                ops.push(set_key_in(&cfg, "alarms", json!(alarms), Position::End));
                            }
                        }
                        ops
                    }
                    _ => {
                        let alarms: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
                        vec![set_key_in(
                            &dg.0,
                            DeploymentGroup::ALARM_CONFIGURATION,
                            json!({"enabled": true, "ignorePollAlarmFailure": false, "alarms": alarms}),
                            after_first_of(dg.0.value, &["triggerConfigurations", "serviceRoleArn"]),
                        )]
                    }
                };
                // Rollback on means the configuration is there.
                if let Some(a) = arc.as_ref().filter(|_| rollback_on)
                    && !events.contains(&"DEPLOYMENT_STOP_ON_ALARM")
                {
                    let mut wanted = events.clone();
                    wanted.push("DEPLOYMENT_STOP_ON_ALARM");
                    ops.push(set_key_in(a, "events", json!(wanted), Position::End));
                }
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        at,
                        if existing.is_empty() {
                            format!("deployment group \"{name}\" watches no alarms")
                        } else {
                            format!(
                                "deployment group \"{name}\" lists alarms but does not watch them (alarm monitoring is disabled)"
                            )
                        },
                    )
                    .with_fix("watch the alarms and roll back when one fires", ops)
                    // Alarms named in the configuration are the team's statement that they
                    // exist; alarms the group lists with monitoring switched off may have
                    // been switched off on purpose, or deleted since: unsafe then.
                    .lower_safety(if configured.is_empty() {
                        Safety::Unsafe
                    } else {
                        Safety::Safe
                    })
                    .follow_up(format!(
                        "Make sure the alarms {} exist in CloudWatch in the group's region: a deployment fails when a watched alarm does not",
                        names.join(", ")
                    )),
                );
                continue;
            }
            let mut f = Finding::at(
                cx.id(),
                file,
                at,
                format!(
                    "deployment group \"{name}\" watches no alarms: a deployment that serves errors is not rolled back; create the alarms below, then set [rules.DG002] alarm_names"
                ),
            );
            for cmd in alarm_commands(cx, &dg) {
                f = f.follow_up(cmd);
            }
            out.push(f);
        }
    }
}

/// The `put-metric-alarm` commands for the two alarms every ECS blue/green group should
/// watch: target 5XX responses and unhealthy hosts of the production target group.
fn alarm_commands(cx: &Context<'_>, dg: &DeploymentGroup<'_>) -> Vec<String> {
    let tg = dg.first_target_group_name().unwrap_or("<target-group-name>");
    let region = cx.facts().region.as_deref().unwrap_or("<region>");
    let dims = format!(
        "Name=TargetGroup,Value=targetgroup/{tg}/<target-group-id> Name=LoadBalancer,Value=app/<load-balancer-name>/<load-balancer-id>"
    );
    vec![
        format!(
            "aws cloudwatch put-metric-alarm --region {region} --alarm-name {tg}-target-5xx --namespace AWS/ApplicationELB --metric-name HTTPCode_Target_5XX_Count --dimensions {dims} --statistic Sum --period 60 --evaluation-periods 2 --threshold 10 --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching"
        ),
        format!(
            "aws cloudwatch put-metric-alarm --region {region} --alarm-name {tg}-unhealthy-hosts --namespace AWS/ApplicationELB --metric-name UnHealthyHostCount --dimensions {dims} --statistic Maximum --period 60 --evaluation-periods 2 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching"
        ),
    ]
}
