//! check → fix → verify → repeat, for one unit of files.
//!
//! Each pass checks every fix of the catalog against the unit, then applies, per file, the
//! fixes whose edits do not touch each other as one edit (see `apply_batch`), or the first
//! one alone when they conflict or the batch fails verification; the result is the same as
//! applying one fix per file per pass. Edits are addressed by path and resolved against the
//! file as it is at the start of the pass, so a fix can never point at stale offsets. Every
//! edit is re-parsed and its meaning checked; the fix is then checked again and must no
//! longer report what it fixed (for the batches of a pass, by the next pass's check of the
//! whole unit; when that finds one, the pass is undone and made again checking each batch at
//! once). A fix that fails either check is undone and reported as a bug in that fix. The loop
//! ends when no fix applies, or after [`MAX_PASSES`] (a bug too).

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use crate::catalog::{self, Context, Finding, Location, Rule};
use crate::config::Config;
use crate::document::{Document, Limits, Op, Path, Seg};
use crate::front::Front;
use crate::meta::{self, Safety};
use crate::model::Kind;
use crate::workspace::{Body, Unit};

pub const MAX_PASSES: usize = 32;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub unsafe_fixes: bool,
    pub limits: Limits,
    /// Apply at most one fix per file per pass, as the engine did before fixes were batched.
    /// Not a user option: the test that compares both engines sets it (see
    /// [`ONE_AT_A_TIME_ENV`]).
    pub one_at_a_time: bool,
}

/// Test hook: when this variable is set (to anything), every run applies one fix per file per
/// pass. The result must be byte-identical either way; `tests/engine_batches.rs` checks that.
pub const ONE_AT_A_TIME_ENV: &str = "PIPEFIX_TEST_ONE_FIX_PER_PASS";

/// Test hook: when this variable is set, the edits of every multi-edit fix that can be lowered
/// together are also lowered in turn, the second result is used, and a line on stderr says
/// whether both were the same; `tests/engine_batches.rs` checks that they always are.
pub const CHECK_TOGETHER_ENV: &str = "PIPEFIX_TEST_CHECK_TOGETHER";

fn check_together() -> bool {
    static SET: OnceLock<bool> = OnceLock::new();
    *SET.get_or_init(|| std::env::var_os(CHECK_TOGETHER_ENV).is_some())
}

/// Test hook: when this variable is set, every pass whose batches were left to the next
/// check (see `Deferred`) is undone and made again checking each batch at once, as if that
/// check had found a fix still reporting what it fixed, and a line on stderr counts the
/// passes undone; `tests/engine_batches.rs` checks that the result is the same.
pub const UNDO_DEFERRED_ENV: &str = "PIPEFIX_TEST_UNDO_DEFERRED";

fn undo_deferred() -> bool {
    static SET: OnceLock<bool> = OnceLock::new();
    *SET.get_or_init(|| std::env::var_os(UNDO_DEFERRED_ENV).is_some())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The fix is in the output (written with `--apply`, shown as a diff otherwise).
    Fixed,
    /// A fix exists but changes behaviour more deeply: needs `--unsafe-fixes`.
    NeedsUnsafe,
    /// A person has to act.
    Manual,
    /// The fix was tried and refused by verification (a bug in the fix).
    FixFailed(String),
    /// A log signature whose configuration fixes have all been made: the log shows a past
    /// failure that the configuration no longer causes.
    Addressed,
    /// Silenced by the `[[suppress]]` entry of this index in the configuration: reported,
    /// never fixed.
    Suppressed(usize),
}

/// A finding as reported, with its position at the time it was found.
#[derive(Clone, Debug)]
pub struct Reported {
    pub finding: Finding,
    pub status: Status,
    pub line: usize,
    pub col: usize,
}

