//! One run: discover → load and classify → check → fix → verify → write, unit by unit, in
//! parallel across units, with the report in path order whatever the scheduling.

use std::path::PathBuf;

use crate::config::Config;
use crate::discover::{self, Candidate, FileError, Loaded};
use crate::document::Limits;
use crate::engine::Status;
use crate::engine::{self, Options};
use crate::interrupt;
use crate::report::{
    FileReport, FindingReport, RunReport, SuppressionReport, UnitReport, diff, display_path,
};
use crate::write::{self, Sink};

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub apply: bool,
    pub unsafe_fixes: bool,
    /// Extra selection on top of the configuration (`--select`, `--extend-select`, `--ignore`).
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    /// `IMAGE=DIGEST` pins from the command line.
    pub pins: Vec<(String, String)>,
    /// `--resolve-digests`: ask registries for digests (also `resolve-digests = true`).
    pub resolve_digests: bool,
    /// `--offline`: never touch the network, whatever the configuration says.
    pub offline: bool,
    pub config: Option<PathBuf>,
    pub max_file_size: Option<u64>,
    pub limits: Limits,
    /// Threads; 0 = one per core.
    pub jobs: usize,
    /// Keep the original and fixed text of changed files in the report (formats that need
    /// more than the diff). Off, only the diff is kept, which is what bounds the memory of a
    /// big run.
    pub keep_texts: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            paths: vec![PathBuf::from(".")],
            apply: false,
            unsafe_fixes: false,
            select: Vec::new(),
            extend_select: Vec::new(),
            ignore: Vec::new(),
            pins: Vec::new(),
            resolve_digests: false,
            offline: false,
            config: None,
            max_file_size: None,
            limits: Limits::default(),
            jobs: 0,
            keep_texts: true,
        }
    }
}

/// The configuration for a run: `--config`, else the nearest `pipefix.toml` above the first
/// path, then the command line on top.
pub fn configuration(opts: &RunOptions) -> Result<Config, FileError> {
    let found = opts
        .config
        .clone()
        .or_else(|| opts.paths.first().and_then(|p| Config::find(p)));
    let mut config = match found {
        Some(path) => Config::load(&path).map_err(|(path, e)| FileError {
            path,
            line: Some((e.line, e.col)),
            message: e.message,
        })?,
        None => Config::default(),
    };
    if !opts.select.is_empty() {
        config.select = opts.select.clone();
    }
    config
        .extend_select
        .extend(opts.extend_select.iter().cloned());
    config.ignore.extend(opts.ignore.iter().cloned());
    config.unsafe_fixes |= opts.unsafe_fixes;
    for (image, digest) in &opts.pins {
        config.pins.insert(image.clone(), digest.clone());
    }
    if let Some(n) = opts.max_file_size {
        config.max_file_size = n;
    }
    config.resolve_digests = (config.resolve_digests || opts.resolve_digests) && !opts.offline;
    if config.resolve_digests {
        config.resolver = Some(std::sync::Arc::new(crate::registry::Resolver::new(
            config.registry_timeout,
        )));
    }
    Ok(config)
}

pub fn run(opts: &RunOptions, config: &Config) -> RunReport {
    run_with(opts, config, &|| Box::new(write::Plain))
}

/// As [`run`], with the sink that writes files chosen by the caller (tests inject failures).
pub fn run_with(
    opts: &RunOptions,
    config: &Config,
    sink: &(dyn Fn() -> Box<dyn Sink> + Sync),
) -> RunReport {
    run_streaming(opts, config, sink, None)
}

/// Receives each unit's report as soon as every unit before it in path order is done, in
/// path order, from whichever worker finished it; may take what it has written out of the
/// report (the diffs) so that it is not kept until the end of the run.
pub type Emit<'a> = &'a (dyn Fn(&mut UnitReport) + Sync);

