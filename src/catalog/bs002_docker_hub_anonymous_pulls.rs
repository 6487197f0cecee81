//! BS002: Docker Official Images come from the ECR Public mirror, not anonymous Docker Hub.

use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;

use crate::model::Kind;

use super::buildspec::{LineEdit, Tok, TokKind, commands, edit_lines, rewrite, tokenize};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

pub const MIRROR: &str = "public.ecr.aws/docker/library/";

static NAME: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").ok());
static TAG: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").ok());

/// Long options of `docker run/create/pull` that take no value.
const FLAGS: [&str; 17] = [
    "--rm",
    "--privileged",
    "--init",
    "--detach",
    "--interactive",
    "--tty",
    "--read-only",
    "--publish-all",
    "--no-healthcheck",
    "--oom-kill-disable",
    "--quiet",
    "--all-tags",
    "--disable-content-trust",
    "--sig-proxy",
    "--help",
    "--use-api-socket",
    "--pull-always",
];

/// Short options that take a value (`-e X`).
const SHORT_VALUE: &str = "evpwulhmacU";

#[derive(Debug, PartialEq, Eq)]
enum Image {
    /// A Docker Official Image: its mirror reference.
    Official(String),
    /// A Docker Hub image with a user namespace.
    Namespaced(String),
}

/// How a Docker image reference is served.
fn classify(reference: &str) -> Option<Image> {
    if reference.contains('$') || reference.is_empty() {
        return None;
    }
    let (name_tag, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    let (repo, tag) = match name_tag.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, Some(t)),
        _ => (name_tag, None),
    };
    if let Some(t) = tag
        && !TAG.as_ref().is_some_and(|r| r.is_match(t))
    {
        return None;
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    if parts.len() > 1
        && matches!(
            parts[0],
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        )
    {
        parts.remove(0);
    } else if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        return None;
    }
    if !parts
        .iter()
        .all(|p| NAME.as_ref().is_some_and(|r| r.is_match(p)))
    {
        return None;
    }
    match parts.as_slice() {
        [name] | ["library", name] => {
            let mut out = format!("{MIRROR}{name}");
            if let Some(t) = tag {
                out.push(':');
                out.push_str(t);
            }
            if let Some(d) = digest {
                out.push('@');
                out.push_str(d);
            }
            Some(Image::Official(out))
        }
        _ => Some(Image::Namespaced(reference.to_string())),
    }
}

/// The image word of each `docker pull/run/create` in a line.
fn image_words<'t, 'l>(toks: &'t [Tok<'l>]) -> Vec<&'t Tok<'l>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < toks.len() {
        let is_docker = toks[i].raw == "docker"
            && (i == 0 || toks[i - 1].kind == TokKind::Sep || toks[i - 1].raw == "sudo");
        let sub = toks[i + 1].raw;
        if !is_docker || !matches!(sub, "pull" | "run" | "create") {
            i += 1;
            continue;
        }
        let mut j = i + 2;
        while j < toks.len() && toks[j].kind == TokKind::Word {
            let w = toks[j].raw;
            if w == "--" {
                j += 1;
                break;
            }
            if let Some(long) = w.strip_prefix("--") {
                let takes_value = !long.contains('=') && !FLAGS.contains(&w);
                j += if takes_value { 2 } else { 1 };
                continue;
            }
            if w.len() > 1 && w.starts_with('-') {
                let takes_value = w.len() == 2 && w[1..].chars().all(|c| SHORT_VALUE.contains(c))
                    || w.ends_with(|c| SHORT_VALUE.contains(c));
                j += if takes_value { 2 } else { 1 };
                continue;
            }
            break;
        }
        if let Some(t) = toks.get(j).filter(|t| t.kind == TokKind::Word) {
            out.push(t);
        }
        i = j + 1;
    }
    out
}

/// Options of `docker build` that take no value.
const BUILD_FLAGS: [&str; 11] = [
    "--no-cache",
    "--pull",
    "--rm",
    "--force-rm",
    "--quiet",
    "-q",
    "--push",
    "--load",
    "--squash",
    "--compress",
    "--help",
];

/// One `docker build` (or `docker buildx build`) of a line: its `--build-arg NAME=VALUE` words
/// (name, value token), its `-f` file and its context, as written.
struct Build<'t, 'l> {
    args: Vec<(String, &'t Tok<'l>)>,
    file: Option<String>,
    context: Option<String>,
}

