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
    assert_eq!(
        sl(r.entry("k").map(|e| e.value.span).unwrap_or_default()),
        "\"x\\\"y\""
    );
    assert_eq!(
        sl(d.node(&p("$.l")).map(|n| n.span).unwrap_or_default()),
        "|\n  one\n  two"
    );
    assert_eq!(
        sl(d.node(&p("$.m")).map(|n| n.span).unwrap_or_default()),
        "plain  text"
    );
    assert_eq!(
        sl(d.node(&p("$.f")).map(|n| n.span).unwrap_or_default()),
        "{a: 1, b: [x, y]}"
    );
    assert_eq!(
        sl(d.node(&p("$.f.b[1]")).map(|n| n.span).unwrap_or_default()),
        "y"
    );
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
    // A mapping with more keys than are compared one by one.
    let keys: String = (0..20).map(|i| format!("k{i}: {i}\n")).collect();
    let e = parse_err(&format!("{keys}k7: again\n"));
    assert_eq!((e.line, e.col), (21, 1));
    assert!(e.message.contains("\"k7\""), "{}", e.message);
    assert!(e.message.contains("8:1"), "{}", e.message);
}

#[test]
fn empty_keys_are_refused_at_their_position() {
    for (t, at) in [
        (": 1\n", (1, 1)),
        ("a:\n! : 1\n", (2, 1)),
        ("a:\n  b:\n  &x : 1\n", (3, 3)),
        ("- !!str : 1\n", (1, 3)),
        ("{a: 1, : 2}\n", (1, 8)),
        ("{ ! : 2}\n", (1, 3)),
    ] {
        let e = parse_err(t);
        assert_eq!((e.line, e.col), at, "{t:?}: {e}");
        assert!(e.message.contains("empty mapping keys"), "{t:?}: {e}");
    }
    // Empty values, tagged or not, are still fine, and so are quoted empty keys.
    let d = parse("a: !\nb:\n\"\": 1\n");
    assert_eq!(d.value(), &json!({"a": null, "b": null, "": 1}));
}

#[test]
fn truncated_and_broken_input_are_clean_errors() {
    for t in [
        "a: [1, 2",
        "a: {b: 1",
        "a: \"open",
        "a: 'x",
        "- a\nb: 1\n",
        "a:\n  - x\n y: 1\n",
        "? [a]\n: 1\n",
        "[a: 1]\n",
        "a\rb: 1\n",
    ] {
        let e = parse_err(t);
        assert!(e.line >= 1 && e.col >= 1, "{t:?}: {e}");
    }
}

