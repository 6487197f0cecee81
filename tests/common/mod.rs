//! Helpers shared by the integration tests: the shared corpus, the independent AWS
//! validators, temporary copies of trees.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use pipefix::model::Kind;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus` beside the project, when it is there.
pub fn corpus() -> Option<PathBuf> {
    let p = root().join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("note: ../shared/corpus is missing; corpus checks skipped");
        None
    }
}

/// The python of the validators' virtualenv (`scripts/setup-validators.sh`). In CI it must be
/// there: a missing validator is a failure, not a skip.
pub fn validator_python() -> Option<String> {
    match std::env::var("PIPEFIX_VALIDATOR_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CI").is_err(),
                "PIPEFIX_VALIDATOR_PYTHON must be set in CI (see .ci/run)"
            );
            eprintln!("note: PIPEFIX_VALIDATOR_PYTHON unset; AWS validation skipped");
            None
        }
    }
}

/// Run the independent validator for a file of `kind`: Ok, or its report.
pub fn validate(python: &str, file: &Path, kind: Kind) -> Result<(), String> {
    let tools = root().join("../shared/tools");
    let (script, k) = match kind {
        Kind::CodePipeline => ("validate_aws.py", "codepipeline"),
        Kind::TaskDef => ("validate_aws.py", "taskdef"),
        Kind::DeploymentGroup => ("validate_aws.py", "deploymentgroup"),
        Kind::EcsService => ("validate_aws.py", "ecs-service"),
        Kind::Buildspec => ("validate_schema.py", "buildspec"),
        Kind::Appspec => ("validate_schema.py", "appspec"),
        _ => return Ok(()),
    };
    let out = Command::new(python)
        .arg(tools.join(script))
        .arg("--kind")
        .arg(k)
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run the validator: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The official SARIF 2.1.0 schema (`tests/data/sarif-schema-2.1.0.json`), compiled.
pub fn sarif_validator() -> jsonschema::Validator {
    let text =
        fs::read_to_string(root().join("tests/data/sarif-schema-2.1.0.json")).expect("schema");
    // The schema's `language` pattern has a stray `]` (literal in ECMA-262, an error for
    // the Rust regex engine, so the crate refuses the schema): escape it, same meaning.
    let stray = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(stray));
    let text = text.replace(stray, r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("schema compiles")
}

/// A fresh copy of `examples/plooral` in a temporary folder, as `plooral/`.
pub fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join("plooral");
    fs::create_dir_all(&dst).expect("mkdir");
    copy_tree(&root().join("examples/plooral"), &dst);
    dir
}

/// Copy a folder tree (files only) into `dst`. The copies are writable whatever the source's
/// permissions (the shared corpus is read-only, and pipefix refuses to replace read-only
/// files).
pub fn copy_tree(src: &Path, dst: &Path) {
    for entry in fs::read_dir(src).expect("readable folder") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            fs::create_dir_all(&to).expect("mkdir");
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).expect("copy");
            let mut perms = fs::metadata(&to).expect("meta").permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            fs::set_permissions(&to, perms).expect("chmod");
        }
    }
}

/// Every file below `dir`, sorted; no symbolic link is followed, and a missing or unreadable
/// folder has no files.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}
