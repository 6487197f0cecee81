//! TD005: a task definition whose containers need the task execution role (secrets, awslogs,
//! private ECR images) has one.

use serde_json::Value;

use crate::aws::{At, Container, TaskDefinition};

use super::{Context, Finding};

pub struct Rule;

/// Whether the task definition can only run on EC2 container instances: it requires EC2
/// alone, or it names no compatibility and uses a network mode Fargate does not have. There
/// the container instance role pulls ECR images and writes awslogs logs; only secrets and
/// private registry credentials still need an execution role.
fn ec2_only(td: &Value) -> bool {
    match td.get("requiresCompatibilities").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list.iter().all(|c| c.as_str() == Some("EC2")),
        _ => td
            .get("networkMode")
            .and_then(Value::as_str)
            .is_none_or(|m| m != "awsvpc"),
    }
}

/// What in a container needs the execution role, and the secret ARNs it reads. On EC2
/// (`instance_role`), ECR pulls and awslogs use the container instance role instead.
fn needs(c: &Container<'_>, instance_role: bool, needs: &mut Vec<String>, arns: &mut Vec<String>) {
    let name = c.name().unwrap_or("?");
    let mut from = |list: Vec<At<'_>>| {
        for s in &list {
            if let Some(v) = s.str("valueFrom")
                && !arns.iter().any(|a| a == v)
            {
                arns.push(v.to_string());
            }
        }
        (!list.is_empty()).then_some(())
    };
    if from(c.secrets()).is_some() {
        needs.push(format!("\"{name}\" reads secrets"));
    }
    if from(c.log_secret_options()).is_some() {
        needs.push(format!("\"{name}\" passes secrets to its log driver"));
    }
    if !instance_role && c.log_driver() == Some("awslogs") {
        needs.push(format!("\"{name}\" logs with awslogs"));
    }
    // Trimmed or not, the image names the same registry.
    if !instance_role
        && let Some(image) = c.image()
        && image.contains(".dkr.ecr.")
    {
        needs.push(format!("\"{name}\" pulls from private ECR"));
    }
    if c.has_registry_credentials() {
        needs.push(format!("\"{name}\" uses private registry credentials"));
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD005"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, td) in cx.unit.task_definitions() {
            if td
                .execution_role_arn()
                .is_some_and(|r| !r.trim().is_empty())
            {
                continue;
            }
            let instance_role = ec2_only(td.0.value);
            let mut reasons = Vec::new();
            let mut arns = Vec::new();
            for c in td.containers() {
                needs(&c, instance_role, &mut reasons, &mut arns);
            }
            if reasons.is_empty() {
                continue;
            }
            let family = td
                .family()
                .or_else(|| super::support::resource_id(cx.unit, file))
                .unwrap_or("?");
            let mut f = Finding::at(
                cx.id(),
                file,
                td.0.path(TaskDefinition::EXECUTION_ROLE_ARN),
                format!(
                    "task definition \"{family}\" has no executionRoleArn, but {}: tasks stop before the container starts (ResourceInitializationError / CannotPullContainerError)",
                    reasons.join(", ")
                ),
            )
            .follow_up(
                "Create or choose a task execution role with the AWS managed policy AmazonECSTaskExecutionRolePolicy (ECR pulls and awslogs) and set \"executionRoleArn\" to its ARN",
            );
            if !arns.is_empty() {
                let sm: Vec<String> = arns
                    .iter()
                    .filter(|a| a.contains(":secretsmanager:"))
                    .map(|a| {
                        // `arn:…:secret:NAME[:json-key:stage:version]` → the secret itself.
                        let parts: Vec<&str> = a.splitn(8, ':').collect();
                        format!("\"{}-??????\"", parts[..parts.len().min(7)].join(":"))
                    })
                    .collect();
                let ssm: Vec<String> = arns
                    .iter()
                    .filter(|a| !a.contains(":secretsmanager:"))
                    .map(|a| format!("\"{a}\""))
                    .collect();
                let mut statements = Vec::new();
                if !sm.is_empty() {
                    statements.push(format!(
                        "{{\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": [{}]}}",
                        sm.join(", ")
                    ));
                }
                if !ssm.is_empty() {
                    statements.push(format!(
                        "{{\"Effect\": \"Allow\", \"Action\": \"ssm:GetParameters\", \"Resource\": [{}]}}",
                        ssm.join(", ")
                    ));
                }
                f = f.follow_up(format!(
                    "Give that role an inline policy for the secrets it reads (add kms:Decrypt when they use a customer managed key): {{\"Version\": \"2012-10-17\", \"Statement\": [{}]}}",
                    statements.join(", ")
                ));
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Path;
    use serde_json::json;

    fn container(v: &Value) -> Container<'_> {
        Container {
            at: At::new(v, Path::root()),
            index: 0,
        }
    }

    #[test]
    fn what_needs_the_role() {
        let c = json!({"name": "api", "image": "nginx:1.25",
            "secrets": [{"name": "A", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/a"}],
            "logConfiguration": {"logDriver": "awslogs"}});
        let (mut n, mut a) = (Vec::new(), Vec::new());
        needs(&container(&c), false, &mut n, &mut a);
        assert_eq!(n.len(), 2);
        assert_eq!(a, vec!["arn:aws:ssm:eu-west-1:1:parameter/a"]);
        let plain = json!({"name": "x", "image": "public.ecr.aws/nginx/nginx:1"});
        let (mut n, mut a) = (Vec::new(), Vec::new());
        needs(&container(&plain), false, &mut n, &mut a);
        assert!(n.is_empty());
        // On EC2 the instance role pulls and logs; secrets still need the execution role.
        let (mut n, mut a) = (Vec::new(), Vec::new());
        needs(&container(&c), true, &mut n, &mut a);
        assert_eq!(n, vec!["\"api\" reads secrets".to_string()]);
        assert!(ec2_only(
            &json!({"requiresCompatibilities": ["EC2"], "networkMode": "awsvpc"})
        ));
        assert!(ec2_only(&json!({"networkMode": "bridge"})));
        assert!(ec2_only(&json!({})));
        assert!(!ec2_only(&json!({"networkMode": "awsvpc"})));
        assert!(!ec2_only(
            &json!({"requiresCompatibilities": ["EC2", "FARGATE"]})
        ));
    }
}
