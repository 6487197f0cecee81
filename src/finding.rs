//! What a fix reports: a [`Finding`] about a place in a file, which may carry a [`Fix`] (edits
//! addressed by path, never byte offsets, with the safety of its catalog entry). Below the
//! front ends, which translate findings back into the documents they read, and the catalog,
//! whose fixes make them.

use crate::document::{Op, Path};
use crate::meta::{self, Safety};

/// Where in its file a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A node of a JSON/YAML document (or where it would be).
    Node(Path),
    /// A 1-based line of a log.
    Line(usize),
}

#[derive(Clone, Debug)]
pub struct Fix {
    pub title: String,
    pub safety: Safety,
    /// Edits of the finding's file, applied in order.
    pub ops: Vec<Op>,
}

#[derive(Clone, Debug)]
pub struct Finding {
    pub rule: &'static str,
    /// Index of the file in the unit.
    pub file: usize,
    pub location: Location,
    pub message: String,
    pub fix: Option<Fix>,
    /// What a person must still do outside the repository.
    pub follow_ups: Vec<String>,
    /// Values that must never be printed (masked as `****` except in `--format patch`).
    pub secrets: Vec<String>,
}

impl Finding {
    pub fn new(rule: &'static str, file: usize, location: Location, message: String) -> Finding {
        Finding {
            rule,
            file,
            location,
            message,
            fix: None,
            follow_ups: Vec::new(),
            secrets: Vec::new(),
        }
    }

    pub fn at(rule: &'static str, file: usize, path: Path, message: impl Into<String>) -> Finding {
        Finding::new(rule, file, Location::Node(path), message.into())
    }

    /// Attach a fix with the safety its catalog file declares (`safety` in
    /// `patches/<ID>-<name>.toml`); [`Finding::lower_safety`] lowers it for one case.
    pub fn with_fix(mut self, title: impl Into<String>, ops: Vec<Op>) -> Finding {
        let safety = meta::get(self.rule).map_or(Safety::Manual, |m| m.safety);
        self.fix = Some(Fix {
            title: title.into(),
            safety,
            ops,
        });
        self
    }

    /// Lower the safety of this finding's fix to at most `to`, for a case the catalog's
    /// safety does not cover (say why where it is called). Never raises it.
    pub fn lower_safety(mut self, to: Safety) -> Finding {
        if let Some(fix) = &mut self.fix {
            fix.safety = fix.safety.min(to);
        }
        self
    }

    pub fn follow_up(mut self, text: impl Into<String>) -> Finding {
        self.follow_ups.push(text.into());
        self
    }

    pub fn secret(mut self, value: impl Into<String>) -> Finding {
        let v = value.into();
        if !v.is_empty() {
            self.secrets.push(v);
        }
        self
    }

    /// Identity of a finding across passes of the engine.
    pub fn key(&self) -> (&'static str, usize, Location) {
        (self.rule, self.file, self.location.clone())
    }
}
