//! Scanning the text around yaml-rust2's start markers: line helpers, and where each scalar,
//! key, indicator and block scalar ends. Used by the parser to compute byte spans and by the
//! edit lowering to place new text.

use crate::document::LineIndex;

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

    pub(super) fn into_index(self) -> LineIndex {
        self.index
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

pub(super) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// End of the line holding `pos`, before its `\n` or `\r\n`.
pub(super) fn line_end(text: &str, pos: usize) -> usize {
    let e = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    if e > pos && text.as_bytes()[e - 1] == b'\r' && e < text.len() {
        e - 1
    } else {
        e
    }
}

/// Start of the line after the one holding `pos` (`text.len()` on the last line).
pub(super) fn next_line_start(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1)
}

/// Column (in characters) of `pos` in its line.
pub(super) fn col_of(text: &str, pos: usize) -> usize {
    text[line_start(text, pos)..pos].chars().count()
}

/// Leading spaces of the line that starts at `ls`.
fn indent_at(text: &str, ls: usize) -> usize {
    text[ls..].bytes().take_while(|&b| b == b' ').count()
}

/// Whether only spaces precede `pos` on its line.
pub(super) fn first_on_line(text: &str, pos: usize) -> bool {
    text[line_start(text, pos)..pos].bytes().all(|b| b == b' ')
}

fn is_blank_line(line: &str) -> bool {
    line.trim_matches([' ', '\t', '\r']).is_empty()
}

/// Skip spaces, line breaks and comments.
pub(super) fn skip_trivia(text: &str, mut p: usize) -> usize {
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
pub(super) fn empty_value_pos(text: &str, cursor: usize) -> usize {
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
pub(super) fn empty_key_pos(text: &str, cursor: usize, flow: bool) -> usize {
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

pub(super) fn block_indicator_pos(text: &str, cursor: usize) -> Option<usize> {
    let mut p = skip_trivia(text, cursor);
    p = skip_indicator(text, p);
    p = skip_trivia(text, p);
    p = skip_props(text, p);
    p = skip_trivia(text, p);
    matches!(text.as_bytes().get(p), Some(b'|' | b'>')).then_some(p)
}

/// End of a quoted scalar starting at the quote `start` (byte after the closing quote).
pub(super) fn quoted_end(text: &str, start: usize) -> Option<usize> {
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
pub(super) fn plain_end(text: &str, start: usize, flow: bool, value: &str) -> Option<usize> {
    let mut end = plain_segment_end(text, start, flow);
    // Most plain scalars are one line: no folded copy is made for them.
    if text[start..end] == *value {
        return Some(end);
    }
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
pub(super) fn block_scalar_end(text: &str, start: usize, parent: Option<usize>) -> usize {
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
pub(super) struct BlockHeader {
    pub(super) chomp: Option<char>,
    pub(super) digit: Option<usize>,
    /// Byte length of the indicator characters (`|-2` is 3).
    pub(super) len: usize,
}

pub(super) fn block_header(text: &str, start: usize) -> BlockHeader {
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
pub(super) fn block_lines(
    text: &str,
    start: usize,
    end: usize,
) -> (Vec<(usize, usize)>, Option<usize>) {
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
pub(super) fn block_content_matches(
    text: &str,
    start: usize,
    end: usize,
    value: &str,
    literal: bool,
) -> bool {
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