#[test]
fn cloudformation_short_form_tags_mean_their_long_form() {
    let text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n      Arn: !GetAtt B.Arn\n      Ref: !Ref Env\n      L: !Join [\"\", [a, !Ref X]]\n      Sel: !Select\n        - 0\n        - !GetAZs ''\n      Own: !Custom x\n";
    let d = parse(text);
    assert_eq!(
        d.value_at(&p("$.Resources.B.Properties")),
        Some(&json!({
            "BucketName": {"Fn::Sub": "${AWS::StackName}-b"},
            "Arn": {"Fn::GetAtt": "B.Arn"},
            "Ref": {"Ref": "Env"},
            "L": {"Fn::Join": ["", ["a", {"Ref": "X"}]]},
            "Sel": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            // A tag that is not an intrinsic function means nothing.
            "Own": "x"
        }))
    );
    // The string inside `!Sub` is reached through its long-form key; the tag stays.
    let out = edit(
        text,
        rewrite(
            "$.Resources.B.Properties.BucketName['Fn::Sub']",
            "-b",
            "-bucket",
        ),
    );
    assert!(
        out.contains("BucketName: !Sub '${AWS::StackName}-bucket'\n"),
        "{out}"
    );
    // A whole intrinsic is replaced tag and all.
    let out = edit(text, replace("$.Resources.B.Properties.Ref", json!("prod")));
    assert!(out.contains("      Ref: prod\n"), "{out}");
}

#[test]
fn literal_branches_of_if_are_edited_in_place() {
    let text =
        "Count: !If [IsProd, 2, 1]\nGrace: !If\n  - IsProd\n  - 30\n  - 10\nBranch: &a !Ref X\n";
    let d = parse(text);
    assert_eq!(
        d.value(),
        &json!({"Count": {"Fn::If": ["IsProd", 2, 1]},
                "Grace": {"Fn::If": ["IsProd", 30, 10]},
                "Branch": {"Ref": "X"}})
    );
    let out = edit(text, replace("$.Count['Fn::If'][2]", json!(3)));
    assert_eq!(
        out,
        text.replace("!If [IsProd, 2, 1]", "!If [IsProd, 2, 3]")
    );
    let out = edit(text, replace("$.Grace['Fn::If'][1]", json!(60)));
    assert_eq!(out, text.replace("  - 30\n", "  - 60\n"));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "base: &b {x: 1}\nuse: *b\nm:\n  <<: *b\n  y: 2\n";
    let d = parse(text);
    assert_eq!(
        d.value(),
        &json!({"base": {"x": 1}, "use": {"x": 1}, "m": {"<<": {"x": 1}, "y": 2}})
    );
    assert!(matches!(
        d.node(&p("$.use")).map(|n| &n.kind),
        Some(NodeKind::Alias)
    ));
    // The alias itself can be replaced; the anchored node cannot change under its aliases.
    assert_eq!(
        edit(text, replace("$.use", json!(3))),
        "base: &b {x: 1}\nuse: 3\nm:\n  <<: *b\n  y: 2\n"
    );
    assert!(matches!(
        edit_err(text, replace("$.base.x", json!(2))),
        EditError::Unsupported(_) | EditError::NoSuchNode(_)
    ));
    assert!(matches!(
        edit_err(text, replace("$.use.x", json!(2))),
        EditError::Unsupported(_)
    ));
}

#[test]
fn billion_laughs_is_bounded() {
    let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        t.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            [prev.as_str(); 10].join(", ")
        ));
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
        assert!(
            e.message.contains("nesting") || e.message.contains("recursion"),
            "{e}"
        );
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
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
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

// --- Replace ----------------------------------------------------------------------------

#[test]
fn replace_keeps_scalar_styles() {
    let t = "a: plain # c\nb: 'single'\nc: \"double\"\nd: 80\n";
    assert_eq!(
        edit(t, replace("$.a", json!("new"))),
        "a: new # c\nb: 'single'\nc: \"double\"\nd: 80\n"
    );
    assert_eq!(
        edit(t, replace("$.a", json!("true"))),
        "a: \"true\" # c\nb: 'single'\nc: \"double\"\nd: 80\n"
    );
    assert_eq!(
        edit(t, replace("$.b", json!("it's"))),
        "a: plain # c\nb: 'it''s'\nc: \"double\"\nd: 80\n"
    );
    assert_eq!(
        edit(t, replace("$.c", json!("x\"y"))),
        "a: plain # c\nb: 'single'\nc: \"x\\\"y\"\nd: 80\n"
    );
    assert_eq!(
        edit(t, replace("$.b", json!(443))),
        "a: plain # c\nb: 443\nc: \"double\"\nd: 80\n"
    );
    assert_eq!(
        edit(t, replace("$.d", json!(false))),
        "a: plain # c\nb: 'single'\nc: \"double\"\nd: false\n"
    );
}

#[test]
fn replace_empty_value_and_null() {
    let t = "a:\nb: 1\n";
    assert_eq!(edit(t, replace("$.a", json!("x"))), "a: x\nb: 1\n");
    assert_eq!(
        edit(t, replace("$.a", json!({"k": 1}))),
        "a:\n  k: 1\nb: 1\n"
    );
    assert_eq!(edit("-\n- b\n", replace("$[0]", json!("a"))), "- a\n- b\n");
}

