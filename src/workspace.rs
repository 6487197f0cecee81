//! The files of one unit (a service's pipeline files that belong together) and the facts they
//! establish together: which deploy path the pipeline uses, the region and account,
//! the container names and the image digests seen in build logs. Facts are worked out once per
//! pass here, never re-derived inside each fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::aws;
use crate::config::Config;
use crate::document::{Document, Path};
use crate::front::Front;
use crate::model::Kind;

// One per file and short-lived: boxing the document would only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Body {
    /// A JSON/YAML document and the path of the object fixes work on (inside CLI wrappers,
    /// or a template resource's `Properties`).
    Doc {
        doc: Document,
        root: Path,
        /// What the rules read when the object is not written in the API's shape (a
        /// template resource): see [`Front::view`].
        view: Option<Value>,
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
    /// How the object is written (API shape, template resource, buildspec in a template).
    pub front: Front,
}

impl File {
    /// A file holding one object of a JSON/YAML document.
    pub fn document(path: PathBuf, kind: Kind, doc: Document, root: Path, front: Front) -> File {
        let view = front.view(&doc, &root);
        File {
            path,
            kind,
            body: Body::Doc { doc, root, view },
            front,
        }
    }

    pub fn of_log(path: PathBuf, kind: Kind, text: String) -> File {
        File {
            path,
            kind,
            body: Body::Log { text },
            front: Front::Api,
        }
    }

    pub fn doc(&self) -> Option<(&Document, &Path)> {
        match &self.body {
            Body::Doc { doc, root, .. } => Some((doc, root)),
            Body::Log { .. } => None,
        }
    }

    /// Replace the document (after an edit); returns the body it had.
    pub fn set_doc(&mut self, doc: Document) -> Body {
        let root = match &self.body {
            Body::Doc { root, .. } => root.clone(),
            Body::Log { .. } => Path::root(),
        };
        let view = self.front.view(&doc, &root);
        std::mem::replace(&mut self.body, Body::Doc { doc, root, view })
    }

    /// The meaning of the object fixes work on, in the API's names.
    pub fn value(&self) -> Option<&Value> {
        match &self.body {
            Body::Doc {
                view: Some(view), ..
            } => Some(view),
            Body::Doc { doc, root, .. } => doc.value_at(root),
            Body::Log { .. } => None,
        }
    }

    /// The whole text of the file on disk (for a buildspec inside a template: the template).
    pub fn text(&self) -> &str {
        match &self.body {
            Body::Doc { doc, .. } => self.front.file_text(doc),
            Body::Log { text } => text,
        }
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

    /// The other files of the unit that are objects of the same document as file `i` (the
    /// services of one `describe-services` output): an edit of one is an edit of all.
    pub fn same_document(&self, i: usize) -> Vec<usize> {
        let Some(path) = self.files.get(i).map(|f| &f.path) else {
            return Vec::new();
        };
        (0..self.files.len())
            .filter(|&j| j != i && self.files[j].path == *path)
            .collect()
    }

    /// The one file of a kind, when there is exactly one (cross-file facts are only trusted
    /// when they cannot be about another service).
    pub fn single(&self, kind: Kind) -> Option<(usize, &File)> {
        let mut it = self.of_kind(kind);
        let first = it.next()?;
        // The views of one template resource, one per `Fn::If` branch, are one object.
        let same = |a: &File, b: &File| match (&a.front, &b.front) {
            (Front::Cfn(x), Front::Cfn(y)) => a.path == b.path && x.logical_id == y.logical_id,
            _ => false,
        };
        if it.any(|(_, f)| !same(first.1, f)) {
            None
        } else {
            Some(first)
        }
    }
}

/// The typed views of a unit's objects (see [`crate::aws`]): file index and view.
impl Unit {
    pub fn objects(&self, kind: Kind) -> impl Iterator<Item = (usize, aws::At<'_>)> {
        self.of_kind(kind)
            .filter_map(|(i, f)| Some((i, aws::At::new(f.value()?, f.doc()?.1.clone()))))
    }

    pub fn task_definitions(&self) -> impl Iterator<Item = (usize, aws::TaskDefinition<'_>)> {
        self.objects(Kind::TaskDef)
            .map(|(i, at)| (i, aws::TaskDefinition(at)))
    }

