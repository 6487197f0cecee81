//! JSON documents: strict parsing with spans, and edits in the file's own layout.

use pipefix::document::*;
use serde_json::json;

fn parse(t: &str) -> Result<Document, ParseError> {
    Document::parse(t, Format::Json, &Limits::default())
}

fn doc(t: &str) -> Document {
    parse(t).expect("test input parses")
}

/// Apply `op` (which checks the new meaning) and return the new text.
fn apply(t: &str, op: Op) -> String {
    match doc(t).apply(&op, &Limits::default()) {
        Ok(d) => d.text().to_string(),
        Err(e) => panic!("{op:?} failed: {e}"),
    }
}

fn path(s: &str) -> Path {
    Path::parse(s).expect("valid test path")
}

fn err(t: &str) -> ParseError {
    match parse(t) {
        Ok(_) => panic!("{t:?} should not parse"),
        Err(e) => e,
    }
}

fn insert_key(p: &str, key: &str, value: serde_json::Value, position: Position) -> Op {
    Op::InsertKey {
        path: path(p),
        key: key.into(),
        value,
        position,
    }
}

fn insert_item(p: &str, index: usize, value: serde_json::Value) -> Op {
    Op::InsertItem {
        path: path(p),
        index,
        value,
    }
}

fn remove(p: &str) -> Op {
    Op::Remove { path: path(p) }
}

fn replace(p: &str, value: serde_json::Value) -> Op {
    Op::Replace {
        path: path(p),
        value,
    }
}

// ---------------------------------------------------------------- parsing

#[test]
fn spans_are_bytes_and_keys_include_quotes() {
    let t = "{\"é\": [1, \"x\"], \"b\" : true}\n";
    let d = doc(t);
    let root = d.root();
    assert_eq!(root.span, Span::new(0, t.len() - 1));
    let e = &root.entries()[0];
    assert_eq!(e.key, "é");
    assert_eq!(&t[e.key_span.start..e.key_span.end], "\"é\"");
    assert_eq!(&t[e.value.span.start..e.value.span.end], "[1, \"x\"]");
    let x = &e.value.items()[1];
    assert_eq!(&t[x.span.start..x.span.end], "\"x\"");
    assert!(matches!(
        x.kind,
        NodeKind::Scalar {
            style: ScalarStyle::DoubleQuoted
        }
    ));
    let b = d.node(&path("$.b")).expect("b exists");
    assert_eq!(&t[b.span.start..b.span.end], "true");
    assert_eq!(d.value(), &json!({"é": [1, "x"], "b": true}));
    assert_eq!(d.locate(&path("$.b")), (1, 17));
}

#[test]
fn strings_escapes_and_numbers() {
    let d =
        doc(r#"["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", -0, 1.5e+3, 12345678901234567890, 0.0]"#);
    assert_eq!(d.value()[0], json!("a\"\\/\u{8}\u{c}\n\r\té😀"));
    let same: serde_json::Value =
        serde_json::from_str("[-0, 1.5e+3, 12345678901234567890, 0.0]").expect("serde_json parses");
    let got = d.value().as_array().expect("array");
    assert_eq!(got[1..], same.as_array().expect("array")[..]);
    // Big numbers go through serde_json's own number parsing of the exact text.
    let big = doc("[123456789012345678901234567890]");
    let expected: serde_json::Value =
        serde_json::from_str("[123456789012345678901234567890]").expect("serde_json parses");
    assert_eq!(big.value(), &expected);
}

#[test]
fn refuses_what_rfc_8259_refuses() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        ("", (1, 1), "empty file"),
        (" \n\t\r\n", (1, 1), "empty file"),
        ("{\"a\": 1,}", (1, 9), "trailing comma before '}'"),
        ("[1, 2,]", (1, 7), "trailing comma before ']'"),
        (
            "{\"a\": 1 // c\n}",
            (1, 9),
            "expected ',' or '}', found '/'",
        ),
        ("// c\n{}", (1, 1), "comments are not allowed"),
        ("{'a': 1}", (1, 2), "single-quoted"),
        ("['a']", (1, 2), "single-quoted"),
        ("{a: 1}", (1, 2), "expected a double-quoted object key"),
        ("[\"a\tb\"]", (1, 4), "control character U+0009"),
        ("[\"a\\qb\"]", (1, 4), "invalid escape \\q"),
        ("[\"\\u12\"]", (1, 3), "four hex digits"),
        ("[\"\\ud800\"]", (1, 3), "lone surrogate"),
        ("[\"\\udc00\"]", (1, 3), "lone surrogate"),
        ("[\"\\ud800\\u0041\"]", (1, 9), "not a low surrogate"),
        ("[01]", (1, 2), "leading zeros"),
        ("[1.]", (1, 2), "invalid number"),
        ("[.5]", (1, 2), "unquoted token `.5`"),
        ("[+1]", (1, 2), "unquoted token `+1`"),
        ("[-]", (1, 2), "invalid number"),
        ("[1e]", (1, 2), "invalid number"),
        ("[1e999]", (1, 2), "out of range"),
        ("[tru]", (1, 2), "unquoted token `tru`"),
        ("[nullx]", (1, 2), "unquoted token `nullx`"),
        ("[NaN]", (1, 2), "unquoted token `NaN`"),
        ("{} {}", (1, 4), "after the top-level value"),
        ("{}\n]", (2, 1), "after the top-level value"),
        ("{\"a\" 1}", (1, 6), "expected ':' after object key"),
        ("[1 2]", (1, 4), "expected ',' or ']'"),
        ("\u{feff}{}", (1, 1), "unexpected character U+FEFF"),
        ("[\u{a0}1]", (1, 2), "unexpected character U+00A0"),
    ];
    for (text, (line, col), msg) in cases {
        let e = err(text);
        assert_eq!((e.line, e.col), (*line, *col), "{text:?}: {e}");
        assert!(e.message.contains(msg), "{text:?}: {e}");
    }
}

