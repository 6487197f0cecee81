//! The files of one unit (a service's pipeline files that belong together) and the facts they
//! establish together: which deploy path the pipeline uses, the registry, region and account,
//! the container names and the image digests seen in build logs. Facts are worked out once per
//! pass here, never re-derived inside each fix.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::config::Config;
use crate::document::{Document, Path};
use crate::model::Kind;

// One per file and short-lived: boxing the document would only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Body {
    /// A JSON/YAML document and the path of the object fixes work on (inside CLI wrappers).
    Doc {
        doc: Document,
        root: Path,
    },
    Log {
        text: String,
    },
}

#[derive(Clone, Debug)]
pub struct File {
    /// The path as shown to the user.
    pub path: PathBuf,
    pub kind: Kind,
    pub body: Body,
}

impl File {
    pub fn doc(&self) -> Option<(&Document, &Path)> {
        match &self.body {
            Body::Doc { doc, root } => Some((doc, root)),
            Body::Log { .. } => None,
        }
    }

    /// The meaning of the object fixes work on.
    pub fn value(&self) -> Option<&Value> {
        let (doc, root) = self.doc()?;
        doc.value_at(root)
    }

    pub fn log(&self) -> Option<&str> {
        match &self.body {
            Body::Log { text } => Some(text),
            Body::Doc { .. } => None,
        }
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Unit {
    pub files: Vec<File>,
}

impl Unit {
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = (usize, &File)> {
        self.files
            .iter()
            .enumerate()
            .filter(move |(_, f)| f.kind == kind)
    }

    /// The one file of a kind, when there is exactly one (cross-file facts are only trusted
    /// when they cannot be about another service).
    pub fn single(&self, kind: Kind) -> Option<(usize, &File)> {
        let mut it = self.of_kind(kind);
        let first = it.next()?;
        if it.next().is_some() {
            None
        } else {
            Some(first)
        }
    }
}

/// How the pipeline deploys to ECS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeployPath {
    /// `CodeDeployToECS`: blue/green through CodeDeploy, `imageDetail.json`, `<IMAGE1_NAME>`.
    CodeDeploy,
    /// The `ECS` standard (rolling) action: `imagedefinitions.json`, circuit breaker.
    Standard,
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Facts {
    pub deploy_path: DeployPath,
    pub region: Option<String>,
    pub account: Option<String>,
    /// The ECR registry host (`123456789012.dkr.ecr.us-east-1.amazonaws.com`).
    pub registry: Option<String>,
    /// Image repository (without tag) → digest, from `--pin`, configuration and build logs.
    pub digests: BTreeMap<String, String>,
}

impl Facts {
    pub fn gather(unit: &Unit, config: &Config) -> Facts {
        let deploy_path = deploy_path(unit);
        let mut registry = None;
        let mut region = None;
        let mut account = None;
        // Strings in document order, file by file; the walk stops once everything is known.
        let mut visit = |t: &str| {
            if registry.is_none()
                && t.contains(".dkr.ecr.")
                && let Some(c) = REGISTRY_RE.captures(t)
            {
                registry = Some(c[0].to_string());
                account.get_or_insert_with(|| c[1].to_string());
                region.get_or_insert_with(|| c[2].to_string());
            }
            if (region.is_none() || account.is_none())
                && t.contains("arn:aws")
                && let Some(c) = ARN_RE.captures(t)
            {
                region.get_or_insert_with(|| c[1].to_string());
                account.get_or_insert_with(|| c[2].to_string());
            }
            registry.is_none() || region.is_none() || account.is_none()
        };
        for f in &unit.files {
            if let Some(v) = f.value()
                && !visit_strings(v, &mut visit)
            {
                break;
            }
        }
        let mut digests = BTreeMap::new();
        for (_, f) in unit.of_kind(Kind::CodeBuildLog) {
            if let Some(text) = f.log() {
                digests_from_build_log(text, &mut digests);
            }
        }
        for (image, digest) in &config.pins {
            digests.insert(image_repository(image).to_string(), digest.clone());
        }
        Facts {
            deploy_path,
            region,
            account,
            registry,
            digests,
        }
    }
}

fn deploy_path(unit: &Unit) -> DeployPath {
    let mut found = DeployPath::Unknown;
    for (_, f) in unit.of_kind(Kind::CodePipeline) {
        for action in pipeline_actions(f.value()) {
            let provider = action
                .pointer("/actionTypeId/provider")
                .and_then(Value::as_str);
            let category = action
                .pointer("/actionTypeId/category")
                .and_then(Value::as_str);
            if category != Some("Deploy") {
                continue;
            }
            match provider {
                Some("CodeDeployToECS") => return DeployPath::CodeDeploy,
                Some("ECS") => found = DeployPath::Standard,
                _ => {}
            }
        }
    }
    if found == DeployPath::Unknown {
        // Without a pipeline, the service's deployment controller tells.
        for (_, f) in unit.of_kind(Kind::EcsService) {
            match f
                .value()
                .and_then(|v| v.pointer("/deploymentController/type"))
                .and_then(Value::as_str)
            {
                Some("CODE_DEPLOY") => return DeployPath::CodeDeploy,
                Some("ECS") => found = DeployPath::Standard,
                _ => {}
            }
        }
        if unit.of_kind(Kind::Appspec).next().is_some() {
            return DeployPath::CodeDeploy;
        }
    }
    found
}

/// Every action of a pipeline declaration, stage by stage.
pub fn pipeline_actions(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(|v| v.get("stages"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("actions").and_then(Value::as_array))
        .flatten()
}

static REGISTRY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\b").expect("static regex")
});
static ARN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\barn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}-[a-z]+-[0-9]):([0-9]{12}):")
        .expect("static regex")
});
static DIGEST_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S+: digest: (sha256:[0-9a-f]{64}) size: [0-9]+").expect("static regex")
});
static PUSH_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"docker push (\S+)").expect("static regex"));

