//! Node addresses: a list of mapping keys and sequence indices, printed as an RFC 9535
//! normalized JSONPath (`$['pipeline']['stages'][2]`).

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// Shared: a path is copied into every longer path built from it, and a shared key is
    /// copied without allocating.
    Key(Arc<str>),
    Index(usize),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(Vec<Seg>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }

    pub fn from_segs(segs: Vec<Seg>) -> Path {
        Path(segs)
    }

    pub fn segs(&self) -> &[Seg] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path with a key appended.
    pub fn key(&self, k: &str) -> Path {
        self.with(Seg::Key(Arc::from(k)))
    }

    /// This path with the segments of `tail` appended (its keys shared, not copied).
    pub fn join(&self, tail: &Path) -> Path {
        let mut segs = Vec::with_capacity(self.0.len() + tail.0.len());
        segs.extend_from_slice(&self.0);
        segs.extend_from_slice(&tail.0);
        Path(segs)
    }

    /// This path with an index appended.
    pub fn index(&self, i: usize) -> Path {
        self.with(Seg::Index(i))
    }

    /// This path and one more segment, in one allocation of the list (a clone then a push
    /// would allocate twice; paths are built for every value a rule looks at).
    fn with(&self, seg: Seg) -> Path {
        let mut segs = Vec::with_capacity(self.0.len() + 1);
        segs.extend_from_slice(&self.0);
        segs.push(seg);
        Path(segs)
    }

    pub fn parent(&self) -> Option<Path> {
        if self.0.is_empty() {
            None
        } else {
            Some(Path(self.0[..self.0.len() - 1].to_vec()))
        }
    }

    pub fn last(&self) -> Option<&Seg> {
        self.0.last()
    }

    pub fn starts_with(&self, other: &Path) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The value at this path inside `v`.
    pub fn lookup<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        let mut cur = v;
        for seg in &self.0 {
            cur = match seg {
                Seg::Key(k) => super::value::field(cur, k)?,
                Seg::Index(i) => cur.as_array()?.get(*i)?,
            };
        }
        Some(cur)
    }

    pub fn lookup_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        let mut cur = v;
        for seg in &self.0 {
            cur = match seg {
                Seg::Key(k) => super::value::field_mut(cur, k)?,
                Seg::Index(i) => cur.as_array_mut()?.get_mut(*i)?,
            };
        }
        Some(cur)
    }

    /// Parse a normalized JSONPath (`$['a'][0]`, as jsonpath-rust reports them) or the dotted
    /// shorthand `$.a[0].b`.
    pub fn parse(s: &str) -> Option<Path> {
        let rest = s.strip_prefix('$')?;
        let mut segs = Vec::new();
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    let start = i + 1;
                    let mut j = start;
                    while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                        j += 1;
                    }
                    if j == start {
                        return None;
                    }
                    segs.push(Seg::Key(Arc::from(&rest[start..j])));
                    i = j;
                }
                b'[' if b.get(i + 1) == Some(&b'\'') => {
                    let mut key = String::new();
                    let mut j = i + 2;
                    loop {
                        let c = *b.get(j)?;
                        if c == b'\\' {
                            let n = rest[j + 1..].chars().next()?;
                            key.push(n);
                            j += 1 + n.len_utf8();
                        } else if c == b'\'' {
                            break;
                        } else {
                            let ch = rest[j..].chars().next()?;
                            key.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                    if b.get(j + 1) != Some(&b']') {
                        return None;
                    }
                    segs.push(Seg::Key(Arc::from(key)));
                    i = j + 2;
                }
                b'[' => {
                    let end = rest[i..].find(']')? + i;
                    let n: usize = rest[i + 1..end].parse().ok()?;
                    segs.push(Seg::Index(n));
                    i = end + 1;
                }
                _ => return None,
            }
        }
        Some(Path(segs))
    }

    /// All paths in `v` that a JSONPath selector matches (through jsonpath-rust); none when
    /// the selector is malformed (see [`Selector`] to tell).
    pub fn select(v: &Value, selector: &str) -> Vec<Path> {
        Selector::parse(selector)
            .map(|s| s.select(v))
            .unwrap_or_default()
    }
}

