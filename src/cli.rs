//! The command line: clap definitions and what each command prints.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::catalog::meta;
use crate::config::is_digest;
use crate::report::text;
use crate::run::{self, RunOptions};

#[derive(Parser, Debug)]
#[command(
    name = "pipefix",
    version,
    about = "Finds and fixes unsafe AWS CI/CD pipeline configuration, in place, as a reviewable diff.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Files or folders to check (default: the current folder).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Show the fixes as a diff and change nothing (the default).
    #[arg(long, conflicts_with = "apply")]
    pub dry_run: bool,

    /// Write the fixes to the files.
    #[arg(long)]
    pub apply: bool,

    /// Also apply fixes that change deploy behaviour more deeply.
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,

    /// Only these fixes (ids or prefixes, comma-separated: `TD,CP001`).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub select: Vec<String>,

    /// Skip these fixes (ids or prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub ignore: Vec<String>,

    /// Pin an image to a digest: `IMAGE=sha256:…` (repeatable).
    #[arg(long, value_name = "IMAGE=DIGEST", value_parser = parse_pin)]
    pub pin: Vec<(String, String)>,

    /// Configuration file (default: the nearest pipefix.toml above the first path).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Refuse files larger than this many bytes (default 10 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,

    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub jobs: usize,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every fix of the catalog.
    Rules {
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print the documentation of one fix, with its before/after example.
    Explain { id: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Diff on stdout, findings on stderr.
    Text,
    /// An exact patch for `git apply` (the only output that may contain secret values).
    Patch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

fn parse_pin(s: &str) -> Result<(String, String), String> {
    let (image, digest) = s
        .rsplit_once('=')
        .ok_or_else(|| "expected IMAGE=sha256:<64 hex>".to_string())?;
    if image.is_empty() || !is_digest(digest) {
        return Err(format!("expected IMAGE=sha256:<64 hex>, got {s:?}"));
    }
    Ok((image.to_string(), digest.to_string()))
}

/// Run the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match &cli.command {
        Some(Command::Rules { format }) => return rules(*format),
        Some(Command::Explain { id }) => return explain(id),
        None => {}
    }
    let paths = if cli.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        cli.paths.clone()
    };
    for p in &paths {
        if std::fs::symlink_metadata(p).is_err() {
            eprintln!("error: {}: no such file or folder", p.display());
            return 2;
        }
    }
    let opts = RunOptions {
        paths,
        apply: cli.apply,
        unsafe_fixes: cli.unsafe_fixes,
        select: cli.select.clone(),
        ignore: cli.ignore.clone(),
        pins: cli.pin.clone(),
        config: cli.config.clone(),
        max_file_size: cli.max_file_size,
        jobs: cli.jobs,
        ..RunOptions::default()
    };
    for id in opts.select.iter().chain(opts.ignore.iter()) {
        if !meta::all().iter().any(|m| m.id.starts_with(id.as_str())) {
            eprintln!("error: no fix id starts with {id:?} (see `pipefix rules`)");
            return 2;
        }
    }
    let config = match run::configuration(&opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if opts.apply {
        crate::interrupt::install();
    }
    let report = run::run(&opts, &config);
    let mask = report.mask();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr().lock();
    let printed = match cli.format {
        OutputFormat::Text => {
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            text::print_diffs(&report, &mask, color, &mut out)
        }
        OutputFormat::Patch => {
            // Exact bytes: `git apply` must accept it, so nothing is masked here.
            let mut r = Ok(());
            for f in report.files() {
                if let Some(d) = &f.diff {
                    r = r.and_then(|_| out.write_all(d.as_bytes()));
                }
            }
            r
        }
    };
    let _ = out.flush();
    let _ = text::print_summary(&report, &mask, &mut err);
    if let Some(sig) = report.interrupted {
        let _ = writeln!(
            err,
            "interrupted by {}: stopped between files; every file has either its old or its new content",
            crate::interrupt::name(sig)
        );
    }
    if printed.is_err() {
        return 2;
    }
    report.exit_code()
}

fn rules(format: ListFormat) -> i32 {
    let all = meta::all();
    match format {
        ListFormat::Text => {
            for m in all {
                println!(
                    "{:<7} {:<8} {:<34} {}",
                    m.id,
                    m.safety.to_string(),
                    m.kinds.join(","),
                    m.title
                );
            }
        }
        ListFormat::Json => {
            let v: Vec<serde_json::Value> = all
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id, "name": m.name, "title": m.title,
                        "kinds": m.kinds, "safety": m.safety, "summary": m.summary,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }
    0
}

fn explain(id: &str) -> i32 {
    let Some(m) = meta::get(&id.to_ascii_uppercase()) else {
        eprintln!("error: no fix {id:?} (see `pipefix rules`)");
        return 2;
    };
    println!("{} {}: {}\n", m.id, m.name, m.title);
    println!("Safety: {}   Reads: {}\n", m.safety, m.kinds.join(", "));
    println!("{}\n", m.summary.trim());
    println!("Why\n---\n{}\n", m.why.trim());
    if !m.safe_when.trim().is_empty() {
        println!("When it is safe\n---------------\n{}\n", m.safe_when.trim());
    }
    if !m.parameters.is_empty() {
        println!("Parameters ([rules.{}] in pipefix.toml)\n---", m.id);
        for (name, p) in &m.parameters {
            let default = serde_json::to_string(&p.default).unwrap_or_default();
            println!("  {name} = {default}   {}", p.description);
        }
        println!();
    }
    if !m.references.is_empty() {
        println!("References\n----------");
        for r in &m.references {
            println!("  - {}: {}", r.title, r.url);
        }
        println!();
    }
    for ex in &m.examples {
        println!("Example: {}\n", ex.title);
        for f in &ex.files {
            match &f.after {
                Some(after) => print!(
                    "{}",
                    crate::report::diff::unified(&f.path, &f.before, after)
                ),
                None => println!("{} stays unchanged:\n{}", f.path, f.before),
            }
        }
        println!();
    }
    0
}