#[derive(Clone, Debug)]
pub struct FileResult {
    /// Index in the unit.
    pub index: usize,
    pub original: String,
    /// The fixed text, when it differs from the original.
    pub fixed: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct UnitResult {
    pub unit: Unit,
    pub files: Vec<FileResult>,
    pub findings: Vec<Reported>,
    /// Failures of the engine or of a fix: always a bug to report upstream.
    pub bugs: Vec<(usize, String)>,
}

/// Run the catalog over `unit` until nothing changes.
pub fn run(mut unit: Unit, config: &Config, opts: &Options) -> UnitResult {
    let originals: Vec<String> = unit.files.iter().map(text_of).collect();
    let mut fixed: Vec<Reported> = Vec::new();
    let mut failed: HashSet<FindingKey> = HashSet::new();
    let mut failures: BTreeMap<FindingKey, String> = BTreeMap::new();
    let mut bugs = Vec::new();
    let mut remaining = None;
    // The batches of a pass are checked again by the next pass's check of the whole unit
    // (see `Deferred`); once that finds a fix still reporting what it fixed, the unit's
    // passes check each batch right after it.
    let mut careful = opts.one_at_a_time;
    let mut deferred: Option<Deferred> = None;

    let mut pass = 0;
    while pass < MAX_PASSES {
        let findings = check(&unit, config, None);
        if let Some(d) = deferred.take()
            && (undo_deferred()
                || d.keys.iter().any(|(rule, file, location)| {
                    findings
                        .iter()
                        .any(|f| f.rule == *rule && f.file == *file && f.location == *location)
                }))
        {
            if undo_deferred() && !d.undo.is_empty() {
                eprintln!("{UNDO_DEFERRED_ENV}: pass {pass} undone");
            }
            d.undo(&mut unit, &mut fixed, &mut bugs, &mut failed, &mut failures);
            careful = true;
            pass -= 1;
            continue;
        }
        pass += 1;
        // Per file, the fixes that may run, in the order the checks reported them: the first
        // is the one a one-at-a-time engine would apply in this pass.
        let mut chosen: BTreeMap<usize, Vec<&Finding>> = BTreeMap::new();
        for f in &findings {
            if allowed(f, opts)
                && !failed.contains(&f.key())
                && suppression(&unit, config, f).is_none()
            {
                chosen.entry(f.file).or_default().push(f);
            }
        }
        if chosen.is_empty() {
            remaining = Some(findings);
            break;
        }
        // The views of one template resource (one per `Fn::If` branch) read the same nodes:
        // after one of them is fixed, the others' findings are stale until checked again.
        let mut branch_fixed: HashSet<(std::path::PathBuf, String)> = HashSet::new();
        // The last pass is never deferred: nothing would check it.
        let mut journal = (!careful && pass < MAX_PASSES)
            .then(|| Deferred::start(&fixed, &bugs, &failed, &failures));
        for (file, candidates) in chosen {
            if let Front::Cfn(r) = &unit.files[file].front
                && r.branch.is_some()
                && !branch_fixed.insert((unit.files[file].path.clone(), r.logical_id.clone()))
            {
                continue;
            }
            if !opts.one_at_a_time
                && let Some((done, before)) =
                    apply_batch(&mut unit, config, opts, &candidates, journal.is_none())
            {
                if let Some(j) = &mut journal {
                    j.keys.extend(done.iter().map(|r| r.finding.key()));
                    j.undo.push(Undo::Body(file, Box::new(before)));
                }
                fixed.extend(done);
                continue;
            }
            let finding = candidates[0].clone();
            let (line, col) = position(&unit, &finding);
            match apply_fix(&mut unit, config, opts, &finding) {
                Ok(saved) => {
                    if let Some(j) = &mut journal {
                        j.undo.push(Undo::Files(saved));
                    }
                    fixed.push(Reported {
                        finding,
                        status: Status::Fixed,
                        line,
                        col,
                    })
                }
                Err(why) => {
                    let path = unit.files[file].path.display().to_string();
                    bugs.push((
                        file,
                        format!(
                            "{path}: fix {} was not applied: {why} (this is a bug in {}; please report it)",
                            finding.rule, finding.rule
                        ),
                    ));
                    failed.insert(finding.key());
                    failures.insert(finding.key(), why);
                }
            }
        }
        deferred = journal;
    }
    let remaining = match remaining {
        Some(r) => r,
        None => {
            let ids: Vec<&str> = fixed.iter().map(|r| r.finding.rule).collect();
            bugs.push((
                0,
                format!(
                    "fixes did not converge after {MAX_PASSES} passes (fixes involved: {}); this is a bug",
                    ids.join(", ")
                ),
            ));
            check(&unit, config, None)
        }
    };

    // Fixes that still have something to say after the run.
    let open: HashSet<&'static str> = remaining.iter().map(|f| f.rule).collect();
    let mut findings = fixed;
    for f in remaining {
        // Addressed: every fix the log points to runs here and has nothing left to say.
        let addressed = meta::get(f.rule)
            .and_then(|m| m.signature.as_ref())
            .is_some_and(|s| {
                !s.points_to.is_empty()
                    && s.points_to.iter().all(|id| {
                        !open.contains(id.as_str())
                            && catalog::rules().iter().any(|r| r.id() == id)
                            && unit.files.iter().any(|file| config.enabled(id, &file.path))
                    })
            });
        let status = if let Some(i) = suppression(&unit, config, &f) {
            Status::Suppressed(i)
        } else if let Some(why) = failures.get(&f.key()) {
            Status::FixFailed(why.clone())
        } else if addressed {
            Status::Addressed
        } else {
            match &f.fix {
                Some(fix) if fix.safety == Safety::Unsafe && !opts.unsafe_fixes => {
                    Status::NeedsUnsafe
                }
                _ => Status::Manual,
            }
        };
        let (line, col) = position(&unit, &f);
        findings.push(Reported {
            finding: f,
            status,
            line,
            col,
        });
    }
    findings.sort_by(|a, b| {
        (a.finding.file, a.line, a.col, a.finding.rule).cmp(&(
            b.finding.file,
            b.line,
            b.col,
            b.finding.rule,
        ))
    });

    let files = unit
        .files
        .iter()
        .zip(originals)
        .enumerate()
        .map(|(i, (f, original))| {
            let now = f.text();
            FileResult {
                index: i,
                fixed: (now != original).then(|| now.to_string()),
                original,
            }
        })
        .collect();
    UnitResult {
        unit,
        files,
        findings,
        bugs,
    }
}

fn text_of(f: &crate::workspace::File) -> String {
    f.text().to_string()
}

fn allowed(f: &Finding, opts: &Options) -> bool {
    match &f.fix {
        Some(fix) if !fix.ops.is_empty() => match fix.safety {
            Safety::Safe => true,
            Safety::Unsafe => opts.unsafe_fixes,
            Safety::Manual => false,
        },
        _ => false,
    }
}

/// Apply one finding's fix to its file, or leave the unit as it was and say why.
fn apply_fix(
    unit: &mut Unit,
    config: &Config,
    opts: &Options,
    finding: &Finding,
) -> Result<Saved, String> {
    let Some(fix) = &finding.fix else {
        return Err("no fix".into());
    };
    let file = &unit.files[finding.file];
    let Body::Doc { doc, root, .. } = &file.body else {
        return Err("logs are never rewritten".into());
    };
    // Each edit makes a new document from the previous one: the original is never cloned.
    let mut edited: Option<Document> = None;
    for op in &fix.ops {
        let from = edited.as_ref().unwrap_or(doc);
        edited = Some(from.apply(op, &opts.limits).map_err(|e| e.to_string())?);
    }
    let doc = edited.unwrap_or_else(|| doc.clone());
    verify_edit(file.kind, root, file.doc().map_or(&doc, |(d, _)| d), &doc)?;
    let before = set_document(unit, finding.file, doc, opts)?;
    // The fix must no longer report what it fixed.
    let again = check(unit, config, Some(finding.rule));
    if again.iter().any(|f| f.key() == finding.key()) {
        restore(unit, before);
        return Err(format!(
            "after the edit it still reports: {}",
            finding.message
        ));
    }
    Ok(before)
}

/// The files of a unit as they were before an edit, to put back when it fails.
type Saved = Vec<(usize, crate::workspace::File)>;

/// Give file `i` its edited document, and every other object of the same file on disk the
/// edited text (a buildspec inside a template is written back into the template first).
fn set_document(unit: &mut Unit, i: usize, doc: Document, opts: &Options) -> Result<Saved, String> {
    let outer = match &unit.files[i].front {
        Front::Inline(inline) => Some(inline.embed(&doc, &opts.limits)?),
        Front::Api | Front::Cfn(_) => None,
    };
    let siblings = unit.same_document(i);
    let mut saved: Saved = Vec::with_capacity(siblings.len() + 1);
    saved.push((i, unit.files[i].clone()));
    for &j in &siblings {
        saved.push((j, unit.files[j].clone()));
    }
    let shared = outer.clone().unwrap_or_else(|| doc.clone());
    if let (Some(outer), Front::Inline(inline)) = (outer, &mut unit.files[i].front) {
        inline.set_outer(outer);
    }
    unit.files[i].set_doc(doc);
    for j in siblings {
        let file = &mut unit.files[j];
        match &mut file.front {
            Front::Inline(inline) => inline.set_outer(shared.clone()),
            Front::Api | Front::Cfn(_) => {
                file.set_doc(shared.clone());
            }
        }
    }
    Ok(saved)
}

fn restore(unit: &mut Unit, saved: Saved) {
    for (j, file) in saved {
        unit.files[j] = file;
    }
}

/// Checks of an edited document beyond its meaning, made for every edit before the fix is
/// checked again: one place for the checks a kind of file needs (`before` is the document
/// as it was, `after` with the edit). In a batch, `after` holds every fix of the batch; when
/// it fails, the fixes are applied one at a time and it runs for each.
fn verify_edit(kind: Kind, root: &Path, before: &Document, after: &Document) -> Result<(), String> {
    // A buildspec edit must stay valid shell where it runs: the variables new lines use are
    // assigned before them, no `$VAR` in single quotes, no second tag, templates escaped.
    if kind == Kind::Buildspec
        && let (Some(v0), Some(v1)) = (before.value_at(root), after.value_at(root))
    {
        let problems = catalog::buildspec_shell::check_edit(
            (v0, before.text()),
            (v1, after.text()),
            root,
            root,
        );
        if !problems.is_empty() {
            return Err(format!(
                "the edited buildspec would break in the shell: {}",
                problems.join("; ")
            ));
        }
    }
    Ok(())
}

/// A fix of a batch, lowered against the file as it was at the start of the pass.
struct Lowered<'a> {
    finding: &'a Finding,
    /// The bytes `start..end` of the file are replaced by `text`.
    start: usize,
    end: usize,
    text: String,
    /// Where the finding is, as a byte offset in the file at the start of the pass.
    at: usize,
}

