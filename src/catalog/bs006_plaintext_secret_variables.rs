//! BS006: secrets in `env.variables` move to `env.secrets-manager`.

use crate::config::Config;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::document::{Op, Position};
use crate::model::Kind;

use super::buildspec::{env_map, scalar_text};
use super::secrets::{self, Reason};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

/// `[rules.BS006]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    secret_id: String,
    json_key: String,
}

/// The CodeBuild project the buildspec belongs to, as far as the unit tells.
fn project_name(cx: &Context<'_>) -> String {
    let Some((_, p)) = cx.unit.single(Kind::CodePipeline) else {
        return "build".to_string();
    };
    let pipeline = super::support::pipeline(p);
    let actions = pipeline.as_ref().map(|p| p.actions()).unwrap_or_default();
    let mut builds = actions.iter().filter(|a| a.provider() == Some("CodeBuild"));
    if let (Some(a), None) = (builds.next(), builds.next())
        && let Some(n) = a.configuration("ProjectName").and_then(Value::as_str)
    {
        return n.to_string();
    }
    pipeline
        .and_then(|p| p.name())
        .unwrap_or("build")
        .to_string()
}

fn fill(template: &str, project: &str, name: &str) -> String {
    template
        .replace("{project}", project)
        .replace("{name}", name)
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS006"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let project = project_name(cx);
        // An empty `secret_id` is its default.
        let id_template = if params.secret_id.is_empty() {
            match super::default_params::<Params>(self.id()) {
                Ok(d) => d.secret_id,
                Err(_) => return,
            }
        } else {
            params.secret_id
        };
        let key_template = params.json_key;
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let Some(vars) = env_map(bs, "variables") else {
                continue;
            };
            let env_path = root.key("env");
            let exported: Vec<&str> = bs
                .pointer("/env/exported-variables")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let existing = env_map(bs, "secrets-manager");
            for (name, v) in vars {
                let Some(value) = scalar_text(v) else {
                    continue;
                };
                let Some(reason) = secrets::plaintext_secret(name, &value) else {
                    continue;
                };
                let secret_id = fill(&id_template, &project, name);
                let json_key = fill(&key_template, &project, name);
                let reference = if json_key.is_empty() {
                    secret_id.clone()
                } else {
                    format!("{secret_id}:{json_key}")
                };
                let why = match reason {
                    Reason::Name => "its name marks it as a secret".to_string(),
                    Reason::Value(what) => format!("its value is {what}"),
                };
                let mut f = Finding::at(
                    cx.id(),
                    file,
                    env_path.key("variables").key(name),
                    format!(
                        "env.variables.{name} is a plaintext secret ({why}): committed with the source and shown by the console and the CLI"
                    ),
                )
                .secret(value.clone());
                if exported.contains(&name.as_str()) {
                    out.push(f.follow_up(format!(
                        "{name} is listed in env.exported-variables, which secrets cannot be: stop exporting it, then move it to Secrets Manager"
                    )));
                    continue;
                }
                let mut ops = Vec::new();
                match existing {
                    Some(sm) if sm.contains_key(name) => {}
                    Some(_) => ops.push(Op::InsertKey {
                        path: env_path.key("secrets-manager"),
                        key: name.clone(),
                        value: Value::String(reference.clone()),
                        position: Position::End,
                    }),
                    None => {
                        let mut m = Map::new();
                        m.insert(name.clone(), Value::String(reference.clone()));
                        ops.push(Op::InsertKey {
                            path: env_path.clone(),
                            key: "secrets-manager".to_string(),
                            value: Value::Object(m),
                            position: Position::After("variables".to_string()),
                        });
                    }
                }
                ops.push(Op::Remove {
                    path: if vars.len() == 1 {
                        env_path.key("variables")
                    } else {
                        env_path.key("variables").key(name)
                    },
                });
                let key_doc = if json_key.is_empty() {
                    "as its whole secret string".to_string()
                } else {
                    format!("under the JSON key {json_key}")
                };
                let region = cx.facts().region.as_deref().unwrap_or("<region>");
                let account = cx.facts().account.as_deref().unwrap_or("<account>");
                f = f
                    .with_fix(
                        format!("read {name} from Secrets Manager ({reference})"),
                        ops,
                    )
                    .follow_up(format!(
                        "Create the secret {secret_id} with the value of {name} {key_doc}, from a file, never on a command line: `aws secretsmanager create-secret --name {secret_id} --secret-string file://secret.json` (or `put-secret-value` when it exists), then delete the file"
                    ))
                    .follow_up(format!(
                        "Rotate {name}: its value was committed in plaintext and is in the repository history"
                    ))
                    .follow_up(format!(
                        "Allow the CodeBuild service role secretsmanager:GetSecretValue on arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}-* (and kms:Decrypt for a customer managed key); until then the build fails in DOWNLOAD_SOURCE"
                    ));
                out.push(f);
            }
        }
    }
}