    pub fn services(&self) -> impl Iterator<Item = (usize, aws::Service<'_>)> {
        self.objects(Kind::EcsService)
            .map(|(i, at)| (i, aws::Service(at)))
    }

    pub fn deployment_groups(&self) -> impl Iterator<Item = (usize, aws::DeploymentGroup<'_>)> {
        self.objects(Kind::DeploymentGroup)
            .map(|(i, at)| (i, aws::DeploymentGroup(at)))
    }

    /// Each target group, also each of a describe-target-groups list of several.
    pub fn target_groups(&self) -> impl Iterator<Item = (usize, aws::TargetGroup<'_>)> {
        self.objects(Kind::TargetGroup).flat_map(|(i, at)| {
            crate::model::target_groups(at.value, &at.at)
                .into_iter()
                .map(move |(path, v)| (i, aws::TargetGroup(aws::At::new(v, path))))
        })
    }

    pub fn pipelines(&self) -> impl Iterator<Item = (usize, aws::Pipeline<'_>)> {
        self.objects(Kind::CodePipeline)
            .map(|(i, at)| (i, aws::Pipeline(at)))
    }

    pub fn buildspecs(&self) -> impl Iterator<Item = (usize, aws::Buildspec<'_>)> {
        self.objects(Kind::Buildspec)
            .map(|(i, at)| (i, aws::Buildspec(at)))
    }

    pub fn appspecs(&self) -> impl Iterator<Item = (usize, aws::AppSpec<'_>)> {
        self.objects(Kind::Appspec)
            .map(|(i, at)| (i, aws::AppSpec(at)))
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
    /// Image repository (without tag) → digest, from `--pin`, configuration and build logs.
    pub digests: BTreeMap<String, String>,
    /// Image repositories the build pushes to (build log `docker push` lines, buildspec
    /// `REPOSITORY_URI`-style values that name an ECR repository).
    pub built_repositories: BTreeSet<String>,
    /// Containers that other files name as the one the pipeline deploys, strongest first:
    /// `(container name, what names it)`. Resolve against a task definition with
    /// [`Facts::image_container`].
    pub designated_containers: Vec<(String, &'static str)>,
    /// Repository paths inside an ECR registry (`team/api`, without host and tag) that the
    /// unit's buildspecs push to, also where the registry host is built from variables
    /// (`$AWS_ACCOUNT_ID.dkr.ecr.$AWS_DEFAULT_REGION.amazonaws.com/$IMAGE_REPO_NAME`).
    pub built_repository_paths: BTreeSet<String>,
}

/// A container of a task definition chosen to receive the pipeline's image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageContainer {
    pub index: usize,
    pub name: String,
    /// Why this one: "the pipeline's Image1ContainerName", "the AppSpec load balancer", …
    pub because: &'static str,
}

impl Facts {
    pub fn gather(unit: &Unit, config: &Config) -> Facts {
        let deploy_path = deploy_path(unit);
        // Every string of the unit, file by file in document order: each search below stops
        // at the first string that settles it.
        let values: Vec<&Value> = unit.files.iter().filter_map(|f| f.value()).collect();
        let (registry_re, arn_re, iam_re) = (&*REGISTRY_RE, &*ARN_RE, &*IAM_RE);
        // ARNs name the unit's own resources, so they decide the region and account first; an
        // ECR registry host may be another account's (App Mesh's Envoy, a shared-services
        // account) and only counts when it is the unit's account, or when nothing else tells.
        let mut region = None;
        let mut account = None;
        // Every match of these patterns has its literal word: the strings without it (most of
        // them) are passed over without a search, which allocates its captures.
        let (arn_word, registry_word) = (&*ARN_WORD, &*REGISTRY_WORD);
        let mut arns = |t: &str| {
            if arn_word.find(t.as_bytes()).is_some() {
                if (region.is_none() || account.is_none())
                    && let Some(c) = arn_re.captures(t)
                {
                    region.get_or_insert_with(|| c[1].to_string());
                    account.get_or_insert_with(|| c[2].to_string());
                }
                // Global ARNs (IAM roles) name the account only.
                if account.is_none()
                    && let Some(c) = iam_re.captures(t)
                {
                    account = Some(c[1].to_string());
                }
            }
            region.is_some() && account.is_some()
        };
        for v in &values {
            if any_string(v, &mut arns) {
                break;
            }
        }
        if region.is_none() {
            region = awslogs_region(unit);
        }
        let mut own = None;
        let mut registry = |t: &str| {
            if registry_word.find(t.as_bytes()).is_some()
                && let Some(c) = registry_re.captures(t)
                && account.as_deref().is_none_or(|a| a == &c[1])
            {
                own = Some((c[1].to_string(), c[2].to_string()));
            }
            own.is_some()
        };
        for v in &values {
            if any_string(v, &mut registry) {
                break;
            }
        }
        if let Some((acct, reg)) = &own {
            account.get_or_insert_with(|| acct.clone());
            region.get_or_insert_with(|| reg.clone());
        }
        let mut digests = BTreeMap::new();
        let mut built_repositories = BTreeSet::new();
        for (_, f) in unit.of_kind(Kind::CodeBuildLog) {
            if let Some(text) = f.log() {
                digests_from_build_log(text, &mut digests);
            }
        }
        built_repositories.extend(digests.keys().cloned());
        let ecr_repo_re = &*ECR_REPO_RE;
        for (_, f) in unit.of_kind(Kind::Buildspec) {
            let mut strings = Vec::new();
            if let Some(v) = f.value() {
                collect_strings(v, &mut strings);
            }
            for s in strings {
                // `REPOSITORY_URI=…` in a command, or the value of an env variable.
                let candidate = s.rsplit('=').next().unwrap_or(s).trim().trim_matches('"');
                if registry_word.find(candidate.as_bytes()).is_none() {
                    continue;
                }
                let repo = image_repository(candidate);
                if ecr_repo_re.is_match(repo) {
                    built_repositories.insert(repo.to_string());
                }
            }
        }
        for (image, digest) in &config.pins {
            digests.insert(image_repository(image).to_string(), digest.clone());
        }
        Facts {
            deploy_path,
            region,
            account,
            digests,
            built_repositories,
            designated_containers: designated_containers(unit),
            built_repository_paths: built_repository_paths(unit),
        }
    }

