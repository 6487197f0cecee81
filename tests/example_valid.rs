//! `pipefix --apply` on the bundled example gives files that AWS's own API models (and the
//! documented buildspec/AppSpec formats) still accept, and a second run has nothing to do.

mod common;

use std::fs;

use assert_cmd::Command;
use pipefix::model::Kind;

fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "codepipeline.json" => Kind::CodePipeline,
        "ecs_taskdef.json" => Kind::TaskDef,
        "deployment_group.json" => Kind::DeploymentGroup,
        "ecs_service.json" => Kind::EcsService,
        "buildspec.yml" => Kind::Buildspec,
        "appspec.yml" => Kind::Appspec,
        _ => return None,
    })
}

fn check(extra: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_tree(&common::root().join("examples/plooral"), dir.path());
    let out = Command::cargo_bin("pipefix")
        .expect("binary")
        .current_dir(dir.path())
        .arg("--apply")
        .args(extra)
        .arg(".")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "{stderr}");
    let again = Command::cargo_bin("pipefix")
        .expect("binary")
        .current_dir(dir.path())
        .arg("--dry-run")
        .args(extra)
        .arg(".")
        .output()
        .expect("runs");
    assert!(
        again.stdout.is_empty(),
        "second run: {}",
        String::from_utf8_lossy(&again.stdout)
    );
    let Some(py) = common::validator_python() else {
        return;
    };
    let mut checked = 0;
    for entry in fs::read_dir(dir.path().join("pipeline"))
        .expect("ls")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(kind) = kind_of(&name) {
            if let Err(e) = common::validate(&py, &entry.path(), kind) {
                panic!("{name} is no longer valid after the fixes ({extra:?}):\n{e}\n{stderr}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn safe_fixes_keep_the_example_valid_for_aws() {
    check(&[]);
}

#[test]
fn unsafe_fixes_keep_the_example_valid_for_aws() {
    check(&["--unsafe-fixes"]);
}
