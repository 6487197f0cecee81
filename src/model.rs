//! What kind of pipeline file a document is, decided by its content (the file name is only a
//! hint), and where the interesting object sits inside the wrappers the AWS CLI prints.

use std::fmt;

use serde_json::Value;

use crate::document::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    CodePipeline,
    Buildspec,
    Appspec,
    TaskDef,
    DeploymentGroup,
    EcsService,
    CodeBuildLog,
    CodeDeployLog,
    PipelineLog,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::CodePipeline,
        Kind::Buildspec,
        Kind::Appspec,
        Kind::TaskDef,
        Kind::DeploymentGroup,
        Kind::EcsService,
        Kind::CodeBuildLog,
        Kind::CodeDeployLog,
        Kind::PipelineLog,
    ];

    /// The name used in `patches/` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::CodePipeline => "codepipeline",
            Kind::Buildspec => "buildspec",
            Kind::Appspec => "appspec",
            Kind::TaskDef => "taskdef",
            Kind::DeploymentGroup => "deploymentgroup",
            Kind::EcsService => "ecs-service",
            Kind::CodeBuildLog => "codebuild-log",
            Kind::CodeDeployLog => "codedeploy-log",
            Kind::PipelineLog => "pipeline-log",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    pub fn is_log(self) -> bool {
        matches!(
            self,
            Kind::CodeBuildLog | Kind::CodeDeployLog | Kind::PipelineLog
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Words whose presence makes a JSON/YAML file "look like" a pipeline file, so that a parse
/// failure is reported instead of the file being skipped as unrelated.
pub fn looks_like_pipeline_file(text: &str) -> bool {
    const MARKERS: [&str; 8] = [
        "containerDefinitions",
        "\"stages\"",
        "deploymentGroupName",
        "TargetService",
        "phases:",
        "\"phases\"",
        "deploymentController",
        "AWS::ECS::Service",
    ];
    MARKERS.iter().any(|m| text.contains(m))
}

/// Whether [`classify`] could recognise a document with this text at all. Every kind needs
/// one of a few keys (or, for an AppSpec, the `AWS::ECS::Service` value), and without a
/// backslash escape a JSON or YAML string can only mean those words when it spells them; a
/// text that has none of them is not parsed (it is skipped as unrelated either way).
pub fn may_classify(text: &str) -> bool {
    use std::sync::LazyLock;
    static WORDS: LazyLock<Option<aho_corasick::AhoCorasick>> = LazyLock::new(|| {
        aho_corasick::AhoCorasick::new([
            "\\",
            "stages",
            "containerDefinitions",
            "deploymentGroupName",
            "serviceName",
            "AWS::ECS::Service",
            "phases",
            "artifacts",
        ])
        .ok()
    });
    match &*WORDS {
        Some(words) => words.is_match(text),
        None => true,
    }
}

/// Classify a parsed JSON/YAML document. Returns the kind and the path of the object the
/// fixes work on (inside `{"pipeline": …}`, `{"taskDefinition": …}`, … wrappers).
pub fn classify(v: &Value) -> Option<(Kind, Path)> {
    let obj = v.as_object()?;
    let root = Path::root();
    // CodePipeline: get-pipeline output / create-pipeline input, or the bare declaration.
    if let Some(p) = obj.get("pipeline").filter(|p| is_pipeline(p)) {
        let _ = p;
        return Some((Kind::CodePipeline, root.key("pipeline")));
    }
    if is_pipeline(v) {
        return Some((Kind::CodePipeline, root));
    }
    // Task definition: register input, or describe-task-definition output.
    if let Some(td) = obj.get("taskDefinition").filter(|t| is_taskdef(t)) {
        let _ = td;
        return Some((Kind::TaskDef, root.key("taskDefinition")));
    }
    if is_taskdef(v) {
        return Some((Kind::TaskDef, root));
    }
    if obj
        .get("deploymentGroupInfo")
        .is_some_and(is_deployment_group)
    {
        return Some((Kind::DeploymentGroup, root.key("deploymentGroupInfo")));
    }
    if is_deployment_group(v) {
        return Some((Kind::DeploymentGroup, root));
    }
    if let Some(Value::Array(services)) = obj.get("services")
        && services.len() == 1
        && is_service(&services[0])
    {
        return Some((Kind::EcsService, root.key("services").index(0)));
    }
    if obj.get("service").is_some_and(is_service) {
        return Some((Kind::EcsService, root.key("service")));
    }
    if is_service(v) {
        return Some((Kind::EcsService, root));
    }
    if is_appspec(v) {
        return Some((Kind::Appspec, root));
    }
    if is_buildspec(v) {
        return Some((Kind::Buildspec, root));
    }
    None
}

fn is_pipeline(v: &Value) -> bool {
    v.get("stages")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|st| st.get("actions").is_some()))
}

