//! Lowering [`Op`]s to byte splices that follow the file's own layout.

use serde_json::Value;

use super::render::{self, Layout};
use crate::document::{
    Document, EditError, Node, NodeKind, Op, Path, Position, ScalarStyle, Seg, Span, Splice,
};

pub fn lower(doc: &Document, op: &Op) -> Result<Vec<Splice>, EditError> {
    let ed = Editor {
        doc,
        text: doc.text(),
        b: doc.text().as_bytes(),
    };
    match op {
        Op::Replace { path, value } => ed.replace(path, value),
        Op::InsertKey {
            path,
            key,
            value,
            position,
        } => ed.insert_key(path, key, value, position),
        Op::InsertItem { path, index, value } => ed.insert_item(path, *index, value),
        Op::Remove { path } => ed.remove(path),
        Op::RenameKey { path, new_key } => ed.rename(path, new_key),
        Op::ReplaceInScalar {
            path,
            find,
            replace,
        } => ed.replace_in_scalar(path, find, replace),
        // JSON has no comments.
        Op::Comment { .. } => Ok(Vec::new()),
    }
}

/// How the members of a collection sit in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Empty,
    /// The whole collection is on one line.
    Inline,
    /// Every member starts on a line of its own.
    Lines,
    /// Anything else: several members share a line, or one hugs a bracket (`[{`).
    Mixed,
}

struct Editor<'d> {
    doc: &'d Document,
    text: &'d str,
    b: &'d [u8],
}

fn no_node(path: &Path) -> EditError {
    EditError::NoSuchNode(path.to_string())
}

fn splice(start: usize, end: usize, text: String) -> Splice {
    Splice {
        span: Span::new(start, end),
        text,
    }
}

fn len(c: &Node) -> usize {
    match &c.kind {
        NodeKind::Mapping { entries, .. } => entries.len(),
        NodeKind::Sequence { items, .. } => items.len(),
        _ => 0,
    }
}

/// Where member `i` begins: its key for an object entry.
fn member_start(c: &Node, i: usize) -> usize {
    match &c.kind {
        NodeKind::Mapping { entries, .. } => {
            entries.get(i).map_or(c.span.start, |e| e.key_span.start)
        }
        NodeKind::Sequence { items, .. } => items.get(i).map_or(c.span.start, |n| n.span.start),
        _ => c.span.start,
    }
}

fn member_end(c: &Node, i: usize) -> usize {
    match &c.kind {
        NodeKind::Mapping { entries, .. } => {
            entries.get(i).map_or(c.span.end, |e| e.value.span.end)
        }
        NodeKind::Sequence { items, .. } => items.get(i).map_or(c.span.end, |n| n.span.end),
        _ => c.span.end,
    }
}

fn is_collection(n: &Node) -> bool {
    matches!(n.kind, NodeKind::Mapping { .. } | NodeKind::Sequence { .. })
}

