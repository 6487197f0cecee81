//! CodeDeploy as the fixes see it: deployment groups, AppSpecs and what the CodeDeployToECS
//! action reads from the build.

use serde_json::Value;

use crate::aws::{AppSpec, At, DeploymentGroup};
use crate::model::Kind;
use crate::workspace::Unit;

use super::support::docs_of;

/// The AppSpec TaskDefinition that CodeDeployToECS replaces with the revision it registers.
pub const TASK_DEFINITION_PLACEHOLDER: &str = "<TASK_DEFINITION>";

/// The Properties of each ECS service resource of an AppSpec that are a mapping, each with
/// its address.
pub fn ecs_resources<'a>(appspec: &AppSpec<'a>) -> Vec<At<'a>> {
    appspec
        .targets()
        .into_iter()
        .map(|t| t.properties)
        .filter(At::is_object)
        .collect()
}

/// Whether a document classified as a deployment group is one: a `create-deployment` input
/// also names its group, but carries the `revision` to deploy (a group's own record has
/// `targetRevision`), and its settings are one deployment's, not the group's.
pub fn is_group(dg: &DeploymentGroup<'_>) -> bool {
    !dg.has_revision()
}

/// Whether the group watches alarms, which makes rolling back on them meaningful.
pub fn watches_alarms(dg: &DeploymentGroup<'_>) -> bool {
    dg.alarms_enabled()
        && dg
            .alarm_list()
            .and_then(|l| l.value.as_array())
            .is_some_and(|a| !a.is_empty())
}

/// Whether a buildspec of the unit writes `imageDetail.json`, the file only CodeDeployToECS
/// reads.
pub fn build_writes_image_detail(unit: &Unit) -> bool {
    docs_of(unit, Kind::Buildspec).any(|(_, v, _)| {
        let mut found = false;
        walk_strings(v, &mut |s| found |= s.contains("imageDetail.json"));
        found
    })
}

fn walk_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().for_each(|x| walk_strings(x, f)),
        Value::Object(m) => m.values().for_each(|x| walk_strings(x, f)),
        _ => {}
    }
}
