//! `--format json|sarif|markdown` on the bundled example: JSON has every finding, SARIF
//! validates against the official 2.1.0 schema and its fixes rebuild the fixed files,
//! markdown has every fix, follow-up and the marker, and no format but `patch` ever holds a
//! secret value of the example.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Secret values of `examples/plooral` (the buildspec, task definition, pipeline and logs).
const SECRETS: [&str; 4] = [
    "Pl00ral-prod-2024!",
    "dckr_pat_4mXq8bV2nLz7RtY0cKw3HsPe9Jg",
    "ghp_Q7mZk2VfT9xRb4LwN8pYc1HdJ6sGa3Ue5KoX",
    "b3f9c1e07a4d4c2e9f6a18d5e2c7b0a4f3e1d9c8b7a6f5e4",
];

fn pipefix() -> Command {
    let mut c = Command::cargo_bin("pipefix").expect("binary");
    c.env("NO_COLOR", "1");
    c
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = pipefix()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `path:line:col: ID` of every finding in the text output's stderr.
fn text_findings(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(4, ' ');
            let loc = parts.next()?;
            let id = parts.next()?;
            (loc.ends_with(':') && loc.matches(':').count() == 3).then(|| format!("{loc} {id}"))
        })
        .collect()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON: {e}\n{text}"))
}

#[test]
fn json_has_every_finding_and_file() {
    let dir = common::example_copy();
    let (_, _, text_err) = run(dir.path(), &["plooral"]);
    let (code, out, _) = run(dir.path(), &["--format", "json", "plooral"]);
    assert_eq!(code, 1);
    let doc = json_of(&out);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["tool"]["name"], "pipefix");
    let findings = doc["findings"].as_array().expect("findings");
    let ids: BTreeSet<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: {}",
                f["file"].as_str().unwrap_or_default(),
                f["line"],
                f["column"],
                f["id"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let expected = text_findings(&text_err);
    assert!(!expected.is_empty(), "{text_err}");
    assert_eq!(ids, expected);
    for f in findings {
        for key in [
            "id",
            "title",
            "safety",
            "file",
            "line",
            "column",
            "message",
            "status",
            "fix",
            "follow_ups",
        ] {
            assert!(f.get(key).is_some(), "{key} missing in {f}");
        }
        let status = f["status"].as_str().unwrap_or_default();
        assert!(
            ["fixable", "unsafe", "manual", "addressed"].contains(&status),
            "{status}"
        );
        if status == "fixable" {
            assert!(f["fix"]["title"].is_string() && f["fix"]["safety"].is_string());
        }
    }
    let changed: Vec<&Value> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["diff"].is_string())
        .collect();
    assert!(!changed.is_empty());
    assert!(changed.iter().all(|f| {
        f["diff"]
            .as_str()
            .is_some_and(|d| d.starts_with("--- a/plooral/"))
    }));
    assert_eq!(doc["summary"]["findings"], findings.len());
    let fixable = findings.iter().filter(|f| f["status"] == "fixable").count();
    assert!(fixable >= 4, "{fixable}");
    assert_eq!(doc["summary"]["fixable"], fixable);
    assert_eq!(doc["summary"]["files_changed"], changed.len());
    assert_eq!(doc["errors"], serde_json::json!([]));

    // After --apply, the same findings are `fixed`.
    let (code, out, _) = run(dir.path(), &["--apply", "--format", "json", "plooral"]);
    assert_eq!(code, 1, "findings that need a person remain");
    let doc = json_of(&out);
    assert_eq!(doc["summary"]["fixed"], fixable);
    assert_eq!(doc["applied"], true);
}

