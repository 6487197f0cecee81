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
        if is_file_root(root) {
            match link_target(root, root.parent().unwrap_or(Path::new("."))) {
                Ok(target) => out.push(Candidate {
                    path: root.clone(),
                    target,
                }),
                Err(w) => warnings.push(w),
            }
            continue;
        }
        let walker = walker(root, |_| true).build();
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

/// A path given on the command line that is read as one file (a file, or a link to one).
fn is_file_root(root: &Path) -> bool {
    root.is_file() || is_symlink(root) && !root.is_dir()
}

/// The walk of one root as every discovery does it: ignore files honoured, hidden files
/// included, links not followed, [`SKIP_DIRS`] not entered; `keep` may refuse more entries
/// (and the folders below them).
fn walker(
    root: &Path,
    keep: impl Fn(&ignore::DirEntry) -> bool + Send + Sync + 'static,
) -> ignore::WalkBuilder {
    let mut b = ignore::WalkBuilder::new(root);
    b.hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_ignore(true)
        .git_exclude(true)
        .parents(true)
        .filter_entry(move |e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && SKIP_DIRS.iter().any(|d| e.file_name() == *d))
                && keep(e)
        });
    b
}

/// The candidate files of a run grouped into units (see [`unit_key`]), unit after unit in
/// the order of their keys, each unit's files in path order: exactly the grouping of
/// [`discover`]'s list, but for one folder given alone the walk and the grouping go together,
/// and a unit is handed out as soon as no file still to be walked can belong to it or to a
/// unit before it. Nothing proportional to the number of files is kept: the walk sees each
/// folder's files, then its pipeline part folders ([`PART_DIRS`]), then its other folders,
/// so that a unit is complete once the walk has left its part folders; only units found
/// inside part folders wait for the unit of the folder above.
pub struct Units {
    inner: UnitsInner,
    warnings: Vec<String>,
}

enum UnitsInner {
    /// Several paths, or a file: listed and grouped up front.
    Listed(std::vec::IntoIter<Vec<Candidate>>),
    Streamed(Box<Streamed>),
}

/// The state of a streamed walk (see [`Units`]).
struct Streamed {
    root: PathBuf,
    walk: ignore::Walk,
    /// The folders from the root down to the walk's position.
    levels: Vec<Level>,
    /// Complete or growing units, by key, that may not go out yet.
    pending: std::collections::BTreeMap<PathBuf, Vec<Candidate>>,
    /// Link targets already seen (a second link to one target is dropped).
    link_targets: std::collections::HashSet<PathBuf>,
    /// Whether the first pending unit may have become ready since it was last checked.
    recheck: bool,
    done: bool,
}

/// One folder on the way from the root to the walk's position.
struct Level {
    /// The folder, normalised as unit keys are.
    dir: PathBuf,
    /// The unit of the files directly in it.
    unit: PathBuf,
    /// The last entry of it the walk gave: its rank (see [`rank`]) and normalised path.
    child: Option<(u8, PathBuf)>,
}

impl Level {
    /// Whether every file still to be walked under this folder belongs to a unit whose key
    /// is greater than `key`.
    fn passed(&self, key: &Path) -> bool {
        match &self.child {
            // Files directly in it may still come.
            None | Some((0, _)) => key < self.unit.as_path(),
            // Part folders may still come: their files go to this folder's unit.
            Some((1, _)) => key < self.dir.as_path(),
            // Only other folders after this one: units below them.
            Some((_, c)) => key < c.as_path() || key.starts_with(c),
        }
    }
}

/// The order of the walk in a folder: files worth opening first, then part folders, then
/// the rest, each by name.
fn rank(name: &std::ffi::OsStr) -> u8 {
    // Called by the sort for every comparison: bytes, no allocation (the names and
    // extensions compared are ASCII, so this is `is_candidate_name` and `unit_key`'s test).
    let b = name.as_encoded_bytes();
    let ends_with =
        |e: &str| b.len() >= e.len() && b[b.len() - e.len()..].eq_ignore_ascii_case(e.as_bytes());
    if PART_DIRS
        .iter()
        .any(|p| b.eq_ignore_ascii_case(p.as_bytes()))
    {
        1
    } else if CANDIDATE_EXTENSIONS.iter().any(|e| ends_with(e)) {
        0
    } else {
        2
    }
}

