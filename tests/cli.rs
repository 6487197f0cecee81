//! The command line on the bundled example: exit codes, the stdout/stderr split (quiet for
//! machine formats and `--quiet`, full with `--verbose`), patches that `git apply` accepts,
//! and a second run that finds nothing to do.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command as Std;

use assert_cmd::Command;

fn pipefix() -> Command {
    let mut c = Command::cargo_bin("pipefix").expect("binary");
    c.env_remove("NO_COLOR");
    c
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn dry_run_shows_the_diffs_and_changes_nothing() {
    let dir = common::example_copy();
    let before = common::files_below(dir.path())
        .into_iter()
        .map(|p| (p.clone(), fs::read(&p).expect("read")))
        .collect::<Vec<_>>();
    let out = pipefix()
        .current_dir(dir.path())
        .args(["--dry-run", "plooral"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    let stderr = stderr_of(&out);
    // Diffs on stdout, relative paths with a/ and b/ prefixes, no colour off a terminal.
    assert!(stdout.contains(
        "--- a/plooral/pipeline/codepipeline.json\n+++ b/plooral/pipeline/codepipeline.json\n"
    ));
    assert!(
        stdout.contains("+                \"name\": \"Approval\","),
        "{stdout}"
    );
    assert!(stdout.contains("\"provider\": \"Manual\""));
    assert!(
        stdout.contains(
            "-                \"retries\": 1\n+                \"retries\": 2,\n+                \"startPeriod\": 50\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("+            \"healthCheckGracePeriodSeconds\": 50,"));
    assert!(!stdout.contains("\x1b["), "colour off a terminal");
    // Findings on stderr, `path:line:col: ID message`.
    assert!(
        stderr.contains("plooral/pipeline/codepipeline.json:"),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("plooral/pipeline/codepipeline.json:") && l.contains(" CP001 "))
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("plooral/pipeline/ecs_taskdef.json:") && l.contains(" TD003 "))
    );
    assert!(!stderr.contains("--- a/"), "no diff on stderr");
    for (p, b) in before {
        assert_eq!(
            fs::read(&p).expect("read"),
            b,
            "{} changed in a dry run",
            p.display()
        );
    }
}

#[test]
fn patch_applies_with_git_and_apply_then_converges() {
    let dir = common::example_copy();
    let out = pipefix()
        .current_dir(dir.path())
        .args(["--format", "patch", "plooral"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let patch = dir.path().join("fix.patch");
    fs::write(&patch, &out.stdout).expect("write");
    let git = Std::new("git")
        .current_dir(dir.path())
        .args(["apply", "--check", "-v"])
        .arg(&patch)
        .output()
        .expect("git runs");
    assert!(
        git.status.success(),
        "git apply --check: {}",
        stderr_of(&git)
    );
    let patch_p1 = Std::new("patch")
        .current_dir(dir.path())
        .args(["-p1", "--dry-run", "-i"])
        .arg(&patch)
        .output();
    if let Ok(p) = patch_p1 {
        assert!(p.status.success(), "patch -p1: {}", stdout_of(&p));
    }

    let applied = pipefix()
        .current_dir(dir.path())
        .args(["--apply", "plooral"])
        .output()
        .expect("runs");
    assert_ne!(applied.status.code(), Some(2), "{}", stderr_of(&applied));
    assert!(stdout_of(&applied).is_empty() || !stdout_of(&applied).contains("--- a/"));
    // Applying the patch to a clean copy gives exactly what --apply wrote.
    let clean = common::example_copy();
    let git = Std::new("git")
        .current_dir(clean.path())
        .args(["apply"])
        .arg(&patch)
        .output()
        .expect("git runs");
    assert!(git.status.success(), "{}", stderr_of(&git));
    for p in common::files_below(&clean.path().join("plooral")) {
        let rel = p.strip_prefix(clean.path()).expect("prefix");
        assert_eq!(
            fs::read(&p).expect("read"),
            fs::read(dir.path().join(rel)).expect("read"),
            "{}",
            rel.display()
        );
    }

    let again = pipefix()
        .current_dir(dir.path())
        .args(["--dry-run", "plooral"])
        .output()
        .expect("runs");
    assert!(
        stdout_of(&again).is_empty(),
        "second run has a diff:\n{}",
        stdout_of(&again)
    );
    assert_ne!(again.status.code(), Some(2), "{}", stderr_of(&again));
}

#[test]
fn usage_errors_exit_2() {
    let missing = pipefix().arg("no/such/path").output().expect("runs");
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr_of(&missing).contains("no/such/path"));
    let bad_opt = pipefix().arg("--frobnicate").output().expect("runs");
    assert_eq!(bad_opt.status.code(), Some(2));
    let bad_format = pipefix()
        .args(["--format", "yaml", "."])
        .output()
        .expect("runs");
    assert_eq!(bad_format.status.code(), Some(2));
    let bad_select = pipefix()
        .args(["--select", "ZZ9", "."])
        .output()
        .expect("runs");
    assert_eq!(bad_select.status.code(), Some(2));
}

#[test]
fn clean_tree_exits_0_and_unparsable_file_exits_2_but_others_are_fixed() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("notes.json"), "{\"hello\": 1}\n").expect("write");
    let out = pipefix()
        .current_dir(dir.path())
        .arg(".")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).is_empty());

    let bad = dir.path().join("a");
    fs::create_dir_all(&bad).expect("mkdir");
    let broken = "{\n  \"family\": \"x\",\n  \"containerDefinitions\": [\n";
    fs::write(bad.join("taskdef.json"), broken).expect("write");
    let good = dir.path().join("b");
    fs::create_dir_all(&good).expect("mkdir");
    let td = "{\n  \"family\": \"x\",\n  \"containerDefinitions\": [\n    {\n      \"name\": \"app\",\n      \"image\": \"app\",\n      \"healthCheck\": {\n        \"command\": [\"CMD-SHELL\", \"true\"],\n        \"interval\": 5,\n        \"retries\": 1\n      }\n    }\n  ]\n}\n";
    fs::write(good.join("taskdef.json"), td).expect("write");
    let out = pipefix()
        .current_dir(dir.path())
        .args(["--apply", "--select", "TD003", "."])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("a/taskdef.json:4:1: cannot parse JSON"),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(bad.join("taskdef.json")).expect("read"),
        broken
    );
    let fixed = fs::read_to_string(good.join("taskdef.json")).expect("read");
    assert!(fixed.contains("\"retries\": 2"), "{fixed}");
    assert!(Path::new(&good.join("taskdef.json")).exists());
}

