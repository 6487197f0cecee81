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