#[test]
fn sarif_validates_and_its_fixes_rebuild_the_fixed_files() {
    let dir = common::example_copy();
    let (code, out, _) = run(dir.path(), &["--format", "sarif", "plooral"]);
    assert_eq!(code, 1);
    let doc = json_of(&out);
    let validator = common::sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does reject a broken log.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));

    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let cp001 = rules.iter().find(|r| r["id"] == "CP001").expect("CP001");
    assert!(
        cp001["help"]["markdown"]
            .as_str()
            .is_some_and(|m| m.contains("## Why") && m.contains("https://docs.aws.amazon.com/"))
    );
    assert!(cp001["helpUri"].is_string() && cp001["fullDescription"]["text"].is_string());
    let results = run0["results"].as_array().expect("results");
    let (_, json_out, _) = run(dir.path(), &["--format", "json", "plooral"]);
    let findings = json_of(&json_out)["findings"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(results.len(), findings);
    for r in results {
        let rule = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[rule]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("plooral/"))
        );
        assert!(loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1));
    }

    // Apply the replacements of one fix per file to the files as they were, and compare with
    // what --apply writes.
    let mut rebuilt: Vec<(String, String)> = Vec::new();
    for r in results.iter().filter(|r| r.get("fixes").is_some()) {
        let change = &r["fixes"][0]["artifactChanges"][0];
        let uri = change["artifactLocation"]["uri"]
            .as_str()
            .expect("uri")
            .to_string();
        if rebuilt.iter().any(|(u, _)| *u == uri) {
            continue;
        }
        let mut text = fs::read_to_string(dir.path().join(&uri)).expect("original");
        let mut reps: Vec<(usize, usize, String)> = change["replacements"]
            .as_array()
            .expect("replacements")
            .iter()
            .map(|rep| {
                (
                    rep["deletedRegion"]["byteOffset"].as_u64().expect("offset") as usize,
                    rep["deletedRegion"]["byteLength"].as_u64().expect("length") as usize,
                    rep["insertedContent"]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        reps.sort_by_key(|r| std::cmp::Reverse(r.0));
        for (offset, length, inserted) in reps {
            text.replace_range(offset..offset + length, &inserted);
        }
        rebuilt.push((uri, text));
    }
    // Every changed file has its fix, except a file whose change would show a secret.
    assert!(!rebuilt.is_empty());
    for r in results
        .iter()
        .filter(|r| r["properties"]["status"] == "fixable")
    {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_default();
        if r.get("fixes").is_none() {
            let original = fs::read_to_string(dir.path().join(uri)).expect("original");
            assert!(
                SECRETS.iter().any(|s| original.contains(s)),
                "{uri}: a fixed finding without a fix"
            );
        }
    }
    run(dir.path(), &["--apply", "plooral"]);
    for (uri, text) in rebuilt {
        let applied = fs::read_to_string(dir.path().join(&uri)).expect("fixed");
        assert_eq!(text, applied, "{uri}");
    }
}

#[test]
fn markdown_has_every_fix_follow_up_and_the_marker() {
    let dir = common::example_copy();
    let (_, json_out, _) = run(dir.path(), &["--format", "json", "plooral"]);
    let doc = json_of(&json_out);
    let (code, md, _) = run(dir.path(), &["--apply", "--format", "markdown", "plooral"]);
    assert_eq!(code, 1);
    let findings = doc["findings"].as_array().expect("findings");
    let mut fixed: Vec<&str> = findings
        .iter()
        .filter(|f| f["status"] == "fixable")
        .filter_map(|f| f["id"].as_str())
        .collect();
    fixed.sort_unstable();
    fixed.dedup();
    for id in ["CP001", "DG001", "SV002", "TD003"] {
        assert!(fixed.contains(&id), "{id} in {fixed:?}");
    }
    for id in &fixed {
        assert!(md.contains(&format!("\n### {id}: ")), "section {id}\n{md}");
    }
    assert!(
        md.contains("https://docs.aws.amazon.com/codepipeline/latest/userguide/approvals.html")
    );
    let follow_ups: Vec<&str> = findings
        .iter()
        .flat_map(|f| f["follow_ups"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert!(!follow_ups.is_empty());
    for u in follow_ups {
        let line = md
            .lines()
            .find(|l| l.starts_with("- [ ] ") && l.contains(u.split('<').next().unwrap_or(u)))
            .unwrap_or_else(|| panic!("follow-up {u:?} not in the checklist\n{md}"));
        assert!(!line.is_empty());
    }
    // Findings that need a person are listed.
    for f in findings.iter().filter(|f| f["status"] == "manual") {
        let id = f["id"].as_str().unwrap_or_default();
        assert!(md.contains(&format!("**{id}**")), "{id}");
    }
    // The marker: fix ids and the digest of the input files (path NUL sha256 NL, by path).
    let marker = md.lines().next().expect("marker");
    let mut files: Vec<String> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["path"].as_str().map(str::to_string))
        .collect();
    files.sort();
    let mut buf = String::new();
    for p in &files {
        let original = fs::read(
            common::root()
                .join("examples")
                .join("plooral")
                .join(p.trim_start_matches("plooral/")),
        )
        .expect("original");
        buf.push_str(p);
        buf.push('\0');
        buf.push_str(&hex(&Sha256::digest(&original)));
        buf.push('\n');
    }
    let digest = hex(&Sha256::digest(buf.as_bytes()));
    assert_eq!(
        marker,
        format!(
            "<!-- pipefix:v1 fixes={} digest={digest} -->",
            fixed.join(",")
        )
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn no_format_but_patch_holds_a_secret() {
    for format in ["text", "json", "sarif", "markdown"] {
        for extra in [&[][..], &["--unsafe-fixes"][..], &["--apply"][..]] {
            let dir = common::example_copy();
            let mut args = vec!["--format", format];
            args.extend_from_slice(extra);
            args.push("plooral");
            let (_, out, err) = run(dir.path(), &args);
            for s in SECRETS {
                assert!(!out.contains(s), "{format} {extra:?}: stdout holds {s}");
                assert!(!err.contains(s), "{format} {extra:?}: stderr holds {s}");
            }
        }
    }
}

/// A fix whose diff shows a secret in its context: masked everywhere, exact in the patch.
#[test]
fn secrets_next_to_a_fix_are_masked_except_in_the_patch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "Zq9-very-private-value";
    let taskdef = format!(
        r#"{{
  "family": "shop",
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {{
      "name": "shop",
      "image": "<IMAGE1_NAME>",
      "essential": true,
      "environment": [{{ "name": "API_PASSWORD", "value": "{secret}" }}],
      "healthCheck": {{
        "retries": 1,
        "command": ["CMD-SHELL", "curl -fsS http://localhost:8080/health || exit 1"],
        "interval": 5,
        "timeout": 2
      }}
    }}
  ]
}}
"#
    );
    fs::write(dir.path().join("taskdef.json"), taskdef).expect("write");
    let (_, patch, _) = run(
        dir.path(),
        &["--select", "TD003", "--format", "patch", "taskdef.json"],
    );
    assert!(patch.contains(secret), "the patch is exact:\n{patch}");
    for format in ["text", "json", "sarif", "markdown"] {
        let (_, out, err) = run(
            dir.path(),
            &["--select", "TD003", "--format", format, "taskdef.json"],
        );
        assert!(!out.contains(secret), "{format}:\n{out}");
        assert!(!err.contains(secret), "{format}:\n{err}");
        if format == "text" || format == "json" {
            assert!(out.contains("****"), "{format} masks it:\n{out}");
        }
    }
}
