//! CP001: a Manual approval stage before every stage that deploys to production.

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::aws::{Action, Pipeline, Stage};
use crate::document::Op;

use super::{Context, Finding};

pub struct Rule;

/// `[rules.CP001]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    stage_name: String,
    action_name: String,
    production_pattern: String,
    notification_arn: String,
    custom_data: String,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "CP001"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let (Ok(params), Ok(defaults)) = (
            cx.params::<Params>(),
            super::default_params::<Params>(self.id()),
        ) else {
            return;
        };
        // `pipefix.toml` patterns are checked when it is read; an empty one is the default.
        let Some(pattern) = super::support::cached_regex(&params.production_pattern)
            .or_else(|| super::support::cached_regex(&defaults.production_pattern))
        else {
            return;
        };
        for (file, pipeline) in cx.unit.pipelines() {
            // Empty when `stages` is not a list: nothing to judge.
            let stages = pipeline.stages();
            for p in production_stages(&stages, &pattern) {
                if approved_before(&stages, p) {
                    continue;
                }
                let stage_name = stages[p].name().unwrap_or("?");
                let new_stage = approval_stage(&params, &defaults, &stages);
                let stages_path = pipeline.0.path(Pipeline::STAGES);
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        stages_path.index(p),
                        format!(
                            "stage \"{stage_name}\" deploys to production with no manual approval before it"
                        ),
                    )
                    .with_fix(
                        format!("insert a Manual approval stage before \"{stage_name}\""),
                        vec![Op::InsertItem {
                            path: stages_path,
                            index: p,
                            value: new_stage,
                        }],
                    )
                    .follow_up(
                        "Give the approvers codepipeline:PutApprovalResult on this pipeline; a pending approval fails after 7 days",
                    ),
                );
            }
        }
    }
}

fn is_deploy_stage(stage: &Stage<'_>) -> bool {
    stage
        .actions()
        .iter()
        .any(|a| a.category() == Some("Deploy"))
}

fn is_manual_approval(action: &Action<'_>) -> bool {
    action.category() == Some("Approval") && action.provider() == Some("Manual")
}

/// What names a stage's target: its name, its deploy actions' names and the configuration
/// values that name the application, group, cluster or service.
fn names_production(stage: &Stage<'_>, pattern: &Regex) -> bool {
    let mut texts: Vec<&str> = Vec::new();
    texts.extend(stage.name());
    for a in stage
        .actions()
        .iter()
        .filter(|a| a.category() == Some("Deploy"))
    {
        texts.extend(a.name());
        if a.at.get("configuration").is_some_and(|c| c.is_object()) {
            for key in [
                "ApplicationName",
                "DeploymentGroupName",
                "ClusterName",
                "ServiceName",
                "StackName",
            ] {
                texts.extend(a.configuration(key).and_then(Value::as_str));
            }
        }
    }
    texts.iter().any(|t| names_word(t, pattern))
}

/// Whether `pattern` matches a part of `text` that starts and ends at word boundaries:
/// `DeployProd`, `svc-prod-eu` and `production` name production, `products-api` and
/// `Delivery` do not.
fn names_word(text: &str, pattern: &Regex) -> bool {
    let Some(whole) = super::support::cached_regex(&format!("^(?:{})$", pattern.as_str())) else {
        return pattern.is_match(text);
    };
    let cuts = word_boundaries(text);
    cuts.iter().enumerate().any(|(i, &start)| {
        cuts[i + 1..].iter().any(|&end| {
            text.get(start..end)
                .is_some_and(|part| whole.is_match(part))
        })
    })
}

/// Byte offsets where a word starts or ends: the ends of the text, around separators, at
/// lower-to-upper case changes (`deployProd`), before the last capital of an acronym
/// (`APIProd`) and between letters and digits.
fn word_boundaries(text: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut cuts = vec![0];
    for k in 1..chars.len() {
        let (i, c) = chars[k];
        let p = chars[k - 1].1;
        let next_lower = chars.get(k + 1).is_some_and(|(_, n)| n.is_lowercase());
        let cut = p.is_alphanumeric() != c.is_alphanumeric()
            || (p.is_lowercase() && c.is_uppercase())
            || (p.is_uppercase() && c.is_uppercase() && next_lower)
            || (p.is_alphabetic() && c.is_ascii_digit())
            || (p.is_ascii_digit() && c.is_alphabetic());
        if cut {
            cuts.push(i);
        }
    }
    if !text.is_empty() {
        cuts.push(text.len());
    }
    cuts
}

