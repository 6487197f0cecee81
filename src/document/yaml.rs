//! YAML documents: span-aware parsing and lowering of edits to byte splices.
//!
//! Structure and meaning come from yaml-rust2's event stream. Its markers count characters
//! (not bytes), give only start positions and skip comments, so byte spans are computed here:
//! marker line/column → byte through a line table, then a small scanner finds where each
//! scalar ends. Every computed offset is checked against the text (the expected quote, key
//! text, bracket…) and a mismatch is a [`ParseError`], never a guess.
//!
//! Meaning follows the YAML 1.2 core schema. CloudFormation's short-form tags (`!Ref`,
//! `!Sub`, `!If`, …) mean their long form (`{"Ref": …}`, `{"Fn::Sub": …}`), as in a JSON
//! template; `!!str` makes a plain scalar a string; other tags are accepted and ignored. A merge key `<<` is kept as
//! an ordinary key (its value is the aliased mapping); merging is not performed, so the
//! meaning is exactly what the file spells out. Non-finite floats (`.inf`, `.nan`) have no
//! JSON form and are kept as strings. Multi-document streams are parsed in full (an error in
//! any document fails the parse); the root and meaning are the first document's.
//!
//! Not supported (a [`ParseError`] says so): mapping keys that are not scalars, empty keys
//! (`: x`, `! : x`; their position cannot be pinned), explicit single-pair mappings inside
//! flow sequences (`[a: 1]`), and bare `\r` line breaks.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::{
    Document, EditError, Entry, Limits, LineIndex, Node, NodeKind, Op, ParseError, Path, Position,
    ScalarStyle, Seg, Span, Splice,
};

// ---------------------------------------------------------------------------------------
// Text helpers shared by parsing and lowering.

/// The line index of a text plus a cheap character-column → byte conversion (yaml-rust2's
/// markers count characters).
pub(super) struct Lines<'a> {
    text: &'a str,
    index: LineIndex,
    ascii: Vec<bool>,
    /// Last conversion (line, col, byte): events mostly move forward, so continuing from the
    /// previous position keeps long non-ASCII lines from costing quadratic time.
    cache: (usize, usize, usize),
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a str) -> Lines<'a> {
        let index = LineIndex::new(text);
        let ascii = (0..index.starts().len())
            .map(|i| {
                index
                    .line_span(text, i)
                    .is_some_and(|(start, end)| text[start..end].is_ascii())
            })
            .collect();
        Lines {
            text,
            index,
            ascii,
            cache: (usize::MAX, 0, 0),
        }
    }

    /// Byte offset of a 1-based line and 0-based character column.
    pub(super) fn byte_of(&mut self, line: usize, col: usize) -> Option<usize> {
        let li = line.checked_sub(1)?;
        let (start, end) = self.index.line_span(self.text, li)?;
        if self.ascii[li] {
            let b = start + col;
            return (b <= end).then_some(b);
        }
        let (mut c, mut b) = (0, start);
        if self.cache.0 == li && self.cache.1 <= col {
            c = self.cache.1;
            b = self.cache.2;
        }
        let mut chars = self.text[b..end].chars();
        while c < col {
            b += chars.next()?.len_utf8();
            c += 1;
        }
        self.cache = (li, col, b);
        Some(b)
    }

    /// 1-based line and column (characters) of a byte offset.
    pub(super) fn line_col(&self, byte: usize) -> (usize, usize) {
        self.index.line_col(self.text, byte)
    }
}

fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// End of the line holding `pos`, before its `\n` or `\r\n`.
fn line_end(text: &str, pos: usize) -> usize {
    let e = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    if e > pos && text.as_bytes()[e - 1] == b'\r' && e < text.len() {
        e - 1
    } else {
        e
    }
}

/// Start of the line after the one holding `pos` (`text.len()` on the last line).
fn next_line_start(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

/// Column (in characters) of `pos` in its line.
fn col_of(text: &str, pos: usize) -> usize {
    text[line_start(text, pos)..pos].chars().count()
}

/// Leading spaces of the line that starts at `ls`.
fn indent_at(text: &str, ls: usize) -> usize {
    text[ls..].bytes().take_while(|&b| b == b' ').count()
}

/// Whether only spaces precede `pos` on its line.
fn first_on_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos].bytes().all(|b| b == b' ')
}

fn is_blank_line(line: &str) -> bool {
    line.trim_matches([' ', '\t', '\r']).is_empty()
}

// ---------------------------------------------------------------------------------------
// Parsing.

fn err_at(lines: &Lines, byte: usize, message: impl Into<String>) -> ParseError {
    let (line, col) = lines.line_col(byte);
    ParseError {
        line,
        col,
        message: message.into(),
    }
}

fn scan_err(e: &ScanError) -> ParseError {
    let m = e.marker();
    // yaml-rust2 stops deep flow nesting itself; say so in the same words as our own limit.
    let message = match e.info() {
        "recursion limit exceeded" => "nesting too deep (recursion limit exceeded)".to_string(),
        info => info.to_string(),
    };
    ParseError {
        line: m.line().max(1),
        col: m.col() + 1,
        message,
    }
}

fn marker_err(m: &Marker, message: impl Into<String>) -> ParseError {
    ParseError {
        line: m.line().max(1),
        col: m.col() + 1,
        message: message.into(),
    }
}

enum FrameKind {
    Map {
        entries: Vec<Entry>,
        map: Map<String, Value>,
        key: Option<(String, Span)>,
    },
    Seq {
        items: Vec<Node>,
        seq: Vec<Value>,
    },
}

struct Frame {
    kind: FrameKind,
    /// Byte of the start marker (`{`, `[` or `-`; for block mappings yaml-rust2 points
    /// somewhere inside the first key, so their start is taken from that key).
    open: usize,
    flow: bool,
    /// Column of the collection's keys or dashes (block collections).
    indent: Option<usize>,
    anchor: usize,
    count: usize,
    /// A CloudFormation short-form tag on the collection (`!If [...]`): its long-form key
    /// and where the tag is written.
    intrinsic: Option<Intrinsic>,
}

/// A short-form tag seen on a node, placed when the node is complete.
struct Intrinsic {
    key: String,
    written: String,
    /// The tag is between here and the node.
    after: usize,
}

struct Builder<'a> {
    text: &'a str,
    lines: Lines<'a>,
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Value, usize)>,
    expanded: usize,
    /// End of the last token consumed; empty scalars and block scalar headers are found by
    /// scanning forward from here.
    cursor: usize,
    docs: usize,
    root: Option<(Node, Value)>,
}

/// YAML 1.2 c-printable (the byte-order mark included).
fn is_yaml_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

pub fn parse(text: &str, limits: &Limits) -> Result<(Node, Value), ParseError> {
    let mut b = Builder {
        text,
        lines: Lines::new(text),
        limits: *limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
        cursor: 0,
        docs: 0,
        root: None,
    };
    if let Some(i) = text
        .bytes()
        .enumerate()
        .position(|(i, c)| c == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'))
    {
        return Err(err_at(
            &b.lines,
            i,
            "a carriage return without a line feed is not supported as a line break",
        ));
    }
    // YAML allows only printable characters (YAML 1.2, production c-printable). yaml-rust2
    // lets control characters through and then reports positions that do not match the
    // text, which would misplace edits: refuse them here, where the position is exact.
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| !is_yaml_printable(c)) {
        return Err(err_at(
            &b.lines,
            i,
            format!(
                "character U+{:04X} is not allowed in YAML (a control character)",
                c as u32
            ),
        ));
    }
    let mut parser = Parser::new_from_str(text);
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| scan_err(&e))?;
        match ev {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => {}
            Event::DocumentStart => {
                b.docs += 1;
                b.anchors.clear();
            }
            Event::Scalar(v, style, anchor, tag) => b.scalar(v, style, anchor, tag, &mark)?,
            Event::Alias(id) => b.alias(id, &mark)?,
            Event::SequenceStart(anchor, tag) => b.open(false, anchor, tag, &mark)?,
            Event::MappingStart(anchor, tag) => b.open(true, anchor, tag, &mark)?,
            Event::SequenceEnd | Event::MappingEnd => b.close(&mark)?,
        }
    }
    Ok(b.root.unwrap_or_else(|| {
        (
            Node {
                span: Span::new(0, 0),
                kind: NodeKind::Scalar {
                    style: ScalarStyle::Plain,
                },
            },
            Value::Null,
        )
    }))
}

