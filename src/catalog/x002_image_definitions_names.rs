//! X002: names written to imagedefinitions.json are containers of the task definition.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::model::Kind;
use crate::workspace::DeployPath;

use super::buildspec::commands;
use super::buildspec::{TokKind, referenced_vars, tokenize, variable_value};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

static NAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"\\?"name\\?"\s*:\s*\\?"([^"\\]*)\\?""#).ok());

/// The container names a line writes to imagedefinitions.json, resolved where the buildspec
/// tells (`%s` arguments of printf, `$VAR`); unresolved names are left out.
fn names(line: &str, resolve: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let Some(re) = NAME.as_ref() else {
        return Vec::new();
    };
    let toks = tokenize(line).unwrap_or_default();
    let printf_args: Vec<String> = match toks.first() {
        Some(t) if t.raw == "printf" => toks[1..]
            .iter()
            .take_while(|t| t.kind == TokKind::Word)
            .map(|t| t.unquoted())
            .collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for c in re.captures_iter(line) {
        let (Some(whole), Some(m)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let raw = m.as_str();
        let value = if raw == "%s" {
            // Which %s of the format this is: the argument after the format with that index.
            let k = line[..whole.start()].matches("%s").count();
            printf_args.get(1 + k).and_then(|a| expand(a, resolve))
        } else {
            expand(raw, resolve)
        };
        if let Some(v) = value {
            out.push(v);
        }
    }
    out
}

/// `$X` / `${X}` by the buildspec's value; a literal as it is; anything else unknown.
fn expand(s: &str, resolve: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let vars = referenced_vars(s);
    match vars.as_slice() {
        [] if !s.contains('$') && !s.contains('%') => Some(s.to_string()),
        [v] if s == format!("${v}") || s == format!("${{{v}}}") => resolve(v),
        _ => None,
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "X002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.facts().deploy_path != DeployPath::Standard {
            return;
        }
        let Some((_, td)) = cx.unit.single(Kind::TaskDef) else {
            return;
        };
        let containers: Vec<&str> = super::support::task_definition(td)
            .map(|td| super::support::container_names(&td))
            .unwrap_or_default();
        if containers.is_empty() {
            return;
        }
        // The service's load balancer container is a third source: say which side it takes.
        let service_container = cx
            .unit
            .single(Kind::EcsService)
            .and_then(|(_, f)| f.value())
            .and_then(|v| v.pointer("/loadBalancers/0/containerName"))
            .and_then(Value::as_str)
            .map(str::to_string);
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let resolve = |v: &str| variable_value(bs, root, v);
            for cmd in commands(bs, root) {
                let wrong: Vec<String> = cmd
                    .lines()
                    .filter(|l| l.contains("imagedefinitions.json"))
                    .flat_map(|l| names(l, &resolve))
                    .filter(|n| !containers.contains(&n.as_str()))
                    .collect();
                if wrong.is_empty() {
                    continue;
                }
                let third = match &service_container {
                    Some(c) if wrong.contains(c) => format!(
                        "; the service's load balancer also names \"{c}\", so the task definition is the odd one out"
                    ),
                    Some(c) if containers.contains(&c.as_str()) => format!(
                        "; the service's load balancer names \"{c}\", as the task definition does"
                    ),
                    _ => String::new(),
                };
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        cmd.path(),
                        format!(
                            "imagedefinitions.json names {}, not a container of the task definition ({}){third}: the ECS deploy fails with `container ... does not exist`",
                            wrong.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "),
                            containers.join(", ")
                        ),
                    )
                    .follow_up(match &service_container {
                        Some(c) if wrong.contains(c) => format!(
                            "Name the task definition's container \"{c}\", as imagedefinitions.json and the service's load balancer do (or change both of them)"
                        ),
                        _ => "Write the container name of the task definition into imagedefinitions.json (or rename the container, together with the service's load balancer container name)".to_string(),
                    }),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_printf_and_echo() {
        let resolve = |v: &str| (v == "CONTAINER").then(|| "web".to_string());
        assert_eq!(
            names(
                r#"printf '[{"name":"api","imageUri":"%s"}]' $R:$T > imagedefinitions.json"#,
                &resolve
            ),
            ["api"]
        );
        assert_eq!(
            names(
                r#"printf '[{"name":"%s","imageUri":"%s"}]' $CONTAINER $R:$T > imagedefinitions.json"#,
                &resolve
            ),
            ["web"]
        );
        assert_eq!(
            names(
                r#"echo "[{\"name\":\"$CONTAINER\",\"imageUri\":\"$R\"}]" > imagedefinitions.json"#,
                &resolve
            ),
            ["web"]
        );
        assert!(
            names(
                r#"printf '[{"name":"%s"}]' $UNKNOWN > imagedefinitions.json"#,
                &resolve
            )
            .is_empty()
        );
    }
}