/// As [`run_with`], handing each unit's report to `emit` in path order while the run goes on.
pub fn run_streaming(
    opts: &RunOptions,
    config: &Config,
    sink: &(dyn Fn() -> Box<dyn Sink> + Sync),
    emit: Option<Emit<'_>>,
) -> RunReport {
    // Units come from the walk as they are complete, in path order (see `discover::Units`):
    // no list of every file is made first.
    let mut source = discover::units(&opts.paths);
    // Two units are looked at first: one unit (a pre-commit hook on one file) needs no thread.
    let mut first: std::collections::VecDeque<Vec<Candidate>> = source.by_ref().take(2).collect();
    let several = first.len() > 1;
    let engine_opts = Options {
        unsafe_fixes: config.unsafe_fixes,
        limits: opts.limits,
        one_at_a_time: std::env::var_os(engine::ONE_AT_A_TIME_ENV).is_some(),
    };
    // Units are taken in path order by whichever worker is free, and a finished unit waits
    // in the reorder buffer until every unit before it is done, then goes to `emit`. A
    // worker does not take a unit more than `AHEAD_PER_THREAD` per thread past the first
    // unfinished one, so the buffer stays bounded whatever the sizes of the units.
    let threads = match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(if several { usize::MAX } else { 1 })
    .max(1);
    let ahead = AHEAD_PER_THREAD * threads;
    // The next unit's index and the walk, taken by one worker at a time.
    let next = std::sync::Mutex::new((0usize, &mut first, &mut source));
    let order = std::sync::Mutex::new(Reorder {
        hits: vec![SuppressionHits::default(); config.suppress.len()],
        ..Reorder::default()
    });
    let moved = std::sync::Condvar::new();
    let panicked: std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>> =
        std::sync::Mutex::new(None);
    let worker = || {
        loop {
            let (index, group) = {
                let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                let (index, first, source) = &mut *n;
                let Some(group) = first.pop_front().or_else(|| source.next()) else {
                    break;
                };
                *index += 1;
                (*index - 1, group)
            };
            {
                let mut o = order.lock().unwrap_or_else(|e| e.into_inner());
                while index >= o.next + ahead {
                    o = moved.wait(o).unwrap_or_else(|e| e.into_inner());
                }
            }
            let p = if interrupt::requested().is_some() {
                Processed::default()
            } else {
                // A panic must not leave the other workers waiting for this unit: it is
                // passed on once every worker has stopped.
                let unit = || process_unit(&group, config, &engine_opts, opts, sink);
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(unit)) {
                    Ok(p) => p,
                    Err(payload) => {
                        let mut first = panicked.lock().unwrap_or_else(|e| e.into_inner());
                        first.get_or_insert(payload);
                        Processed::default()
                    }
                }
            };
            let mut o = order.lock().unwrap_or_else(|e| e.into_inner());
            o.waiting.insert(index, p);
            // This unit and those waiting right behind it go out in order; the reports
            // (without what `emit` took) are kept in `ready` for the report below.
            let mut advanced = false;
            loop {
                let at = o.next;
                let Some(mut p) = o.waiting.remove(&at) else {
                    break;
                };
                if let (Some(emit), Some(u)) = (emit, p.unit.as_mut()) {
                    emit(u);
                }
                o.gather(p, emit.is_some());
                o.next += 1;
                advanced = true;
            }
            if advanced {
                moved.notify_all();
            }
        }
    };
    // One unit (a pre-commit hook on one file) needs no thread.
    if threads == 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(worker);
            }
        });
    }
    if let Some(payload) = panicked.into_inner().unwrap_or_else(|e| e.into_inner()) {
        std::panic::resume_unwind(payload);
    }
    let mut warnings = next
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .2
        .take_warnings();
    let done = order.into_inner().unwrap_or_else(|e| e.into_inner());
    warnings.extend(done.notes);
    let mut report = RunReport {
        warnings,
        errors: done.errors,
        units: done.units,
        applied: opts.apply,
        ..RunReport::default()
    };
    let hits = done.hits;
    report.interrupted = interrupt::requested();
    // A suppression whose expression selects nothing in any file it matched is stale. One
    // that matched no file of this run says nothing (the run may cover part of the tree).
    if report.interrupted.is_none() {
        for (s, h) in config.suppress.iter().zip(&hits) {
            if h.files > 0 && !h.selected {
                report.warnings.push(format!(
                    "{}: stale suppression of {}: `where = {:?}` selects nothing in the {} file(s) matching {:?}; remove it or correct it",
                    config.suppression_origin(s),
                    s.rule,
                    s.selector.as_str(),
                    h.files,
                    s.path.as_deref().unwrap_or("**"),
                ));
            }
        }
    }
    report
}

/// What a run saw of one `[[suppress]]` entry: how many documents it matched, and whether
/// its expression selected a node in one of them.
#[derive(Clone, Debug, Default)]
struct SuppressionHits {
    files: usize,
    selected: bool,
}