#[test]
fn replace_scalar_with_collections_renders_blocks() {
    let t = "env:\n  a: 1 # keep\nnext: x\n";
    assert_eq!(
        edit(t, replace("$.env.a", json!({"b": [1, 2], "c": "d"}))),
        "env:\n  a: # keep\n    b:\n      - 1\n      - 2\n    c: d\nnext: x\n"
    );
    assert_eq!(
        edit(
            "l:\n- x\n- y\n",
            replace("$.l[1]", json!({"name": "n", "v": [1]}))
        ),
        "l:\n- x\n- name: n\n  v:\n  - 1\n"
    );
    assert_eq!(
        edit("a: {x: 1}\n", replace("$.a", json!({"y": [1, "a b"]}))),
        "a: {y: [1, a b]}\n"
    );
    assert_eq!(
        edit("a: [1]\n", replace("$.a[0]", json!({"y": 2}))),
        "a: [{y: 2}]\n"
    );
}

#[test]
fn replace_block_collections() {
    let t = "a:\n  x: 1\n  y: 2\nb: 3\n";
    assert_eq!(
        edit(t, replace("$.a", json!({"z": 1}))),
        "a:\n  z: 1\nb: 3\n"
    );
    assert_eq!(edit(t, replace("$.a", json!(5))), "a: 5\nb: 3\n");
    assert_eq!(edit(t, replace("$.a", json!([]))), "a: []\nb: 3\n");
    assert_eq!(edit(t, replace("$.a", json!(["p"]))), "a:\n  - p\nb: 3\n");
    let s = "- a: 1\n  b: 2\n- c\n";
    assert_eq!(edit(s, replace("$[0]", json!("x"))), "- x\n- c\n");
    assert_eq!(
        edit(s, replace("$[0]", json!({"k": {"n": 1}}))),
        "- k:\n    n: 1\n- c\n"
    );
}

#[test]
fn replace_block_scalars_keep_their_style() {
    let t = "run: |\n  echo one\n  echo two\nnext: 1\n";
    assert_eq!(
        edit(t, replace("$.run", json!("echo 1\necho 2\necho 3\n"))),
        "run: |\n  echo 1\n  echo 2\n  echo 3\nnext: 1\n"
    );
    assert_eq!(
        edit(t, replace("$.run", json!("one line"))),
        "run: |-\n  one line\nnext: 1\n"
    );
    assert_eq!(edit(t, replace("$.run", json!(7))), "run: 7\nnext: 1\n");
    let f = "d: >\n  folded\n  text\nnext: 1\n";
    assert_eq!(
        edit(f, replace("$.d", json!("new words\n"))),
        "d: >\n  new words\nnext: 1\n"
    );
    assert_eq!(
        edit(f, replace("$.d", json!("p1\np2\n"))),
        "d: >\n  p1\n\n  p2\nnext: 1\n"
    );
}

// --- InsertKey --------------------------------------------------------------------------

#[test]
fn insert_key_in_block_mappings() {
    let t = "version: 0.2\nphases:\n  install: # tools\n    commands:\n      - npm ci # deps\n  # build comment\n  build:\n    commands:\n      - make\n";
    assert_eq!(
        edit(
            t,
            insert_key(
                "$.phases",
                "pre_build",
                json!({"commands": ["echo hi"]}),
                Position::After("install".into())
            )
        ),
        "version: 0.2\nphases:\n  install: # tools\n    commands:\n      - npm ci # deps\n  pre_build:\n    commands:\n      - echo hi\n  # build comment\n  build:\n    commands:\n      - make\n"
    );
    assert_eq!(
        edit(
            t,
            insert_key(
                "$",
                "env",
                json!({"shell": "bash"}),
                Position::Before("phases".into())
            )
        ),
        "version: 0.2\nenv:\n  shell: bash\nphases:\n  install: # tools\n    commands:\n      - npm ci # deps\n  # build comment\n  build:\n    commands:\n      - make\n"
    );
    assert_eq!(
        edit(
            t,
            insert_key("$.phases", "post_build", json!(null), Position::End)
        ),
        format!("{t}  post_build: null\n")
    );
    // At the start: above the first key's own comment lines.
    assert_eq!(
        edit(
            "a:\n  # about x\n  x: 1\n",
            insert_key("$.a", "w", json!(0), Position::Start)
        ),
        "a:\n  w: 0\n  # about x\n  x: 1\n"
    );
}

