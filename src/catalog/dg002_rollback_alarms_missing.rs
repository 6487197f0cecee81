//! DG002: the deployment group watches alarms and rolls back when one fires.

use crate::config::Config;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::document::{Op, Position};
use crate::model::Kind;

use super::codedeploy::{is_group, watches_alarms};
use super::support::{after_first_of, docs_of, set_key};
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
        for (file, dg, root) in docs_of(cx.unit, Kind::DeploymentGroup) {
            if !is_group(dg) {
                continue;
            }
            let name = super::support::name_of(cx.unit, file, dg, &["deploymentGroupName"]);
            let arc = dg.get("autoRollbackConfiguration");
            let rollback_on =
                arc.and_then(|a| a.get("enabled")).and_then(Value::as_bool) == Some(true);
            let events: Vec<&str> = arc
                .and_then(|a| a.get("events"))
                .and_then(Value::as_array)
                .map(|e| e.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            // A group that watches alarms is DG001's: it rolls back when one fires.
            if watches_alarms(dg) {
                continue;
            }
            let at = root.key("alarmConfiguration");
            // Alarms the group already lists (monitoring switched off) are kept, never lost.
            let existing: Vec<String> = dg
                .pointer("/alarmConfiguration/alarms")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.get("name").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let mut names = existing.clone();
            for n in &configured {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
            if !names.is_empty() {
                let mut ops = match dg.get("alarmConfiguration") {
                    // Edit the existing configuration in place: switch it on, add what is missing.
                    Some(cfg) if cfg.is_object() => {
                        let mut ops = Vec::new();
                        if cfg.get("enabled").and_then(Value::as_bool) != Some(true) {
                            ops.push(set_key(&at, cfg, "enabled", json!(true), Position::Start));
                        }
                        match cfg.get("alarms").and_then(Value::as_array) {
                            Some(list) => {
                                for (k, n) in names.iter().skip(existing.len()).enumerate() {
                                    ops.push(Op::InsertItem {
                                        path: at.key("alarms"),
                                        index: list.len() + k,
                                        value: json!({"name": n}),
                                    });
                                }
                            }
                            None => {
                                let alarms: Vec<Value> =
                                    names.iter().map(|n| json!({"name": n})).collect();
                                ops.push(set_key(&at, cfg, "alarms", json!(alarms), Position::End));
                            }
                        }
                        ops
                    }
                    _ => {
                        let alarms: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
                        vec![set_key(
                            root,
                            dg,
                            "alarmConfiguration",
                            json!({"enabled": true, "ignorePollAlarmFailure": false, "alarms": alarms}),
                            after_first_of(dg, &["triggerConfigurations", "serviceRoleArn"]),
                        )]
                    }
                };
                if rollback_on && !events.contains(&"DEPLOYMENT_STOP_ON_ALARM") {
                    let mut wanted = events.clone();
                    wanted.push("DEPLOYMENT_STOP_ON_ALARM");
                    let a = arc.cloned().unwrap_or(Value::Null);
                    ops.push(set_key(
                        &root.key("autoRollbackConfiguration"),
                        &a,
                        "events",
                        json!(wanted),
                        Position::End,
                    ));
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
            for cmd in alarm_commands(cx, dg) {
                f = f.follow_up(cmd);
            }
            out.push(f);
        }
    }
}

/// The `put-metric-alarm` commands for the two alarms every ECS blue/green group should
/// watch: target 5XX responses and unhealthy hosts of the production target group.
fn alarm_commands(cx: &Context<'_>, dg: &Value) -> Vec<String> {
    let tg = dg
        .pointer("/loadBalancerInfo/targetGroupPairInfoList/0/targetGroups/0/name")
        .and_then(Value::as_str)
        .unwrap_or("<target-group-name>");
    let region = cx.facts.region.as_deref().unwrap_or("<region>");
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