/// Indices of the stages that deploy to production. One deploy stage is production; among
/// several, those the pattern names, or the last one when the pattern names none.
fn production_stages(stages: &[Stage<'_>], pattern: &Regex) -> Vec<usize> {
    // The first stage holds only source actions and can never be gated.
    let deploys: Vec<usize> = (1..stages.len())
        .filter(|&i| is_deploy_stage(&stages[i]))
        .collect();
    match deploys.as_slice() {
        [] => Vec::new(),
        [one] => vec![*one],
        many => {
            let named: Vec<usize> = many
                .iter()
                .copied()
                .filter(|&i| names_production(&stages[i], pattern))
                .collect();
            if named.is_empty() {
                many.last().copied().into_iter().collect()
            } else {
                named
            }
        }
    }
}

/// Whether a Manual approval runs before the production deploy actions of stage `p` (in an
/// earlier stage, or earlier in the same stage). Stages run one after the other, so any
/// earlier approval holds the production deploy until someone approves, even one placed
/// before a staging deploy: the pipeline is gated, and where the gate sits is the team's call.
fn approved_before(stages: &[Stage<'_>], p: usize) -> bool {
    let actions = stages[p].actions();
    let first_deploy_order = actions
        .iter()
        .filter(|a| a.category() == Some("Deploy"))
        .map(Action::run_order)
        .min()
        .unwrap_or(1);
    if actions
        .iter()
        .any(|a| is_manual_approval(a) && a.run_order() < first_deploy_order)
    {
        return true;
    }
    stages[1..p]
        .iter()
        .any(|stage| stage.actions().iter().any(is_manual_approval))
}

/// The stage to insert; an empty name parameter means its default.
fn approval_stage(params: &Params, defaults: &Params, stages: &[Stage<'_>]) -> Value {
    let or_default = |s: &String, d: &String| if s.is_empty() { d.clone() } else { s.clone() };
    let base = or_default(&params.stage_name, &defaults.stage_name);
    let taken = |n: &str| {
        stages.iter().any(|s| s.name() == Some(n))
    };
    let mut name = base.clone();
    let mut i = 2;
    while taken(&name) {
        name = format!("{base}{i}");
        i += 1;
    }
    let action_name = or_default(&params.action_name, &defaults.action_name);
    let mut action = Map::new();
    action.insert("name".into(), json!(action_name));
    action.insert(
        "actionTypeId".into(),
        json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}),
    );
    action.insert("runOrder".into(), json!(1));
    let mut configuration = Map::new();
    let topic = &params.notification_arn;
    if !topic.is_empty() {
        configuration.insert("NotificationArn".into(), json!(topic));
    }
    let data = &params.custom_data;
    if !data.is_empty() {
        configuration.insert("CustomData".into(), json!(data));
    }
    if !configuration.is_empty() {
        action.insert("configuration".into(), Value::Object(configuration));
    }
    action.insert("outputArtifacts".into(), json!([]));
    action.insert("inputArtifacts".into(), json!([]));
    let mut stage = Map::new();
    stage.insert("name".into(), json!(name));
    stage.insert(Stage::ACTIONS.into(), json!([Value::Object(action)]));
    Value::Object(stage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::At;
    use crate::document::Path;

    /// The stages of a pipeline, as its view reads them.
    fn view(stages: &[Value]) -> Vec<Stage<'_>> {
        stages
            .iter()
            .enumerate()
            .map(|(index, v)| Stage {
                at: At::new(v, Path::root().key("stages").index(index)),
                index,
            })
            .collect()
    }

    fn stage(name: &str, cat: &str) -> Value {
        json!({"name": name, "actions": [{"name": name, "actionTypeId": {"category": cat, "provider": if cat == "Approval" {"Manual"} else {"X"}}}]})
    }

    #[test]
    fn production_is_the_named_or_the_only_deploy_stage() {
        let re = Regex::new(r"(?i)prod").unwrap();
        let one = vec![
            stage("Source", "Source"),
            stage("Build", "Build"),
            stage("Deploy", "Deploy"),
        ];
        assert_eq!(production_stages(&view(&one), &re), vec![2]);
        let two = vec![
            stage("Source", "Source"),
            stage("DeployStaging", "Deploy"),
            stage("DeployProd", "Deploy"),
        ];
        assert_eq!(production_stages(&view(&two), &re), vec![2]);
    }

    #[test]
    fn production_is_a_word_not_a_substring() {
        let re = Regex::new(r"(?i)prod|production|live").unwrap();
        for yes in [
            "DeployProd",
            "prod",
            "Production",
            "svc-prod-eu",
            "APIProd",
            "PROD",
            "go-live",
            "prod1",
        ] {
            assert!(names_word(yes, &re), "{yes}");
        }
        for no in [
            "products-api",
            "Delivery",
            "reproduce",
            "ProductCatalog",
            "olive",
        ] {
            assert!(!names_word(no, &re), "{no}");
        }
        // A staging stage of an application whose name merely starts with "prod".
        let deploy = |stage: &str, dg: &str| {
            json!({"name": stage, "actions": [{"name": "Deploy",
                "actionTypeId": {"category": "Deploy", "provider": "CodeDeployToECS"},
                "configuration": {"ApplicationName": "products-api", "DeploymentGroupName": dg}}]})
        };
        let stages = vec![
            stage("Source", "Source"),
            deploy("DeployStaging", "products-api-staging"),
            deploy("DeployProd", "products-api-prod"),
        ];
        assert_eq!(production_stages(&view(&stages), &re), vec![2]);
    }

    #[test]
    fn any_earlier_approval_gates_production() {
        let s = vec![
            stage("Source", "Source"),
            stage("Approve", "Approval"),
            stage("DeployStaging", "Deploy"),
            stage("Tag", "Build"),
            stage("DeployProd", "Deploy"),
        ];
        assert!(approved_before(&view(&s), 4));
        assert!(approved_before(&view(&s), 2));
        let none = vec![
            stage("Source", "Source"),
            stage("Build", "Build"),
            stage("Deploy", "Deploy"),
        ];
        assert!(!approved_before(&view(&none), 2));
    }
}
