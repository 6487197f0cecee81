//! Files are only parsed when `model::may_classify` says their text could be a pipeline
//! file: every file that `classify` recognises must pass it.

mod common;

use std::fs;
use std::path::Path;

use pipefix::document::{Document, Format, Limits};
use pipefix::model;

fn check_tree(root: &Path) -> usize {
    let mut recognised = 0;
    for p in common::files_below(root) {
        let name = p.to_string_lossy().to_string();
        let format = if name.ends_with(".yml") || name.ends_with(".yaml") {
            Format::Yaml
        } else if name.ends_with(".json") || name.ends_with(".template") {
            Format::Json
        } else {
            continue;
        };
        let Ok(text) = fs::read_to_string(&p) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let Ok(doc) = Document::parse(text, format, &Limits::default()) else {
            continue;
        };
        if let Some((kind, _)) = model::classify(doc.value()) {
            assert!(
                model::may_classify(text),
                "{name}: a {kind} that the pre-parse filter would skip"
            );
            recognised += 1;
        }
    }
    recognised
}

#[test]
fn every_recognised_file_passes_the_filter() {
    let mut n = check_tree(&common::root().join("examples"));
    if let Some(corpus) = common::corpus() {
        n += check_tree(&corpus);
    }
    assert!(n >= 6, "only {n} pipeline files recognised");
}

#[test]
fn unrelated_files_are_filtered_out() {
    assert!(!model::may_classify(
        "{\n  \"name\": \"app\",\n  \"scripts\": {\"test\": \"jest\"}\n}\n"
    ));
    assert!(!model::may_classify(
        "services:\n  web:\n    image: nginx\n"
    ));
    assert!(model::may_classify("{\"st\\u0061ges\": []}"));
}