impl Editor<'_> {
    fn has_newline(&self, s: Span) -> bool {
        self.b[s.start..s.end].contains(&b'\n')
    }

    fn line_start(&self, pos: usize) -> usize {
        self.b[..pos]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1)
    }

    /// The leading spaces and tabs of the line `pos` is on.
    fn indent_at(&self, pos: usize) -> &str {
        let start = self.line_start(pos);
        let n = self.b[start..]
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        &self.text[start..start + n]
    }

    fn own_line(&self, pos: usize) -> bool {
        self.b[self.line_start(pos)..pos]
            .iter()
            .all(|&c| c == b' ' || c == b'\t')
    }

    fn shape(&self, c: &Node) -> Shape {
        let n = len(c);
        if n == 0 {
            Shape::Empty
        } else if !self.has_newline(c.span) {
            Shape::Inline
        } else if (0..n).all(|i| self.own_line(member_start(c, i))) {
            Shape::Lines
        } else {
            Shape::Mixed
        }
    }

    fn node(&self, path: &Path) -> Result<&Node, EditError> {
        self.doc.node(path).ok_or_else(|| no_node(path))
    }

    fn parent(&self, path: &Path) -> Option<&Node> {
        path.parent().and_then(|p| self.doc.node(&p))
    }

    /// Whether new text at this collection's place should be spread over lines.
    fn multi_line_here(&self, path: &Path) -> bool {
        !self.doc.style().single_line && self.parent(path).is_none_or(|p| self.has_newline(p.span))
    }

    /// Depth-first search of the document for the first node `f` gives a result for.
    fn find_in_doc<T>(&self, f: impl Fn(&Node) -> Option<T>) -> Option<T> {
        let mut todo = vec![self.doc.root()];
        while let Some(n) = todo.pop() {
            if let Some(t) = f(n) {
                return Some(t);
            }
            match &n.kind {
                NodeKind::Mapping { entries, .. } => {
                    todo.extend(entries.iter().rev().map(|e| &e.value));
                }
                NodeKind::Sequence { items, .. } => todo.extend(items.iter().rev()),
                _ => {}
            }
        }
        None
    }

    /// The key/value separator of `obj`'s own entries, else of the first one in the file.
    fn colon(&self, obj: Option<&Node>) -> String {
        let of = |n: &Node| -> Option<String> {
            n.entries().iter().find_map(|e| {
                let sep = &self.text[e.key_span.end..e.value.span.start];
                (!sep.contains('\n')).then(|| sep.to_string())
            })
        };
        obj.and_then(of)
            .or_else(|| self.find_in_doc(of))
            // Nothing to learn from: one-line files are most often machine-minified.
            .unwrap_or_else(|| {
                if self.doc.style().single_line {
                    ":".to_string()
                } else {
                    ": ".to_string()
                }
            })
    }

    /// What separates members of an inline collection, learned from `coll` or the file.
    fn comma(&self, coll: Option<&Node>, colon: &str) -> String {
        let of = |n: &Node| -> Option<String> {
            if len(n) < 2 || self.has_newline(n.span) {
                return None;
            }
            Some(self.text[member_end(n, 0)..member_start(n, 1)].to_string())
        };
        coll.and_then(of)
            .or_else(|| self.find_in_doc(of))
            .unwrap_or_else(|| {
                if colon == ":" {
                    ",".to_string()
                } else {
                    ", ".to_string()
                }
            })
    }

    fn layout(&self, coll: Option<&Node>) -> Layout {
        let obj = coll.filter(|c| matches!(c.kind, NodeKind::Mapping { .. }));
        let colon = self.colon(obj);
        let comma = self.comma(coll, &colon);
        let style = self.doc.style();
        Layout {
            eol: style.eol.to_string(),
            unit: style.indent.clone(),
            colon,
            comma,
        }
    }

    fn replace(&self, path: &Path, value: &Value) -> Result<Vec<Splice>, EditError> {
        let node = self.node(path)?;
        if matches!(node.kind, NodeKind::Alias) {
            return Err(EditError::Unsupported(format!("{path} is an alias")));
        }
        let lay = self.layout(self.parent(path));
        let pretty = if self.doc.style().single_line {
            false
        } else if is_collection(node) && len(node) > 0 {
            // A collection keeps its own shape: spread out stays spread out.
            self.has_newline(node.span)
        } else {
            match self.parent(path) {
                None => true,
                Some(p) => self.shape(p) == Shape::Lines,
            }
        };
        let text = if pretty {
            render::pretty(value, &lay, self.indent_at(node.span.start))
        } else {
            render::compact(value, &lay)
        };
        Ok(vec![splice(node.span.start, node.span.end, text)])
    }

    fn insert_key(
        &self,
        path: &Path,
        key: &str,
        value: &Value,
        position: &Position,
    ) -> Result<Vec<Splice>, EditError> {
        let obj = self.node(path)?;
        let NodeKind::Mapping { entries, .. } = &obj.kind else {
            return Err(EditError::NoSuchNode(format!("{path} is not an object")));
        };
        if entries.iter().any(|e| e.key == key) {
            return Err(EditError::Unsupported(format!(
                "key {key:?} exists at {path}"
            )));
        }
        let find = |k: &str| entries.iter().position(|e| e.key == k);
        let n = entries.len();
        let index = match position {
            Position::End => n,
            Position::Start => 0,
            Position::Before(k) => find(k).unwrap_or(n),
            Position::After(k) => find(k).map_or(n, |i| i + 1),
        };
        let lay = self.layout(Some(obj));
        let quoted = render::quote(key);
        self.insert_member(path, obj, index, &lay, |indent| {
            let v = match indent {
                Some(base) => render::pretty(value, &lay, base),
                None => render::compact(value, &lay),
            };
            format!("{quoted}{}{v}", lay.colon)
        })
    }

    fn insert_item(
        &self,
        path: &Path,
        index: usize,
        value: &Value,
    ) -> Result<Vec<Splice>, EditError> {
        let arr = self.node(path)?;
        let NodeKind::Sequence { items, .. } = &arr.kind else {
            return Err(EditError::NoSuchNode(format!("{path} is not an array")));
        };
        if index > items.len() {
            return Err(no_node(&path.index(index)));
        }
        let lay = self.layout(Some(arr));
        self.insert_member(path, arr, index, &lay, |indent| match indent {
            Some(base) => render::pretty(value, &lay, base),
            None => render::compact(value, &lay),
        })
    }

    /// Insert a member so that it becomes member `i` of `coll`. `member` renders it, spread out
    /// from the given indentation or on one line (`None`).
    fn insert_member(
        &self,
        path: &Path,
        coll: &Node,
        i: usize,
        lay: &Layout,
        member: impl Fn(Option<&str>) -> String,
    ) -> Result<Vec<Splice>, EditError> {
        let n = len(coll);
        let open = coll.span.start + 1;
        let close = coll.span.end.saturating_sub(1).max(open);
        match self.shape(coll) {
            Shape::Empty => {
                if self.multi_line_here(path) {
                    let outer = self.indent_at(coll.span.start);
                    let inner = format!("{outer}{}", lay.unit);
                    let m = member(Some(&inner));
                    Ok(vec![splice(
                        open,
                        close,
                        format!("{eol}{inner}{m}{eol}{outer}", eol = lay.eol),
                    )])
                } else {
                    let m = member(None);
                    let inside = &self.text[open..close];
                    // `{ }` becomes `{ "a": 1 }`, `{}` becomes `{"a": 1}`.
                    let text = if !inside.is_empty() && !inside.contains('\n') {
                        format!(" {m} ")
                    } else {
                        m
                    };
                    Ok(vec![splice(open, close, text)])
                }
            }
            Shape::Lines => {
                let next = i.min(n - 1);
                let indent = self.indent_at(member_start(coll, next));
                let sep = format!(",{}{indent}", lay.eol);
                let m = member(Some(indent));
                Ok(vec![if i < n {
                    let at = member_start(coll, i);
                    splice(at, at, format!("{m}{sep}"))
                } else {
                    let at = member_end(coll, n - 1);
                    splice(at, at, format!("{sep}{m}"))
                }])
            }
            Shape::Inline => {
                let m = member(None);
                Ok(vec![if i < n {
                    let at = member_start(coll, i);
                    splice(at, at, format!("{m}{}", lay.comma))
                } else {
                    let at = member_end(coll, n - 1);
                    splice(at, at, format!("{}{m}", lay.comma))
                }])
            }
            Shape::Mixed => {
                // Reuse the separator next to the insertion point, as in `[{ … },\n  { … }]`.
                let sep = if n >= 2 {
                    let j = i.clamp(1, n - 1);
                    self.text[member_end(coll, j - 1)..member_start(coll, j)].to_string()
                } else if self.cuddled(coll) {
                    // `[{ … }]` grows as `[{ … }, { … }]`.
                    lay.comma.clone()
                } else {
                    return Err(EditError::Unsupported(format!(
                        "cannot tell how members of {path} are laid out"
                    )));
                };
                let near = i.min(n - 1);
                let m = match sep.rfind('\n').map(|nl| &sep[nl + 1..]) {
                    // Comma-first layouts (`\n  , x`) are not guessed at.
                    Some(indent) if !indent.bytes().all(|c| c == b' ' || c == b'\t') => {
                        return Err(EditError::Unsupported(format!(
                            "cannot tell how members of {path} are laid out"
                        )));
                    }
                    Some(indent) => member(Some(indent)),
                    None if self.spread_collection(coll, near) => {
                        // Line up with where the neighbour's closing bracket sits.
                        member(Some(
                            self.indent_at(member_end(coll, near).saturating_sub(1)),
                        ))
                    }
                    None => member(None),
                };
                Ok(vec![if i < n {
                    let at = member_start(coll, i);
                    splice(at, at, format!("{m}{sep}"))
                } else {
                    let at = member_end(coll, n - 1);
                    splice(at, at, format!("{sep}{m}"))
                }])
            }
        }
    }

    /// Whether member `i` is a collection spread over several lines.
    fn spread_collection(&self, coll: &Node, i: usize) -> bool {
        let m = match &coll.kind {
            NodeKind::Mapping { entries, .. } => entries.get(i).map(|e| &e.value),
            NodeKind::Sequence { items, .. } => items.get(i),
            _ => None,
        };
        m.is_some_and(|m| is_collection(m) && self.has_newline(m.span))
    }

    /// A single member hugging both brackets: `[{` … `}]`.
    fn cuddled(&self, coll: &Node) -> bool {
        len(coll) == 1
            && !self.has_newline(Span::new(coll.span.start, member_start(coll, 0)))
            && !self.has_newline(Span::new(member_end(coll, 0), coll.span.end))
    }

    fn remove(&self, path: &Path) -> Result<Vec<Splice>, EditError> {
        let parent_path = path.parent().ok_or_else(|| no_node(path))?;
        let coll = self.node(&parent_path)?;
        let i = match (path.last(), &coll.kind) {
            (Some(Seg::Key(k)), NodeKind::Mapping { entries, .. }) => {
                entries.iter().position(|e| e.key == **k)
            }
            (Some(Seg::Index(i)), NodeKind::Sequence { items, .. }) if *i < items.len() => Some(*i),
            _ => None,
        }
        .ok_or_else(|| no_node(path))?;
        let n = len(coll);
        let open = coll.span.start + 1;
        let close = coll.span.end.saturating_sub(1).max(open);
        if n == 1 {
            // The collection becomes empty: `{}` / `[]`.
            return Ok(vec![splice(open, close, String::new())]);
        }
        let span = if i + 1 == n {
            // The last member goes with the comma before it.
            Span::new(member_end(coll, i - 1), member_end(coll, i))
        } else if self.shape(coll) == Shape::Lines {
            // Whole lines: from the start of its line through the comma and line break.
            let mut end = member_end(coll, i);
            while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.b.get(end) {
                end += 1;
            }
            if self.b.get(end) == Some(&b',') {
                end += 1;
            }
            while let Some(b' ' | b'\t') = self.b.get(end) {
                end += 1;
            }
            if self.b.get(end) == Some(&b'\r') && self.b.get(end + 1) == Some(&b'\n') {
                end += 2;
            } else if self.b.get(end) == Some(&b'\n') {
                end += 1;
            }
            let next = member_start(coll, i + 1);
            Span::new(self.line_start(member_start(coll, i)), end.min(next))
        } else {
            Span::new(member_start(coll, i), member_start(coll, i + 1))
        };
        Ok(vec![splice(span.start, span.end, String::new())])
    }

    fn rename(&self, path: &Path, new_key: &str) -> Result<Vec<Splice>, EditError> {
        let parent_path = path.parent().ok_or_else(|| no_node(path))?;
        let obj = self.node(&parent_path)?;
        let Some(Seg::Key(old)) = path.last() else {
            return Err(no_node(path));
        };
        if obj.entry(new_key).is_some() {
            return Err(EditError::Unsupported(format!("key {new_key:?} exists")));
        }
        let e = obj.entry(old).ok_or_else(|| no_node(path))?;
        Ok(vec![splice(
            e.key_span.start,
            e.key_span.end,
            render::quote(new_key),
        )])
    }

    fn replace_in_scalar(
        &self,
        path: &Path,
        find: &str,
        replace: &str,
    ) -> Result<Vec<Splice>, EditError> {
        let node = self.node(path)?;
        let not_string = || EditError::NoSuchNode(format!("{path} is not a string"));
        if !matches!(
            node.kind,
            NodeKind::Scalar {
                style: ScalarStyle::DoubleQuoted
            }
        ) || node.span.end < node.span.start + 2
        {
            return Err(not_string());
        }
        let (start, end) = (node.span.start + 1, node.span.end - 1);
        let raw = &self.text[start..end];
        let (decoded, raw_of) = decode(raw).ok_or_else(not_string)?;
        if find.is_empty() || !decoded.contains(find) {
            return Err(EditError::NoSuchNode(format!(
                "{path} does not contain the text"
            )));
        }
        // Keep the original spelling (escapes included) of everything outside the matches.
        let mut out = String::with_capacity(raw.len() + replace.len());
        let mut last = 0;
        for (at, _) in decoded.match_indices(find) {
            out.push_str(&raw[last..raw_of[at]]);
            render::escape_into(replace, &mut out);
            last = raw_of[at + find.len()];
        }
        out.push_str(&raw[last..]);
        Ok(vec![splice(start, end, out)])
    }
}

