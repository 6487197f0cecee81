//! The fuzz targets' properties (`fuzz/props.rs`), replayed on every crash the fuzzers found
//! (`fuzz/regressions/<target>/`), on the bundled example and, when `../shared/` is beside the
//! project, on the real-world files the fuzzers are seeded from (`fuzz/seed.sh`), so that
//! `cargo test` keeps them fixed without a fuzzing toolchain.

#[path = "../fuzz/props.rs"]
mod props;

mod common;

use common::{files_below, root};
use std::fs;
use std::path::PathBuf;

use pipefix::document::Format;

fn regressions(target: &str) -> Vec<PathBuf> {
    files_below(&root().join("fuzz/regressions").join(target))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != ".keep"))
        .collect()
}

/// The seeds `fuzz/seed.sh` would use whose name ends in one of `exts`: the bundled example,
/// and `../shared/corpus` and `../shared/realworld` when they are there.
fn seeds(exts: &[&str]) -> Vec<PathBuf> {
    let mut dirs = vec![root().join("examples")];
    let shared = root().join("../shared");
    if shared.is_dir() {
        dirs.push(shared.join("corpus"));
        dirs.push(shared.join("realworld"));
    } else {
        eprintln!("note: ../shared is missing; only the example seeds the fuzz properties");
    }
    dirs.iter()
        .flat_map(|d| files_below(d))
        .filter(|p| {
            let name = p.to_string_lossy();
            exts.iter().any(|e| name.ends_with(e))
        })
        .filter(|p| fs::metadata(p).is_ok_and(|m| m.len() < 64 * 1024))
        .collect()
}

const JSON: &[&str] = &[".json", ".json.template"];
const YAML: &[&str] = &[".yml", ".yaml"];

#[test]
fn json_document_seeds_and_regressions() {
    let files = [seeds(JSON), regressions("json_document")].concat();
    assert!(files.len() >= 8, "the example alone has 8 JSON files");
    for p in files {
        let data = fs::read(&p).expect("read");
        props::document_round(&data, Format::Json);
    }
}

#[test]
fn yaml_document_seeds_and_regressions() {
    let files = [seeds(YAML), regressions("yaml_document")].concat();
    assert!(files.len() >= 4, "the example and the regressions");
    for p in files {
        let data = fs::read(&p).expect("read");
        props::document_round(&data, Format::Yaml);
    }
}

#[test]
fn run_one_file_regressions_and_a_seed_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Every seed takes a while in a debug build; every 16th file keeps this fast.
    let all = [JSON, YAML].concat();
    let sample: Vec<PathBuf> = seeds(&all).into_iter().step_by(16).collect();
    assert!(!sample.is_empty());
    for p in [sample, regressions("run_one_file")].concat() {
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