#[test]
fn insert_key_four_spaces_and_unindented_sequences() {
    let t = "root:\n    list:\n    - a\n    m:\n        k: v\n";
    assert_eq!(
        edit(
            t,
            insert_key(
                "$.root",
                "new",
                json!({"s": ["x", "y"], "n": {"d": 1}}),
                Position::End
            )
        ),
        "root:\n    list:\n    - a\n    m:\n        k: v\n    new:\n        s:\n        - x\n        - y\n        n:\n            d: 1\n"
    );
}

#[test]
fn insert_key_quotes_like_siblings_and_when_needed() {
    assert_eq!(
        edit(
            "\"a\": 1\n\"b\": 2\n",
            insert_key("$", "c", json!("x"), Position::End)
        ),
        "\"a\": 1\n\"b\": 2\n\"c\": x\n"
    );
    assert_eq!(
        edit(
            "a: 1\n",
            insert_key("$", "on", json!("yes: no"), Position::End)
        ),
        "a: 1\non: \"yes: no\"\n"
    );
    assert_eq!(
        edit(
            "a: 'x'\nb: 'y'\n",
            insert_key("$", "c", json!("1.0"), Position::End)
        ),
        "a: 'x'\nb: 'y'\nc: '1.0'\n"
    );
    assert_eq!(
        edit("a: 1\n", insert_key("$", "t", json!(""), Position::End)),
        "a: 1\nt: \"\"\n"
    );
}

#[test]
fn insert_key_in_flow_mappings() {
    assert_eq!(
        edit(
            "a: {x: 1}\n",
            insert_key("$.a", "y", json!(2), Position::End)
        ),
        "a: {x: 1, y: 2}\n"
    );
    assert_eq!(
        edit(
            "a: {x: 1, y: 2}\n",
            insert_key("$.a", "w", json!([1]), Position::Start)
        ),
        "a: {w: [1], x: 1, y: 2}\n"
    );
    assert_eq!(
        edit(
            "a: {}\n",
            insert_key("$.a", "k", json!("v, w"), Position::End)
        ),
        "a: {k: \"v, w\"}\n"
    );
    assert_eq!(
        edit(
            "a: {\n  x: 1,\n  y: 2\n}\n",
            insert_key("$.a", "z", json!(3), Position::End)
        ),
        "a: {\n  x: 1,\n  y: 2,\n  z: 3\n}\n"
    );
}

#[test]
fn insert_nested_mapping_under_list_items() {
    // zizmor #2270: nested inserts must not be flattened.
    let t = "steps:\n  - name: build\n    run: make\n";
    assert_eq!(
        edit(
            t,
            insert_key(
                "$.steps[0]",
                "with",
                json!({"outer": {"inner": 1}}),
                Position::End
            )
        ),
        "steps:\n  - name: build\n    run: make\n    with:\n      outer:\n        inner: 1\n"
    );
    assert_eq!(
        edit(
            t,
            insert_key("$.steps[0]", "id", json!("x"), Position::Start)
        ),
        "steps:\n  - id: x\n    name: build\n    run: make\n"
    );
    assert_eq!(
        edit(
            t,
            insert_item("$.steps", 1, json!({"name": "test", "env": {"A": "1"}}))
        ),
        "steps:\n  - name: build\n    run: make\n  - name: test\n    env:\n      A: \"1\"\n"
    );
}

