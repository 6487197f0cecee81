//! Lowering edits: an [`Op`] addressed by path becomes byte splices of the text, written in
//! the file's own style.

use serde_json::{Map, Value};

use crate::document::{
    Document, EditError, Entry, Node, NodeKind, Op, Path, Position, ScalarStyle, Seg, Span, Splice,
};

use super::parse::resolve_plain;
use super::spans::{
    BlockHeader, block_header, block_lines, col_of, first_on_line, line_end, line_start,
    next_line_start,
};

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
