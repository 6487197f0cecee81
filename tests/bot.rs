//! `examples/bot/pipefix-pr.sh` end to end against a real local repository whose remote is
//! a bare repository; `gh` is a stub on PATH that records its arguments, its standard input
//! and the body file it is given, and answers `pr list` as GitHub would.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Bot {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    remote: PathBuf,
    work: PathBuf,
    stubs: PathBuf,
    gh_dir: PathBuf,
}

/// One call of the `gh` stub.
#[derive(Debug)]
struct GhCall {
    args: String,
    stdin: String,
    /// The content of the `--body-file` argument when gh was called.
    body: Option<String>,
}

/// Secret values of `examples/plooral`, which the body must never hold.
const SECRETS: [&str; 4] = [
    "Pl00ral-prod-2024!",
    "dckr_pat_4mXq8bV2nLz7RtY0cKw3HsPe9Jg",
    "ghp_Q7mZk2VfT9xRb4LwN8pYc1HdJ6sGa3Ue5KoX",
    "b3f9c1e07a4d4c2e9f6a18d5e2c7b0a4f3e1d9c8b7a6f5e4",
];

/// The `gh` stub: call N writes `N.args`, `N.stdin` and `N.body`; `pr list` prints the
/// number of the open pull request (`state`), `pr create` opens number 7 unless
/// `fail-create` exists (then it fails once, as when the network drops), `pr edit` needs
/// an open one and fails once when `fail-edit` exists.
const GH_STUB: &str = r#"#!/bin/sh
dir=GH_DIR
n=$(( $(cat "$dir/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/count"
printf '%s
' "$*" > "$dir/$n.args"
cat > "$dir/$n.stdin"
prev=""
for a in "$@"; do
    if [ "$prev" = "--body-file" ]; then cp "$a" "$dir/$n.body"; fi
    prev=$a
done
case "$1 $2" in
    'pr list') cat "$dir/state" 2>/dev/null || true ;;
    'pr create')
        if [ -f "$dir/fail-create" ]; then
            rm -f "$dir/fail-create"
            echo "gh: connection reset" >&2
            exit 1
        fi
        echo 7 > "$dir/state"
        echo "https://github.com/example/shop/pull/7" ;;
    'pr edit')
        [ -f "$dir/state" ] || { echo "gh: no pull request" >&2; exit 1; }
        if [ -f "$dir/fail-edit" ]; then
            rm -f "$dir/fail-edit"
            echo "gh: connection reset" >&2
            exit 1
        fi ;;
    *) echo "gh stub: unexpected call: $*" >&2; exit 1 ;;
esac
"#;

fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Bot {
    fn new() -> Bot {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let remote = tmp.path().join("remote.git");
        let work = tmp.path().join("work");
        let stubs = tmp.path().join("stubs");
        for d in [&home, &work, &stubs] {
            fs::create_dir_all(d).expect("mkdir");
        }
        git(
            tmp.path(),
            &home,
            &["init", "--quiet", "--bare", "-b", "main", "remote.git"],
        );
        git(&work, &home, &["init", "--quiet", "-b", "main"]);
        common::copy_tree(
            &common::root().join("examples/plooral"),
            &work.join("plooral"),
        );
        git(&work, &home, &["add", "."]);
        git(&work, &home, &["commit", "--quiet", "-m", "initial"]);
        let remote_s = remote.to_string_lossy().into_owned();
        git(&work, &home, &["remote", "add", "origin", &remote_s]);
        git(&work, &home, &["push", "--quiet", "origin", "main"]);
        let gh_dir = tmp.path().join("gh");
        fs::create_dir_all(&gh_dir).expect("mkdir");
        let gh = GH_STUB.replace("GH_DIR", &format!("'{}'", gh_dir.display()));
        let gh_path = stubs.join("gh");
        fs::write(&gh_path, gh).expect("stub");
        let status = Command::new("chmod")
            .arg("+x")
            .arg(&gh_path)
            .status()
            .expect("chmod");
        assert!(status.success());
        Bot {
            _tmp: tmp,
            home,
            remote,
            work,
            stubs,
            gh_dir,
        }
    }

    fn run(&self) -> String {
        let (ok, stderr) = self.try_run();
        assert!(ok, "script failed: {stderr}");
        stderr
    }

    /// Run the script (its body goes to a temporary file of its own); whether it succeeded,
    /// and its stderr.
    fn try_run(&self) -> (bool, String) {
        let path = format!(
            "{}:{}",
            self.stubs.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("sh")
            .arg(common::root().join("examples/bot/pipefix-pr.sh"))
            .current_dir(&self.work)
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PIPEFIX", assert_cmd::cargo::cargo_bin("pipefix"))
            .env_remove("PIPEFIX_BODY_FILE")
            .env_remove("PIPEFIX_NO_PR")
            .output()
            .expect("script runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.success(), stderr)
    }

    fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, &self.home, args)
    }

    fn gh_calls(&self) -> Vec<GhCall> {
        let count: usize = fs::read_to_string(self.gh_dir.join("count"))
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(0);
        (1..=count)
            .map(|n| {
                let read = |ext: &str| fs::read_to_string(self.gh_dir.join(format!("{n}.{ext}")));
                GhCall {
                    args: read("args").expect("args").trim_end().to_string(),
                    stdin: read("stdin").unwrap_or_default(),
                    body: read("body").ok(),
                }
            })
            .collect()
    }

    /// The next `pr create` fails once.
    fn fail_next_create(&self) {
        fs::write(self.gh_dir.join("fail-create"), "").expect("write");
    }

    /// The next `pr edit` fails once.
    fn fail_next_edit(&self) {
        fs::write(self.gh_dir.join("fail-edit"), "").expect("write");
    }

    /// Commit a new task definition with a problem on main and push it.
    fn new_problem_on_main(&self) {
        fs::create_dir_all(self.work.join("worker")).expect("mkdir");
        fs::write(self.work.join("worker/taskdef.json"), NEW_TASKDEF).expect("write");
        git(&self.work, &self.home, &["add", "."]);
        git(
            &self.work,
            &self.home,
            &["commit", "--quiet", "-m", "add the worker"],
        );
        git(
            &self.work,
            &self.home,
            &["push", "--quiet", "origin", "main"],
        );
    }
}

