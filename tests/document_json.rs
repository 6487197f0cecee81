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
        (
            "[nullx]",
            (1, 2),
            "unquoted token: a bare word of 5 characters",
        ),
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
    // An object with more keys than are compared one by one.
    let keys: String = (0..20).map(|i| format!("\"k{i}\": {i},\n")).collect();
    let e = err(&format!("{{\n{keys}\"k7\": 0\n}}"));
    assert_eq!((e.line, e.col), (22, 1));
    assert_eq!(e.message, "duplicate key \"k7\" (first defined at 9:1)");
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

// ---------------------------------------------------------------- edits, 2-space file

const TWO: &str = r#"{
  "name": "app",
  "stages": [
    {
      "name": "Source"
    },
    {
      "name": "Build"
    },
    {
      "name": "Deploy"
    }
  ],
  "tags": {}
}
"#;

#[test]
fn two_space_insert_key_at_every_position() {
    let end = apply(TWO, insert_key("$", "version", json!(1), Position::End));
    assert_eq!(
        end,
        TWO.replace("  \"tags\": {}\n", "  \"tags\": {},\n  \"version\": 1\n")
    );
    let start = apply(TWO, insert_key("$", "a", json!(true), Position::Start));
    assert_eq!(start, TWO.replacen("{\n", "{\n  \"a\": true,\n", 1));
    let before = apply(
        TWO,
        insert_key("$", "b", json!(null), Position::Before("tags".into())),
    );
    assert_eq!(
        before,
        TWO.replace("  \"tags\"", "  \"b\": null,\n  \"tags\"")
    );
    let after = apply(
        TWO,
        insert_key(
            "$",
            "meta",
            json!({"x": [1, 2], "y": {}}),
            Position::After("name".into()),
        ),
    );
    let want = r#"{
  "name": "app",
  "meta": {
    "x": [
      1,
      2
    ],
    "y": {}
  },
  "stages": [
"#;
    assert!(after.starts_with(want), "{after}");
    assert!(after.ends_with("  \"tags\": {}\n}\n"));
}

#[test]
fn insert_a_stage_object_into_an_array_of_objects() {
    let stage = json!({
        "name": "Test",
        "actions": [{"name": "Run", "configuration": {"ProjectName": "p"}}]
    });
    let out = apply(TWO, insert_item("$.stages", 2, stage));
    let want = r#"{
  "name": "app",
  "stages": [
    {
      "name": "Source"
    },
    {
      "name": "Build"
    },
    {
      "name": "Test",
      "actions": [
        {
          "name": "Run",
          "configuration": {
            "ProjectName": "p"
          }
        }
      ]
    },
    {
      "name": "Deploy"
    }
  ],
  "tags": {}
}
"#;
    assert_eq!(out, want);
    let first = apply(TWO, insert_item("$.stages", 0, json!({"name": "Zero"})));
    assert!(first.starts_with("{\n  \"name\": \"app\",\n  \"stages\": [\n    {\n      \"name\": \"Zero\"\n    },\n    {\n      \"name\": \"Source\""), "{first}");
    let last = apply(TWO, insert_item("$.stages", 3, json!({"name": "Last"})));
    assert!(
        last.contains(
            "      \"name\": \"Deploy\"\n    },\n    {\n      \"name\": \"Last\"\n    }\n  ],\n"
        ),
        "{last}"
    );
}

#[test]
fn two_space_empty_object_expands() {
    let out = apply(
        TWO,
        insert_key("$.tags", "env", json!("prod"), Position::End),
    );
    assert!(
        out.ends_with("  \"tags\": {\n    \"env\": \"prod\"\n  }\n}\n"),
        "{out}"
    );
    let arr = "{\n  \"subnets\": [],\n  \"x\": 1\n}\n";
    assert_eq!(
        apply(arr, insert_item("$.subnets", 0, json!("s-1"))),
        "{\n  \"subnets\": [\n    \"s-1\"\n  ],\n  \"x\": 1\n}\n"
    );
    assert_eq!(
        apply(arr, insert_item("$.subnets", 0, json!({"a": [1]}))),
        "{\n  \"subnets\": [\n    {\n      \"a\": [\n        1\n      ]\n    }\n  ],\n  \"x\": 1\n}\n"
    );
    // An empty collection spread over lines is filled the same way.
    let spread = "{\n  \"a\": {\n  }\n}";
    assert_eq!(
        apply(spread, insert_key("$.a", "k", json!(1), Position::End)),
        "{\n  \"a\": {\n    \"k\": 1\n  }\n}"
    );
}

