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
    TargetGroup,
    TargetGroupAttributes,
    CodeBuildLog,
    CodeDeployLog,
    PipelineLog,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::CodePipeline,
        Kind::Buildspec,
        Kind::Appspec,
        Kind::TaskDef,
        Kind::DeploymentGroup,
        Kind::EcsService,
        Kind::TargetGroup,
        Kind::TargetGroupAttributes,
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
            Kind::TargetGroup => "target-group",
            Kind::TargetGroupAttributes => "target-group-attributes",
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
    const MARKERS: [&str; 15] = [
        "containerDefinitions",
        "\"stages\"",
        "deploymentGroupName",
        "TargetService",
        "phases:",
        "\"phases\"",
        "deploymentController",
        "AWS::ECS::Service",
        "\"HealthCheckIntervalSeconds\"",
        "\"deregistration_delay.timeout_seconds\"",
        // Templates that declare the resources pipefix reads.
        "AWS::CodePipeline::Pipeline",
        "AWS::CodeBuild::Project",
        "AWS::ECS::TaskDefinition",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
    ];
    MARKERS.iter().any(|m| text.contains(m))
}

/// Whether [`classify`] (or [`several_services`]) could recognise a document with this text
/// at all (a new kind must add the words it needs here; `tests/prefilter.rs` checks it).
/// Every kind needs
/// one of a few keys (or, for an AppSpec, the `AWS::ECS::Service` value), and without a
/// backslash escape a JSON or YAML string can only mean those words when it spells them; a
/// text that has none of them is not parsed (it is skipped as unrelated either way).
pub fn may_classify(text: &str) -> bool {
    use std::sync::LazyLock;
    // Leftmost-first: whether a word occurs does not depend on the kind, and this one can
    // skip ahead with a vectorised prefilter.
    static WORDS: LazyLock<Option<aho_corasick::AhoCorasick>> = LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build([
                "\\",
                "stages",
                "containerDefinitions",
                "deploymentGroupName",
                "serviceName",
                // A create-service input that leaves the name to the command line.
                "taskDefinition",
                "AWS::ECS::Service",
                // CloudFormation templates (see `front::cfn`): every resource type has it.
                "AWS::",
                "phases",
                "artifacts",
                // Target groups ("TargetGroupName", "Name", …) and their "Attributes".
                "Name",
                "Attributes",
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
    // ALB target group: describe-target-groups output, or create/modify-target-group input.
    // Its attributes (deregistration delay, …) are their own kind: another API, another file.
    if is_target_group_attributes(v) {
        return Some((Kind::TargetGroupAttributes, root));
    }
    if let Some(Value::Array(groups)) = obj.get("TargetGroups")
        && !groups.is_empty()
        && groups.iter().all(is_target_group)
    {
        // One group: the group itself; blue and green together: the list (see
        // [`target_groups`]).
        let list = root.key("TargetGroups");
        return Some((
            Kind::TargetGroup,
            if groups.len() == 1 {
                list.index(0)
            } else {
                list
            },
        ));
    }
    if is_target_group(v) {
        return Some((Kind::TargetGroup, root));
    }
    if is_appspec(v) {
        return Some((Kind::Appspec, root));
    }
    if is_buildspec(v) {
        return Some((Kind::Buildspec, root));
    }
    None
}

/// Every object the fixes work on in a document: one for most files, one per service of a
/// `describe-services` output that holds several (each is checked and fixed on its own, in
/// the one file).
pub fn classify_all(v: &Value) -> Vec<(Kind, Path)> {
    if let Some(n) = several_services(v) {
        let list = Path::root().key("services");
        return (0..n).map(|i| (Kind::EcsService, list.index(i))).collect();
    }
    classify(v).into_iter().collect()
}

/// The number of services of a `describe-services` output that holds more than one.
pub fn several_services(v: &Value) -> Option<usize> {
    let services = v.get("services")?.as_array()?;
    (services.len() > 1 && services.iter().all(is_service)).then_some(services.len())
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
        && !is_create_deployment(v)
}

/// Settings only a deployment group has.
const DEPLOYMENT_GROUP_ONLY_KEYS: [&str; 6] = [
    "serviceRoleArn",
    "deploymentStyle",
    "blueGreenDeploymentConfiguration",
    "ecsServices",
    "loadBalancerInfo",
    "alarmConfiguration",
];

/// A CodeDeploy `create-deployment` input (or `get-deployment` object): it names its group
/// and application too, but carries the revision to deploy and none of a group's settings.
fn is_create_deployment(v: &Value) -> bool {
    v.get("revision").is_some()
        && !DEPLOYMENT_GROUP_ONLY_KEYS
            .iter()
            .any(|k| v.get(*k).is_some())
}

fn is_service(v: &Value) -> bool {
    if v.get("serviceName").is_some_and(Value::is_string) {
        return [
            "taskDefinition",
            "cluster",
            "loadBalancers",
            "deploymentController",
            "desiredCount",
        ]
        .iter()
        .any(|k| v.get(*k).is_some());
    }
    is_unnamed_create_service(v)
}

/// Settings only a service has: a `run-task` input shares `cluster`, `taskDefinition`,
/// `launchType` and `networkConfiguration` with it, but none of these.
const SERVICE_ONLY_KEYS: [&str; 8] = [
    "desiredCount",
    "loadBalancers",
    "deploymentController",
    "schedulingStrategy",
    "deploymentConfiguration",
    "serviceRegistries",
    "healthCheckGracePeriodSeconds",
    "serviceConnectConfiguration",
];

/// A `create-service --cli-input-json` input that leaves the name to the command line
/// (`aws ecs create-service --service-name NAME --cli-input-json file://create-service.json`,
/// the layout of the AWS blue/green tutorial): the task definition it runs and at least one
/// setting that only a service has, and nothing of a `run-task` input or a template.
fn is_unnamed_create_service(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    obj.get("taskDefinition").is_some_and(Value::is_string)
        && SERVICE_ONLY_KEYS.iter().any(|k| obj.contains_key(*k))
        && ![
            "count",
            "overrides",
            "startedBy",
            "Type",
            "Properties",
            "containerDefinitions",
        ]
        .iter()
        .any(|k| obj.contains_key(*k))
}

/// Settings only a target group has (a name alone is not enough).
const TARGET_GROUP_KEYS: [&str; 10] = [
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
    "HealthCheckPath",
    "HealthCheckProtocol",
    "HealthCheckPort",
    "HealthCheckEnabled",
    "TargetType",
    "Matcher",
];

fn is_target_group(v: &Value) -> bool {
    let named = ["TargetGroupName", "TargetGroupArn", "Name"]
        .iter()
        .any(|k| v.get(*k).is_some_and(Value::is_string));
    named && v.get("Attributes").is_none() && TARGET_GROUP_KEYS.iter().any(|k| v.get(*k).is_some())
}

/// Attribute key prefixes of target groups only (load balancers print the same
/// `{"Attributes": [{"Key", "Value"}]}` shape with `idle_timeout.`, `access_logs.`, …).
const TARGET_GROUP_ATTRIBUTES: [&str; 10] = [
    "deregistration_delay.",
    "stickiness.",
    "slow_start.",
    "load_balancing.algorithm.",
    "target_group_health.",
    "target_failover.",
    "target_health_state.",
    "preserve_client_ip.",
    "proxy_protocol_v2.",
    "lambda.multi_value_headers.",
];

/// Attributes of load balancers, never of target groups.
const LOAD_BALANCER_ATTRIBUTES: [&str; 9] = [
    "access_logs.",
    "idle_timeout.",
    "deletion_protection.",
    "routing.",
    "waf.",
    "client_keep_alive.",
    "connection_logs.",
    "zonal_shift.",
    "dns_record.",
];

/// describe-target-group-attributes output, or modify-target-group-attributes input.
fn is_target_group_attributes(v: &Value) -> bool {
    let Some(attrs) = v.get("Attributes").and_then(Value::as_array) else {
        return false;
    };
    let keys: Option<Vec<&str>> = attrs
        .iter()
        .map(|a| a.get("Key").and_then(Value::as_str))
        .collect();
    let Some(keys) = keys else {
        return false;
    };
    let has = |prefixes: &[&str]| {
        keys.iter()
            .any(|k| prefixes.iter().any(|p| k.starts_with(p)))
    };
    has(&TARGET_GROUP_ATTRIBUTES) && !has(&LOAD_BALANCER_ATTRIBUTES)
}

/// The target groups of a `target-group` file whose root object is `root` (meaning `v`):
/// the group itself, or each of a describe-target-groups list of several.
pub fn target_groups<'a>(v: &'a Value, root: &Path) -> Vec<(Path, &'a Value)> {
    match v {
        Value::Array(groups) => groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.is_object())
            .map(|(i, g)| (root.index(i), g))
            .collect(),
        Value::Object(_) => vec![(root.clone(), v)],
        _ => Vec::new(),
    }
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
    fn services_without_a_name_and_several_services() {
        // create-service --service-name NAME --cli-input-json file://create-service.json
        let unnamed = json!({"taskDefinition": "app:1", "cluster": "c", "desiredCount": 1,
            "loadBalancers": [{"containerName": "app", "containerPort": 80}],
            "deploymentController": {"type": "CODE_DEPLOY"}});
        assert_eq!(classify(&unnamed), Some((Kind::EcsService, Path::root())));
        // run-task input: a task definition and a cluster, but no service setting.
        let run_task = json!({"taskDefinition": "app:1", "cluster": "c", "count": 1,
            "launchType": "FARGATE"});
        assert_eq!(classify(&run_task), None);
        let two = json!({"services": [
            {"serviceName": "a", "desiredCount": 1}, {"serviceName": "b", "desiredCount": 1}]});
        assert_eq!(classify(&two), None);
        assert_eq!(
            classify_all(&two),
            vec![
                (Kind::EcsService, Path::root().key("services").index(0)),
                (Kind::EcsService, Path::root().key("services").index(1)),
            ]
        );
    }

    #[test]
    fn a_create_deployment_input_is_not_a_deployment_group() {
        let deployment = json!({"applicationName": "app", "deploymentGroupName": "dg",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": "x"}}});
        assert_eq!(classify(&deployment), None);
        let group = json!({"applicationName": "app", "deploymentGroupName": "dg",
            "serviceRoleArn": "arn:aws:iam::111122223333:role/cd"});
        assert_eq!(classify(&group).map(|c| c.0), Some(Kind::DeploymentGroup));
    }

    #[test]
    fn buildspec_and_appspec() {
        let bs = json!({"version": 0.2, "phases": {"build": {"commands": ["make"]}}});
        assert_eq!(classify(&bs).map(|c| c.0), Some(Kind::Buildspec));
        let ap = json!({"version": 0.0, "Resources": [{"TargetService": {"Type": "AWS::ECS::Service"}}]});
        assert_eq!(classify(&ap).map(|c| c.0), Some(Kind::Appspec));
    }

    #[test]
    fn target_groups_in_describe_output_and_create_input() {
        let tg = json!({"TargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/0123456789abcdef",
                        "TargetGroupName": "api", "Protocol": "HTTP", "Port": 8080,
                        "HealthCheckIntervalSeconds": 5, "TargetType": "ip"});
        let one = json!({"TargetGroups": [tg.clone()]});
        assert_eq!(
            classify(&one),
            Some((Kind::TargetGroup, Path::root().key("TargetGroups").index(0)))
        );
        let two = json!({"TargetGroups": [tg.clone(), tg]});
        let (kind, root) = classify(&two).expect("classified");
        assert_eq!(
            (kind, &root),
            (Kind::TargetGroup, &Path::root().key("TargetGroups"))
        );
        assert_eq!(target_groups(&two["TargetGroups"], &root).len(), 2);
        let create = json!({"Name": "api-green", "Protocol": "HTTP", "Port": 8080,
                            "VpcId": "vpc-0abc", "HealthCheckPath": "/health", "TargetType": "ip"});
        assert_eq!(classify(&create), Some((Kind::TargetGroup, Path::root())));
        let modify = json!({"TargetGroupArn": "arn:x", "HealthCheckIntervalSeconds": 10});
        assert_eq!(classify(&modify).map(|c| c.0), Some(Kind::TargetGroup));
        // A name alone, an empty list, or a list with something else in it: not a target group.
        assert_eq!(classify(&json!({"Name": "x", "Port": 80})), None);
        assert_eq!(classify(&json!({"TargetGroups": []})), None);
        assert_eq!(
            classify(&json!({"TargetGroups": [{"TargetGroupName": "a", "Port": 80}]})),
            None
        );
        // A task definition's container health check is not a target group.
        let td = json!({"family": "f", "containerDefinitions": [{"name": "a",
            "healthCheck": {"interval": 5}}], "TargetType": "ip", "Name": "x"});
        assert_eq!(classify(&td).map(|c| c.0), Some(Kind::TaskDef));
    }

    #[test]
    fn target_group_attributes_are_their_own_kind() {
        let described = json!({"Attributes": [
            {"Key": "stickiness.enabled", "Value": "false"},
            {"Key": "deregistration_delay.timeout_seconds", "Value": "300"}
        ]});
        assert_eq!(
            classify(&described),
            Some((Kind::TargetGroupAttributes, Path::root()))
        );
        let modify = json!({"TargetGroupArn": "arn:x", "Attributes": [
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]});
        assert_eq!(
            classify(&modify).map(|c| c.0),
            Some(Kind::TargetGroupAttributes)
        );
        // Load balancer attributes have the same shape.
        let lb = json!({"Attributes": [
            {"Key": "idle_timeout.timeout_seconds", "Value": "60"},
            {"Key": "load_balancing.cross_zone.enabled", "Value": "true"}
        ]});
        assert_eq!(classify(&lb), None);
        let mixed = json!({"Attributes": [
            {"Key": "deregistration_delay.timeout_seconds", "Value": "300"},
            {"Key": "access_logs.s3.enabled", "Value": "false"}
        ]});
        assert_eq!(classify(&mixed), None);
        assert_eq!(classify(&json!({"Attributes": [{"Value": "1"}]})), None);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_name(k.name()), Some(k));
        }
        assert_eq!(Kind::from_name("target-group"), Some(Kind::TargetGroup));
    }
}
