//! Reading a buildspec's commands as shell: every `commands`/`finally` item of every phase, the
//! lines of multi-line items, a small tokenizer that knows quotes, `$(…)` and operators, and
//! the edits that rewrite or drop a line while keeping the item's YAML style.

use regex::Regex;
use serde_json::{Map, Value};

use crate::aws::{At, Buildspec};
use crate::document::{Op, Path};
use crate::model::Kind;
use crate::workspace::Unit;

use super::support::docs_of;

pub use crate::aws::buildspec::Command;

/// Every command of the buildspec, phase by phase in document order.
pub fn commands<'a>(bs: &'a Value, root: &Path) -> Vec<Command<'a>> {
    Buildspec(At::new(bs, root.clone())).commands()
}

/// `env.<key>` as a mapping (`variables`, `secrets-manager`, `parameter-store`).
pub fn env_map<'a>(bs: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    Buildspec(At::new(bs, Path::root())).env(key)
}

/// A scalar as the shell sees it (numbers and booleans as written).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The literal value the buildspec gives a variable: in `env.variables`, or in an assignment
/// command (`NAME=value`, `export NAME=value`) — the first one found.
pub fn variable_value(bs: &Value, root: &Path, name: &str) -> Option<String> {
    if let Some(v) = env_map(bs, "variables").and_then(|m| m.get(name)) {
        return scalar_text(v);
    }
    for c in commands(bs, root) {
        for line in c.lines() {
            if let Some(v) = assignment(line, name) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The right-hand side of `NAME=value` / `export NAME=value` when `line` is that assignment.
pub fn assignment<'l>(line: &'l str, name: &str) -> Option<&'l str> {
    let l = line.trim();
    let l = l.strip_prefix("export ").map(str::trim_start).unwrap_or(l);
    let rest = l.strip_prefix(name)?.strip_prefix('=')?;
    Some(rest.trim())
}

/// What to do with one line of a command.
pub enum LineEdit {
    Keep,
    Remove,
    Replace(String),
}

/// The command's text with each line edited by `f` (which sees the trimmed line); `None` when
/// nothing changes. An empty result means the whole item goes.
pub fn edit_lines(text: &str, mut f: impl FnMut(&str) -> LineEdit) -> Option<String> {
    let mut changed = false;
    let mut out: Vec<String> = Vec::new();
    let ends_with_newline = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            out.push(line.to_string());
            continue;
        }
        match f(trimmed) {
            LineEdit::Keep => out.push(line.to_string()),
            LineEdit::Remove => changed = true,
            LineEdit::Replace(new) => {
                changed = true;
                // Each line of a multi-line replacement gets the old line's indentation.
                let indent = &line[..line.len() - line.trim_start().len()];
                let trail = &line[line.trim_end().len()..];
                let lines: Vec<String> = new.split('\n').map(|l| format!("{indent}{l}")).collect();
                out.push(format!("{}{trail}", lines.join("\n")));
            }
        }
    }
    if !changed {
        return None;
    }
    if out.iter().all(|l| l.trim().is_empty()) {
        return Some(String::new());
    }
    let mut s = out.join("\n");
    if ends_with_newline {
        s.push('\n');
    }
    Some(s)
}

/// The edit that turns the command into `new` (an empty `new` removes the item).
pub fn rewrite(cmd: &Command<'_>, new: String) -> Op {
    if new.trim().is_empty() {
        Op::Remove { path: cmd.path() }
    } else {
        Op::ReplaceInScalar {
            path: cmd.path(),
            find: cmd.text.to_string(),
            replace: new,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokKind {
    Word,
    /// `|`, `||`, `&&`, `;`, `&`: ends a simple command.
    Sep,
    /// `>`, `>>`, `<`, `2>`…: a redirection.
    Redirect,
}

#[derive(Clone, Debug)]
pub struct Tok<'l> {
    pub start: usize,
    pub end: usize,
    pub raw: &'l str,
    pub kind: TokKind,
}

impl Tok<'_> {
    /// The word without its quotes (escapes are not interpreted).
    pub fn unquoted(&self) -> String {
        let mut out = String::new();
        let mut quote: Option<char> = None;
        for ch in self.raw.chars() {
            match (quote, ch) {
                (None, '\'' | '"') => quote = Some(ch),
                (Some(q), c) if c == q => quote = None,
                (_, c) => out.push(c),
            }
        }
        out
    }
}

/// Split a shell line into words and operators. Quotes, `$(…)`, `${…}` and backticks stay inside
/// their word. Returns `None` on unbalanced quoting (the line is then left alone).
pub fn tokenize(line: &str) -> Option<Vec<Tok<'_>>> {
    let b = line.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        if c == b'#' {
            break;
        }
        let start = i;
        let two = |s: &str| line[i..].starts_with(s);
        if two("&&") || two("||") || two(">>") {
            i += 2;
        } else if matches!(c, b'|' | b';' | b'&' | b'>' | b'<') {
            i += 1;
        } else {
            // A word.
            let mut depth = 0usize;
            while i < b.len() {
                let c = b[i];
                match c {
                    b'\\' => i += 1,
                    b'\'' => {
                        i += 1 + line[i + 1..].find('\'')?;
                    }
                    b'"' => {
                        let mut j = i + 1;
                        loop {
                            match b.get(j)? {
                                b'\\' => j += 2,
                                b'"' => break,
                                _ => j += 1,
                            }
                        }
                        i = j;
                    }
                    b'`' => {
                        i += 1 + line[i + 1..].find('`')?;
                    }
                    b'$' if matches!(b.get(i + 1), Some(b'(') | Some(b'{')) => {
                        depth += 1;
                        i += 1;
                    }
                    b'(' | b'{' if depth > 0 => depth += 1,
                    b')' | b'}' if depth > 0 => depth -= 1,
                    b' ' | b'\t' | b'|' | b';' | b'&' | b'>' | b'<' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return None;
            }
            let i = i.min(b.len());
            // `2>` is a redirection, not a word.
            let raw = &line[start..i];
            if i < b.len() && b[i] == b'>' && raw.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            toks.push(Tok {
                start,
                end: i,
                raw,
                kind: TokKind::Word,
            });
            continue;
        }
        let i2 = i.min(b.len());
        let raw = &line[start..i2];
        let kind = if raw.starts_with(['>', '<']) {
            TokKind::Redirect
        } else {
            TokKind::Sep
        };
        toks.push(Tok {
            start,
            end: i2,
            raw,
            kind,
        });
    }
    Some(toks)
}

