//! Every before/after example of `patches/` runs here, and the catalog's data is consistent.

use pipefix::catalog::{examples, meta, rules};
use pipefix::config::Config;
use pipefix::model::Kind;

#[test]
fn every_example_converts_exactly_and_converges() {
    let mut failures = Vec::new();
    let mut count = 0;
    for m in meta::all() {
        for ex in &m.examples {
            count += 1;
            if let Err(e) = examples::check(m, ex) {
                failures.push(format!("{} / {}: {e}", m.id, ex.title));
            }
        }
    }
    assert!(count > 0, "the catalog has no examples");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_fix_is_documented_and_registered() {
    let ids: Vec<&str> = rules().iter().map(|r| r.id()).collect();
    for m in meta::all() {
        assert!(
            m.file.starts_with(&format!("{}-{}", m.id, m.name)),
            "{} must be named {}-{}.toml",
            m.file,
            m.id,
            m.name
        );
        assert!(!m.kinds().is_empty(), "{}: no known kinds", m.id);
        assert_eq!(
            m.kinds().len(),
            m.kinds.len(),
            "{}: unknown kind in {:?}",
            m.id,
            m.kinds
        );
        assert!(
            ids.contains(&m.id.as_str()),
            "{} has no implementation",
            m.id
        );
        assert!(
            !m.why.trim().is_empty() && m.why != "(draft)",
            "{}: no rationale",
            m.id
        );
        assert!(
            m.references.iter().all(|r| r.url.starts_with("https://")),
            "{}: references must be links",
            m.id
        );
        if m.signature.is_none() && m.safety != pipefix::catalog::Safety::Manual {
            assert!(
                !m.examples.is_empty(),
                "{} has no before/after example",
                m.id
            );
        }
        if let Some(s) = &m.signature {
            assert!(
                regex::Regex::new(&s.pattern).is_ok(),
                "{}: bad pattern",
                m.id
            );
            assert!(
                s.kinds
                    .iter()
                    .all(|k| Kind::from_name(k).is_some_and(Kind::is_log))
            );
        }
    }
    for id in ids {
        assert!(
            meta::get(id).is_some(),
            "{id} is implemented but not documented"
        );
    }
}

/// Each fix reads its parameters into a typed struct: every parameter of its catalog file,
/// none other (a misspelled name is an error), under the defaults and under every example's
/// parameters.
#[test]
fn every_fix_reads_exactly_its_catalog_parameters() {
    for rule in rules() {
        let id = rule.id();
        let m = meta::get(id).expect("documented");
        let defaults = Config::default();
        assert_eq!(rule.read_params(&defaults), Ok(()), "{id}: defaults");
        for ex in &m.examples {
            let mut c = Config::default();
            for (name, value) in &ex.options.params {
                c.set_param(id, name, value.clone());
            }
            assert_eq!(rule.read_params(&c), Ok(()), "{id} / {}", ex.title);
        }
        let mut misspelled = Config::default();
        misspelled.set_param(id, "no_such_parameter", serde_json::json!(1));
        assert!(
            rule.read_params(&misspelled).is_err(),
            "{id} accepts a parameter its catalog file does not declare"
        );
    }
}

#[test]
fn readme_lists_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme.find("<!-- rules:start -->\n").expect("start marker") + 21;
    let end = readme.find("<!-- rules:end -->").expect("end marker");
    assert_eq!(
        &readme[start..end],
        meta::markdown_table(),
        "README's catalog table is stale: run `pipefix rules --format markdown` and paste it"
    );
}
