//! `[[suppress]]` entries of pipefix.toml, addressed by JSONPath: a finding inside a selected
//! node is reported as suppressed (text count, JSON, SARIF, markdown) and its fix is not
//! applied; an expression that selects nothing is reported as stale; a malformed one is a
//! configuration error naming its line; `pipefix ignore --where` writes an entry. JSON and
//! YAML documents alike.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const AGENT: &str = "public.ecr.aws/datadog/agent";
const ROUTER: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit";
const DIGEST_A: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const DIGEST_B: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// A task definition template with the application and two sidecars whose images are
/// tagged, not pinned (TD002 on both sidecars).
const TASKDEF: &str = r#"{
  "family": "shop",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "512",
  "memory": "1024",
  "containerDefinitions": [
    {
      "name": "shop",
      "image": "<IMAGE1_NAME>",
      "essential": true
    },
    {
      "name": "datadog-agent",
      "image": "public.ecr.aws/datadog/agent:7",
      "essential": false
    },
    {
      "name": "log-router",
      "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
      "essential": false
    }
  ]
}
"#;

const SUPPRESS_AGENT: &str = r#"# Sidecars the platform team pins itself.
[[suppress]]
rule = "TD002"
path = "deploy/*.json"
where = "$.containerDefinitions[?(@.name == 'datadog-agent')]"
reason = "pinned by the platform team's image policy"
"#;

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

fn tree(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("deploy")).expect("mkdir");
    fs::write(dir.path().join("deploy/taskdef.json"), TASKDEF).expect("write");
    fs::write(dir.path().join("pipefix.toml"), config).expect("write");
    dir
}

fn pins() -> Vec<String> {
    vec![
        "--select".into(),
        "TD002".into(),
        "--pin".into(),
        format!("{AGENT}={DIGEST_A}"),
        "--pin".into(),
        format!("{ROUTER}={DIGEST_B}"),
    ]
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"))
}

#[test]
fn a_selected_container_is_reported_as_suppressed_and_not_fixed() {
    let dir = tree(SUPPRESS_AGENT);
    // JSON: both findings are there, one suppressed with its entry, one fixable.
    let (code, out, err) = output(
        pipefix(dir.path())
            .args(pins())
            .args(["--format", "json", "."]),
    );
    assert_eq!(code, 1, "{err}");
    let doc = json_of(&out);
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{out}");
    let agent = findings
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("datadog-agent"))
        })
        .expect("agent finding");
    assert_eq!(agent["status"], "suppressed");
    assert_eq!(agent["node"], "$['containerDefinitions'][1]['image']");
    assert_eq!(agent["suppression"]["config"], "pipefix.toml");
    assert_eq!(agent["suppression"]["line"], 2);
    assert_eq!(
        agent["suppression"]["reason"],
        "pinned by the platform team's image policy"
    );
    let router = findings
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("log-router"))
        })
        .expect("router finding");
    assert_eq!(router["status"], "fixable");
    assert!(router["suppression"].is_null());
    assert_eq!(doc["summary"]["suppressed"], 1);
    assert_eq!(doc["summary"]["fixable"], 1);
    let diff = doc["files"][0]["diff"].as_str().expect("a diff");
    assert!(
        diff.contains(DIGEST_B) && !diff.contains(DIGEST_A),
        "{diff}"
    );

    // Text: counted, not listed; listed with --verbose.
    let (_, _, err) = output(pipefix(dir.path()).args(pins()).arg("."));
    assert!(err.contains("1 suppressed"), "{err}");
    assert!(!err.contains("datadog-agent"), "{err}");
    let (_, _, err) = output(pipefix(dir.path()).args(pins()).args(["--verbose", "."]));
    assert!(
        err.contains("[suppressed by pipefix.toml:2: pinned by the platform team's image policy]"),
        "{err}"
    );

    // Apply: the router is pinned, the agent is left as it is; nothing is left for a
    // person, so the exit status is 0.
    let (code, _, err) = output(pipefix(dir.path()).args(pins()).args(["--apply", "."]));
    assert_eq!(code, 0, "{err}");
    let fixed = fs::read_to_string(dir.path().join("deploy/taskdef.json")).expect("read");
    assert!(
        fixed.contains(&format!("{ROUTER}:stable@{DIGEST_B}")) || fixed.contains(DIGEST_B),
        "{fixed}"
    );
    assert!(
        fixed.contains("\"public.ecr.aws/datadog/agent:7\""),
        "{fixed}"
    );
    assert!(!fixed.contains(DIGEST_A), "{fixed}");
}