/// Calls `f` on every string of `v` in document order while it returns true; false when it
/// stopped early.
fn visit_strings(v: &Value, f: &mut impl FnMut(&str) -> bool) -> bool {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().all(|x| visit_strings(x, f)),
        Value::Object(m) => m.values().all(|x| visit_strings(x, f)),
        _ => true,
    }
}

/// `repo:tag@sha256:…` → `repo`; `registry:5000/repo:tag` → `registry:5000/repo`.
pub fn image_repository(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

/// Digests of images pushed during a build: `docker push REPO:TAG` followed by
/// `TAG: digest: sha256:… size: N`.
fn digests_from_build_log(text: &str, out: &mut BTreeMap<String, String>) {
    let (digest_re, push_re) = (&*DIGEST_RE, &*PUSH_RE);
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let body = strip_log_prefix(line);
        if let Some(c) = push_re.captures(body) {
            let image = c[1].trim_matches(|ch| ch == '"' || ch == '\'');
            if !image.contains('$') {
                pending = Some(image_repository(image).to_string());
            }
            continue;
        }
        if let Some(c) = digest_re.captures(body)
            && let Some(repo) = pending.take()
        {
            out.insert(repo, c[1].to_string());
        }
    }
}

/// Drops the `[Container] 2024/05/14 10:21:33.123456 ` framing of CodeBuild logs.
pub fn strip_log_prefix(line: &str) -> &str {
    let l = line.trim_start();
    if let Some(rest) = l.strip_prefix("[Container] ") {
        // date and time
        let mut parts = rest.splitn(3, ' ');
        let (_, _, body) = (parts.next(), parts.next(), parts.next());
        return body.unwrap_or("");
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_digests() {
        assert_eq!(image_repository("nginx:1.25@sha256:abc"), "nginx");
        assert_eq!(image_repository("host:5000/app"), "host:5000/app");
        assert_eq!(image_repository("host:5000/app:v1"), "host:5000/app");
        let log = format!(
            "[Container] 2024/05/14 10:21:33.1 Running command docker push 1.dkr/app:latest\n\
             The push refers to repository [1.dkr/app]\n\
             latest: digest: sha256:{} size: 2417\n",
            "a".repeat(64)
        );
        let mut d = BTreeMap::new();
        digests_from_build_log(&log, &mut d);
        assert_eq!(
            d.get("1.dkr/app").map(String::as_str),
            Some(format!("sha256:{}", "a".repeat(64)).as_str())
        );
    }
}
