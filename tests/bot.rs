//! `examples/bot/pipefix-pr.sh` end to end against a real local repository whose remote is
//! a bare repository; `gh` is a stub on PATH that records its arguments.

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
    gh_log: PathBuf,
    body: PathBuf,
}

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
        let gh_log = tmp.path().join("gh.log");
        let state = tmp.path().join("gh.state");
        let gh = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\ncase \"$1 $2\" in\n  'pr list') cat '{state}' 2>/dev/null || true ;;\n  'pr create') echo 7 > '{state}' ;;\nesac\n",
            log = gh_log.display(),
            state = state.display()
        );
        let gh_path = stubs.join("gh");
        fs::write(&gh_path, gh).expect("stub");
        let status = Command::new("chmod")
            .arg("+x")
            .arg(&gh_path)
            .status()
            .expect("chmod");
        assert!(status.success());
        let body = tmp.path().join("body.md");
        Bot {
            _tmp: tmp,
            home,
            remote,
            work,
            stubs,
            gh_log,
            body,
        }
    }

    fn run(&self) -> String {
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
            .env("PIPEFIX_BODY_FILE", &self.body)
            .output()
            .expect("script runs");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "script failed: {stderr}");
        stderr
    }

    fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, &self.home, args)
    }

    fn gh_calls(&self) -> Vec<String> {
        fs::read_to_string(&self.gh_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
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

#[test]
fn one_branch_one_commit_nothing_twice_and_updates_in_place() {
    let bot = Bot::new();

    // First run: one branch with one commit on top of main, listing the fix ids.
    let log = bot.run();
    assert!(log.contains("pushed pipefix/fixes"), "{log}");
    assert_eq!(
        bot.remote_git(&["rev-list", "--count", "main..pipefix/fixes"]),
        "1"
    );
    let body = fs::read_to_string(&bot.body).expect("body");
    let ids = body
        .strip_prefix("<!-- pipefix:v1 fixes=")
        .and_then(|rest| rest.split(' ').next())
        .expect("marker")
        .to_string();
    for id in ["CP001", "DG001", "SV002", "TD003"] {
        assert!(ids.split(',').any(|i| i == id), "{id} in {ids}");
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
    assert!(body.contains("### TD003: "));
    let calls = bot.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls[0].starts_with("pr list --head pipefix/fixes --base main"));
    assert!(calls[1].starts_with("pr create --head pipefix/fixes --base main --title"));
    assert!(calls[1].contains("--body-file"));
    // The script leaves the work tree where it was: on main, clean.
    assert_eq!(
        git(&bot.work, &bot.home, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );
    assert_eq!(git(&bot.work, &bot.home, &["status", "--porcelain"]), "");
    let first = bot.remote_git(&["rev-parse", "pipefix/fixes"]);

    // Second run, nothing new: nothing pushed, gh not called.
    let log = bot.run();
    assert!(log.contains("nothing pushed"), "{log}");
    assert_eq!(bot.remote_git(&["rev-parse", "pipefix/fixes"]), first);
    assert_eq!(bot.gh_calls().len(), 2);

    // A new problem lands on main: the same branch is updated, still one commit, and the
    // open pull request is edited rather than a second one opened.
    fs::create_dir_all(bot.work.join("worker")).expect("mkdir");
    fs::write(bot.work.join("worker/taskdef.json"), NEW_TASKDEF).expect("write");
    git(&bot.work, &bot.home, &["add", "."]);
    git(
        &bot.work,
        &bot.home,
        &["commit", "--quiet", "-m", "add the worker"],
    );
    git(&bot.work, &bot.home, &["push", "--quiet", "origin", "main"]);
    let log = bot.run();
    assert!(log.contains("pushed pipefix/fixes"), "{log}");
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
    assert!(calls[3].starts_with("pr edit 7 --title"), "{calls:?}");
    assert!(calls[3].contains("--body-file"));
}