fn builds<'t, 'l>(toks: &'t [Tok<'l>]) -> Vec<Build<'t, 'l>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let starts = toks[i].raw == "docker"
            && (i == 0 || toks[i - 1].kind == TokKind::Sep || toks[i - 1].raw == "sudo");
        let skip = match (
            toks.get(i + 1).map(|t| t.raw),
            toks.get(i + 2).map(|t| t.raw),
        ) {
            (Some("build"), _) => 2,
            (Some("buildx"), Some("build")) => 3,
            _ => 0,
        };
        if !starts || skip == 0 {
            i += 1;
            continue;
        }
        let mut b = Build {
            args: Vec::new(),
            file: None,
            context: None,
        };
        let mut j = i + skip;
        while j < toks.len() && toks[j].kind == TokKind::Word {
            let w = toks[j].raw;
            let (opt, inline) = match w.split_once('=') {
                Some((o, v)) if o.starts_with('-') => (o, Some(v)),
                _ => (w, None),
            };
            if !opt.starts_with('-') || opt == "-" {
                b.context = Some(toks[j].unquoted());
                j += 1;
                continue;
            }
            if BUILD_FLAGS.contains(&opt) {
                j += 1;
                continue;
            }
            let value_tok = if inline.is_some() {
                None
            } else {
                toks.get(j + 1).filter(|t| t.kind == TokKind::Word)
            };
            if opt == "--build-arg" {
                match (inline, value_tok) {
                    (Some(v), _) => {
                        // `--build-arg=NAME=VALUE`: the whole word is the token.
                        if let Some((name, _)) = v.split_once('=') {
                            b.args.push((name.to_string(), &toks[j]));
                        }
                    }
                    (None, Some(t)) => {
                        if let Some((name, _)) = t.unquoted().split_once('=') {
                            b.args.push((name.to_string(), t));
                        }
                    }
                    _ => {}
                }
            } else if opt == "-f" || opt == "--file" {
                b.file = inline
                    .map(|v| v.trim_matches(['"', '\'']).to_string())
                    .or_else(|| value_tok.map(|t| t.unquoted()));
            }
            j += if inline.is_some() { 1 } else { 2 };
        }
        out.push(b);
        i = j;
    }
    out
}

/// The value of a `--build-arg` token (`NAME=VALUE`, or `--build-arg=NAME=VALUE`) and where it
/// starts in the line.
fn arg_value(t: &Tok<'_>) -> Option<(String, usize)> {
    let strip_quotes = |w: &str| -> (usize, usize) {
        match w.chars().next() {
            Some(q @ ('"' | '\'')) if w.len() >= 2 && w.ends_with(q) => (1, w.len() - 1),
            _ => (0, w.len()),
        }
    };
    let raw = t.raw.strip_prefix("--build-arg=").unwrap_or(t.raw);
    let mut offset = t.raw.len() - raw.len();
    // `"NAME=VALUE"` quoted as a whole.
    let (a, b) = strip_quotes(raw);
    let word = &raw[a..b];
    offset += a;
    let eq = word.find('=')?;
    let value = &word[eq + 1..];
    // `NAME="VALUE"`.
    let (c, d) = strip_quotes(value);
    let inner = &value[c..d];
    if inner.contains(['"', '\'']) {
        return None;
    }
    Some((inner.to_string(), t.start + offset + eq + 1 + c))
}

/// A build-arg value that reads as an image: a tag or digest is required (`node:18`,
/// `python:3.11-slim`), so that `NODE_ENV=production` or `VERSION=1.2` are not taken for images.
fn arg_image(value: &str) -> Option<Image> {
    let last = value.rsplit('/').next().unwrap_or(value);
    let tagged = last.contains(':') || value.contains('@');
    let starts_alpha = value.starts_with(|c: char| c.is_ascii_lowercase());
    if !tagged || !starts_alpha {
        return None;
    }
    classify(value)
}

/// Whether the Dockerfile a build reads uses the build argument `name` as the whole image of a
/// `FROM` line (`FROM ${NAME}`, `FROM $NAME AS base`): only then is its value an image pull.
fn dockerfile_uses_in_from(roots: &[PathBuf], build: &Build<'_, '_>, name: &str) -> bool {
    let file = match (&build.file, &build.context) {
        (Some(f), _) => f.clone(),
        (None, Some(c)) => format!("{}/Dockerfile", c.trim_end_matches('/')),
        (None, None) => return false,
    };
    if file.contains('$') || file == "-" {
        return false;
    }
    let pattern = format!(
        r"(?im)^\s*FROM\s+(?:--\S+\s+)*(?:\$\{{{n}\}}|\${n})(?:\s+AS\s+\S+)?\s*$",
        n = regex::escape(name)
    );
    let Some(re) = super::support::cached_regex(&pattern) else {
        return false;
    };
    roots.iter().any(|r| {
        let p = r.join(file.trim_start_matches("./"));
        let small = std::fs::metadata(&p).is_ok_and(|m| m.is_file() && m.len() < 1 << 20);
        small && std::fs::read_to_string(&p).is_ok_and(|text| re.is_match(&text))
    })
}

