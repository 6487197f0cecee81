//! A strict RFC 8259 scanner that records byte spans.
//!
//! It works on bytes with an explicit stack, so hostile nesting ends in a [`ParseError`] at
//! `limits.max_depth` instead of a stack overflow, and it builds the meaning as it goes.

use serde_json::{Map, Number, Value};

use crate::document::lines::line_col;
use crate::document::{Entry, Limits, Node, NodeKind, ParseError, ScalarStyle, Span};

enum Frame {
    Object {
        start: usize,
        entries: Vec<Entry>,
        map: Map<String, Value>,
        /// The key whose value is being parsed.
        key: Option<(String, Span)>,
    },
    Array {
        start: usize,
        items: Vec<Node>,
        values: Vec<Value>,
    },
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
}

type Res<T> = Result<T, ParseError>;

pub fn parse(text: &str, limits: &Limits) -> Res<(Node, Value)> {
    let mut s = Scanner {
        text,
        b: text.as_bytes(),
        pos: 0,
    };
    s.skip_ws();
    if s.pos >= s.b.len() {
        return Err(s.err_at(0, "empty file".into()));
    }
    let mut stack: Vec<Frame> = Vec::new();
    'value: loop {
        s.skip_ws();
        let start = s.pos;
        let Some(&c) = s.b.get(start) else {
            return Err(s.err_at(start, "unexpected end of input, expected a value".into()));
        };
        let mut done: (Node, Value) = match c {
            b'{' | b'[' => {
                if stack.len() >= limits.max_depth {
                    return Err(s.err_at(
                        start,
                        format!("nesting deeper than {} levels", limits.max_depth),
                    ));
                }
                s.pos += 1;
                s.skip_ws();
                if c == b'{' {
                    if s.peek() == Some(b'}') {
                        s.pos += 1;
                        object_node(start, s.pos, Vec::new(), Map::new())
                    } else {
                        let map = Map::new();
                        let key = s.key(&map, &[])?;
                        stack.push(Frame::Object {
                            start,
                            entries: Vec::new(),
                            map,
                            key: Some(key),
                        });
                        continue 'value;
                    }
                } else if s.peek() == Some(b']') {
                    s.pos += 1;
                    array_node(start, s.pos, Vec::new(), Vec::new())
                } else {
                    stack.push(Frame::Array {
                        start,
                        items: Vec::new(),
                        values: Vec::new(),
                    });
                    continue 'value;
                }
            }
            b'"' => {
                let v = s.string()?;
                (
                    scalar(start, s.pos, ScalarStyle::DoubleQuoted),
                    Value::String(v),
                )
            }
            b'-' | b'0'..=b'9' => {
                let n = s.number()?;
                (scalar(start, s.pos, ScalarStyle::Plain), Value::Number(n))
            }
            _ => {
                let v = s.literal()?;
                (scalar(start, s.pos, ScalarStyle::Plain), v)
            }
        };
        // Attach the finished value to its parent; close every collection that ends here.
        loop {
            let Some(frame) = stack.last_mut() else {
                s.skip_ws();
                if s.pos < s.b.len() {
                    return Err(s.err_at(
                        s.pos,
                        format!("unexpected {} after the top-level value", s.describe(s.pos)),
                    ));
                }
                return Ok(done);
            };
            match frame {
                Frame::Object {
                    start,
                    entries,
                    map,
                    key,
                } => {
                    if let Some((k, key_span)) = key.take() {
                        map.insert(k.clone(), done.1);
                        entries.push(Entry {
                            key: k,
                            key_span,
                            value: done.0,
                        });
                    }
                    s.skip_ws();
                    match s.peek() {
                        Some(b',') => {
                            s.pos += 1;
                            s.skip_ws();
                            *key = Some(s.key(map, entries)?);
                            continue 'value;
                        }
                        Some(b'}') => {
                            s.pos += 1;
                            let start = *start;
                            let entries = std::mem::take(entries);
                            let map = std::mem::take(map);
                            stack.pop();
                            done = object_node(start, s.pos, entries, map);
                        }
                        None => return Err(s.eof("expected ',' or '}'")),
                        Some(_) => {
                            return Err(s.err_at(
                                s.pos,
                                format!("expected ',' or '}}', found {}", s.describe(s.pos)),
                            ));
                        }
                    }
                }
                Frame::Array {
                    start,
                    items,
                    values,
                } => {
                    items.push(done.0);
                    values.push(done.1);
                    s.skip_ws();
                    match s.peek() {
                        Some(b',') => {
                            s.pos += 1;
                            s.skip_ws();
                            if s.peek() == Some(b']') {
                                return Err(s.err_at(s.pos, "trailing comma before ']'".into()));
                            }
                            continue 'value;
                        }
                        Some(b']') => {
                            s.pos += 1;
                            let start = *start;
                            let items = std::mem::take(items);
                            let values = std::mem::take(values);
                            stack.pop();
                            done = array_node(start, s.pos, items, values);
                        }
                        None => return Err(s.eof("expected ',' or ']'")),
                        Some(_) => {
                            return Err(s.err_at(
                                s.pos,
                                format!("expected ',' or ']', found {}", s.describe(s.pos)),
                            ));
                        }
                    }
                }
            }
        }
    }
}