/// How far past the first unfinished unit each worker may take work.
const AHEAD_PER_THREAD: usize = 8;

#[derive(Default)]
struct Reorder {
    /// The index of the first unit not yet done.
    next: usize,
    /// Finished units waiting for an earlier one.
    waiting: std::collections::BTreeMap<usize, Processed>,
    /// What the units done so far gave, in path order, for the report at the end.
    errors: Vec<FileError>,
    notes: Vec<String>,
    units: Vec<UnitReport>,
    hits: Vec<SuppressionHits>,
}

impl Reorder {
    /// Keeps what the report at the end needs of a unit done. When its output went out as
    /// it was done (`emitted`), a report left with nothing to say is not kept.
    fn gather(&mut self, p: Processed, emitted: bool) {
        self.errors.extend(p.errors);
        self.notes.extend(p.notes);
        for (all, unit) in self.hits.iter_mut().zip(&p.hits) {
            all.files += unit.files;
            all.selected |= unit.selected;
        }
        if let Some(u) = p.unit {
            let empty = u.files.is_empty()
                && u.findings.is_empty()
                && u.secrets.is_empty()
                && u.bugs.is_empty()
                && u.errors.is_empty();
            if !(emitted && empty) {
                self.units.push(u);
            }
        }
    }
}

/// What one unit gave: errors of files that could not be read or parsed, notes about files
/// skipped, and the unit's report.
#[derive(Default)]
struct Processed {
    errors: Vec<FileError>,
    notes: Vec<String>,
    unit: Option<UnitReport>,
    /// Per `[[suppress]]` entry, what it matched in this unit's files as read.
    hits: Vec<SuppressionHits>,
}

