//! A configuration with no defect (`examples/clean`) gets no finding and exit 0 in every mode,
//! and `--apply` leaves every byte as it was.

mod common;

use std::fs;

use assert_cmd::Command;

fn run(args: &[&str], dir: &std::path::Path) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("pipefix")
        .expect("binary")
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run pipefix");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_clean_pipeline_has_no_finding_in_any_mode() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("clean");
    fs::create_dir_all(&dir).expect("mkdir");
    common::copy_tree(&common::root().join("examples/clean"), &dir);
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = common::files_below(&dir)
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read");
            (p, b)
        })
        .collect();

    for args in [
        vec!["--dry-run", "."],
        vec!["--apply", "."],
        vec!["--apply", "--unsafe-fixes", "."],
        vec!["--format", "patch", "."],
    ] {
        let (code, stdout, stderr) = run(&args, &dir);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?} printed a diff:\n{stdout}");
        if args[0] != "--format" {
            assert!(stderr.contains("0 finding(s)"), "{args:?}: {stderr}");
        }
    }
    let (code, stdout, stderr) = run(&["--format", "json", "."], &dir);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(0),
        "{stdout}"
    );
    // Every file of the example is one pipefix reads: none is skipped as unknown.
    let kinds = doc["files"].as_array().expect("files").len();
    assert_eq!(kinds, before.len() - 1, "{stdout}"); // all but README.md

    let (code, stdout, stderr) = run(&["--format", "sarif", "."], &dir);
    assert_eq!(code, Some(0), "{stderr}");
    let sarif: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(0),
        "SARIF results"
    );
    let (code, stdout, stderr) = run(&["--format", "markdown", "."], &dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("found nothing"), "{stdout}");

    for (p, b) in &before {
        assert_eq!(&fs::read(p).expect("read"), b, "{} changed", p.display());
    }
}