// --- InsertItem -------------------------------------------------------------------------

#[test]
fn insert_item_in_block_sequences() {
    let t = "cmds:\n  # first\n  - a # one\n  - b\n";
    assert_eq!(
        edit(t, insert_item("$.cmds", 0, json!("z"))),
        "cmds:\n  - z\n  # first\n  - a # one\n  - b\n"
    );
    assert_eq!(
        edit(t, insert_item("$.cmds", 1, json!("m"))),
        "cmds:\n  # first\n  - a # one\n  - m\n  - b\n"
    );
    assert_eq!(
        edit(t, insert_item("$.cmds", 2, json!("e"))),
        "cmds:\n  # first\n  - a # one\n  - b\n  - e\n"
    );
    assert_eq!(
        edit("- - a\n  - b\n", insert_item("$[0]", 0, json!("z"))),
        "- - z\n  - a\n  - b\n"
    );
    assert_eq!(
        edit("- a\n", insert_item("$", 1, json!(["x", "y"]))),
        "- a\n- - x\n  - y\n"
    );
}

#[test]
fn insert_item_in_flow_sequences() {
    assert_eq!(
        edit("a: [x, y]\n", insert_item("$.a", 2, json!("z"))),
        "a: [x, y, z]\n"
    );
    assert_eq!(
        edit("a: [x, y]\n", insert_item("$.a", 0, json!("w"))),
        "a: [w, x, y]\n"
    );
    assert_eq!(
        edit("a: [x, y]\n", insert_item("$.a", 1, json!({"k": 1}))),
        "a: [x, {k: 1}, y]\n"
    );
    assert_eq!(edit("a: []\n", insert_item("$.a", 0, json!(1))), "a: [1]\n");
    assert_eq!(
        edit("a: [\n  x,\n  y\n]\n", insert_item("$.a", 2, json!("z"))),
        "a: [\n  x,\n  y,\n  z\n]\n"
    );
}

// --- Remove -----------------------------------------------------------------------------

#[test]
fn remove_entries_and_items() {
    let t = "a: 1 # one\n# about b\nb:\n  c: 2\n  d: 3 # three\ne: 4\n";
    assert_eq!(
        edit(t, remove("$.a")),
        "# about b\nb:\n  c: 2\n  d: 3 # three\ne: 4\n"
    );
    assert_eq!(edit(t, remove("$.b")), "a: 1 # one\n# about b\ne: 4\n");
    assert_eq!(
        edit(t, remove("$.b.d")),
        "a: 1 # one\n# about b\nb:\n  c: 2\ne: 4\n"
    );
    assert_eq!(
        edit(t, remove("$.e")),
        "a: 1 # one\n# about b\nb:\n  c: 2\n  d: 3 # three\n"
    );
    let s = "l:\n  - x\n  - y: 1\n    z: 2\n  - w\n";
    assert_eq!(edit(s, remove("$.l[1]")), "l:\n  - x\n  - w\n");
    assert_eq!(edit(s, remove("$.l[1].y")), "l:\n  - x\n  - z: 2\n  - w\n");
    assert_eq!(edit(s, remove("$.l[1].z")), "l:\n  - x\n  - y: 1\n  - w\n");
}

#[test]
fn removing_the_last_member_leaves_an_empty_collection() {
    assert_eq!(edit("a:\n  b: 1\nc: 2\n", remove("$.a.b")), "a: {}\nc: 2\n");
    assert_eq!(
        edit("a:\n  - x # c\nc: 2\n", remove("$.a[0]")),
        "a: []\nc: 2\n"
    );
    assert_eq!(edit("a: [x]\n", remove("$.a[0]")), "a: []\n");
    assert_eq!(edit("a: {k: v}\n", remove("$.a.k")), "a: {}\n");
}

