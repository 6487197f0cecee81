#![no_main]

#[path = "../props.rs"]
mod props;

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

/// One folder for the whole fuzzing session, rewritten on each input.
static DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary folder"));

fuzz_target!(|data: &[u8]| {
    props::run_round(DIR.path(), data);
});
