//! The command line: clap definitions and what each command prints.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::meta;
use crate::registry::is_digest;
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

    /// Only these fixes, instead of the default set (ids or prefixes, comma-separated: `TD,CP001`).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub select: Vec<String>,

    /// Add these fixes to the set, e.g. the opt-in ones (ids or prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub extend_select: Vec<String>,

    /// Skip these fixes (ids or prefixes, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    pub ignore: Vec<String>,

    /// Pin an image to a digest: `IMAGE=sha256:…` (repeatable).
    #[arg(long, value_name = "IMAGE=DIGEST", value_parser = parse_pin)]
    pub pin: Vec<(String, String)>,

    /// Ask each image's registry for the digest its tag points to now, and pin it (TD002).
    /// Off by default: without it (or `resolve-digests = true` in pipefix.toml) pipefix never
    /// touches the network. Credentials come from the Docker configuration.
    #[arg(long, conflicts_with = "offline")]
    pub resolve_digests: bool,

    /// Never touch the network, even if pipefix.toml says `resolve-digests = true`.
    #[arg(long)]
    pub offline: bool,

    /// Configuration file (default: the nearest pipefix.toml above the first path).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Refuse files larger than this many bytes (default 10 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,

    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub jobs: usize,

    /// Print only errors on stderr (no findings, follow-ups or counts).
    #[arg(long, short, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print the whole summary on stderr, also with --format json|sarif|patch, and list
    /// suppressed findings.
    #[arg(long, short)]
    pub verbose: bool,
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
    /// Write a commented starting pipefix.toml (never overwrites one).
    Init {
        /// Where to write it.
        #[arg(long, value_name = "FILE", default_value = "pipefix.toml")]
        config: PathBuf,
    },
    /// Skip a fix below some paths: adds `GLOB = [ID]` to [per-path-ignores] in pipefix.toml,
    /// or, with --where, a [[suppress]] entry for the nodes a JSONPath expression selects;
    /// keeps the file's comments and layout.
    Ignore {
        /// A fix id or prefix.
        id: String,
        /// A glob, relative to the configuration file's folder (e.g. `legacy/**`).
        #[arg(long, value_name = "GLOB")]
        path: String,
        /// Only findings inside the nodes this JSONPath expression selects, e.g.
        /// `$.containerDefinitions[?(@.name == 'datadog-agent')]` (they are reported as
        /// suppressed, never fixed).
        #[arg(long = "where", value_name = "EXPR")]
        where_: Option<String>,
        /// Why (kept in the entry and shown with the suppressed findings).
        #[arg(long, value_name = "TEXT", requires = "where_")]
        reason: Option<String>,
        /// The file to edit (default: the nearest pipefix.toml, else ./pipefix.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Diff on stdout, findings on stderr.
    Text,
    /// An exact patch for `git apply` (the only output that may contain secret values).
    Patch,
    /// One JSON document: findings, files and their diffs, errors, counts.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// A pull request body, with a hidden marker for bots.
    Markdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
    /// The table the README shows.
    Markdown,
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
        Some(Command::Init { config }) => return init(config),
        Some(Command::Ignore {
            id,
            path,
            where_,
            reason,
            config,
        }) => {
            return ignore(
                id,
                path,
                where_.as_deref(),
                reason.as_deref(),
                config.as_deref(),
            );
        }
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "pipefix", &mut io::stdout());
            return 0;
        }
        Some(Command::Man) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            return match clap_mangen::Man::new(cmd).render(&mut io::stdout()) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            };
        }
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
        extend_select: cli.extend_select.clone(),
        ignore: cli.ignore.clone(),
        pins: cli.pin.clone(),
        resolve_digests: cli.resolve_digests,
        offline: cli.offline,
        config: cli.config.clone(),
        max_file_size: cli.max_file_size,
        jobs: cli.jobs,
        // Text and patch output need only the diffs (SARIF's fixes need the texts).
        keep_texts: !matches!(cli.format, OutputFormat::Text | OutputFormat::Patch),
        ..RunOptions::default()
    };
    for id in opts
        .select
        .iter()
        .chain(opts.extend_select.iter())
        .chain(opts.ignore.iter())
    {
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
    // Machine formats keep stderr for errors: a CI log shows each finding once.
    let machine = matches!(
        cli.format,
        OutputFormat::Json | OutputFormat::Sarif | OutputFormat::Patch
    );
    let level = if cli.verbose {
        text::Verbosity::Verbose
    } else if cli.quiet || machine {
        text::Verbosity::Errors
    } else {
        text::Verbosity::Normal
    };
    // Text and patch output print each unit's diffs as soon as the units before it are done,
    // and spill its finding lines and follow-ups to temporary files for the summary: no
    // diff or finding is kept until the end of the run. A unit's output is masked with the
    // secrets of that unit (those its fixes report and the sweep of its changed files: every
    // text a diff shows); see docs/guarantees.md.
    let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let write_failed = std::sync::atomic::AtomicBool::new(false);
    let format = cli.format;
    let apply = cli.apply;
    let spill = std::sync::Mutex::new(text::Spill::new());
    let tally = std::sync::Mutex::new(crate::report::Tally::default());
    let emit = |u: &mut crate::report::UnitReport| {
        let mask = crate::report::Mask::new(u.secrets.iter().cloned());
        let diffs = format == OutputFormat::Patch || !apply;
        if diffs {
            let mut out = io::stdout().lock();
            for f in &u.files {
                if let Some(d) = &f.diff {
                    let r = match format {
                        OutputFormat::Text => text::print_diff(d, &mask, color, &mut out),
                        // Exact bytes: `git apply` must accept it, so nothing is masked here.
                        _ => out.write_all(d.as_bytes()),
                    };
                    if r.is_err() {
                        write_failed.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        }
        let mut spill = spill.lock().unwrap_or_else(|e| e.into_inner());
        if spill.unit(u, apply, &mask, level).is_err() {
            write_failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(u, apply);
        // The unit's errors and bugs are printed at the end: masked now, so that its secrets
        // need not be kept.
        for b in &mut u.bugs {
            *b = mask.apply(b);
        }
        for e in &mut u.errors {
            e.message = mask.apply(&e.message);
        }
        u.secrets = Vec::new();
    };
    let streams = matches!(cli.format, OutputFormat::Text | OutputFormat::Patch);
    let mut report = run::run_streaming(
        &opts,
        &config,
        &|| Box::new(crate::write::Plain),
        streams.then_some(&emit as run::Emit<'_>),
    );
    if let Some(r) = &config.resolver {
        r.finish();
    }
    report.streamed = tally.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut spill = spill.into_inner().unwrap_or_else(|e| e.into_inner());
    let mask = report.mask();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr().lock();
    let printed = match cli.format {
        // With --apply the changes are in the files (see `git diff`): only the summary prints.
        OutputFormat::Text | OutputFormat::Patch => {
            if write_failed.load(std::sync::atomic::Ordering::Relaxed) {
                Err(io::Error::other("stdout"))
            } else {
                Ok(())
            }
        }
        OutputFormat::Json => write_json(&crate::report::json::document(&report, &mask), &mut out),
        OutputFormat::Sarif => {
            write_json(&crate::report::sarif::document(&report, &mask), &mut out)
        }
        OutputFormat::Markdown => {
            out.write_all(crate::report::markdown::render(&report, &mask).as_bytes())
        }
    };
    let _ = out.flush();
    let _ = text::print_summary_with(
        &report,
        &mask,
        streams.then_some(&mut spill),
        level,
        &mut err,
    );
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

fn write_json(v: &serde_json::Value, out: &mut dyn Write) -> io::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(io::Error::other)?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

fn init(path: &Path) -> i32 {
    let text = crate::config_edit::init_text();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {} already exists; pipefix init never overwrites it",
                path.display()
            );
            return 2;
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return 2;
        }
    };
    if let Err(e) = file.write_all(text.as_bytes()) {
        eprintln!("error: {}: {e}", path.display());
        return 2;
    }
    eprintln!("wrote {}", path.display());
    0
}

fn ignore(
    id: &str,
    glob: &str,
    expr: Option<&str>,
    reason: Option<&str>,
    config: Option<&Path>,
) -> i32 {
    let id = id.to_ascii_uppercase();
    let path = config
        .map(Path::to_path_buf)
        .or_else(|| crate::config::Config::find(Path::new(".")))
        .unwrap_or_else(|| PathBuf::from(crate::config::FILE_NAME));
    let (text, exists) = match std::fs::read_to_string(&path) {
        Ok(t) => (t, true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), false),
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return 2;
        }
    };
    let edit = match expr {
        Some(e) => crate::config_edit::add_suppression(&text, &id, glob, e, reason),
        None => crate::config_edit::add_per_path_ignore(&text, glob, &id),
    };
    let what = match expr {
        Some(e) => format!("{id} for {glob:?} where {e}"),
        None => format!("{id} for {glob:?}"),
    };
    match edit {
        Ok(crate::config_edit::Edit::AlreadyThere) => {
            eprintln!("{}: {what} is already ignored", path.display());
            0
        }
        Ok(crate::config_edit::Edit::Added(new)) => {
            let written = if exists {
                crate::write::write_atomic(
                    &path,
                    text.as_bytes(),
                    new.as_bytes(),
                    &mut crate::write::Plain,
                )
            } else {
                std::fs::write(&path, new.as_bytes()).map_err(|e| e.to_string())
            };
            match written {
                Ok(()) => {
                    eprintln!("{}: ignoring {what}", path.display());
                    0
                }
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    2
                }
            }
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            2
        }
    }
}