#[test]
fn apply_keeps_permissions_and_leaves_no_temporary_file() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("taskdef.json");
    let td = "{\r\n    \"family\": \"x\",\r\n    \"containerDefinitions\": [\r\n        {\r\n            \"name\": \"app\",\r\n            \"image\": \"app\",\r\n            \"healthCheck\": {\"command\": [\"CMD-SHELL\", \"true\"], \"interval\": 5, \"retries\": 1, \"startPeriod\": 90}\r\n        }\r\n    ]\r\n}";
    fs::write(&file, td).expect("write");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).expect("chmod");
    let inode = fs::metadata(&file).expect("meta").ino();
    let out = pipefix()
        .current_dir(dir.path())
        .args(["--apply", "--select", "TD003", "."])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let fixed = fs::read_to_string(&file).expect("read");
    // CRLF kept, no final newline added, inline object stays inline, only the value changed.
    assert_eq!(fixed, td.replace("\"retries\": 1", "\"retries\": 2"));
    let meta = fs::metadata(&file).expect("meta");
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    // Replaced by rename, not rewritten in place.
    assert_ne!(meta.ino(), inode);
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".pipefix-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn describe_services_with_several_services_checks_and_fixes_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svc = |n: &str| {
        format!(
            "{{\"serviceName\": \"{n}\", \"desiredCount\": 1, \"deploymentController\": {{\"type\": \"ECS\"}}}}"
        )
    };
    let original = format!(
        "{{\"services\": [\n{},\n{}\n], \"failures\": []}}\n",
        svc("a"),
        svc("b")
    );
    fs::write(dir.path().join("services.json"), &original).expect("write");
    let out = pipefix()
        .current_dir(dir.path())
        .args(["--apply", "."])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    // Each service is checked: one finding on each service's line.
    for line in [2, 3] {
        assert!(
            stderr.contains(&format!("services.json:{line}:")),
            "no finding on line {line}: {stderr}"
        );
    }
    let fixed = fs::read_to_string(dir.path().join("services.json")).expect("read");
    let v: serde_json::Value = serde_json::from_str(&fixed).expect("still JSON");
    for i in 0..2 {
        assert!(
            v["services"][i].get("deploymentConfiguration").is_some(),
            "service {i} not fixed: {fixed}"
        );
    }
    // Idempotent: a second run changes nothing.
    let again = pipefix()
        .current_dir(dir.path())
        .args(["--apply", "."])
        .output()
        .expect("runs");
    assert_eq!(
        fs::read_to_string(dir.path().join("services.json")).expect("read"),
        fixed,
        "{}",
        stderr_of(&again)
    );
}