#[test]
fn two_space_removals_take_whole_lines() {
    let mid = apply(TWO, remove("$.stages[1]"));
    assert_eq!(
        mid,
        TWO.replace("    {\n      \"name\": \"Build\"\n    },\n", "")
    );
    let last_item = apply(TWO, remove("$.stages[2]"));
    assert_eq!(
        last_item,
        TWO.replace(
            "    },\n    {\n      \"name\": \"Deploy\"\n    }\n",
            "    }\n"
        )
    );
    let first_key = apply(TWO, remove("$.name"));
    assert_eq!(first_key, TWO.replace("  \"name\": \"app\",\n", ""));
    let last_key = apply(TWO, remove("$.tags"));
    assert_eq!(last_key, TWO.replace("  ],\n  \"tags\": {}\n", "  ]\n"));
    let only = apply(TWO, remove("$.stages[0].name"));
    assert!(only.contains("  \"stages\": [\n    {},\n    {\n"), "{only}");
    let all = "{\n  \"b\": [\n    \"x\"\n  ]\n}\n";
    assert_eq!(apply(all, remove("$.b[0]")), "{\n  \"b\": []\n}\n");
}

#[test]
fn two_space_replace_rename_and_rewrite() {
    assert_eq!(
        apply(TWO, replace("$.name", json!("new \"app\"\né"))),
        TWO.replace("\"app\"", r#""new \"app\"\né""#)
    );
    assert_eq!(
        apply(TWO, replace("$.name", json!(42))),
        TWO.replace("\"app\"", "42")
    );
    assert_eq!(
        apply(TWO, replace("$.name", json!({"a": 1, "b": [true]}))),
        TWO.replace(
            "\"name\": \"app\"",
            "\"name\": {\n    \"a\": 1,\n    \"b\": [\n      true\n    ]\n  }"
        )
    );
    // A spread-out collection replaced by another stays spread out, at its depth.
    assert_eq!(
        apply(TWO, replace("$.stages[0]", json!({"name": "S", "n": 2}))),
        TWO.replace(
            "    {\n      \"name\": \"Source\"\n    }",
            "    {\n      \"name\": \"S\",\n      \"n\": 2\n    }"
        )
    );
    assert_eq!(
        apply(
            TWO,
            Op::RenameKey {
                path: path("$.tags"),
                new_key: "Tags ✓".into()
            }
        ),
        TWO.replace("\"tags\"", "\"Tags ✓\"")
    );
    assert_eq!(
        apply(
            TWO,
            Op::ReplaceInScalar {
                path: path("$.stages[1].name"),
                find: "uil".into(),
                replace: "\"x\"".into()
            }
        ),
        TWO.replace("\"Build\"", r#""B\"x\"d""#)
    );
}

#[test]
fn inline_collections_in_a_pretty_file_stay_inline() {
    let t = "{\n  \"events\": [\"A\", \"B\"],\n  \"o\": { \"k\": 1 },\n  \"e\": { }\n}\n";
    assert_eq!(
        apply(t, insert_item("$.events", 2, json!("C"))),
        t.replace("[\"A\", \"B\"]", "[\"A\", \"B\", \"C\"]")
    );
    assert_eq!(
        apply(t, insert_item("$.events", 1, json!({"x": [1, 2]}))),
        t.replace("[\"A\", \"B\"]", "[\"A\", {\"x\": [1, 2]}, \"B\"]")
    );
    assert_eq!(
        apply(t, insert_key("$.o", "j", json!(2), Position::Start)),
        t.replace("{ \"k\": 1 }", "{ \"j\": 2, \"k\": 1 }")
    );
    assert_eq!(
        apply(t, insert_key("$.e", "j", json!(2), Position::End)),
        t.replace("{ }", "{\n    \"j\": 2\n  }")
    );
    assert_eq!(
        apply(t, replace("$.events[0]", json!({"k": [1]}))),
        t.replace("[\"A\",", "[{\"k\": [1]},")
    );
    assert_eq!(
        apply(t, remove("$.events[0]")),
        t.replace("[\"A\", \"B\"]", "[\"B\"]")
    );
    assert_eq!(
        apply(t, remove("$.events[1]")),
        t.replace("[\"A\", \"B\"]", "[\"A\"]")
    );
    assert_eq!(apply(t, remove("$.o.k")), t.replace("{ \"k\": 1 }", "{}"));
}

// ---------------------------------------------------------------- other layouts

#[test]
fn four_space_file() {
    let t = r#"{
    "pipeline": {
        "name": "p",
        "stages": [
            {
                "name": "Source",
                "actions": []
            }
        ]
    }
}
"#;
    let out = apply(
        t,
        insert_item(
            "$.pipeline.stages",
            1,
            json!({"name": "Deploy", "actions": [{"name": "D"}]}),
        ),
    );
    let want = r#"{
    "pipeline": {
        "name": "p",
        "stages": [
            {
                "name": "Source",
                "actions": []
            },
            {
                "name": "Deploy",
                "actions": [
                    {
                        "name": "D"
                    }
                ]
            }
        ]
    }
}
"#;
    assert_eq!(out, want);
    let k = apply(
        t,
        insert_key(
            "$.pipeline",
            "version",
            json!(2),
            Position::After("name".into()),
        ),
    );
    assert_eq!(
        k,
        t.replace(
            "\"name\": \"p\",\n",
            "\"name\": \"p\",\n        \"version\": 2,\n"
        )
    );
    let a = apply(
        t,
        insert_item("$.pipeline.stages[0].actions", 0, json!({"name": "S"})),
    );
    assert_eq!(
        a,
        t.replace(
            "\"actions\": []",
            "\"actions\": [\n                    {\n                        \"name\": \"S\"\n                    }\n                ]"
        )
    );
    assert_eq!(
        apply(t, remove("$.pipeline.name")),
        t.replace("        \"name\": \"p\",\n", "")
    );
}

