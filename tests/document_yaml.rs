//! YAML documents: parsing, spans and every edit lowered in the file's own style.

use pipefix::document::*;
use serde_json::{Value, json};

fn parse(text: &str) -> Document {
    match Document::parse(text, Format::Yaml, &Limits::default()) {
        Ok(d) => d,
        Err(e) => panic!("parse failed: {e}\n{text}"),
    }
}

fn parse_err(text: &str) -> ParseError {
    match Document::parse(text, Format::Yaml, &Limits::default()) {
        Ok(_) => panic!("expected a parse error for:\n{text}"),
        Err(e) => e,
    }
}

fn p(s: &str) -> Path {
    match Path::parse(s) {
        Some(p) => p,
        None => panic!("bad path {s}"),
    }
}

/// Apply `op` (meaning-checked) and return the new text.
fn edit(text: &str, op: Op) -> String {
    let doc = parse(text);
    match doc.apply(&op, &Limits::default()) {
        Ok(d) => d.text().to_string(),
        Err(e) => panic!(
            "edit failed: {e}\n--- text ---\n{text}\n--- produced ---\n{:?}",
            doc.edit_text(&op)
        ),
    }
}

fn edit_err(text: &str, op: Op) -> EditError {
    match parse(text).apply(&op, &Limits::default()) {
        Ok(d) => panic!("expected the edit to be refused, got:\n{}", d.text()),
        Err(e) => e,
    }
}

fn replace(path: &str, value: Value) -> Op {
    Op::Replace {
        path: p(path),
        value,
    }
}

fn insert_key(path: &str, key: &str, value: Value, position: Position) -> Op {
    Op::InsertKey {
        path: p(path),
        key: key.into(),
        value,
        position,
    }
}

fn insert_item(path: &str, index: usize, value: Value) -> Op {
    Op::InsertItem {
        path: p(path),
        index,
        value,
    }
}

fn remove(path: &str) -> Op {
    Op::Remove { path: p(path) }
}

fn rename(path: &str, new_key: &str) -> Op {
    Op::RenameKey {
        path: p(path),
        new_key: new_key.into(),
    }
}

fn rewrite(path: &str, find: &str, replace: &str) -> Op {
    Op::ReplaceInScalar {
        path: p(path),
        find: find.into(),
        replace: replace.into(),
    }
}

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

// --- parsing ----------------------------------------------------------------------------

#[test]
fn meaning_follows_the_core_schema() {
    let d = parse(
        "version: 0.2\nn: ~\ne:\nt: true\nf: False\ni: -12\nh: 0x1F\nx: 1e3\ns: '1'\nq: \"true\"\nstr: !!str 42\nw: yes\n",
    );
    assert_eq!(
        d.value(),
        &json!({"version": 0.2, "n": null, "e": null, "t": true, "f": false, "i": -12, "h": 31,
                "x": 1000.0, "s": "1", "q": "true", "str": "42", "w": "yes"})
    );
}

#[test]
fn spans_are_bytes_and_cover_tokens() {
    let text = "é✓: 'a''b' # c\nk: \"x\\\"y\"\nl: |\n  one\n  two\n\nm: plain  text  # c\nf: {a: 1, b: [x, y]}\n";
    let d = parse(text);
    let sl = |s: Span| &text[s.start..s.end];
    let r = d.root();
    assert_eq!(sl(r.entries()[0].key_span), "é✓");
    assert_eq!(sl(r.entries()[0].value.span), "'a''b'");
    assert_eq!(sl(r.entry("k").map(|e| e.value.span).unwrap_or_default()), "\"x\\\"y\"");
    assert_eq!(sl(d.node(&p("$.l")).map(|n| n.span).unwrap_or_default()), "|\n  one\n  two");
    assert_eq!(sl(d.node(&p("$.m")).map(|n| n.span).unwrap_or_default()), "plain  text");
    assert_eq!(sl(d.node(&p("$.f")).map(|n| n.span).unwrap_or_default()), "{a: 1, b: [x, y]}");
    assert_eq!(sl(d.node(&p("$.f.b[1]")).map(|n| n.span).unwrap_or_default()), "y");
    assert_eq!(sl(r.span), &text[..text.len() - 1]);
}

#[test]
fn multi_line_plain_scalars_are_located() {
    let text = "a: one\n  two\n\n  three\nb: x\n";
    let d = parse(text);
    assert_eq!(d.value(), &json!({"a": "one two\nthree", "b": "x"}));
    let s = d.node(&p("$.a")).map(|n| n.span).unwrap_or_default();
    assert_eq!(&text[s.start..s.end], "one\n  two\n\n  three");
}

#[test]
fn empty_and_comment_only_files_are_null() {
    for t in ["", "# just a comment\n", "\n\n", "---\n"] {
        let d = parse(t);
        assert_eq!(d.value(), &Value::Null, "{t:?}");
        assert_eq!(d.text(), t);
    }
}

