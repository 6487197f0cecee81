//! The fixed target group of the bundled example is still accepted by botocore's Elastic Load
//! Balancing v2 model: its settings as `CreateTargetGroup` and `ModifyTargetGroup` input, its
//! attributes as `ModifyTargetGroupAttributes` input. botocore checks types and minimums; the
//! snippet adds the maximums of the model and "interval greater than timeout", which the API
//! enforces.

mod common;

use std::process::Command;

use assert_cmd::Command as Bin;

const CHECK: &str = r#"
import json, sys
import botocore.session
from botocore.validate import ParamValidator

model = botocore.session.get_session().get_service_model("elbv2")
tg_file, attrs_file = sys.argv[1], sys.argv[2]
with open(tg_file) as f:
    described = json.load(f)
with open(attrs_file) as f:
    attributes = json.load(f)
group = described["TargetGroups"][0]
problems = []

def check(operation, params):
    shape = model.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        problems.append(operation + ": " + report.generate_report())
    for name, member in shape.members.items():
        value = params.get(name)
        top = member.metadata.get("max")
        if isinstance(value, int) and top is not None and value > top:
            problems.append("%s: %s=%s above %s" % (operation, name, value, top))

def picked(operation, source):
    members = model.operation_model(operation).input_shape.members
    return {k: v for k, v in source.items() if k in members}

create = picked("CreateTargetGroup", group)
create["Name"] = group["TargetGroupName"]
check("CreateTargetGroup", create)
check("ModifyTargetGroup", picked("ModifyTargetGroup", group))
check("ModifyTargetGroupAttributes", {
    "TargetGroupArn": group["TargetGroupArn"],
    "Attributes": attributes["Attributes"],
})
if not group["HealthCheckIntervalSeconds"] > group["HealthCheckTimeoutSeconds"]:
    problems.append("Health check interval must be greater than the timeout")
if problems:
    print("\n".join(problems))
    sys.exit(1)
"#;

#[test]
fn the_fixed_target_group_is_valid_for_elbv2() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_tree(&common::root().join("examples/plooral"), dir.path());
    let out = Bin::cargo_bin("pipefix")
        .expect("binary")
        .current_dir(dir.path())
        .args(["--apply", "--unsafe-fixes", "--select", "TG", "."])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "{stderr}");
    let pipeline = dir.path().join("pipeline");
    let fixed = std::fs::read_to_string(pipeline.join("target_group.json")).expect("read");
    assert!(fixed.contains("\"UnhealthyThresholdCount\": 6"), "{fixed}");
    let attrs =
        std::fs::read_to_string(pipeline.join("target_group_attributes.json")).expect("read");
    assert!(attrs.contains("\"Value\": \"30\""), "{attrs}");
    let Some(py) = common::validator_python() else {
        return;
    };
    let run = Command::new(&py)
        .arg("-c")
        .arg(CHECK)
        .arg(pipeline.join("target_group.json"))
        .arg(pipeline.join("target_group_attributes.json"))
        .output()
        .expect("python runs");
    assert!(
        run.status.success(),
        "botocore rejects the fixed target group:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
}