#[test]
fn sarif_and_markdown_show_the_suppression() {
    let dir = tree(SUPPRESS_AGENT);
    let (_, out, _) = output(
        pipefix(dir.path())
            .args(pins())
            .args(["--format", "sarif", "."]),
    );
    let doc = json_of(&out);
    let validator = common::sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{out}");
    let s = &suppressed[0]["suppressions"][0];
    assert_eq!(s["kind"], "external");
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["suppressions"] = serde_json::json!([{ "status": "accepted" }]);
    broken["runs"][0]["results"][1]["suppressions"] = serde_json::json!([{ "status": "accepted" }]);
    assert!(
        !validator.is_valid(&broken),
        "the schema requires a suppression's kind"
    );
    assert_eq!(s["status"], "accepted");
    assert_eq!(
        s["justification"],
        "pinned by the platform team's image policy"
    );
    assert_eq!(
        s["location"]["physicalLocation"]["artifactLocation"]["uri"],
        "pipefix.toml"
    );
    assert_eq!(s["location"]["physicalLocation"]["region"]["startLine"], 2);
    assert!(
        suppressed[0]["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("datadog-agent"))
    );
    assert!(suppressed[0].get("fixes").is_none());

    let (_, md, _) = output(
        pipefix(dir.path())
            .args(pins())
            .args(["--format", "markdown", "."]),
    );
    let (_, after) = md
        .split_once("### Suppressed in the configuration")
        .expect(&md);
    assert!(
        after.contains("datadog-agent") && after.contains("pipefix.toml:2"),
        "{md}"
    );
    if let Some((_, manual)) = md.split_once("### Findings that need a person") {
        assert!(!manual.contains("datadog-agent"), "{md}");
    }
}

#[test]
fn a_yaml_document_is_addressed_the_same_way() {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = "family: shop\nrequiresCompatibilities: [FARGATE]\nnetworkMode: awsvpc\ncpu: \"512\"\nmemory: \"1024\"\ncontainerDefinitions:\n  - name: shop\n    image: \"<IMAGE1_NAME>\"\n    essential: true\n  - name: datadog-agent  # the platform team's sidecar\n    image: public.ecr.aws/datadog/agent:7\n    essential: false\n  - name: log-router\n    image: public.ecr.aws/aws-observability/aws-for-fluent-bit:stable\n    essential: false\n";
    fs::write(dir.path().join("taskdef.yml"), yaml).expect("write");
    fs::write(
        dir.path().join("pipefix.toml"),
        "[[suppress]]\nrule = \"TD\"\npath = \"*.yml\"\nwhere = \"$.containerDefinitions[?@.name == 'datadog-agent']\"\n",
    )
    .expect("write");
    let (code, out, err) = output(
        pipefix(dir.path())
            .args(pins())
            .args(["--format", "json", "--apply", "."]),
    );
    assert_eq!(code, 0, "{err}");
    let doc = json_of(&out);
    let statuses: Vec<(&str, &str)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let m = f["message"].as_str().unwrap_or("");
            let who = if m.contains("datadog-agent") {
                "agent"
            } else {
                "router"
            };
            (who, f["status"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(statuses, vec![("agent", "suppressed"), ("router", "fixed")]);
    let fixed = fs::read_to_string(dir.path().join("taskdef.yml")).expect("read");
    assert!(
        fixed.contains("image: public.ecr.aws/datadog/agent:7\n"),
        "{fixed}"
    );
    assert!(fixed.contains("# the platform team's sidecar"), "{fixed}");
    assert!(fixed.contains(DIGEST_B), "{fixed}");
}

#[test]
fn an_expression_that_selects_nothing_is_stale() {
    let config = SUPPRESS_AGENT.replace("datadog-agent'", "datadog'");
    let dir = tree(&config);
    let (code, out, err) = output(pipefix(dir.path()).args(pins()).arg("."));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("warning: pipefix.toml:2: stale suppression of TD002")
            && err.contains("selects nothing in the 1 file(s) matching \"deploy/*.json\""),
        "{err}"
    );
    assert!(out.contains(DIGEST_A), "the agent is fixable again: {out}");
    // Nothing is suppressed: both sidecars are fixable.
    let (_, json, _) = output(
        pipefix(dir.path())
            .args(pins())
            .args(["--format", "json", "."]),
    );
    let doc = json_of(&json);
    assert_eq!(doc["summary"]["fixable"], 2);
    assert_eq!(doc["summary"]["suppressed"], 0);
    assert!(
        doc["warnings"].as_array().is_some_and(|w| w
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("stale suppression")))),
        "{json}"
    );
    // An entry whose glob matches no file of the run says nothing: the run may cover part
    // of the tree only.
    let other = SUPPRESS_AGENT.replace("deploy/*.json", "legacy/*.json");
    fs::write(dir.path().join("pipefix.toml"), other).expect("write");
    let (_, _, err) = output(pipefix(dir.path()).args(pins()).arg("."));
    assert!(!err.contains("stale"), "{err}");
    // The selected node holds no finding: not stale (the expression is right).
    let quiet = SUPPRESS_AGENT.replace("datadog-agent'", "shop'");
    fs::write(dir.path().join("pipefix.toml"), quiet).expect("write");
    let (_, _, err) = output(pipefix(dir.path()).args(pins()).arg("."));
    assert!(!err.contains("stale"), "{err}");
}

