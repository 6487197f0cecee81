//! The per-file path, kind by kind: classify, parse, check, fix, diff.
//!
//! `cargo bench --bench per_file` (plain `std` timing: median of 7 batches of at least
//! 50 ms each). The inputs are the example service in `examples/plooral/pipeline/`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pipefix::config::Config;
use pipefix::document::{Document, Format, Limits};
use pipefix::engine::{self, Options};
use pipefix::front::Front;
use pipefix::model;
use pipefix::report::diff;
use pipefix::workspace::{File, Unit};

/// Median time of one call of `f`, in nanoseconds.
fn time(mut f: impl FnMut()) -> f64 {
    let mut per_call = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(50) {
            f();
            n += 1;
        }
        per_call.push(start.elapsed().as_nanos() as f64 / n as f64);
    }
    per_call.sort_by(|a, b| a.total_cmp(b));
    per_call[per_call.len() / 2]
}

fn fmt(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/plooral/pipeline");
    let files = [
        ("codepipeline", "codepipeline.json", Format::Json),
        ("buildspec", "buildspec.yml", Format::Yaml),
        ("appspec", "appspec.yml", Format::Yaml),
        ("taskdef", "ecs_taskdef.json", Format::Json),
        ("deploymentgroup", "deployment_group.json", Format::Json),
        ("ecs-service", "ecs_service.json", Format::Json),
    ];
    let limits = Limits::default();
    let config = Config::default();
    let opts = Options {
        unsafe_fixes: true,
        limits,
        ..Options::default()
    };
    println!(
        "{:<16} {:>8} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "kind", "bytes", "classify", "parse", "check", "fix", "diff"
    );
    for (kind, name, format) in files {
        let path = dir.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{}: cannot read", path.display());
            continue;
        };
        let Ok(doc) = Document::parse(&text, format, &limits) else {
            eprintln!("{name}: does not parse");
            continue;
        };
        let Some((k, root)) = model::classify(doc.value()) else {
            eprintln!("{name}: not classified");
            continue;
        };
        let unit = Unit {
            files: vec![File::document(
                PathBuf::from(name),
                k,
                doc.clone(),
                root.clone(),
                Front::Api,
            )],
        };
        let classify = time(|| {
            black_box(model::looks_like_pipeline_file(black_box(&text)));
            black_box(model::classify(black_box(doc.value())));
        });
        let parse = time(|| {
            black_box(Document::parse(black_box(&text), format, &limits).ok());
        });
        let check = time(|| {
            black_box(engine::check(black_box(&unit), &config, None));
        });
        let fix = time(|| {
            black_box(engine::run(black_box(unit.clone()), &config, &opts));
        });
        let result = engine::run(unit.clone(), &config, &opts);
        let fixed = result
            .files
            .first()
            .and_then(|f| f.fixed.clone())
            .unwrap_or_else(|| text.clone());
        let diff = time(|| {
            black_box(diff::unified(name, black_box(&text), black_box(&fixed)));
        });
        println!(
            "{kind:<16} {:>8} {:>11} {:>11} {:>11} {:>11} {:>11}",
            text.len(),
            fmt(classify),
            fmt(parse),
            fmt(check),
            fmt(fix),
            fmt(diff)
        );
    }
    println!(
        "\n(fix: the whole fixed point for the file alone: check, edit, re-parse, verify, repeat)"
    );
}
