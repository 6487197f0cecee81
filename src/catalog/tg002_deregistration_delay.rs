//! TG002: a target group deregistration delay (connection draining) that makes every stopped
//! task of a deployment wait minutes.

use crate::config::Config;
use serde::Deserialize;
use serde_json::Value;

use crate::document::Op;
use crate::model::{self, Kind};

use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

/// `[rules.TG002]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    max_deregistration_delay: u64,
}

const KEY: &str = "deregistration_delay.timeout_seconds";

/// AWS range of the attribute.
const RANGE: (u64, u64) = (0, 3600);

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TG002"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let max = params.max_deregistration_delay.clamp(RANGE.0, RANGE.1);
        for (file, v, root) in docs_of(cx.unit, Kind::TargetGroupAttributes) {
            let Some(attrs) = v.get("Attributes").and_then(Value::as_array) else {
                continue;
            };
            for (i, a) in attrs.iter().enumerate() {
                if a.get("Key").and_then(Value::as_str) != Some(KEY) {
                    continue;
                }
                // AWS prints and takes the value as a string; a bare number is read too.
                let value = a.get("Value");
                let current = match value {
                    Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
                    Some(Value::Number(n)) => n.as_u64(),
                    _ => None,
                };
                let Some(current) = current.filter(|c| *c > max) else {
                    continue;
                };
                let new = match value {
                    Some(Value::Number(_)) => Value::from(max),
                    _ => Value::from(max.to_string()),
                };
                let path = root.key("Attributes").index(i);
                let arn = target_group_arn(cx, v);
                let name = arn
                    .as_deref()
                    .and_then(|a| a.split(":targetgroup/").nth(1))
                    .and_then(|rest| rest.split('/').next())
                    .or_else(|| super::support::resource_id(cx.unit, file))
                    .map(|n| format!("target group \"{n}\""))
                    .unwrap_or_else(|| "the target group".to_string());
                let mut finding = Finding::at(
                    cx.id(),
                    file,
                    path.clone(),
                    format!(
                        "{name} drains stopped targets for {current}s (deregistration_delay.timeout_seconds): every task a deployment stops waits that long (wanted at most {max}s)"
                    ),
                )
                .with_fix(
                    format!("lower deregistration_delay.timeout_seconds to {max}"),
                    vec![Op::Replace {
                        path: path.key("Value"),
                        value: new,
                    }],
                )
                .follow_up(format!(
                    "make sure no request of the service runs longer than {max}s (uploads, streaming, long polling), or raise max_deregistration_delay"
                ));
                // A template applies the attributes with the stack; a file of them needs the
                // call that sets them.
                if v.get("TargetGroupArn").is_none()
                    && super::support::resource_id(cx.unit, file).is_none()
                {
                    finding = finding.follow_up(format!(
                        "apply it to the target group: aws elbv2 modify-target-group-attributes --target-group-arn {} --attributes Key={KEY},Value={max}",
                        arn.as_deref().unwrap_or("<target group ARN>")
                    ));
                }
                out.push(finding);
            }
        }
    }
}

/// The ARN of the target group the attributes belong to: the modify input's own, else the one
/// target group of the unit, when it names exactly one.
fn target_group_arn(cx: &Context<'_>, attrs: &Value) -> Option<String> {
    if let Some(a) = attrs.get("TargetGroupArn").and_then(Value::as_str) {
        return Some(a.to_string());
    }
    let (_, f) = cx.unit.single(Kind::TargetGroup)?;
    let (_, root) = f.doc()?;
    let groups = model::target_groups(f.value()?, root);
    match groups.as_slice() {
        [(_, g)] => g
            .get("TargetGroupArn")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}
