//! `--format json`: one document with every finding, every input file (and its diff), the
//! errors and the counts. Its shape is versioned (`"version": 1`) and documented in
//! `docs/usage.md`: fields are only ever added within a version.

use serde_json::{Value, json};

use crate::engine::Status;
use crate::meta;
use crate::report::display_path;

use super::{FindingReport, Mask, RunReport, mask_json, status_name};

pub const VERSION: u64 = 1;

/// The document, with every string masked.
pub fn document(report: &RunReport, mask: &Mask) -> Value {
    let findings: Vec<Value> = report
        .findings()
        .map(|f| finding(f, report.applied))
        .collect();
    let files: Vec<Value> = report
        .files()
        .map(|f| {
            json!({
                "path": f.path,
                "kind": f.file_kind.unwrap_or(f.kind.name()),
                "diff": f.diff,
                "written": f.written,
            })
        })
        .collect();
    let mut errors: Vec<Value> = report
        .all_errors()
        .map(|e| {
            json!({
                "kind": "file",
                "path": display_path(&e.path),
                "line": e.line.map(|(l, _)| l),
                "column": e.line.map(|(_, c)| c),
                "message": e.message,
            })
        })
        .collect();
    errors.extend(report.bugs().map(
        |b| json!({ "kind": "bug", "path": null, "line": null, "column": null, "message": b }),
    ));
    let mut doc = json!({
        "version": VERSION,
        "tool": {
            "name": env!("CARGO_PKG_NAME"),
            "version": env!("CARGO_PKG_VERSION"),
        },
        "applied": report.applied,
        "findings": findings,
        "files": files,
        "errors": errors,
        "warnings": report.warnings,
        "summary": summary(report),
    });
    mask_json(&mut doc, mask);
    doc
}

fn finding(f: &FindingReport, applied: bool) -> Value {
    let m = meta::get(f.rule);
    let fix = match (&f.fix_title, f.safety) {
        (Some(title), Some(safety)) => json!({ "title": title, "safety": safety }),
        _ => Value::Null,
    };
    let error = match &f.status {
        Status::FixFailed(why) => Value::String(why.clone()),
        _ => Value::Null,
    };
    json!({
        "id": f.rule,
        "title": m.map(|m| m.title.as_str()).unwrap_or(""),
        "safety": m.map(|m| m.safety),
        "file": f.path,
        "line": f.line,
        "column": f.col,
        "message": f.message,
        "status": status_name(&f.status, applied),
        "fix": fix,
        "fix_error": error,
        "follow_ups": f.follow_ups,
        "node": f.node,
        "suppression": f.suppression.as_ref().map(|s| json!({
            "config": s.config,
            "line": s.line,
            "where": s.selector,
            "reason": s.reason,
        })),
    })
}

fn summary(report: &RunReport) -> Value {
    let count = |s: &str| {
        report
            .findings()
            .filter(|f| status_name(&f.status, report.applied) == s)
            .count()
    };
    json!({
        "findings": report.findings().count(),
        "fixed": count("fixed"),
        "fixable": count("fixable"),
        "unsafe": count("unsafe"),
        "manual": count("manual"),
        "fix_failed": count("fix-failed"),
        "addressed": count("addressed"),
        "suppressed": count("suppressed"),
        "files": report.files().count(),
        "files_changed": report.files().filter(|f| f.diff.is_some()).count(),
        "errors": report.all_errors().count() + report.bugs().count(),
        "exit_code": report.exit_code(),
    })
}
