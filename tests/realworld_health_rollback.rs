//! The health-check, grace-period and rollback fixes on real repositories
//! (`../shared/realworld`, read in place; the fixes are applied to a temporary copy): what is
//! within the tolerated band is left alone, what is changed is the smallest change, and the
//! trade-offs stay quiet unless a team opts in.

mod common;

use std::fs;
use std::path::PathBuf;

use pipefix::config::Config;
use pipefix::run::{self, RunOptions};

fn unit(name: &str) -> Option<PathBuf> {
    let p = common::root().join("../shared/realworld/units").join(name);
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("note: {} is missing; skipped", p.display());
        None
    }
}

/// Findings `(file name, rule)` of a default dry run over `dir`.
fn findings(dir: &std::path::Path, config: &Config) -> Vec<(String, &'static str)> {
    let opts = RunOptions {
        paths: vec![dir.to_path_buf()],
        ..RunOptions::default()
    };
    let report = run::run(&opts, config);
    assert!(report.bugs().next().is_none(), "a fix failed");
    report
        .findings()
        .map(|f| {
            let file = f.path.rsplit('/').next().unwrap_or_default();
            (file.to_string(), f.rule)
        })
        .collect()
}

#[test]
fn health_checks_within_the_band_are_left_alone() {
    // ECS defaults (30 s x 3 retries = 90 s) with no start period, and 30 s + 30 s x 3: both
    // reach a 60 s start-up; per-field floors used to report them.
    for name in [
        "rakshithxaloori__shinobi-api__root",
        "ethio-cloud__aws-ai-bluegreen-project__root",
    ] {
        let Some(dir) = unit(name) else {
            return;
        };
        let found = findings(&dir, &Config::default());
        assert!(
            !found.iter().any(|(_, r)| *r == "TD003"),
            "{name}: {found:?}"
        );
    }
}

#[test]
fn a_grace_period_of_60_s_behind_the_load_balancer_is_kept() {
    let Some(dir) = unit("ethio-cloud__aws-ai-bluegreen-project__root") else {
        return;
    };
    let found = findings(&dir, &Config::default());
    assert!(
        !found
            .iter()
            .any(|(f, r)| *r == "SV002" && f.starts_with("bluegreen-service")),
        "{found:?}"
    );
}

#[test]
fn rollback_is_added_on_failure_only_and_alarms_are_opt_in() {
    let Some(src) = unit("jojo786__ghost-aws-ecs-pipeline__root") else {
        return;
    };
    let found = findings(&src, &Config::default());
    assert!(
        found
            .iter()
            .any(|(f, r)| *r == "DG001" && f == "codedeploymentgroup.json"),
        "{found:?}"
    );
    for opt_in in ["DG002", "DG003", "DG004", "TG002"] {
        assert!(!found.iter().any(|(_, r)| *r == opt_in), "{found:?}");
    }
    let mut opted = Config::default();
    opted.extend_select = vec!["DG002".into(), "DG003".into()];
    let found = findings(&src, &opted);
    assert!(found.iter().any(|(_, r)| *r == "DG002"), "{found:?}");
    assert!(found.iter().any(|(_, r)| *r == "DG003"), "{found:?}");

    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_tree(&src, dir.path());
    for f in common::files_below(dir.path()) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let opts = RunOptions {
        paths: vec![dir.path().to_path_buf()],
        apply: true,
        ..RunOptions::default()
    };
    let report = run::run(&opts, &Config::default());
    assert!(report.bugs().next().is_none());
    let group = fs::read_to_string(dir.path().join("codedeploymentgroup.json")).expect("read");
    let v: serde_json::Value = serde_json::from_str(&group).expect("json");
    let arc = v
        .pointer("/deploymentGroupInfo/autoRollbackConfiguration")
        .or_else(|| v.pointer("/autoRollbackConfiguration"))
        .expect("rollback configuration added");
    assert_eq!(
        arc,
        &serde_json::json!({"enabled": true, "events": ["DEPLOYMENT_FAILURE"]}),
        "{group}"
    );
    // The traffic shift is the team's choice: unchanged without extend-select.
    assert!(group.contains("CodeDeployDefault.ECSAllAtOnce"), "{group}");
}
