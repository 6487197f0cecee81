//! TD002: container images are pinned by digest, so every deployment and rollback of a
//! revision runs the same image. Digests come from `--pin`, pipefix.toml, the build log, or
//! (with `--resolve-digests`) the image's registry.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::registry::{ImageRef, Outcome, is_content_addressed_tag};
use crate::workspace::{DeployPath, Facts, image_repository};

use super::support::placeholder_name;
use super::{Context, Finding};

pub struct Rule;

static ECR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^\d{12}\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(.+)$").ok()
});

/// Characters an image reference may hold; anything else is not quoted into a command.
fn is_plain_reference(image: &str) -> bool {
    !image.is_empty()
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@".contains(c))
}

/// Whether an image value is a stand-in that a deploy tool replaces (the task definition is
/// rendered by a workflow such as `amazon-ecs-render-task-definition`): an untagged name that
/// says so (`filled-in-by-gh-action`, `IMAGE_PLACEHOLDER`, `replace-me`). Pinning it would pin
/// nothing real, and asking a registry about it would ask Docker Hub for a name nobody pushed.
fn is_stand_in(image: &str) -> bool {
    const WORDS: [&str; 10] = [
        "placeholder",
        "filled-in",
        "fill-in",
        "filled-by",
        "replace-me",
        "replaceme",
        "to-be-replaced",
        "changeme",
        "gh-action",
        "github-action",
    ];
    let lower = image.to_ascii_lowercase().replace('_', "-");
    tag_of(image).is_none() && WORDS.iter().any(|w| lower.contains(w))
}

/// The tag of an image reference, if it has one.
fn tag_of(image: &str) -> Option<&str> {
    let repo = image_repository(image);
    let rest = image.split('@').next().unwrap_or(image);
    rest.get(repo.len()..)
        .and_then(|t| t.strip_prefix(':'))
        .filter(|t| !t.is_empty())
}

/// Whether an image comes from Docker Hub (no registry host in its first component).
pub fn is_docker_hub(image: &str) -> bool {
    let first = image.split('/').next().unwrap_or("");
    let has_host =
        image.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    !has_host
        || first == "docker.io"
        || first == "index.docker.io"
        || first == "registry-1.docker.io"
}

/// `docker.io/library/nginx` and `nginx` name the same repository.
fn normalise(repo: &str) -> String {
    let r = repo
        .strip_prefix("docker.io/")
        .or_else(|| repo.strip_prefix("index.docker.io/"))
        .unwrap_or(repo);
    r.strip_prefix("library/").unwrap_or(r).to_string()
}

fn digest_for<'a>(facts: &'a Facts, repo: &str) -> Option<&'a str> {
    facts.digests.get(repo).map(String::as_str).or_else(|| {
        let want = normalise(repo);
        facts
            .digests
            .iter()
            .find(|(r, _)| normalise(r) == want)
            .map(|(_, d)| d.as_str())
    })
}