#[test]
fn truncated_input_is_a_clean_error() {
    let full = "{\n  \"a\": [1, {\"b\": \"c\\u00e9\"}],\n  \"d\": true\n}";
    for cut in 1..full.len() {
        if !full.is_char_boundary(cut) {
            continue;
        }
        let e = err(&full[..cut]);
        assert!(e.line >= 1 && e.col >= 1, "{cut}: {e}");
    }
    let e = err("{\"a\": 1");
    assert_eq!(e.message, "unexpected end of input, expected ',' or '}'");
    assert_eq!((e.line, e.col), (1, 8));
    assert!(err("[\"abc").message.contains("unterminated string"));
    assert!(err("{\"a\":").message.contains("unexpected end of input"));
}

#[test]
fn duplicate_keys_are_named_with_their_position() {
    let e = err("{\n  \"a\": 1,\n  \"b\": {\"a\": 2},\n  \"a\": 3\n}");
    assert_eq!((e.line, e.col), (4, 3));
    assert_eq!(e.message, "duplicate key \"a\" (first defined at 2:3)");
    assert_eq!(
        e.to_string(),
        "4:3: duplicate key \"a\" (first defined at 2:3)"
    );
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    let open = "[".repeat(100_000);
    let e = err(&open);
    assert_eq!((e.line, e.col), (1, 257));
    assert!(e.message.contains("nesting deeper than 256"), "{e}");
    let balanced = format!("{}{}", "[{\"a\":".repeat(50_000), "}]".repeat(50_000));
    assert!(err(&balanced).message.contains("nesting deeper"));
    // Just within the limit is fine.
    let ok = format!("{}{}", "[".repeat(256), "]".repeat(256));
    assert!(parse(&ok).is_ok());
    let small = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    assert!(Document::parse("[[1]]", Format::Json, &small).is_ok());
    assert!(Document::parse("[[[1]]]", Format::Json, &small).is_err());
}

#[test]
fn unrendered_template_tokens_are_explained() {
    let t = "{\n  \"portMappings\": [\n    {\n      \"hostPort\": <SERVICE_PORT>,\n      \"protocol\": \"tcp\"\n    }\n  ]\n}\n";
    let e = err(t);
    assert_eq!((e.line, e.col), (4, 19));
    assert_eq!(
        e.message,
        "unquoted token `<SERVICE_PORT>` (an unrendered template?)"
    );
    let e = err("{\"a\": ${PORT}}");
    assert_eq!(
        e.message,
        "unquoted token `${PORT}` (an unrendered template?)"
    );
    // Columns count characters, not bytes.
    let e = err("{\"é€\": <X>}");
    assert_eq!((e.line, e.col), (1, 8));
}

/// Every JSON file in the shared corpus parses (or fails cleanly) and round-trips exactly.
#[test]
fn corpus_round_trips() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        eprintln!(
            "note: {} not found, skipping the corpus test",
            root.display()
        );
        return;
    }
    let mut parsed = 0;
    let mut refused = Vec::new();
    for dir in ["taskdef", "deploymentgroup", "ecs-service", "appspec"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            let name = p.to_string_lossy().to_string();
            if !(name.ends_with(".json") || name.ends_with(".json.template")) {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
            match parse(&text) {
                Ok(d) => {
                    assert_eq!(d.text(), text, "{name}");
                    let serde: serde_json::Value =
                        serde_json::from_str(&text).expect("serde_json agrees it is JSON");
                    assert_eq!(d.value(), &serde, "{name}");
                    parsed += 1;
                }
                Err(e) => {
                    assert!(e.line >= 1 && e.col >= 1);
                    refused.push(format!(
                        "{}: {e}",
                        p.file_name().unwrap_or_default().to_string_lossy()
                    ));
                }
            }
        }
    }
    eprintln!("corpus: {parsed} parsed; refused: {refused:#?}");
    assert!(parsed > 0);
}
