//! Writing values as JSON text in a file's own layout.

use serde_json::Value;

/// How new text is laid out, as learned from the file.
#[derive(Clone, Debug)]
pub struct Layout {
    pub eol: String,
    /// One indentation step.
    pub unit: String,
    /// Between a key and its value: `": "` or `":"` (as written in the file).
    pub colon: String,
    /// Between members of an inline collection: `", "` or `","`.
    pub comma: String,
}

/// A JSON string literal with minimal escaping: non-ASCII stays as it is.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    escape_into(s, &mut out);
    out.push('"');
    out
}

pub fn escape_into(s: &str, out: &mut String) {
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run..i]);
        if esc.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(esc);
        }
        run = i + 1;
    }
    out.push_str(&s[run..]);
}

fn scalar(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push('"');
            escape_into(s, out);
            out.push('"');
        }
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        // Collections are handled by the callers.
        Value::Array(_) | Value::Object(_) => {}
    }
}

/// `v` on one line, spaced like the file's inline collections.
pub fn compact(v: &Value, lay: &Layout) -> String {
    let mut out = String::new();
    write(v, lay, None, &mut out);
    out
}

/// `v` spread over lines as a pretty-printer would, its first line continuing the current
/// line and nested lines indented from `base`, the indentation of the line it starts on.
pub fn pretty(v: &Value, lay: &Layout, base: &str) -> String {
    let mut out = String::new();
    write(v, lay, Some(base), &mut out);
    out
}

/// Work on an explicit stack so that a deeply nested value cannot overflow the stack.
fn write(v: &Value, lay: &Layout, base: Option<&str>, out: &mut String) {
    enum Task<'v> {
        Value(&'v Value, usize),
        Key(&'v str),
        /// A comma and line break before `n` indentation steps (the inline comma when compact).
        Break(usize),
        Close(&'static str, usize),
    }
    let newline = |out: &mut String, depth: usize| {
        if let Some(base) = base {
            out.push_str(&lay.eol);
            out.push_str(base);
            for _ in 0..depth {
                out.push_str(&lay.unit);
            }
        }
    };
    let mut todo = vec![Task::Value(v, 0)];
    while let Some(t) = todo.pop() {
        match t {
            Task::Key(k) => {
                out.push('"');
                escape_into(k, out);
                out.push('"');
                out.push_str(&lay.colon);
            }
            Task::Break(depth) => match base {
                Some(_) => {
                    out.push(',');
                    newline(out, depth);
                }
                None => out.push_str(&lay.comma),
            },
            Task::Close(s, depth) => {
                newline(out, depth);
                out.push_str(s);
            }
            Task::Value(Value::Object(m), depth) if !m.is_empty() => {
                out.push('{');
                newline(out, depth + 1);
                todo.push(Task::Close("}", depth));
                for (i, (k, val)) in m.iter().enumerate().rev() {
                    todo.push(Task::Value(val, depth + 1));
                    todo.push(Task::Key(k));
                    if i > 0 {
                        todo.push(Task::Break(depth + 1));
                    }
                }
            }
            Task::Value(Value::Array(a), depth) if !a.is_empty() => {
                out.push('[');
                newline(out, depth + 1);
                todo.push(Task::Close("]", depth));
                for (i, val) in a.iter().enumerate().rev() {
                    todo.push(Task::Value(val, depth + 1));
                    if i > 0 {
                        todo.push(Task::Break(depth + 1));
                    }
                }
            }
            Task::Value(Value::Object(_), _) => out.push_str("{}"),
            Task::Value(Value::Array(_), _) => out.push_str("[]"),
            Task::Value(s, _) => scalar(s, out),
        }
    }
}
