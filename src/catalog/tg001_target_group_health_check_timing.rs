//! TG001: ALB target group health checks that neither evict slow starters nor make every
//! deployment wait minutes per task.

use crate::config::Config;
use serde::Deserialize;
use serde_json::Value;

use crate::aws::TargetGroup;
use crate::document::{Op, Position};
use super::{Context, Finding};

pub struct Rule;

/// `[rules.TG001]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    min_time_to_unhealthy: u64,
    max_time_to_healthy: u64,
}

const INTERVAL: &str = TargetGroup::INTERVAL;
const TIMEOUT: &str = TargetGroup::TIMEOUT;
const HEALTHY: &str = TargetGroup::HEALTHY_THRESHOLD;
const UNHEALTHY: &str = TargetGroup::UNHEALTHY_THRESHOLD;

/// AWS ranges (CreateTargetGroup / ModifyTargetGroup).
const INTERVAL_RANGE: (u64, u64) = (5, 300);
const THRESHOLD_RANGE: (u64, u64) = (2, 10);

/// What AWS uses when a key is left out, for HTTP/HTTPS target groups of type ip or instance.
const DEFAULT_INTERVAL: u64 = 30;
const DEFAULT_TIMEOUT: u64 = 5;
const DEFAULT_HEALTHY: u64 = 5;
const DEFAULT_UNHEALTHY: u64 = 2;

/// What the fix protects, from its parameters: how long a target must keep failing before it
/// is evicted, and (when set) how long a recovering target may take to count as healthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// `interval x unhealthy threshold` must reach this many seconds.
    pub min_time_to_unhealthy: u64,
    /// `interval x healthy threshold` must not exceed this many seconds; 0: not judged.
    pub max_time_to_healthy: u64,
}

/// The longest eviction time the fix can always reach: 10 failures 300 s apart.
const MAX_TIME_TO_UNHEALTHY: u64 = INTERVAL_RANGE.1 * THRESHOLD_RANGE.1;

impl Bounds {
    fn from_params(params: &Params) -> Bounds {
        Bounds {
            min_time_to_unhealthy: params.min_time_to_unhealthy.min(MAX_TIME_TO_UNHEALTHY),
            max_time_to_healthy: params.max_time_to_healthy,
        }
    }
}

/// The health check timing of one target group: explicit values, or AWS defaults when a
/// key is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub interval: u64,
    pub timeout: u64,
    pub healthy: u64,
    pub unhealthy: u64,
}

/// The smallest change that brings `t` within `b`: a target that keeps failing is evicted after
/// `interval x unhealthy` seconds, so the unhealthy threshold rises first (it slows nothing
/// else), the interval only when 10 failures are not enough; a recovering target counts as
/// healthy after `interval x healthy` seconds, so (when judged) the healthy threshold falls.
/// Nothing else changes and nothing moves the other way.
pub fn wanted(t: Timing, b: Bounds) -> Timing {
    let mut w = t;
    let interval = t.interval.clamp(INTERVAL_RANGE.0, INTERVAL_RANGE.1);
    if interval * t.unhealthy < b.min_time_to_unhealthy {
        w.unhealthy = b
            .min_time_to_unhealthy
            .div_ceil(interval)
            .clamp(t.unhealthy, THRESHOLD_RANGE.1);
        if interval * w.unhealthy < b.min_time_to_unhealthy {
            w.interval = b
                .min_time_to_unhealthy
                .div_ceil(w.unhealthy)
                .clamp(interval, INTERVAL_RANGE.1);
        }
    }
    let interval = w.interval.clamp(INTERVAL_RANGE.0, INTERVAL_RANGE.1);
    if b.max_time_to_healthy > 0 && interval * t.healthy > b.max_time_to_healthy {
        w.healthy = (b.max_time_to_healthy / interval).clamp(THRESHOLD_RANGE.0, t.healthy);
    }
    w
}