impl<'a> Builder<'a> {
    fn pos(&mut self, m: &Marker) -> Result<usize, ParseError> {
        let b = self
            .lines
            .byte_of(m.line(), m.col())
            .ok_or_else(|| marker_err(m, "parser position outside the text"))?;
        if !self.text.is_char_boundary(b) {
            return Err(marker_err(
                m,
                "parser position is not on a character boundary",
            ));
        }
        Ok(b)
    }

    /// The long-form key of a CloudFormation short-form tag (`!Ref` → `Ref`, `!Sub` →
    /// `Fn::Sub`), the tag as written and where to look for it (after the previous token).
    fn intrinsic(&self, tag: Option<&Tag>) -> Option<Intrinsic> {
        let tag = tag?;
        Some(Intrinsic {
            key: intrinsic_key(tag)?,
            written: format!("!{}", tag.suffix),
            after: self.cursor,
        })
    }

    /// Whether the next node is a mapping key.
    fn expecting_key(&self) -> bool {
        self.stack
            .last()
            .is_some_and(|f| matches!(f.kind, FrameKind::Map { key: None, .. }))
    }

    fn in_flow(&self) -> bool {
        self.stack.last().is_some_and(|f| f.flow)
    }

    /// Column of the innermost block collection (a block scalar's content must be indented
    /// deeper than this); `None` at the top level.
    fn block_indent(&self) -> Option<usize> {
        self.stack.iter().rev().find_map(|f| f.indent)
    }

    fn count(&mut self, n: usize, at: usize) -> Result<(), ParseError> {
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded > self.limits.max_expanded_nodes {
            return Err(err_at(
                &self.lines,
                at,
                format!(
                    "the document expands to more than {} nodes (alias bomb?)",
                    self.limits.max_expanded_nodes
                ),
            ));
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        v: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<Tag>,
        m: &Marker,
    ) -> Result<(), ParseError> {
        let intrinsic = if self.expecting_key() {
            None
        } else {
            self.intrinsic(tag.as_ref())
        };
        let text = self.text;
        let (span, sstyle) = match style {
            TScalarStyle::Plain if v.is_empty() => {
                if self.expecting_key() {
                    // yaml-rust2 gives no usable position for an empty key (with or without a
                    // tag or anchor), and scanning for it is ambiguous: refuse it where it is.
                    return Err(err_at(
                        &self.lines,
                        empty_key_pos(text, self.cursor, self.in_flow()),
                        "empty mapping keys are not supported (their position cannot be pinned)",
                    ));
                }
                let p = empty_value_pos(text, self.cursor);
                (Span::new(p, p), ScalarStyle::Plain)
            }
            TScalarStyle::Plain => {
                let start = self.pos(m)?;
                if !v
                    .chars()
                    .next()
                    .is_some_and(|c| text[start..].starts_with(c))
                {
                    return Err(err_at(
                        &self.lines,
                        start,
                        "could not locate a plain scalar",
                    ));
                }
                let end = plain_end(text, start, self.in_flow(), &v).ok_or_else(|| {
                    err_at(
                        &self.lines,
                        start,
                        "could not find where a plain scalar ends",
                    )
                })?;
                (Span::new(start, end), ScalarStyle::Plain)
            }
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                let start = self.pos(m)?;
                let q = if matches!(style, TScalarStyle::SingleQuoted) {
                    b'\''
                } else {
                    b'"'
                };
                if text.as_bytes().get(start) != Some(&q) {
                    return Err(err_at(
                        &self.lines,
                        start,
                        "could not locate a quoted scalar",
                    ));
                }
                let end = quoted_end(text, start)
                    .ok_or_else(|| err_at(&self.lines, start, "unterminated quoted scalar"))?;
                let st = if q == b'\'' {
                    ScalarStyle::SingleQuoted
                } else {
                    ScalarStyle::DoubleQuoted
                };
                (Span::new(start, end), st)
            }
            TScalarStyle::Literal | TScalarStyle::Folded => {
                let start = block_indicator_pos(text, self.cursor).ok_or_else(|| {
                    err_at(
                        &self.lines,
                        self.cursor,
                        "could not locate a block scalar header",
                    )
                })?;
                let end = block_scalar_end(text, start, self.block_indent());
                let literal = matches!(style, TScalarStyle::Literal);
                if !block_content_matches(text, start, end, &v, literal) {
                    return Err(err_at(
                        &self.lines,
                        start,
                        "could not find where a block scalar ends",
                    ));
                }
                let st = if literal {
                    ScalarStyle::Literal
                } else {
                    ScalarStyle::Folded
                };
                (Span::new(start, end), st)
            }
        };
        if span.start < self.cursor {
            return Err(err_at(
                &self.lines,
                span.start,
                "parser positions are out of order",
            ));
        }
        let value = if style == TScalarStyle::Plain && !is_str_tag(tag.as_ref()) {
            resolve_plain(&v)
        } else {
            Value::String(v.clone())
        };
        let node = Node {
            span,
            kind: NodeKind::Scalar { style: sstyle },
        };
        let (node, value) = wrap_intrinsic(text, intrinsic, node, value);
        self.finish(node, value, 1, anchor, Some(v))
    }

    fn alias(&mut self, id: usize, m: &Marker) -> Result<(), ParseError> {
        let start = self.pos(m)?;
        if self.text.as_bytes().get(start) != Some(&b'*') {
            return Err(err_at(&self.lines, start, "could not locate an alias"));
        }
        let end = start
            + 1
            + self.text[start + 1..]
                .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
                .unwrap_or(self.text.len() - start - 1);
        let (value, n) = match self.anchors.get(&id) {
            Some((_, n)) => {
                let n = *n;
                self.count(n, start)?;
                (self.anchors[&id].0.clone(), n)
            }
            None => {
                return Err(err_at(
                    &self.lines,
                    start,
                    "alias to an unknown or unfinished anchor",
                ));
            }
        };
        let node = Node {
            span: Span::new(start, end),
            kind: NodeKind::Alias,
        };
        // The alias's expansion is already counted above.
        self.finish(node, value, n, 0, None)
    }

