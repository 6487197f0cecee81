//! Where the lines of a text start: the one conversion between byte offsets and 1-based
//! line and character column that every module converting offsets uses (documents, the YAML
//! parser's marker conversion, JSON and configuration errors).

/// The byte offset of the start of every line of a text (the first is 0). Columns count
/// characters, not bytes; a line ends after its `\n`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// The byte offsets where lines start, in order.
    pub fn starts(&self) -> &[usize] {
        &self.starts
    }

    /// The bytes `start..end` of 0-based line `line` of `text` (its `\n` included), if the
    /// text has that line.
    pub fn line_span(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = *self.starts.get(line)?;
        let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        Some((start, end))
    }

    /// 1-based line and column (in characters) of byte offset `byte` of `text`, the text
    /// this index was made from. An offset inside a character counts as that character's
    /// start; one past the end as the end.
    pub fn line_col(&self, text: &str, byte: usize) -> (usize, usize) {
        let byte = byte.min(text.len());
        let line = match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let mut b = byte;
        while b > start && !text.is_char_boundary(b) {
            b -= 1;
        }
        (line + 1, text[start..b].chars().count() + 1)
    }
}

/// 1-based line and column of `byte` in `text`, for a single conversion (an error message).
pub fn line_col(text: &str, byte: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(text, byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_character_columns() {
        let text = "a: 1\r\nbé: x\n\nz";
        let ix = LineIndex::new(text);
        assert_eq!(ix.starts(), &[0, 6, 13, 14]);
        assert_eq!(ix.line_col(text, 0), (1, 1));
        assert_eq!(ix.line_col(text, 5), (1, 6));
        assert_eq!(ix.line_col(text, 6), (2, 1));
        // `é` is two bytes: inside it counts as its start, after it as one character.
        assert_eq!(ix.line_col(text, 8), (2, 2));
        assert_eq!(ix.line_col(text, 9), (2, 3));
        assert_eq!(ix.line_col(text, 13), (3, 1));
        assert_eq!(ix.line_col(text, 99), (4, 2));
        assert_eq!(ix.line_span(text, 1), Some((6, 13)));
        assert_eq!(ix.line_span(text, 3), Some((14, 15)));
        assert_eq!(ix.line_span(text, 4), None);
        // The same as counting in the text.
        for b in 0..=text.len() {
            let mut at = b;
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let head = &text[..at];
            let from = head.rfind('\n').map_or(0, |i| i + 1);
            let counted = (
                head.matches('\n').count() + 1,
                head[from..].chars().count() + 1,
            );
            assert_eq!(ix.line_col(text, b), counted, "at {b}");
            assert_eq!(line_col(text, b), counted, "at {b}");
        }
    }
}
