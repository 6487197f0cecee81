//! AS002: the AppSpec's load balancer container and port are the service's and the task
//! definition's.

use serde_json::Value;

use crate::document::Position;
use crate::model::Kind;

use super::as001_task_definition_placeholder::ecs_resources;
use super::support::{docs_of, set_key};
use super::{Context, Finding, Safety};

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
    let defs = td.value()?.get("containerDefinitions")?.as_array()?;
    Some(
        defs.iter()
            .filter_map(|c| {
                let name = c.get("name")?.as_str()?.to_string();
                let ports = c
                    .get("portMappings")
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

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "AS002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let containers = containers(cx);
        let service = service_target(cx);
        let has = |name: &str, port: u64| {
            containers.as_ref().is_none_or(|cs| {
                cs.iter()
                    .any(|(n, ports)| n == name && ports.contains(&port))
            })
        };
        for (file, appspec, root) in docs_of(cx.unit, Kind::Appspec) {
            for (props_path, props) in ecs_resources(appspec, root) {
                let Some(lbi) = props.get("LoadBalancerInfo").filter(|v| v.is_object()) else {
                    continue;
                };
                let lbi_path = props_path.key("LoadBalancerInfo");
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
                // What it must be, and why; None when the files do not tell.
                let expected: Result<Option<(String, u64, &str)>, String> = match &service {
                    Some((n, p)) if has(n, *p) => {
                        Ok(Some((n.clone(), *p, "the ECS service's load balancer")))
                    }
                    Some((n, p)) => Err(format!(
                        "the ECS service's load balancer uses {n}:{p}, which the task definition does not have"
                    )),
                    None => match (&containers, name, port) {
                        (Some(_), Some(n), Some(p)) if has(n, p) => Ok(None),
                        (Some(cs), _, _) => {
                            let with_ports: Vec<&(String, Vec<u64>)> =
                                cs.iter().filter(|(_, p)| !p.is_empty()).collect();
                            match with_ports.as_slice() {
                                [(n, ports)] if ports.len() == 1 => Ok(Some((
                                    n.clone(),
                                    ports[0],
                                    "the task definition's only container port",
                                ))),
                                _ => Err(format!(
                                    "the task definition offers {}",
                                    with_ports
                                        .iter()
                                        .map(|(n, p)| format!(
                                            "{n}:{}",
                                            p.iter()
                                                .map(u64::to_string)
                                                .collect::<Vec<_>>()
                                                .join("/")
                                        ))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            }
                        }
                        (None, _, _) => Ok(None),
                    },
                };
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
                                "AppSpec load balancer target is {current}, but {source} is {n}:{p}: the replacement tasks are registered on the wrong container or port"
                            )
                        };
                        out.push(Finding::at(cx.id(), file, lbi_path, message).with_fix(
                            format!("target {n}:{p} in the AppSpec"),
                            Safety::Safe,
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
                                    Safety::Safe,
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
                            format!("AppSpec load balancer target {current} cannot be checked safely: {why}"),
                        )
                        .follow_up(
                            "Set LoadBalancerInfo.ContainerName/ContainerPort to the container and port the ECS service was created with; they must exist in the task definition",
                        ),
                    ),
                }
            }
        }
    }
}