#[test]
fn tab_indented_file_with_blank_lines() {
    let t = "{\n\t\"a\": 1,\n\n\t\"b\": {\n\t\t\"c\": true\n\t},\n\t\"d\": \"x\"\n}\n";
    assert_eq!(
        apply(t, insert_key("$.b", "e", json!({"f": [1]}), Position::End)),
        "{\n\t\"a\": 1,\n\n\t\"b\": {\n\t\t\"c\": true,\n\t\t\"e\": {\n\t\t\t\"f\": [\n\t\t\t\t1\n\t\t\t]\n\t\t}\n\t},\n\t\"d\": \"x\"\n}\n"
    );
    assert_eq!(
        apply(t, insert_key("$", "z", json!([]), Position::End)),
        "{\n\t\"a\": 1,\n\n\t\"b\": {\n\t\t\"c\": true\n\t},\n\t\"d\": \"x\",\n\t\"z\": []\n}\n"
    );
    assert_eq!(
        apply(t, remove("$.b")),
        "{\n\t\"a\": 1,\n\n\t\"d\": \"x\"\n}\n"
    );
    assert_eq!(
        apply(t, remove("$.a")),
        "{\n\n\t\"b\": {\n\t\t\"c\": true\n\t},\n\t\"d\": \"x\"\n}\n"
    );
}