    /// Whether `image` is in a repository the unit's build pushes to.
    pub fn is_built_image(&self, image: &str) -> bool {
        let repo = image_repository(image);
        self.built_repositories.contains(repo)
            || repository_path(repo).is_some_and(|p| self.built_repository_paths.contains(p))
    }

    /// The container of `taskdef` that receives the image the pipeline builds: the one other
    /// files name, else the one whose image is in a repository the build pushes to, else the
    /// only essential container (`essential` defaults to true).
    pub fn image_container(&self, taskdef: &Value) -> Option<ImageContainer> {
        let containers = taskdef.get("containerDefinitions")?.as_array()?;
        let name_of = |c: &Value| c.get("name").and_then(Value::as_str).map(str::to_string);
        for (name, because) in &self.designated_containers {
            if let Some(index) = containers
                .iter()
                .position(|c| name_of(c).as_deref() == Some(name.as_str()))
            {
                return Some(ImageContainer {
                    index,
                    name: name.clone(),
                    because,
                });
            }
        }
        let only = |pred: &dyn Fn(&Value) -> bool| {
            let mut hits = containers.iter().enumerate().filter(|(_, c)| pred(c));
            match (hits.next(), hits.next()) {
                (Some((i, c)), None) => Some((i, name_of(c)?)),
                _ => None,
            }
        };
        let built = |c: &Value| {
            c.get("image")
                .and_then(Value::as_str)
                .is_some_and(|i| self.is_built_image(i))
        };
        if let Some((index, name)) = only(&built) {
            return Some(ImageContainer {
                index,
                name,
                because: "its image is the repository the build pushes to",
            });
        }
        let essential = |c: &Value| c.get("essential").and_then(Value::as_bool) != Some(false);
        only(&essential).map(|(index, name)| ImageContainer {
            index,
            name,
            because: "it is the only essential container",
        })
    }
}

/// The repository path of an ECR image repository (`…amazonaws.com/team/api` → `team/api`);
/// None for other registries.
fn repository_path(repo: &str) -> Option<&str> {
    let (host, path) = repo.split_once('/')?;
    (host.contains(".amazonaws.com") && !path.is_empty()).then_some(path)
}

/// ECR repository paths the unit's buildspecs name (`….amazonaws.com/PATH`), with a
/// `$VAR`/`${VAR}` path resolved from the buildspec's `env.variables` or a `VAR=value`
/// assignment in its commands.
fn built_repository_paths(unit: &Unit) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, f) in unit.of_kind(Kind::Buildspec) {
        let Some(v) = f.value() else {
            continue;
        };
        let mut strings = Vec::new();
        collect_strings(v, &mut strings);
        let env = v.pointer("/env/variables").and_then(Value::as_object);
        let lookup = |name: &str| -> Option<String> {
            if let Some(val) = env.and_then(|m| m.get(name)) {
                return match val {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                };
            }
            strings.iter().find_map(|s| {
                s.lines().find_map(|l| {
                    let l = l.trim().strip_prefix("export ").unwrap_or(l.trim());
                    let rest = l.strip_prefix(name)?.strip_prefix('=')?;
                    Some(
                        rest.trim()
                            .trim_matches(|c| c == '"' || c == '\'')
                            .to_string(),
                    )
                })
            })
        };
        let word = &*AMAZONAWS_WORD;
        for s in strings.iter().filter(|s| word.find(s.as_bytes()).is_some()) {
            for c in ECR_PATH_RE.captures_iter(s) {
                let raw = c[1].trim_end_matches(['.', '/']);
                let path = match raw.strip_prefix('$') {
                    Some(var) => {
                        let var = var.trim_start_matches('{').trim_end_matches('}');
                        match lookup(var) {
                            Some(v) => v,
                            None => continue,
                        }
                    }
                    None => raw.to_string(),
                };
                let path = image_repository(&path).to_string();
                if !path.is_empty() && !path.contains('$') {
                    out.insert(path);
                }
            }
        }
    }
    out
}