/// A compiled RFC 9535 JSONPath expression (through jsonpath-rust) that selects nodes of a
/// document's tree (the same tree for JSON and YAML).
#[derive(Clone, Debug)]
pub struct Selector {
    text: String,
    query: jsonpath_rust::parser::model::JpQuery,
}

impl Selector {
    /// Compile `text`; the error is one line, fit for a message that names its position.
    pub fn parse(text: &str) -> Result<Selector, String> {
        match jsonpath_rust::parser::parse_json_path(text) {
            Ok(query) => Ok(Selector {
                text: text.to_string(),
                query,
            }),
            Err(_) if !text.trim_start().starts_with('$') => Err(format!(
                "{text:?} is not a JSONPath expression (it must start with `$`, the document)"
            )),
            Err(e) => Err(format!(
                "{text:?} is not a JSONPath expression ({})",
                parse_error(&e.to_string())
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The paths of the nodes this expression selects in `v` (none when it yields a value
    /// rather than nodes).
    pub fn select(&self, v: &Value) -> Vec<Path> {
        match jsonpath_rust::query::js_path_process(&self.query, v) {
            Ok(found) => found.iter().filter_map(|r| Path::parse(&r.path)).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// jsonpath-rust's parse error (pest's several-line picture of the expression) as one
/// line: `at character N: expected …`.
fn parse_error(message: &str) -> String {
    let at = message
        .split("-->")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pos| pos.rsplit(':').next())
        .filter(|col| col.bytes().all(|b| b.is_ascii_digit()));
    let what = message
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("= "));
    match (at, what) {
        (Some(col), Some(what)) => format!("at character {col}: {what}"),
        _ => {
            let words: Vec<&str> = message.split_whitespace().collect();
            words.join(" ")
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    f.write_str("['")?;
                    // Runs without a quote or a backslash are written whole.
                    let mut rest: &str = k;
                    while let Some(i) = rest.find(['\'', '\\']) {
                        f.write_str(&rest[..i])?;
                        f.write_str("\\")?;
                        f.write_str(&rest[i..i + 1])?;
                        rest = &rest[i + 1..];
                    }
                    f.write_str(rest)?;
                    f.write_str("']")?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalized_paths_round_trip() {
        let p = Path::root().key("pipeline").key("it's").index(3);
        let s = p.to_string();
        assert_eq!(s, r"$['pipeline']['it\'s'][3]");
        assert_eq!(Path::parse(&s), Some(p));
        let p = Path::root().key(r"\a''b\").key("é'").key("");
        let s = p.to_string();
        assert_eq!(s, r"$['\\a\'\'b\\']['é\'']['']");
        assert_eq!(Path::parse(&s), Some(p));
        assert_eq!(
            Path::parse("$.a[0].b"),
            Some(Path::root().key("a").index(0).key("b"))
        );
        assert_eq!(Path::parse("a.b"), None);
    }

    #[test]
    fn jsonpath_selectors_give_paths() {
        let v = json!({"stages": [{"name": "Source"}, {"name": "Deploy"}]});
        let found = Path::select(&v, "$.stages[?@.name == 'Deploy']");
        assert_eq!(found, vec![Path::root().key("stages").index(1)]);
        // The parenthesised filter form selects the same node.
        let s = Selector::parse("$.stages[?(@.name == 'Deploy')]").expect("valid");
        assert_eq!(s.select(&v), vec![Path::root().key("stages").index(1)]);
        assert!(s.select(&json!({"other": 1})).is_empty());
    }

    #[test]
    fn malformed_selectors_are_refused_in_one_line() {
        for bad in [
            "$.a[?(@.name == 'x']",
            "containerDefinitions",
            "$..[",
            "$.a[?@.b ==]",
        ] {
            let e = Selector::parse(bad).expect_err(bad);
            assert!(!e.contains('\n'), "{e}");
            assert!(e.contains("not a JSONPath expression"), "{e}");
        }
        assert_eq!(
            Selector::parse("$.a[?(@.name == 'x']").err().as_deref(),
            Some(
                "\"$.a[?(@.name == 'x']\" is not a JSONPath expression (at character 17: expected int)"
            )
        );
    }
}