#[test]
fn a_malformed_expression_is_a_configuration_error_naming_its_line() {
    let config = SUPPRESS_AGENT.replace("== 'datadog-agent')]", "== 'datadog-agent']");
    let dir = tree(&config);
    let (code, out, err) = output(pipefix(dir.path()).arg("."));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("pipefix.toml:5:"), "{err}");
    assert!(err.contains("not a JSONPath expression"), "{err}");
}

#[test]
fn ignore_where_writes_an_entry_that_suppresses() {
    let hand = "# Our settings.\nselect = [\"TD\"]   # task definitions only\n";
    let dir = tree(hand);
    let (code, _, err) = output(pipefix(dir.path()).args([
        "ignore",
        "TD002",
        "--path",
        "deploy/*.json",
        "--where",
        "$.containerDefinitions[?(@.name == 'datadog-agent')]",
        "--reason",
        "pinned by the platform team's image policy",
    ]));
    assert_eq!(code, 0, "{err}");
    let written = fs::read_to_string(dir.path().join("pipefix.toml")).expect("read");
    assert_eq!(
        written,
        format!(
            "{hand}\n[[suppress]]\nrule = \"TD002\"\npath = \"deploy/*.json\"\nwhere = \"$.containerDefinitions[?(@.name == 'datadog-agent')]\"\nreason = \"pinned by the platform team's image policy\"\n"
        )
    );
    let (_, out, _) = output(
        pipefix(dir.path())
            .args(pins())
            .args(["--format", "json", "."]),
    );
    assert_eq!(json_of(&out)["summary"]["suppressed"], 1, "{out}");
    // The same entry again changes nothing; a malformed expression is refused, unwritten.
    let again = [
        "ignore",
        "TD002",
        "--path",
        "deploy/*.json",
        "--where",
        "$.containerDefinitions[?(@.name == 'datadog-agent')]",
    ];
    let (code, _, err) = output(pipefix(dir.path()).args(again));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("already"), "{err}");
    let (code, _, err) = output(pipefix(dir.path()).args([
        "ignore",
        "TD002",
        "--path",
        "deploy/*.json",
        "--where",
        "$.containerDefinitions[?(@.name",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a JSONPath expression"), "{err}");
    assert_eq!(
        fs::read_to_string(dir.path().join("pipefix.toml")).expect("read"),
        written
    );
    // --reason needs --where.
    let (code, _, _) =
        output(pipefix(dir.path()).args(["ignore", "TD002", "--path", "x", "--reason", "r"]));
    assert_eq!(code, 2);
}

#[test]
fn globs_are_relative_to_the_configuration_wherever_pipefix_runs() {
    let dir = tree(SUPPRESS_AGENT);
    let deploy = dir.path().join("deploy");
    let abs_file = deploy.join("taskdef.json").to_string_lossy().into_owned();
    for (cwd, args) in [
        (dir.path(), vec!["."]),
        (dir.path(), vec!["--config", "pipefix.toml", "."]),
        (dir.path(), vec!["--config", "./pipefix.toml", "./deploy"]),
        (dir.path(), vec!["deploy/taskdef.json"]),
        (deploy.as_path(), vec!["."]),
        (deploy.as_path(), vec!["--config", "../pipefix.toml", "."]),
        (
            deploy.as_path(),
            vec!["--config", "../pipefix.toml", abs_file.as_str()],
        ),
    ] {
        let (_, out, err) = output(
            pipefix(cwd)
                .args(pins())
                .args(["--format", "json"])
                .args(&args),
        );
        assert_eq!(
            json_of(&out)["summary"]["suppressed"],
            1,
            "{args:?} in {cwd:?}: {err}"
        );
    }
    // Per-path ignores use the same anchoring.
    fs::write(
        dir.path().join("pipefix.toml"),
        "[per-path-ignores]\n\"deploy/*.json\" = [\"TD002\"]\n",
    )
    .expect("write");
    for (cwd, args) in [
        (dir.path(), vec!["--config", "pipefix.toml", "."]),
        (deploy.as_path(), vec!["--config", "../pipefix.toml", "."]),
        (deploy.as_path(), vec!["."]),
    ] {
        let (code, out, err) = output(
            pipefix(cwd)
                .args(pins())
                .args(["--format", "json"])
                .args(&args),
        );
        assert_eq!(
            json_of(&out)["summary"]["findings"],
            0,
            "{args:?} in {cwd:?}: {err}"
        );
        assert_eq!(code, 0);
    }
}
