//! TD003: a container health check that cannot kill a task before it has had time to start,
//! nor after a single failed check.
//!
//! The timing is judged by what kills a task, not field by field: failures during
//! `startPeriod` do not count, and `retries` consecutive failures `interval` seconds apart mark
//! the container UNHEALTHY, so a starting container can be killed after
//! `startPeriod + interval × retries` seconds. That must reach the expected start-up time.

use serde_json::Value;

use crate::document::{Op, Position};
use crate::model::Kind;

use super::container_health::{
    MIN_RETRIES, StartupParams, essential,
    startup_time, timing, wanted,
};
use super::{Context, Finding};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD003"
    }

    fn read_params(&self, config: &crate::config::Config) -> Result<(), String> {
        super::params_for::<StartupParams>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(startup) = startup_time(cx.config) else {
            return;
        };
        for (file, f) in cx.unit.of_kind(Kind::TaskDef) {
            let (Some(v), Some((_, root))) = (f.value(), f.doc()) else {
                continue;
            };
            let Some(containers) = v.get("containerDefinitions").and_then(Value::as_array) else {
                continue;
            };
            for (i, c) in containers.iter().enumerate() {
                // A non-essential container's health does not change the task's.
                if !essential(c) {
                    continue;
                }
                let (Some(now), Some(hc)) =
                    (timing(c), c.get("healthCheck").and_then(Value::as_object))
                else {
                    continue;
                };
                let want = wanted(now, startup);
                if want == now {
                    continue;
                }
                let hc_path = root.key("containerDefinitions").index(i).key("healthCheck");
                let mut why = Vec::new();
                if now.retries < MIN_RETRIES {
                    why.push(format!(
                        "a single failed check marks it unhealthy (retries {})",
                        now.retries
                    ));
                }
                if now.kill_after() < startup {
                    why.push(format!(
                        "it can be killed {}s after it starts (startPeriod {} + interval {} x retries {}), before the expected start-up time of {startup}s",
                        now.kill_after(),
                        now.start_period,
                        now.interval,
                        now.retries
                    ));
                }
                let mut ops = Vec::new();
                let mut changes = Vec::new();
                for (key, old, new) in [
                    ("retries", now.retries, want.retries),
                    ("startPeriod", now.start_period, want.start_period),
                ] {
                    if old == new {
                        continue;
                    }
                    changes.push(format!("{key} {new}"));
                    if hc.contains_key(key) {
                        ops.push(Op::Replace {
                            path: hc_path.key(key),
                            value: Value::from(new),
                        });
                    } else {
                        ops.push(Op::InsertKey {
                            path: hc_path.clone(),
                            key: key.to_string(),
                            value: Value::from(new),
                            position: Position::End,
                        });
                    }
                }
                let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        hc_path,
                        format!(
                            "container \"{name}\" health check is too aggressive: {}",
                            why.join("; ")
                        ),
                    )
                    .with_fix(format!("set {}", changes.join(", ")), ops),
                );
            }
        }
    }
}