    fn open(
        &mut self,
        mapping: bool,
        anchor: usize,
        tag: Option<Tag>,
        m: &Marker,
    ) -> Result<(), ParseError> {
        let intrinsic = self.intrinsic(tag.as_ref());
        let at = self.pos(m)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(err_at(
                &self.lines,
                at,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        let mut at = at;
        let mut c = self.text.as_bytes().get(at).copied();
        if !mapping && !matches!(c, Some(b'[' | b'-')) {
            // An indentless sequence (`key:\n- x`): yaml-rust2 points at the first item, so
            // find its dash after the key's `:`.
            let b = self.text.as_bytes();
            let mut q = skip_trivia(self.text, self.cursor);
            if b.get(q) == Some(&b':') {
                q = skip_trivia(self.text, q + 1);
            }
            if b.get(q) == Some(&b'-') && q <= at {
                at = q;
                c = Some(b'-');
            }
        }
        let (flow, indent) = if mapping {
            // Block or flow is decided when the first key (or the end) arrives.
            (c == Some(b'{'), None)
        } else {
            match c {
                Some(b'[') => (true, None),
                Some(b'-') => (false, Some(col_of(self.text, at))),
                _ => return Err(err_at(&self.lines, at, "could not locate a sequence")),
            }
        };
        // Block mappings get their start from the first key, so only these move the cursor.
        if flow || !mapping {
            if at < self.cursor {
                return Err(err_at(&self.lines, at, "parser positions are out of order"));
            }
            self.cursor = if flow { at + 1 } else { at };
        }
        let kind = if mapping {
            FrameKind::Map {
                entries: Vec::new(),
                map: Map::new(),
                key: None,
            }
        } else {
            FrameKind::Seq {
                items: Vec::new(),
                seq: Vec::new(),
            }
        };
        self.stack.push(Frame {
            kind,
            open: at,
            flow,
            indent,
            anchor,
            count: 1,
            intrinsic,
        });
        Ok(())
    }

    fn close(&mut self, m: &Marker) -> Result<(), ParseError> {
        let Some(f) = self.stack.pop() else {
            return Err(marker_err(m, "unbalanced collection end"));
        };
        let text = self.text;
        let (kind, value, last_end, first_start) = match f.kind {
            FrameKind::Map { entries, map, .. } => {
                let last = entries.last().map(|e| e.value.span.end);
                let first = entries.first().map(|e| e.key_span.start);
                (
                    NodeKind::Mapping {
                        entries,
                        flow: f.flow,
                    },
                    Value::Object(map),
                    last,
                    first,
                )
            }
            FrameKind::Seq { items, seq } => {
                let last = items.last().map(|n| n.span.end);
                (
                    NodeKind::Sequence {
                        items,
                        flow: f.flow,
                    },
                    Value::Array(seq),
                    last,
                    Some(f.open),
                )
            }
        };
        let span = if f.flow {
            let at = self.pos(m)?;
            let want = if matches!(kind, NodeKind::Mapping { .. }) {
                b'}'
            } else {
                b']'
            };
            if text.as_bytes().get(at) != Some(&want) || at < self.cursor {
                return Err(err_at(
                    &self.lines,
                    at,
                    "could not locate the end of a flow collection",
                ));
            }
            Span::new(f.open, at + 1)
        } else {
            match (first_start, last_end) {
                (Some(s), Some(e)) if s <= e => Span::new(s, e),
                _ => return Err(marker_err(m, "could not locate a block collection")),
            }
        };
        let (node, value) = wrap_intrinsic(text, f.intrinsic, Node { span, kind }, value);
        self.finish(node, value, f.count, f.anchor, None)
    }

    /// A node is complete: record its anchor and attach it to its parent.
    fn finish(
        &mut self,
        node: Node,
        value: Value,
        count: usize,
        anchor: usize,
        scalar_text: Option<String>,
    ) -> Result<(), ParseError> {
        let is_alias = matches!(node.kind, NodeKind::Alias);
        if !is_alias {
            self.count(1, node.span.start)?;
        }
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), count));
        }
        self.cursor = self.cursor.max(node.span.end);
        let lines = &self.lines;
        let Some(top) = self.stack.last_mut() else {
            if self.docs <= 1 && self.root.is_none() {
                self.root = Some((node, value));
            }
            return Ok(());
        };
        top.count = top.count.saturating_add(count);
        match &mut top.kind {
            FrameKind::Seq { items, seq } => {
                items.push(node);
                seq.push(value);
            }
            FrameKind::Map { entries, map, key } => match key.take() {
                None => {
                    let Some(k) = scalar_text.filter(|_| !is_alias) else {
                        return Err(err_at(
                            lines,
                            node.span.start,
                            "mapping keys must be scalars (complex and alias keys are not supported)",
                        ));
                    };
                    if entries.is_empty() {
                        if node.span.start < top.open {
                            // yaml-rust2 puts a block mapping's start inside its first key.
                            top.flow = false;
                        } else if !top.flow {
                            return Err(err_at(
                                lines,
                                node.span.start,
                                "could not locate a mapping",
                            ));
                        } else if self.text.as_bytes().get(top.open) != Some(&b'{') {
                            return Err(err_at(
                                lines,
                                node.span.start,
                                "single-pair mappings inside flow sequences are not supported",
                            ));
                        }
                        if !top.flow {
                            top.indent = Some(col_of(self.text, node.span.start));
                        }
                    }
                    if map.contains_key(&k) {
                        let (l, c) = lines.line_col(node.span.start);
                        let first = entries
                            .iter()
                            .find(|e| e.key == k)
                            .map(|e| lines.line_col(e.key_span.start))
                            .unwrap_or((l, c));
                        return Err(ParseError {
                            line: l,
                            col: c,
                            message: format!(
                                "duplicate key {k:?} at {l}:{c} (first defined at {}:{})",
                                first.0, first.1
                            ),
                        });
                    }
                    *key = Some((k, node.span));
                }
                Some((k, key_span)) => {
                    map.insert(k.clone(), value);
                    entries.push(Entry {
                        key: k,
                        key_span,
                        value: node,
                    });
                }
            },
        }
        Ok(())
    }
}

/// CloudFormation's intrinsic functions, whose short form is a YAML tag.
const INTRINSICS: [&str; 19] = [
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
];

/// The long-form key of a short-form tag: `!Ref` and `!Condition` keep their name, the
/// functions are `Fn::<name>`. Other tags mean nothing here.
fn intrinsic_key(tag: &Tag) -> Option<String> {
    if tag.handle != "!" {
        return None;
    }
    match tag.suffix.as_str() {
        "Ref" | "Condition" => Some(tag.suffix.clone()),
        s if INTRINSICS.contains(&s) => Some(format!("Fn::{s}")),
        _ => None,
    }
}

/// A node under a short-form tag means what its long form means (`!Ref X` is
/// `{"Ref": "X"}`, as in a JSON template), so a value computed by CloudFormation is never
/// read as a literal. In the tree it is a one-entry mapping whose key is the tag, so paths
/// through `Fn::If` reach the literal branches.
fn wrap_intrinsic(
    text: &str,
    intrinsic: Option<Intrinsic>,
    node: Node,
    value: Value,
) -> (Node, Value) {
    let Some(Intrinsic {
        key,
        written,
        after,
    }) = intrinsic
    else {
        return (node, value);
    };
    let start = node.span.start;
    let tag = text
        .get(after.min(start)..start)
        .and_then(|between| between.rfind(&written))
        .map_or(Span::new(start, start), |i| {
            let at = after.min(start) + i;
            Span::new(at, at + written.len())
        });
    let span = Span::new(tag.start, node.span.end);
    let mut map = Map::new();
    map.insert(key.clone(), value);
    let node = Node {
        span,
        kind: NodeKind::Mapping {
            entries: vec![Entry {
                key,
                key_span: tag,
                value: node,
            }],
            flow: true,
        },
    };
    (node, Value::Object(map))
}

fn is_str_tag(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| {
        t.suffix == "str" && (t.handle == "!!" || t.handle.ends_with("yaml.org,2002:"))
    })
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = resolve_int(s) {
        return Value::Number(n);
    }
    if is_core_float(s)
        && let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    Value::String(s.to_string())
}

fn resolve_int(s: &str) -> Option<Number> {
    let digits = |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c.is_digit(radix));
    if let Some(h) = s.strip_prefix("0x") {
        return digits(h, 16).then(|| u64::from_str_radix(h, 16).ok().map(Number::from))?;
    }
    if let Some(o) = s.strip_prefix("0o") {
        return digits(o, 8).then(|| u64::from_str_radix(o, 8).ok().map(Number::from))?;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits(body, 10) {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::from(i));
    }
    if let Ok(u) = body.parse::<u64>()
        && !s.starts_with('-')
    {
        return Some(Number::from(u));
    }
    // Too large for an integer: the core schema still calls it a number.
    s.parse::<f64>().ok().and_then(Number::from_f64)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(s: &str) -> bool {
    let b = s.strip_prefix(['-', '+']).unwrap_or(s).as_bytes();
    let mut i = 0;
    let int = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int;
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac;
    }
    if int == 0 && frac == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let e = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if e == 0 {
            return false;
        }
        i += e;
    }
    i == b.len()
}

/// Skip spaces, line breaks and comments.
fn skip_trivia(text: &str, mut p: usize) -> usize {
    let b = text.as_bytes();
    while p < b.len() {
        match b[p] {
            b' ' | b'\t' | b'\r' | b'\n' => p += 1,
            b'#' => p = line_end(text, p),
            _ => break,
        }
    }
    p
}

