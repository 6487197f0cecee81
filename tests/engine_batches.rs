//! The engine applies every non-overlapping fix of a file in one pass; the result must be
//! byte-identical to applying one fix per file per pass (the engine before batching, still
//! reachable through a test-only environment variable): the same fixed files, the same
//! findings in the same order with the same positions, in every output format.

mod common;
#[path = "../examples/gen-monorepo.rs"]
#[allow(dead_code)]
mod gen_monorepo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use pipefix::engine::ONE_AT_A_TIME_ENV;

struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: Option<i32>,
}

fn run(dir: &Path, args: &[&str], target: &str, one_at_a_time: bool) -> Output {
    let mut cmd = Command::cargo_bin("pipefix").expect("binary");
    cmd.current_dir(dir)
        .args(args)
        .arg(target)
        .env("NO_COLOR", "1")
        .env_remove(ONE_AT_A_TIME_ENV);
    if one_at_a_time {
        cmd.env(ONE_AT_A_TIME_ENV, "1");
    }
    let out = cmd.output().expect("run pipefix");
    Output {
        stdout: out.stdout,
        stderr: out.stderr,
        code: out.status.code(),
    }
}

/// Every format, safe and unsafe fixes: both engines print the same bytes. Returns the text
/// output of the batched engine, for the callers' own checks.
fn same_outputs(dir: &Path, target: &str) -> String {
    let formats: [&[&str]; 6] = [
        &["--dry-run"],
        &["--dry-run", "--unsafe-fixes"],
        &["--format", "patch"],
        &["--format", "json"],
        &["--format", "sarif"],
        &["--format", "json", "--unsafe-fixes"],
    ];
    let mut text = String::new();
    for args in formats {
        let old = run(dir, args, target, true);
        let new = run(dir, args, target, false);
        assert!(
            old.stdout == new.stdout,
            "{target} {args:?}: stdout differs between one fix per pass and batched fixes"
        );
        assert!(
            old.stderr == new.stderr,
            "{target} {args:?}: stderr differs:\n--- one at a time\n{}\n--- batched\n{}",
            String::from_utf8_lossy(&old.stderr),
            String::from_utf8_lossy(&new.stderr)
        );
        assert_eq!(old.code, new.code, "{target} {args:?}: exit code");
        if args == ["--dry-run"] {
            text = String::from_utf8_lossy(&new.stderr).into_owned();
        }
    }
    text
}

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).expect("inside").to_path_buf();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// The number in "N finding(s): M fixable" of a text summary.
fn fixable(summary: &str) -> usize {
    summary
        .split(" fixable")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn generated_monorepos_give_the_same_result() {
    for dirty in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let g = gen_monorepo::generate_with(dir.path(), 12, 5, dirty).expect("generate");
        if dirty {
            assert_eq!(g.with_problems, g.services);
        }
        let text = same_outputs(dir.path(), "services");
        let n = fixable(&text);
        assert!(
            n >= if dirty { 12 * 8 } else { 3 },
            "dirty={dirty}: expected fixes to compare, got {n}:\n{text}"
        );
    }
}

#[test]
fn applied_fixes_are_the_same_files() {
    let (a, b) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    for d in [&a, &b] {
        gen_monorepo::generate_with(d.path(), 6, 9, true).expect("generate");
    }
    let before = files(a.path());
    let old = run(a.path(), &["--apply", "--unsafe-fixes"], "services", true);
    let new = run(b.path(), &["--apply", "--unsafe-fixes"], "services", false);
    assert_eq!(old.code, new.code);
    assert_eq!(old.stderr, new.stderr);
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert!(fa != before, "the dirty tree must change");
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(
            Some(bytes) == fb.get(path),
            "{}: applied fixes differ",
            path.display()
        );
    }
}

#[test]
fn shared_realworld_and_corpus_give_the_same_result() {
    let root = common::root();
    let mut compared = 0;
    for tree in ["../shared/realworld", "../shared/corpus"] {
        if !root.join(tree).is_dir() {
            eprintln!("note: {tree} is missing; skipped");
            continue;
        }
        let text = same_outputs(&root, tree);
        assert!(fixable(&text) > 0, "{tree}: expected fixes to compare");
        compared += 1;
    }
    if compared == 0 {
        eprintln!("note: no shared tree to compare");
    }
}

