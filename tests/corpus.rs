//! pipefix over the real-world corpus in `../shared/corpus`: it never crashes, leaves files
//! without findings byte-identical, its fixes still parse and still validate for AWS, and a
//! second run is a no-op.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use pipefix::config::Config;
use pipefix::document::{Document, Format, Limits};
use pipefix::run::{self, RunOptions};

fn format_of(path: &str, text: &str) -> Format {
    if path.ends_with(".yml") || path.ends_with(".yaml") {
        Format::Yaml
    } else if path.ends_with(".json") || text.trim_start().starts_with('{') {
        Format::Json
    } else {
        Format::Yaml
    }
}

#[test]
fn corpus_survives_and_fixes_converge() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    common::copy_tree(&corpus, dir.path());
    let before: BTreeMap<PathBuf, Vec<u8>> = common::files_below(dir.path())
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read");
            (p, b)
        })
        .collect();

    let opts = RunOptions {
        paths: vec![dir.path().to_path_buf()],
        apply: true,
        unsafe_fixes: true,
        ..RunOptions::default()
    };
    let config = Config::default();
    let first = run::run(&opts, &config);
    let bugs: Vec<&String> = first.bugs().collect();
    assert!(bugs.is_empty(), "fixes failed on the corpus:\n{bugs:#?}");
    // Only unparsable templates may be refused.
    for e in first.all_errors() {
        assert!(
            e.message.contains("template") || e.message.contains("cannot parse"),
            "unexpected error: {e}"
        );
    }

    let python = common::validator_python();
    let changed: Vec<&pipefix::report::FileReport> = first.files().filter(|f| f.written).collect();
    assert!(!changed.is_empty(), "nothing in the corpus was fixed");
    for (path, old) in &before {
        let new = fs::read(path).expect("read");
        let shown = pipefix::report::display_path(path);
        let report = first.files().find(|f| f.path == shown);
        match report {
            Some(f) if f.written => {
                let text = String::from_utf8(new).expect("still UTF-8");
                Document::parse(&text, format_of(&shown, &text), &Limits::default())
                    .unwrap_or_else(|e| panic!("{shown}: fixed file no longer parses: {e}"));
                if let Some(py) = &python {
                    let original = dir.path().join("original");
                    fs::create_dir_all(&original).expect("mkdir");
                    let name = path.file_name().expect("name");
                    let copy = original.join(name);
                    fs::write(&copy, old).expect("write");
                    // A file that was valid for AWS before must still be valid after.
                    if common::validate(py, &copy, f.kind).is_ok()
                        && let Err(e) = common::validate(py, path, f.kind)
                    {
                        panic!("{shown}: valid before, invalid after the fixes:\n{e}");
                    }
                    let _ = fs::remove_file(&copy);
                }
            }
            _ => assert_eq!(&new, old, "{shown} changed without being reported as fixed"),
        }
    }

    let second = run::run(&opts, &config);
    let again: Vec<&str> = second
        .files()
        .filter(|f| f.diff.is_some())
        .map(|f| f.path.as_str())
        .collect();
    assert!(again.is_empty(), "second run changed: {again:?}");
}

#[test]
fn every_corpus_file_round_trips_unedited() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut parsed = 0;
    for p in common::files_below(&corpus) {
        let name = p.to_string_lossy().to_string();
        if name.ends_with(".tsv") || name.ends_with(".md") {
            continue;
        }
        let Ok(text) = fs::read_to_string(&p) else {
            continue;
        };
        if let Ok(doc) = Document::parse(&text, format_of(&name, &text), &Limits::default()) {
            assert_eq!(doc.text(), text, "{name}");
            parsed += 1;
        }
    }
    assert!(parsed > 40, "only {parsed} corpus files parsed");
}

#[test]
fn good_examples_get_no_finding_for_what_they_do_right() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    // A deployment group with automatic rollback on failure, stop and alarms, and alarms.
    let dg = corpus.join(
        "deploymentgroup/aws-samples__amazon-ecs-fargate-workshop-dev-ops-data__labs__fargate-dev-workshop__configs__deployment-group.json",
    );
    if !dg.is_file() {
        eprintln!("note: {} missing", dg.display());
        return;
    }
    let opts = RunOptions {
        paths: vec![dg],
        ..RunOptions::default()
    };
    let report = run::run(&opts, &Config::default());
    let ids: Vec<&str> = report.findings().map(|f| f.rule).collect();
    assert!(!ids.contains(&"DG001"), "{ids:?}");
    assert!(!ids.contains(&"DG002"), "{ids:?}");
}