#[test]
fn remove_from_flow_collections() {
    assert_eq!(edit("a: [x, y, z]\n", remove("$.a[0]")), "a: [y, z]\n");
    assert_eq!(edit("a: [x, y, z]\n", remove("$.a[1]")), "a: [x, z]\n");
    assert_eq!(edit("a: [x, y, z]\n", remove("$.a[2]")), "a: [x, y]\n");
    assert_eq!(edit("a: {p: 1, q: 2}\n", remove("$.a.q")), "a: {p: 1}\n");
    assert_eq!(
        edit("a: {\n  p: 1,\n  q: 2\n}\n", remove("$.a.p")),
        "a: {\n  q: 2\n}\n"
    );
}

// --- RenameKey --------------------------------------------------------------------------

#[test]
fn rename_keeps_quoting() {
    assert_eq!(
        edit("a: 1 # c\nb: 2\n", rename("$.a", "z")),
        "z: 1 # c\nb: 2\n"
    );
    assert_eq!(edit("'a': 1\n", rename("$.a", "it's")), "'it''s': 1\n");
    assert_eq!(edit("\"a\": 1\n", rename("$.a", "b")), "\"b\": 1\n");
    assert_eq!(edit("a: 1\n", rename("$.a", "x: y")), "\"x: y\": 1\n");
    assert_eq!(edit("m: {a: 1}\n", rename("$.m.a", "b")), "m: {b: 1}\n");
}

// --- ReplaceInScalar --------------------------------------------------------------------

#[test]
fn rewrite_inside_scalars() {
    let t = "build:\n  commands:\n    - curl http://x | sh\n    - 'echo ''http://y'''\n    - \"wget http://z\"\n";
    assert_eq!(
        edit(t, rewrite("$.build.commands[0]", "http:", "https:")),
        "build:\n  commands:\n    - curl https://x | sh\n    - 'echo ''http://y'''\n    - \"wget http://z\"\n"
    );
    assert_eq!(
        edit(t, rewrite("$.build.commands[1]", "http:", "https:")),
        "build:\n  commands:\n    - curl http://x | sh\n    - 'echo ''https://y'''\n    - \"wget http://z\"\n"
    );
    assert_eq!(
        edit(t, rewrite("$.build.commands[2]", "http:", "https:")),
        "build:\n  commands:\n    - curl http://x | sh\n    - 'echo ''http://y'''\n    - \"wget https://z\"\n"
    );
    // A plain scalar that would change meaning gets quoted.
    assert_eq!(
        edit("c: echo x\n", rewrite("$.c", "x", "# y")),
        "c: \"echo # y\"\n"
    );
}

#[test]
fn rewrite_inside_literal_blocks() {
    let t = "phases:\n  build:\n    commands:\n      - |\n        set -e # strict\n        curl -k https://é.example | sh\n        echo ✓\n      - next\n";
    assert_eq!(
        edit(t, rewrite("$.phases.build.commands[0]", "curl -k", "curl")),
        "phases:\n  build:\n    commands:\n      - |\n        set -e # strict\n        curl https://é.example | sh\n        echo ✓\n      - next\n"
    );
    let f = "d: >-\n  folded http://a\n  text\n";
    assert_eq!(
        edit(f, rewrite("$.d", "http:", "https:")),
        "d: >-\n  folded https://a\n  text\n"
    );
}

// --- file styles ------------------------------------------------------------------------

#[test]
fn crlf_files_stay_crlf() {
    let t = crlf("a:\n  b: 1\n  c:\n    - x\nd: |\n  one\n  two\n");
    assert_eq!(
        edit(&t, insert_key("$.a", "n", json!({"k": [1]}), Position::End)),
        crlf("a:\n  b: 1\n  c:\n    - x\n  n:\n    k:\n      - 1\nd: |\n  one\n  two\n")
    );
    assert_eq!(
        edit(&t, insert_item("$.a.c", 0, json!("w"))),
        crlf("a:\n  b: 1\n  c:\n    - w\n    - x\nd: |\n  one\n  two\n")
    );
    assert_eq!(
        edit(&t, remove("$.a.b")),
        crlf("a:\n  c:\n    - x\nd: |\n  one\n  two\n")
    );
    assert_eq!(
        edit(&t, replace("$.d", json!("1\n2\n3\n"))),
        crlf("a:\n  b: 1\n  c:\n    - x\nd: |\n  1\n  2\n  3\n")
    );
    assert_eq!(
        edit(&t, rewrite("$.d", "two", "2")),
        crlf("a:\n  b: 1\n  c:\n    - x\nd: |\n  one\n  2\n")
    );
}

