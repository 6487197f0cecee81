//! AS001: the AppSpec's TaskDefinition is `<TASK_DEFINITION>` under CodeDeployToECS.

use serde_json::Value;

use crate::document::Op;
use crate::model::Kind;
use crate::workspace::{DeployPath, Unit};

use super::buildspec::shipped_files;
use super::codedeploy::{
    TASK_DEFINITION_PLACEHOLDER as PLACEHOLDER, build_writes_image_detail, ecs_resources,
};
use super::support::{codedeploy_actions, is_template_value};
use super::{Context, Finding};

pub struct Rule;

/// Whether the AppSpec is deployed by CodePipeline's CodeDeployToECS action: the pipeline says
/// so, or the AppSpec ships with a buildspec (a `create-deployment` by hand needs a real ARN).
pub fn through_pipeline(unit: &Unit) -> bool {
    let by_pipeline = unit.pipelines().any(|(_, p)| {
        p.actions()
            .iter()
            .any(|a| a.provider() == Some("CodeDeployToECS"))
    });
    by_pipeline || unit.of_kind(Kind::Buildspec).next().is_some()
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "AS001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        if cx.facts().deploy_path != DeployPath::CodeDeploy || !through_pipeline(cx.unit) {
            return;
        }
        // Only with the pipeline in the unit is the AppSpec certainly CodeDeployToECS's
        // template; otherwise it may be deployed by hand, which needs the real ARN.
        let pipeline = !codedeploy_actions(cx.unit).is_empty();
        // Without it, the build must show that it feeds CodeDeployToECS: it writes
        // imageDetail.json or ships the AppSpec.
        let shipped = shipped_files(cx.unit);
        let fed = build_writes_image_detail(cx.unit);
        for (file, appspec) in cx.unit.appspecs() {
            if !pipeline && !fed && !shipped.contains(&cx.unit.files[file].file_name()) {
                continue;
            }
            for props in ecs_resources(&appspec) {
                let (props_path, props) = (&props.at, props.value);
                let Some(td) = props.get("TaskDefinition").and_then(Value::as_str) else {
                    continue;
                };
                // `<TASK_DEFINITION>`, or a token the build fills in (sed, envsubst).
                if td.trim() == PLACEHOLDER || is_template_value(td) {
                    continue;
                }
                let path = props_path.key("TaskDefinition");
                if !pipeline {
                    out.push(
                        Finding::at(
                            cx.id(),
                            file,
                            path,
                            format!(
                                "AppSpec TaskDefinition is \"{td}\": if a CodeDeployToECS action deploys this AppSpec it must be {PLACEHOLDER}, or every deployment redeploys that fixed revision (the pipeline is not in this folder, so pipefix does not change it)"
                            ),
                        )
                        .follow_up(format!(
                            "If a CodeDeployToECS action uses this AppSpec (AppSpecTemplateArtifact), set TaskDefinition to {PLACEHOLDER}; if it is deployed with `aws deploy create-deployment` or another tool that needs the ARN, keep it and ignore AS001 for it"
                        )),
                    );
                    continue;
                }
                out.push(
                    Finding::at(
                        cx.id(),
                        file,
                        path.clone(),
                        format!(
                            "AppSpec TaskDefinition is \"{td}\", not {PLACEHOLDER}: CodeDeployToECS fills in the revision it registers, a fixed value redeploys the same old revision"
                        ),
                    )
                    .with_fix(
                        format!("set TaskDefinition to {PLACEHOLDER}"),
                        vec![Op::Replace {
                            path,
                            value: Value::String(PLACEHOLDER.to_string()),
                        }],
                    ),
                );
            }
        }
    }
}