/// The region a task definition sends its `awslogs` logs to (the task's own region in
/// practice).
fn awslogs_region(unit: &Unit) -> Option<String> {
    for (_, f) in unit.of_kind(Kind::TaskDef) {
        let containers = f
            .value()
            .and_then(|v| v.get("containerDefinitions"))
            .and_then(Value::as_array);
        for c in containers.into_iter().flatten() {
            if let Some(r) = c
                .pointer("/logConfiguration/options/awslogs-region")
                .and_then(Value::as_str)
                .filter(|r| {
                    !r.is_empty() && r.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                })
            {
                return Some(r.to_string());
            }
        }
    }
    None
}

/// The reason given for a container the pipeline's `Image1ContainerName` names.
pub const BY_PIPELINE: &str = "the pipeline's Image1ContainerName names it";

/// Containers named by the pipeline, the AppSpec and the service, strongest first.
fn designated_containers(unit: &Unit) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut push = |name: Option<&str>, because: &'static str| {
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty())
            && !out.iter().any(|(o, _)| o == n)
        {
            out.push((n.to_string(), because));
        }
    };
    for (_, p) in unit.pipelines() {
        for action in p.actions() {
            if action.provider() == Some("CodeDeployToECS") {
                // Only a real container name designates one; a placeholder name does not.
                push(
                    action
                        .configuration("Image1ContainerName")
                        .and_then(Value::as_str),
                    BY_PIPELINE,
                );
            }
        }
    }
    for (_, appspec) in unit.appspecs() {
        for target in appspec.targets() {
            push(
                target.container_name(),
                "the AppSpec load balancer routes traffic to it",
            );
        }
    }
    for (_, svc) in unit.services() {
        for lb in svc.load_balancers() {
            push(
                lb.container_name,
                "the service load balancer routes traffic to it",
            );
        }
    }
    out
}

