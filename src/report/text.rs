//! The default output: diffs on stdout, one line per finding and the counts on stderr.

use std::io::{self, Write};

use crate::engine::Status;

use super::{Mask, RunReport};

pub fn print_diffs(
    report: &RunReport,
    mask: &Mask,
    color: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    for f in report.files() {
        if let Some(d) = &f.diff {
            print_diff(d, mask, color, out)?;
        }
    }
    Ok(())
}

/// One file's diff, masked, colored when asked.
pub fn print_diff(d: &str, mask: &Mask, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let d = mask.apply(d);
    if !color {
        return out.write_all(d.as_bytes());
    }
    for line in d.split_inclusive('\n') {
        let code = if line.starts_with("+++") || line.starts_with("---") {
            "1"
        } else if line.starts_with('+') {
            "32"
        } else if line.starts_with('-') {
            "31"
        } else if line.starts_with("@@") {
            "36"
        } else {
            ""
        };
        if code.is_empty() {
            out.write_all(line.as_bytes())?;
        } else {
            let body = line.trim_end_matches('\n');
            write!(out, "\x1b[{code}m{body}\x1b[0m")?;
            if line.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

pub fn status_label(status: &Status, applied: bool) -> String {
    match status {
        Status::Fixed if applied => "[fixed]".into(),
        Status::Fixed => "[fixable]".into(),
        Status::NeedsUnsafe => "[unsafe fix: use --unsafe-fixes]".into(),
        Status::Manual => "[needs a person]".into(),
        Status::FixFailed(_) => "[fix failed]".into(),
        Status::Addressed => "[addressed by the configuration fixes]".into(),
    }
}

pub fn print_summary(report: &RunReport, mask: &Mask, out: &mut dyn Write) -> io::Result<()> {
    for w in &report.warnings {
        writeln!(out, "warning: {}", mask.apply(w))?;
    }
    for e in report.all_errors() {
        writeln!(out, "{}", mask.apply(&format!("error: {e}")))?;
    }
    for b in report.bugs() {
        writeln!(out, "bug: {}", mask.apply(b))?;
    }
    for f in report.findings() {
        let line = format!(
            "{}:{}:{}: {} {} {}",
            f.path,
            f.line,
            f.col,
            f.rule,
            f.message,
            status_label(&f.status, report.applied)
        );
        writeln!(out, "{}", mask.apply(&line))?;
    }
    let mut follow: Vec<String> = Vec::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for f in report.findings() {
        for u in &f.follow_ups {
            let item = format!("{} ({}): {}", f.rule, f.path, u);
            if seen.insert(item.clone()) {
                follow.push(item);
            }
        }
    }
    if !follow.is_empty() {
        writeln!(out, "\nFollow-ups (outside the repository):")?;
        for item in &follow {
            writeln!(out, "  - {}", mask.apply(item))?;
        }
    }
    let total = report.findings().count();
    let fixed = report
        .findings()
        .filter(|f| f.status == Status::Fixed)
        .count();
    let addressed = report
        .findings()
        .filter(|f| f.status == Status::Addressed)
        .count();
    let changed = report.files().filter(|f| f.diff.is_some()).count();
    let errors = report.all_errors().count();
    let verb = if report.applied { "fixed" } else { "fixable" };
    writeln!(
        out,
        "\n{total} finding(s): {fixed} {verb}, {addressed} in logs addressed by fixes, {} left for a person; {changed} file(s) {}; {errors} error(s)",
        total - fixed - addressed,
        if report.applied {
            "changed"
        } else {
            "would change"
        },
    )?;
    Ok(())
}
