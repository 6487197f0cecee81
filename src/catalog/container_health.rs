//! A container's health check timing as ECS applies it: what TD003 fixes and SV002 builds on.
//!
//! Failures during `startPeriod` do not count, and `retries` consecutive failures `interval`
//! seconds apart mark the container UNHEALTHY, so a starting container can be killed after
//! `startPeriod + interval × retries` seconds.

use serde::Deserialize;
use serde_json::Value;

use crate::aws::{Container, Field, HealthCheck, HealthCheckTiming as Key};
use crate::config::Config;

/// AWS ranges of the container health check (HealthCheck API).
pub const START_PERIOD_MAX: u64 = 300;
pub const INTERVAL_RANGE: (u64, u64) = (5, 300);
pub const RETRIES_MAX: u64 = 10;
/// What ECS uses when a key is left out.
const DEFAULT_INTERVAL: u64 = 30;
const DEFAULT_RETRIES: u64 = 3;
/// One failed check must never kill a task.
pub const MIN_RETRIES: u64 = 2;
/// The longest start-up time a health check can always cover: the largest start period plus
/// the most retries at the shortest interval.
pub const STARTUP_MAX: u64 = START_PERIOD_MAX + RETRIES_MAX * INTERVAL_RANGE.0;

/// The timing of one container health check, explicit values or ECS defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub start_period: u64,
    pub interval: u64,
    pub retries: u64,
}

impl Timing {
    /// When a starting container that never passes a check is marked UNHEALTHY at the earliest.
    pub fn kill_after(&self) -> u64 {
        self.start_period + self.interval * self.retries
    }
}

/// A whole number of seconds/counts; `None` when the key holds something else (a template
/// token, `null`), which leaves the whole check alone. A fraction counts as its whole part.
fn number(hc: &HealthCheck<'_>, key: Key, default: u64) -> Option<u64> {
    match hc.raw(key) {
        None => Some(default),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Some(_) => None,
    }
}

/// The health check timing of a container, when it has one that can be judged.
pub fn timing(container: &Container<'_>) -> Option<Timing> {
    let hc = container.health_check()?;
    Some(Timing {
        start_period: number(&hc, Key::StartPeriod, 0)?,
        interval: number(&hc, Key::Interval, DEFAULT_INTERVAL)?,
        retries: number(&hc, Key::Retries, DEFAULT_RETRIES)?,
    })
}

/// The smallest change that makes `t` safe for a start-up of `startup` seconds: retries at
/// least 2, then the start period raised just enough, then (only past AWS's 300 s start
/// period) retries. The interval is never changed.
pub fn wanted(t: Timing, startup: u64) -> Timing {
    let startup = startup.min(STARTUP_MAX);
    // The interval as ECS would accept it; a value outside the range is not judged here.
    let interval = t.interval.clamp(INTERVAL_RANGE.0, INTERVAL_RANGE.1);
    let retries = t.retries.max(MIN_RETRIES);
    let start_period = t
        .start_period
        .max(startup.saturating_sub(interval * retries));
    if start_period <= START_PERIOD_MAX {
        return Timing {
            start_period,
            retries,
            ..t
        };
    }
    let start_period = t.start_period.max(START_PERIOD_MAX);
    let missing = startup.saturating_sub(start_period);
    let retries = retries.max(missing.div_ceil(interval).min(RETRIES_MAX));
    Timing {
        start_period,
        retries,
        ..t
    }
}

/// Whether a container's health status can stop its task: only essential containers count.
pub fn essential(container: &Container<'_>) -> bool {
    container.essential() != Field::Value(false)
}

/// `[rules.TD003]`: defaults and documentation in TD003's catalog file. TD003 fixes the
/// health checks for this start-up time; SV002 sizes grace periods by what TD003 leaves.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartupParams {
    startup_time: u64,
}

/// The start-up time TD003 protects: `[rules.TD003] startup_time`, else the catalog default.
pub fn startup_time(config: &Config) -> Option<u64> {
    super::params_for::<StartupParams>(config, "TD003")
        .ok()
        .map(|p| p.startup_time.min(STARTUP_MAX))
}

/// The start period a container has once TD003 has run (its current one when TD003 leaves it
/// alone); 0 without a health check.
pub fn start_period_after_fix(container: &Container<'_>, startup: u64) -> u64 {
    match timing(container) {
        Some(t) if essential(container) => wanted(t, startup).start_period,
        Some(t) => t.start_period,
        None => declared_start_period(container),
    }
}

/// The start period a container's health check declares as a whole number written as one
/// (`5`, not `5.0`); 0 otherwise or without a health check.
pub fn declared_start_period(container: &Container<'_>) -> u64 {
    container
        .health_check()
        .and_then(|hc| hc.raw(Key::StartPeriod))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(start_period: u64, interval: u64, retries: u64) -> Timing {
        Timing {
            start_period,
            interval,
            retries,
        }
    }

    #[test]
    fn the_smallest_start_period_that_reaches_the_start_up_time() {
        // One strike at 5 s, no start period: retries 2, then 60 - 10 = 50.
        assert_eq!(wanted(t(0, 5, 1), 60), t(50, 5, 2));
        // ECS defaults (30 s x 3) already give 90 s: left alone.
        assert_eq!(wanted(t(0, 30, 3), 60), t(0, 30, 3));
        // 10 s with enough retries is fine and stays.
        assert_eq!(wanted(t(0, 10, 6), 60), t(0, 10, 6));
        assert_eq!(wanted(t(0, 10, 3), 60), t(30, 10, 3));
        // A start period already longer than needed is never lowered.
        assert_eq!(wanted(t(200, 5, 3), 60), t(200, 5, 3));
    }

    #[test]
    fn past_the_largest_start_period_retries_rise_within_range() {
        let w = wanted(t(0, 5, 2), 340);
        assert_eq!(w, t(300, 5, 8));
        assert!(w.kill_after() >= 340);
        let w = wanted(t(0, 5, 1), 10_000);
        assert_eq!(w, t(300, 5, 10));
        // Converges: what the fix writes needs no further fix.
        for startup in [0, 1, 59, 60, 61, 299, 300, 349, 350] {
            for interval in [5, 10, 30, 300] {
                for retries in [1, 2, 3, 10] {
                    let w = wanted(t(0, interval, retries), startup);
                    assert_eq!(wanted(w, startup), w);
                    assert!(w.kill_after() >= startup && w.retries >= MIN_RETRIES);
                    assert!(w.start_period <= START_PERIOD_MAX && w.retries <= RETRIES_MAX);
                }
            }
        }
    }
}
