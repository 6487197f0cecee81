//! pipefix over real repositories (`../shared/realworld`: each `units/<dir>` and each
//! `files/<file>` is its own case), the shared corpus and the bundled examples: no crash,
//! idempotent `--apply`, and every file it changes checked by independent tools — buildspecs by
//! `buildspec_check.py` against their original and by shellcheck (no new warning), JSON files by
//! `validate_aws.py`, every changed YAML/JSON file still parses.
//!
//! Skipped with a note when `../shared` is not beside the project; the Python checks need
//! `PIPEFIX_VALIDATOR_PYTHON` (see `.ci/run`), shellcheck needs `shellcheck` on the PATH.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_tree, files_below, root, validator_python};

struct Case {
    name: String,
    /// A folder to copy, or a single file.
    source: PathBuf,
}

fn cases() -> Option<Vec<Case>> {
    let shared = root().join("../shared");
    let realworld = shared.join("realworld");
    if !realworld.is_dir() {
        eprintln!("note: ../shared/realworld is missing; real-world checks skipped");
        return None;
    }
    let mut out = Vec::new();
    for sub in ["units", "files"] {
        let dir = realworld.join(sub);
        let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for p in entries {
            out.push(Case {
                name: format!(
                    "{sub}/{}",
                    p.file_name().unwrap_or_default().to_string_lossy()
                ),
                source: p,
            });
        }
    }
    let corpus = shared.join("corpus");
    if corpus.is_dir() {
        out.push(Case {
            name: "corpus".into(),
            source: corpus,
        });
    }
    out.push(Case {
        name: "examples".into(),
        source: root().join("examples"),
    });
    Some(out)
}

fn copy_case(case: &Case, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    if case.source.is_dir() {
        copy_tree(&case.source, dst);
    } else {
        let to = dst.join(case.source.file_name().expect("file name"));
        fs::copy(&case.source, &to).expect("copy");
        let mut perms = fs::metadata(&to).expect("meta").permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&to, perms).expect("chmod");
    }
}

fn pipefix(args: &[&str], dir: &Path) -> (i32, String) {
    common::pipefix_stderr(args, dir)
}

/// The kind pipefix gives each file of `dir` (from the JSON output), by path relative to `dir`.
fn kinds(dir: &Path) -> BTreeMap<PathBuf, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_pipefix"))
        .args(["--dry-run", "--format", "json"])
        .arg(dir)
        .output()
        .expect("run pipefix");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let mut map = BTreeMap::new();
    for f in doc["files"].as_array().into_iter().flatten() {
        if let (Some(p), Some(k)) = (f["path"].as_str(), f["kind"].as_str()) {
            let p = Path::new(p);
            let rel = p.strip_prefix(dir).unwrap_or(p).to_path_buf();
            map.insert(rel, k.to_string());
        }
    }
    map
}

/// Exit 0/1, or 2 only for inputs pipefix cannot parse (templates, broken JSON).
fn assert_exit(case: &str, mode: &str, code: i32, stderr: &str) {
    assert!(
        matches!(code, 0..=2),
        "{case} ({mode}): exit {code}, a crash?\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "{case} ({mode}): panic\n{stderr}"
    );
    assert!(
        !stderr.contains("this is a bug"),
        "{case} ({mode}): a fix failed verification\n{stderr}"
    );
    if code == 2 {
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert!(
            !errors.is_empty()
                && errors
                    .iter()
                    .all(|l| l.contains("cannot parse") || l.contains("unparsable template")),
            "{case} ({mode}): exit 2 for another reason than an unparsable input\n{stderr}"
        );
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_below(dir)
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).expect("read");
            (p.strip_prefix(dir).expect("below").to_path_buf(), bytes)
        })
        .collect()
}

/// Run a Python snippet of the validators' interpreter on `file`; Ok or its output.
fn python(py: &str, code: &str, args: &[&Path]) -> Result<String, String> {
    let out = Command::new(py)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run python: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(text)
    }
}