#[test]
fn no_final_newline_is_kept() {
    let t = "a: 1\nb:\n  - x";
    assert_eq!(
        edit(t, insert_item("$.b", 1, json!("y"))),
        "a: 1\nb:\n  - x\n  - y"
    );
    assert_eq!(
        edit(t, insert_key("$", "c", json!(2), Position::End)),
        "a: 1\nb:\n  - x\nc: 2"
    );
    assert_eq!(edit(t, remove("$.b")), "a: 1");
    assert_eq!(edit("a: 1\nb: 2", remove("$.b")), "a: 1");
    assert_eq!(
        edit("a: 1", replace("$.a", json!({"k": "v"}))),
        "a:\n  k: v"
    );
}

#[test]
fn non_ascii_before_the_edit_point() {
    let t = "name: \"café ✓ 日本語\"\nlist: [é, ✓]\nz: 日本\n";
    assert_eq!(
        edit(t, replace("$.z", json!("中文"))),
        "name: \"café ✓ 日本語\"\nlist: [é, ✓]\nz: 中文\n"
    );
    assert_eq!(
        edit(t, insert_item("$.list", 2, json!("ü"))),
        "name: \"café ✓ 日本語\"\nlist: [é, ✓, ü]\nz: 日本\n"
    );
    assert_eq!(
        edit(t, rewrite("$.name", "✓", "x")),
        "name: \"café x 日本語\"\nlist: [é, ✓]\nz: 日本\n"
    );
    assert_eq!(
        edit(t, remove("$.list[0]")),
        "name: \"café ✓ 日本語\"\nlist: [✓]\nz: 日本\n"
    );
}

#[test]
fn multi_document_edits_touch_the_first_document() {
    let t = "a: 1\n---\na: 2\n";
    assert_eq!(edit(t, replace("$.a", json!(5))), "a: 5\n---\na: 2\n");
    assert_eq!(
        edit(t, insert_key("$", "b", json!(1), Position::End)),
        "a: 1\nb: 1\n---\na: 2\n"
    );
}

/// Every path to a node in `n`.
fn all_paths(n: &Node, at: Path, out: &mut Vec<(Path, bool)>) {
    match &n.kind {
        NodeKind::Mapping { entries, .. } => {
            out.push((at.clone(), true));
            for e in entries {
                all_paths(&e.value, at.key(&e.key), out);
            }
        }
        NodeKind::Sequence { items, .. } => {
            out.push((at.clone(), false));
            for (i, x) in items.iter().enumerate() {
                all_paths(x, at.index(i), out);
            }
        }
        _ => out.push((at, false)),
    }
}

