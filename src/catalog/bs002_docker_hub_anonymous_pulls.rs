//! BS002: Docker Official Images come from the ECR Public mirror, not anonymous Docker Hub.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Kind;

use super::buildspec::{LineEdit, Tok, TokKind, commands, edit_lines, rewrite, tokenize};
use super::support::docs_of;
use super::{Context, Finding, Safety};

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

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            for cmd in commands(bs, root) {
                let mut official = Vec::new();
                let mut namespaced = Vec::new();
                for line in cmd.lines() {
                    let Some(toks) = tokenize(line) else {
                        continue;
                    };
                    for t in image_words(&toks) {
                        match classify(&t.unquoted()) {
                            Some(Image::Official(_)) => official.push(t.unquoted()),
                            Some(Image::Namespaced(n)) => namespaced.push(n),
                            None => {}
                        }
                    }
                }
                if !official.is_empty() {
                    let new = edit_lines(cmd.text, |line| {
                        let Some(toks) = tokenize(line) else {
                            return LineEdit::Keep;
                        };
                        let mut s = String::new();
                        let mut last = 0;
                        for t in image_words(&toks) {
                            if let Some(Image::Official(m)) = classify(&t.unquoted()) {
                                s.push_str(&line[last..t.start]);
                                s.push_str(&m);
                                last = t.end;
                            }
                        }
                        if last == 0 {
                            return LineEdit::Keep;
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
                            official.join(", ")
                        ),
                    );
                    if let Some(new) = new {
                        f = f.with_fix(
                            format!("pull official images from {MIRROR}"),
                            Safety::Safe,
                            vec![rewrite(&cmd, new)],
                        );
                    }
                    out.push(f);
                }
                if !namespaced.is_empty() {
                    out.push(
                        Finding::at(
                            cx.id(),
                            file,
                            cmd.list.clone(),
                            format!(
                                "{} pulls {} from Docker Hub; it is not a Docker Official Image, so it has no ECR Public mirror",
                                cmd.phase,
                                namespaced.join(", ")
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
}