/// Variables a word refers to (`$X`, `${X}`, `${X:-…}`).
pub fn referenced_vars(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let mut j = i + 1;
            if b.get(j) == Some(&b'{') {
                j += 1;
            }
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start && !b[start].is_ascii_digit() {
                out.push(s[start..j].to_string());
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// A CodeBuild artifact glob as a regex (`**/` any folders, `*` and `?` within a name).
fn glob(pattern: &str) -> Option<std::rc::Rc<Regex>> {
    let mut re = String::from("^");
    let mut chars = pattern.trim_start_matches("./").chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    re.push_str("(?:.*/)?");
                } else {
                    re.push_str(".*");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    // Checked for every artifact pattern on every pass: compiled once.
    super::support::cached_regex(&re)
}

/// Whether an `artifacts.files` pattern ships `path` (with `discard-paths`, files land at their
/// base name).
pub fn ships(pattern: &str, path: &str, discard_paths: bool) -> bool {
    if glob(pattern).is_some_and(|r| r.is_match(path.trim_start_matches("./"))) {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    discard_paths
        && !path.contains('/')
        && pattern
            .rsplit('/')
            .next()
            .and_then(glob)
            .is_some_and(|r| r.is_match(name))
}

/// The file names (last path component) the unit's buildspecs ship in their artifacts.
pub fn shipped_files(unit: &Unit) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |files: Option<&Value>| {
        let list: Vec<&Value> = match files {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::String(_)) => vec![v],
            _ => Vec::new(),
        };
        for f in list.into_iter().filter_map(Value::as_str) {
            let name = f.trim().rsplit('/').next().unwrap_or("").to_string();
            if !name.is_empty() && !name.contains('*') {
                out.push(name);
            }
        }
    };
    for (_, bs, _) in docs_of(unit, Kind::Buildspec) {
        add(bs.pointer("/artifacts/files"));
        let secondary = bs
            .pointer("/artifacts/secondary-artifacts")
            .and_then(Value::as_object);
        for art in secondary.into_iter().flat_map(|m| m.values()) {
            add(art.get("files"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        tokenize(line)
            .unwrap_or_default()
            .iter()
            .map(|t| t.raw.to_string())
            .collect()
    }

    #[test]
    fn tokens_keep_quotes_and_substitutions() {
        assert_eq!(
            words(r#"echo "a b" $(aws ecr get-login --region x) | sh"#),
            [
                "echo",
                "\"a b\"",
                "$(aws ecr get-login --region x)",
                "|",
                "sh"
            ]
        );
        assert_eq!(
            words("printf '%s' x > f.json 2>&1"),
            ["printf", "'%s'", "x", ">", "f.json", ">", "&", "1"]
        );
        assert!(tokenize("echo \"open").is_none());
        assert_eq!(referenced_vars("a${B:-x}$C_1 $1"), ["B", "C_1"]);
    }

    #[test]
    fn line_edits_keep_indentation_and_final_newline() {
        let text = "set -x\nif true; then\n  printenv\nfi\n";
        let got = edit_lines(text, |l| match l {
            "set -x" | "printenv" => LineEdit::Remove,
            _ => LineEdit::Keep,
        });
        assert_eq!(got.as_deref(), Some("if true; then\nfi\n"));
        let got = edit_lines("a\n  b\n", |l| {
            if l == "b" {
                LineEdit::Replace("c".into())
            } else {
                LineEdit::Keep
            }
        });
        assert_eq!(got.as_deref(), Some("a\n  c\n"));
        assert_eq!(edit_lines("x", |_| LineEdit::Remove).as_deref(), Some(""));
    }
}
