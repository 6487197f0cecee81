//! CP002: a GitHub version 1 source action authenticates with an OAuth token; a literal token
//! in a committed file is leaked. With a connection ARN the action becomes a
//! CodeStarSourceConnection action.

use crate::config::Config;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::document::Op;

use super::secrets::{is_reference, plaintext_secret};
use super::{Context, Finding};

pub struct Rule;

/// `[rules.CP002]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    report_every_v1_action: bool,
    connection_arn: String,
}

fn is_github_v1(action: &Value) -> bool {
    use crate::document::value::field;
    let t = |k: &str| field(field(action, "actionTypeId")?, k);
    t("owner").and_then(Value::as_str) == Some("ThirdParty")
        && t("provider").and_then(Value::as_str) == Some("GitHub")
        && match t("version") {
            Some(Value::String(v)) => v.trim() == "1",
            Some(Value::Number(n)) => n.as_u64() == Some(1),
            _ => false,
        }
}

/// A token written out in the file, not the `****` mask of get-pipeline nor a reference.
/// Placeholders (`%GitHubToken%`, `{{resolve:…}}`, `${…}`, `<TOKEN>`, `your-token`) are not.
fn literal_token(cfg: &Value) -> Option<&str> {
    let t = cfg.get("OAuthToken")?.as_str()?.trim();
    let masked = t.chars().all(|c| c == '*');
    // A template filled in before the pipeline is created (CloudFormation, a script).
    let template = t.contains("${") || t.contains("{{") || t.contains("#{");
    let stand_in = plaintext_secret("OAuthToken", t).is_none();
    (!t.is_empty() && !masked && !is_reference(t) && !template && !stand_in).then_some(t)
}

fn is_connection_arn(arn: &str) -> bool {
    arn.starts_with("arn:aws")
        && (arn.contains(":codestar-connections:") || arn.contains(":codeconnections:"))
        && arn.contains(":connection/")
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "CP002"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let connection = params.connection_arn.trim().to_string();
        // The version 1 action itself still works; only a committed token is a defect. Teams
        // that want every version 1 action moved opt in.
        let every_v1_action = params.report_every_v1_action;
        for (file, p) in cx.unit.pipelines() {
            for view in p.actions() {
                let (action, a_path) = (view.at.value, &view.at.at);
                if !is_github_v1(action) {
                    continue;
                }
                let cfg = action.get("configuration").unwrap_or(&Value::Null);
                let name = view.name().unwrap_or("?");
                let token = literal_token(cfg);
                if token.is_none() && !every_v1_action {
                    continue;
                }
                let location = if cfg.get("OAuthToken").is_some() {
                    a_path.key("configuration").key("OAuthToken")
                } else {
                    a_path.key("actionTypeId")
                };
                let message = if token.is_some() {
                    format!(
                        "source action \"{name}\" is the GitHub version 1 action and its OAuthToken is a real token committed in plain text: anyone who can read this file can use it"
                    )
                } else {
                    format!(
                        "source action \"{name}\" is the GitHub version 1 (OAuth app) action, which AWS no longer recommends: use a CodeStar connection (GitHub App)"
                    )
                };
                let mut f = Finding::at(cx.id(), file, location, message);
                if let Some(t) = token {
                    f = f.secret(t).follow_up(
                        "Revoke this GitHub token now (GitHub → Settings → Developer settings → Personal access tokens) and check its audit log: it stays in the repository history even after the fix",
                    );
                }
                let field = |k: &str| cfg.get(k).and_then(Value::as_str).map(str::trim);
                let (owner, repo, branch) = (field("Owner"), field("Repo"), field("Branch"));
                if connection.is_empty() {
                    out.push(f.follow_up(
                        "Create a GitHub connection (Developer Tools → Settings → Connections), complete the GitHub App handshake so it is AVAILABLE, and run pipefix with [rules.CP002] connection_arn = \"arn:aws:codestar-connections:…\" and --unsafe-fixes to switch the action",
                    ));
                    continue;
                }
                if !is_connection_arn(&connection) {
                    out.push(f.follow_up(format!(
                        "The connection_arn parameter \"{connection}\" is not a CodeStar/CodeConnections connection ARN (arn:aws:codestar-connections:REGION:ACCOUNT:connection/ID)"
                    )));
                    continue;
                }
                let (Some(owner), Some(repo), Some(branch)) = (owner, repo, branch) else {
                    out.push(f.follow_up(
                        "The action's configuration lacks Owner, Repo or Branch: switch it to CodeStarSourceConnection by hand",
                    ));
                    continue;
                };
                let mut new_cfg = Map::new();
                new_cfg.insert("BranchName".into(), json!(branch));
                new_cfg.insert("ConnectionArn".into(), json!(connection));
                new_cfg.insert("FullRepositoryId".into(), json!(format!("{owner}/{repo}")));
                new_cfg.insert("OutputArtifactFormat".into(), json!("CODE_ZIP"));
                let mut ops = vec![Op::Replace {
                    path: a_path.key("actionTypeId"),
                    value: json!({"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"}),
                }];
                ops.push(if action.get("configuration").is_some() {
                    Op::Replace {
                        path: a_path.key("configuration"),
                        value: Value::Object(new_cfg),
                    }
                } else {
                    Op::InsertKey {
                        path: a_path.clone(),
                        key: "configuration".into(),
                        value: Value::Object(new_cfg),
                        position: crate::document::Position::After("runOrder".into()),
                    }
                });
                out.push(
                    f.with_fix(
                        "switch the source action to the CodeStar connection",
                        ops,
                    )
                    .follow_up(
                        "Make sure the connection is AVAILABLE (a new one stays PENDING until the GitHub App is installed) and that the pipeline role may codestar-connections:UseConnection (codeconnections:UseConnection for codeconnections ARNs) on it",
                    )
                    .follow_up(
                        "Delete the GitHub webhook of the old action (aws codepipeline deregister-webhook-with-third-party, then delete-webhook); the connection starts the pipeline on pushes to the branch",
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_that_are_not_leaks() {
        assert_eq!(literal_token(&json!({"OAuthToken": "****"})), None);
        assert_eq!(
            literal_token(
                &json!({"OAuthToken": "{{resolve:secretsmanager:gh:SecretString:token}}"})
            ),
            None
        );
        assert_eq!(
            literal_token(&json!({"OAuthToken": {"Ref": "GitHubToken"}})),
            None
        );
        assert_eq!(
            literal_token(&json!({"OAuthToken": "ghp_x"})),
            Some("ghp_x")
        );
        for stand_in in [
            "%GitHubToken%",
            "<GITHUB_TOKEN>",
            "${GITHUB_TOKEN}",
            "your-github-token",
        ] {
            assert_eq!(
                literal_token(&json!({"OAuthToken": stand_in})),
                None,
                "{stand_in}"
            );
        }
        assert!(is_connection_arn(
            "arn:aws:codestar-connections:us-east-1:123456789012:connection/abc"
        ));
        assert!(!is_connection_arn("arn:aws:iam::123456789012:role/x"));
    }
}