/// Skip an anchor or tag property (`&name`, `!Tag`) and the spaces after it.
fn skip_props(text: &str, mut p: usize) -> usize {
    let b = text.as_bytes();
    while matches!(b.get(p), Some(b'&' | b'!')) {
        while p < b.len() && !b[p].is_ascii_whitespace() {
            p += 1;
        }
        while matches!(b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
    }
    p
}

/// Skip one `:`, `-` or `?` indicator if it is at `p`.
fn skip_indicator(text: &str, p: usize) -> usize {
    let b = text.as_bytes();
    if matches!(b.get(p), Some(b':' | b'-' | b'?'))
        && b.get(p + 1)
            .is_none_or(|c| c.is_ascii_whitespace() || b[p] == b':')
    {
        p + 1
    } else {
        p
    }
}

/// Where an empty value sits: right after the `:` or `-` that introduces it (and after any
/// anchor or tag), so that replacing it inserts text in the natural place.
fn empty_value_pos(text: &str, cursor: usize) -> usize {
    let p = skip_trivia(text, cursor);
    let q = skip_indicator(text, p);
    if q == p {
        return cursor;
    }
    let b = text.as_bytes();
    let mut r = q;
    while matches!(b.get(r), Some(b' ' | b'\t')) {
        r += 1;
    }
    if matches!(b.get(r), Some(b'&' | b'!')) {
        let s = skip_props(text, r);
        // Stop right after the last property, not after the spaces that follow it.
        let mut e = s;
        while e > r && matches!(b[e - 1], b' ' | b'\t') {
            e -= 1;
        }
        e
    } else {
        q
    }
}

/// Where an empty key starts, for its error: the first of its properties or its `:`, past
/// a block sequence's `-` or a flow mapping's `,` or `{`.
fn empty_key_pos(text: &str, cursor: usize, flow: bool) -> usize {
    let b = text.as_bytes();
    let mut p = skip_trivia(text, cursor);
    loop {
        let next = match b.get(p) {
            Some(b',' | b'{') if flow => p + 1,
            Some(b'-') if !flow && b.get(p + 1).is_none_or(u8::is_ascii_whitespace) => p + 1,
            _ => return p,
        };
        p = skip_trivia(text, next);
    }
}

fn block_indicator_pos(text: &str, cursor: usize) -> Option<usize> {
    let mut p = skip_trivia(text, cursor);
    p = skip_indicator(text, p);
    p = skip_trivia(text, p);
    p = skip_props(text, p);
    p = skip_trivia(text, p);
    matches!(text.as_bytes().get(p), Some(b'|' | b'>')).then_some(p)
}

/// End of a quoted scalar starting at the quote `start` (byte after the closing quote).
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let q = *b.get(start)?;
    let mut i = start + 1;
    while i < b.len() {
        if q == b'"' && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// The end of one line's worth of plain scalar text starting at `p`.
fn plain_segment_end(text: &str, p: usize, flow: bool) -> usize {
    let b = text.as_bytes();
    let le = line_end(text, p);
    let mut i = p;
    while i < le {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'#' && i > p && matches!(b[i - 1], b' ' | b'\t') {
            break;
        }
        if c == b':'
            && (i + 1 >= le
                || matches!(next, Some(b' ' | b'\t'))
                || (flow && matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}'))))
        {
            break;
        }
        if flow && matches!(c, b',' | b'[' | b']' | b'{' | b'}') {
            break;
        }
        i += 1;
    }
    while i > p && matches!(b[i - 1], b' ' | b'\t' | b'\r') {
        i -= 1;
    }
    i
}

/// End of a (possibly multi-line) plain scalar whose folded value is `value`: lines are
/// folded one by one until they spell the value, which pins the extent exactly.
fn plain_end(text: &str, start: usize, flow: bool, value: &str) -> Option<usize> {
    let mut end = plain_segment_end(text, start, flow);
    let mut folded = text[start..end].to_string();
    let mut breaks = 0usize;
    let mut p = end;
    while folded != value {
        if !value.starts_with(folded.as_str()) || p >= text.len() {
            return None;
        }
        p = next_line_start(text, p);
        if p >= text.len() {
            return None;
        }
        let ls = p;
        let le = line_end(text, ls);
        let line = &text[ls..le];
        if is_blank_line(line) {
            breaks += 1;
            continue;
        }
        let cs = ls + (line.len() - line.trim_start_matches([' ', '\t']).len());
        if text.as_bytes().get(cs) == Some(&b'#') {
            return None;
        }
        let ce = plain_segment_end(text, cs, flow);
        if breaks == 0 {
            folded.push(' ');
        } else {
            folded.extend(std::iter::repeat_n('\n', breaks));
        }
        breaks = 0;
        folded.push_str(&text[cs..ce]);
        end = ce;
        p = ce;
    }
    Some(end)
}

/// End of a block scalar whose indicator is at `start`: the end of the last non-blank line
/// indented deeper than the parent collection.
fn block_scalar_end(text: &str, start: usize, parent: Option<usize>) -> usize {
    let mut end = line_end(text, start);
    let mut p = next_line_start(text, start);
    while p < text.len() {
        let le = line_end(text, p);
        let line = &text[p..le];
        if !is_blank_line(line) {
            let ind = indent_at(text, p);
            if parent.is_some_and(|n| ind <= n) || (parent.is_none() && ind == 0) {
                break;
            }
            end = le;
        }
        p = next_line_start(text, p);
    }
    end
}

/// Parsed `|`/`>` header: chomping indicator and explicit indentation digit.
struct BlockHeader {
    chomp: Option<char>,
    digit: Option<usize>,
    /// Byte length of the indicator characters (`|-2` is 3).
    len: usize,
}

fn block_header(text: &str, start: usize) -> BlockHeader {
    let mut h = BlockHeader {
        chomp: None,
        digit: None,
        len: 1,
    };
    for c in text[start + 1..].chars().take(2) {
        match c {
            '+' | '-' if h.chomp.is_none() => h.chomp = Some(c),
            '1'..='9' if h.digit.is_none() => h.digit = c.to_digit(10).map(|d| d as usize),
            _ => break,
        }
        h.len += 1;
    }
    h
}

/// Content lines of a block scalar (between its header line and `end`), with the content
/// indentation found from the first non-blank line.
fn block_lines(text: &str, start: usize, end: usize) -> (Vec<(usize, usize)>, Option<usize>) {
    let mut out = Vec::new();
    let mut p = next_line_start(text, start);
    let mut indent = None;
    while p < end && p < text.len() {
        let le = line_end(text, p);
        if indent.is_none() && !is_blank_line(&text[p..le]) {
            indent = Some(indent_at(text, p));
        }
        out.push((p, le));
        p = next_line_start(text, p);
    }
    (out, indent)
}

/// Whether the block scalar text in `start..end` means `value` (exactly for literal
/// scalars; word for word for folded ones, whose folding is left to yaml-rust2).
fn block_content_matches(text: &str, start: usize, end: usize, value: &str, literal: bool) -> bool {
    let (lines, indent) = block_lines(text, start, end);
    let h = block_header(text, start);
    if !literal || h.digit.is_some() {
        let raw = lines
            .iter()
            .map(|&(s, e)| &text[s..e])
            .collect::<Vec<_>>()
            .join(" ");
        return raw.split_whitespace().eq(value.split_whitespace());
    }
    let ind = indent.unwrap_or(0);
    let body: Vec<&str> = lines
        .iter()
        .map(|&(s, e)| text[s..e].get(ind..).unwrap_or(""))
        .collect();
    let joined = body.join("\n");
    let trimmed = joined.trim_end_matches('\n');
    let v = value.trim_end_matches('\n');
    trimmed == v || (trimmed.is_empty() && v.is_empty())
}

// ---------------------------------------------------------------------------------------
// Lowering edits.
//
// Layout rules (tested in tests/document_yaml.rs):
// - A new mapping entry or sequence item goes on its own line(s) directly after the last
//   line of the previous entry (its trailing comment included). Full-line comments that
//   follow stay where they are: they are taken to introduce whatever comes next. At the
//   start of a collection the new lines go above the first entry's own comment lines.
// - Removing an entry removes its lines (and same-line comment) only; comment lines above
//   it stay. Removing the last entry or item leaves the empty collection (`key: {}`,
//   `key: []`), not a missing key.
// - Flow collections get `, ` (or the file's multi-line separator) between members.
// - Inserted collections are written as block YAML, indented by the file's unit; sequences
//   under a key follow the file's habit of indenting `- ` or not.

/// Where a node sits in its parent.
#[derive(Clone, Copy)]
enum Slot<'a> {
    Root,
    Value(&'a Node, &'a Entry),
    Item(&'a Node, usize),
}

struct Cx<'a> {
    doc: &'a Document,
    text: &'a str,
    eol: &'static str,
    unit: usize,
    /// `true`: `key:\n  - x`; `false`: `key:\n- x`.
    seq_indented: bool,
    /// Quote used for new strings that need quoting.
    single: bool,
}

pub fn lower(doc: &Document, op: &Op) -> Result<Vec<Splice>, EditError> {
    let cx = Cx::new(doc);
    // The one-entry mapping of a short-form tag (`!Ref X`) is the tag itself: it can be
    // replaced whole, or edited inside, but has no entries to add, remove or rename.
    let container = match op {
        Op::InsertKey { path, .. } => Some(path.clone()),
        Op::Remove { path } | Op::RenameKey { path, .. } => path.parent(),
        _ => None,
    };
    if let Some(node) = container.and_then(|p| doc.root().at(p.segs()))
        && is_tag_mapping(doc.text(), node)
    {
        return Err(unsupported(
            "the value is a CloudFormation intrinsic function (a tag), not a mapping",
        ));
    }
    let splices = match op {
        Op::Replace { path, value } => cx.replace(path, value),
        Op::InsertKey {
            path,
            key,
            value,
            position,
        } => cx.insert_key(path, key, value, position),
        Op::InsertItem { path, index, value } => cx.insert_item(path, *index, value),
        Op::Remove { path } => cx.remove(path),
        Op::RenameKey { path, new_key } => cx.rename(path, new_key),
        Op::ReplaceInScalar {
            path,
            find,
            replace,
        } => cx.replace_in_scalar(path, find, replace),
        Op::Comment { path, text } => cx.comment(path, text),
    }?;
    Ok(splices
        .into_iter()
        .map(|s| minimize(doc.text(), s))
        .collect())
}

/// Shrink a splice to the bytes that really change, so untouched lines stay identical.
fn minimize(text: &str, s: Splice) -> Splice {
    let old = &text[s.span.start..s.span.end];
    let new = s.text.as_str();
    let mut pre = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(pre) || !new.is_char_boundary(pre) {
        pre -= 1;
    }
    let mut suf = old[pre..]
        .bytes()
        .rev()
        .zip(new[pre..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suf) || !new.is_char_boundary(new.len() - suf) {
        suf -= 1;
    }
    Splice {
        span: Span::new(s.span.start + pre, s.span.end - suf),
        text: new[pre..new.len() - suf].to_string(),
    }
}

fn splice(start: usize, end: usize, text: impl Into<String>) -> Splice {
    Splice {
        span: Span::new(start, end),
        text: text.into(),
    }
}

fn unsupported(m: impl Into<String>) -> EditError {
    EditError::Unsupported(m.into())
}

impl<'a> Cx<'a> {
    fn new(doc: &'a Document) -> Cx<'a> {
        let text = doc.text();
        let unit = match doc.style().indent.as_str() {
            s if !s.is_empty() && s.bytes().all(|b| b == b' ') => s.len(),
            _ => 2,
        };
        let mut cx = Cx {
            doc,
            text,
            eol: doc.style().eol,
            unit,
            seq_indented: true,
            single: false,
        };
        let (mut ind, mut flat, mut sq, mut dq) = (0, 0, 0, 0);
        let mut stack = vec![doc.root()];
        while let Some(n) = stack.pop() {
            match &n.kind {
                NodeKind::Mapping { entries, flow } => {
                    for e in entries {
                        if let NodeKind::Sequence { flow: false, .. } = e.value.kind
                            && !*flow
                            && first_on_line(text, e.key_span.start)
                        {
                            if col_of(text, e.value.span.start) > col_of(text, e.key_span.start) {
                                ind += 1;
                            } else {
                                flat += 1;
                            }
                        }
                        stack.push(&e.value);
                    }
                }
                NodeKind::Sequence { items, .. } => stack.extend(items.iter()),
                NodeKind::Scalar {
                    style: ScalarStyle::SingleQuoted,
                } => sq += 1,
                NodeKind::Scalar {
                    style: ScalarStyle::DoubleQuoted,
                } => dq += 1,
                _ => {}
            }
        }
        cx.seq_indented = ind >= flat;
        cx.single = sq > dq;
        cx
    }

    /// Follow `path`, refusing to go through aliases.
    fn find(&self, path: &Path) -> Result<(&'a Node, Slot<'a>), EditError> {
        let mut node = self.doc.root();
        let mut slot = Slot::Root;
        for seg in path.segs() {
            // Editing inside an anchored node would change its aliases too.
            self.check_anchor(node)?;
            if matches!(node.kind, NodeKind::Alias) {
                return Err(unsupported(format!(
                    "{path} goes through an alias; edit the anchored node instead"
                )));
            }
            match seg {
                Seg::Key(k) => {
                    let e = node
                        .entry(k)
                        .ok_or_else(|| EditError::NoSuchNode(path.to_string()))?;
                    slot = Slot::Value(node, e);
                    node = &e.value;
                }
                Seg::Index(i) => {
                    let n = node
                        .items()
                        .get(*i)
                        .ok_or_else(|| EditError::NoSuchNode(path.to_string()))?;
                    slot = Slot::Item(node, *i);
                    node = n;
                }
            }
        }
        Ok((node, slot))
    }

    fn in_flow(slot: Slot) -> bool {
        match slot {
            Slot::Root => false,
            Slot::Value(p, _) | Slot::Item(p, _) => is_flow(p),
        }
    }

    /// Byte of the `:` after an entry's key.
    fn colon(&self, e: &Entry) -> Result<usize, EditError> {
        let b = self.text.as_bytes();
        let mut p = e.key_span.end;
        while matches!(b.get(p), Some(b' ' | b'\t')) {
            p += 1;
        }
        if b.get(p) == Some(&b':') {
            Ok(p)
        } else {
            Err(unsupported(format!(
                "key {:?} is not followed by `:` on its line",
                e.key
            )))
        }
    }

    /// The anchor name defined on a node, when there is one (`&name value`).
    fn anchor_of(&self, node: &Node) -> Option<&'a str> {
        let ls = line_start(self.text, node.span.start);
        let before = &self.text[ls..node.span.start];
        before
            .split_whitespace()
            .rev()
            .take_while(|t| t.starts_with('&') || t.starts_with('!'))
            .find_map(|t| t.strip_prefix('&'))
    }

    fn has_props(&self, node: &Node) -> bool {
        let ls = line_start(self.text, node.span.start);
        self.text[ls..node.span.start]
            .split_whitespace()
            .next_back()
            .is_some_and(|t| t.starts_with('&') || t.starts_with('!'))
    }

    /// Refuse to change an anchored node that aliases elsewhere repeat.
    fn check_anchor(&self, node: &Node) -> Result<(), EditError> {
        if let Some(name) = self.anchor_of(node)
            && self.text.contains(&format!("*{name}"))
        {
            return Err(unsupported(format!(
                "the node is anchored as &{name} and aliased elsewhere"
            )));
        }
        Ok(())
    }

    fn indent(n: usize) -> String {
        " ".repeat(n)
    }

    // --- rendering -------------------------------------------------------------------

    fn quote(&self, s: &str) -> String {
        if self.single
            && let Some(q) = single_quoted(s)
        {
            return q;
        }
        double_quoted(s)
    }

    /// A scalar (or empty collection) written on one line.
    fn inline(&self, v: &Value, flow: bool) -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) if plain_ok(s, flow) => s.clone(),
            Value::String(s) => self.quote(s),
            Value::Array(a) => {
                let items: Vec<String> = a.iter().map(|x| self.inline(x, true)).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(m) => {
                let items: Vec<String> = m
                    .iter()
                    .map(|(k, x)| {
                        format!("{}: {}", self.key_text(k, None, true), self.inline(x, true))
                    })
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        }
    }

    /// A key, quoted like `like` (a sibling's key as written) when that is possible.
    fn key_text(&self, k: &str, like: Option<&str>, flow: bool) -> String {
        match like.and_then(|l| l.bytes().next()) {
            Some(b'\'') => single_quoted(k).unwrap_or_else(|| double_quoted(k)),
            Some(b'"') => double_quoted(k),
            _ if plain_ok(k, flow) => k.to_string(),
            _ => self.quote(k),
        }
    }

    fn is_block_value(v: &Value) -> bool {
        match v {
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
            _ => false,
        }
    }

    /// A value in block context whose first line continues the current line (after `key:`
    /// or `- `) and whose other lines are indented from column `col` (the column the first
    /// line starts at).
    fn block(&self, v: &Value, col: usize) -> String {
        let eol = self.eol;
        match v {
            Value::Object(m) if !m.is_empty() => {
                let mut out = String::new();
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(eol);
                        out.push_str(&Self::indent(col));
                    }
                    out.push_str(&self.key_text(k, None, false));
                    out.push(':');
                    out.push_str(&self.after_key(x, col));
                }
                out
            }
            Value::Array(a) if !a.is_empty() => {
                let mut out = String::new();
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(eol);
                        out.push_str(&Self::indent(col));
                    }
                    out.push_str(&self.item_text(x, col));
                }
                out
            }
            Value::String(s) => self
                .literal(s, col + self.unit)
                .unwrap_or_else(|| self.inline(v, false)),
            _ => self.inline(v, false),
        }
    }

    /// `- value` for a block sequence whose dashes are at `col`.
    fn item_text(&self, v: &Value, col: usize) -> String {
        if let Value::String(s) = v
            && let Some(l) = self.literal(s, col + 2)
        {
            return format!("- {l}");
        }
        format!("- {}", self.block(v, col + 2))
    }

    /// What follows `key:` for a value whose key is at `col`.
    fn after_key(&self, v: &Value, col: usize) -> String {
        match v {
            Value::Object(m) if !m.is_empty() => {
                let c = col + self.unit;
                format!("{}{}{}", self.eol, Self::indent(c), self.block(v, c))
            }
            Value::Array(a) if !a.is_empty() => {
                let c = if self.seq_indented {
                    col + self.unit
                } else {
                    col
                };
                format!("{}{}{}", self.eol, Self::indent(c), self.block(v, c))
            }
            Value::String(s) => match self.literal(s, col + self.unit) {
                Some(l) => format!(" {l}"),
                None => format!(" {}", self.inline(v, false)),
            },
            _ => format!(" {}", self.inline(v, false)),
        }
    }

    /// A multi-line string as a `|` block with content at column `col`, when that is exact.
    fn literal(&self, s: &str, col: usize) -> Option<String> {
        if !s.contains('\n') {
            return None;
        }
        let (body, chomp) = literal_body(s)?;
        let mut out = format!("|{chomp}");
        for line in body.split('\n') {
            out.push_str(self.eol);
            if !line.is_empty() {
                out.push_str(&Self::indent(col));
                out.push_str(line);
            }
        }
        Some(out)
    }

    // --- operations ------------------------------------------------------------------

    fn replace(&self, path: &Path, value: &Value) -> Result<Vec<Splice>, EditError> {
        let (node, slot) = self.find(path)?;
        self.check_anchor(node)?;
        self.replace_node(node, slot, value)
    }

    fn replace_node(
        &self,
        node: &Node,
        slot: Slot,
        value: &Value,
    ) -> Result<Vec<Splice>, EditError> {
        let text = self.text;
        let flow_ctx = Self::in_flow(slot);
        let block_coll = matches!(
            node.kind,
            NodeKind::Mapping { flow: false, .. } | NodeKind::Sequence { flow: false, .. }
        );
        let new_block = Self::is_block_value(value) && !flow_ctx && !is_flow(node);
        if !block_coll && !new_block {
            // One inline thing replaces another.
            let new = match (&node.kind, value) {
                (NodeKind::Scalar { style }, Value::String(s)) => {
                    self.string_in_style(node, *style, s, flow_ctx)?
                }
                (_, v) if flow_ctx || is_flow(node) => self.inline(v, true),
                (_, v) => self.inline(v, false),
            };
            return Ok(vec![self.put_inline(node, new)]);
        }
        if !block_coll {
            // A scalar or flow node becomes a block collection.
            if self.has_props(node) {
                return Err(unsupported(
                    "the node has a tag or anchor; will not guess where a block goes",
                ));
            }
            return match slot {
                Slot::Value(_, e) => {
                    let colon = self.colon(e)?;
                    let kc = col_of(text, e.key_span.start);
                    let end = node.span.end;
                    let mut out = vec![splice(colon + 1, end, "")];
                    out.push(splice(
                        line_end(text, end),
                        line_end(text, end),
                        self.after_key(value, kc),
                    ));
                    Ok(out)
                }
                Slot::Item(..) | Slot::Root => {
                    if node.span.start == node.span.end && matches!(slot, Slot::Item(..)) {
                        // `-` with nothing after it.
                        let c = col_of(text, node.span.start) + 1;
                        return Ok(vec![splice(
                            node.span.start,
                            node.span.end,
                            format!(" {}", self.block(value, c)),
                        )]);
                    }
                    let c = col_of(text, node.span.start);
                    let end = node.span.end;
                    Ok(vec![splice(node.span.start, end, self.block(value, c))])
                }
            };
        }
        // A block collection is replaced.
        if new_block {
            let c = col_of(text, node.span.start);
            let c = match (slot, value) {
                // Keep the file's sequence habit when a mapping becomes a sequence.
                (Slot::Value(_, e), Value::Array(_))
                    if !matches!(node.kind, NodeKind::Sequence { .. }) =>
                {
                    let kc = col_of(text, e.key_span.start);
                    if self.seq_indented {
                        kc + self.unit
                    } else {
                        kc
                    }
                }
                (Slot::Value(_, e), Value::Object(_))
                    if matches!(node.kind, NodeKind::Sequence { .. }) =>
                {
                    col_of(text, e.key_span.start) + self.unit
                }
                _ => c,
            };
            let start = if first_on_line(text, node.span.start) && matches!(slot, Slot::Value(..)) {
                line_start(text, node.span.start)
            } else {
                node.span.start
            };
            let lead = if start == node.span.start {
                String::new()
            } else {
                Self::indent(c)
            };
            return Ok(vec![splice(
                start,
                node.span.end,
                format!("{lead}{}", self.block(value, c)),
            )]);
        }
        let inline = self.inline(value, false);
        match slot {
            Slot::Value(_, e) => {
                let colon = self.colon(e)?;
                let colon_le = line_end(text, colon);
                let rest = &text[colon + 1..colon_le];
                let rest_t = rest.trim_start();
                if !(rest_t.is_empty() || rest_t.starts_with('#')) || node.span.start < colon_le {
                    return Err(unsupported(
                        "the collection has a tag or anchor on its key line",
                    ));
                }
                // The old block's last line comment described a value that is gone.
                Ok(vec![
                    splice(colon + 1, colon + 1, format!(" {inline}")),
                    splice(colon_le, line_end(text, node.span.end), ""),
                ])
            }
            _ => Ok(vec![splice(node.span.start, node.span.end, inline)]),
        }
    }

    /// Replace an inline node's text, keeping a block scalar header's comment and putting a
    /// space between an indicator and new text for empty values.
    fn put_inline(&self, node: &Node, new: String) -> Splice {
        let text = self.text;
        let s = node.span;
        if s.start == s.end {
            let pad = s.start > 0 && !text.as_bytes()[s.start - 1].is_ascii_whitespace();
            return splice(s.start, s.end, if pad { format!(" {new}") } else { new });
        }
        if let NodeKind::Scalar {
            style: ScalarStyle::Literal | ScalarStyle::Folded,
        } = node.kind
            && !new.starts_with(['|', '>'])
        {
            let header = &text[s.start..line_end(text, s.start).min(s.end)];
            if let Some(i) = header.find(" #").or_else(|| header.find("\t#")) {
                return splice(s.start, s.end, format!("{new}{}", &header[i..]));
            }
        }
        splice(s.start, s.end, new)
    }

    /// A string written in `style` where it can be, else quoted.
    fn string_in_style(
        &self,
        node: &Node,
        style: ScalarStyle,
        s: &str,
        flow: bool,
    ) -> Result<String, EditError> {
        Ok(match style {
            ScalarStyle::Plain if plain_ok(s, flow) => s.to_string(),
            ScalarStyle::Plain => self.quote(s),
            ScalarStyle::SingleQuoted => single_quoted(s).unwrap_or_else(|| double_quoted(s)),
            ScalarStyle::DoubleQuoted => double_quoted(s),
            ScalarStyle::Literal => self
                .reencode_literal(node, s)
                .unwrap_or_else(|| double_quoted(s)),
            ScalarStyle::Folded => self
                .reencode_folded(node, s)
                .unwrap_or_else(|| double_quoted(s)),
        })
    }

    /// Header indicators and content column of an existing block scalar.
    fn block_shape(&self, node: &Node) -> Option<(BlockHeader, usize, String)> {
        let text = self.text;
        let h = block_header(text, node.span.start);
        if h.digit.is_some() {
            return None;
        }
        let (_, indent) = block_lines(text, node.span.start, node.span.end);
        let header_rest =
            text[node.span.start + h.len..line_end(text, node.span.start)].to_string();
        Some((h, indent?, header_rest))
    }

    fn reencode_literal(&self, node: &Node, s: &str) -> Option<String> {
        let (h, indent, rest) = self.block_shape(node)?;
        let (body, chomp) = literal_body(s)?;
        let chomp = self.keep_chomp(&h, s, chomp)?;
        let mut out = format!("|{chomp}{rest}");
        for line in body.split('\n') {
            out.push_str(self.eol);
            if !line.is_empty() {
                out.push_str(&Self::indent(indent));
                out.push_str(line);
            }
        }
        Some(out)
    }

    /// The chomping indicator to write: the old one when it still fits, `-`/none otherwise;
    /// `+` only stays when the trailing line breaks are unchanged (they lie outside the span).
    fn keep_chomp(&self, h: &BlockHeader, s: &str, chomp: &'static str) -> Option<&'static str> {
        if h.chomp == Some('+') {
            // Trailing `|+` breaks lie outside the span; rather than recount them, fall back.
            let _ = s;
            return None;
        }
        (chomp != "+").then_some(chomp)
    }

    fn reencode_folded(&self, node: &Node, s: &str) -> Option<String> {
        let (h, indent, rest) = self.block_shape(node)?;
        let body = s.trim_end_matches('\n');
        let trailing = s.len() - body.len();
        let chomp = match trailing {
            0 => "-",
            1 => "",
            _ => return None,
        };
        let chomp = self.keep_chomp(&h, s, chomp)?;
        if body.is_empty() || body.chars().any(|c| c.is_control() && c != '\n') {
            return None;
        }
        let mut out = format!(">{chomp}{rest}");
        // A run of n line breaks in the value is written as n empty lines (a single break
        // between text lines would fold into a space).
        let mut breaks = 0usize;
        let mut started = false;
        for line in body.split('\n') {
            if line.is_empty() {
                breaks += 1;
                continue;
            }
            if line.starts_with([' ', '\t'])
                || line.ends_with([' ', '\t'])
                || (!started && breaks > 0)
            {
                return None;
            }
            let eols = if started { breaks + 2 } else { 1 };
            for _ in 0..eols {
                out.push_str(self.eol);
            }
            out.push_str(&Self::indent(indent));
            out.push_str(line);
            started = true;
            breaks = 0;
        }
        Some(out)
    }

    fn insert_key(
        &self,
        path: &Path,
        key: &str,
        value: &Value,
        position: &Position,
    ) -> Result<Vec<Splice>, EditError> {
        let text = self.text;
        let (node, _) = self.find(path)?;
        let NodeKind::Mapping { entries, flow } = &node.kind else {
            return Err(EditError::NoSuchNode(format!("{path} is not a mapping")));
        };
        if node.entry(key).is_some() {
            return Err(unsupported(format!("key {key:?} exists at {path}")));
        }
        let idx = match position {
            Position::End => entries.len(),
            Position::Start => 0,
            Position::Before(k) => entries
                .iter()
                .position(|e| &e.key == k)
                .unwrap_or(entries.len()),
            Position::After(k) => entries
                .iter()
                .position(|e| &e.key == k)
                .map_or(entries.len(), |i| i + 1),
        };
        let like = entries
            .first()
            .map(|e| &text[e.key_span.start..e.key_span.end]);
        if *flow {
            let member = format!(
                "{}: {}",
                self.key_text(key, like, true),
                self.inline(value, true)
            );
            let spans: Vec<Span> = entries
                .iter()
                .map(|e| Span::new(e.key_span.start, e.value.span.end))
                .collect();
            return Ok(vec![self.flow_insert(node, &spans, idx, member)]);
        }
        let c = col_of(text, node.span.start);
        let member = format!(
            "{}:{}",
            self.key_text(key, like, false),
            self.after_key(value, c)
        );
        let prev_end = idx
            .checked_sub(1)
            .and_then(|i| entries.get(i))
            .map(|e| &e.value);
        let first = entries
            .first()
            .map_or(node.span.start, |e| e.key_span.start);
        self.block_insert(c, prev_end, first, member)
    }

    fn insert_item(
        &self,
        path: &Path,
        index: usize,
        value: &Value,
    ) -> Result<Vec<Splice>, EditError> {
        let (node, _) = self.find(path)?;
        let NodeKind::Sequence { items, flow } = &node.kind else {
            return Err(EditError::NoSuchNode(format!("{path} is not a sequence")));
        };
        if index > items.len() {
            return Err(EditError::NoSuchNode(path.index(index).to_string()));
        }
        if *flow {
            let spans: Vec<Span> = items.iter().map(|n| n.span).collect();
            return Ok(vec![self.flow_insert(
                node,
                &spans,
                index,
                self.inline(value, true),
            )]);
        }
        let c = col_of(self.text, node.span.start);
        let member = self.item_text(value, c);
        let prev = index.checked_sub(1).map(|i| &items[i]);
        self.block_insert(c, prev, node.span.start, member)
    }

    /// Insert `member` (already rendered for column `c`) into a block collection, after
    /// the node `prev` or, without one, before the first member starting at `first`.
    fn block_insert(
        &self,
        c: usize,
        prev: Option<&Node>,
        first: usize,
        member: String,
    ) -> Result<Vec<Splice>, EditError> {
        let text = self.text;
        let ind = Self::indent(c);
        if let Some(prev) = prev {
            if let NodeKind::Scalar {
                style: ScalarStyle::Literal | ScalarStyle::Folded,
            } = prev.kind
                && block_header(text, prev.span.start).chomp == Some('+')
            {
                return Err(unsupported(
                    "inserting after a `|+` block scalar would change it",
                ));
            }
            let p = line_end(text, prev.span.end);
            return Ok(vec![splice(p, p, format!("{}{ind}{member}", self.eol))]);
        }
        if !first_on_line(text, first) {
            // Compact form (`- a: 1`): the old first member moves to the next line.
            return Ok(vec![splice(
                first,
                first,
                format!("{member}{}{ind}", self.eol),
            )]);
        }
        let mut q = line_start(text, first);
        // Keep the first member's own comment lines attached to it.
        while q > 0 {
            let pls = line_start(text, q - 1);
            let line = &text[pls..line_end(text, pls)];
            let t = line.trim_start_matches(' ');
            if t.starts_with('#') && line.len() - t.len() >= c {
                q = pls;
            } else {
                break;
            }
        }
        Ok(vec![splice(q, q, format!("{ind}{member}{}", self.eol))])
    }

    /// Insert `member` into a flow collection whose members span `spans`.
    fn flow_insert(&self, node: &Node, spans: &[Span], idx: usize, member: String) -> Splice {
        let text = self.text;
        if spans.is_empty() {
            let inner = Span::new(node.span.start + 1, node.span.end - 1);
            return splice(inner.start, inner.end, member);
        }
        // The separator the file already uses, else the whitespace around the first member.
        let sep = if spans.len() >= 2 {
            let gap = &text[spans[0].end..spans[1].start];
            if gap.contains('\n') {
                gap.to_string()
            } else {
                ", ".to_string()
            }
        } else {
            let lead = &text[node.span.start + 1..spans[0].start];
            if lead.contains('\n') {
                format!(",{lead}")
            } else {
                ", ".to_string()
            }
        };
        if idx >= spans.len() {
            let p = spans[spans.len() - 1].end;
            splice(p, p, format!("{sep}{member}"))
        } else {
            let p = spans[idx].start;
            splice(p, p, format!("{member}{sep}"))
        }
    }

    fn remove(&self, path: &Path) -> Result<Vec<Splice>, EditError> {
        let text = self.text;
        let (_, slot) = self.find(path)?;
        let parent_path = path.parent().unwrap_or_default();
        let (parent, members): (&Node, Vec<(usize, usize)>) = match slot {
            Slot::Root => return Err(unsupported("cannot remove the document root")),
            Slot::Value(p, _) => (
                p,
                p.entries()
                    .iter()
                    .map(|e| (e.key_span.start, e.value.span.end))
                    .collect(),
            ),
            Slot::Item(p, _) => {
                let mut v = Vec::new();
                for (i, n) in p.items().iter().enumerate() {
                    let s = if is_flow(p) {
                        n.span.start
                    } else {
                        self.dash(p, i)?
                    };
                    v.push((s, n.span.end));
                }
                (p, v)
            }
        };
        let i = match slot {
            Slot::Value(p, e) => p
                .entries()
                .iter()
                .position(|x| std::ptr::eq(x, e))
                .unwrap_or(0),
            Slot::Item(_, i) => i,
            Slot::Root => 0,
        };
        if members.len() == 1 {
            let empty = if matches!(parent.kind, NodeKind::Mapping { .. }) {
                Value::Object(Map::new())
            } else {
                Value::Array(Vec::new())
            };
            let (pnode, pslot) = self.find(&parent_path)?;
            if is_flow(pnode) {
                return Ok(vec![splice(pnode.span.start + 1, pnode.span.end - 1, "")]);
            }
            return self.replace_node(pnode, pslot, &empty);
        }
        let (s, e) = members[i];
        if is_flow(parent) {
            return Ok(vec![if i + 1 < members.len() {
                splice(s, members.get(i + 1).map_or(e, |m| m.0), "")
            } else {
                splice(members[i - 1].1, e, "")
            }]);
        }
        if !first_on_line(text, s) {
            // Compact first member (`- a: 1`): the next member moves up into its place.
            let Some(&(next, _)) = members.get(i + 1) else {
                return Err(unsupported("a compact member is not followed by another"));
            };
            if i != 0 || next_line_start(text, e) != line_start(text, next) {
                return Err(unsupported(
                    "comments or blank lines between compact members",
                ));
            }
            return Ok(vec![splice(s, next, "")]);
        }
        let rs = line_start(text, s);
        let re = next_line_start(text, e);
        if re == text.len() && !text.ends_with('\n') && rs > 0 {
            // Last line without a final newline: take the line break before it instead.
            let mut b = rs - 1;
            if b > 0 && text.as_bytes()[b - 1] == b'\r' {
                b -= 1;
            }
            return Ok(vec![splice(b, re, "")]);
        }
        Ok(vec![splice(rs, re, "")])
    }

    /// Byte of the `-` of item `i` of a block sequence.
    fn dash(&self, seq: &Node, i: usize) -> Result<usize, EditError> {
        if i == 0 {
            return Ok(seq.span.start);
        }
        let item = &seq.items()[i];
        let b = self.text.as_bytes();
        let ls = line_start(self.text, item.span.start);
        let lead = &self.text[ls..item.span.start];
        let t = lead.trim_start_matches(' ');
        let p = ls + (lead.len() - t.len());
        if b.get(p) == Some(&b'-') && col_of(self.text, p) == col_of(self.text, seq.span.start) {
            return Ok(p);
        }
        Err(unsupported(
            "a sequence item does not start on its dash's line",
        ))
    }

    fn rename(&self, path: &Path, new_key: &str) -> Result<Vec<Splice>, EditError> {
        let (_, slot) = self.find(path)?;
        let Slot::Value(parent, e) = slot else {
            return Err(EditError::NoSuchNode(format!(
                "{path} is not a mapping entry"
            )));
        };
        if parent.entry(new_key).is_some() {
            return Err(unsupported(format!("key {new_key:?} exists")));
        }
        let old = &self.text[e.key_span.start..e.key_span.end];
        let new = self.key_text(new_key, Some(old), is_flow(parent));
        Ok(vec![splice(e.key_span.start, e.key_span.end, new)])
    }

    /// `  # text` at the end of the line where the scalar at `path` ends, when nothing but
    /// blanks follows it there.
    fn comment(&self, path: &Path, note: &str) -> Result<Vec<Splice>, EditError> {
        let (node, _) = self.find(path)?;
        let NodeKind::Scalar { style } = node.kind else {
            return Err(EditError::NoSuchNode(format!("{path} is not a scalar")));
        };
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            || note.contains(['\n', '\r'])
        {
            return Ok(Vec::new());
        }
        let end = node.span.end;
        let eol = line_end(self.text, end);
        if !self.text[end..eol].trim().is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![splice(eol, eol, format!("  # {note}"))])
    }

    fn replace_in_scalar(
        &self,
        path: &Path,
        find: &str,
        replace: &str,
    ) -> Result<Vec<Splice>, EditError> {
        let (node, slot) = self.find(path)?;
        let NodeKind::Scalar { style } = node.kind else {
            return Err(EditError::NoSuchNode(format!("{path} is not a scalar")));
        };
        self.check_anchor(node)?;
        let Some(Value::String(old)) = self.doc.value_at(path) else {
            return Err(EditError::NoSuchNode(format!("{path} is not a string")));
        };
        if find.is_empty() || !old.contains(find) {
            return Err(EditError::NoSuchNode(format!(
                "{path} does not contain the text"
            )));
        }
        let new = old.replace(find, replace);
        if style == ScalarStyle::Folded
            && let Some(s) = self.folded_in_place(node, old, find, replace)
        {
            return Ok(vec![s]);
        }
        let text = self.string_in_style(node, style, &new, Self::in_flow(slot))?;
        Ok(vec![self.put_inline(node, text)])
    }

    /// Rewrite a word inside a folded scalar without refolding it: only when neither text
    /// can interact with line folding.
    fn folded_in_place(&self, node: &Node, old: &str, find: &str, replace: &str) -> Option<Splice> {
        let ws = |s: &str| s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ws(find) || ws(replace) || replace.is_empty() {
            return None;
        }
        let text = self.text;
        let body_start = next_line_start(text, node.span.start);
        if body_start >= node.span.end {
            return None;
        }
        let raw = &text[body_start..node.span.end];
        if raw.matches(find).count() != old.matches(find).count() {
            return None;
        }
        Some(splice(
            body_start,
            node.span.end,
            raw.replace(find, replace),
        ))
    }
}