fn deploy_path(unit: &Unit) -> DeployPath {
    let mut found = DeployPath::Unknown;
    for (_, p) in unit.pipelines() {
        for action in p.actions() {
            if action.deploys_with("CodeDeployToECS") {
                return DeployPath::CodeDeploy;
            }
            if action.deploys_with("ECS") {
                found = DeployPath::Standard;
            }
        }
    }
    if found == DeployPath::Unknown {
        // Without a pipeline, the service's deployment controller tells (only when written).
        for (_, svc) in unit.services() {
            match svc
                .0
                .value
                .pointer("/deploymentController/type")
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

// Compiled once per run. Account ids and region digits are ASCII (`[0-9]`, not the much
// larger Unicode `\d`, which made compiling these a visible part of a one-file run).
/// A word that every match of [`ARN_RE`] and [`IAM_RE`] contains.
static ARN_WORD: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("arn:aws"));
/// A word that every match of [`REGISTRY_RE`] and [`ECR_REPO_RE`] contains.
static REGISTRY_WORD: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new(".dkr.ecr."));
/// A word that every match of [`ECR_PATH_RE`] contains.
static AMAZONAWS_WORD: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("amazonaws.com"));
static REGISTRY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\b").expect("static regex")
});
static ARN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\barn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-gov)?-[a-z]+-[0-9]):([0-9]{12}):")
        .expect("static regex")
});
static IAM_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\barn:aws[a-z-]*:iam::([0-9]{12}):").expect("static regex"));
static ECR_REPO_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/[a-z0-9][a-z0-9._/-]*$")
        .expect("static regex")
});
static ECR_PATH_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"amazonaws\.com(?:\.cn)?/(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|[a-z0-9][a-z0-9._/-]*)")
        .expect("static regex")
});
static DIGEST_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S+: digest: (sha256:[0-9a-f]{64}) size: [0-9]+").expect("static regex")
});
static PUSH_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"docker push (\S+)").expect("static regex"));
static REFERS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^The push refers to repository \[([^\]\s]+)\]").expect("static regex")
});

/// Every string of `v`, in document order, borrowed.
/// Calls `f` on every string of `v`, in the order of [`collect_strings`], until it returns
/// true; whether it did.
fn any_string(v: &Value, f: &mut impl FnMut(&str) -> bool) -> bool {
    match v {
        Value::String(s) => f(s),
        Value::Array(a) => a.iter().any(|x| any_string(x, f)),
        Value::Object(m) => m.values().any(|x| any_string(x, f)),
        _ => false,
    }
}