const PARSES: &str = r#"
import json, sys, yaml
class Loader(yaml.SafeLoader):
    pass
# CloudFormation's short-form tags (!Ref, !Sub, …) are data, as in the template's long form.
def tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)
Loader.add_multi_constructor("!", tagged)
p = sys.argv[1]
text = open(p, encoding="utf-8").read()
if p.endswith(".json"):
    json.loads(text)
else:
    list(yaml.load_all(text, Loader=Loader))
"#;

const IS_BUILDSPEC: &str = r#"
import sys, yaml
try:
    d = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
except Exception:
    sys.exit(1)
sys.exit(0 if isinstance(d, dict) and isinstance(d.get("phases"), dict) else 1)
"#;

/// The commands of a buildspec as one script, in run order (install, pre_build, build,
/// post_build; commands then finally).
const SCRIPT: &str = r##"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
print("#!/bin/bash")
for phase in ["install", "pre_build", "build", "post_build"]:
    body = (d.get("phases") or {}).get(phase) or {}
    if not isinstance(body, dict):
        continue
    for key in ["commands", "finally"]:
        for c in body.get(key) or []:
            if isinstance(c, (str, int, float)):
                print(str(c))
"##;

/// shellcheck's warnings (code → count) for a buildspec's commands.
fn shellcheck(py: &str, buildspec: &Path, tmp: &Path) -> Option<BTreeMap<String, usize>> {
    let script = python(py, SCRIPT, &[buildspec]).ok()?;
    let file = tmp.join("commands.sh");
    fs::write(&file, script).expect("write script");
    let out = Command::new("shellcheck")
        .args(["-S", "warning", "-s", "bash", "-f", "gcc"])
        .arg(&file)
        .output()
        .ok()?;
    let mut codes = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(i) = line.find("[SC") {
            let code = line[i + 1..].trim_end_matches(']').to_string();
            *codes.entry(code).or_insert(0) += 1;
        }
    }
    Some(codes)
}

fn has_shellcheck() -> bool {
    let ok = Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "shellcheck must be installed in CI (see .ci/run)"
        );
        eprintln!("note: shellcheck not found; shell warnings not compared");
    }
    ok
}

fn is_template(text: &str) -> bool {
    pipefix::catalog::buildspec_shell::is_template(text)
}

