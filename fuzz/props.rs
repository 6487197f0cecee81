//! The properties the fuzz targets check, shared with the regression tests in `tests/` (which
//! replay the committed corpus and every crash found through the same functions).
//!
//! - never panic;
//! - an edit that the document layer accepts gives text that parses again and means the old
//!   meaning with the edit applied (checked by `Document::apply` itself, re-checked here);
//! - an edit never touches the bytes of a key or scalar it was not aimed at;
//! - a run over one file: whatever gets fixed still parses, and a second run changes nothing.
#![allow(dead_code)]

use std::fs;
use std::path::Path as FsPath;

use pipefix::config::Config;
use pipefix::document::{
    self, Document, Format, Limits, Node, NodeKind, Op, Path, Position, Seg, Span,
};
use pipefix::run::{self, RunOptions};
use serde_json::{Value, json};

/// Small limits keep each execution fast; hostile depth is covered by the CLI tests.
pub fn limits() -> Limits {
    Limits {
        max_depth: 64,
        max_expanded_nodes: 10_000,
    }
}

/// A tiny deterministic generator seeded from the input.
pub struct Rng(u64);

impl Rng {
    pub fn from_bytes(data: &[u8]) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in data {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Every node of the tree with its path.
fn walk<'a>(node: &'a Node, path: Path, out: &mut Vec<(Path, &'a Node, Option<Span>)>) {
    out.push((path.clone(), node, None));
    match &node.kind {
        NodeKind::Mapping { entries, .. } => {
            for e in entries {
                let p = path.key(&e.key);
                out.push((p.clone(), &e.value, Some(e.key_span)));
                walk_children(&e.value, p, out);
            }
        }
        NodeKind::Sequence { items, .. } => {
            for (i, n) in items.iter().enumerate() {
                walk(n, path.index(i), out);
            }
        }
        _ => {}
    }
}

fn walk_children<'a>(node: &'a Node, path: Path, out: &mut Vec<(Path, &'a Node, Option<Span>)>) {
    match &node.kind {
        NodeKind::Mapping { entries, .. } => {
            for e in entries {
                let p = path.key(&e.key);
                out.push((p.clone(), &e.value, Some(e.key_span)));
                walk_children(&e.value, p, out);
            }
        }
        NodeKind::Sequence { items, .. } => {
            for (i, n) in items.iter().enumerate() {
                walk(n, path.index(i), out);
            }
        }
        _ => {}
    }
}

fn gen_value(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => json!(30),
        1 => json!("pfz value: with # and 'quotes' \"too\""),
        2 => json!(true),
        3 => Value::Null,
        4 => json!({"pfzA": 1, "pfzB": ["x", "y"]}),
        5 => json!(["one", 2, {"three": 3}]),
        6 => json!(""),
        _ => json!("plain"),
    }
}

/// A few ops aimed at nodes of `doc`, chosen by `rng`.
pub fn gen_ops(doc: &Document, rng: &mut Rng) -> Vec<Op> {
    let mut nodes = Vec::new();
    walk(doc.root(), Path::root(), &mut nodes);
    let mut ops = Vec::new();
    for _ in 0..4 {
        let Some((path, node, _)) = nodes.get(rng.below(nodes.len())) else {
            break;
        };
        let path = path.clone();
        let op = match (&node.kind, rng.below(3)) {
            (NodeKind::Mapping { entries, .. }, 0) => {
                let position = match (entries.first(), rng.below(4)) {
                    (Some(e), 0) => Position::Before(e.key.clone()),
                    (Some(e), 1) => Position::After(e.key.clone()),
                    (_, 2) => Position::Start,
                    _ => Position::End,
                };
                Op::InsertKey {
                    path,
                    key: format!("pfzKey{}", rng.below(100)),
                    value: gen_value(rng),
                    position,
                }
            }
            (NodeKind::Sequence { items, .. }, 0) => Op::InsertItem {
                path,
                index: rng.below(items.len() + 1),
                value: gen_value(rng),
            },
            (NodeKind::Scalar { .. }, 0) if doc.value_at(&path).is_some_and(Value::is_string) => {
                let s = doc
                    .value_at(&path)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let find: String = s.chars().take(1 + rng.below(3)).collect();
                if find.is_empty() {
                    continue;
                }
                Op::ReplaceInScalar {
                    path,
                    find,
                    replace: "pfz-x".into(),
                }
            }
            (_, 1) if !path.is_root() => Op::Remove { path },
            (_, 2) if matches!(path.last(), Some(Seg::Key(_))) && rng.below(2) == 0 => {
                Op::RenameKey {
                    path,
                    new_key: format!("pfzRenamed{}", rng.below(100)),
                }
            }
            _ => Op::Replace {
                path,
                value: gen_value(rng),
            },
        };
        ops.push(op);
    }
    ops
}

/// Whether a splice overwrites bytes inside `span` (touching its ends is allowed).
fn overlaps(splice: Span, span: Span) -> bool {
    splice.start < span.end && span.start < splice.end
}

/// Check one accepted edit: the new text parses, means what `Document::apply` promised, and
/// the bytes of every key and scalar outside the target are untouched.
pub fn check_edit(doc: &Document, op: &Op, new: &Document) {
    let splices = match doc.format() {
        Format::Json => document::json::lower(doc, op),
        Format::Yaml => document::yaml::lower(doc, op),
    }
    .expect("an accepted op lowers again");
    let text = document::apply_splices(doc.text(), &splices).expect("splices apply");
    assert_eq!(text, new.text(), "lowering is deterministic");
    let again =
        Document::parse(new.text(), doc.format(), &limits()).expect("the edited text parses again");
    assert_eq!(again.value(), new.value());
    let target = op.path();
    let mut nodes = Vec::new();
    walk(doc.root(), Path::root(), &mut nodes);
    for (path, node, key_span) in nodes {
        let aimed = path.starts_with(target);
        if aimed {
            continue;
        }
        let leaf = matches!(node.kind, NodeKind::Scalar { .. } | NodeKind::Alias);
        for s in &splices {
            if leaf {
                assert!(
                    !overlaps(s.span, node.span),
                    "{op:?} overwrote the untouched value at {path}: splice {:?} over {:?}\n{}",
                    s.span,
                    node.span,
                    doc.text()
                );
            }
            if let Some(k) = key_span {
                assert!(
                    !overlaps(s.span, k),
                    "{op:?} overwrote the untouched key at {path}\n{}",
                    doc.text()
                );
            }
        }
    }
}

/// Parse `data` as `format`; if it parses, apply a few generated ops and check each.
pub fn document_round(data: &[u8], format: Format) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = Document::parse(text, format, &limits()) else {
        return;
    };
    let mut rng = Rng::from_bytes(data);
    for op in gen_ops(&doc, &mut rng) {
        if let Ok(new) = doc.apply(&op, &limits()) {
            check_edit(&doc, &op, &new);
        }
    }
}

