//! The default output: diffs on stdout, one line per finding and the counts on stderr.

use std::io::{self, Seek, Write};

use crate::engine::Status;

use super::{Mask, RunReport, UnitReport};

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
        Status::Suppressed(_) => "[suppressed]".into(),
    }
}

/// How much of the summary goes to stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Errors, fix bugs and nothing else (`--quiet`, and the machine formats).
    Errors,
    /// Warnings, errors, one line per finding, follow-ups and the counts.
    Normal,
    /// As normal, with the suppressed findings listed one by one too.
    Verbose,
}

pub fn print_summary(report: &RunReport, mask: &Mask, out: &mut dyn Write) -> io::Result<()> {
    print_summary_with(report, mask, None, Verbosity::Normal, out)
}

/// One unit's finding lines and follow-ups as [`print_summary`] prints them, written as the
/// run goes (to temporary files, so that they need no memory) and copied into the summary.
pub struct Spill {
    findings: Box<dyn Buffer>,
    follow_ups: Box<dyn Buffer>,
    any_follow_up: bool,
}

/// Where spilled lines wait: an unnamed temporary file, or memory if none can be made.
pub trait Buffer: io::Read + io::Write + io::Seek + Send {}
impl<T: io::Read + io::Write + io::Seek + Send> Buffer for T {}

fn buffer() -> Box<dyn Buffer> {
    match tempfile::tempfile() {
        Ok(f) => Box::new(f),
        Err(_) => Box::new(io::Cursor::new(Vec::new())),
    }
}

impl Spill {
    pub fn new() -> Spill {
        Spill {
            findings: buffer(),
            follow_ups: buffer(),
            any_follow_up: false,
        }
    }

    /// Writes the unit's lines, masked with `mask`.
    pub fn unit(
        &mut self,
        unit: &UnitReport,
        applied: bool,
        mask: &Mask,
        level: Verbosity,
    ) -> io::Result<()> {
        let mut lines = String::new();
        for f in &unit.findings {
            if let Some(line) = finding_line(f, applied, level) {
                lines.push_str(&mask.apply(&line));
                lines.push('\n');
            }
        }
        self.findings.write_all(lines.as_bytes())?;
        lines.clear();
        // A follow-up names its file, and a file is in one unit: duplicates are within it.
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for f in unit.findings.iter().filter(|f| f.suppression.is_none()) {
            for u in &f.follow_ups {
                let item = format!("{} ({}): {}", f.rule, f.path, u);
                if seen.insert(item.clone()) {
                    lines.push_str(&format!("  - {}\n", mask.apply(&item)));
                }
            }
        }
        self.any_follow_up |= !lines.is_empty();
        self.follow_ups.write_all(lines.as_bytes())
    }
}

impl Default for Spill {
    fn default() -> Spill {
        Spill::new()
    }
}

/// A finding's summary line; suppressed findings only at `--verbose`, with their entry.
fn finding_line(f: &super::FindingReport, applied: bool, level: Verbosity) -> Option<String> {
    let label = match &f.suppression {
        Some(s) if level == Verbosity::Verbose => format!(
            "[suppressed by {}:{}{}]",
            s.config,
            s.line,
            s.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        Some(_) => return None,
        None => status_label(&f.status, applied),
    };
    Some(format!(
        "{}:{}:{}: {} {} {}",
        f.path, f.line, f.col, f.rule, f.message, label
    ))
}

/// As [`print_summary`], with the lines of the units already spilled first in each section.
pub fn print_summary_with(
    report: &RunReport,
    mask: &Mask,
    spill: Option<&mut Spill>,
    level: Verbosity,
    out: &mut dyn Write,
) -> io::Result<()> {
    if level != Verbosity::Errors {
        for w in &report.warnings {
            writeln!(out, "warning: {}", mask.apply(w))?;
        }
    }
    for e in report.all_errors() {
        writeln!(out, "{}", mask.apply(&format!("error: {e}")))?;
    }
    for b in report.bugs() {
        writeln!(out, "bug: {}", mask.apply(b))?;
    }
    if level == Verbosity::Errors {
        return Ok(());
    }
    let mut spill = spill;
    if let Some(s) = spill.as_deref_mut() {
        s.findings.flush()?;
        s.findings.seek(io::SeekFrom::Start(0))?;
        io::copy(&mut s.findings, out)?;
    }
    for f in report.findings() {
        if let Some(line) = finding_line(f, report.applied, level) {
            writeln!(out, "{}", mask.apply(&line))?;
        }
    }
    let mut follow: Vec<String> = Vec::new();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for f in report.findings().filter(|f| f.suppression.is_none()) {
        for u in &f.follow_ups {
            let item = format!("{} ({}): {}", f.rule, f.path, u);
            if seen.insert(item.clone()) {
                follow.push(item);
            }
        }
    }
    let spilled = spill.as_ref().is_some_and(|s| s.any_follow_up);
    if !follow.is_empty() || spilled {
        writeln!(out, "\nFollow-ups (outside the repository):")?;
        if let Some(s) = spill {
            s.follow_ups.flush()?;
            s.follow_ups.seek(io::SeekFrom::Start(0))?;
            io::copy(&mut s.follow_ups, out)?;
        }
        for item in &follow {
            writeln!(out, "  - {}", mask.apply(item))?;
        }
    }
    let t = &report.streamed;
    let total = t.findings + report.findings().count();
    let fixed = t.fixed
        + report
            .findings()
            .filter(|f| f.status == Status::Fixed)
            .count();
    let addressed = t.addressed
        + report
            .findings()
            .filter(|f| f.status == Status::Addressed)
            .count();
    let suppressed = t.suppressed
        + report
            .findings()
            .filter(|f| matches!(f.status, Status::Suppressed(_)))
            .count();
    let changed = t.changed_files + report.files().filter(|f| f.diff.is_some()).count();
    let errors = report.all_errors().count();
    let verb = if report.applied { "fixed" } else { "fixable" };
    let suppressed_note = if suppressed > 0 {
        format!(", {suppressed} suppressed by [[suppress]] (--verbose lists them)")
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{total} finding(s): {fixed} {verb}, {addressed} in logs addressed by fixes, {} left for a person{suppressed_note}; {changed} file(s) {}; {errors} error(s)",
        total - fixed - addressed - suppressed,
        if report.applied {
            "changed"
        } else {
            "would change"
        },
    )?;
    Ok(())
}
