//! AS002: the AppSpec's load balancer container and port are the service's and the task
//! definition's.

use serde_json::Value;

use crate::aws::At;
use crate::document::Position;
use crate::model::Kind;

use super::codedeploy::ecs_resources;
use super::support::set_key;
use super::{Context, Finding};

pub struct Rule;

/// A port as written: a number, or a string holding one.
fn port_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Container name → its container ports, from the unit's only task definition.
fn containers(cx: &Context<'_>) -> Option<Vec<(String, Vec<u64>)>> {
    let (_, td) = cx.unit.single(Kind::TaskDef)?;
    let defs = super::support::task_definition(td)?.container_list()?;
    Some(
        defs.iter()
            .filter_map(|c| {
                let name = c.name()?.to_string();
                let ports = c
                    .at
                    .raw("portMappings")
                    .and_then(Value::as_array)
                    .map(|pm| {
                        pm.iter()
                            .filter_map(|m| port_of(m.get("containerPort")))
                            .collect()
                    })
                    .unwrap_or_default();
                Some((name, ports))
            })
            .collect(),
    )
}

/// The service's `loadBalancers[0]` container and port.
fn service_target(cx: &Context<'_>) -> Option<(String, u64)> {
    let (_, svc) = cx.unit.single(Kind::EcsService)?;
    let lb = svc.value()?.get("loadBalancers")?.as_array()?.first()?;
    Some((
        lb.get("containerName")?.as_str()?.to_string(),
        port_of(lb.get("containerPort"))?,
    ))
}

/// `name:port`, with `?` for what is missing.
fn show(name: Option<&str>, port: Option<u64>) -> String {
    format!(
        "{}:{}",
        name.unwrap_or("?"),
        port.map_or("?".to_string(), |p| p.to_string())
    )
}

/// What the AppSpec's target must be, decided by the other sources (the ECS service's load
/// balancer and the task definition's container ports): `Ok(Some(..))` when every other
/// source agrees on one value and at least two of them stand against the AppSpec's,
/// `Ok(None)` when nothing contradicts the AppSpec, `Err(values)` when the sources disagree
/// with no majority (a person decides, with every value shown).
fn expected_target(
    containers: Option<&[(String, Vec<u64>)]>,
    service: Option<&(String, u64)>,
    name: Option<&str>,
    port: Option<u64>,
) -> Result<Option<(String, u64, &'static str)>, String> {
    // Whether the task definition has a container with that port (None: no task definition).
    let td_has = |n: &str, p: u64| {
        containers.map(|cs| cs.iter().any(|(cn, ports)| cn == n && ports.contains(&p)))
    };
    let appspec_in_td = match (name, port) {
        (Some(n), Some(p)) => td_has(n, p),
        _ => containers.map(|_| false),
    };
    let td_offers = || {
        containers
            .unwrap_or_default()
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(n, p)| {
                format!(
                    "{n}:{}",
                    p.iter().map(u64::to_string).collect::<Vec<_>>().join("/")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let appspec = show(name, port);
    match service {
        Some((n, p)) if Some(n.as_str()) == name && Some(*p) == port => match appspec_in_td {
            Some(false) => Err(format!(
                "the AppSpec and the service's load balancer agree on {appspec}, but the task definition offers {}",
                td_offers()
            )),
            _ => Ok(None),
        },
        Some((n, p)) => match (td_has(n, *p), appspec_in_td) {
            // The service and the task definition against the AppSpec.
            (Some(true), Some(false)) => Ok(Some((
                n.clone(),
                *p,
                "the ECS service's load balancer and the task definition agree on",
            ))),
            (Some(false), Some(true)) => Err(format!(
                "the AppSpec and the task definition agree on {appspec}, but the ECS service's load balancer uses {n}:{p}"
            )),
            _ => Err(format!(
                "the ECS service's load balancer uses {n}:{p} and the task definition offers {}",
                td_offers()
            )),
        },
        None => match appspec_in_td {
            Some(false) => Err(format!(
                "the task definition offers {} (with no other file to say which side is right)",
                td_offers()
            )),
            _ => Ok(None),
        },
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "AS002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let containers = containers(cx);
        let service = service_target(cx);
        for (file, appspec) in cx.unit.appspecs() {
            for props in ecs_resources(&appspec) {
                let Some(lbi_at) = props.get("LoadBalancerInfo").filter(At::is_object) else {
                    continue;
                };
                let (lbi, lbi_path) = (lbi_at.value, lbi_at.at.clone());
                let name = lbi
                    .get("ContainerName")
                    .and_then(Value::as_str)
                    .map(str::trim);
                let port = port_of(lbi.get("ContainerPort"));
                let quoted = matches!(lbi.get("ContainerPort"), Some(Value::String(_)));
                let current = format!(
                    "{}:{}",
                    name.unwrap_or("?"),
                    port.map_or("?".to_string(), |p| p.to_string())
                );
                let expected = expected_target(containers.as_deref(), service.as_ref(), name, port);
                match expected {
                    Ok(Some((n, p, source))) => {
                        let mut ops = Vec::new();
                        if name != Some(n.as_str()) {
                            ops.push(set_key(
                                &lbi_path,
                                lbi,
                                "ContainerName",
                                Value::String(n.clone()),
                                Position::Start,
                            ));
                        }
                        if port != Some(p) || quoted {
                            ops.push(set_key(
                                &lbi_path,
                                lbi,
                                "ContainerPort",
                                Value::from(p),
                                Position::After("ContainerName".to_string()),
                            ));
                        }
                        if ops.is_empty() {
                            continue;
                        }
                        let message = if name == Some(n.as_str()) && port == Some(p) {
                            format!("AppSpec ContainerPort {p} is a string; CodeDeploy expects a number")
                        } else {
                            format!(
                                "AppSpec load balancer target is {current}, but {source} {n}:{p}: the replacement tasks are registered on the wrong container or port"
                            )
                        };
                        out.push(Finding::at(cx.id(), file, lbi_path, message).with_fix(
                            format!("target {n}:{p} in the AppSpec"),
                            ops,
                        ));
                    }
                    Ok(None) if quoted => {
                        if let Some(p) = port {
                            out.push(
                                Finding::at(
                                    cx.id(),
                                    file,
                                    lbi_path.clone(),
                                    format!("AppSpec ContainerPort {p} is a string; CodeDeploy expects a number"),
                                )
                                .with_fix(
                                    "write ContainerPort as a number",
                                    vec![set_key(&lbi_path, lbi, "ContainerPort", Value::from(p), Position::End)],
                                ),
                            );
                        }
                    }
                    Ok(None) => {}
                    Err(why) => out.push(
                        Finding::at(
                            cx.id(),
                            file,
                            lbi_path,
                            format!("AppSpec load balancer target is {current}, but {why}: the files disagree and no two of them agree against the third"),
                        )
                        .follow_up(
                            "Check which container and port the application listens on and the ECS service was created with, and make the AppSpec LoadBalancerInfo, the service's loadBalancers and the task definition's portMappings say the same",
                        ),
                    ),
                }
            }
        }
    }
}
