//! Format-preserving documents.
//!
//! A [`Document`] keeps the original text of a JSON or YAML file together with a tree of
//! [`Node`]s that know the exact byte span of every key, value and item, and the plain meaning of
//! the file as a [`serde_json::Value`]. Edits are expressed as [`Op`]s addressed by [`Path`]; the
//! format module lowers them to byte splices in the file's own style. [`Document::apply`] then
//! parses the new text again and refuses the edit unless the new meaning is exactly the old
//! meaning with the edit applied — so an edit is never written half-right.
//!
//! This layer knows nothing about AWS.

pub mod json;
pub mod lines;
pub mod path;
pub mod style;
pub mod together;
pub mod value;
pub mod yaml;

use std::fmt;

pub use lines::LineIndex;
pub use path::{Path, Seg, Selector};
pub use style::Style;

pub use crate::errors::{EditError, ParseError};
use serde_json::Value;

/// A byte range in the document's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Yaml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        })
    }
}

/// How a scalar is written in the source. JSON strings are `DoubleQuoted`; JSON numbers,
/// booleans and null are `Plain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// YAML `|` block scalar.
    Literal,
    /// YAML `>` block scalar.
    Folded,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Mapping {
        entries: Vec<Entry>,
        flow: bool,
    },
    Sequence {
        items: Vec<Node>,
        flow: bool,
    },
    Scalar {
        style: ScalarStyle,
    },
    /// A YAML alias (`*name`). Its meaning is the anchored node's; it cannot be edited in place.
    Alias,
}

#[derive(Clone, Debug)]
pub struct Node {
    /// The value itself: for a scalar, from its first to its last character (quotes and block
    /// indicator included); for a collection, from its first to its last character (for block
    /// YAML collections: from the first key or `-` to the end of the last value, trailing
    /// comment and newline excluded).
    pub span: Span,
    pub kind: NodeKind,
}

#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,
    /// The key as written, quotes included.
    pub key_span: Span,
    pub value: Node,
}

/// Whether a mapping being parsed, with `entries` and their meaning `map` (the same keys),
/// already has `key`: the parsers refuse a duplicate. A few keys are compared faster than
/// one is hashed (a map's hasher is SipHash), as [`value::field`] finds them.
#[inline]
pub(crate) fn has_key(entries: &[Entry], map: &serde_json::Map<String, Value>, key: &str) -> bool {
    if entries.len() <= value::SMALL_OBJECT {
        entries.iter().any(|e| e.key == key)
    } else {
        map.contains_key(key)
    }
}

impl Node {
    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            NodeKind::Mapping { entries, .. } => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Sequence { items, .. } => items,
            _ => &[],
        }
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    /// The node at `path` below this one.
    pub fn at(&self, path: &[Seg]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = match seg {
                Seg::Key(k) => &node.entry(k)?.value,
                Seg::Index(i) => node.items().get(*i)?,
            };
        }
        Some(node)
    }
}

/// Bounds that keep hostile input from exhausting the stack, memory or time.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of collections accepted.
    pub max_depth: usize,
    /// Most nodes the meaning of a YAML file may expand to through aliases.
    pub max_expanded_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 256,
            max_expanded_nodes: 1_000_000,
        }
    }
}

/// Where an edit is placed among a mapping's existing keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// After the last key.
    End,
    /// Before the first key.
    Start,
    /// Just before the named key (at the end when it is absent).
    Before(String),
    /// Just after the named key (at the end when it is absent).
    After(String),
}

/// One format-independent edit, addressed by path.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Replace the node at `path` (a scalar, or a whole subtree) with `value`. A replaced
    /// scalar keeps its quoting style where the new value allows it.
    Replace { path: Path, value: Value },
    /// Insert `key: value` into the mapping at `path`. The key must not exist yet.
    InsertKey {
        path: Path,
        key: String,
        value: Value,
        position: Position,
    },
    /// Insert `value` into the sequence at `path` so that it ends up at `index`
    /// (`index == len` appends).
    InsertItem {
        path: Path,
        index: usize,
        value: Value,
    },
    /// Remove the mapping entry or sequence item at `path`.
    Remove { path: Path },
    /// Rename the mapping entry at `path` (its last segment is the old key).
    RenameKey { path: Path, new_key: String },
    /// Replace every occurrence of `find` with `replace` inside the string scalar at `path`,
    /// keeping the scalar's style (used to rewrite a shell command inside a buildspec).
    ReplaceInScalar {
        path: Path,
        find: String,
        replace: String,
    },
    /// Put `# text` at the end of the line where the scalar at `path` ends (YAML). Nothing
    /// happens when that line already has a comment or more content (a flow collection), when
    /// the scalar is a block scalar, or in JSON, which has no comments. The meaning never
    /// changes.
    Comment { path: Path, text: String },
}

impl Op {
    pub fn path(&self) -> &Path {
        match self {
            Op::Replace { path, .. }
            | Op::InsertKey { path, .. }
            | Op::InsertItem { path, .. }
            | Op::Remove { path }
            | Op::RenameKey { path, .. }
            | Op::ReplaceInScalar { path, .. }
            | Op::Comment { path, .. } => path,
        }
    }

