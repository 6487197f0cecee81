//! DG003: shift production traffic progressively (canary) instead of all at once.

use crate::config::Config;
use serde::Deserialize;
use serde_json::json;

use crate::aws::DeploymentGroup;

use super::codedeploy::is_group;
use super::support::{after_first_of, cached_regex, set_key_in};
use super::{Context, Finding};

pub struct Rule;

/// `[rules.DG003]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    deployment_config: String,
    production_pattern: String,
    non_production_pattern: String,
}

/// The words of a name: split at separators and at lower-to-upper case changes
/// (`shopProdDg` → shop, Prod, Dg).
fn words(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut prev: Option<char> = None;
    for (i, c) in name.char_indices() {
        let boundary =
            !c.is_alphanumeric() || prev.is_some_and(|p| p.is_lowercase() && c.is_uppercase());
        if boundary && let Some(s) = start.take() {
            out.push(&name[s..i]);
        }
        if c.is_alphanumeric() && start.is_none() {
            start = Some(i);
        }
        prev = Some(c);
    }
    if let Some(s) = start {
        out.push(&name[s..]);
    }
    out
}

/// Whether the group deploys to production: a name of the group, its application, service or
/// cluster says production; or none says production and none names another environment (a
/// group that names no environment is the service's only one).
fn is_production(params: &Params, dg: &DeploymentGroup<'_>) -> bool {
    let mut names: Vec<&str> = [dg.name(), dg.application_name()]
        .into_iter()
        .flatten()
        .collect();
    for (cluster, service) in dg.ecs_services() {
        names.extend(service);
        names.extend(cluster);
    }
    let says = |pattern: &str| {
        let Some(re) = cached_regex(&format!("^(?:{pattern})$")) else {
            return false;
        };
        !pattern.is_empty() && names.iter().flat_map(|n| words(n)).any(|w| re.is_match(w))
    };
    says(&params.production_pattern) || !says(&params.non_production_pattern)
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "DG003"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        // An empty `deployment_config` is its default.
        let target = if params.deployment_config.is_empty() {
            match super::default_params::<Params>(self.id()) {
                Ok(d) => d.deployment_config,
                Err(_) => return,
            }
        } else {
            params.deployment_config.clone()
        };
        for (file, dg) in cx.unit.deployment_groups() {
            if !is_group(&dg) {
                continue;
            }
            let ecs = dg.compute_platform() == Some("ECS") || dg.has_ecs_services();
            if !ecs {
                continue;
            }
            if !is_production(&params, &dg) {
                continue;
            }
            let current = dg.deployment_config_name();
            // ECSAllAtOnce is also what an ECS group gets when it names no configuration.
            if !matches!(current, None | Some("CodeDeployDefault.ECSAllAtOnce")) {
                continue;
            }
            let name = super::support::group_name(cx.unit, file, &dg);
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    dg.0.path(DeploymentGroup::DEPLOYMENT_CONFIG_NAME),
                    format!("deployment group \"{name}\" shifts all production traffic at once: a bad release reaches every user before any alarm can fire"),
                )
                .with_fix(
                    format!("shift traffic with {target}"),
                    vec![set_key_in(&dg.0, DeploymentGroup::DEPLOYMENT_CONFIG_NAME, json!(target), after_first_of(dg.0.value, &["deploymentGroupName"]))],
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::words;

    #[test]
    fn names_split_into_words() {
        assert_eq!(words("shop-prod-dg"), ["shop", "prod", "dg"]);
        assert_eq!(words("shopProdDg"), ["shop", "Prod", "Dg"]);
        assert_eq!(words("products_api"), ["products", "api"]);
        assert!(words("").is_empty());
    }
}