/// What the file of a batch must mean with every fix of the batch applied.
enum Meaning {
    /// Every fix's edits applied in turn to one copy of the original meaning: right while
    /// no fix's edits reach what another's reach (see [`in_turn`]), with the edits of each
    /// fix as they were applied (`None`: as the fix has them).
    Together(serde_json::Value, Vec<Option<Vec<Op>>>),
    /// The meaning with each fix alone, to be merged ([`merge`]) at the end.
    Variants(Vec<serde_json::Value>),
}

impl Meaning {
    /// Add the fix of `c` (the batch so far is `lowered`); `false` when its edits do not
    /// apply, and then `c` stays out of the batch.
    fn add(&mut self, base: &serde_json::Value, lowered: &[Lowered], c: &Finding) -> bool {
        let ops = fix_ops(c);
        let variant = |f: &Finding| {
            let mut v = base.clone();
            fix_ops(f)
                .iter()
                .all(|op| crate::document::value::apply(&mut v, op).is_ok())
                .then_some(v)
        };
        let turn = match self {
            Meaning::Together(..) => {
                let earlier: Vec<&[Op]> = lowered.iter().map(|l| fix_ops(l.finding)).collect();
                in_turn(&earlier, ops)
            }
            Meaning::Variants(_) => None,
        };
        match self {
            Meaning::Together(v, applied) if turn.is_some() => {
                let moved = turn.and_then(|t| t);
                if moved
                    .as_deref()
                    .unwrap_or(ops)
                    .iter()
                    .all(|op| crate::document::value::apply(v, op).is_ok())
                {
                    applied.push(moved);
                    return true;
                }
                // Half applied: the batch so far, again (its edits applied before).
                let mut again = base.clone();
                for (l, moved) in lowered.iter().zip(applied.iter()) {
                    for op in moved.as_deref().unwrap_or(fix_ops(l.finding)) {
                        if crate::document::value::apply(&mut again, op).is_err() {
                            return false;
                        }
                    }
                }
                *v = again;
                false
            }
            Meaning::Together(..) => {
                let Some(vs) = lowered
                    .iter()
                    .map(|l| variant(l.finding))
                    .collect::<Option<Vec<_>>>()
                else {
                    return false;
                };
                *self = Meaning::Variants(vs);
                self.add(base, lowered, c)
            }
            Meaning::Variants(vs) => match variant(c) {
                Some(v) => {
                    vs.push(v);
                    true
                }
                None => false,
            },
        }
    }
}

fn fix_ops(f: &Finding) -> &[crate::document::Op] {
    f.fix.as_ref().map_or(&[], |fix| fix.ops.as_slice())
}

/// The list whose indices an edit moves.
fn moves(op: &Op) -> Option<Path> {
    match op {
        Op::InsertItem { path, .. } => Some(path.clone()),
        Op::Remove { path } if matches!(path.last(), Some(Seg::Index(_))) => path.parent(),
        _ => None,
    }
}

