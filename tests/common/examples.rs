//! Running the before/after examples of `patches/`: each file's *before* must become exactly
//! *after* (or stay as it is when no *after* is given), and a second run on the result must
//! change nothing. `tests/catalog_examples.rs` runs every example of every fix through this.

use std::fs;

use pipefix::config::Config;
use pipefix::meta::{Example, Meta};
use pipefix::run::{self, RunOptions};

/// Run one example in a fresh temporary folder; `Err` says what differed.
pub fn check(meta: &Meta, example: &Example) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    for f in &example.files {
        let p = dir.path().join(&f.path);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        fs::write(&p, &f.before).map_err(|e| e.to_string())?;
    }
    // An example documents one fix: the others stay out of its way.
    let mut config = Config::default();
    config.select = vec![meta.id.clone()];
    config.select.extend(example.options.select.iter().cloned());
    for (name, value) in &example.options.params {
        config.set_param(&meta.id, name, value.clone());
    }
    for pin in &example.options.pins {
        let (image, digest) = pin
            .rsplit_once('=')
            .ok_or_else(|| format!("pin {pin:?} is not IMAGE=DIGEST"))?;
        config.pins.insert(image.to_string(), digest.to_string());
    }
    config.unsafe_fixes = example.options.unsafe_fixes;
    let opts = RunOptions {
        paths: vec![dir.path().to_path_buf()],
        apply: true,
        jobs: 1,
        ..RunOptions::default()
    };
    let first = run::run(&opts, &config);
    if let Some(e) = first.all_errors().next() {
        return Err(format!("error: {e}"));
    }
    if let Some(b) = first.bugs().next() {
        return Err(format!("bug: {b}"));
    }
    let changes = example.files.iter().any(|f| f.after.is_some());
    if changes && example.findings != Some(0) && !first.findings().any(|f| f.rule == meta.id) {
        return Err(format!("{} reported nothing", meta.id));
    }
    let found = first.findings().filter(|f| f.rule == meta.id).count();
    if let Some(n) = example.findings
        && n != found
    {
        return Err(format!(
            "expected {n} finding(s) of {}, got {found}",
            meta.id
        ));
    }
    for f in &example.files {
        let got = fs::read_to_string(dir.path().join(&f.path)).map_err(|e| e.to_string())?;
        let want = f.after.as_deref().unwrap_or(&f.before);
        if got != want {
            return Err(format!(
                "{}: output differs from `after`:\n{}",
                f.path,
                pipefix::report::diff::unified(&f.path, want, &got)
            ));
        }
    }
    let second = run::run(&opts, &config);
    if let Some(f) = second.files().find(|f| f.diff.is_some()) {
        return Err(format!("second run changed {} again", f.path));
    }
    Ok(())
}