/// The lines of the text summary on stderr: one per finding (`path:line:col: ID …`) and
/// the counts.
fn has_summary(stderr: &str) -> bool {
    stderr.contains(" finding(s): ") && stderr.contains("plooral/pipeline/codepipeline.json:")
}

#[test]
fn machine_formats_keep_stderr_for_errors_and_quiet_silences_text() {
    let dir = common::example_copy();
    let run = |args: &[&str]| {
        let out = pipefix()
            .env("NO_COLOR", "1")
            .current_dir(dir.path())
            .args(args)
            .output()
            .expect("runs");
        (out.status.code(), stdout_of(&out), stderr_of(&out))
    };
    // The text format prints the summary; --quiet keeps only the diff.
    let (code, text_out, err) = run(&["plooral"]);
    assert_eq!(code, Some(1));
    assert!(has_summary(&err), "{err}");
    let (code, out, err) = run(&["--quiet", "plooral"]);
    assert_eq!(code, Some(1));
    assert_eq!(out, text_out);
    assert_eq!(err, "");
    // Machine formats: the document on stdout, nothing on stderr; --verbose adds the summary.
    for format in ["json", "sarif", "patch"] {
        let (code, out, err) = run(&["--format", format, "plooral"]);
        assert_eq!(code, Some(1), "{format}");
        assert!(!out.is_empty(), "{format}");
        assert_eq!(err, "", "{format} keeps stderr quiet");
        let (code, verbose_out, err) = run(&["--format", format, "--verbose", "plooral"]);
        assert_eq!(code, Some(1), "{format}");
        assert_eq!(verbose_out, out, "{format}: --verbose changes only stderr");
        assert!(has_summary(&err), "{format} --verbose: {err}");
    }
    // Errors still reach stderr, in every format and with --quiet.
    let broken = dir.path().join("broken");
    fs::create_dir_all(&broken).expect("mkdir");
    fs::write(
        broken.join("taskdef.json"),
        "{\n  \"family\": \"x\",\n  \"containerDefinitions\": [\n",
    )
    .expect("write");
    for args in [
        &["--format", "json", "plooral", "broken"][..],
        &["--format", "sarif", "plooral", "broken"],
        &["--format", "patch", "plooral", "broken"],
        &["--quiet", "plooral", "broken"],
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(
            lines,
            [
                "error: broken/taskdef.json:4:1: cannot parse JSON: unexpected end of input, expected a value"
            ],
            "{args:?}: {err}"
        );
    }
    // --quiet and --verbose contradict each other.
    let (code, _, _) = run(&["--quiet", "--verbose", "plooral"]);
    assert_eq!(code, Some(2));
}
