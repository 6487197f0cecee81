//! The output of a run does not depend on how many threads do the work: stdout and stderr
//! of `--dry-run` and of `--format patch --verbose` are byte-identical with 1, 2 and 8 jobs on a
//! generated monorepo.

#[path = "../examples/gen-monorepo.rs"]
#[allow(dead_code)]
mod gen_monorepo;

use assert_cmd::Command;

fn output(dir: &std::path::Path, args: &[&str], jobs: usize) -> (Vec<u8>, Vec<u8>, Option<i32>) {
    let out = Command::cargo_bin("pipefix")
        .expect("binary")
        .current_dir(dir)
        .args(args)
        .arg("--jobs")
        .arg(jobs.to_string())
        .arg("services")
        .env("NO_COLOR", "1")
        .output()
        .expect("run pipefix");
    (out.stdout, out.stderr, out.status.code())
}

#[test]
fn output_is_identical_whatever_the_number_of_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = gen_monorepo::generate(dir.path(), 25, 11).expect("generate");
    assert!(g.with_problems > 0 && g.with_problems < g.services);
    for args in [&["--dry-run"][..], &["--format", "patch", "--verbose"][..]] {
        let one = output(dir.path(), args, 1);
        assert!(
            !one.0.is_empty() && one.1.windows(11).any(|w| w == b"finding(s):"),
            "{args:?}: expected diffs and findings"
        );
        assert_eq!(one.2, Some(1), "{args:?}: findings pending");
        for jobs in [2, 8] {
            let other = output(dir.path(), args, jobs);
            assert!(
                other.0 == one.0,
                "{args:?}: stdout differs between --jobs 1 and --jobs {jobs}"
            );
            assert!(
                other.1 == one.1,
                "{args:?}: stderr differs between --jobs 1 and --jobs {jobs}"
            );
            assert_eq!(other.2, one.2);
        }
    }
}

/// The run of one folder streams its units from the walk; a run of several paths lists and
/// groups every file first. Both must give the same output, in the same order: here on a
/// generated monorepo with pipeline files added where the walk meets them out of path order
/// (a unit's files before and after its subfolders, in part folders of part folders, in
/// folders named like files).
#[test]
fn streamed_discovery_gives_the_output_of_the_listed_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Dirty: every buildspec has findings, so every copy below shows in the output.
    gen_monorepo::generate_with(dir.path(), 30, 5, true).expect("generate");
    let services = dir.path().join("services");
    let mut buildspecs: Vec<std::path::PathBuf> = walk(&services)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "buildspec.yml"))
        .collect();
    buildspecs.sort();
    assert!(buildspecs.len() >= 10);
    let text = std::fs::read(&buildspecs[0]).expect("read");
    for rel in [
        "zz-buildspec.yml",
        "ci/buildspec.yml",
        "aaa/deploy/ci/buildspec.yml",
        "aaa/deploy/other/buildspec.yml",
        "aaa/zz/buildspec.yml",
        "aaa/buildspec.yml",
        "a.json/buildspec.yml",
    ] {
        let p = services.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, &text).expect("write");
    }
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("pipefix")
            .expect("binary")
            .current_dir(dir.path())
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run pipefix");
        (out.stdout, out.stderr, out.status.code())
    };
    for format in ["text", "patch"] {
        let listed = run(&[
            "--format",
            format,
            "--verbose",
            "--jobs",
            "1",
            "services",
            "services",
        ]);
        assert!(
            listed.0.windows(16).any(|w| w == b"zz-buildspec.yml"),
            "{format}: the added files are found"
        );
        for jobs in ["1", "8"] {
            let streamed = run(&["--format", format, "--verbose", "--jobs", jobs, "services"]);
            assert!(
                streamed.0 == listed.0,
                "{format}, --jobs {jobs}: stdout differs from the listed run"
            );
            assert!(
                streamed.1 == listed.1,
                "{format}, --jobs {jobs}: stderr differs from the listed run"
            );
            assert_eq!(streamed.2, listed.2);
        }
    }
}

#[test]
fn the_generator_is_deterministic() {
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    gen_monorepo::generate(a.path(), 5, 3).expect("generate");
    gen_monorepo::generate(b.path(), 5, 3).expect("generate");
    let files = |root: &std::path::Path| {
        let mut v: Vec<(std::path::PathBuf, Vec<u8>)> = walk(root)
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).expect("read");
                (p.strip_prefix(root).expect("below").to_path_buf(), bytes)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(files(a.path()), files(b.path()));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