/// Decode the inside of a JSON string literal, also giving for each byte of the decoded text
/// the offset in `raw` of the character (or escape) it came from; one extra entry marks the
/// end. `None` for malformed input (which the scanner has already refused).
fn decode(raw: &str) -> Option<(String, Vec<usize>)> {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut raw_of = Vec::with_capacity(raw.len() + 1);
    let mut i = 0;
    while i < b.len() {
        let (c, step) = if b[i] == b'\\' {
            let e = *b.get(i + 1)?;
            match e {
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'/' => ('/', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                b'u' => {
                    let hi = hex4(raw.get(i + 2..i + 6)?)?;
                    if (0xD800..0xDC00).contains(&hi) {
                        if raw.get(i + 6..i + 8)? != "\\u" {
                            return None;
                        }
                        let lo = hex4(raw.get(i + 8..i + 12)?)?;
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?);
                        (char::from_u32(cp)?, 12)
                    } else {
                        (char::from_u32(hi)?, 6)
                    }
                }
                _ => return None,
            }
        } else {
            let c = raw.get(i..)?.chars().next()?;
            (c, c.len_utf8())
        };
        out.push(c);
        raw_of.extend(std::iter::repeat_n(i, c.len_utf8()));
        i += step;
    }
    raw_of.push(raw.len());
    Some((out, raw_of))
}

fn hex4(s: &str) -> Option<u32> {
    if s.len() != 4 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}
