//! TD003: a container health check that cannot kill a task before it has had time to start,
//! nor after a single failed check.
//!
//! The timing is judged by what kills a task, not field by field: failures during
//! `startPeriod` do not count, and `retries` consecutive failures `interval` seconds apart mark
//! the container UNHEALTHY, so a starting container can be killed after
//! `startPeriod + interval × retries` seconds. That must reach the expected start-up time.

use serde_json::Value;

use crate::aws::HealthCheckTiming as Key;
use crate::document::Position;

use super::container_health::{
    MIN_RETRIES, StartupParams, essential, startup_time, timing, wanted,
};
use super::support::set_key_in;
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
        for (file, td) in cx.unit.task_definitions() {
            for c in td.containers() {
                // A non-essential container's health does not change the task's.
                if !essential(&c) {
                    continue;
                }
                let (Some(now), Some(hc)) = (timing(&c), c.health_check()) else {
                    continue;
                };
                let want = wanted(now, startup);
                if want == now {
                    continue;
                }
                let hc_path = hc.0.at.clone();
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
                    (Key::Retries, now.retries, want.retries),
                    (Key::StartPeriod, now.start_period, want.start_period),
                ] {
                    if old == new {
                        continue;
                    }
                    changes.push(format!("{} {new}", key.key()));
                    ops.push(set_key_in(&hc.0, key.key(), Value::from(new), Position::End));
                }
                let name = c.name().unwrap_or("?");
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