fn scalar(start: usize, end: usize, style: ScalarStyle) -> Node {
    Node {
        span: Span::new(start, end),
        kind: NodeKind::Scalar { style },
    }
}

// JSON collections are all written in (YAML terms) flow syntax, hence `flow: true`.
fn object_node(
    start: usize,
    end: usize,
    entries: Vec<Entry>,
    map: Map<String, Value>,
) -> (Node, Value) {
    (
        Node {
            span: Span::new(start, end),
            kind: NodeKind::Mapping {
                entries,
                flow: true,
            },
        },
        Value::Object(map),
    )
}

fn array_node(start: usize, end: usize, items: Vec<Node>, values: Vec<Value>) -> (Node, Value) {
    (
        Node {
            span: Span::new(start, end),
            kind: NodeKind::Sequence { items, flow: true },
        },
        Value::Array(values),
    )
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    fn err_at(&self, at: usize, message: String) -> ParseError {
        let (line, col) = line_col(self.text, at);
        ParseError { line, col, message }
    }

    fn eof(&self, expected: &str) -> ParseError {
        self.err_at(self.b.len(), format!("unexpected end of input, {expected}"))
    }

    /// A short description of what sits at `at`, for error messages.
    fn describe(&self, at: usize) -> String {
        match self.text.get(at..).and_then(|r| r.chars().next()) {
            None => "end of input".into(),
            Some(c) if c.is_control() || c.is_whitespace() || c == '\u{feff}' => {
                format!("character U+{:04X}", c as u32)
            }
            Some(c) => format!("'{c}'"),
        }
    }

    /// An object key at `pos`, then its `:`; refuses a key that is already in `map`.
    fn key(&mut self, map: &Map<String, Value>, entries: &[Entry]) -> Res<(String, Span)> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => {}
            Some(b'}') => return Err(self.err_at(start, "trailing comma before '}'".into())),
            None => return Err(self.eof("expected an object key")),
            Some(b'\'') => {
                return Err(self.err_at(
                    start,
                    "single-quoted strings are not JSON; keys must be double-quoted".into(),
                ));
            }
            Some(b'/') => return Err(self.err_at(start, "comments are not allowed in JSON".into())),
            Some(_) => {
                return Err(self.err_at(
                    start,
                    format!(
                        "expected a double-quoted object key, found {}",
                        self.safe_token_desc(start)
                    ),
                ));
            }
        }
        let key = self.string()?;
        let span = Span::new(start, self.pos);
        if crate::document::has_key(entries, map, &key) {
            let first = entries
                .iter()
                .find(|e| e.key == key)
                .map(|e| line_col(self.text, e.key_span.start));
            let msg = match first {
                Some((l, c)) => format!("duplicate key {key:?} (first defined at {l}:{c})"),
                None => format!("duplicate key {key:?}"),
            };
            return Err(self.err_at(start, msg));
        }
        self.skip_ws();
        match self.peek() {
            Some(b':') => self.pos += 1,
            None => return Err(self.eof("expected ':' after object key")),
            Some(_) => {
                return Err(self.err_at(
                    self.pos,
                    format!(
                        "expected ':' after object key, found {}",
                        self.describe(self.pos)
                    ),
                ));
            }
        }
        Ok((key, span))
    }

    /// A string starting at the opening quote at `pos`; leaves `pos` after the closing quote.
    fn string(&mut self) -> Res<String> {
        let open = self.pos;
        self.pos += 1;
        let mut run = self.pos;
        // Only allocate a fresh buffer once an escape appears.
        let mut out: Option<String> = None;
        loop {
            // Plain characters are skipped in one search for what ends them.
            let rest = &self.b[self.pos..];
            let plain = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
            match rest[..plain].iter().position(|&c| c < 0x20) {
                Some(k) => self.pos += k,
                None => self.pos += plain,
            }
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.err_at(open, "unterminated string".into()));
            };
            match c {
                b'"' => {
                    let tail = &self.text[run..self.pos];
                    self.pos += 1;
                    return Ok(match out {
                        Some(mut s) => {
                            s.push_str(tail);
                            s
                        }
                        None => tail.to_string(),
                    });
                }
                b'\\' => {
                    let buf = out.get_or_insert_with(String::new);
                    buf.push_str(&self.text[run..self.pos]);
                    buf.push(self.escape()?);
                    run = self.pos;
                }
                0x00..=0x1f => {
                    return Err(self.err_at(
                        self.pos,
                        format!("control character U+{c:04X} in string (it must be escaped)"),
                    ));
                }
                _ => self.pos += 1,
            }
        }
    }

    /// One escape sequence at the backslash at `pos`.
    fn escape(&mut self) -> Res<char> {
        let at = self.pos;
        let Some(&c) = self.b.get(at + 1) else {
            return Err(self.err_at(at, "unterminated string".into()));
        };
        self.pos = at + 2;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4(at)?;
                if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    if self.b.get(self.pos) == Some(&b'\\')
                        && self.b.get(self.pos + 1) == Some(&b'u')
                    {
                        let low_at = self.pos;
                        self.pos += 2;
                        let lo = self.hex4(low_at)?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(self.err_at(
                                low_at,
                                format!("\\u{lo:04X} is not a low surrogate after \\u{hi:04X}"),
                            ));
                        }
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        char::from_u32(cp)
                            .ok_or_else(|| self.err_at(at, "invalid unicode escape".into()))?
                    } else {
                        return Err(
                            self.err_at(at, format!("lone surrogate \\u{hi:04X} in string"))
                        );
                    }
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(self.err_at(at, format!("lone surrogate \\u{hi:04X} in string")));
                } else {
                    char::from_u32(hi)
                        .ok_or_else(|| self.err_at(at, "invalid unicode escape".into()))?
                }
            }
            _ => {
                return Err(self.err_at(
                    at,
                    format!("invalid escape \\{} in string", self.describe_raw(at + 1)),
                ));
            }
        })
    }

    fn describe_raw(&self, at: usize) -> String {
        match self.text.get(at..).and_then(|r| r.chars().next()) {
            Some(c) if !c.is_control() => c.to_string(),
            Some(c) => format!("U+{:04X}", c as u32),
            None => String::new(),
        }
    }

    /// Four hex digits at `pos` (just after `\u`); `esc` is the backslash, for errors.
    fn hex4(&mut self, esc: usize) -> Res<u32> {
        let mut v = 0u32;
        for i in 0..4 {
            let d = match self.b.get(self.pos + i) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                None => return Err(self.err_at(esc, "unterminated string".into())),
                Some(_) => {
                    return Err(self.err_at(esc, "\\u must be followed by four hex digits".into()));
                }
            };
            v = v * 16 + u32::from(d);
        }
        self.pos += 4;
        Ok(v)
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while let Some(b'0'..=b'9') = self.b.get(self.pos) {
            self.pos += 1;
        }
        self.pos - from
    }

    /// A number per the RFC 8259 grammar; the exact text goes to serde_json.
    fn number(&mut self) -> Res<Number> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(
                        self.err_at(start, "leading zeros are not allowed in numbers".into())
                    );
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => {
                return Err(self.err_at(
                    start,
                    format!("invalid number {}", self.safe_token_desc(start)),
                ));
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err_at(
                    start,
                    format!("invalid number {}", self.safe_token_desc(start)),
                ));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err_at(
                    start,
                    format!("invalid number {}", self.safe_token_desc(start)),
                ));
            }
        }
        if self.peek().is_some_and(is_word_byte) {
            return Err(self.err_at(
                start,
                format!("invalid number {}", self.safe_token_desc(start)),
            ));
        }
        self.text[start..self.pos].parse::<Number>().map_err(|_| {
            self.err_at(
                start,
                format!(
                    "number of {} characters is out of range",
                    self.pos.saturating_sub(start)
                ),
            )
        })
    }

    /// `true`, `false` or `null`; anything else here is an unquoted token.
    fn literal(&mut self) -> Res<Value> {
        let start = self.pos;
        let rest = &self.b[start..];
        for (word, v) in [
            (&b"true"[..], Value::Bool(true)),
            (b"false", Value::Bool(false)),
            (b"null", Value::Null),
        ] {
            if rest.starts_with(word) && !rest.get(word.len()).copied().is_some_and(is_word_byte) {
                self.pos += word.len();
                return Ok(v);
            }
        }
        let msg = match rest.first() {
            Some(b'\'') => "single-quoted strings are not JSON".to_string(),
            Some(b'/') => "comments are not allowed in JSON".to_string(),
            Some(b'}' | b']') => format!("expected a value, found {}", self.describe(start)),
            Some(b',') => "expected a value, found ','".to_string(),
            _ => {
                let ch = self.text.get(start..).and_then(|r| r.chars().next());
                if ch.is_some_and(|c| c.is_control() || c.is_whitespace() || c == '\u{feff}') {
                    format!("unexpected {}", self.describe(start))
                } else {
                    let tok = self.safe_token_desc(start);
                    let templ =
                        tok.starts_with("`<") || tok.starts_with("`${") || tok.starts_with("`{{");
                    if templ {
                        format!("unquoted token {tok} (an unrendered template?)")
                    } else if tok.starts_with('`') {
                        format!("unquoted token {tok}")
                    } else {
                        format!("unquoted token: {tok}")
                    }
                }
            }
        };
        Err(self.err_at(start, msg))
    }

    /// The bare token at `at` for error messages: quoted only when it is a template
    /// placeholder (`<NAME>`, `${…}`, `{{…}}`) or at most 3 characters long; any other token
    /// might be a secret value, so only its length is told.
    fn safe_token_desc(&self, at: usize) -> String {
        let tok = self.token_desc(at);
        if tok.starts_with("`<") || tok.starts_with("`${") || tok.starts_with("`{{") {
            return tok;
        }
        let rest = self.text.get(at..).unwrap_or("");
        let n = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '"' | ']' | '[' | '}'))
            .map_or(rest.chars().count(), |e| rest[..e].chars().count());
        // As short as the mask ignores (see `report::mask`): too short to be a secret.
        if n <= 3 {
            return tok;
        }
        format!("a bare word of {n} characters (not quoted here: it may be a secret)")
    }

    /// The bare token at `at`, back-quoted and cut short, for error messages.
    fn token_desc(&self, at: usize) -> String {
        let rest = self.text.get(at..).unwrap_or("");
        let mut end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | ':' | '"' | ']' | '['))
            .unwrap_or(rest.len());
        // `${X}` and `{{x}}` keep their braces; elsewhere a `}` ends the token.
        let close = if rest.starts_with("${") {
            rest[..end].find('}').map(|b| b + 1)
        } else if rest.starts_with("{{") {
            rest[..end].find("}}").map(|b| b + 2)
        } else {
            rest[..end].find('}').map(|b| b.max(1))
        };
        if let Some(c) = close {
            end = c;
        }
        let tok = &rest[..end];
        if tok.chars().count() > 40 {
            let cut: String = tok.chars().take(40).collect();
            format!("`{cut}…`")
        } else {
            format!("`{tok}`")
        }
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, b'_' | b'.' | b'-' | b'+' | b'$' | b'<' | b'>')
        || c >= 0x80
}
