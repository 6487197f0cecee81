//! Recognition on real repositories: every file of `../shared/realworld` whose `kind` column
//! in `SOURCES.tsv` is a kind pipefix checks is classified as that kind (read from the JSON
//! output's `files`), and files of other kinds (IAM policies, CloudFormation templates named
//! like pipelines, CodeDeploy create-deployment inputs) are not classified as one.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use serde_json::Value;

const CHECKED_KINDS: [&str; 6] = [
    "ecs-service",
    "taskdef",
    "appspec",
    "buildspec",
    "codepipeline",
    "deploymentgroup",
];

#[test]
fn every_realworld_file_is_classified_as_its_kind() {
    let dir = common::root().join("../shared/realworld");
    let Ok(sources) = fs::read_to_string(dir.join("SOURCES.tsv")) else {
        eprintln!("note: ../shared/realworld is missing; recognition checks skipped");
        return;
    };
    let mut lines = sources.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(name_col), Some(kind_col)) = (col("local_name"), col("kind")) else {
        panic!("SOURCES.tsv has no local_name/kind columns: {header:?}");
    };
    let expected: BTreeMap<String, String> = lines
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            Some((
                cells.get(name_col)?.to_string(),
                cells.get(kind_col)?.to_string(),
            ))
        })
        .collect();

    let out = Command::new(env!("CARGO_BIN_EXE_pipefix"))
        .current_dir(&dir)
        .args(["--dry-run", "--format", "json", "."])
        .output()
        .expect("pipefix runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let classified: BTreeMap<String, String> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| Some((f["path"].as_str()?.into(), f["kind"].as_str()?.into())))
        .collect();
    // A template that cannot be parsed before it is rendered (`%NAME%`, bare `$NAME`) is
    // recognised and reported as such; it cannot be classified by content.
    let unrendered: Vec<String> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("unparsable template"))
        })
        .filter_map(|e| e["path"].as_str().map(str::to_string))
        .collect();

    let mut wrong = Vec::new();
    let mut checked = BTreeMap::<&str, usize>::new();
    for (path, kind) in &expected {
        let got = classified.get(path).map(String::as_str);
        if CHECKED_KINDS.contains(&kind.as_str()) {
            *checked.entry(kind.as_str()).or_default() += 1;
            if got != Some(kind.as_str()) && !unrendered.contains(path) {
                wrong.push(format!("{path}: {kind}, classified as {got:?}"));
            }
        } else if let Some(g) = got.filter(|g| CHECKED_KINDS.contains(g)) {
            wrong.push(format!("{path}: {kind}, classified as {g}"));
        }
    }
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
    // Unrendered templates stay the exception, not a way around classification.
    assert!(
        unrendered.len() * 20 < expected.len(),
        "too many unparsable templates: {unrendered:?}"
    );
    assert!(
        checked.get("ecs-service").copied().unwrap_or(0) >= 20,
        "{checked:?}"
    );
}

/// TD001 and AS001 change a file only when the CodeDeployToECS pipeline that makes it a
/// template is in the same unit (its folder); elsewhere they only report. A task definition
/// image that is a token something else fills in is never replaced.
#[test]
fn image_and_task_definition_placeholders_need_the_pipeline_in_the_unit() {
    let dir = common::root().join("../shared/realworld");
    if !dir.join("SOURCES.tsv").is_file() {
        eprintln!("note: ../shared/realworld is missing; check skipped");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_pipefix"))
        .current_dir(&dir)
        .args([
            "--dry-run",
            "--format",
            "json",
            "--select",
            "TD001,AS001",
            ".",
        ])
        .output()
        .expect("pipefix runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let findings = report["findings"].as_array().expect("findings");
    let mut fixable = 0;
    for f in findings {
        let path = f["file"].as_str().expect("file");
        let unit = std::path::Path::new(path)
            .parent()
            .expect("in a folder")
            .to_path_buf();
        let has_pipeline = common::files_below(&dir.join(&unit))
            .iter()
            .any(|p| fs::read_to_string(p).is_ok_and(|t| t.contains("\"CodeDeployToECS\"")));
        if f["status"] == "fixable" {
            fixable += 1;
            assert!(
                has_pipeline,
                "{path}: {} changed without the pipeline in its unit",
                f["id"]
            );
        }
        let message = f["message"].as_str().unwrap_or_default();
        for token in ["REPOSITORY_URI", "filled-in-by", "$", "PLACEHOLDER_"] {
            assert!(
                !message.contains(token),
                "{path}: a template token was reported: {message}"
            );
        }
    }
    assert!(!findings.is_empty() && fixable >= 1, "{findings:?}");
}
