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
/// Run the built pipefix with `args` on `dir`: its exit status and stderr.
pub fn pipefix_stderr(args: &[&str], dir: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pipefix"))
        .args(args)
        .arg(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipefix");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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

/// One finding of `cfn-lint --format json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfnLintFinding {
    /// `Rule.Id`, e.g. `E3002`.
    pub rule: String,
    /// `Location.Path`, each step as text (`Resources/Svc/Properties/Cluster`).
    pub path: String,
    pub line: u64,
    pub message: String,
}

/// The cfn-lint oracle: lint every original and fixed template of `pairs` in ONE run of the
/// validators' cfn-lint (`scripts/validators-requirements.txt`; it takes seconds to start), and
/// return, per pair and in the same order, the E-level findings of the fixed file that the
/// original does not have (compared by rule id and path in the template).
///
/// A finding whose path moved because a fix inserted a list item (a stage before others) is
/// counted as new: the templates this is used on have no E-level finding to begin with.
pub fn cfn_lint_new_errors(
    python: &str,
    pairs: &[(PathBuf, PathBuf)],
) -> Result<Vec<Vec<CfnLintFinding>>, String> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let canon = |p: &Path| fs::canonicalize(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut files = Vec::new();
    for (original, fixed) in pairs {
        files.push(canon(original)?);
        files.push(canon(fixed)?);
    }
    let mut unique = files.clone();
    unique.sort();
    unique.dedup();
    let out = Command::new(python)
        .arg("-c")
        .arg("import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())")
        .args(["--format", "json", "--"])
        .args(&unique)
        .output()
        .map_err(|e| format!("cannot run cfn-lint with {python}: {e}"))?;
    // Exit status: a bit mask of the levels found (2 error, 4 warning, 8 informational); 1 is
    // a failure of cfn-lint itself.
    let code = out.status.code().unwrap_or(-1);
    if code == 1 || !(0..16).contains(&code) {
        return Err(format!(
            "cfn-lint failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "cfn-lint printed no JSON ({e}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let mut errors: std::collections::HashMap<PathBuf, Vec<CfnLintFinding>> =
        std::collections::HashMap::new();
    for f in doc.as_array().ok_or("cfn-lint's JSON is not a list")? {
        let rule = f["Rule"]["Id"].as_str().unwrap_or_default().to_string();
        if f["Level"] != "Error" && !rule.starts_with('E') {
            continue;
        }
        let file = PathBuf::from(f["Filename"].as_str().ok_or("a finding without Filename")?);
        let file = fs::canonicalize(&file).unwrap_or(file);
        let path = f["Location"]["Path"]
            .as_array()
            .map(|steps| {
                steps
                    .iter()
                    .map(|s| match s {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        errors.entry(file).or_default().push(CfnLintFinding {
            rule,
            path,
            line: f["Location"]["Start"]["LineNumber"].as_u64().unwrap_or(0),
            message: f["Message"].as_str().unwrap_or_default().to_string(),
        });
    }
    let none = Vec::new();
    Ok(files
        .chunks(2)
        .map(|pair| {
            let before = errors.get(&pair[0]).unwrap_or(&none);
            errors
                .get(&pair[1])
                .unwrap_or(&none)
                .iter()
                .filter(|a| !before.iter().any(|b| b.rule == a.rule && b.path == a.path))
                .cloned()
                .collect()
        })
        .collect())
}

/// Every E-level cfn-lint finding of each file (the oracle's view of templates before fixing).
pub fn cfn_lint_errors(
    python: &str,
    files: &[PathBuf],
) -> Result<Vec<Vec<CfnLintFinding>>, String> {
    let empty = tempfile::NamedTempFile::with_suffix(".yaml").map_err(|e| e.to_string())?;
    fs::write(
        empty.path(),
        "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    )
    .map_err(|e| e.to_string())?;
    let pairs: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .map(|f| (empty.path().to_path_buf(), f.clone()))
        .collect();
    cfn_lint_new_errors(python, &pairs)
}