/// Whether TG001 applies: an HTTP/HTTPS (Application Load Balancer) target group of
/// ECS tasks (`ip` or `instance`), with health checks on.
fn applies(tg: &Value) -> bool {
    let protocol_ok = match tg.get("Protocol").and_then(Value::as_str) {
        Some(p) => p.eq_ignore_ascii_case("HTTP") || p.eq_ignore_ascii_case("HTTPS"),
        None => tg.get("Protocol").is_none(),
    };
    let target_ok = match tg.get("TargetType") {
        None => true,
        Some(t) => t
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("ip") || t.eq_ignore_ascii_case("instance")),
    };
    let enabled = tg.get("HealthCheckEnabled").and_then(Value::as_bool) != Some(false);
    protocol_ok && target_ok && enabled
}

/// A whole number of seconds/counts, `None` when the key is there but is something else
/// (`null` and `30.0` included: as written).
fn number(tg: &TargetGroup<'_>, key: &str, default: u64) -> Option<u64> {
    match tg.0.raw(key) {
        None => Some(default),
        Some(v) => v.as_u64(),
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TG001"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let bounds = Bounds::from_params(&params);
        for (file, tg) in cx.unit.target_groups() {
                if !applies(tg.0.value) {
                    continue;
                }
                // A value that is not a whole number (a template token, …) is left alone,
                // and so is the group: its timing cannot be judged as a whole.
                let (Some(interval), Some(timeout), Some(healthy), Some(unhealthy)) = (
                    number(&tg, INTERVAL, DEFAULT_INTERVAL),
                    number(&tg, TIMEOUT, DEFAULT_TIMEOUT),
                    number(&tg, HEALTHY, DEFAULT_HEALTHY),
                    number(&tg, UNHEALTHY, DEFAULT_UNHEALTHY),
                ) else {
                    continue;
                };
                let now = Timing {
                    interval,
                    timeout,
                    healthy,
                    unhealthy,
                };
                let want = wanted(now, bounds);
                if want == now {
                    continue;
                }
                report(cx, bounds, out, file, &tg, now, want);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    cx: &Context<'_>,
    bounds: Bounds,
    out: &mut Vec<Finding>,
    file: usize,
    tg: &TargetGroup<'_>,
    now: Timing,
    want: Timing,
) {
    let fields = [
        (INTERVAL, "interval", now.interval, want.interval),
        (TIMEOUT, "timeout", now.timeout, want.timeout),
        (HEALTHY, "healthy threshold", now.healthy, want.healthy),
        (
            UNHEALTHY,
            "unhealthy threshold",
            now.unhealthy,
            want.unhealthy,
        ),
    ];
    let mut why = Vec::new();
    let mut ops = Vec::new();
    let mut cli = Vec::new();
    // Keys inserted go after the health check keys already there (or inserted before them).
    let mut last: Option<String> = [
        "HealthCheckPath",
        "HealthCheckPort",
        "HealthCheckProtocol",
        "HealthCheckEnabled",
    ]
    .iter()
    .rev()
    .find(|k| tg.0.has(k))
    .map(|k| k.to_string());
    for (key, label, cur, new) in fields {
        if tg.0.has(key) {
            last = Some(key.to_string());
        }
        if cur == new {
            continue;
        }
        let shown = if tg.0.has(key) {
            cur.to_string()
        } else {
            format!("{cur} by default")
        };
        why.push(format!("{label} {shown} -> {new}"));
        cli.push(format!(
            "--{} {new}",
            match key {
                INTERVAL => "health-check-interval-seconds",
                TIMEOUT => "health-check-timeout-seconds",
                HEALTHY => "healthy-threshold-count",
                _ => "unhealthy-threshold-count",
            }
        ));
        if tg.0.has(key) {
            ops.push(Op::Replace {
                path: tg.0.path(key),
                value: Value::from(new),
            });
        } else {
            ops.push(Op::InsertKey {
                path: tg.0.at.clone(),
                key: key.to_string(),
                value: Value::from(new),
                position: last.clone().map(Position::After).unwrap_or(Position::End),
            });
            last = Some(key.to_string());
        }
    }
    let name = tg
        .name()
        .or_else(|| super::support::resource_id(cx.unit, file))
        .unwrap_or("?");
    let mut verdict = Vec::new();
    if want.interval > now.interval || want.unhealthy > now.unhealthy {
        verdict.push(format!(
            "evict a target after {}s of failed checks (interval x unhealthy threshold), wanted at least {}s: a task that pauses briefly is killed",
            now.interval * now.unhealthy,
            bounds.min_time_to_unhealthy
        ));
    }
    if want.healthy < now.healthy {
        verdict.push(format!(
            "take {}s to count a recovering target healthy (interval x healthy threshold), wanted at most {}s",
            now.interval * now.healthy,
            bounds.max_time_to_healthy
        ));
    }
    let verdict = verdict.join("; and ");
    let mut finding = Finding::at(
        cx.id(),
        file,
        tg.0.at.clone(),
        format!(
            "target group \"{name}\" health checks {verdict} ({})",
            why.join(", ")
        ),
    )
    .with_fix("bring the target group health check timing into range", ops);
    // describe-target-groups output only records the live settings.
    if let Some(arn) = tg.arn()
        && !tg.0.has("Name")
    {
        finding = finding.follow_up(format!(
            "apply it to the target group: aws elbv2 modify-target-group --target-group-arn {arn} {}",
            cli.join(" ")
        ));
    }
    out.push(finding);
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Bounds = Bounds {
        min_time_to_unhealthy: 30,
        max_time_to_healthy: 0,
    };

    fn t(interval: u64, timeout: u64, healthy: u64, unhealthy: u64) -> Timing {
        Timing {
            interval,
            timeout,
            healthy,
            unhealthy,
        }
    }

    #[test]
    fn the_unhealthy_threshold_rises_first_and_the_interval_only_past_ten() {
        // 5 s x 2 = 10 s: six failures make 30 s; the interval and the timeout stay.
        assert_eq!(wanted(t(5, 2, 5, 2), B), t(5, 2, 5, 6));
        // AWS defaults: 30 s x 2 = 60 s, left alone; slow healthy thresholds are not judged.
        assert_eq!(wanted(t(30, 5, 5, 2), B), t(30, 5, 5, 2));
        assert_eq!(wanted(t(10, 5, 2, 3), B), t(10, 5, 2, 3));
        let long = Bounds {
            min_time_to_unhealthy: 120,
            ..B
        };
        assert_eq!(wanted(t(5, 2, 2, 2), long), t(12, 2, 2, 10));
    }

    #[test]
    fn the_healthy_threshold_falls_only_when_judged() {
        let b = Bounds {
            max_time_to_healthy: 60,
            ..B
        };
        assert_eq!(wanted(t(30, 5, 5, 2), b), t(30, 5, 2, 2));
        assert_eq!(wanted(t(10, 5, 5, 3), b), t(10, 5, 5, 3));
        // Never below AWS's minimum of 2, and the interval is never lowered for it.
        assert_eq!(wanted(t(60, 10, 5, 2), b), t(60, 10, 2, 2));
        for interval in [5, 6, 10, 30, 60, 300] {
            for u in 2..=10 {
                for h in 2..=10 {
                    let w = wanted(t(interval, 2, h, u), b);
                    assert_eq!(wanted(w, b), w, "converges");
                    assert!(w.interval >= interval && w.unhealthy >= u && w.healthy <= h);
                }
            }
        }
    }

    #[test]
    fn only_alb_target_groups_of_tasks() {
        assert!(applies(
            &serde_json::json!({"Protocol": "HTTP", "TargetType": "ip"})
        ));
        assert!(applies(&serde_json::json!({"Name": "x"})));
        assert!(!applies(&serde_json::json!({"Protocol": "TCP"})));
        assert!(!applies(&serde_json::json!({"TargetType": "lambda"})));
        assert!(!applies(&serde_json::json!({"Protocol": 7})));
        assert!(!applies(
            &serde_json::json!({"Protocol": "HTTP", "HealthCheckEnabled": false})
        ));
    }
}
