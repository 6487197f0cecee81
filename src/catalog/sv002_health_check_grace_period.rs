//! SV002: a service behind a load balancer gives new tasks a grace period before health
//! checks count: more than 0, and at least the start period of the container behind the load
//! balancer as TD003 leaves it.

use serde_json::json;

use crate::aws::{Service, TaskDefinition};

use super::support::service_name;
use super::support::{after_first_of, set_key_in};
use super::container_health;
use super::{Context, Finding};

pub struct Rule;

const GRACE: &str = Service::GRACE_PERIOD;

/// The containers whose start period bounds a service's grace period, each with its start
/// period after TD003's fix, and whether they are known to be the ones behind the load
/// balancer (`false`: the main container is one of them, but which one cannot be told).
struct Candidates {
    start_periods: Vec<(String, u64)>,
    certain: bool,
}

/// The family a service's `taskDefinition` names (`family`, `family:3`, or an ARN).
fn family_of(reference: &str) -> &str {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    last.split(':').next().unwrap_or(last)
}

fn candidates(cx: &Context<'_>, svc: &Service<'_>, startup: u64) -> Candidates {
    let family = svc.task_definition().map(family_of);
    let all: Vec<(usize, TaskDefinition<'_>)> = cx.unit.task_definitions().collect();
    // The service's own task definition: the unit's task definition of the family the service
    // names; without a name, the unit's only task definition. Another family's task definition
    // says nothing about this service.
    let tds: Vec<(usize, TaskDefinition<'_>)> = match family {
        Some(f) => all
            .into_iter()
            .filter(|(_, td)| td.family() == Some(f))
            .collect(),
        None if all.len() == 1 => all,
        None => Vec::new(),
    };
    let mut containers: Vec<(String, u64, bool)> = Vec::new();
    for (i, td) in tds {
        let td003_runs = cx.config.enabled("TD003", &cx.unit.files[i].path);
        for c in td.containers() {
            let name = c.name().unwrap_or("?");
            let start = if td003_runs {
                container_health::start_period_after_fix(&c, startup)
            } else {
                container_health::declared_start_period(&c)
            };
            containers.push((name.to_string(), start, container_health::essential(&c)));
        }
    }
    let behind_lb: Vec<&str> = svc
        .load_balancers()
        .iter()
        .filter_map(|lb| lb.container_name)
        .collect();
    let named: Vec<(String, u64)> = containers
        .iter()
        .filter(|(n, _, _)| behind_lb.contains(&n.as_str()))
        .map(|(n, s, _)| (n.clone(), *s))
        .collect();
    if !named.is_empty() {
        return Candidates {
            start_periods: named,
            certain: true,
        };
    }
    let essential: Vec<(String, u64)> = containers
        .iter()
        .filter(|(_, _, e)| *e)
        .map(|(n, s, _)| (n.clone(), *s))
        .collect();
    Candidates {
        certain: essential.len() == 1,
        start_periods: essential,
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "SV002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(startup) = container_health::startup_time(cx.config) else {
            return;
        };
        for (file, svc) in cx.unit.services() {
            if svc.load_balancers().is_empty() {
                continue;
            }
            // As written: `null` or `30.0` is not judged.
            let grace = match svc.0.raw(GRACE) {
                None => 0,
                Some(v) => match v.as_u64() {
                    Some(n) => n,
                    // A template token or another type: not judged.
                    None => continue,
                },
            };
            let cands = candidates(cx, &svc, startup);
            // Behind every container that may be the main one: the grace period must reach
            // all of them to be provably enough (the smallest provable value), and is
            // provably short only when it is below all of them.
            let need = if cands.certain {
                cands.start_periods.iter().map(|(_, s)| *s).max()
            } else {
                cands.start_periods.iter().map(|(_, s)| *s).min()
            }
            .unwrap_or(0);
            let raise_to = cands
                .start_periods
                .iter()
                .max_by_key(|(_, s)| *s)
                .filter(|(_, s)| *s > 0)
                .cloned();
            if grace > 0 && grace >= need {
                continue;
            }
            let (wanted, because) = match &raise_to {
                Some((name, s)) => (
                    *s,
                    format!(
                        "the start period of container \"{name}\"{}",
                        if cands.certain {
                            ""
                        } else {
                            " (the longest of the containers that may be behind the load balancer)"
                        }
                    ),
                ),
                None => (
                    startup.max(1),
                    "no container start period covers start-up, so the expected start-up time ([rules.TD003] startup_time)".to_string(),
                ),
            };
            let name = service_name(cx.unit, file, &svc);
            let what = if grace == 0 {
                "no health check grace period".to_string()
            } else {
                format!("a health check grace period of {grace}s")
            };
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    svc.0.path(GRACE),
                    format!("service {name} has {what} behind a load balancer: the load balancer's health checks count while new tasks are still starting (wanted {wanted}s: {because})"),
                )
                .with_fix(
                    format!("set healthCheckGracePeriodSeconds to {wanted}"),
                    vec![set_key_in(&svc.0, GRACE, json!(wanted), after_first_of(svc.0.value, &["loadBalancers", "desiredCount"]))],
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::family_of;

    #[test]
    fn families_of_task_definition_references() {
        assert_eq!(family_of("shop"), "shop");
        assert_eq!(family_of("shop:12"), "shop");
        assert_eq!(
            family_of("arn:aws:ecs:eu-west-1:111122223333:task-definition/shop:12"),
            "shop"
        );
    }
}
