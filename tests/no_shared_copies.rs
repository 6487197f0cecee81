//! No committed file is a byte copy of a file under `../shared/`: those files belong to
//! their authors (public repositories, several without a license) and are read at test and
//! fuzz time, never copied into this repository (`fuzz/seed.sh` seeds the fuzzers).

mod common;

use common::{files_below, root};
use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use sha2::{Digest, Sha256};

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The committed files (`git ls-files`), or `None` when git or the repository is not there.
fn committed() -> Option<Vec<PathBuf>> {
    let out = Command::new("git")
        .current_dir(root())
        .args(["ls-files", "-z", "--cached"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
            .collect(),
    )
}

#[test]
fn no_committed_file_is_a_copy_of_a_shared_file() {
    let shared = root().join("../shared");
    if !shared.is_dir() {
        eprintln!("note: ../shared is missing; the copy check is skipped");
        return;
    }
    let Some(files) = committed() else {
        eprintln!("note: git or the repository is missing; the copy check is skipped");
        return;
    };
    let mut by_digest: HashMap<[u8; 32], PathBuf> = HashMap::new();
    for f in files_below(&shared) {
        // Empty files are identical to every other empty file and hold nothing.
        if let Ok(bytes) = fs::read(&f)
            && !bytes.is_empty()
        {
            by_digest.insert(digest(&bytes), f);
        }
    }
    assert!(!by_digest.is_empty(), "../shared holds files");
    let mut copies = Vec::new();
    for f in &files {
        // A file deleted in the work tree but still in the index is not read.
        let Ok(bytes) = fs::read(f) else { continue };
        if let Some(original) = by_digest.get(&digest(&bytes)) {
            let rel = f.strip_prefix(root()).unwrap_or(f);
            let from = original.strip_prefix(&shared).unwrap_or(original);
            copies.push(format!(
                "{} is a copy of ../shared/{}",
                rel.display(),
                from.display()
            ));
        }
    }
    assert!(
        copies.is_empty(),
        "committed files copied from ../shared (read them from there at test time instead):\n{}",
        copies.join("\n")
    );
}