/// A short-form tag's one-entry mapping (see [`wrap_intrinsic`]): written as `!Tag …`.
fn is_tag_mapping(text: &str, n: &Node) -> bool {
    matches!(n.kind, NodeKind::Mapping { .. }) && text[n.span.start..].starts_with('!')
}

fn is_flow(n: &Node) -> bool {
    matches!(
        n.kind,
        NodeKind::Mapping { flow: true, .. } | NodeKind::Sequence { flow: true, .. }
    )
}

/// A string that a `|` block can hold exactly, split into its body and chomping indicator.
fn literal_body(s: &str) -> Option<(&str, &'static str)> {
    let body = s.trim_end_matches('\n');
    let chomp = match s.len() - body.len() {
        0 => "-",
        1 => "",
        _ => return None,
    };
    let first = body.split('\n').find(|l| !l.is_empty())?;
    if first.starts_with([' ', '\t'])
        || body.starts_with('\n')
        || body
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{feff}')
        || body
            .split('\n')
            .any(|l| l.ends_with([' ', '\t']) && l.trim().is_empty())
    {
        return None;
    }
    Some((body, chomp))
}

/// Whether `s` can be written as a plain scalar and still mean the same string.
fn plain_ok(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !matches!(resolve_plain(s), Value::String(_))
        || s.starts_with([' ', '\t'])
        || s.ends_with([' ', '\t', ':'])
        || "[]{},#&*!|>'\"%@`".contains(first)
        || s.starts_with("---")
        || s.starts_with("...")
        || s.contains(": ")
        || s.contains(" #")
        || s.contains(":\t")
        || s.contains("\t#")
        || s.chars().any(|c| {
            c.is_control() || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}'
        })
    {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && s[1..].chars().next().is_none_or(|c| c == ' ') {
        return false;
    }
    !(flow && s.contains([',', '[', ']', '{', '}']))
}

fn single_quoted(s: &str) -> Option<String> {
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
