//! `--format sarif`: SARIF 2.1.0 for code scanning. Rules come from the catalog; each
//! finding is a result at its file, line and column; a finding whose fix is in the output
//! carries a `fix` with the change pipefix makes to that file, as per-hunk replacements of
//! byte regions of the file as it was read.
//!
//! The fixes of one file are applied and verified together, so every fixed finding of a
//! file carries the same, whole change to that file. A change whose text would hold a
//! secret value is left out (its replacement cannot be masked without being wrong).

use serde_json::{Value, json};
use similar::{DiffTag, TextDiff};

use crate::engine::Status;
use crate::meta::{self, Meta};
use crate::report::display_path;

use super::{FileReport, FindingReport, Mask, RunReport, mask_json, status_name};

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub fn document(report: &RunReport, mask: &Mask) -> Value {
    let all = meta::all();
    let rules: Vec<Value> = all.iter().map(rule).collect();
    let results: Vec<Value> = report
        .findings()
        .map(|f| result(f, report, mask, all))
        .collect();
    let notifications: Vec<Value> = report
        .all_errors()
        .map(|e| {
            let mut n = json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": uri(&display_path(&e.path)) },
                } }],
            });
            if let Some((line, col)) = e.line
                && let Some(pl) = n.pointer_mut("/locations/0/physicalLocation")
                && let Some(o) = pl.as_object_mut()
            {
                o.insert(
                    "region".into(),
                    json!({ "startLine": line.max(1), "startColumn": col.max(1) }),
                );
            }
            n
        })
        .chain(
            report
                .bugs()
                .map(|b| json!({ "level": "error", "message": { "text": b } })),
        )
        .collect();
    let mut doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    mask_json(&mut doc, mask);
    doc
}

fn level_of(safety: crate::meta::Safety, is_log: bool) -> &'static str {
    if is_log {
        "note"
    } else if safety == crate::meta::Safety::Manual {
        "error"
    } else {
        "warning"
    }
}

fn rule(m: &Meta) -> Value {
    let is_log = m.signature.is_some();
    let mut text = format!("{}\n\nWhy:\n{}\n", m.summary.trim(), m.why.trim());
    let mut md = format!("{}\n\n## Why\n\n{}\n", m.summary.trim(), m.why.trim());
    if !m.safe_when.trim().is_empty() {
        text.push_str(&format!("\nWhen it is safe:\n{}\n", m.safe_when.trim()));
        md.push_str(&format!("\n## When it is safe\n\n{}\n", m.safe_when.trim()));
    }
    if !m.references.is_empty() {
        text.push_str("\nReferences:\n");
        md.push_str("\n## References\n\n");
        for r in &m.references {
            text.push_str(&format!("- {}: {}\n", r.title, r.url));
            md.push_str(&format!("- [{}]({})\n", r.title, r.url));
        }
    }
    let mut tags: Vec<String> = m.kinds.clone();
    tags.push(format!("safety:{}", m.safety));
    if !m.default {
        tags.push("opt-in".to_string());
    }
    let mut r = json!({
        "id": m.id,
        "name": m.name,
        "shortDescription": { "text": m.title },
        "fullDescription": { "text": m.summary.trim() },
        "help": { "text": text, "markdown": md },
        // Opt-in fixes are off unless a team selects them (`extend-select`).
        "defaultConfiguration": { "level": level_of(m.safety, is_log), "enabled": m.default },
        "properties": { "tags": tags, "safety": m.safety },
    });
    if let Some(first) = m.references.first()
        && let Some(o) = r.as_object_mut()
    {
        o.insert("helpUri".into(), Value::String(first.url.clone()));
    }
    r
}