/// Whether the edits `ops` of a fix, applied after those of the fixes `earlier` to one
/// meaning, give what merging their meanings gives; with the edits to apply then, when they
/// differ from `ops` (`Some(None)`: `ops` as they are).
///
/// They do when no path of one fix is inside another's (or the same) and no earlier fix
/// moves the items of a list that `ops` reach into, except by removing one item: a fix whose
/// only edit in a list removes one item moves the later items down by one, so an index of
/// `ops` past it is lowered by one. `ops` may remove one item of a list an earlier fix reaches
/// into (that edit is made already) when it is their only edit in that list (its index is then
/// the original's).
fn in_turn(earlier: &[&[Op]], ops: &[Op]) -> Option<Option<Vec<Op>>> {
    // The only edit of `edits` in the list `l` removes one of its items.
    let removes_alone = |edits: &[Op], op: &Op, l: &Path| {
        matches!(op, Op::Remove { path } if matches!(path.last(), Some(Seg::Index(_))))
            && edits.iter().filter(|o| o.path().starts_with(l)).count() == 1
    };
    // Items removed by earlier fixes, as (list, index) in the original's indices.
    let mut removed: Vec<(Path, usize)> = Vec::new();
    for e in earlier {
        for x in *e {
            for y in ops {
                let (px, py) = (x.path(), y.path());
                if px.starts_with(py) || py.starts_with(px) {
                    return None;
                }
                if let Some(l) = moves(y).filter(|l| px.starts_with(l))
                    && !removes_alone(ops, y, &l)
                {
                    return None;
                }
                if let Some(l) = moves(x).filter(|l| py.starts_with(l)) {
                    match px.last() {
                        Some(Seg::Index(i)) if removes_alone(e, x, &l) => removed.push((l, *i)),
                        _ => return None,
                    }
                }
            }
        }
    }
    if removed.is_empty() {
        return Some(None);
    }
    // The same item may be recorded once for every edit of `ops` that reaches past it.
    removed.sort();
    removed.dedup();
    let mut moved_any = false;
    let moved = ops
        .iter()
        .map(|op| {
            let segs = op.path().segs();
            let mut out = segs.to_vec();
            for (d, seg) in segs.iter().enumerate() {
                let Seg::Index(j) = seg else {
                    continue;
                };
                let below = removed
                    .iter()
                    .filter(|(l, i)| l.segs() == &segs[..d] && i < j)
                    .count();
                if below > 0 {
                    out[d] = Seg::Index(j - below);
                    moved_any = true;
                }
            }
            let mut op = op.clone();
            *op.path_mut() = Path::from_segs(out);
            op
        })
        .collect();
    Some(moved_any.then_some(moved))
}

/// Applies, to one file, the longest prefix of `candidates` (in the order the one-at-a-time
/// engine would apply them) whose edits do not touch each other, in one edit and one parse,
/// and verifies it: the edited file must mean exactly the original with every fix's own
/// meaning applied, pass [`verify_edit`], and (with `check_now`; otherwise the caller has the
/// next pass check it, see [`Deferred`]) no fix may still report what it fixed. Returns the
/// fixes with the file's body before the edit, or `None` (and leaves the unit as it was) when
/// nothing could be batched or verification failed: the caller then applies the first
/// candidate alone, which reports any failure.
fn apply_batch(
    unit: &mut Unit,
    config: &Config,
    opts: &Options,
    candidates: &[&Finding],
    check_now: bool,
) -> Option<(Vec<Reported>, Body)> {
    let file = candidates.first()?.file;
    // Several objects of one document (services of a describe-services output) are fixed one
    // at a time: each edit is passed on to the others.
    if !unit.same_document(file).is_empty() || matches!(unit.files[file].front, Front::Inline(_)) {
        return None;
    }
    let Body::Doc { doc, root, .. } = &unit.files[file].body else {
        return None;
    };
    let base = doc.text();
    let mut lowered: Vec<Lowered> = Vec::new();
    let mut meaning = Meaning::Together(doc.value().clone(), Vec::new());
    for &c in candidates {
        let Some(l) = lower(doc, c, opts, lowered.is_empty()) else {
            break;
        };
        let touches = |a: &Lowered| !(a.end < l.start || l.end < a.start);
        if lowered
            .iter()
            .any(|a| touches(a) || (a.start <= l.at && l.at <= a.end))
        {
            break;
        }
        if !meaning.add(doc.value(), &lowered, c) {
            break;
        }
        lowered.push(l);
    }
    if lowered.is_empty() {
        return None;
    }
    let edited = {
        let mut order: Vec<&Lowered> = lowered.iter().collect();
        order.sort_by_key(|l| l.start);
        let mut text = String::with_capacity(base.len() + 256);
        let mut from = 0;
        for l in order {
            text.push_str(&base[from..l.start]);
            text.push_str(&l.text);
            from = l.end;
        }
        text.push_str(&base[from..]);
        let edited = Document::parse(&text, doc.format(), &opts.limits).ok()?;
        let expected = match meaning {
            Meaning::Together(v, _) => v,
            Meaning::Variants(vs) => merge(doc.value(), &vs.iter().collect::<Vec<_>>())?,
        };
        if !crate::document::value::same(&expected, edited.value()) {
            return None;
        }
        edited
    };
    verify_edit(unit.files[file].kind, root, doc, &edited).ok()?;
    // Positions as the one-at-a-time engine reports them: in the file with the fixes before
    // this one applied.
    let mut done = Vec::with_capacity(lowered.len());
    for (i, l) in lowered.iter().enumerate() {
        let mut earlier: Vec<(usize, usize, &str)> = lowered[..i]
            .iter()
            .filter(|e| e.end <= l.at)
            .map(|e| (e.start, e.end, e.text.as_str()))
            .collect();
        earlier.sort_unstable();
        let (line, col) = shifted_line_col(base, &earlier, l.at);
        done.push(Reported {
            finding: l.finding.clone(),
            status: Status::Fixed,
            line,
            col,
        });
    }
    let before = unit.files[file].set_doc(edited);
    if check_now {
        let rules: HashSet<&str> = lowered.iter().map(|l| l.finding.rule).collect();
        let again = check_rules(unit, config, |id| rules.contains(id));
        if lowered
            .iter()
            .any(|l| again.iter().any(|f| f.key() == l.finding.key()))
        {
            unit.files[file].body = before;
            return None;
        }
    }
    Some((done, before))
}

