//! `src/front/cfn/names.json` is what `scripts/gen-cfn-names.py` makes from the pinned cfn-lint
//! and botocore of the validators' virtualenv: regenerate it into a temporary file and compare
//! byte for byte.

mod common;

use common::{root, validator_python};
use std::fs;
use std::process::Command;

const TABLE: &str = "src/front/cfn/names.json";

const REGENERATE: &str = "regenerate it with\n    \
     PY=$(scripts/setup-validators.sh | tail -n 1)\n    \
     \"$PY\" scripts/gen-cfn-names.py\nand commit the result";

#[test]
fn checked_in_table_is_what_the_generator_makes() {
    let Some(py) = validator_python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("names.json");
    let run = Command::new(&py)
        .arg(root().join("scripts/gen-cfn-names.py"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run the generator");
    assert!(
        run.status.success(),
        "scripts/gen-cfn-names.py failed ({}):\n{}{}",
        run.status,
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let fresh = fs::read(&out).expect("generated table");
    let kept = fs::read(root().join(TABLE)).expect("checked-in table");
    if fresh != kept {
        let fresh = String::from_utf8_lossy(&fresh);
        let kept = String::from_utf8_lossy(&kept);
        let first = fresh
            .lines()
            .zip(kept.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| fresh.lines().count().min(kept.lines().count()));
        panic!(
            "{TABLE} is not what scripts/gen-cfn-names.py generates with this venv \
             (first difference at line {}: generated {:?}, checked in {:?});\n{REGENERATE}",
            first + 1,
            fresh.lines().nth(first).unwrap_or("<end>"),
            kept.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

/// The table itself: the shape the front end reads, and the facts the fixes rely on.
#[test]
fn table_has_the_six_types_and_the_known_names() {
    let text = fs::read_to_string(root().join(TABLE)).expect("checked-in table");
    assert!(text.ends_with("}\n"), "{TABLE} ends with one newline");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("the table is JSON");
    assert_eq!(doc["generated_by"], "scripts/gen-cfn-names.py");
    let pins = fs::read_to_string(root().join("scripts/validators-requirements.txt"))
        .expect("requirements");
    for (key, package) in [("cfn_lint", "cfn-lint"), ("botocore", "botocore")] {
        let version = doc[key].as_str().expect("a version");
        assert!(
            pins.lines()
                .any(|l| l.trim() == format!("{package}=={version}")),
            "{TABLE} was made with {package} {version}, which scripts/validators-requirements.txt \
             does not pin;\n{REGENERATE}"
        );
    }
    let types = doc["types"].as_object().expect("types");
    let expect = [
        ("AWS::CodeBuild::Project", "codebuild:CreateProjectInput"),
        (
            "AWS::CodeDeploy::DeploymentGroup",
            "codedeploy:CreateDeploymentGroupInput",
        ),
        (
            "AWS::CodePipeline::Pipeline",
            "codepipeline:PipelineDeclaration",
        ),
        ("AWS::ECS::Service", "ecs:CreateServiceRequest"),
        (
            "AWS::ECS::TaskDefinition",
            "ecs:RegisterTaskDefinitionRequest",
        ),
        (
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            "elbv2:CreateTargetGroupInput",
        ),
    ];
    assert_eq!(types.len(), expect.len());
    for (t, api) in expect {
        assert_eq!(types[t]["api"], api, "{t}");
    }
    let name = |t: &str, path: &str| types[t]["names"][path].as_str().map(str::to_string);
    for (t, path, api) in [
        (
            "AWS::ECS::Service",
            ".DeploymentConfiguration.DeploymentCircuitBreaker",
            "deploymentCircuitBreaker",
        ),
        (
            "AWS::ECS::Service",
            ".LoadBalancers[].ContainerName",
            "containerName",
        ),
        (
            "AWS::ECS::Service",
            ".HealthCheckGracePeriodSeconds",
            "healthCheckGracePeriodSeconds",
        ),
        (
            "AWS::ECS::TaskDefinition",
            ".Volumes[].EFSVolumeConfiguration",
            "efsVolumeConfiguration",
        ),
        (
            "AWS::ECS::TaskDefinition",
            ".ContainerDefinitions[].HealthCheck.StartPeriod",
            "startPeriod",
        ),
        ("AWS::CodeBuild::Project", ".Source.BuildSpec", "buildspec"),
        (
            "AWS::CodeDeploy::DeploymentGroup",
            ".AutoRollbackConfiguration.Enabled",
            "enabled",
        ),
        (
            "AWS::CodeDeploy::DeploymentGroup",
            ".ECSServices",
            "ecsServices",
        ),
        (
            "AWS::CodePipeline::Pipeline",
            ".Stages[].Actions[].ActionTypeId.Category",
            "category",
        ),
        (
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            ".HealthCheckIntervalSeconds",
            "HealthCheckIntervalSeconds",
        ),
    ] {
        assert_eq!(name(t, path).as_deref(), Some(api), "{t} {path}");
    }
    // Free-form maps are not descended into; CloudFormation-only properties have no name.
    let pipeline = &types["AWS::CodePipeline::Pipeline"]["names"];
    assert!(
        pipeline
            .as_object()
            .expect("names")
            .keys()
            .all(|k| !k.starts_with(".Stages[].Actions[].Configuration."))
    );
    assert!(pipeline.get(".RestartExecutionOnUpdate").is_none());
    let service = &types["AWS::ECS::Service"];
    let create_only: Vec<&str> = service["create_only"]
        .as_array()
        .expect("create_only")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(create_only.contains(&"Cluster") && create_only.contains(&"ServiceName"));
    assert_eq!(service["conditional_create_only"][0], "LaunchType");
    let tg_create_only = &types["AWS::ElasticLoadBalancingV2::TargetGroup"]["create_only"];
    assert!(
        tg_create_only
            .as_array()
            .expect("create_only")
            .iter()
            .any(|v| v == "Name")
    );
}
