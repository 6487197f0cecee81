//! The fuzz targets' properties (`fuzz/props.rs`), replayed on the committed corpus and on
//! every crash the fuzzers found (`fuzz/regressions/<target>/`), so that `cargo test` keeps
//! them fixed without a fuzzing toolchain.

#[path = "../fuzz/props.rs"]
mod props;

use std::fs;
use std::path::{Path, PathBuf};

use pipefix::document::Format;

fn inputs(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir);
    let mut v: Vec<PathBuf> = fs::read_dir(&root)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn json_document_corpus_and_regressions() {
    let files = [
        inputs("corpus/json_document"),
        inputs("regressions/json_document"),
    ]
    .concat();
    assert!(!files.is_empty(), "the JSON corpus is committed");
    for p in files {
        let data = fs::read(&p).expect("read");
        props::document_round(&data, Format::Json);
    }
}

#[test]
fn yaml_document_corpus_and_regressions() {
    let files = [
        inputs("corpus/yaml_document"),
        inputs("regressions/yaml_document"),
    ]
    .concat();
    assert!(!files.is_empty(), "the YAML corpus is committed");
    for p in files {
        let data = fs::read(&p).expect("read");
        props::document_round(&data, Format::Yaml);
    }
}

#[test]
fn run_one_file_regressions_and_a_corpus_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The whole corpus takes a while in a debug build; every 16th file keeps this fast.
    let sample: Vec<PathBuf> = inputs("corpus/run_one_file")
        .into_iter()
        .step_by(16)
        .collect();
    for p in [sample, inputs("regressions/run_one_file")].concat() {
        let data = fs::read(&p).expect("read");
        props::run_round(dir.path(), &data);
    }
}

#[test]
fn yaml_control_characters_are_refused_with_their_position() {
    // Found by yaml_document: NUL and other control characters made yaml-rust2 report
    // positions that did not match the text, so an edit could overwrite a neighbour.
    let limits = pipefix::document::Limits::default();
    let e = pipefix::document::Document::parse("a: [x, \"y\"]\nb: \0z\n", Format::Yaml, &limits)
        .expect_err("refused");
    assert_eq!((e.line, e.col), (2, 4));
    assert!(e.message.contains("U+0000"), "{}", e.message);
    let e = pipefix::document::Document::parse("a: 1\u{1e}\n", Format::Yaml, &limits)
        .expect_err("refused");
    assert_eq!((e.line, e.col), (1, 5));
    assert!(
        pipefix::document::Document::parse("\u{feff}a: \"é\t\u{85}\"\n", Format::Yaml, &limits)
            .is_ok()
    );
}

/// Found by yaml_document (second run): a tagged empty key (`! :`) after an entry with an
/// empty value got a zero-length key span at the end of the line above, not at its `!`.
/// Empty keys are now refused at their position (`fuzz/regressions/yaml_document/`).
const TAGGED_EMPTY_KEY: &str = "tSer-xvice:,  o      tSer-xvice:,  o:Cont]ainerot:\n! :      tSer-xvice:,  o:Cont]ainerot P:r82\n";

#[test]
fn yaml_tagged_empty_key_is_refused_at_its_position() {
    use pipefix::document::{Document, Limits};
    let Err(e) = Document::parse(TAGGED_EMPTY_KEY, Format::Yaml, &Limits::default()) else {
        panic!("a tagged empty key must be refused");
    };
    assert_eq!((e.line, e.col), (2, 1), "{e}");
    assert!(e.message.contains("empty mapping keys"), "{e}");
}

#[test]
fn yaml_tagged_empty_key_span_is_exact() {
    // The layout that misplaced the span, with the key spelled out: spans are exact and
    // every generated edit holds.
    let named = TAGGED_EMPTY_KEY.replacen("! :", "! k:", 1);
    props::document_round(named.as_bytes(), Format::Yaml);
    let doc = pipefix::document::Document::parse(
        &named,
        Format::Yaml,
        &pipefix::document::Limits::default(),
    )
    .expect("parses");
    let pipefix::document::NodeKind::Mapping { entries, .. } = &doc.root().kind else {
        panic!("a mapping");
    };
    let k = entries.iter().find(|e| e.key == "k").expect("key k");
    assert_eq!(&named[k.key_span.start..k.key_span.end], "k");
    props::document_round(TAGGED_EMPTY_KEY.as_bytes(), Format::Yaml);
}