#[test]
fn realworld_cases_are_fixed_safely_and_idempotently() {
    let Some(cases) = cases() else {
        return;
    };
    let py = validator_python();
    let shellcheck_ok = has_shellcheck();
    let tools = root().join("../shared/tools");
    let mut failures = Vec::new();
    let mut changed_buildspecs = 0;
    // Changed templates, kept (original, fixed) for one cfn-lint run at the end.
    let kept = tempfile::tempdir().expect("tempdir");
    let mut templates: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut template_labels: Vec<String> = Vec::new();
    for case in &cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        let orig = tmp.path().join("orig");
        let work = tmp.path().join("work");
        copy_case(case, &orig);
        copy_case(case, &work);

        let (code, err) = pipefix(&["--dry-run"], &work);
        assert_exit(&case.name, "dry-run", code, &err);
        assert_eq!(
            snapshot(&work),
            snapshot(&orig),
            "{}: --dry-run changed files",
            case.name
        );
        let (code, err) = pipefix(&["--apply"], &work);
        assert_exit(&case.name, "apply", code, &err);
        let fixed = snapshot(&work);
        let (code, err) = pipefix(&["--apply"], &work);
        assert_exit(&case.name, "second apply", code, &err);
        assert!(
            snapshot(&work) == fixed,
            "{}: a second --apply changed files again",
            case.name
        );

        let before = snapshot(&orig);
        let kinds = kinds(&orig);
        for (rel, bytes) in &fixed {
            if before.get(rel) == Some(bytes) {
                continue;
            }
            let (o, f) = (orig.join(rel), work.join(rel));
            let label = format!("{}/{}", case.name, rel.display());
            let Some(py) = py.as_deref() else { continue };
            let ext = rel
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if matches!(ext.as_str(), "json" | "yml" | "yaml")
                && let Err(e) = python(py, PARSES, &[&f])
            {
                failures.push(format!("{label}: no longer parses: {e}"));
                continue;
            }
            if kinds.get(rel).map(String::as_str) == Some("cloudformation") {
                let n = templates.len();
                let name = rel
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let (ko, kf) = (
                    kept.path().join(format!("{n}-original-{name}")),
                    kept.path().join(format!("{n}-fixed-{name}")),
                );
                fs::copy(&o, &ko).expect("copy original template");
                fs::copy(&f, &kf).expect("copy fixed template");
                templates.push((ko, kf));
                template_labels.push(label.clone());
            }
            if ext == "json" {
                // Problems the validator finds in the fixed file that the original did not have
                // (`auto` exits 2 for a JSON file that is none of its kinds).
                // The kind pipefix classified the file as: an ECS create-service input without
                // `serviceName` is not one `auto` can guess.
                let kind = kinds
                    .get(rel)
                    .map(String::as_str)
                    .filter(|k| {
                        [
                            "codepipeline",
                            "taskdef",
                            "deploymentgroup",
                            "ecs-service",
                            "target-group",
                            "target-group-attributes",
                        ]
                        .contains(k)
                    })
                    .unwrap_or("auto");
                let report = |file: &Path| -> Vec<String> {
                    let out = Command::new(py)
                        .arg(tools.join("validate_aws.py"))
                        .args(["--kind", kind])
                        .arg(file)
                        .output()
                        .expect("run validate_aws.py");
                    if out.status.code() != Some(1) {
                        return Vec::new();
                    }
                    String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .filter(|l| l.starts_with("  "))
                        .map(|l| l.trim().to_string())
                        .collect()
                };
                let was = report(&o);
                let new: Vec<String> = report(&f)
                    .into_iter()
                    .filter(|l| !was.contains(l))
                    .collect();
                if !new.is_empty() {
                    failures.push(format!("{label}: validate_aws.py: {}", new.join("; ")));
                }
            }
            if python(py, IS_BUILDSPEC, &[&o]).is_ok() {
                changed_buildspecs += 1;
                let text = fs::read_to_string(&o).unwrap_or_default();
                let mut cmd = Command::new(py);
                cmd.arg(tools.join("buildspec_check.py"))
                    .arg(&o)
                    .arg(&f)
                    .arg("--new-only");
                if is_template(&text) {
                    cmd.arg("--template");
                }
                let out = cmd.output().expect("run buildspec_check.py");
                if !out.status.success() {
                    failures.push(format!(
                        "{label}: buildspec_check.py: {}{}",
                        String::from_utf8_lossy(&out.stdout),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
                if shellcheck_ok
                    && let (Some(a), Some(b)) = (
                        shellcheck(py, &o, tmp.path()),
                        shellcheck(py, &f, tmp.path()),
                    )
                {
                    let new: Vec<String> = b
                        .iter()
                        .filter(|(code, n)| a.get(*code).copied().unwrap_or(0) < **n)
                        .map(|(code, _)| code.clone())
                        .collect();
                    if !new.is_empty() {
                        failures.push(format!(
                            "{label}: new shellcheck warnings {}",
                            new.join(", ")
                        ));
                    }
                }
            }
        }
    }
    // Every fixed template: no cfn-lint error its original did not have.
    if let Some(py) = py.as_deref() {
        match common::cfn_lint_new_errors(py, &templates) {
            Ok(new) => {
                for (label, errors) in template_labels.iter().zip(new) {
                    if !errors.is_empty() {
                        failures.push(format!("{label}: new cfn-lint errors: {errors:?}"));
                    }
                }
            }
            Err(e) => failures.push(format!("cfn-lint: {e}")),
        }
    }
    eprintln!(
        "real-world: {} cases, {changed_buildspecs} changed buildspecs checked, {} changed templates linted",
        cases.len(),
        templates.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