/// Every op on every node of every corpus file either works (meaning verified by
/// `Document::apply`) or is refused as unsupported; it never produces wrong text.
#[test]
fn corpus_edits_are_sound() {
    let limits = Limits::default();
    let mut stats = (0usize, 0usize);
    let mut refusals = std::collections::BTreeSet::new();
    for path in corpus_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if text.trim_start().starts_with(['{', '[']) {
            continue;
        }
        let Ok(doc) = Document::parse(&text, Format::Yaml, &limits) else {
            continue;
        };
        for variant in [text.clone(), crlf(&text)] {
            let Ok(doc) = Document::parse(&variant, Format::Yaml, &limits) else {
                continue;
            };
            let mut paths = Vec::new();
            all_paths(doc.root(), Path::root(), &mut paths);
            // Spread a bounded number of edits over the whole file to keep debug runs quick.
            let step = (paths.len() / 12).max(1);
            for (p, _) in paths.iter().step_by(step) {
                let mut ops = vec![
                    Op::Replace {
                        path: p.clone(),
                        value: json!("new: value"),
                    },
                    Op::Replace {
                        path: p.clone(),
                        value: json!({"k": [1, {"a": "b"}]}),
                    },
                    Op::Remove { path: p.clone() },
                ];
                match doc.value_at(p) {
                    Some(Value::Object(_)) => {
                        ops.push(insert_key_op(p, Position::End));
                        ops.push(insert_key_op(p, Position::Start));
                    }
                    Some(Value::Array(a)) => {
                        ops.push(Op::InsertItem {
                            path: p.clone(),
                            index: 0,
                            value: json!({"n": 1, "m": [2]}),
                        });
                        ops.push(Op::InsertItem {
                            path: p.clone(),
                            index: a.len(),
                            value: json!("x y"),
                        });
                    }
                    Some(Value::String(s)) if !s.is_empty() => {
                        let find: String = s.chars().take(3).collect();
                        ops.push(Op::ReplaceInScalar {
                            path: p.clone(),
                            find,
                            replace: "Z\"'#".into(),
                        });
                    }
                    _ => {}
                }
                if let Some(Seg::Key(_)) = p.last() {
                    ops.push(Op::RenameKey {
                        path: p.clone(),
                        new_key: "renamed key".into(),
                    });
                }
                for op in ops {
                    let mut expected = doc.value().clone();
                    if value::apply(&mut expected, &op).is_err() {
                        continue;
                    }
                    match doc.apply(&op, &limits) {
                        Ok(_) => stats.0 += 1,
                        Err(EditError::Unsupported(m)) => {
                            stats.1 += 1;
                            refusals.insert(m);
                        }
                        Err(e) => panic!(
                            "{}: {op:?} failed: {e}\n{:?}",
                            path.display(),
                            doc.edit_text(&op)
                        ),
                    }
                }
            }
        }
        let _ = doc;
    }
    eprintln!(
        "corpus edits: {} applied, {} refused: {refusals:#?}",
        stats.0, stats.1
    );
}

fn insert_key_op(p: &Path, position: Position) -> Op {
    Op::InsertKey {
        path: p.clone(),
        key: "zz_new".into(),
        value: json!({"a": [1, "two"], "b": "c"}),
        position,
    }
}

// --- Comment ----------------------------------------------------------------------------

fn comment(path: &str, text: &str) -> Op {
    Op::Comment {
        path: p(path),
        text: text.into(),
    }
}

#[test]
fn a_comment_goes_after_a_scalar_that_ends_its_line_and_nowhere_else() {
    // After a plain or quoted scalar alone on its line, before the line ending (CRLF kept).
    assert_eq!(
        edit(
            "a:\n  image: x@sha256:1\n  b: 2\n",
            comment("$.a.image", "tag: 7")
        ),
        "a:\n  image: x@sha256:1  # tag: 7\n  b: 2\n"
    );
    assert_eq!(
        edit(&crlf("image: 'x'\nb: 2\n"), comment("$.image", "tag: 7")),
        crlf("image: 'x'  # tag: 7\nb: 2\n")
    );
    // A line that has a comment, or a flow collection that goes on, is left alone.
    let commented = "image: x  # keep\n";
    assert_eq!(edit(commented, comment("$.image", "tag: 7")), commented);
    let flow = "c: [{ name: a, image: x }]\n";
    assert_eq!(edit(flow, comment("$.c[0].image", "tag: 7")), flow);
    // A block scalar would take the comment into its text: left alone.
    let block = "image: |\n  x\n";
    assert_eq!(edit(block, comment("$.image", "tag: 7")), block);
}
