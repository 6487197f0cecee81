//! TD005: a task definition whose containers need the task execution role (secrets, awslogs,
//! private ECR images) has one.

use serde_json::Value;

use crate::model::Kind;

use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

/// What in a container needs the execution role, and the secret ARNs it reads.
fn needs(c: &Value, needs: &mut Vec<String>, arns: &mut Vec<String>) {
    let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
    let mut from = |list: Option<&Value>| {
        let list = list.and_then(Value::as_array)?;
        let mut any = false;
        for s in list {
            any = true;
            if let Some(v) = s.get("valueFrom").and_then(Value::as_str)
                && !arns.iter().any(|a| a == v)
            {
                arns.push(v.to_string());
            }
        }
        any.then_some(())
    };
    if from(c.get("secrets")).is_some() {
        needs.push(format!("\"{name}\" reads secrets"));
    }
    if from(c.pointer("/logConfiguration/secretOptions")).is_some() {
        needs.push(format!("\"{name}\" passes secrets to its log driver"));
    }
    if c.pointer("/logConfiguration/logDriver")
        .and_then(Value::as_str)
        == Some("awslogs")
    {
        needs.push(format!("\"{name}\" logs with awslogs"));
    }
    if let Some(image) = c.get("image").and_then(Value::as_str)
        && image.contains(".dkr.ecr.")
    {
        needs.push(format!("\"{name}\" pulls from private ECR"));
    }
    if c.pointer("/repositoryCredentials/credentialsParameter")
        .is_some()
    {
        needs.push(format!("\"{name}\" uses private registry credentials"));
    }
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD005"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, td, root) in docs_of(cx.unit, Kind::TaskDef) {
            if td
                .get("executionRoleArn")
                .and_then(Value::as_str)
                .is_some_and(|r| !r.trim().is_empty())
            {
                continue;
            }
            let mut reasons = Vec::new();
            let mut arns = Vec::new();
            for c in td
                .get("containerDefinitions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                needs(c, &mut reasons, &mut arns);
            }
            if reasons.is_empty() {
                continue;
            }
            let family = td.get("family").and_then(Value::as_str).unwrap_or("?");
            let mut f = Finding::at(
                cx.id(),
                file,
                root.key("executionRoleArn"),
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
    use serde_json::json;

    #[test]
    fn what_needs_the_role() {
        let c = json!({"name": "api", "image": "nginx:1.25",
            "secrets": [{"name": "A", "valueFrom": "arn:aws:ssm:eu-west-1:1:parameter/a"}],
            "logConfiguration": {"logDriver": "awslogs"}});
        let (mut n, mut a) = (Vec::new(), Vec::new());
        needs(&c, &mut n, &mut a);
        assert_eq!(n.len(), 2);
        assert_eq!(a, vec!["arn:aws:ssm:eu-west-1:1:parameter/a"]);
        let plain = json!({"name": "x", "image": "public.ecr.aws/nginx/nginx:1"});
        let (mut n, mut a) = (Vec::new(), Vec::new());
        needs(&plain, &mut n, &mut a);
        assert!(n.is_empty());
    }
}