/// `<<EOF`, `<<-'EOF'`, `<< "EOF"`: the heredoc's terminator.
fn heredoc_start(line: &str) -> Option<String> {
    let i = line.find("<<")?;
    let rest = line[i + 2..].trim_start_matches('-').trim_start();
    if rest.starts_with('<') {
        return None;
    }
    let word: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// The image of a Dockerfile `FROM` line and where it starts.
fn from_image(line: &str) -> Option<(&str, usize)> {
    // Words with their offsets.
    let mut words = Vec::new();
    let mut pos = 0;
    for w in line.split_whitespace() {
        let at = pos + line[pos..].find(w)?;
        words.push((w, at));
        pos = at + w.len();
    }
    let mut it = words.into_iter();
    if !it.next()?.0.eq_ignore_ascii_case("FROM") {
        return None;
    }
    it.find(|(w, _)| !w.starts_with("--"))
}

/// What one command pulls from Docker Hub, and the rewrites of its lines (by the index of the
/// line among the command's non-empty lines).
#[derive(Default)]
struct Scan {
    official: Vec<String>,
    namespaced: Vec<String>,
    /// Build arguments that look like official images, used by a Dockerfile this unit does not
    /// show as `FROM ${NAME}`.
    unproven_args: Vec<String>,
    edits: Vec<Vec<(usize, usize, String)>>,
}

fn scan(text_lines: &[&str], roots: &[PathBuf]) -> Scan {
    let mut out = Scan::default();
    // Inside a heredoc: its terminator, and whether it writes a Dockerfile.
    let mut heredoc: Option<(String, bool)> = None;
    for line in text_lines {
        let mut edits = Vec::new();
        if let Some((end, dockerfile)) = &heredoc {
            if line.trim() == end {
                heredoc = None;
            } else if *dockerfile && let Some((image, at)) = from_image(line) {
                match classify(image) {
                    Some(Image::Official(m)) => {
                        out.official.push(image.to_string());
                        edits.push((at, at + image.len(), m));
                    }
                    Some(Image::Namespaced(n)) => out.namespaced.push(n),
                    None => {}
                }
            }
            out.edits.push(edits);
            continue;
        }
        let Some(toks) = tokenize(line) else {
            out.edits.push(edits);
            continue;
        };
        for t in image_words(&toks) {
            match classify(&t.unquoted()) {
                Some(Image::Official(m)) => {
                    out.official.push(t.unquoted());
                    edits.push((t.start, t.end, m));
                }
                Some(Image::Namespaced(n)) => out.namespaced.push(n),
                None => {}
            }
        }
        for b in builds(&toks) {
            for (name, t) in &b.args {
                let Some((value, at)) = arg_value(t) else {
                    continue;
                };
                match arg_image(&value) {
                    Some(Image::Official(m)) => {
                        if dockerfile_uses_in_from(roots, &b, name) {
                            out.official.push(format!("{name}={value}"));
                            edits.push((at, at + value.len(), m));
                        } else {
                            out.unproven_args.push(format!("{name}={value}"));
                        }
                    }
                    // Without a registry host a namespaced value may still not be an image at
                    // all: judged only when the Dockerfile pulls it.
                    Some(Image::Namespaced(n)) if dockerfile_uses_in_from(roots, &b, name) => {
                        out.namespaced.push(format!("{name}={n}"))
                    }
                    _ => {}
                }
            }
        }
        if let Some(end) = heredoc_start(line) {
            let lower = line.to_ascii_lowercase();
            heredoc = Some((
                end,
                lower.contains("dockerfile") || lower.contains("docker build"),
            ));
        }
        out.edits.push(edits);
    }
    out
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let bs_path = &cx.unit.files[file].path;
            let bs_dir = bs_path
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            let roots = vec![bs_dir, crate::discover::unit_key(bs_path)];
            for cmd in commands(bs, root) {
                let lines: Vec<&str> = cmd.lines().collect();
                let found = scan(&lines, &roots);
                if !found.official.is_empty() {
                    let mut k = 0;
                    let new = edit_lines(cmd.text, |line| {
                        let edits = found.edits.get(k).cloned().unwrap_or_default();
                        k += 1;
                        if edits.is_empty() {
                            return LineEdit::Keep;
                        }
                        let mut s = String::new();
                        let mut last = 0;
                        for (start, end, m) in edits {
                            if start < last || end > line.len() {
                                return LineEdit::Keep;
                            }
                            s.push_str(&line[last..start]);
                            s.push_str(&m);
                            last = end;
                        }
                        s.push_str(&line[last..]);
                        LineEdit::Replace(s)
                    });
                    let mut f = Finding::at(
                        cx.id(),
                        file,
                        cmd.path(),
                        format!(
                            "{} pulls {} anonymously from Docker Hub, which rate-limits shared CodeBuild addresses (`toomanyrequests`)",
                            cmd.phase,
                            found.official.join(", ")
                        ),
                    );
                    if let Some(new) = new {
                        f = f.with_fix(
                            format!("pull official images from {MIRROR}"),
                            vec![rewrite(&cmd, new)],
                        );
                    }
                    out.push(f);
                }
                if !found.unproven_args.is_empty() {
                    out.push(
                        Finding::at(
                            cx.id(),
                            file,
                            cmd.path(),
                            format!(
                                "{} passes {} to docker build: if the Dockerfile pulls it (`FROM ${{…}}`), it comes anonymously from Docker Hub, which rate-limits shared CodeBuild addresses",
                                cmd.phase,
                                found.unproven_args.join(", ")
                            ),
                        )
                        .follow_up(format!(
                            "If the Dockerfile uses the argument as its FROM image, pass the ECR Public mirror instead ({MIRROR}<name>:<tag>)"
                        )),
                    );
                }
                if !found.namespaced.is_empty() {
                    out.push(
                        Finding::at(
                            cx.id(),
                            file,
                            (*cmd.list).clone(),
                            format!(
                                "{} pulls {} from Docker Hub; it is not a Docker Official Image, so it has no ECR Public mirror",
                                cmd.phase,
                                found.namespaced.join(", ")
                            ),
                        )
                        .follow_up(
                            "Mirror the image into ECR (an ECR pull-through cache rule for Docker Hub), or log in to Docker Hub first with credentials from Secrets Manager (`echo \"$DOCKERHUB_TOKEN\" | docker login -u \"$DOCKERHUB_USER\" --password-stdin`)",
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(line: &str) -> Vec<String> {
        let toks = tokenize(line).unwrap_or_default();
        image_words(&toks)
            .iter()
            .map(|t| t.raw.to_string())
            .collect()
    }

    #[test]
    fn image_words_skip_options() {
        assert_eq!(
            images("docker run -d --name node -p 5432:5432 -e A=$B postgres:15"),
            ["postgres:15"]
        );
        assert_eq!(
            images(
                "docker run --rm -it --network host -v \"$PWD\":/app node:18-alpine sh -c \"npm ci\""
            ),
            ["node:18-alpine"]
        );
        assert_eq!(
            images("docker pull --platform linux/amd64 redis"),
            ["redis"]
        );
        assert_eq!(images("docker build -t node:18 ."), Vec::<String>::new());
    }

    #[test]
    fn official_images_only() {
        assert_eq!(
            classify("node:18-alpine"),
            Some(Image::Official(format!("{MIRROR}node:18-alpine")))
        );
        assert_eq!(
            classify("docker.io/library/postgres:15"),
            Some(Image::Official(format!("{MIRROR}postgres:15")))
        );
        assert_eq!(
            classify("hadolint/hadolint"),
            Some(Image::Namespaced("hadolint/hadolint".into()))
        );
        assert_eq!(classify("public.ecr.aws/docker/library/node:18"), None);
        assert_eq!(
            classify("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"),
            None
        );
        assert_eq!(classify("$IMAGE"), None);
        assert_eq!(classify("localhost:5000/app"), None);
    }

    #[test]
    fn arguments_and_heredocs() {
        let toks = tokenize("docker buildx build --build-arg=A=node:18 --build-arg \"B=x\" -f d/Dockerfile --push ctx").unwrap_or_default();
        let b = builds(&toks);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].file.as_deref(), Some("d/Dockerfile"));
        assert_eq!(b[0].context.as_deref(), Some("ctx"));
        let values: Vec<_> = b[0]
            .args
            .iter()
            .filter_map(|(_, t)| arg_value(t))
            .map(|(v, _)| v)
            .collect();
        assert_eq!(values, ["node:18", "x"]);
        assert!(arg_image("production").is_none());
        assert!(arg_image("1.2:3").is_none());
        assert_eq!(
            arg_image("python:3.11-slim"),
            Some(Image::Official(format!("{MIRROR}python:3.11-slim")))
        );
        assert_eq!(
            heredoc_start("cat <<-'EOF' > Dockerfile").as_deref(),
            Some("EOF")
        );
        assert_eq!(heredoc_start("cat << \"END\""), Some("END".into()));
        assert_eq!(
            from_image("FROM --platform=linux/amd64 node:18 AS b"),
            Some(("node:18", 28))
        );
        let lines = [
            "cat <<EOF > Dockerfile",
            "FROM golang:1.22",
            "EOF",
            "echo FROM redis:7",
        ];
        let s = scan(&lines, &[]);
        assert_eq!(s.official, ["golang:1.22"]);
    }
}
