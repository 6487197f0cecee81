//! TD003: container health checks that give the application time to start.

use serde_json::Value;

use crate::document::{Op, Position};
use crate::model::Kind;

use super::{Context, Finding, Safety};

pub struct Rule;

/// (task definition key, parameter name, AWS minimum, AWS maximum)
const FIELDS: [(&str, &str, u64, u64); 4] = [
    ("interval", "interval", 5, 300),
    ("timeout", "timeout", 2, 60),
    ("retries", "retries", 1, 10),
    ("startPeriod", "start_period", 0, 300),
];

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD003"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, f) in cx.unit.of_kind(Kind::TaskDef) {
            let (Some(v), Some((_, root))) = (f.value(), f.doc()) else {
                continue;
            };
            let Some(containers) = v.get("containerDefinitions").and_then(Value::as_array) else {
                continue;
            };
            for (i, c) in containers.iter().enumerate() {
                let Some(hc) = c.get("healthCheck").and_then(Value::as_object) else {
                    continue;
                };
                let hc_path = root.key("containerDefinitions").index(i).key("healthCheck");
                let mut ops = Vec::new();
                let mut why = Vec::new();
                for (key, param, lo, hi) in FIELDS {
                    let floor = cx.param_u64(param).unwrap_or(lo).clamp(lo, hi);
                    match hc.get(key) {
                        Some(Value::Number(n)) => {
                            if let Some(cur) =
                                n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64))
                                && cur < floor
                            {
                                why.push(format!("{key} {cur} < {floor}"));
                                ops.push(Op::Replace {
                                    path: hc_path.key(key),
                                    value: Value::from(floor),
                                });
                            }
                        }
                        // Missing interval/timeout/retries take AWS defaults (30/5/3), which
                        // are the floors; a missing startPeriod means none at all.
                        None if key == "startPeriod" && floor > 0 => {
                            why.push(format!("no {key}"));
                            ops.push(Op::InsertKey {
                                path: hc_path.clone(),
                                key: key.to_string(),
                                value: Value::from(floor),
                                position: Position::End,
                            });
                        }
                        _ => {}
                    }
                }
                if ops.is_empty() {
                    continue;
                }
                let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        hc_path,
                        format!(
                            "container \"{name}\" health check is too aggressive ({}): tasks are killed before they finish starting",
                            why.join(", ")
                        ),
                    )
                    .with_fix("raise the health check timing to the floors", Safety::Safe, ops),
                );
            }
        }
    }
}