fn normalised(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// The units of a run over `paths` (see [`Units`]).
pub fn units(paths: &[PathBuf]) -> Units {
    if let [root] = paths
        && !is_file_root(root)
    {
        let walk = walker(root, |_| true)
            .sort_by_file_name(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)))
            .build();
        return Units {
            inner: UnitsInner::Streamed(Box::new(Streamed {
                root: root.clone(),
                walk,
                levels: Vec::new(),
                pending: Default::default(),
                link_targets: Default::default(),
                recheck: false,
                done: false,
            })),
            warnings: Vec::new(),
        };
    }
    let (candidates, warnings) = discover(paths);
    Units {
        inner: UnitsInner::Listed(group(candidates).into_iter()),
        warnings,
    }
}

/// Candidates in path order grouped into units: by key, each unit's files in path order.
fn group(candidates: Vec<Candidate>) -> Vec<Vec<Candidate>> {
    let mut groups: Vec<(PathBuf, Vec<Candidate>)> = Vec::new();
    for c in candidates {
        let key = unit_key(&c.path);
        match groups.last_mut() {
            Some((k, v)) if *k == key => v.push(c),
            _ => groups.push((key, vec![c])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    // Units that share a key but were not adjacent in path order are merged.
    let mut merged: Vec<(PathBuf, Vec<Candidate>)> = Vec::new();
    for (k, v) in groups {
        match merged.last_mut() {
            Some((mk, mv)) if *mk == k => mv.extend(v),
            _ => merged.push((k, v)),
        }
    }
    merged.into_iter().map(|(_, v)| v).collect()
}

impl Units {
    /// What the walk warned about so far (links out of the root, broken links).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }
}

impl Iterator for Units {
    type Item = Vec<Candidate>;

    fn next(&mut self) -> Option<Vec<Candidate>> {
        match &mut self.inner {
            UnitsInner::Listed(it) => it.next(),
            UnitsInner::Streamed(s) => s.next(&mut self.warnings),
        }
    }
}

impl Streamed {
    fn next(&mut self, warnings: &mut Vec<String>) -> Option<Vec<Candidate>> {
        loop {
            if self.recheck {
                match self.ready() {
                    Some(unit) => return Some(unit),
                    None => self.recheck = false,
                }
            }
            if self.done {
                return None;
            }
            match self.walk.next() {
                None => {
                    self.done = true;
                    self.levels.clear();
                    self.recheck = true;
                }
                Some(Err(_)) => {}
                Some(Ok(entry)) => self.visit(&entry, warnings),
            }
        }
    }

    /// The first pending unit, if the walk is past everything that could join it or come
    /// before it. Its files are put in path order.
    fn ready(&mut self) -> Option<Vec<Candidate>> {
        let first = self.pending.keys().next()?;
        if !self.levels.iter().all(|l| l.passed(first)) {
            return None;
        }
        let (_, mut files) = self.pending.pop_first()?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Some(files)
    }

    fn visit(&mut self, entry: &ignore::DirEntry, warnings: &mut Vec<String>) {
        let Some(ft) = entry.file_type() else {
            return;
        };
        let depth = entry.depth();
        // Only a walk that left a folder or moved on to another rank or folder can have
        // passed a unit: the check is not repeated for every file.
        self.recheck |= self.levels.len() > depth;
        self.levels.truncate(depth);
        let path = entry.path();
        if depth > 0
            && let Some(parent) = self.levels.last_mut()
        {
            let r = rank(entry.file_name());
            self.recheck |= r == 2 || parent.child.as_ref().map(|c| c.0) != Some(r);
            // Only the rank of a file or part folder matters (see `Level::passed`).
            let child = if r == 2 {
                parent.dir.join(entry.file_name())
            } else {
                PathBuf::new()
            };
            parent.child = Some((r, child));
        }
        // The root is a folder even when given as a link to one.
        if ft.is_dir() || depth == 0 {
            self.levels.push(Level {
                dir: normalised(path),
                unit: unit_key(&path.join("f")),
                child: None,
            });
            return;
        }
        if !is_candidate_name(path) {
            return;
        }
        let target = if ft.is_symlink() {
            match link_target(path, &self.root) {
                Ok(Some(t)) if t.is_file() => t,
                Ok(_) => return,
                Err(w) => {
                    warnings.push(w);
                    return;
                }
            }
        } else if ft.is_file() {
            self.add(Candidate {
                path: path.to_path_buf(),
                target: None,
            });
            return;
        } else {
            return;
        };
        // As `dedup_targets`: a link is dropped when its target is a file of the walk under
        // its own name, or the target of a link before it.
        if !self.link_targets.insert(target.clone()) || walked_as_file(&self.root, &target) {
            return;
        }
        self.add(Candidate {
            path: path.to_path_buf(),
            target: Some(target),
        });
    }

    fn add(&mut self, c: Candidate) {
        match self.pending.entry(unit_key(&c.path)) {
            std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().push(c),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(vec![c]);
                self.recheck = true;
            }
        }
    }
}

/// Whether the walk of `root` finds `target` (a canonical path inside it) as a candidate file
/// under its own name: the same walk, restricted to the folders on the way.
fn walked_as_file(root: &Path, target: &Path) -> bool {
    let real_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let Ok(rel) = target.strip_prefix(&real_root) else {
        return false;
    };
    let want = root.join(rel);
    let on_the_way = want.clone();
    walker(root, move |e| on_the_way.starts_with(e.path()))
        .build()
        .flatten()
        .any(|e| {
            e.path() == want
                && e.file_type().is_some_and(|t| t.is_file())
                && is_candidate_name(e.path())
        })
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
    CANDIDATE_EXTENSIONS.iter().any(|e| name.ends_with(e))
}

const CANDIDATE_EXTENSIONS: [&str; 6] = [".json", ".yml", ".yaml", ".template", ".log", ".txt"];

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
    // The size is asked of the open file: one walk of the path instead of two. A file that
    // cannot be opened is asked by path, so that an oversized one is still refused for its size.
    let (file, meta) = match fs::File::open(read_path) {
        Ok(f) => {
            let meta = f
                .metadata()
                .map_err(|e| err(None, format!("cannot read: {e}")))?;
            (Some(f), meta)
        }
        Err(_) => (
            None,
            fs::metadata(read_path).map_err(|e| err(None, format!("cannot read: {e}")))?,
        ),
    };
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
    file.map_or_else(|| fs::File::open(read_path), Ok)
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

    /// The units of a streamed walk, as (path, target) lists.
    fn streamed(root: &Path) -> Vec<Vec<(PathBuf, Option<PathBuf>)>> {
        let as_pairs = |u: Vec<Candidate>| u.into_iter().map(|c| (c.path, c.target)).collect();
        units(&[root.to_path_buf()]).map(as_pairs).collect()
    }

    /// The units of the whole list grouped at once.
    fn listed(root: &Path) -> Vec<Vec<(PathBuf, Option<PathBuf>)>> {
        let as_pairs = |u: Vec<Candidate>| u.into_iter().map(|c| (c.path, c.target)).collect();
        group(discover(&[root.to_path_buf()]).0)
            .into_iter()
            .map(as_pairs)
            .collect()
    }

    fn write(root: &Path, rel: &str) {
        let p = root.join(rel);
        if let Some(d) = p.parent() {
            fs::create_dir_all(d).expect("mkdir");
        }
        fs::write(&p, "{}").expect("write");
    }

    #[test]
    fn streamed_units_are_the_listed_units() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for rel in [
            "z.json",
            "a.yml",
            "services/x/buildspec.yml",
            "services/x/pipeline/p.json",
            "services/x/pipeline/ci/deep.json",
            "services/x/pipeline/other/o.json",
            "services/x/CI/upper.yml",
            "services/x/b/inner.json",
            "services/x/zz.json",
            "services/x/dir.json/inside.json",
            "services/x/deploy/d.json",
            "services/y/src/index.js",
            "services/y/ecs/t.json",
            "infra/config/c.yaml",
            "infra/i.json",
            "ci/root-part.yml",
            "ignored/skip.json",
            "node_modules/m.json",
            "logs/build.log",
            "a-b/x.json",
            "a/x.json",
        ] {
            write(root, rel);
        }
        fs::write(root.join(".gitignore"), "ignored/\n").expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            // A link to a file found under its own name, two links to one file that is not
            // (its name is not a candidate), and a link out of the root.
            symlink(
                root.join("services/x/zz.json"),
                root.join("services/y/link.json"),
            )
            .expect("link");
            fs::write(root.join("data.bin"), "{}").expect("write");
            symlink(root.join("data.bin"), root.join("a/first.json")).expect("link");
            symlink(root.join("data.bin"), root.join("services/second.json")).expect("link");
            symlink(
                root.join("ignored/skip.json"),
                root.join("a/to-ignored.json"),
            )
            .expect("link");
            symlink("/etc/hostname", root.join("out.json")).expect("link");
        }
        let s = streamed(root);
        assert_eq!(s, listed(root));
        assert!(s.len() >= 8, "{s:?}");
        // The root spelled with a final slash, and given as a link to the folder.
        let slash = PathBuf::from(format!("{}/", root.display()));
        assert_eq!(streamed(&slash), listed(&slash));
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().expect("tempdir");
            let link = outside.path().join("root-link");
            std::os::unix::fs::symlink(root, &link).expect("link");
            let via_link = streamed(&link);
            assert_eq!(via_link, listed(&link));
            assert_eq!(via_link.len(), s.len());
        }
        // From the current folder, as a run with no path argument sees it.
        let dot = Path::new(".");
        let here = std::env::current_dir().expect("cwd");
        if here.join("../shared/realworld").is_dir() {
            let rw = Path::new("../shared/realworld");
            assert_eq!(streamed(rw), listed(rw));
        }
        assert_eq!(streamed(&dot.join("tests")), listed(&dot.join("tests")));
    }

    #[test]
    fn streamed_units_match_on_random_trees() {
        // Trees of names a unit key cares about: part folders in any case, candidate names,
        // folders named like files, at several depths.
        let names = [
            "ci",
            "Deploy",
            "pipeline",
            "aws",
            "a",
            "b.json",
            "z.yml",
            "svc",
            "x.txt",
            "m",
            "config",
            "README.md",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..40 {
            let dir = tempfile::tempdir().expect("tempdir");
            for _ in 0..30 {
                let depth = 1 + rand(4);
                let mut rel = PathBuf::new();
                for _ in 0..depth - 1 {
                    rel.push(names[rand(names.len())]);
                }
                rel.push(["f.json", "g.yaml", "h.log", "i.md"][rand(4)]);
                let p = dir.path().join(&rel);
                // A name already taken by a file or a folder is skipped.
                if p.parent().is_some_and(|d| fs::create_dir_all(d).is_ok()) {
                    let _ = fs::write(&p, "{}");
                }
            }
            assert_eq!(streamed(dir.path()), listed(dir.path()));
        }
    }

    #[test]
    fn the_walk_ranks_files_then_part_folders_then_the_rest() {
        for (name, r) in [
            ("buildspec.yml", 0),
            ("TASKDEF.JSON", 0),
            ("build.Log", 0),
            ("pipeline", 1),
            ("CI", 1),
            (".aws", 1),
            ("src", 2),
            ("index.js", 2),
            ("pipelines.d", 2),
        ] {
            assert_eq!(rank(std::ffi::OsStr::new(name)), r, "{name}");
            assert_eq!(r == 0, is_candidate_name(Path::new(name)), "{name}");
        }
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
