//! The fixes read AWS objects through the typed model (`src/aws/`), never by their raw keys:
//! the API's names for the objects a rule walks (containers, health checks, deployment
//! configuration, rollback, stages, actions) are spelled in `src/aws/` only. A fix that walks
//! them by hand again fails here, with the line.

use std::fs;
use std::path::Path;

/// Keys whose objects the views hand out; a fix reads them through a view.
const VIEW_KEYS: &[&str] = &[
    "\"containerDefinitions\"",
    "\"healthCheck\"",
    "\"deploymentConfiguration\"",
    "\"autoRollbackConfiguration\"",
    "\"stages\"",
    "\"actions\"",
];

/// The text of a source file before its `#[cfg(test)]` module (tests build raw fixtures).
fn code_of(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

#[test]
fn fixes_read_the_typed_model_not_raw_keys() {
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/catalog");
    let mut files: Vec<_> = fs::read_dir(&catalog)
        .expect("readable catalog folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "the catalog's fixes are found");
    let mut offences = Vec::new();
    for path in &files {
        let text = fs::read_to_string(path).expect("readable source file");
        for (n, line) in code_of(&text).lines().enumerate() {
            for key in VIEW_KEYS {
                if line.contains(key) {
                    offences.push(format!(
                        "{}:{}: {key}: {}",
                        path.file_name()
                            .map(|f| f.to_string_lossy())
                            .unwrap_or_default(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "read these through the views of src/aws (add a method there if one is missing):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_views_spell_the_keys() {
    // The keys the fixes may not spell are the views' to spell: each is in src/aws.
    let aws = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/aws");
    let mut text = String::new();
    for e in fs::read_dir(&aws).expect("readable aws folder").flatten() {
        text.push_str(&fs::read_to_string(e.path()).expect("readable source file"));
    }
    for key in VIEW_KEYS {
        assert!(text.contains(key), "src/aws spells {key}");
    }
}

#[test]
fn test_modules_are_cut_off_but_code_is_not() {
    let text = "let a = v.get(\"stages\");\n#[cfg(test)]\nmod tests { json!({\"stages\": []}) }";
    assert_eq!(code_of(text), "let a = v.get(\"stages\");\n");
    assert_eq!(code_of("fn f() {}"), "fn f() {}");
}
