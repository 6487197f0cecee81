//! `--format markdown`: a pull request body. One section per fix in the output (what it
//! changed, why, the AWS references), the follow-ups as a checklist, the findings that need
//! a person, and a hidden marker that lets a bot find and update its own pull request:
//!
//! `<!-- pipefix:v1 fixes=CP001,TD003 digest=<sha256> -->`
//!
//! where the digest is [`RunReport::input_digest`] (the input files, not the fixes).

use std::fmt::Write as _;

use crate::engine::Status;
use crate::meta;
use crate::report::display_path;

use super::{Mask, RunReport, status_name};

pub const MARKER_PREFIX: &str = "<!-- pipefix:v1 ";

/// The hidden marker line.
pub fn marker(report: &RunReport) -> String {
    format!(
        "{MARKER_PREFIX}fixes={} digest={} -->",
        report.fixed_ids().join(","),
        report.input_digest()
    )
}

/// The body, masked.
pub fn render(report: &RunReport, mask: &Mask) -> String {
    let mut s = String::new();
    let ids = report.fixed_ids();
    let fixed_files = report.files().filter(|f| f.diff.is_some()).count();
    let verb = if report.applied {
        "applies"
    } else {
        "proposes"
    };
    let _ = writeln!(s, "{}", marker(report));
    let _ = writeln!(s, "## pipefix: safer pipeline configuration\n");
    if ids.is_empty() {
        let _ = writeln!(s, "pipefix found nothing it can fix.\n");
    } else {
        let _ = writeln!(
            s,
            "This change {verb} {} fix(es) of the pipefix catalog to {fixed_files} file(s): {}. \
             Each section says what changed, why, and where AWS documents it.\n",
            ids.len(),
            ids.iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for id in &ids {
        let m = meta::get(id);
        let title = m.map_or("", |m| m.title.as_str());
        let _ = writeln!(s, "### {id}: {}\n", escape(title));
        let _ = writeln!(s, "**What changed**\n");
        for f in report
            .findings()
            .filter(|f| f.rule == *id && f.status == Status::Fixed)
        {
            let fix = f.fix_title.as_deref().unwrap_or("fixed");
            let _ = writeln!(
                s,
                "- `{}:{}`: {} (was: {})",
                f.path,
                f.line,
                escape(fix),
                escape(&f.message)
            );
        }
        if let Some(m) = m {
            let _ = writeln!(s, "\n**Why**\n\n{}\n", m.why.trim());
            if !m.safe_when.trim().is_empty() {
                let _ = writeln!(s, "**When it is safe**\n\n{}\n", m.safe_when.trim());
            }
            if !m.references.is_empty() {
                let _ = writeln!(s, "**References**\n");
                for r in &m.references {
                    let _ = writeln!(s, "- [{}]({})", escape(&r.title), r.url);
                }
                let _ = writeln!(s);
            }
        }
    }
    let mut follow: Vec<String> = Vec::new();
    for f in report.findings().filter(|f| f.suppression.is_none()) {
        for u in &f.follow_ups {
            let item = format!("- [ ] {} (`{}`): {}", f.rule, f.path, inline(u));
            if !follow.contains(&item) {
                follow.push(item);
            }
        }
    }
    if !follow.is_empty() {
        let _ = writeln!(s, "### Follow-ups outside the repository\n");
        for item in &follow {
            let _ = writeln!(s, "{item}");
        }
        let _ = writeln!(s);
    }
    let addressed: Vec<_> = report
        .findings()
        .filter(|f| f.status == Status::Addressed)
        .collect();
    if !addressed.is_empty() {
        let _ = writeln!(
            s,
            "### Log findings these fixes address\n\n\
             The logs show past failures that the fixed configuration no longer causes.\n"
        );
        for f in addressed {
            let _ = writeln!(
                s,
                "- `{}:{}` **{}** {}",
                f.path,
                f.line,
                f.rule,
                escape(&f.message)
            );
        }
        let _ = writeln!(s);
    }
    let manual: Vec<_> = report
        .findings()
        .filter(|f| {
            f.status != Status::Fixed && f.status != Status::Addressed && f.suppression.is_none()
        })
        .collect();
    if !manual.is_empty() {
        let _ = writeln!(s, "### Findings that need a person\n");
        for f in manual {
            let why = match status_name(&f.status, report.applied) {
                "unsafe" => "fix needs `--unsafe-fixes`",
                "fix-failed" => "the fix failed verification (a bug in pipefix)",
                _ => "no automatic fix",
            };
            let _ = writeln!(
                s,
                "- `{}:{}:{}` **{}** {} ({why})",
                f.path,
                f.line,
                f.col,
                f.rule,
                escape(&f.message)
            );
        }
        let _ = writeln!(s);
    }
    let suppressed: Vec<_> = report
        .findings()
        .filter_map(|f| f.suppression.as_ref().map(|s| (f, s)))
        .collect();
    if !suppressed.is_empty() {
        let _ = writeln!(
            s,
            "### Suppressed in the configuration

             Reported, not fixed: a `[[suppress]]` entry covers them.
"
        );
        for (f, sup) in suppressed {
            let why = sup
                .reason
                .as_deref()
                .map(|r| format!(": {}", escape(r)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "- `{}:{}:{}` **{}** {} (`{}:{}`{why})",
                f.path,
                f.line,
                f.col,
                f.rule,
                escape(&f.message),
                sup.config,
                sup.line
            );
        }
        let _ = writeln!(s);
    }
    let errors: Vec<String> = report
        .all_errors()
        .map(|e| format!("- `{}`: {}", display_path(&e.path), escape(&e.message)))
        .chain(report.bugs().map(|b| format!("- {}", escape(b))))
        .collect();
    if !errors.is_empty() {
        let _ = writeln!(s, "### Errors\n");
        for e in errors {
            let _ = writeln!(s, "{e}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "<sub>Generated by pipefix {}. `pipefix explain ID` prints the documentation of a fix; \
         silence one with `# pipefix: ignore[ID]` in YAML or `pipefix ignore ID --path GLOB`.</sub>",
        env!("CARGO_PKG_VERSION")
    );
    mask.apply(&s)
}

/// Free text in markdown: angle brackets would be read as HTML and vanish.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A follow-up: commands as code, other text escaped.
fn inline(text: &str) -> String {
    let t = text.trim();
    if (t.starts_with("aws ") || t.starts_with("gh ")) && !t.contains('`') {
        format!("`{t}`")
    } else {
        escape(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_codes_commands() {
        assert_eq!(escape("a <b> & c"), "a &lt;b&gt; &amp; c");
        assert_eq!(inline("aws s3 ls <x>"), "`aws s3 ls <x>`");
    }
}
