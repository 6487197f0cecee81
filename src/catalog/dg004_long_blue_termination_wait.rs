//! DG004: the old (blue) task set is not kept for an hour after a successful deployment.

use crate::config::Config;
use serde::Deserialize;
use serde_json::Value;

use crate::document::Op;

use super::codedeploy::is_group;
use super::{Context, Finding};

pub struct Rule;

/// `[rules.DG004]`: defaults and documentation in the catalog file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    max_wait: u64,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "DG004"
    }

    fn read_params(&self, config: &Config) -> Result<(), String> {
        super::params_for::<Params>(config, self.id()).map(drop)
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Ok(params) = cx.params::<Params>() else {
            return;
        };
        let max = params.max_wait.min(2880);
        for (file, dg) in cx.unit.deployment_groups() {
            if !is_group(&dg) {
                continue;
            }
            // As written: a whole number, not `60.0`.
            let Some((wait, path)) = dg
                .blue_termination_wait()
                .and_then(|w| Some((w.value.as_u64()?, w.at)))
            else {
                continue;
            };
            if wait <= max {
                continue;
            }
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    path.clone(),
                    format!("the blue task set is kept {wait} minutes after success: the pipeline's deploy action stays in progress that long"),
                )
                .with_fix(
                    format!("keep the blue task set {max} minutes"),
                    vec![Op::Replace { path, value: Value::from(max) }],
                ),
            );
        }
    }
}
