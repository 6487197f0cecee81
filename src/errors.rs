//! Every error a run reports about its inputs, each with where it is: a file that cannot be
//! read or parsed (`path:line:col`), a configuration value at fault (its line), an edit the
//! document layer refuses. The lowest layer: it depends on nothing else of the crate.

use std::fmt;
use std::path::PathBuf;

/// A file that could not be parsed. `line` and `col` are 1-based; `col` counts characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

/// Why an edit could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditError {
    /// The path does not name a node of the kind the operation needs.
    NoSuchNode(String),
    /// The document's style at that place is one the editor will not guess at (it refuses
    /// rather than corrupting the file).
    Unsupported(String),
    /// The edited text no longer parses.
    Reparse(String),
    /// The edited text parses but does not mean what the edit intended.
    Meaning(String),
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditError::NoSuchNode(m) => write!(f, "no such node: {m}"),
            EditError::Unsupported(m) => write!(f, "unsupported layout: {m}"),
            EditError::Reparse(m) => write!(f, "edited text does not parse: {m}"),
            EditError::Meaning(m) => write!(f, "edited text does not mean what was intended: {m}"),
        }
    }
}

/// A configuration error, with the 1-based line and column it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// A file that could not be read, parsed or written: `path:line:col: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some((l, c)) => write!(f, "{}:{l}:{c}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}