#[test]
fn multi_document_streams_use_the_first_and_check_all() {
    let d = parse("a: 1\n---\nb: 2\n");
    assert_eq!(d.value(), &json!({"a": 1}));
    let e = parse_err("a: 1\n---\nb: 2\nb: 3\n");
    assert_eq!((e.line, e.col), (4, 1));
}

#[test]
fn duplicate_keys_are_errors_naming_the_key() {
    let e = parse_err("x: 1\nphases:\n  build: a\n  build: b\n");
    assert_eq!((e.line, e.col), (4, 3));
    assert!(e.message.contains("\"build\""), "{}", e.message);
    assert!(e.message.contains("3:3"), "{}", e.message);
}

#[test]
fn truncated_and_broken_input_are_clean_errors() {
    for t in ["a: [1, 2", "a: {b: 1", "a: \"open", "a: 'x", "- a\nb: 1\n", "a:\n  - x\n y: 1\n", "? [a]\n: 1\n", "[a: 1]\n", "a\rb: 1\n"] {
        let e = parse_err(t);
        assert!(e.line >= 1 && e.col >= 1, "{t:?}: {e}");
    }
}

#[test]
fn cloudformation_tags_are_accepted_and_ignored() {
    let text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n      Arn: !GetAtt B.Arn\n      Ref: !Ref Env\n      L: !Join [\"\", [a, !Ref X]]\n      Sel: !Select\n        - 0\n        - !GetAZs ''\n";
    let d = parse(text);
    assert_eq!(
        d.value_at(&p("$.Resources.B.Properties")),
        Some(&json!({"BucketName": "${AWS::StackName}-b", "Arn": "B.Arn", "Ref": "Env",
                     "L": ["", ["a", "X"]], "Sel": [0, ""]}))
    );
    let out = edit(text, rewrite("$.Resources.B.Properties.BucketName", "-b", "-bucket"));
    assert!(out.contains("BucketName: !Sub '${AWS::StackName}-bucket'\n"), "{out}");
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "base: &b {x: 1}\nuse: *b\nm:\n  <<: *b\n  y: 2\n";
    let d = parse(text);
    assert_eq!(d.value(), &json!({"base": {"x": 1}, "use": {"x": 1}, "m": {"<<": {"x": 1}, "y": 2}}));
    assert!(matches!(d.node(&p("$.use")).map(|n| &n.kind), Some(NodeKind::Alias)));
    // The alias itself can be replaced; the anchored node cannot change under its aliases.
    assert_eq!(edit(text, replace("$.use", json!(3))), "base: &b {x: 1}\nuse: 3\nm:\n  <<: *b\n  y: 2\n");
    assert!(matches!(edit_err(text, replace("$.base.x", json!(2))), EditError::Unsupported(_) | EditError::NoSuchNode(_)));
    assert!(matches!(edit_err(text, replace("$.use.x", json!(2))), EditError::Unsupported(_)));
}

#[test]
fn billion_laughs_is_bounded() {
    let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        t.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev.as_str(); 10].join(", ")));
    }
    let start = std::time::Instant::now();
    let e = parse_err(&t);
    assert!(e.message.contains("expands"), "{e}");
    assert!(start.elapsed().as_secs() < 10);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let n = 100_000;
    let flow_seq = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let flow_map = format!("{}1{}", "{a: ".repeat(n), "}".repeat(n));
    let dashes = format!("{}x\n", "- ".repeat(n));
    for t in [&flow_seq, &flow_map, &dashes] {
        let e = parse_err(t);
        assert!(e.message.contains("nesting") || e.message.contains("recursion"), "{e}");
    }
    let mut block = String::new();
    for i in 0..3000 {
        block.push_str(&" ".repeat(i));
        block.push_str("a:\n");
    }
    assert!(parse_err(&block).message.contains("nesting"));
}

fn corpus_files() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let mut out = Vec::new();
    for dir in ["buildspec", "appspec", "cloudformation"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            eprintln!("note: corpus folder {dir} not found; skipping");
            continue;
        };
        for f in rd.flatten() {
            out.push(f.path());
        }
    }
    out.sort();
    out
}

#[test]
fn corpus_parses_and_round_trips() {
    let mut n = 0;
    for path in corpus_files() {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if text.trim_start().starts_with('{') || text.trim_start().starts_with('[') {
            continue;
        }
        match Document::parse(text, Format::Yaml, &Limits::default()) {
            Ok(d) => {
                assert_eq!(d.text(), text);
                n += 1;
            }
            Err(e) => eprintln!("note: {} does not parse: {e}", path.display()),
        }
    }
    eprintln!("{n} corpus files parsed");
}
