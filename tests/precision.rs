//! `docs/precision.md` is the hand-judged list of every finding pipefix reports on
//! `../shared/realworld` with default settings. This test keeps it honest: the document must
//! list exactly the findings the tool reports today (file, line, rule), every one judged a real
//! defect, and its per-rule tally must add up. When a rule changes, the failure prints the rows
//! to judge.

mod common;

use std::collections::BTreeMap;
use std::fs;

use assert_cmd::Command;

/// (file relative to the real-world folder, line, rule)
type Key = (String, u64, String);

fn reported() -> Option<Vec<(Key, String)>> {
    let realworld = common::root().join("../shared/realworld");
    if !realworld.is_dir() {
        eprintln!("note: ../shared/realworld is missing; precision check skipped");
        return None;
    }
    // One run per case, as the repository's owner would run it: each folder of `units/` (files
    // that sit together in their repository) and each single file of `files/`.
    let mut cases = Vec::new();
    for group in ["units", "files"] {
        let mut entries: Vec<String> = fs::read_dir(realworld.join(group))
            .expect("readable folder")
            .flatten()
            .map(|e| format!("{group}/{}", e.file_name().to_string_lossy()))
            .collect();
        entries.sort();
        cases.extend(entries);
    }
    let mut rows = Vec::new();
    for case in cases {
        let out = Command::cargo_bin("pipefix")
            .expect("binary")
            .current_dir(&realworld)
            .args(["--dry-run", "--format", "json", &case])
            .output()
            .expect("run pipefix");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{case}: JSON output: {e}"));
        for f in doc["findings"].as_array().expect("findings") {
            if f["status"].as_str() == Some("suppressed") {
                continue;
            }
            let file = f["file"].as_str().expect("file");
            let file = file.strip_prefix("./").unwrap_or(file).to_string();
            let line = f["line"].as_u64().unwrap_or(0);
            let rule = f["id"].as_str().expect("id").to_string();
            let message = f["message"].as_str().unwrap_or("").to_string();
            rows.push(((file, line, rule), message));
        }
    }
    Some(rows)
}

/// The rows of the findings table: `| file | line | rule | verdict | why |`.
fn documented(text: &str) -> Vec<(Key, String, String)> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", file, line, rule, verdict, why, ""
        if cells.len() != 7 || !cells[0].is_empty() {
            continue;
        }
        let Ok(n) = cells[2].trim_matches('`').parse::<u64>() else {
            continue;
        };
        let file = cells[1].trim_matches('`').to_string();
        rows.push((
            (file, n, cells[3].to_string()),
            cells[4].to_string(),
            cells[5].to_string(),
        ));
    }
    rows
}

/// The tally table: `| rule | findings | real defects |`.
fn tally(text: &str) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    let mut in_tally = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            in_tally = line.to_ascii_lowercase().contains("tally");
            continue;
        }
        if !in_tally {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() != 5 {
            continue;
        }
        if let (Ok(a), Ok(b)) = (cells[2].parse::<usize>(), cells[3].parse::<usize>()) {
            out.insert(cells[1].to_string(), (a, b));
        }
    }
    out
}

#[test]
fn precision_document_lists_every_default_finding_as_judged() {
    let Some(reported) = reported() else {
        return;
    };
    let text =
        fs::read_to_string(common::root().join("docs/precision.md")).expect("docs/precision.md");
    let documented = documented(&text);

    let mut want: BTreeMap<Key, usize> = BTreeMap::new();
    for (k, _) in &reported {
        *want.entry(k.clone()).or_default() += 1;
    }
    let mut have: BTreeMap<Key, usize> = BTreeMap::new();
    for (k, _, _) in &documented {
        *have.entry(k.clone()).or_default() += 1;
    }

    let mut problems = Vec::new();
    for (k, message) in &reported {
        if have.get(k).copied().unwrap_or(0) < want[k] {
            problems.push(format!(
                "not in docs/precision.md: | {} | {} | {} | ? | {} |",
                k.0, k.1, k.2, message
            ));
        }
    }
    for (k, n) in &have {
        if want.get(k).copied().unwrap_or(0) < *n {
            problems.push(format!(
                "in docs/precision.md but no longer reported: {} {} {}",
                k.0, k.1, k.2
            ));
        }
    }
    for (k, verdict, why) in &documented {
        if verdict != "defect" {
            problems.push(format!(
                "judged `{verdict}`, yet reported by default: {} {} {}",
                k.0, k.1, k.2
            ));
        }
        if why.len() < 10 {
            problems.push(format!("no reason given for {} {} {}", k.0, k.1, k.2));
        }
    }

    // The tally is what a reader looks at first: it must agree with the rows.
    let mut counted: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (k, verdict, _) in &documented {
        let e = counted.entry(k.2.clone()).or_default();
        e.0 += 1;
        if verdict == "defect" {
            e.1 += 1;
        }
    }
    let written = tally(&text);
    if written != counted {
        problems.push(format!(
            "the tally does not match the rows: written {written:?}, counted {counted:?}"
        ));
    }

    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
