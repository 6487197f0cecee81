//! TG001: ALB target group health checks that neither evict slow starters nor make every
//! deployment wait minutes per task.

use serde_json::Value;

use crate::document::{Op, Path, Position};
use crate::model::{self, Kind};

use super::support::docs_of;
use super::{Context, Finding, Safety};

pub struct Rule;

const INTERVAL: &str = "HealthCheckIntervalSeconds";
const TIMEOUT: &str = "HealthCheckTimeoutSeconds";
const HEALTHY: &str = "HealthyThresholdCount";
const UNHEALTHY: &str = "UnhealthyThresholdCount";

/// AWS ranges (CreateTargetGroup / ModifyTargetGroup).
const INTERVAL_RANGE: (u64, u64) = (5, 300);
const TIMEOUT_RANGE: (u64, u64) = (2, 120);
const THRESHOLD_RANGE: (u64, u64) = (2, 10);

/// What AWS uses when a key is left out, for HTTP/HTTPS target groups of type ip or instance.
const DEFAULT_INTERVAL: u64 = 30;
const DEFAULT_TIMEOUT: u64 = 5;
const DEFAULT_HEALTHY: u64 = 5;
const DEFAULT_UNHEALTHY: u64 = 2;

/// The bounds the fix brings a target group to, from its parameters, kept inside the AWS
/// ranges and consistent with each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub min_interval: u64,
    pub max_interval: u64,
    pub min_timeout: u64,
    pub max_healthy: u64,
    pub min_unhealthy: u64,
}

impl Bounds {
    fn from_params(cx: &Context<'_>) -> Bounds {
        let clamp =
            |v: Option<u64>, default: u64, (lo, hi): (u64, u64)| v.unwrap_or(default).clamp(lo, hi);
        let min_interval = clamp(cx.param_u64("min_interval"), 10, INTERVAL_RANGE);
        let max_interval =
            clamp(cx.param_u64("max_interval"), 30, INTERVAL_RANGE).max(min_interval);
        Bounds {
            min_interval,
            max_interval,
            min_timeout: clamp(cx.param_u64("min_timeout"), 5, TIMEOUT_RANGE),
            max_healthy: clamp(cx.param_u64("max_healthy_threshold"), 3, THRESHOLD_RANGE),
            min_unhealthy: clamp(cx.param_u64("min_unhealthy_threshold"), 3, THRESHOLD_RANGE),
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

/// The timing `t` should have: each value moved into its bounds, the others kept.
pub fn wanted(t: Timing, b: Bounds) -> Timing {
    // Never shorten a timeout (that makes checks stricter); the interval makes room for it.
    let timeout = t.timeout.max(b.min_timeout).min(TIMEOUT_RANGE.1);
    let interval = t
        .interval
        .clamp(b.min_interval, b.max_interval)
        .max(timeout + 1)
        .min(INTERVAL_RANGE.1);
    // Only reachable with a timeout of 120 and an interval bound below it: the timeout gives.
    let timeout = timeout.min(interval - 1);
    Timing {
        interval,
        timeout,
        healthy: t.healthy.min(b.max_healthy).max(THRESHOLD_RANGE.0),
        unhealthy: t.unhealthy.max(b.min_unhealthy).min(THRESHOLD_RANGE.1),
    }
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

/// A whole number of seconds/counts, `None` when the key is there but is something else.
fn number(tg: &Value, key: &str, default: u64) -> Option<u64> {
    match tg.get(key) {
        None => Some(default),
        Some(v) => v.as_u64(),
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TG001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let bounds = Bounds::from_params(cx);
        for (file, v, root) in docs_of(cx.unit, Kind::TargetGroup) {
            for (path, tg) in model::target_groups(v, root) {
                if !applies(tg) {
                    continue;
                }
                // A value that is not a whole number (a template token, …) is left alone,
                // and so is the group: its timing cannot be judged as a whole.
                let (Some(interval), Some(timeout), Some(healthy), Some(unhealthy)) = (
                    number(tg, INTERVAL, DEFAULT_INTERVAL),
                    number(tg, TIMEOUT, DEFAULT_TIMEOUT),
                    number(tg, HEALTHY, DEFAULT_HEALTHY),
                    number(tg, UNHEALTHY, DEFAULT_UNHEALTHY),
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
                report(cx, out, file, &path, tg, now, want);
            }
        }
    }
}

fn report(
    cx: &Context<'_>,
    out: &mut Vec<Finding>,
    file: usize,
    path: &Path,
    tg: &Value,
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
    .find(|k| tg.get(**k).is_some())
    .map(|k| k.to_string());
    for (key, label, cur, new) in fields {
        if tg.get(key).is_some() {
            last = Some(key.to_string());
        }
        if cur == new {
            continue;
        }
        let shown = if tg.get(key).is_some() {
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
        if tg.get(key).is_some() {
            ops.push(Op::Replace {
                path: path.key(key),
                value: Value::from(new),
            });
        } else {
            ops.push(Op::InsertKey {
                path: path.clone(),
                key: key.to_string(),
                value: Value::from(new),
                position: last.clone().map(Position::After).unwrap_or(Position::End),
            });
            last = Some(key.to_string());
        }
    }
    let name = ["TargetGroupName", "Name"]
        .iter()
        .find_map(|k| tg.get(*k).and_then(Value::as_str))
        .unwrap_or("?");
    let aggressive = want.interval > now.interval
        || want.timeout > now.timeout
        || want.unhealthy > now.unhealthy;
    let slow = want.interval < now.interval || want.healthy < now.healthy;
    let verdict = match (aggressive, slow) {
        (true, true) => {
            "too aggressive for tasks that start slowly, and too slow to count them healthy"
        }
        (true, false) => "too aggressive: tasks are evicted before they finish starting",
        _ => "too slow: deployments wait long for each task to count as healthy",
    };
    let mut finding = Finding::at(
        cx.id(),
        file,
        path.clone(),
        format!(
            "target group \"{name}\" health checks are {verdict} ({})",
            why.join(", ")
        ),
    )
    .with_fix(
        "bring the target group health check timing into range",
        Safety::Safe,
        ops,
    );
    // describe-target-groups output only records the live settings.
    if let Some(arn) = tg.get("TargetGroupArn").and_then(Value::as_str)
        && tg.get("Name").is_none()
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
        min_interval: 10,
        max_interval: 30,
        min_timeout: 5,
        max_healthy: 3,
        min_unhealthy: 3,
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
    fn aggressive_values_rise_slow_values_fall_good_values_stay() {
        assert_eq!(wanted(t(5, 2, 5, 2), B), t(10, 5, 3, 3));
        assert_eq!(wanted(t(15, 5, 2, 3), B), t(15, 5, 2, 3));
        assert_eq!(wanted(t(60, 10, 10, 10), B), t(30, 10, 3, 10));
        // AWS defaults: healthy 5 is too slow, unhealthy 2 too quick.
        assert_eq!(wanted(t(30, 5, 5, 2), B), t(30, 5, 3, 3));
    }

    #[test]
    fn the_timeout_stays_below_the_interval() {
        // A slow health endpoint keeps its timeout; the interval makes room.
        assert_eq!(wanted(t(60, 45, 2, 3), B).interval, 46);
        assert_eq!(wanted(t(10, 10, 2, 3), B), t(11, 10, 2, 3));
        let w = wanted(t(300, 120, 2, 3), B);
        assert!(w.timeout < w.interval && w.interval <= 300);
        let tight = Bounds {
            min_timeout: 120,
            ..B
        };
        let w = wanted(t(5, 2, 2, 2), tight);
        assert_eq!((w.interval, w.timeout), (121, 120));
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