const NEW_TASKDEF: &str = r#"{
  "family": "worker",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {
      "name": "worker",
      "image": "<IMAGE1_NAME>",
      "essential": true,
      "healthCheck": {
        "command": ["CMD-SHELL", "exit 0"],
        "interval": 5,
        "timeout": 2,
        "retries": 1
      }
    }
  ]
}
"#;

/// No secret of the example in what gh was given.
fn assert_no_secret(call: &GhCall) {
    for secret in SECRETS {
        for (what, text) in [
            ("arguments", call.args.as_str()),
            ("input", call.stdin.as_str()),
            ("body", call.body.as_deref().unwrap_or("")),
        ] {
            assert!(
                !text.contains(secret),
                "the {what} of `gh {}` hold a secret",
                call.args
            );
        }
    }
}

#[test]
fn one_branch_one_commit_nothing_twice_and_updates_in_place() {
    let bot = Bot::new();

    // First run: one branch with one commit on top of main, listing the fix ids, and a new
    // pull request whose body is pipefix's markdown.
    let log = bot.run();
    assert!(log.contains("pushed pipefix/fixes"), "{log}");
    assert_eq!(
        bot.remote_git(&["rev-list", "--count", "main..pipefix/fixes"]),
        "1"
    );
    let calls = bot.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        calls[0].args,
        "pr list --head pipefix/fixes --base main --state open --json number --jq .[0].number // empty"
    );
    assert_eq!(
        calls[1].args.split(" --body-file ").next(),
        Some(
            "pr create --head pipefix/fixes --base main --title pipefix: safer pipeline configuration"
        ),
        "{calls:?}"
    );
    let body = calls[1]
        .body
        .clone()
        .expect("pr create is given a body file");
    assert!(
        body.contains("## pipefix: safer pipeline configuration"),
        "{body}"
    );
    let ids = body
        .strip_prefix("<!-- pipefix:v1 fixes=")
        .and_then(|rest| rest.split(' ').next())
        .expect("marker")
        .to_string();
    for id in ["CP001", "DG001", "SV002", "TD003"] {
        assert!(ids.split(',').any(|i| i == id), "{id} in {ids}");
        assert!(body.contains(&format!("### {id}: ")), "{id}: {body}");
    }
    for call in &calls {
        assert_eq!(call.stdin, "", "gh reads nothing on stdin");
        assert_no_secret(call);
    }
    let message = bot.remote_git(&["log", "-1", "--format=%B", "pipefix/fixes"]);
    assert!(
        message.starts_with(&format!("pipefix: fix {}\n", ids.replace(',', ", "))),
        "{message}"
    );
    assert!(message.contains(&format!("<!-- pipefix:v1 fixes={ids} digest=")));
    let changed = bot.remote_git(&["diff", "--name-only", "main", "pipefix/fixes"]);
    for f in [
        "plooral/pipeline/codepipeline.json",
        "plooral/pipeline/deployment_group.json",
        "plooral/pipeline/ecs_service.json",
        "plooral/pipeline/ecs_taskdef.json",
    ] {
        assert!(changed.lines().any(|l| l == f), "{f} in {changed}");
    }
    // The script leaves the work tree where it was: on main, clean.
    assert_eq!(
        git(&bot.work, &bot.home, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );
    assert_eq!(git(&bot.work, &bot.home, &["status", "--porcelain"]), "");
    let first = bot.remote_git(&["rev-parse", "pipefix/fixes"]);

    // Second run, nothing new: nothing pushed, gh not called at all.
    let log = bot.run();
    assert!(log.contains("nothing pushed"), "{log}");
    assert_eq!(bot.remote_git(&["rev-parse", "pipefix/fixes"]), first);
    assert_eq!(bot.gh_calls().len(), 2);

    // A new problem lands on main: the same branch is updated, still one commit, and the
    // open pull request is edited with the new body rather than a second one opened.
    bot.new_problem_on_main();
    let log = bot.run();
    assert!(log.contains("pushed pipefix/fixes"), "{log}");
    assert!(log.contains("updated pull request #7"), "{log}");
    let second = bot.remote_git(&["rev-parse", "pipefix/fixes"]);
    assert_ne!(second, first);
    assert_eq!(
        bot.remote_git(&["rev-list", "--count", "main..pipefix/fixes"]),
        "1"
    );
    let changed = bot.remote_git(&["diff", "--name-only", "main", "pipefix/fixes"]);
    assert!(changed.contains("worker/taskdef.json"), "{changed}");
    let branches = bot.remote_git(&["branch", "--list"]);
    assert_eq!(branches.lines().count(), 2, "{branches}");
    let calls = bot.gh_calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(calls[2].args.starts_with("pr list "), "{calls:?}");
    assert_eq!(
        calls[3].args.split(" --body-file ").next(),
        Some("pr edit 7 --title pipefix: safer pipeline configuration"),
        "{calls:?}"
    );
    let edited = calls[3]
        .body
        .as_deref()
        .expect("pr edit is given a body file");
    assert!(edited.contains("worker/taskdef.json"), "{edited}");
    assert_ne!(edited, body);
    assert!(
        calls
            .iter()
            .filter(|c| c.args.starts_with("pr create"))
            .count()
            == 1
    );
    for call in &calls {
        assert_no_secret(call);
    }
}

