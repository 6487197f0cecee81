//! The modules of `src/` form layers, and a module uses only the layers below it: data flows
//! one way (see the README's design section). A new top-level module takes its place in
//! `LAYERS`.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// From the bottom up; a module may use any module listed before it.
const LAYERS: &[&str] = &[
    // Helpers of the unit tests only.
    "testing",
    "errors",
    "document",
    "model",
    "meta",
    "finding",
    "front",
    "aws",
    "registry",
    "config",
    "config_edit",
    "workspace",
    "discover",
    "catalog",
    "engine",
    "interrupt",
    "write",
    "report",
    "run",
    "cli",
];

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).expect("readable source folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules a text names as `crate::<module>`.
fn used_modules(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect::<String>()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("below src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(level) = LAYERS.iter().position(|l| *l == top) else {
            wrong.push(format!(
                "src/{}: module {top} has no place in LAYERS",
                rel.display()
            ));
            continue;
        };
        let text = fs::read_to_string(f).expect("readable source");
        for used in used_modules(&text) {
            if used == top {
                continue;
            }
            match LAYERS.iter().position(|l| *l == used) {
                Some(u) if u < level => {}
                Some(_) => wrong.push(format!(
                    "src/{} ({top}) uses {used}, a layer above it",
                    rel.display()
                )),
                None => wrong.push(format!(
                    "src/{} uses {used}, which has no place in LAYERS",
                    rel.display()
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_reader_of_imports_finds_them() {
    let found = used_modules("use crate::document::Path;\nlet x = crate::run::go();\n");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["document".to_string(), "run".to_string()]
    );
}