/// How to find the digest of an image that is not pinned.
fn lookup_command(image: &str, tag: &str) -> String {
    if !is_plain_reference(image) {
        return "Look up the image's digest in its registry and pin it with `pipefix --pin IMAGE=sha256:…`".to_string();
    }
    let repo = image_repository(image);
    if let Some(c) = ECR.as_ref().and_then(|re| re.captures(repo)) {
        return format!(
            "Find the digest with `aws ecr describe-images --region {} --repository-name {} --image-ids imageTag={tag} --query 'imageDetails[0].imageDigest' --output text`, then run pipefix with `--pin {image}=<digest>`",
            &c[1], &c[2]
        );
    }
    format!(
        "Find the digest with `docker buildx imagetools inspect {image}` (the `Digest:` line), then run pipefix with `--pin {image}=<digest>`"
    )
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "TD002"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut wants: Vec<Want> = Vec::new();
        for (file, td) in cx.unit.task_definitions() {
            let Some(containers) = td.container_list() else {
                continue;
            };
            // On the CodeDeploy path the pipeline writes the deployed container's image.
            let deployed = (cx.facts().deploy_path == DeployPath::CodeDeploy)
                .then(|| cx.facts().image_container(td.0.value))
                .flatten()
                .map(|c| c.index);
            for c in containers {
                let Some(image) = c.image() else {
                    continue;
                };
                if Some(c.index) == deployed
                    || image.is_empty()
                    || image.contains("@sha256:")
                    || placeholder_name(image).is_some()
                    || image.contains(['$', '{', '<', ' '])
                    || is_stand_in(image)
                {
                    continue;
                }
                let repo = image_repository(image);
                if cx.facts().deploy_path == DeployPath::CodeDeploy
                    && cx.facts().built_repositories.contains(repo)
                {
                    continue;
                }
                // A tag that names content (a CDK asset hash, a digest as a tag) is never
                // moved: pinning adds nothing.
                if tag_of(image).is_some_and(is_content_addressed_tag) {
                    continue;
                }
                wants.push(Want {
                    file,
                    path: c.at.path("image"),
                    name: c.name().unwrap_or("?").to_string(),
                    image: image.to_string(),
                });
            }
        }
        if wants.is_empty() {
            return;
        }
        // Digests the run already knows (`--pin`, pipefix.toml, the build log) come first;
        // the registry is asked only for the others, all at once, a few in parallel.
        let known: Vec<Option<String>> = wants
            .iter()
            .map(|w| {
                digest_for(cx.facts(), image_repository(&w.image))
                    .filter(|d| crate::registry::is_digest(d))
                    .map(str::to_string)
            })
            .collect();
        let mut resolved: Vec<Option<Outcome>> = vec![None; wants.len()];
        if let Some(resolver) = &cx.config.resolver {
            let mut asked = Vec::new();
            let mut refs = Vec::new();
            for (i, w) in wants.iter().enumerate() {
                if known[i].is_some() {
                    continue;
                }
                match ImageRef::parse(&w.image) {
                    Some(r) => {
                        asked.push(i);
                        refs.push(r);
                    }
                    None => {
                        resolved[i] = Some(Err(
                            "not an image reference a registry can be asked about".to_string(),
                        ))
                    }
                }
            }
            for (i, outcome) in asked.into_iter().zip(resolver.resolve_many(&refs)) {
                resolved[i] = Some(outcome);
            }
        }
        for ((w, known), resolved) in wants.into_iter().zip(known).zip(resolved) {
            let tag = tag_of(&w.image);
            let (name, image) = (&w.name, &w.image);
            let mut message = match tag {
                Some(t) => format!(
                    "container \"{name}\" image \"{image}\" is not pinned by digest: ECS resolves the tag \"{t}\" to one digest per deployment, but the next deployment, a rollback to this revision or a task started outside the service (run-task, a schedule) gets whatever \"{t}\" points to then; a digest runs the same image in every deployment and rollback"
                ),
                None => format!(
                    "container \"{name}\" image \"{image}\" has no tag and no digest: it means \"latest\", whatever that points to when a deployment starts; a digest runs the same image in every deployment and rollback"
                ),
            };
            if is_docker_hub(image) {
                message.push_str(
                    "; it comes from Docker Hub, whose anonymous pulls are rate limited (toomanyrequests) — prefer ECR Public or an ECR pull-through cache",
                );
            }
            let (digest, source) = match (known, resolved) {
                (Some(d), _) => (Some(d), "given by --pin, pipefix.toml or the build log"),
                (None, Some(Ok(d))) => (Some(d), "reported by its registry"),
                (None, Some(Err(why))) => {
                    message.push_str(&format!("; could not resolve: {why}"));
                    (None, "")
                }
                (None, None) => (None, ""),
            };
            let finding = Finding::at(cx.id(), w.file, w.path.clone(), message);
            let finding = match digest {
                Some(d) => {
                    let pinned = format!("{}@{d}", image_repository(image));
                    let shown_tag = tag.unwrap_or("latest");
                    let mut ops = vec![crate::document::Op::Replace {
                        path: w.path.clone(),
                        value: Value::from(pinned.clone()),
                    }];
                    // YAML keeps the tag readable in a comment; JSON has none, so there the
                    // diff and the fix's title name it.
                    if cx.unit.files[w.file]
                        .doc()
                        .is_some_and(|(doc, _)| doc.format() == crate::document::Format::Yaml)
                    {
                        ops.push(crate::document::Op::Comment {
                            path: w.path,
                            text: format!("tag: {shown_tag}"),
                        });
                    }
                    finding.with_fix(
                        format!(
                            "pin \"{name}\" to {pinned} (the digest of tag \"{shown_tag}\", {source})"
                        ),
                        ops,
                    )
                }
                None if cx.config.resolver.is_none() => finding.follow_up(format!(
                    "{} (or let pipefix ask the registry: `--resolve-digests`)",
                    lookup_command(image, tag.unwrap_or("latest"))
                )),
                None => finding.follow_up(lookup_command(image, tag.unwrap_or("latest"))),
            };
            out.push(finding);
        }
    }
}

/// A container image TD002 wants pinned.
struct Want {
    file: usize,
    path: crate::document::Path,
    name: String,
    image: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_registries_and_commands() {
        assert_eq!(tag_of("datadog/agent:latest"), Some("latest"));
        assert_eq!(tag_of("host:5000/app"), None);
        assert_eq!(tag_of("nginx"), None);
        assert!(is_docker_hub("datadog/agent:latest"));
        assert!(is_docker_hub("nginx"));
        assert!(is_docker_hub("docker.io/library/nginx:1.25"));
        assert!(!is_docker_hub("public.ecr.aws/datadog/agent:7"));
        assert!(!is_docker_hub("localhost:5000/app"));
        assert_eq!(normalise("docker.io/library/nginx"), "nginx");
        let ecr = lookup_command(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1",
            "v1",
        );
        assert!(
            ecr.contains("--region us-east-1 --repository-name team/api --image-ids imageTag=v1")
        );
        assert!(
            lookup_command("nginx", "latest").contains("docker buildx imagetools inspect nginx")
        );
        assert!(lookup_command("nginx;rm -rf", "latest").contains("pipefix --pin"));
        assert!(is_stand_in("filled-in-by-gh-action"));
        assert!(is_stand_in("IMAGE_PLACEHOLDER"));
        assert!(!is_stand_in("nginx"));
        assert!(!is_stand_in("team/placeholder-service:1.2"));
    }
}
