//! CodeDeploy as the fixes see it: deployment groups, AppSpecs and what the CodeDeployToECS
//! action reads from the build.

use serde_json::Value;

use crate::aws::DeploymentGroup;
use crate::document::Path;
use crate::model::Kind;
use crate::workspace::Unit;

use super::support::docs_of;

/// The AppSpec TaskDefinition that CodeDeployToECS replaces with the revision it registers.
pub const TASK_DEFINITION_PLACEHOLDER: &str = "<TASK_DEFINITION>";

/// Each ECS service resource of an AppSpec: (path of its Properties, the Properties).
pub fn ecs_resources<'a>(appspec: &'a Value, root: &Path) -> Vec<(Path, &'a Value)> {
    let mut out = Vec::new();
    let Some(resources) = appspec.get("Resources").and_then(Value::as_array) else {
        return out;
    };
    for (i, r) in resources.iter().enumerate() {
        for (name, res) in r.as_object().into_iter().flatten() {
            if res.get("Type").and_then(Value::as_str) != Some("AWS::ECS::Service") {
                continue;
            }
            if let Some(props) = res.get("Properties").filter(|p| p.is_object()) {
                out.push((
                    root.key("Resources").index(i).key(name).key("Properties"),
                    props,
                ));
            }
        }
    }
    out
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