/// A generated monorepo's services (in `generated`), `examples/`, and the shared real-world
/// files and corpus when they are there, each as (folder to run in, target).
fn targets(generated: &Path) -> Vec<(PathBuf, &'static str)> {
    let root = common::root();
    let mut targets: Vec<(PathBuf, &str)> = vec![
        (generated.to_path_buf(), "services"),
        (root.clone(), "examples"),
    ];
    for tree in ["../shared/realworld", "../shared/corpus"] {
        if root.join(tree).is_dir() {
            targets.push((root.clone(), tree));
        }
    }
    targets
}

/// The edits of a multi-edit fix lowered together (without the documents in between) give
/// the text that lowering them in turn gives: the engine's test hook does both for every such
/// fix and says whether they were the same.
#[test]
fn edits_lowered_together_match_edits_lowered_in_turn() {
    use pipefix::engine::CHECK_TOGETHER_ENV;

    let dir = tempfile::tempdir().expect("tempdir");
    gen_monorepo::generate_with(dir.path(), 12, 7, true).expect("generate");
    let targets = targets(dir.path());
    let (mut same, mut rules) = (0, std::collections::BTreeSet::new());
    for (dir, target) in &targets {
        for args in [&["--dry-run"][..], &["--dry-run", "--unsafe-fixes"]] {
            let out = Command::cargo_bin("pipefix")
                .expect("binary")
                .current_dir(dir)
                .args(args)
                .arg(target)
                .env(CHECK_TOGETHER_ENV, "1")
                .env_remove(ONE_AT_A_TIME_ENV)
                .output()
                .expect("run pipefix");
            let stderr = String::from_utf8_lossy(&out.stderr);
            for line in stderr.lines() {
                let Some(rest) = line.strip_prefix(&format!("{CHECK_TOGETHER_ENV}: ")) else {
                    continue;
                };
                assert!(rest.ends_with(" same"), "{target} {args:?}: {line}");
                same += 1;
                rules.insert(rest.split(' ').next().unwrap_or_default().to_string());
            }
        }
    }
    assert!(same >= 12 * 4, "{same} fixes compared");
    assert!(rules.len() >= 4, "{rules:?}");
}

/// A pass whose batches the next check finds still reporting what they fixed is undone and
/// made again checking each batch at once. The test hook undoes every such pass: the unit
/// must come back exactly as it was, so that the outputs are the same bytes as without it.
#[test]
fn undone_passes_give_the_same_result() {
    use pipefix::engine::UNDO_DEFERRED_ENV;

    let dir = tempfile::tempdir().expect("tempdir");
    gen_monorepo::generate_with(dir.path(), 12, 11, true).expect("generate");
    let targets = targets(dir.path());
    let marker = format!("{UNDO_DEFERRED_ENV}: ");
    let mut undone = 0;
    for (dir, target) in &targets {
        for args in [
            &["--dry-run", "--unsafe-fixes"][..],
            &["--format", "json"],
            &["--format", "patch"],
        ] {
            let run = |undo: bool| {
                let mut cmd = Command::cargo_bin("pipefix").expect("binary");
                cmd.current_dir(dir)
                    .args(args)
                    .arg(target)
                    .env("NO_COLOR", "1")
                    .env_remove(ONE_AT_A_TIME_ENV)
                    .env_remove(UNDO_DEFERRED_ENV);
                if undo {
                    cmd.env(UNDO_DEFERRED_ENV, "1");
                }
                cmd.output().expect("run pipefix")
            };
            let (plain, undoing) = (run(false), run(true));
            let stderr = String::from_utf8_lossy(&undoing.stderr);
            let (marks, rest): (Vec<&str>, Vec<&str>) =
                stderr.lines().partition(|l| l.starts_with(&marker));
            undone += marks.len();
            assert!(
                plain.stdout == undoing.stdout,
                "{target} {args:?}: stdout differs after undone passes"
            );
            assert_eq!(
                String::from_utf8_lossy(&plain.stderr)
                    .lines()
                    .collect::<Vec<_>>(),
                rest,
                "{target} {args:?}: stderr differs after undone passes"
            );
            assert_eq!(plain.status.code(), undoing.status.code());
        }
    }
    assert!(undone >= 12 * 3, "{undone} passes undone");
}