fn collect_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
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
    // Docker's own echo of the push, with variables already expanded.
    let refers_re = &*REFERS_RE;
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let body = strip_log_prefix(line);
        if let Some(c) = push_re.captures(body) {
            let image = c[1].trim_matches(|ch| ch == '"' || ch == '\'');
            pending = (!image.contains('$')).then(|| image_repository(image).to_string());
            continue;
        }
        if let Some(c) = refers_re.captures(body) {
            pending = Some(c[1].to_string());
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

    /// The facts of a unit holding one task definition (JSON text).
    fn taskdef_facts(text: &str) -> Facts {
        use crate::document::{Format, Limits};
        let doc = Document::parse(text, Format::Json, &Limits::default()).expect("json");
        let unit = Unit {
            files: vec![File::document(
                PathBuf::from("taskdef.json"),
                Kind::TaskDef,
                doc,
                Path::root(),
                Front::Api,
            )],
        };
        Facts::gather(&unit, &Config::default())
    }

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

    #[test]
    fn pushes_through_variables_use_dockers_echo() {
        let log = format!(
            "[Container] 2024/05/14 10:21:33.1 Running command docker push $REPOSITORY_URI:latest\n\
             The push refers to repository [1.dkr.ecr.us-east-1.amazonaws.com/app]\n\
             latest: digest: sha256:{} size: 2417\n\
             [Container] 2024/05/14 10:22:33.1 Running command docker push $REPOSITORY_URI:latest\n\
             The push refers to repository [1.dkr.ecr.us-east-1.amazonaws.com/app]\n\
             latest: digest: sha256:{} size: 2417\n",
            "a".repeat(64),
            "b".repeat(64)
        );
        let mut d = BTreeMap::new();
        digests_from_build_log(&log, &mut d);
        // The last push wins.
        assert_eq!(
            d.get("1.dkr.ecr.us-east-1.amazonaws.com/app").cloned(),
            Some(format!("sha256:{}", "b".repeat(64)))
        );
    }

    #[test]
    fn account_from_an_iam_role_and_region_from_awslogs() {
        let text = r#"{"family": "f", "executionRoleArn": "arn:aws:iam::111122223333:role/exec",
            "containerDefinitions": [{"name": "a", "image": "a:1", "logConfiguration":
            {"logDriver": "awslogs", "options": {"awslogs-region": "eu-west-1"}}}]}"#;
        let facts = taskdef_facts(text);
        assert_eq!(facts.account.as_deref(), Some("111122223333"));
        assert_eq!(facts.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn a_sidecar_from_another_accounts_registry_does_not_set_the_region() {
        // App Mesh's Envoy image lives in an AWS-owned account in us-west-2; the task itself
        // runs in eu-west-1 in account 111122223333.
        let text = r#"{"family": "f", "executionRoleArn": "arn:aws:iam::111122223333:role/exec",
            "containerDefinitions": [
            {"name": "envoy", "image": "840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1"},
            {"name": "app", "image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1"}]}"#;
        let facts = taskdef_facts(text);
        assert_eq!(facts.account.as_deref(), Some("111122223333"));
        assert_eq!(facts.region.as_deref(), Some("eu-west-1"));
    }

    fn facts_with(designated: &[(&str, &'static str)], built: &[&str]) -> Facts {
        Facts {
            deploy_path: DeployPath::CodeDeploy,
            region: None,
            account: None,
            digests: BTreeMap::new(),
            built_repositories: built.iter().map(|s| s.to_string()).collect(),
            designated_containers: designated
                .iter()
                .map(|(n, b)| (n.to_string(), *b))
                .collect(),
            built_repository_paths: BTreeSet::new(),
        }
    }

    #[test]
    fn the_main_container_is_the_one_in_the_repository_the_buildspec_pushes() {
        use crate::document::{Format, Limits};
        let bs = "version: 0.2\nenv:\n  variables:\n    IMAGE_REPO_NAME: shop/api\nphases:\n  build:\n    commands:\n      - REPOSITORY_URI=$AWS_ACCOUNT_ID.dkr.ecr.$AWS_DEFAULT_REGION.amazonaws.com/$IMAGE_REPO_NAME\n      - docker push $REPOSITORY_URI:$IMAGE_TAG\n";
        let td = r#"{"family": "f", "containerDefinitions": [
            {"name": "envoy", "image": "840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1"},
            {"name": "web", "image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1"}]}"#;
        let file = |name: &str, text: &str, format, kind| {
            File::document(
                PathBuf::from(name),
                kind,
                Document::parse(text, format, &Limits::default()).expect("parses"),
                Path::root(),
                Front::Api,
            )
        };
        let unit = Unit {
            files: vec![
                file("buildspec.yml", bs, Format::Yaml, Kind::Buildspec),
                file("taskdef.json", td, Format::Json, Kind::TaskDef),
            ],
        };
        let facts = Facts::gather(&unit, &Config::default());
        let v = unit.files[1].value().expect("value");
        assert_eq!(
            facts.image_container(v).map(|c| c.name),
            Some("web".to_string())
        );
    }

    #[test]
    fn the_image_container_is_designated_built_or_the_only_essential_one() {
        let td = serde_json::json!({"containerDefinitions": [
            {"name": "app", "image": "1.dkr/app:latest"},
            {"name": "agent", "image": "datadog/agent:7", "essential": false}
        ]});
        let named = facts_with(&[("nope", "x"), ("app", "the LB")], &[]);
        assert_eq!(
            named.image_container(&td).map(|c| (c.index, c.because)),
            Some((0, "the LB"))
        );
        let built = facts_with(&[], &["1.dkr/app"]);
        assert_eq!(built.image_container(&td).map(|c| c.index), Some(0));
        let essential = facts_with(&[], &[]);
        assert_eq!(essential.image_container(&td).map(|c| c.index), Some(0));
        let two = serde_json::json!({"containerDefinitions": [
            {"name": "a", "image": "x"}, {"name": "b", "image": "y"}
        ]});
        assert_eq!(essential.image_container(&two), None);
    }
}