fn result(f: &FindingReport, report: &RunReport, mask: &Mask, all: &[Meta]) -> Value {
    let index = all.iter().position(|m| m.id == f.rule);
    let m = index.and_then(|i| all.get(i));
    let level = match &f.status {
        Status::FixFailed(_) => "error",
        Status::Addressed => "note",
        _ => m.map_or("warning", |m| level_of(m.safety, m.signature.is_some())),
    };
    let mut text = f.message.clone();
    if !f.follow_ups.is_empty() {
        text.push_str("\n\nFollow-ups:");
        for u in &f.follow_ups {
            text.push_str(&format!("\n- {u}"));
        }
    }
    let mut r = json!({
        "ruleId": f.rule,
        "level": level,
        "message": { "text": text },
        "locations": [{ "physicalLocation": {
            "artifactLocation": { "uri": uri(&f.path) },
            "region": { "startLine": f.line.max(1), "startColumn": f.col.max(1) },
        } }],
        "properties": { "status": status_name(&f.status, report.applied) },
    });
    if let Some(node) = &f.node
        && let Some(p) = r.pointer_mut("/properties").and_then(Value::as_object_mut)
    {
        p.insert("node".into(), json!(node));
    }
    let Some(o) = r.as_object_mut() else {
        return r;
    };
    if let Some(i) = index {
        o.insert("ruleIndex".into(), json!(i));
    }
    // A `[[suppress]]` entry of the configuration: SARIF's "external" suppression, accepted.
    if let Some(s) = &f.suppression {
        let mut sup = json!({
            "kind": "external",
            "status": "accepted",
            "location": { "physicalLocation": {
                "artifactLocation": { "uri": uri(&s.config) },
                "region": { "startLine": s.line.max(1) },
            } },
            "properties": { "where": s.selector },
        });
        if let Some(reason) = &s.reason
            && let Some(so) = sup.as_object_mut()
        {
            so.insert("justification".into(), json!(reason));
        }
        o.insert("suppressions".into(), json!([sup]));
    }
    if f.status == Status::Fixed
        && let Some(file) = report.files().find(|x| x.path == f.path)
        && let Some(fix) = fix(f, file, mask)
    {
        o.insert("fixes".into(), json!([fix]));
    }
    r
}

/// The change to `file` as SARIF replacements, or `None` when unknown or when it would
/// hold a secret.
fn fix(f: &FindingReport, file: &FileReport, mask: &Mask) -> Option<Value> {
    let (old, new) = (file.original.as_deref()?, file.fixed.as_deref()?);
    let old_starts = line_starts(old);
    let new_starts = line_starts(new);
    let diff = TextDiff::from_lines(old, new);
    let mut replacements = Vec::new();
    for op in diff.ops() {
        if op.tag() == DiffTag::Equal {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        let start = *old_starts.get(o.start)?;
        let end = *old_starts.get(o.end)?;
        let inserted = new.get(*new_starts.get(n.start)?..*new_starts.get(n.end)?)?;
        let deleted = old.get(start..end)?;
        if mask.apply(inserted) != inserted || mask.apply(deleted) != deleted {
            return None;
        }
        let mut rep =
            json!({ "deletedRegion": { "byteOffset": start, "byteLength": end - start } });
        if !inserted.is_empty()
            && let Some(ro) = rep.as_object_mut()
        {
            ro.insert("insertedContent".into(), json!({ "text": inserted }));
        }
        replacements.push(rep);
    }
    if replacements.is_empty() {
        return None;
    }
    let title = f.fix_title.clone().unwrap_or_else(|| f.rule.to_string());
    Some(json!({
        "description": { "text": format!("{title} (the change pipefix makes to {}, with every fix of that file)", f.path) },
        "artifactChanges": [{
            "artifactLocation": { "uri": uri(&file.path) },
            "replacements": replacements,
        }],
    }))
}

/// Byte offset of the start of every line, and the length of the text last.
fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' && i + 1 < text.len() {
            v.push(i + 1);
        }
    }
    if !text.is_empty() {
        v.push(text.len());
    } else {
        v.push(0);
    }
    v
}

/// A relative path as a URI reference (`/`-separated, percent-encoded where needed);
/// absolute paths become `file://` URIs.
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    let abs = path.starts_with('/');
    if abs {
        out.push_str("file://");
    }
    for b in path.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // A relative reference whose first segment has a colon would read as a scheme.
    if !abs
        && out
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':'))
    {
        out.insert_str(0, "./");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_starts_and_uris() {
        assert_eq!(line_starts("a\nbc\n"), vec![0, 2, 5]);
        assert_eq!(line_starts("a\nbc"), vec![0, 2, 4]);
        assert_eq!(uri("dir/a b.json"), "dir/a%20b.json");
        assert_eq!(uri("c:x/y"), "./c:x/y");
        assert_eq!(uri("/tmp/é"), "file:///tmp/%C3%A9");
    }
}