fn rules(format: ListFormat) -> i32 {
    let all = meta::all();
    let mut out = io::stdout().lock();
    // A closed pipe (`pipefix rules | head`) ends the listing quietly.
    let _ = match format {
        ListFormat::Text => all.iter().try_for_each(|m| {
            writeln!(
                out,
                "{:<7} {:<7} {:<8} {:<34} {}",
                m.id,
                m.selection(),
                m.safety.to_string(),
                m.kinds.join(","),
                m.title
            )
        }),
        ListFormat::Markdown => out.write_all(meta::markdown_table().as_bytes()),
        ListFormat::Json => {
            let v: Vec<serde_json::Value> = all
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id, "name": m.name, "title": m.title,
                        "kinds": m.kinds, "safety": m.safety, "default": m.default,
                        "summary": m.summary,
                    })
                })
                .collect();
            write_json(&serde_json::Value::Array(v), &mut out)
        }
    };
    0
}

fn explain(id: &str) -> i32 {
    let Some(m) = meta::get(&id.to_ascii_uppercase()) else {
        eprintln!("error: no fix {id:?} (see `pipefix rules`)");
        return 2;
    };
    println!("{} {}: {}\n", m.id, m.name, m.title);
    println!(
        "Safety: {}   Default: {}   Reads: {}\n",
        m.safety,
        if m.default {
            "on".to_string()
        } else {
            format!(
                "opt-in (`--extend-select {}` or `extend-select = [\"{}\"]`)",
                m.id, m.id
            )
        },
        m.kinds.join(", ")
    );
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
    for ex in &crate::meta::examples(&m.id) {
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