#[test]
fn minified_single_line_file() {
    let t = r#"{"a":1,"b":[1,2],"c":{}}"#;
    assert_eq!(
        apply(
            t,
            insert_key("$", "d", json!({"x": [1, "é"]}), Position::End)
        ),
        r#"{"a":1,"b":[1,2],"c":{},"d":{"x":[1,"é"]}}"#
    );
    assert_eq!(
        apply(t, insert_key("$", "d", json!(0), Position::Start)),
        r#"{"d":0,"a":1,"b":[1,2],"c":{}}"#
    );
    assert_eq!(
        apply(t, insert_key("$.c", "k", json!("v"), Position::End)),
        r#"{"a":1,"b":[1,2],"c":{"k":"v"}}"#
    );
    assert_eq!(
        apply(t, insert_item("$.b", 0, json!(0))),
        r#"{"a":1,"b":[0,1,2],"c":{}}"#
    );
    assert_eq!(
        apply(t, insert_item("$.b", 1, json!({"p": {"q": null}}))),
        r#"{"a":1,"b":[1,{"p":{"q":null}},2],"c":{}}"#
    );
    assert_eq!(apply(t, remove("$.a")), r#"{"b":[1,2],"c":{}}"#);
    assert_eq!(apply(t, remove("$.c")), r#"{"a":1,"b":[1,2]}"#);
    assert_eq!(apply(t, remove("$.b[1]")), r#"{"a":1,"b":[1],"c":{}}"#);
    assert_eq!(
        apply(t, replace("$.a", json!({"n": [1, 2]}))),
        r#"{"a":{"n":[1,2]},"b":[1,2],"c":{}}"#
    );
    assert_eq!(
        apply("[]", insert_item("$", 0, json!({"a": 1}))),
        r#"[{"a":1}]"#
    );
    assert_eq!(
        apply("{}\n", insert_key("$", "a", json!([1]), Position::End)),
        "{\"a\":[1]}\n"
    );
}

#[test]
fn spaced_single_line_file() {
    let t = "{\"a\": 1, \"b\": [1, 2], \"c\": {}}\n";
    assert_eq!(
        apply(t, insert_key("$", "d", json!({"x": [1, 2]}), Position::End)),
        "{\"a\": 1, \"b\": [1, 2], \"c\": {}, \"d\": {\"x\": [1, 2]}}\n"
    );
    assert_eq!(
        apply(t, insert_key("$.c", "k", json!(true), Position::End)),
        "{\"a\": 1, \"b\": [1, 2], \"c\": {\"k\": true}}\n"
    );
    assert_eq!(
        apply(t, insert_item("$.b", 2, json!(3))),
        "{\"a\": 1, \"b\": [1, 2, 3], \"c\": {}}\n"
    );
}

#[test]
fn crlf_file_stays_crlf() {
    let t = "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    \"x\"\r\n  ]\r\n}\r\n";
    assert_eq!(
        apply(t, insert_key("$", "c", json!({"d": 1}), Position::End)),
        "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    \"x\"\r\n  ],\r\n  \"c\": {\r\n    \"d\": 1\r\n  }\r\n}\r\n"
    );
    assert_eq!(
        apply(t, insert_item("$.b", 1, json!("y"))),
        "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    \"x\",\r\n    \"y\"\r\n  ]\r\n}\r\n"
    );
    assert_eq!(
        apply(t, remove("$.a")),
        "{\r\n  \"b\": [\r\n    \"x\"\r\n  ]\r\n}\r\n"
    );
    assert_eq!(apply(t, remove("$.b")), "{\r\n  \"a\": 1\r\n}\r\n");
    let e = "{\r\n  \"a\": {}\r\n}\r\n";
    assert_eq!(
        apply(e, insert_key("$.a", "k", json!([1]), Position::End)),
        "{\r\n  \"a\": {\r\n    \"k\": [\r\n      1\r\n    ]\r\n  }\r\n}\r\n"
    );
}

#[test]
fn missing_final_newline_stays_missing() {
    let t = "{\n  \"a\": 1\n}";
    assert_eq!(
        apply(t, insert_key("$", "b", json!(2), Position::End)),
        "{\n  \"a\": 1,\n  \"b\": 2\n}"
    );
    assert_eq!(apply(t, remove("$.a")), "{}");
    assert_eq!(apply(t, replace("$", json!([1]))), "[\n  1\n]");
}

#[test]
fn non_ascii_before_the_edit_point() {
    let t = "{\n  \"描述\": \"✓ café\",\n  \"b\": 1\n}\n";
    assert_eq!(
        apply(t, replace("$.b", json!("ü"))),
        "{\n  \"描述\": \"✓ café\",\n  \"b\": \"ü\"\n}\n"
    );
    assert_eq!(
        apply(
            t,
            insert_key("$", "c", json!(["😀"]), Position::After("b".into()))
        ),
        "{\n  \"描述\": \"✓ café\",\n  \"b\": 1,\n  \"c\": [\n    \"😀\"\n  ]\n}\n"
    );
    assert_eq!(
        apply(
            t,
            Op::ReplaceInScalar {
                path: path("$['描述']"),
                find: "café".into(),
                replace: "thé".into()
            }
        ),
        "{\n  \"描述\": \"✓ thé\",\n  \"b\": 1\n}\n"
    );
    assert_eq!(apply(t, remove("$['描述']")), "{\n  \"b\": 1\n}\n");
    assert_eq!(doc(t).locate(&path("$.b")), (3, 3));
}

#[test]
fn rewrite_keeps_the_original_escapes_outside_the_match() {
    let t = r#"{"cmd": "echo \"hi\" \u00e9 && curl http:\/\/x | sh"}"#;
    let out = apply(
        t,
        Op::ReplaceInScalar {
            path: path("$.cmd"),
            find: "curl http://x | sh".into(),
            replace: "echo \"ok\"\t".into(),
        },
    );
    assert_eq!(out, r#"{"cmd": "echo \"hi\" \u00e9 && echo \"ok\"\t"}"#);
    let pair = r#"["\ud83d\ude00 a \ud83d\ude00"]"#;
    assert_eq!(
        apply(
            pair,
            Op::ReplaceInScalar {
                path: path("$[0]"),
                find: "a".into(),
                replace: "b".into()
            }
        ),
        r#"["\ud83d\ude00 b \ud83d\ude00"]"#
    );
}

#[test]
fn refusals_and_missing_nodes() {
    let mixed = "{\n  \"a\": [\n    1, 2,\n    3\n  ]\n}\n";
    assert_eq!(
        apply(mixed, insert_item("$.a", 1, json!(9))),
        "{\n  \"a\": [\n    1, 9, 2,\n    3\n  ]\n}\n"
    );
    assert_eq!(
        apply(mixed, insert_item("$.a", 3, json!(9))),
        "{\n  \"a\": [\n    1, 2,\n    3,\n    9\n  ]\n}\n"
    );
    for odd in ["[\n  1\n  , 2\n]", "{\"a\": [{\n  \"b\": 1\n}\n]}"] {
        assert!(
            matches!(
                doc(odd).edit_text(&insert_item(
                    if odd.starts_with('[') { "$" } else { "$.a" },
                    1,
                    json!(9)
                )),
                Err(EditError::Unsupported(_))
            ),
            "{odd}"
        );
    }
    // Removal still works there: the neighbours' layout is kept.
    assert_eq!(
        apply(mixed, remove("$.a[0]")),
        "{\n  \"a\": [\n    2,\n    3\n  ]\n}\n"
    );
    assert_eq!(
        apply(mixed, remove("$.a[2]")),
        "{\n  \"a\": [\n    1, 2\n  ]\n}\n"
    );
    let d = doc(TWO);
    let lim = Limits::default();
    assert!(
        d.apply(&insert_key("$", "name", json!(1), Position::End), &lim)
            .is_err()
    );
    assert!(matches!(
        d.edit_text(&insert_key("$", "name", json!(1), Position::End)),
        Err(EditError::Unsupported(_))
    ));
    assert!(matches!(
        d.edit_text(&insert_key("$.name", "x", json!(1), Position::End)),
        Err(EditError::NoSuchNode(_))
    ));
    assert!(matches!(
        d.edit_text(&insert_item("$.stages", 9, json!(1))),
        Err(EditError::NoSuchNode(_))
    ));
    assert!(matches!(
        d.edit_text(&remove("$.nope")),
        Err(EditError::NoSuchNode(_))
    ));
    assert!(matches!(
        d.edit_text(&remove("$")),
        Err(EditError::NoSuchNode(_))
    ));
    assert!(matches!(
        d.edit_text(&Op::RenameKey {
            path: path("$.name"),
            new_key: "tags".into()
        }),
        Err(EditError::Unsupported(_))
    ));
    assert!(matches!(
        d.edit_text(&Op::ReplaceInScalar {
            path: path("$.tags"),
            find: "a".into(),
            replace: "b".into()
        }),
        Err(EditError::NoSuchNode(_))
    ));
}

#[test]
fn edits_on_corpus_files_keep_their_meaning() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !root.is_dir() {
        eprintln!("note: {} not found, skipping", root.display());
        return;
    }
    let lim = Limits::default();
    for dir in ["taskdef", "deploymentgroup", "ecs-service", "appspec"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            let Ok(d) = parse(&text) else {
                continue;
            };
            let name = entry.path().display().to_string();
            // Every object gets a key at the start and the end, every array an item at the
            // end, and every member of the root is removed once: all must keep the meaning.
            let mut ops = Vec::new();
            let mut todo = vec![(Path::root(), d.root())];
            while let Some((p, n)) = todo.pop() {
                match &n.kind {
                    NodeKind::Mapping { entries, .. } => {
                        ops.push(insert_key_op(&p, Position::Start));
                        ops.push(insert_key_op(&p, Position::End));
                        for e in entries {
                            todo.push((p.key(&e.key), &e.value));
                        }
                    }
                    NodeKind::Sequence { items, .. } => {
                        ops.push(Op::InsertItem {
                            path: p.clone(),
                            index: items.len(),
                            value: json!({"k": [1]}),
                        });
                        for (i, it) in items.iter().enumerate() {
                            todo.push((p.index(i), it));
                        }
                    }
                    _ => {}
                }
                if !p.is_root() {
                    ops.push(Op::Remove { path: p.clone() });
                }
            }
            for op in ops {
                match d.apply(&op, &lim) {
                    Ok(_) => {}
                    Err(EditError::Unsupported(m)) => eprintln!("UNSUP {name}: {m}"),
                    Err(e) => panic!("{name}: {op:?}: {e}"),
                }
            }
        }
    }
}

fn insert_key_op(p: &Path, position: Position) -> Op {
    Op::InsertKey {
        path: p.clone(),
        key: "pipefixNew".into(),
        value: json!({"a": [1, {"b": "ü"}]}),
        position,
    }
}

#[test]
fn cuddled_arrays_of_objects() {
    // As in CodeDeploy samples: `[{` on the key's line, `}]` closing together.
    let t = "{\n\t\"svc\": [{\n\t\t\"a\": 1\n\t}],\n\t\"tg\": [{\n\t\t\t\"n\": 1\n\t\t},\n\t\t{\n\t\t\t\"n\": 2\n\t\t}\n\t]\n}\n";
    assert_eq!(
        apply(t, insert_item("$.svc", 1, json!({"b": [2]}))),
        t.replace("\t}],", "\t}, {\n\t\t\"b\": [\n\t\t\t2\n\t\t]\n\t}],")
    );
    assert_eq!(
        apply(t, insert_item("$.svc", 0, json!({"z": 0}))),
        t.replace("[{\n\t\t\"a\"", "[{\n\t\t\"z\": 0\n\t}, {\n\t\t\"a\"")
    );
    assert_eq!(
        apply(t, insert_item("$.tg", 2, json!({"n": 3}))),
        t.replace(
            "\t\t\t\"n\": 2\n\t\t}\n",
            "\t\t\t\"n\": 2\n\t\t},\n\t\t{\n\t\t\t\"n\": 3\n\t\t}\n"
        )
    );
    assert_eq!(
        apply(t, remove("$.svc[0]")),
        t.replace("[{\n\t\t\"a\": 1\n\t}]", "[]")
    );
    assert_eq!(
        apply(t, remove("$.tg[0]")),
        t.replace("[{\n\t\t\t\"n\": 1\n\t\t},\n\t\t{", "[{")
    );
}

/// Single-byte mutations of a small file: our verdict must agree with serde_json's (which is
/// strict RFC 8259 too, but lets duplicate keys through).
#[test]
fn agrees_with_serde_json_on_mutations() {
    let base =
        "{\"a\": [1, -2.5e3, \"x\\u00e9\\n\", true, null], \"b\": {\"c\": \"é\"}, \"d\": []}";
    let subs = [
        "", "{", "}", "[", "]", ",", ":", "\"", "\\", " ", "0", "a", "-", ".", "e", "\n", "\t",
        "\u{1}", "é", "/", "'", "+",
    ];
    let mut checked = 0;
    for (at, _) in base.char_indices() {
        let next = base[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        for s in subs {
            for text in [
                format!("{}{s}{}", &base[..at], &base[next..]),
                format!("{}{s}{}", &base[..at], &base[at..]),
            ] {
                let ours = parse(&text);
                let theirs = serde_json::from_str::<serde_json::Value>(&text);
                match (&ours, &theirs) {
                    (Ok(d), Ok(v)) => {
                        assert_eq!(d.value(), v, "{text:?}");
                        assert_eq!(d.text(), text);
                    }
                    (Err(_), Err(_)) => {}
                    (Err(e), Ok(_)) => {
                        assert!(e.message.contains("duplicate key"), "{text:?}: {e}")
                    }
                    (Ok(_), Err(e)) => panic!("{text:?} accepted, serde_json says {e}"),
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 1000);
}
