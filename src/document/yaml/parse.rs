//! Parsing: yaml-rust2's events into a [`Node`] tree with byte spans and the document's
//! meaning (YAML 1.2 core schema, CloudFormation short-form tags as their long form).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use crate::document::{Entry, Limits, LineIndex, Node, NodeKind, ParseError, ScalarStyle, Span};

use super::spans::{
    Lines, block_content_matches, block_indicator_pos, block_scalar_end, col_of, empty_key_pos,
    empty_value_pos, plain_end, quoted_end, skip_trivia,
};

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
    parse_indexed(text, limits).map(|(node, value, _)| (node, value))
}

/// [`parse`], and the line index the parser made (a document keeps it instead of making it
/// again).
pub(crate) fn parse_indexed(
    text: &str,
    limits: &Limits,
) -> Result<(Node, Value, LineIndex), ParseError> {
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
    // Most files are printable ASCII with tabs and line feeds: one pass over the bytes
    // (without an early exit, so it is vectorized) tells, and then `check_characters` can
    // find nothing.
    let plain_ascii = !text.bytes().fold(false, |odd, c| {
        odd | !(matches!(c, b' '..=b'~' | b'\t' | b'\n'))
    });
    if !plain_ascii {
        check_characters(text, &b.lines)?;
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
    let (node, value) = b.root.unwrap_or_else(|| {
        (
            Node {
                span: Span::new(0, 0),
                kind: NodeKind::Scalar {
                    style: ScalarStyle::Plain,
                },
            },
            Value::Null,
        )
    });
    Ok((node, value, b.lines.into_index()))
}

/// Line breaks and characters this parser refuses: a lone carriage return, and what is not
/// printable in YAML.
fn check_characters(text: &str, lines: &Lines) -> Result<(), ParseError> {
    if let Some(i) = text
        .bytes()
        .enumerate()
        .position(|(i, c)| c == b'\r' && text.as_bytes().get(i + 1) != Some(&b'\n'))
    {
        return Err(err_at(
            lines,
            i,
            "a carriage return without a line feed is not supported as a line break",
        ));
    }
    // YAML allows only printable characters (YAML 1.2, production c-printable). yaml-rust2
    // lets control characters through and then reports positions that do not match the
    // text, which would misplace edits: refuse them here, where the position is exact.
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| !is_yaml_printable(c)) {
        return Err(err_at(
            lines,
            i,
            format!(
                "character U+{:04X} is not allowed in YAML (a control character)",
                c as u32
            ),
        ));
    }
    Ok(())
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
                    if crate::document::has_key(entries, map, &k) {
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
pub(super) fn resolve_plain(s: &str) -> Value {
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