/// Test hook: `PIPEFIX_TEST_WRITE_DELAY_MS` makes every file write wait that long first, so
/// that tests can interrupt an `--apply` run in the middle. Not a user option.
fn write_delay() -> Option<std::time::Duration> {
    std::env::var("PIPEFIX_TEST_WRITE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis)
}

fn process_unit(
    candidates: &[Candidate],
    config: &Config,
    opts: &Options,
    run: &RunOptions,
    sink: &(dyn Fn() -> Box<dyn Sink> + Sync),
) -> Processed {
    let mut errors = Vec::new();
    let mut notes = Vec::new();
    let mut loaded: Vec<Loaded> = Vec::new();
    for c in candidates {
        match discover::load_noting(c, config.max_file_size, &opts.limits, &mut notes) {
            Ok(Some(l)) => loaded.push(l),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if loaded.is_empty() {
        return Processed {
            errors,
            notes,
            unit: None,
            hits: Vec::new(),
        };
    }
    let mut report = UnitReport::default();
    let mut hits: Vec<SuppressionHits> = config
        .suppress
        .iter()
        .map(|_| SuppressionHits::default())
        .collect();
    for group in separate_stacks(loaded) {
        run_group(group, config, opts, run, sink, &mut report, &mut hits);
    }
    Processed {
        errors,
        notes,
        unit: Some(report),
        hits,
    }
}

/// The files of a folder that are checked together. Several CloudFormation templates in one
/// folder are separate stacks: each is checked on its own (its resources link to each other
/// by `!Ref`, not to another stack's), and the other files of the folder together.
fn separate_stacks(loaded: Vec<Loaded>) -> Vec<Vec<Loaded>> {
    let templates = loaded
        .iter()
        .filter(|l| l.file.front.file_kind().is_some())
        .count();
    if templates < 2 {
        return vec![loaded];
    }
    let mut groups: Vec<Vec<Loaded>> = Vec::new();
    let mut rest = Vec::new();
    for l in loaded {
        if l.file.front.file_kind().is_some() {
            groups.push(vec![l]);
        } else {
            rest.push(l);
        }
    }
    if !rest.is_empty() {
        groups.push(rest);
    }
    groups.sort_by(|a, b| a[0].file.path.cmp(&b[0].file.path));
    groups
}

/// Check and fix one group of files, adding to the unit's report.
fn run_group(
    loaded: Vec<Loaded>,
    config: &Config,
    opts: &Options,
    run: &RunOptions,
    sink: &(dyn Fn() -> Box<dyn Sink> + Sync),
    report: &mut UnitReport,
    all_hits: &mut [SuppressionHits],
) {
    let apply = run.apply;
    let (unit, extras) = Loaded::into_unit(loaded);
    let hits: Vec<SuppressionHits> = config
        .suppress
        .iter()
        .map(|s| {
            let mut h = SuppressionHits::default();
            for file in &unit.files {
                if let Some((doc, _)) = file.doc()
                    && config.suppression_matches_file(s, &file.path)
                {
                    h.files += 1;
                    h.selected |= !s.selector.select(doc.value()).is_empty();
                }
            }
            h
        })
        .collect();
    for (all, h) in all_hits.iter_mut().zip(hits) {
        all.files += h.files;
        all.selected |= h.selected;
    }
    let result = engine::run(unit, config, opts);
    for r in &result.findings {
        report.secrets.extend(r.finding.secrets.iter().cloned());
    }
    report
        .bugs
        .extend(result.bugs.iter().map(|(_, b)| b.clone()));
    let mut seen_paths = std::collections::HashSet::new();
    for fr in &result.files {
        let file = &result.unit.files[fr.index];
        // Several objects of one document (services of a describe-services output) are one
        // file on disk: reported and written once, with every object's edits.
        if !seen_paths.insert(file.path.clone()) {
            continue;
        }
        let shown = display_path(&file.path);
        let (bom, target) = &extras[fr.index];
        let mut written = false;
        if apply && let Some(new) = &fr.fixed {
            if let Some(d) = write_delay() {
                std::thread::sleep(d);
            }
            if let Some(sig) = interrupt::requested() {
                report.errors.push(FileError {
                    path: file.path.clone(),
                    line: None,
                    message: format!(
                        "not written: interrupted by {} (the file is unchanged)",
                        interrupt::name(sig)
                    ),
                });
            } else {
                let dest = target.as_deref().unwrap_or(&file.path);
                let mut expected = Vec::new();
                let mut bytes = Vec::new();
                if *bom {
                    expected.extend_from_slice(b"\xEF\xBB\xBF");
                    bytes.extend_from_slice(b"\xEF\xBB\xBF");
                }
                expected.extend_from_slice(fr.original.as_bytes());
                bytes.extend_from_slice(new.as_bytes());
                let mut s = sink();
                match write::write_atomic(dest, &expected, &bytes, s.as_mut()) {
                    Ok(()) => written = true,
                    Err(message) => report.errors.push(FileError {
                        path: file.path.clone(),
                        line: None,
                        message,
                    }),
                }
            }
        }
        report.files.push(FileReport {
            path: shown.clone(),
            kind: file.kind,
            file_kind: file.front.file_kind(),
            diff: fr
                .fixed
                .as_ref()
                .map(|new| diff::unified(&shown, &fr.original, new)),
            original: fr
                .fixed
                .as_ref()
                .filter(|_| run.keep_texts)
                .map(|_| fr.original.clone()),
            fixed: fr.fixed.as_ref().filter(|_| run.keep_texts).cloned(),
            written,
            // Only the formats that keep texts (markdown's marker) need the digest.
            sha256: if run.keep_texts {
                crate::report::sha256_hex(fr.original.as_bytes())
            } else {
                String::new()
            },
        });
        // Defence in depth: values that look like secrets are masked in every output even
        // when no fix reported them. Only a changed file's text is ever printed (its diff):
        // findings never quote values, so unchanged files need no sweep.
        if fr.fixed.is_some() {
            report
                .secrets
                .extend(crate::report::mask::sweep(&fr.original));
        }
    }
    for r in result.findings {
        let file = &result.unit.files[r.finding.file];
        report.findings.push(FindingReport {
            rule: r.finding.rule,
            path: display_path(&file.path),
            line: r.line,
            col: r.col,
            message: r.finding.message.clone(),
            status: r.status.clone(),
            fix_title: r.finding.fix.as_ref().map(|f| f.title.clone()),
            safety: r.finding.fix.as_ref().map(|f| f.safety),
            follow_ups: r.finding.follow_ups.clone(),
            node: match &r.finding.location {
                crate::catalog::Location::Node(p) => Some(p.to_string()),
                crate::catalog::Location::Line(_) => None,
            },
            suppression: match r.status {
                Status::Suppressed(i) => config.suppress.get(i).map(|s| SuppressionReport {
                    config: config.shown_source(),
                    line: s.line,
                    selector: s.selector.as_str().to_string(),
                    reason: s.reason.clone(),
                }),
                _ => None,
            },
        });
    }
}
