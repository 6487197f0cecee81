//! Log signatures: recognised failure lines in CodeBuild, CodeDeploy and pipeline execution
//! logs. They are pure data (`patches/LOG*.toml`, table `[signature]`): each becomes a rule
//! that points at the configuration fixes that address the failure. Logs are never rewritten,
//! and a matched line is never quoted (it may hold a secret).

use std::sync::OnceLock;

use regex::Regex;

use crate::model::Kind;

use super::{Context, Finding, Location, meta};

pub struct Signature {
    id: &'static str,
    kinds: Vec<Kind>,
    pattern: &'static str,
    /// Compiled on first use: a run without logs never pays for it.
    regex: OnceLock<Option<Regex>>,
}

/// One rule per catalog entry with a `[signature]` table. A pattern that does not compile is
/// caught by the catalog tests; at run time it matches nothing rather than crashing.
pub fn rules() -> Vec<Box<dyn super::Rule>> {
    meta::all()
        .iter()
        .filter_map(|m| {
            let s = m.signature.as_ref()?;
            Some(Box::new(Signature {
                id: m.id.as_str(),
                kinds: s.kinds.iter().filter_map(|k| Kind::from_name(k)).collect(),
                pattern: s.pattern.as_str(),
                regex: OnceLock::new(),
            }) as Box<dyn super::Rule>)
        })
        .collect()
}

impl super::Rule for Signature {
    fn id(&self) -> &'static str {
        self.id
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(sig) = cx.meta.signature.as_ref() else {
            return;
        };
        if !cx.unit.files.iter().any(|f| self.kinds.contains(&f.kind)) {
            return;
        }
        let Some(regex) = self
            .regex
            .get_or_init(|| Regex::new(self.pattern).ok())
            .as_ref()
        else {
            return;
        };
        for (i, f) in cx.unit.files.iter().enumerate() {
            if !self.kinds.contains(&f.kind) {
                continue;
            }
            let Some(text) = f.log() else { continue };
            let mut lines = text
                .lines()
                .enumerate()
                .filter(|(_, l)| regex.is_match(l))
                .map(|(n, _)| n + 1);
            let Some(first) = lines.next() else { continue };
            let more = lines.count();
            let mut message = sig.message.clone();
            if more > 0 {
                message.push_str(&format!(" (and {more} more line(s))"));
            }
            if !sig.points_to.is_empty() {
                message.push_str(&format!(
                    "; configuration fixes: {}",
                    sig.points_to.join(", ")
                ));
            }
            out.push(Finding::new(self.id, i, Location::Line(first), message));
        }
    }
}
