//! What a run found and did, in a form every output format renders from. Nothing here holds
//! a document: units are reduced to this as soon as they are processed.

pub mod diff;
pub mod mask;
pub mod text;

use crate::catalog::Safety;
use crate::discover::FileError;
use crate::engine::Status;
use crate::model::Kind;

pub use mask::Mask;

#[derive(Clone, Debug, Default)]
pub struct RunReport {
    pub units: Vec<UnitReport>,
    /// Files that could not be read or parsed (no unit).
    pub errors: Vec<FileError>,
    pub warnings: Vec<String>,
    /// Whether fixes were written (`--apply`).
    pub applied: bool,
    /// The signal that stopped the run between files, if one did.
    pub interrupted: Option<i32>,
}

#[derive(Clone, Debug, Default)]
pub struct UnitReport {
    pub files: Vec<FileReport>,
    pub findings: Vec<FindingReport>,
    pub secrets: Vec<String>,
    pub bugs: Vec<String>,
    /// Files of this unit that could not be written.
    pub errors: Vec<FileError>,
}

#[derive(Clone, Debug)]
pub struct FileReport {
    /// Relative to the current directory where possible, `/`-separated.
    pub path: String,
    pub kind: Kind,
    /// The exact unified diff of the fixes (unmasked: mask before printing).
    pub diff: Option<String>,
    /// The original and fixed text, for formats that need them.
    pub original: Option<String>,
    pub fixed: Option<String>,
    pub written: bool,
}

#[derive(Clone, Debug)]
pub struct FindingReport {
    pub rule: &'static str,
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub status: Status,
    pub fix_title: Option<String>,
    pub safety: Option<Safety>,
    pub follow_ups: Vec<String>,
}

impl RunReport {
    pub fn mask(&self) -> Mask {
        Mask::new(self.units.iter().flat_map(|u| u.secrets.iter().cloned()))
    }

    pub fn findings(&self) -> impl Iterator<Item = &FindingReport> {
        self.units.iter().flat_map(|u| u.findings.iter())
    }

    pub fn files(&self) -> impl Iterator<Item = &FileReport> {
        self.units.iter().flat_map(|u| u.files.iter())
    }

    pub fn all_errors(&self) -> impl Iterator<Item = &FileError> {
        self.errors
            .iter()
            .chain(self.units.iter().flat_map(|u| u.errors.iter()))
    }

    pub fn bugs(&self) -> impl Iterator<Item = &String> {
        self.units.iter().flat_map(|u| u.bugs.iter())
    }

    /// 0: nothing found; 1: changes pending or findings remain (dry run), or findings that need
    /// a person remain (apply); 2: a file could not be read, parsed or written, or a fix failed;
    /// 128 + N: stopped between files by signal N (130 for SIGINT, 143 for SIGTERM).
    pub fn exit_code(&self) -> i32 {
        if let Some(sig) = self.interrupted {
            return crate::interrupt::exit_status(sig);
        }
        if self.all_errors().next().is_some() || self.bugs().next().is_some() {
            return 2;
        }
        let pending = self.findings().any(|f| {
            if self.applied {
                f.status != Status::Fixed
            } else {
                true
            }
        });
        if pending { 1 } else { 0 }
    }
}