/// The six file names pipefix recognises a pipeline by (content decides; names are hints).
pub const NAMES: [&str; 6] = [
    "codepipeline.json",
    "buildspec.yml",
    "appspec.yaml",
    "taskdef.json",
    "deployment_group.json",
    "ecs_service.yml",
];

/// Write `data` under each of the six names (one folder each) and run pipefix as a dry run.
/// Every fixed file must parse again, and a second run on the fixed files must change nothing.
pub fn run_round(dir: &FsPath, data: &[u8]) {
    let opts = |p: &FsPath| RunOptions {
        paths: vec![p.to_path_buf()],
        jobs: 1,
        limits: limits(),
        max_file_size: Some(1 << 20),
        ..RunOptions::default()
    };
    let mut config = Config::default();
    config.max_file_size = 1 << 20;
    for name in NAMES {
        let sub = dir.join(name.replace('.', "_"));
        let _ = fs::remove_dir_all(&sub);
        fs::create_dir_all(&sub).expect("mkdir");
        let file = sub.join(name);
        fs::write(&file, data).expect("write");
        let report = run::run(&opts(&sub), &config);
        let bom = data.starts_with(b"\xEF\xBB\xBF");
        for f in report.files() {
            let Some(fixed) = &f.fixed else { continue };
            let format = if name.ends_with(".json") {
                Format::Json
            } else {
                Format::Yaml
            };
            if let Err(e) = Document::parse(fixed, format, &limits()) {
                panic!("{name}: the fixed text no longer parses: {e}\n{fixed}");
            }
            let mut bytes = Vec::new();
            if bom {
                bytes.extend_from_slice(b"\xEF\xBB\xBF");
            }
            bytes.extend_from_slice(fixed.as_bytes());
            fs::write(&file, &bytes).expect("write");
            let second = run::run(&opts(&sub), &config);
            for g in second.files() {
                assert!(
                    g.fixed.is_none(),
                    "{name}: a second pass changed the file again:\n{}",
                    g.diff.clone().unwrap_or_default()
                );
            }
        }
        assert!(
            fs::read(&file).is_ok(),
            "{name}: the file is still there after a dry run"
        );
    }
}
