//! DG004: the old (blue) task set is not kept for an hour after a successful deployment.

use serde_json::Value;

use crate::document::Op;
use crate::model::Kind;

use super::dg001_auto_rollback_disabled::is_group;
use super::support::docs_of;
use super::{Context, Finding, Safety};

pub struct Rule;

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "DG004"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let max = cx.param_u64("max_wait").unwrap_or(15).min(2880);
        for (file, dg, root) in docs_of(cx.unit, Kind::DeploymentGroup) {
            if !is_group(dg) {
                continue;
            }
            let pointer = "/blueGreenDeploymentConfiguration/terminateBlueInstancesOnDeploymentSuccess/terminationWaitTimeInMinutes";
            let Some(wait) = dg.pointer(pointer).and_then(Value::as_u64) else {
                continue;
            };
            if wait <= max {
                continue;
            }
            let path = root
                .key("blueGreenDeploymentConfiguration")
                .key("terminateBlueInstancesOnDeploymentSuccess")
                .key("terminationWaitTimeInMinutes");
            out.push(
                Finding::at(
                    cx.id(),
                    file,
                    path.clone(),
                    format!("the blue task set is kept {wait} minutes after success: the pipeline's deploy action stays in progress that long"),
                )
                .with_fix(
                    format!("keep the blue task set {max} minutes"),
                    Safety::Unsafe,
                    vec![Op::Replace { path, value: Value::from(max) }],
                ),
            );
        }
    }
}