    pub fn path_mut(&mut self) -> &mut Path {
        match self {
            Op::Replace { path, .. }
            | Op::InsertKey { path, .. }
            | Op::InsertItem { path, .. }
            | Op::Remove { path }
            | Op::RenameKey { path, .. }
            | Op::ReplaceInScalar { path, .. }
            | Op::Comment { path, .. } => path,
        }
    }
}

/// A replacement of the bytes `span` of the text by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Splice {
    pub span: Span,
    pub text: String,
}

/// Apply non-overlapping splices to `text`.
pub fn apply_splices(text: &str, splices: &[Splice]) -> Result<String, EditError> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.span.start, s.span.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for s in sorted {
        if s.span.start < at
            || s.span.end > text.len()
            || s.span.start > s.span.end
            || !text.is_char_boundary(s.span.start)
            || !text.is_char_boundary(s.span.end)
        {
            return Err(EditError::Unsupported(format!(
                "splice {}..{} overlaps or is out of bounds",
                s.span.start, s.span.end
            )));
        }
        out.push_str(&text[at..s.span.start]);
        out.push_str(&s.text);
        at = s.span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// A parsed JSON or YAML file.
#[derive(Clone, Debug)]
pub struct Document {
    text: String,
    format: Format,
    root: Node,
    value: Value,
    /// Learned from the text on first use: only documents that get edited need it.
    style: std::sync::OnceLock<Style>,
    /// Made on first use: most documents parsed after an edit never convert an offset.
    lines: std::sync::OnceLock<LineIndex>,
}

impl Document {
    /// Parse `text` (without a byte-order mark) as `format`.
    pub fn parse(text: &str, format: Format, limits: &Limits) -> Result<Document, ParseError> {
        // The YAML parser makes the line index anyway; a JSON document makes it on first use.
        let (root, value, lines) = match format {
            Format::Json => {
                let (root, value) = json::parse(text, limits)?;
                (root, value, std::sync::OnceLock::new())
            }
            Format::Yaml => {
                let (root, value, index) = yaml::parse_indexed(text, limits)?;
                (root, value, std::sync::OnceLock::from(index))
            }
        };
        Ok(Document {
            style: std::sync::OnceLock::new(),
            lines,
            text: text.to_string(),
            format,
            root,
            value,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The file's meaning (for multi-document YAML: the first document; aliases expanded).
    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn style(&self) -> &Style {
        self.style
            .get_or_init(|| Style::detect(&self.text, self.format))
    }

    pub fn node(&self, path: &Path) -> Option<&Node> {
        self.root.at(path.segs())
    }

    /// The meaning of the node at `path`.
    pub fn value_at(&self, path: &Path) -> Option<&Value> {
        path.lookup(&self.value)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        self.lines
            .get_or_init(|| LineIndex::new(&self.text))
            .line_col(&self.text, byte)
    }

    /// Where a path points, as 1-based line and column: the key of a mapping entry when the
    /// path ends in a key, otherwise the node itself; the deepest existing ancestor when the
    /// path does not exist (yet).
    pub fn locate(&self, path: &Path) -> (usize, usize) {
        self.line_col(self.locate_offset(path))
    }

    /// The byte offset [`Document::locate`] reports as line and column.
    pub fn locate_offset(&self, path: &Path) -> usize {
        let segs = path.segs();
        let mut node = &self.root;
        let mut at = node.span.start;
        for seg in segs {
            match seg {
                Seg::Key(k) => match node.entry(k) {
                    Some(e) => {
                        at = e.key_span.start;
                        node = &e.value;
                    }
                    None => break,
                },
                Seg::Index(i) => match node.items().get(*i) {
                    Some(n) => {
                        at = n.span.start;
                        node = n;
                    }
                    None => break,
                },
            }
        }
        at
    }

    /// Lower `op` to new text, without checking it.
    pub fn edit_text(&self, op: &Op) -> Result<String, EditError> {
        apply_splices(&self.text, &self.splices(op)?)
    }

    /// `op` as byte splices of this document's text, in its style.
    pub fn splices(&self, op: &Op) -> Result<Vec<Splice>, EditError> {
        match self.format {
            Format::Json => json::lower(self, op),
            Format::Yaml => yaml::lower(self, op),
        }
    }

    /// Apply `op`: lower it, parse the new text again and check that it means exactly the old
    /// meaning with the edit applied.
    pub fn apply(&self, op: &Op, limits: &Limits) -> Result<Document, EditError> {
        let mut expected = self.value.clone();
        value::apply(&mut expected, op)?;
        let text = self.edit_text(op)?;
        let doc = Document::parse(&text, self.format, limits)
            .map_err(|e| EditError::Reparse(e.to_string()))?;
        if !value::same(&doc.value, &expected) {
            return Err(EditError::Meaning(format!(
                "{} at {}",
                op_name(op),
                op.path()
            )));
        }
        Ok(doc)
    }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Replace { .. } => "replace",
        Op::InsertKey { .. } => "insert key",
        Op::InsertItem { .. } => "insert item",
        Op::Remove { .. } => "remove",
        Op::RenameKey { .. } => "rename key",
        Op::ReplaceInScalar { .. } => "rewrite scalar",
        Op::Comment { .. } => "comment",
    }
}
