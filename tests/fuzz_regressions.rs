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
/// empty value gets a zero-length key span at the end of the line above, not at its `!`.
const TAGGED_EMPTY_KEY: &str = "tSer-xvice:,  o      tSer-xvice:,  o:Cont]ainerot:\n! :      tSer-xvice:,  o:Cont]ainerot P:r82\n";

#[test]
fn yaml_tagged_empty_key_edits_stay_correct() {
    // What matters for files: every edit near the misplaced span is still exact or refused
    // (`Document::apply` re-parses and compares meanings).
    use pipefix::document::{Document, Limits, Op, Path};
    let limits = Limits::default();
    let doc = Document::parse(TAGGED_EMPTY_KEY, Format::Yaml, &limits).expect("parses");
    let first = "tSer-xvice:,  o      tSer-xvice:,  o:Cont]ainerot";
    let removed = doc
        .apply(
            &Op::Remove {
                path: Path::root().key(first),
            },
            &limits,
        )
        .expect("remove");
    assert_eq!(
        removed.text(),
        "! :      tSer-xvice:,  o:Cont]ainerot P:r82\n"
    );
    let renamed = doc.apply(
        &Op::RenameKey {
            path: Path::root().key(""),
            new_key: "k".into(),
        },
        &limits,
    );
    if let Ok(d) = renamed {
        assert!(d.value().get("k").is_some(), "{}", d.text());
        assert!(d.value().get(first).is_some(), "{}", d.text());
    }
}

#[test]
#[ignore = "known, not fixed yet: the key span of a tagged empty key is misplaced (yaml.rs)"]
fn yaml_tagged_empty_key_span_is_exact() {
    props::document_round(TAGGED_EMPTY_KEY.as_bytes(), Format::Yaml);
}