fn is_taskdef(v: &Value) -> bool {
    v.get("containerDefinitions").is_some_and(Value::is_array)
}

fn is_deployment_group(v: &Value) -> bool {
    v.get("deploymentGroupName").is_some_and(Value::is_string)
        && (v.get("applicationName").is_some() || v.get("serviceRoleArn").is_some())
}

fn is_service(v: &Value) -> bool {
    v.get("serviceName").is_some_and(Value::is_string)
        && [
            "taskDefinition",
            "cluster",
            "loadBalancers",
            "deploymentController",
            "desiredCount",
        ]
        .iter()
        .any(|k| v.get(*k).is_some())
}

fn is_appspec(v: &Value) -> bool {
    let Some(resources) = v.get("Resources").and_then(Value::as_array) else {
        return false;
    };
    resources.iter().any(|r| {
        r.as_object().is_some_and(|m| {
            m.values()
                .any(|t| t.get("Type").and_then(Value::as_str) == Some("AWS::ECS::Service"))
        })
    })
}

fn is_buildspec(v: &Value) -> bool {
    let version_ok = match v.get("version") {
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f == 0.1 || f == 0.2),
        Some(Value::String(s)) => s == "0.1" || s == "0.2",
        _ => false,
    };
    version_ok && (v.get("phases").is_some() || v.get("artifacts").is_some())
}

/// Classify a text file as one of the logs pipefix reads.
pub fn classify_log(name: &str, text: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if !(lower.ends_with(".log") || lower.ends_with(".txt")) {
        return None;
    }
    if text.contains("[Container] ") {
        return Some(Kind::CodeBuildLog);
    }
    let head: String = text.chars().take(64 * 1024).collect();
    if head.contains("deploymentId") || head.contains("CodeDeploy") || lower.contains("codedeploy")
    {
        return Some(Kind::CodeDeployLog);
    }
    if head.contains("pipelineExecutionId")
        || head.contains("stageName")
        || lower.contains("pipeline")
    {
        return Some(Kind::PipelineLog);
    }
    if lower.contains("codebuild") {
        return Some(Kind::CodeBuildLog);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrappers_are_seen_through() {
        let v = json!({"pipeline": {"name": "p", "stages": [{"name": "S", "actions": []}]},
                       "metadata": {}});
        assert_eq!(
            classify(&v),
            Some((Kind::CodePipeline, Path::root().key("pipeline")))
        );
        let td = json!({"taskDefinition": {"family": "f", "containerDefinitions": []}});
        assert_eq!(
            classify(&td),
            Some((Kind::TaskDef, Path::root().key("taskDefinition")))
        );
        let svc = json!({"services": [{"serviceName": "s", "desiredCount": 1}], "failures": []});
        assert_eq!(
            classify(&svc),
            Some((Kind::EcsService, Path::root().key("services").index(0)))
        );
        assert_eq!(classify(&json!({"name": "x"})), None);
    }

    #[test]
    fn buildspec_and_appspec() {
        let bs = json!({"version": 0.2, "phases": {"build": {"commands": ["make"]}}});
        assert_eq!(classify(&bs).map(|c| c.0), Some(Kind::Buildspec));
        let ap = json!({"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service"}}]});
        assert_eq!(classify(&ap).map(|c| c.0), Some(Kind::Appspec));
    }
}
