//! Finding the files of a run, reading them safely and classifying them by content, then
//! grouping them into units (the files of one service's pipeline).

use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::document::{Document, Format, Limits};
use crate::front::Front;
use crate::model;
use crate::workspace::{Body, File, Unit};

pub use crate::errors::FileError;

/// A candidate file: where it was found and which root it belongs to.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub path: PathBuf,
    /// Set when the path is a symbolic link: the target to read and write.
    pub target: Option<PathBuf>,
}

/// Directories never walked into.
const SKIP_DIRS: [&str; 3] = [".git", "target", "node_modules"];

/// Every candidate file under `paths` (files given by name are always candidates), sorted.
/// Warnings (for example a link out of the root) are returned beside.
pub fn discover(paths: &[PathBuf]) -> (Vec<Candidate>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for root in paths {
        if root.is_file() || is_symlink(root) && !root.is_dir() {
            match link_target(root, root.parent().unwrap_or(Path::new("."))) {
                Ok(target) => out.push(Candidate {
                    path: root.clone(),
                    target,
                }),
                Err(w) => warnings.push(w),
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .follow_links(false)
            .require_git(false)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && SKIP_DIRS.iter().any(|d| e.file_name() == *d))
            })
            .build();
        for entry in walker.flatten() {
            let Some(ft) = entry.file_type() else {
                continue;
            };
            if ft.is_dir() || !is_candidate_name(entry.path()) {
                continue;
            }
            if ft.is_symlink() {
                match link_target(entry.path(), root) {
                    Ok(Some(t)) if t.is_file() => out.push(Candidate {
                        path: entry.path().to_path_buf(),
                        target: Some(t),
                    }),
                    Ok(_) => {}
                    Err(w) => warnings.push(w),
                }
            } else if ft.is_file() {
                out.push(Candidate {
                    path: entry.path().to_path_buf(),
                    target: None,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    // One root walked without following links and no link among the files: every path is a
    // different file already, and resolving each (a system call per path component) would
    // only cost time.
    if paths.len() == 1 && out.iter().all(|c| c.target.is_none()) {
        return (out, warnings);
    }
    (dedup_targets(out), warnings)
}

/// One candidate per file on disk: a link whose target is also found under its own name (or
/// a second link to the same target, or the same file given twice under different spellings)
/// is dropped, so that no two units ever read and rewrite the same file.
fn dedup_targets(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let real = |c: &Candidate| {
        c.target
            .clone()
            .or_else(|| fs::canonicalize(&c.path).ok())
            .unwrap_or_else(|| c.path.clone())
    };
    // Regular files first, so that a file is kept under its own name rather than a link's.
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| candidates[i].target.is_some());
    let mut seen = std::collections::HashSet::new();
    let mut keep = vec![false; candidates.len()];
    for i in order {
        if seen.insert(real(&candidates[i])) {
            keep[i] = true;
        }
    }
    candidates
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

fn is_symlink(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

/// The target of a link, when it stays inside `root`; an error (a warning) otherwise.
fn link_target(path: &Path, root: &Path) -> Result<Option<PathBuf>, String> {
    if !is_symlink(path) {
        return Ok(None);
    }
    let target = fs::canonicalize(path)
        .map_err(|e| format!("{}: skipped: broken symbolic link ({e})", path.display()))?;
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if target.starts_with(&root) {
        Ok(Some(target))
    } else {
        Err(format!(
            "{}: skipped: symbolic link points outside {}",
            path.display(),
            root.display()
        ))
    }
}

/// Names worth opening: JSON, YAML, templates and logs. Everything else is skipped unread.
fn is_candidate_name(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    [".json", ".yml", ".yaml", ".template", ".log", ".txt"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// A file read and classified, ready to go into a unit.
pub struct Loaded {
    pub file: File,
    pub bom: bool,
    pub target: Option<PathBuf>,
    /// Further objects of the same file (the other services of a `describe-services`
    /// output, the other resources of a template): each becomes a file of the unit of its
    /// own, sharing the document (see [`crate::workspace::Unit::same_document`]).
    pub siblings: Vec<crate::front::Object>,
}

/// Read and classify one candidate. `Ok(None)` means "not a pipeline file": skipped silently.
pub fn load(c: &Candidate, max_size: u64, limits: &Limits) -> Result<Option<Loaded>, FileError> {
    load_noting(c, max_size, limits, &mut Vec::new())
}

/// As [`load`]; a file skipped for a reason worth telling (empty, only comments) adds a
/// warning to `notes`.
pub fn load_noting(
    c: &Candidate,
    max_size: u64,
    limits: &Limits,
    notes: &mut Vec<String>,
) -> Result<Option<Loaded>, FileError> {
    let err = |line, message: String| FileError {
        path: c.path.clone(),
        line,
        message,
    };
    let read_path = c.target.as_deref().unwrap_or(&c.path);
    let meta = fs::metadata(read_path).map_err(|e| err(None, format!("cannot read: {e}")))?;
    if meta.len() > max_size {
        return Err(err(
            None,
            format!(
                "refused: {} bytes is over the size limit of {max_size} bytes (see --max-file-size)",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(read_path)
        .and_then(|f| f.take(max_size + 1).read_to_end(&mut bytes))
        .map_err(|e| err(None, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > max_size {
        return Err(err(
            None,
            format!("refused: over the size limit of {max_size} bytes"),
        ));
    }
    let name = c
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let is_log = lower.ends_with(".log") || lower.ends_with(".txt");
    if let Some(i) = bytes.iter().position(|b| *b == 0) {
        if is_log {
            return Ok(None);
        }
        let (l, col) = line_col_bytes(&bytes, i);
        return Err(err(
            Some((l, col)),
            "binary content (NUL byte): not a pipeline file".into(),
        ));
    }
    let (bom, body) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (true, rest),
        None => (false, &bytes[..]),
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t.to_string(),
        Err(e) => {
            if is_log {
                // Logs are only read: a lossy view is enough and never written back.
                String::from_utf8_lossy(body).into_owned()
            } else {
                let (l, col) = line_col_bytes(body, e.valid_up_to());
                return Err(err(Some((l, col)), "not valid UTF-8".into()));
            }
        }
    };
    if is_log {
        return Ok(model::classify_log(&name, &text).map(|kind| Loaded {
            file: File::of_log(c.path.clone(), kind, text),
            bom,
            target: c.target.clone(),
            siblings: Vec::new(),
        }));
    }
    let format = match detect_format(&lower, &text) {
        Some(f) => f,
        None => return Ok(None),
    };
    if let Some(why) = no_content(&text, format) {
        notes.push(format!("{}: skipped: {why}", c.path.display()));
        return Ok(None);
    }
    let looks = model::looks_like_pipeline_file(&text);
    if !looks && !model::may_classify(&text) {
        // Parsing could only end in "unrelated": skipped either way.
        return Ok(None);
    }
    let doc = match Document::parse(&text, format, limits) {
        Ok(d) => d,
        Err(e) if looks => {
            let template = looks_like_template(&text);
            let message = if template {
                format!(
                    "unparsable template (render it before running pipefix): cannot parse {format}: {}",
                    e.message
                )
            } else {
                format!("cannot parse {format}: {}", e.message)
            };
            return Err(err(Some((e.line, e.col)), message));
        }
        Err(_) => return Ok(None),
    };
    let mut objects = crate::front::objects(&doc, limits).into_iter();
    let Some(first) = objects.next() else {
        return Ok(None);
    };
    let siblings = objects.collect();
    let own = first.inline.unwrap_or(doc);
    Ok(Some(Loaded {
        file: File::document(c.path.clone(), first.kind, own, first.root, first.front),
        bom,
        target: c.target.clone(),
        siblings,
    }))
}

fn detect_format(lower_name: &str, text: &str) -> Option<Format> {
    if lower_name.ends_with(".json") {
        return Some(Format::Json);
    }
    if lower_name.ends_with(".yml") || lower_name.ends_with(".yaml") {
        return Some(Format::Yaml);
    }
    // `.template`: JSON when it opens like JSON, YAML otherwise.
    let first = text.trim_start().chars().next();
    Some(if matches!(first, Some('{') | Some('[')) {
        Format::Json
    } else {
        Format::Yaml
    })
}

/// Why a file has nothing to check, if it has not: empty, or (YAML) only comments, blank lines
/// and document markers. Such a file is not a pipeline file whatever its name.
fn no_content(text: &str, format: Format) -> Option<&'static str> {
    if text.trim().is_empty() {
        return Some("empty file");
    }
    let only_comments = text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    });
    (format == Format::Yaml && only_comments).then_some("no content (only comments)")
}

fn looks_like_template(text: &str) -> bool {
    text.contains("{{") || text.contains("${") || regex_lite_placeholder(text)
}

/// An unquoted `<PLACEHOLDER>`, `%PLACEHOLDER%` or `$PLACEHOLDER` token, as sed- and
/// envsubst-based templates use.
fn regex_lite_placeholder(text: &str) -> bool {
    let b = text.as_bytes();
    let token_end = |from: usize| {
        let mut j = from;
        while j < b.len() && (b[j].is_ascii_uppercase() || b[j] == b'_' || b[j].is_ascii_digit()) {
            j += 1;
        }
        j
    };
    let mut i = 0;
    while i < b.len() {
        let close = match b[i] {
            b'<' => Some(b'>'),
            b'%' => Some(b'%'),
            b'$' => None,
            _ => {
                i += 1;
                continue;
            }
        };
        let j = token_end(i + 1);
        let has_token = j > i + 1;
        match close {
            Some(c) if has_token && j < b.len() && b[j] == c => return true,
            // `$NAME` alone: an envsubst variable (a letter first, at least two characters).
            None if has_token && j > i + 2 && b[i + 1].is_ascii_uppercase() => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

fn line_col_bytes(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

/// Folder names that hold part of one service's pipeline: their files join the files of the
/// folder above (`svc/pipeline/*.json` and `svc/artifacts/*.log` form one unit `svc/`).
const PART_DIRS: [&str; 16] = [
    "pipeline",
    "pipelines",
    "artifacts",
    "logs",
    "ci",
    "cicd",
    "deploy",
    "deployment",
    "aws",
    ".aws",
    "codebuild",
    "codedeploy",
    "codepipeline",
    "ecs",
    "infra",
    "config",
];

/// The unit a file belongs to: its folder, or the folder above when its folder is one of
/// [`PART_DIRS`].
pub fn unit_key(path: &Path) -> PathBuf {
    let parent = path.parent().unwrap_or(Path::new(""));
    let is_part = parent
        .file_name()
        .map(|n| PART_DIRS.contains(&n.to_string_lossy().to_ascii_lowercase().as_str()))
        .unwrap_or(false);
    let key = if is_part {
        parent.parent().unwrap_or(Path::new(""))
    } else {
        parent
    };
    // Normalise `./x` and `x` to the same unit.
    key.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

impl Loaded {
    pub fn into_unit(files: Vec<Loaded>) -> (Unit, Vec<(bool, Option<PathBuf>)>) {
        let mut unit = Unit::default();
        let mut extra = Vec::new();
        for l in files {
            // The document the file's objects share (for a buildspec inside a template,
            // the template).
            let shared = match (&l.file.front, &l.file.body) {
                (Front::Inline(i), _) => Some(i.outer()),
                (_, Body::Doc { doc, .. }) => Some(doc),
                (_, Body::Log { .. }) => None,
            };
            let siblings: Vec<File> = match shared {
                Some(doc) => l
                    .siblings
                    .into_iter()
                    .map(|o| {
                        let own = o.inline.unwrap_or_else(|| doc.clone());
                        File::document(l.file.path.clone(), o.kind, own, o.root, o.front)
                    })
                    .collect(),
                None => Vec::new(),
            };
            extra.push((l.bom, l.target.clone()));
            unit.files.push(l.file);
            for f in siblings {
                extra.push((l.bom, l.target.clone()));
                unit.files.push(f);
            }
        }
        (unit, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_subfolders_join_their_service() {
        assert_eq!(
            unit_key(Path::new("svc/pipeline/a.json")),
            PathBuf::from("svc")
        );
        assert_eq!(
            unit_key(Path::new("./svc/artifacts/b.log")),
            PathBuf::from("svc")
        );
        assert_eq!(
            unit_key(Path::new("svc/other/c.json")),
            PathBuf::from("svc/other")
        );
    }

    #[test]
    fn placeholders_are_recognised() {
        assert!(regex_lite_placeholder("\"containerPort\": <SERVICE_PORT>,"));
        assert!(!regex_lite_placeholder("a < b > c"));
        assert!(regex_lite_placeholder("\"memory\": %MEMORY_RESERVATION%,"));
        assert!(regex_lite_placeholder("\"subnets\": [ $SUBNET_IDS ]"));
        assert!(!regex_lite_placeholder("100% of 5%"));
        assert!(!regex_lite_placeholder("costs $5"));
    }
}
