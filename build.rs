//! Generates, from the files themselves, what would otherwise be lists kept by hand:
//! - `patches.rs`: every catalog file of `patches/`, embedded, so that `pipefix explain`, the
//!   reports and the rule registry always agree with the documentation;
//! - `catalog_rules.rs`: one `mod` per fix file `src/catalog/<id>_<name>.rs` and the registry
//!   of those fixes (adding a fix is adding its TOML and its Rust file, nothing else);
//! - `example_tests.rs`: one test per catalog file with examples, named after its id, so that
//!   `cargo test BS005` runs that fix's examples (included by `tests/catalog_examples.rs`).

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = Path::new(&out_dir);

    println!("cargo:rerun-if-changed=patches");
    let patches = files("patches", |n| n.ends_with(".toml"));
    let mut embedded = String::from("&[\n");
    let mut tests = String::new();
    let mut with_tests = String::new();
    for n in &patches {
        println!("cargo:rerun-if-changed=patches/{n}");
        embedded.push_str(&format!(
            "    ({n:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/patches/{n}\"))),\n"
        ));
        let text = fs::read_to_string(Path::new("patches").join(n)).unwrap_or_default();
        let id = n.split('-').next().unwrap_or_default();
        if text.contains("[[examples]]") && is_id(id) {
            tests.push_str(&format!(
                "#[test]\n#[allow(non_snake_case)]\nfn {id}() {{\n    check_examples({id:?});\n}}\n\n"
            ));
            with_tests.push_str(&format!("{id:?}, "));
        }
    }
    embedded.push_str("]\n");
    fs::write(out.join("patches.rs"), embedded).expect("OUT_DIR is writable");
    tests.push_str(&format!(
        "/// The ids that have a test above.\npub const WITH_TESTS: &[&str] = &[{with_tests}];\n"
    ));
    fs::write(out.join("example_tests.rs"), tests).expect("OUT_DIR is writable");

    println!("cargo:rerun-if-changed=src/catalog");
    let fixes = files("src/catalog", is_fix_file);
    let mut registry = String::new();
    let mut entries = String::new();
    for n in &fixes {
        let module = n.trim_end_matches(".rs");
        let path = Path::new(&manifest).join("src/catalog").join(n);
        registry.push_str(&format!(
            "#[path = {:?}]\nmod {module};\n",
            path.to_string_lossy()
        ));
        entries.push_str(&format!(
            "        ({module:?}, Box::new({module}::Rule) as Box<dyn Rule>),\n"
        ));
    }
    registry.push_str(&format!(
        "\n/// Every fix with logic in Rust, with the name of its file (`src/catalog/<name>.rs`),\n\
         /// one per file, in file name order.\n\
         fn implemented() -> Vec<(&'static str, Box<dyn Rule>)> {{\n    vec![\n{entries}    ]\n}}\n"
    ));
    fs::write(out.join("catalog_rules.rs"), registry).expect("OUT_DIR is writable");
}

/// The sorted names of the files of `dir` that `keep` accepts.
fn files(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| keep(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A catalog id: capital letters, then digits (`BS005`, `LOG001`).
fn is_id(id: &str) -> bool {
    let letters = id.bytes().take_while(u8::is_ascii_uppercase).count();
    letters > 0 && id.len() > letters && id.bytes().skip(letters).all(|b| b.is_ascii_digit())
}

/// A fix's file: `<id in lower case>_<name>.rs`, as `bs005_mutable_latest_tag.rs`.
fn is_fix_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".rs") else {
        return false;
    };
    let Some((id, rest)) = stem.split_once('_') else {
        return false;
    };
    !rest.is_empty()
        && is_id(&id.to_ascii_uppercase())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