/// The fixes of a pass whose check that they no longer report what they fixed is left to the
/// next pass's check of the whole unit, which runs anyway: one check instead of one per batch.
/// When that check finds none of these keys, no fix of the pass left its finding behind in
/// the unit as the pass leaves it. When it finds one, the pass is undone and made again
/// checking each batch at once, as before. The check sees every batch of the pass applied:
/// a finding that would stay after its own batch but goes with a later batch of another file
/// (a rule that reads several files) counts as fixed, where checking each batch at once would
/// have applied that file's fixes one at a time; either way nothing is left to report.
struct Deferred {
    /// Finding keys the pass fixed.
    keys: Vec<FindingKey>,
    /// What the pass changed, in order.
    undo: Vec<Undo>,
    /// What the run had reported before the pass.
    fixed: usize,
    bugs: usize,
    failed: HashSet<FindingKey>,
    failures: BTreeMap<FindingKey, String>,
}

type FindingKey = (&'static str, usize, Location);

enum Undo {
    /// A batch: the file and its body before the batch.
    Body(usize, Box<Body>),
    /// A fix applied alone: the files as they were.
    Files(Saved),
}

impl Deferred {
    fn start(
        fixed: &[Reported],
        bugs: &[(usize, String)],
        failed: &HashSet<FindingKey>,
        failures: &BTreeMap<FindingKey, String>,
    ) -> Deferred {
        Deferred {
            keys: Vec::new(),
            undo: Vec::new(),
            fixed: fixed.len(),
            bugs: bugs.len(),
            failed: failed.clone(),
            failures: failures.clone(),
        }
    }

    /// Put the unit and the run's reports back as they were at the start of the pass.
    fn undo(
        self,
        unit: &mut Unit,
        fixed: &mut Vec<Reported>,
        bugs: &mut Vec<(usize, String)>,
        failed: &mut HashSet<FindingKey>,
        failures: &mut BTreeMap<FindingKey, String>,
    ) {
        for step in self.undo.into_iter().rev() {
            match step {
                Undo::Body(file, body) => unit.files[file].body = *body,
                Undo::Files(saved) => restore(unit, saved),
            }
        }
        fixed.truncate(self.fixed);
        bugs.truncate(self.bugs);
        *failed = self.failed;
        *failures = self.failures;
    }
}

/// A candidate's fix as one replacement of the file as it is, with its meaning; `None` when
/// it cannot be batched (it is then applied alone, by the caller, if it is the first).
fn lower<'a>(
    doc: &Document,
    finding: &'a Finding,
    opts: &Options,
    first: bool,
) -> Option<Lowered<'a>> {
    let fix = finding.fix.as_ref()?;
    let Location::Node(path) = &finding.location else {
        return None;
    };
    // Later candidates must point at a node that exists, so that their position does not
    // depend on an earlier fix creating it.
    if !first && doc.node(path).is_none() {
        return None;
    }
    let at = doc.locate_offset(path);
    // The meaning is the intended one, every edit applied to the original's (see `Meaning`):
    // the batch's one parse checks the text against it, so the documents in between are not
    // checked.
    let text = match fix.ops.as_slice() {
        [] => return None,
        [op] => doc.edit_text(op).ok()?,
        [first @ .., last] => {
            // Edits that do not depend on each other are lowered together, without the
            // documents in between (see `document::together`).
            let together = doc.edit_text_together(&fix.ops);
            match together {
                Some(text) if !check_together() => text,
                together => {
                    // Every edit but the last needs the document it leaves (the next edit is
                    // lowered against its spans); the last is lowered without parsing.
                    let mut edited: Option<Document> = None;
                    for op in first {
                        let from = edited.as_ref().unwrap_or(doc);
                        let text = from.edit_text(op).ok()?;
                        edited = Some(Document::parse(&text, doc.format(), &opts.limits).ok()?);
                    }
                    let from = edited.as_ref().unwrap_or(doc);
                    let text = from.edit_text(last).ok()?;
                    if let Some(together) = together {
                        eprintln!(
                            "{CHECK_TOGETHER_ENV}: {} {}",
                            finding.rule,
                            if together == text { "same" } else { "differs" }
                        );
                    }
                    text
                }
            }
        }
    };
    let base = doc.text();
    if text == base {
        return None;
    }
    // The smallest replacement that turns `base` into `text`.
    let prefix = common_prefix(base.as_bytes(), text.as_bytes());
    let max_suffix = base.len().min(text.len()) - prefix;
    let suffix = common_suffix(
        &base.as_bytes()[base.len() - max_suffix..],
        &text.as_bytes()[text.len() - max_suffix..],
    );
    let (mut start, mut end_b, mut end_t) = (prefix, base.len() - suffix, text.len() - suffix);
    // Whole characters only.
    while !base.is_char_boundary(start) || !text.is_char_boundary(start) {
        start -= 1;
    }
    while !base.is_char_boundary(end_b) || !text.is_char_boundary(end_t) {
        end_b += 1;
        end_t += 1;
    }
    Some(Lowered {
        finding,
        start,
        end: end_b,
        text: text[start..end_t].to_string(),
        at,
    })
}