#[test]
fn a_failed_pull_request_call_is_retried_by_the_next_run() {
    let bot = Bot::new();
    // gh fails when opening the pull request: the run fails, and must not leave a pushed
    // branch that makes the next run believe everything is done.
    bot.fail_next_create();
    let (ok, log) = bot.try_run();
    assert!(!ok, "the run reports the failure: {log}");
    assert!(log.contains("gh pr create failed"), "{log}");
    let calls = bot.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[1].args.starts_with("pr create "), "{calls:?}");
    // The branch it had pushed for the pull request is gone again.
    assert_eq!(bot.remote_git(&["branch", "--list"]), "* main");
    // The next run opens it.
    let log = bot.run();
    assert!(log.contains("pushed pipefix/fixes"), "{log}");
    assert!(log.contains("opened a pull request"), "{log}");
    let calls = bot.gh_calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(calls[3].args.starts_with("pr create "), "{calls:?}");
    assert!(
        calls[3]
            .body
            .as_deref()
            .is_some_and(|b| b.contains("<!-- pipefix:v1 "))
    );
    // And the one after has nothing to do.
    let log = bot.run();
    assert!(log.contains("nothing pushed"), "{log}");
    assert_eq!(bot.gh_calls().len(), 4);

    // Editing the open pull request fails: the branch goes back to the commit the pull
    // request shows, and the next run pushes and edits again.
    let opened = bot.remote_git(&["rev-parse", "pipefix/fixes"]);
    bot.new_problem_on_main();
    bot.fail_next_edit();
    let (ok, log) = bot.try_run();
    assert!(!ok && log.contains("gh pr edit failed"), "{log}");
    assert_eq!(bot.remote_git(&["rev-parse", "pipefix/fixes"]), opened);
    let log = bot.run();
    assert!(log.contains("updated pull request #7"), "{log}");
    assert_ne!(bot.remote_git(&["rev-parse", "pipefix/fixes"]), opened);
    let calls = bot.gh_calls();
    assert_eq!(calls.len(), 8, "{calls:?}");
    assert!(calls[7].args.starts_with("pr edit 7 "), "{calls:?}");
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.args.starts_with("pr create"))
            .count(),
        2,
        "one failed, one opened: {calls:?}"
    );
}
