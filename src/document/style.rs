//! The layout conventions of a file, learned from the file itself so that inserted text
//! looks as if the same person had written it.

use super::Format;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// `"\r\n"` when most lines end that way, else `"\n"`.
    pub eol: &'static str,
    /// The indentation unit: `"  "`, `"    "`, `"\t"`, … (two spaces when nothing tells).
    pub indent: String,
    /// Whether the text ends with a newline.
    pub final_newline: bool,
    /// JSON only: the whole document is on one line.
    pub single_line: bool,
}

impl Style {
    pub fn detect(text: &str, _format: Format) -> Style {
        let lf = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let crlf = memchr::memmem::find_iter(text.as_bytes(), b"\r\n").count();
        let eol = if crlf > 0 && crlf * 2 >= lf {
            "\r\n"
        } else {
            "\n"
        };
        Style {
            eol,
            indent: detect_indent(text),
            final_newline: text.ends_with('\n'),
            single_line: text.trim_end().lines().nth(1).is_none(),
        }
    }
}

/// The smallest step between the indentation of consecutive non-blank lines.
fn detect_indent(text: &str) -> String {
    let mut tabs = 0usize;
    let mut spaces = 0usize;
    let mut step: Option<usize> = None;
    let mut prev = 0usize;
    // Lines as `str::lines` gives them (a `\r` before a `\n` is not part of the line), read
    // as bytes: the indentation is spaces and tabs, and a line is skipped when nothing or a
    // comment follows it.
    let b = text.as_bytes();
    let mut start = 0;
    while start < b.len() {
        let (mut end, next) = match memchr::memchr(b'\n', &b[start..]) {
            Some(i) => (start + i, start + i + 1),
            None => (b.len(), b.len()),
        };
        if next > end && end > start && b[end - 1] == b'\r' {
            end -= 1;
        }
        let line = &b[start..end];
        start = next;
        let n = line
            .iter()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        if matches!(line.get(n), None | Some(b'#')) {
            continue;
        }
        if line[0] == b'\t' {
            tabs += 1;
            continue;
        }
        if n > 0 {
            spaces += 1;
        }
        if n > prev {
            let d = n - prev;
            step = Some(step.map_or(d, |s| s.min(d)));
        }
        prev = n;
    }
    if tabs > spaces {
        "\t".to_string()
    } else {
        " ".repeat(step.unwrap_or(2).clamp(1, 8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The indentation as it was read before, line by line through `str::lines`.
    fn reference_indent(text: &str) -> String {
        let mut tabs = 0usize;
        let mut spaces = 0usize;
        let mut step: Option<usize> = None;
        let mut prev = 0usize;
        for line in text.lines() {
            let trimmed = line.trim_start_matches([' ', '\t']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let lead = &line[..line.len() - trimmed.len()];
            if lead.starts_with('\t') {
                tabs += 1;
                continue;
            }
            let n = lead.len();
            if n > 0 {
                spaces += 1;
            }
            if n > prev {
                let d = n - prev;
                step = Some(step.map_or(d, |s| s.min(d)));
            }
            prev = n;
        }
        if tabs > spaces {
            "\t".to_string()
        } else {
            " ".repeat(step.unwrap_or(2).clamp(1, 8))
        }
    }

    /// The same indentation as the line-by-line reading, on the shared files and on texts
    /// with carriage returns, tabs, comments and blank lines in every place.
    #[test]
    fn indent_is_the_line_by_line_reading() {
        let mut texts: Vec<String> = [
            "",
            "\n",
            "\r",
            "a\r",
            "  a\r",
            "\t\r\n",
            "  \r\n    b",
            "a:\n   \n  # c\n    b\r\n",
            "\ta\n\tb\n  c",
            "  \ra\n    b",
            "x\n\n\n      y\n   z",
            "#\n  #\n\t#",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        texts.extend(crate::testing::shared_texts());
        assert!(texts.len() > 100);
        for t in &texts {
            assert_eq!(detect_indent(t), reference_indent(t), "{t:?}");
        }
    }

    #[test]
    fn detects_eol_indent_and_final_newline() {
        let s = Style::detect(
            "{\r\n    \"a\": {\r\n        \"b\": 1\r\n    }\r\n}",
            Format::Json,
        );
        assert_eq!(s.eol, "\r\n");
        assert_eq!(s.indent, "    ");
        assert!(!s.final_newline);
        assert!(!s.single_line);
        let t = Style::detect("a:\n\tb: 1\n", Format::Yaml);
        assert_eq!(t.indent, "\t");
        assert!(t.final_newline);
        assert!(Style::detect("{\"a\":1}", Format::Json).single_line);
    }
}
