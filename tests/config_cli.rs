//! The configuration and catalog commands: `init`, `ignore` (comments survive, exact
//! output), configuration errors naming their line, inline suppression, `explain`,
//! `rules --format json`, completions and the man page.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn pipefix(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("pipefix").expect("binary");
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

fn output(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const HAND_WRITTEN: &str = r#"# Our pipefix settings, reviewed by the platform team.
select = ["CP", "TD", "DG"]   # only what we trust

# Legacy stacks we do not touch.
[per-path-ignores]
"legacy/**" = ["BS"]  # owned by another team

[rules.TD003]
# our app boots slowly
startup_time = 90
"#;

#[test]
fn ignore_keeps_every_comment_of_a_hand_written_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("pipefix.toml"), HAND_WRITTEN).expect("write");
    let (code, _, err) =
        output(pipefix(dir.path()).args(["ignore", "TD003", "--path", "legacy/**"]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        output(pipefix(dir.path()).args(["ignore", "dg", "--path", "infra/old/*.json"]));
    assert_eq!(code, 0, "{err}");
    // Adding what is already there changes nothing.
    let (code, _, err) =
        output(pipefix(dir.path()).args(["ignore", "TD003", "--path", "legacy/**"]));
    assert_eq!(code, 0);
    assert!(err.contains("already ignored"), "{err}");
    let text = fs::read_to_string(dir.path().join("pipefix.toml")).expect("read");
    assert_eq!(
        text,
        r#"# Our pipefix settings, reviewed by the platform team.
select = ["CP", "TD", "DG"]   # only what we trust

# Legacy stacks we do not touch.
[per-path-ignores]
"legacy/**" = ["BS", "TD003"]  # owned by another team
"infra/old/*.json" = ["DG"]

[rules.TD003]
# our app boots slowly
startup_time = 90
"#
    );
}

#[test]
fn init_then_ignore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = output(pipefix(dir.path()).arg("init"));
    assert_eq!(code, 0, "{err}");
    let first = fs::read_to_string(dir.path().join("pipefix.toml")).expect("read");
    assert!(first.contains("[per-path-ignores]\n# \"legacy/**\" = [\"BS\"]\n"));
    assert!(first.contains("# [rules.CP001]"), "{first}");
    // It never overwrites.
    let (code, _, err) = output(pipefix(dir.path()).arg("init"));
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) =
        output(pipefix(dir.path()).args(["ignore", "TD002", "--path", "vendor/**"]));
    assert_eq!(code, 0, "{err}");
    let after = fs::read_to_string(dir.path().join("pipefix.toml")).expect("read");
    assert_eq!(
        after,
        first.replace(
            "[per-path-ignores]\n",
            "[per-path-ignores]\n\"vendor/**\" = [\"TD002\"]\n"
        )
    );
    // The edited file is used: the example finds nothing to ignore there, but it loads.
    let (code, _, err) = output(pipefix(dir.path()).arg("."));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn ignore_refuses_unknown_ids_and_bad_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = output(pipefix(dir.path()).args(["ignore", "ZZ1", "--path", "x/**"]));
    assert_eq!(code, 2);
    assert!(err.contains("no fix id starts with \"ZZ1\""), "{err}");
    assert!(!dir.path().join("pipefix.toml").exists());
    fs::write(
        dir.path().join("pipefix.toml"),
        "select = [\"TD\"]\n\nbogus = 1\n",
    )
    .expect("write");
    let (code, _, err) = output(pipefix(dir.path()).args(["ignore", "TD", "--path", "x/**"]));
    assert_eq!(code, 2);
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn configuration_errors_name_their_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join(".git")).expect("git");
    for (text, line, words) in [
        ("select = [\"TD\"]\n\nbogus = 1\n", 3, "unknown key `bogus`"),
        (
            "# c\n[rules.TD003]\nstartup_time = \"90\"\n",
            3,
            "same type",
        ),
        ("select = []\n\n[rules.NOPE1]\nx = 1\n", 3, "unknown fix id"),
        (
            "[rules.DG004]\n\nmax_wiat = 30\n",
            3,
            "DG004 has no parameter \"max_wiat\"",
        ),
        ("[rules.DG004]\nmax_wait = -5\n", 2, "whole number"),
        ("[per-path-ignores]\n\"a/[\" = [\"TD\"]\n", 2, "bad glob"),
        ("unsafe-fixes = \"yes\"\n", 1, "true or false"),
    ] {
        fs::write(dir.path().join("pipefix.toml"), text).expect("write");
        let (code, _, err) = output(pipefix(dir.path()).arg("."));
        assert_eq!(code, 2, "{text}");
        assert!(
            err.contains(&format!(":{line}:")) || err.contains(&format!("line {line}")),
            "{text}: {err}"
        );
        assert!(err.contains(words), "{text}: {err}");
    }
}

const TASKDEF: &str = r#"family: shop
requiresCompatibilities: [FARGATE]
networkMode: awsvpc
cpu: "256"
memory: "512"
containerDefinitions:
  - name: shop
    image: "<IMAGE1_NAME>"
    essential: true
    MARK_ABOVE
    healthCheck:MARK_ON
      command: ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]
      interval: 5
      timeout: 2
      retries: 1
"#;

#[test]
fn inline_suppression_on_or_above_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("taskdef.yml");
    for (above, on, found) in [
        ("# nothing", "", true),
        ("# pipefix: ignore[TD003]", "", false),
        ("# nothing", " # pipefix: ignore[TD]", false),
        ("# pipefix: ignore[BS001, TD003]", "", false),
        ("# pipefix: ignore[CP001]", "", true),
    ] {
        fs::write(
            &file,
            TASKDEF.replace("MARK_ABOVE", above).replace("MARK_ON", on),
        )
        .expect("write");
        let (code, _, err) = output(pipefix(dir.path()).arg("taskdef.yml"));
        assert_eq!(err.contains(" TD003 "), found, "{above} {on}: {err}");
        assert_eq!(code, i32::from(found), "{err}");
    }
}

#[test]
fn explain_prints_the_before_after_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = output(pipefix(dir.path()).args(["explain", "td003"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("TD003 "), "{out}");
    assert!(out.contains("Example: "), "{out}");
    assert!(
        out.contains("--- a/taskdef.json\n+++ b/taskdef.json\n"),
        "{out}"
    );
    assert!(out.contains("\n-\t\t\t\t\"retries\": 1\n"), "{out}");
    assert!(
        out.contains("\n+\t\t\t\t\"retries\": 2,\n+\t\t\t\t\"startPeriod\": 50\n"),
        "{out}"
    );
    let (code, _, err) = output(pipefix(dir.path()).args(["explain", "NOPE"]));
    assert_eq!(code, 2);
    assert!(err.contains("no fix"), "{err}");
}

#[test]
fn rules_json_lists_the_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = output(pipefix(dir.path()).args(["rules", "--format", "json"]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let rules = v.as_array().expect("array");
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "CP001" && r["safety"] == "safe")
    );
    assert!(
        rules
            .iter()
            .all(|r| r["kinds"].is_array() && r["title"].is_string())
    );
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, _) = output(pipefix(dir.path()).args(["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(out.contains("pipefix"), "{shell}");
        assert!(out.contains("unsafe-fixes"), "{shell}");
    }
    let (code, out, _) = output(pipefix(dir.path()).arg("man"));
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie") || out.contains(".TH pipefix"),
        "{out}"
    );
    assert!(out.contains("\\-\\-apply"), "{out}");
}