/// How many bytes `a` and `b` share at their start (compared a block at a time: the texts
/// are whole files and differ only around one edit).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// How many bytes `a` and `b` share at their end.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut k = 0;
    while k + BLOCK <= n && a[n - k - BLOCK..n - k] == b[n - k - BLOCK..n - k] {
        k += BLOCK;
    }
    k + a[..n - k]
        .iter()
        .rev()
        .zip(b[..n - k].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// The meaning of a file with several fixes applied, from its meaning before (`base`) and
/// with each fix alone (`variants`); `None` when two fixes change the same value differently
/// or change the length of a list another fix changes.
fn merge(base: &serde_json::Value, variants: &[&serde_json::Value]) -> Option<serde_json::Value> {
    use crate::document::value::{same, same_opt};
    use serde_json::Value;
    let changed: Vec<&Value> = variants
        .iter()
        .copied()
        .filter(|v| !same(v, base))
        .collect();
    match changed.as_slice() {
        [] => return Some(base.clone()),
        [one] => return Some((*one).clone()),
        _ => {}
    }
    if changed.iter().all(|v| same(v, changed[0])) {
        return Some(changed[0].clone());
    }
    match base {
        Value::Object(b) => {
            let maps: Vec<&serde_json::Map<String, Value>> = changed
                .iter()
                .map(|v| v.as_object())
                .collect::<Option<_>>()?;
            let mut keys: Vec<&String> = b.keys().collect();
            for m in &maps {
                for k in m.keys() {
                    if !b.contains_key(k) && !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
            let mut out = serde_json::Map::new();
            for k in keys {
                let was = b.get(k);
                let diff: Vec<Option<&Value>> = maps
                    .iter()
                    .map(|m| m.get(k))
                    .filter(|v| !same_opt(*v, was))
                    .collect();
                let now = match (diff.as_slice(), was) {
                    ([], _) => was.cloned(),
                    ([one], _) => one.cloned(),
                    (many, Some(w)) if many.iter().all(Option::is_some) => {
                        let vs: Vec<&Value> = many.iter().flatten().copied().collect();
                        Some(merge(w, &vs)?)
                    }
                    (many, _) if many.iter().all(|v| same_opt(*v, many[0])) => many[0].cloned(),
                    _ => return None,
                };
                if let Some(v) = now {
                    out.insert(k.clone(), v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(b) => {
            let lists: Vec<&Vec<Value>> = changed
                .iter()
                .map(|v| v.as_array())
                .collect::<Option<_>>()?;
            if lists.iter().all(|l| l.len() == b.len()) {
                let mut out = Vec::with_capacity(b.len());
                for (i, was) in b.iter().enumerate() {
                    let vs: Vec<&Value> = lists.iter().map(|l| &l[i]).collect();
                    out.push(merge(was, &vs)?);
                }
                return Some(Value::Array(out));
            }
            // Items inserted or removed: each fix replaces one run of items; the runs must
            // be apart (two insertions at the same place have no order).
            let mut runs: Vec<(usize, usize, &[Value])> = lists
                .iter()
                .map(|l| {
                    let p = b
                        .iter()
                        .zip(l.iter())
                        .take_while(|(x, y)| same(x, y))
                        .count();
                    let max = b.len().min(l.len()) - p;
                    let s = b
                        .iter()
                        .rev()
                        .zip(l.iter().rev())
                        .take(max)
                        .take_while(|(x, y)| same(x, y))
                        .count();
                    (p, b.len() - s, &l[p..l.len() - s])
                })
                .collect();
            runs.sort_by_key(|r| (r.0, r.1));
            let mut out = Vec::with_capacity(b.len() + 4);
            let mut from = 0;
            let mut previous: Option<(usize, usize)> = None;
            for (start, end, items) in runs {
                if start < from
                    || previous.is_some_and(|(s, e)| start == e && (s == e || start == end))
                {
                    return None;
                }
                previous = Some((start, end));
                out.extend_from_slice(&b[from..start]);
                out.extend_from_slice(items);
                from = end;
            }
            out.extend_from_slice(&b[from..]);
            Some(Value::Array(out))
        }
        _ => None,
    }
}

/// 1-based line and column (in characters) that the byte offset `at` of `base` has once the
/// replacements `earlier` (`start..end` of `base` by a text, sorted, all ending at or before
/// `at`) are made, counted as [`Document::line_col`] counts them, without building that text.
fn shifted_line_col(base: &str, earlier: &[(usize, usize, &str)], at: usize) -> (usize, usize) {
    let mut at = at.min(base.len());
    while at > 0 && !base.is_char_boundary(at) {
        at -= 1;
    }
    let newlines = |t: &str| t.bytes().filter(|&b| b == b'\n').count();
    let mut line = 1 + newlines(&base[..at]);
    for (start, end, text) in earlier {
        line = line + newlines(text) - newlines(&base[*start..*end]);
    }
    // The column: characters back to the last line end, through the replacements.
    let mut chars = 0;
    let mut pos = at;
    for (start, end, text) in earlier.iter().rev() {
        let seg = &base[*end..pos];
        if let Some(i) = seg.rfind('\n') {
            return (line, chars + seg[i + 1..].chars().count() + 1);
        }
        chars += seg.chars().count();
        if let Some(i) = text.rfind('\n') {
            return (line, chars + text[i + 1..].chars().count() + 1);
        }
        chars += text.chars().count();
        pos = *start;
    }
    let seg = &base[..pos];
    let from = seg.rfind('\n').map_or(0, |i| i + 1);
    (line, chars + seg[from..].chars().count() + 1)
}

/// Every enabled fix's findings on the unit (or only those of `only`).
pub fn check(unit: &Unit, config: &Config, only: Option<&str>) -> Vec<Finding> {
    check_rules(unit, config, |id| only.is_none_or(|o| o == id))
}

/// The findings of the enabled fixes that `wanted` selects by id.
fn check_rules(unit: &Unit, config: &Config, wanted: impl Fn(&str) -> bool) -> Vec<Finding> {
    let facts = std::cell::OnceCell::new();
    let mut out = Vec::new();
    for (rule, m, kinds) in rule_table() {
        let (rule, m) = (rule.as_ref(), *m);
        if !wanted(rule.id()) {
            continue;
        }
        if !unit.files.iter().any(|f| kinds.contains(&f.kind)) {
            continue;
        }
        if !config.selected(rule.id())
            || !unit
                .files
                .iter()
                .any(|f| config.allowed_at(rule.id(), &f.path))
        {
            continue;
        }
        let cx = Context {
            unit,
            facts: &facts,
            config,
            meta: m,
        };
        let start = out.len();
        rule.check(&cx, &mut out);
        // Findings about a view are addressed in the file as it is written.
        let mut kept: Vec<Finding> = out
            .split_off(start)
            .into_iter()
            .map(|f| match unit.files.get(f.file) {
                Some(file) => match (&file.front, file.doc()) {
                    (Front::Api, _) | (_, None) => f,
                    (front, Some((doc, _))) => front.lower(doc, f),
                },
                None => f,
            })
            .collect();
        // A template resource with `Fn::If` values is checked once per branch: what both
        // branches find outside the branches is one finding.
        let mut seen = HashSet::new();
        kept.retain(|f| {
            let Some(file) = unit.files.get(f.file) else {
                return true;
            };
            match &file.front {
                Front::Cfn(r) if r.branch.is_some() => seen.insert((
                    f.rule,
                    file.path.clone(),
                    r.logical_id.clone(),
                    f.location.clone(),
                    f.message.clone(),
                )),
                _ => true,
            }
        });
        // Per-path ignores and inline suppressions apply to the file a finding is in.
        kept.retain(|f| {
            let file = &unit.files[f.file];
            config.enabled(f.rule, &file.path) && !suppressed(unit, f)
        });
        out.extend(kept);
    }
    out
}

/// Every rule of the catalog with its metadata and the kinds it reads, in catalog order,
/// looked up once for the whole run.
type RuleEntry = (&'static Box<dyn Rule>, &'static catalog::Meta, Vec<Kind>);

fn rule_table() -> &'static [RuleEntry] {
    static TABLE: OnceLock<Vec<RuleEntry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        catalog::rules()
            .iter()
            .filter_map(|rule| {
                let m = meta::get(rule.id())?;
                Some((rule, m, m.kinds()))
            })
            .collect()
    })
}

/// 1-based line and column of a finding in its file as it is now.
pub fn position(unit: &Unit, f: &Finding) -> (usize, usize) {
    let file = &unit.files[f.file];
    match (&f.location, &file.body) {
        (Location::Node(path), Body::Doc { doc, .. }) => match &file.front {
            Front::Inline(inline) => inline.line_col(doc.text(), doc.locate_offset(path)),
            Front::Api | Front::Cfn(_) => doc.locate(path),
        },
        (Location::Line(n), _) => (*n, 1),
        _ => (1, 1),
    }
}

/// The index of the first `[[suppress]]` entry of the configuration that silences `f`: one
/// about its fix and its file whose JSONPath expression selects the finding's node or a node
/// that holds it. Evaluated on the document as it is now.
pub fn suppression(unit: &Unit, config: &Config, f: &Finding) -> Option<usize> {
    if config.suppress.is_empty() {
        return None;
    }
    let Location::Node(at) = &f.location else {
        return None;
    };
    let file = &unit.files[f.file];
    let (doc, _) = file.doc()?;
    config.suppress.iter().position(|s| {
        s.covers(f.rule)
            && config.suppression_matches_file(s, &file.path)
            && s.selector
                .select(doc.value())
                .iter()
                .any(|node| at.starts_with(node))
    })
}

/// `# pipefix: ignore[ID]` (ids or prefixes, comma-separated) on the finding's line or on
/// the line above it silences the finding. YAML only: JSON has no comments.
fn suppressed(unit: &Unit, f: &Finding) -> bool {
    let file = &unit.files[f.file];
    let Body::Doc { doc, .. } = &file.body else {
        return false;
    };
    let text = file.text();
    if doc.format() != crate::document::Format::Yaml || !text.contains("pipefix:") {
        return false;
    }
    let (line, _) = position(unit, f);
    let lines: Vec<&str> = text.lines().collect();
    let candidates = [line.checked_sub(1), line.checked_sub(2)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|i| lines.get(i))
        .any(|l| {
            suppression_ids(l)
                .iter()
                .any(|p| f.rule.starts_with(p.as_str()))
        })
}

fn suppression_ids(line: &str) -> Vec<String> {
    let Some(i) = line.find("# pipefix: ignore[") else {
        return Vec::new();
    };
    let rest = &line[i + "# pipefix: ignore[".len()..];
    let Some(end) = rest.find(']') else {
        return Vec::new();
    };
    rest[..end]
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_and_suffix_count_bytes() {
        let naive_prefix = |a: &[u8], b: &[u8]| a.iter().zip(b).take_while(|(x, y)| x == y).count();
        let naive_suffix = |a: &[u8], b: &[u8]| {
            a.iter()
                .rev()
                .zip(b.iter().rev())
                .take_while(|(x, y)| x == y)
                .count()
        };
        let long = "x".repeat(200);
        let texts = [
            String::new(),
            "a".into(),
            long.clone(),
            format!("{long}a{long}"),
            format!("{long}b{long}"),
            format!("{long}b{long}c"),
            format!("{long}{long}"),
            format!("a{long}"),
        ];
        for a in &texts {
            for b in &texts {
                let (a, b) = (a.as_bytes(), b.as_bytes());
                assert_eq!(common_prefix(a, b), naive_prefix(a, b));
                assert_eq!(common_suffix(a, b), naive_suffix(a, b));
            }
        }
    }

    #[test]
    fn merge_combines_changes_that_are_apart() {
        use serde_json::json;
        let base = json!({"a": 1, "b": {"c": [1, 2, 3, 4], "d": "x"}, "e": true});
        // Different keys, a removed key, an added key.
        let one = json!({"a": 2, "b": {"c": [1, 2, 3, 4], "d": "x"}, "e": true});
        let two = json!({"a": 1, "b": {"c": [1, 2, 3, 4], "d": "y"}, "f": 0, "e": true});
        let three = json!({"a": 1, "b": {"c": [1, 2, 3, 4], "d": "x"}});
        assert_eq!(
            merge(&base, &[&one, &two, &three]),
            Some(json!({"a": 2, "b": {"c": [1, 2, 3, 4], "d": "y"}, "f": 0}))
        );
        // Items removed and replaced in different places of one list.
        let rm = json!({"a": 1, "b": {"c": [1, 3, 4], "d": "x"}, "e": true});
        let rep = json!({"a": 1, "b": {"c": [1, 2, 3, 9], "d": "x"}, "e": true});
        assert_eq!(
            merge(&base, &[&rm, &rep]),
            Some(json!({"a": 1, "b": {"c": [1, 3, 9], "d": "x"}, "e": true}))
        );
        // The same change twice is one change.
        assert_eq!(merge(&base, &[&one, &one]), Some(one.clone()));
    }

    /// Edits applied in turn (translated where an earlier removal moved their items) mean
    /// what merging each fix's meaning means, for every order of a few fixes that remove,
    /// replace and insert in one list and beside it; and the cases that must not be applied
    /// in turn are refused.
    #[test]
    fn edits_in_turn_mean_what_merging_means() {
        use serde_json::json;
        let l = Path::root().key("l");
        let at = |i: usize| l.index(i);
        let replace = |i: usize, v: i64| Op::Replace {
            path: at(i),
            value: json!(v),
        };
        let remove = |i: usize| Op::Remove { path: at(i) };
        let base = json!({"l": [0, 1, 2, 3, 4, 5, 6, 7], "k": "x"});
        let fixes: Vec<Vec<Op>> = vec![
            vec![remove(1)],
            vec![replace(3, 30)],
            vec![remove(5)],
            vec![replace(7, 70)],
            vec![Op::Replace {
                path: Path::root().key("k"),
                value: json!("y"),
            }],
            vec![remove(6), replace(2, 20)],
        ];
        let apply = |v: &mut serde_json::Value, ops: &[Op]| {
            ops.iter()
                .all(|op| crate::document::value::apply(v, op).is_ok())
        };
        let mut in_turn_count = 0;
        for order in [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 0, 5, 1, 4, 3]] {
            let mut v = base.clone();
            let mut batch: Vec<&[Op]> = Vec::new();
            let mut variants = Vec::new();
            for i in order {
                let ops = &fixes[i];
                let Some(moved) = in_turn(&batch, ops) else {
                    continue;
                };
                assert!(apply(&mut v, moved.as_deref().unwrap_or(ops)));
                batch.push(ops);
                let mut alone = base.clone();
                assert!(apply(&mut alone, ops));
                variants.push(alone);
                in_turn_count += 1;
            }
            let merged = merge(&base, &variants.iter().collect::<Vec<_>>());
            assert_eq!(merged.as_ref(), Some(&v), "{order:?}");
        }
        assert!(in_turn_count >= 12, "{in_turn_count}");
        // Two removals in turn: the second's index moves down past the first.
        assert_eq!(
            in_turn(&[&[remove(1)], &[remove(3)]], &[remove(6)]),
            Some(Some(vec![remove(4)]))
        );
        // Beside the list, or before the removed item: nothing to move.
        assert_eq!(in_turn(&[&[remove(4)]], &[replace(2, 9)]), Some(None));
        // A fix with another edit in the list it removes from: its indices are not the
        // original's.
        assert_eq!(
            in_turn(&[&[remove(1), replace(5, 9)]], &[replace(6, 9)]),
            None
        );
        // The same item, an item inside a removed one, an insertion into the list.
        assert_eq!(in_turn(&[&[replace(2, 9)]], &[replace(2, 8)]), None);
        assert_eq!(
            in_turn(
                &[&[remove(2)]],
                &[Op::Replace {
                    path: at(2).key("x"),
                    value: json!(1)
                }]
            ),
            None
        );
        let insert = Op::InsertItem {
            path: l.clone(),
            index: 3,
            value: json!(9),
        };
        assert_eq!(
            in_turn(&[&[remove(1)]], std::slice::from_ref(&insert)),
            None
        );
        assert_eq!(
            in_turn(&[std::slice::from_ref(&insert)], &[replace(5, 9)]),
            None
        );
    }

    #[test]
    fn merge_refuses_conflicting_changes() {
        use serde_json::json;
        let base = json!({"a": 1, "l": [1, 2]});
        let x = json!({"a": 2, "l": [1, 2]});
        let y = json!({"a": 3, "l": [1, 2]});
        assert_eq!(merge(&base, &[&x, &y]), None);
        // Two insertions at the same place have no order.
        let i1 = json!({"a": 1, "l": [1, 7, 2]});
        let i2 = json!({"a": 1, "l": [1, 8, 2]});
        assert_eq!(merge(&base, &[&i1, &i2]), None);
        // A removal and a replacement of the same item.
        let rm = json!({"a": 1, "l": [1]});
        let rep = json!({"a": 1, "l": [1, 5]});
        assert_eq!(merge(&base, &[&rm, &rep]), None);
    }

    #[test]
    fn positions_after_earlier_replacements_match_the_edited_document() {
        let base = "a: 1\r\nb:\n  - é: x\n  - y\nc: [1, 2]\nd: ü\n";
        let cases: [&[(usize, usize, &str)]; 5] = [
            &[],
            &[(3, 4, "22")],
            &[(0, 0, "z: 0\n"), (9, 10, "é\nq")],
            &[(6, 12, ""), (27, 28, "100\n  # two\n  ")],
            &[(3, 5, "ééé"), (8, 8, " ")],
        ];
        for earlier in cases {
            let mut text = String::new();
            let mut from = 0;
            for (s, e, t) in earlier {
                text.push_str(&base[from..*s]);
                text.push_str(t);
                from = *e;
            }
            let last = from;
            text.push_str(&base[last..]);
            for at in last..=base.len() {
                if !base.is_char_boundary(at) {
                    continue;
                }
                let shift: isize = earlier
                    .iter()
                    .map(|(s, e, t)| t.len() as isize - (e - s) as isize)
                    .sum();
                let moved = (at as isize + shift) as usize;
                assert_eq!(
                    shifted_line_col(base, earlier, at),
                    counted(&text, moved),
                    "{earlier:?} at {at}"
                );
            }
        }
        // The counting above is the document's.
        let doc = Document::parse(base, crate::document::Format::Yaml, &Limits::default())
            .expect("parse");
        for at in (0..=base.len()).filter(|&b| base.is_char_boundary(b)) {
            assert_eq!(counted(base, at), doc.line_col(at), "at {at}");
            assert_eq!(shifted_line_col(base, &[], at), doc.line_col(at), "at {at}");
        }
    }

    /// Line and column by counting in the text itself.
    fn counted(text: &str, byte: usize) -> (usize, usize) {
        let head = &text[..byte];
        let from = head.rfind('\n').map_or(0, |i| i + 1);
        (
            head.matches('\n').count() + 1,
            head[from..].chars().count() + 1,
        )
    }

    #[test]
    fn suppression_comment_lists_ids() {
        assert_eq!(
            suppression_ids("  - echo hi # pipefix: ignore[BS007, TD]"),
            vec!["BS007".to_string(), "TD".to_string()]
        );
        assert!(suppression_ids("# pipefix ignore").is_empty());
    }
}
