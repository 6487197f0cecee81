//! TD004: secrets in a container's plaintext `environment` move to `secrets`, read from
//! Secrets Manager when the container starts.

use crate::config::Config;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::TaskDefinition;
use crate::document::{Op, Position};

use super::secrets::{Reason, plaintext_secret};
use super::{Context, Finding};

pub struct Rule;

/// `[rules.TD004]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    secret_name: String,
}

/// Characters Secrets Manager allows in a secret name.
fn secret_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// The secret's name from the `secret_name` template (`{family}`, `{container}`, `{name}`).
fn secret_name(template: &str, family: &str, container: &str, name: &str) -> String {
    let template = if template.trim().is_empty() {
        "{family}/{name}"
    } else {
        template.trim()
    };
    template
        .replace("{family}", family)
        .replace("{container}", container)
        .replace("{name}", name)
        .chars()
        .map(|c| if secret_name_char(c) { c } else { '-' })
        .collect()
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

struct Moved<'a> {
    index: usize,
    name: &'a str,
    value: &'a str,
    reason: Reason,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD004"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let template = params.secret_name;
        for (file, td) in cx.unit.task_definitions() {
            for container_view in td.containers() {
                let (c, c_path) = (container_view.at.value, &container_view.at.at);
                let Some(env) = c.get("environment").and_then(Value::as_array) else {
                    continue;
                };
                let moved: Vec<Moved> = env
                    .iter()
                    .enumerate()
                    .filter_map(|(index, e)| {
                        let name = e.get("name")?.as_str()?;
                        let value = e.get("value")?.as_str()?;
                        let reason = plaintext_secret(name, value)?;
                        Some(Moved {
                            index,
                            name,
                            value,
                            reason,
                        })
                    })
                    .collect();
                if moved.is_empty() {
                    continue;
                }
                let container = container_view.name().unwrap_or("container");
                let family = td.family().unwrap_or(container);
                let listed: Vec<String> = moved
                    .iter()
                    .map(|m| match m.reason {
                        Reason::Name => m.name.to_string(),
                        Reason::Value(what) => format!("{} (its value looks like {what})", m.name),
                    })
                    .collect();
                let mut finding = Finding::at(
                    cx.id(),
                    file,
                    c_path.key("environment"),
                    format!(
                        "container \"{container}\" keeps secrets in plaintext environment: {}; anyone allowed ecs:DescribeTaskDefinition can read them, in every revision",
                        listed.join(", ")
                    ),
                );
                for m in &moved {
                    finding = finding.secret(m.value);
                }
                let names: Vec<&str> = moved.iter().map(|m| m.name).collect();
                finding = finding.follow_up(format!(
                    "Rotate {}: the values were committed in plain text and stay in the repository history and in every registered task definition revision",
                    names.join(", ")
                ));
                // In a template, the stack's own region and account are pseudo parameters.
                let in_template = super::support::resource_id(cx.unit, file).is_some();
                let known = match (cx.facts().region.as_deref(), cx.facts().account.as_deref()) {
                    (Some(r), Some(a)) => Some((r, a)),
                    _ if in_template => Some(("${AWS::Region}", "${AWS::AccountId}")),
                    _ => None,
                };
                let Some((region, account)) = known else {
                    out.push(finding.follow_up(
                        "pipefix could not tell the AWS region and account of this task definition, so it cannot write the secrets' ARNs: move these variables to \"secrets\" with \"valueFrom\" set to each secret's ARN",
                    ));
                    continue;
                };
                let existing: Vec<&str> = container_view.secret_names();
                let mut new_secrets: Vec<(String, Value)> = Vec::new();
                for m in &moved {
                    if existing.contains(&m.name) || new_secrets.iter().any(|(n, _)| n == m.name) {
                        continue;
                    }
                    let sm_name = secret_name(&template, family, container, m.name);
                    let pseudo = region.starts_with("${");
                    let arn = format!(
                        "arn:{}:secretsmanager:{region}:{account}:secret:{sm_name}",
                        if pseudo {
                            "${AWS::Partition}"
                        } else {
                            partition(region)
                        }
                    );
                    let value_from = if pseudo {
                        json!({"Fn::Sub": arn})
                    } else {
                        json!(arn)
                    };
                    new_secrets.push((
                        m.name.to_string(),
                        json!({"name": m.name, "valueFrom": value_from}),
                    ));
                }
                let mut ops = Vec::new();
                match c.get("secrets") {
                    Some(Value::Array(list)) => {
                        for (k, (_, v)) in new_secrets.iter().enumerate() {
                            ops.push(Op::InsertItem {
                                path: c_path.key("secrets"),
                                index: list.len() + k,
                                value: v.clone(),
                            });
                        }
                    }
                    // A `"secrets": null` (console export) is replaced.
                    Some(_) if !new_secrets.is_empty() => ops.push(Op::Replace {
                        path: c_path.key("secrets"),
                        value: Value::Array(new_secrets.iter().map(|(_, v)| v.clone()).collect()),
                    }),
                    None if !new_secrets.is_empty() => ops.push(Op::InsertKey {
                        path: c_path.clone(),
                        key: "secrets".into(),
                        value: Value::Array(new_secrets.iter().map(|(_, v)| v.clone()).collect()),
                        position: Position::After("environment".into()),
                    }),
                    _ => {}
                }
                if moved.len() == env.len() {
                    // Nothing stays in the environment: drop the empty list with it.
                    ops.push(Op::Remove {
                        path: c_path.key("environment"),
                    });
                } else {
                    // From the end, so that earlier indices stay valid.
                    for m in moved.iter().rev() {
                        ops.push(Op::Remove {
                            path: c_path.key("environment").index(m.index),
                        });
                    }
                }
                if !new_secrets.is_empty() {
                    let arns: Vec<String> = new_secrets
                        .iter()
                        .filter_map(|(_, v)| {
                            let from = v.get("valueFrom")?;
                            from.as_str().or_else(|| from.get("Fn::Sub")?.as_str())
                        })
                        .map(str::to_string)
                        .collect();
                    let sm_names: Vec<&str> = arns
                        .iter()
                        .filter_map(|a| a.split(":secret:").nth(1))
                        .collect();
                    finding = finding
                        .follow_up(format!(
                            "Create the secrets before the next deployment, with the rotated values, one per variable: write the value to a file outside the repository that only you can read, then `aws secretsmanager create-secret --region {} --name NAME --secret-string file://FILE` and delete the file (never put the value on the command line); names: {}",
                            if region.starts_with("${") { "REGION (the stack's)" } else { region },
                            sm_names.join(", ")
                        ))
                        .follow_up(format!(
                            "Allow the task execution role ({}) secretsmanager:GetSecretValue on {} (the -?????? matches the suffix Secrets Manager adds; add kms:Decrypt for a customer managed key); ECS reads secrets only when a task starts",
                            execution_role(&td),
                            arns.iter()
                                .map(|a| format!("{a}-??????"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .follow_up(
                            "The valueFrom ARNs are written without the 6-character suffix Secrets Manager adds at creation (it cannot be known before); the ECS API documents the full ARN, so replace each valueFrom with the ARN create-secret prints",
                        );
                }
                out.push(finding.with_fix(
                    format!("move {} to secrets (Secrets Manager)", names.join(", ")),
                    ops,
                ));
            }
        }
    }
}

/// The execution role as shown in a follow-up.
fn execution_role(td: &TaskDefinition<'_>) -> String {
    match td.execution_role_arn() {
        Some(arn) => arn.to_string(),
        None => "none yet: add executionRoleArn, see TD005".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_follow_the_template_and_aws_charset() {
        assert_eq!(
            secret_name("", "plooral-api", "api", "DB_PASSWORD"),
            "plooral-api/DB_PASSWORD"
        );
        assert_eq!(
            secret_name("prod/{container}/{name}", "f", "api", "JWT SECRET"),
            "prod/api/JWT-SECRET"
        );
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("eu-west-1"), "aws");
    }
}
