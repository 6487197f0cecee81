//! A synthetic monorepo for benchmarks and tests: N services, each with the six kinds of
//! pipeline file (CodePipeline, buildspec, AppSpec, task definition, deployment group, ECS
//! service) written in the styles real repositories use (2- and 4-space and tab indentation,
//! minified JSON, CRLF line ends, YAML comments, `get-pipeline` / `describe-*` CLI wrappers),
//! about half of them with problems from the catalog, plus files pipefix must skip (source
//! code, `package.json`, docker-compose and Kubernetes YAML, READMEs).
//!
//! With `--dirty`, every service has every problem its deploy path allows (several findings in
//! every pipeline file): the first run a team makes.
//!
//! The output depends only on `--services`, `--seed` and `--dirty`.
//!
//! ```text
//! cargo run --release --example gen-monorepo -- --services 1000 --out /tmp/mono [--seed 7] [--dirty]
//! ```

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// A small deterministic generator (SplitMix64): the same seed gives the same tree on every
/// platform, with no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            let _ = write!(s, "{:016x}", self.next_u64());
        }
        s.truncate(n);
        s
    }
}

/// What is wrong with a service's files. A clean service has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    NoApproval,
    GithubOauthToken,
    AggressiveHealthCheck,
    LatestImage,
    PlaintextSecretEnv,
    NoRollback,
    NoAlarms,
    AllAtOnce,
    LongBlueWait,
    NoGracePeriod,
    PercentOnFargate,
    GetLogin,
    PlaintextBuildSecret,
    EchoSecret,
    DockerLoginPassword,
    LatestTagOnly,
    RollingWithoutCircuitBreaker,
}

const PROBLEMS: [Problem; 17] = [
    Problem::NoApproval,
    Problem::GithubOauthToken,
    Problem::AggressiveHealthCheck,
    Problem::LatestImage,
    Problem::PlaintextSecretEnv,
    Problem::NoRollback,
    Problem::NoAlarms,
    Problem::AllAtOnce,
    Problem::LongBlueWait,
    Problem::NoGracePeriod,
    Problem::PercentOnFargate,
    Problem::GetLogin,
    Problem::PlaintextBuildSecret,
    Problem::EchoSecret,
    Problem::DockerLoginPassword,
    Problem::LatestTagOnly,
    Problem::RollingWithoutCircuitBreaker,
];

/// How a JSON file is laid out.
#[derive(Clone, Copy, Debug)]
struct JsonStyle {
    /// `None`: minified.
    indent: Option<&'static str>,
    crlf: bool,
    final_newline: bool,
    /// Wrapped as the AWS CLI prints it (`get-pipeline`, `describe-*`).
    wrapped: bool,
}

impl JsonStyle {
    fn random(rng: &mut Rng) -> JsonStyle {
        let indent = *rng.pick(&[Some("  "), Some("    "), Some("\t"), None, Some("  ")]);
        JsonStyle {
            indent,
            crlf: indent.is_some() && rng.chance(0.15),
            final_newline: rng.chance(0.8),
            wrapped: rng.chance(0.5),
        }
    }

    fn render(&self, v: &Value) -> String {
        let mut out = match self.indent {
            None => serde_json::to_string(v).unwrap_or_default(),
            Some(indent) => {
                let mut buf = Vec::new();
                let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
                let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
                let _ = serde::Serialize::serialize(v, &mut ser);
                String::from_utf8(buf).unwrap_or_default()
            }
        };
        if self.final_newline {
            out.push('\n');
        }
        if self.crlf {
            out = out.replace('\n', "\r\n");
        }
        out
    }
}

/// How a YAML file is laid out.
#[derive(Clone, Copy, Debug)]
struct YamlStyle {
    /// Indentation unit.
    ind: &'static str,
    /// `- item` at the indentation of its key (`key:\n- a`) rather than one level deeper.
    indentless: bool,
    comments: bool,
    crlf: bool,
    /// Quote scalar values with double quotes.
    quoted: bool,
}

impl YamlStyle {
    fn random(rng: &mut Rng) -> YamlStyle {
        YamlStyle {
            ind: ["  ", "  ", "    "][rng.below(3)],
            indentless: rng.chance(0.3),
            comments: rng.chance(0.6),
            crlf: rng.chance(0.1),
            quoted: rng.chance(0.5),
        }
    }

    fn q(&self, s: &str) -> String {
        if self.quoted {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            s.to_string()
        }
    }

    /// Indentation of a sequence item under a key at `level`.
    fn item(&self, level: usize) -> String {
        let l = if self.indentless { level } else { level + 1 };
        self.ind.repeat(l)
    }

    fn finish(&self, text: String) -> String {
        if self.crlf {
            text.replace('\n', "\r\n")
        } else {
            text
        }
    }
}

/// One service of the monorepo, as decided by the generator.
struct Service {
    name: String,
    account: String,
    region: &'static str,
    port: u16,
    /// Deploys with the ECS standard (rolling) action instead of CodeDeploy blue/green.
    rolling: bool,
    problems: Vec<Problem>,
}

impl Service {
    fn has(&self, p: Problem) -> bool {
        self.problems.contains(&p)
    }

    fn registry(&self) -> String {
        format!("{}.dkr.ecr.{}.amazonaws.com", self.account, self.region)
    }

    fn arn(&self, service: &str, rest: &str) -> String {
        format!("arn:aws:{service}:{}:{}:{rest}", self.region, self.account)
    }
}

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"];
const WORDS: [&str; 16] = [
    "billing",
    "orders",
    "auth",
    "search",
    "catalog",
    "payments",
    "users",
    "inventory",
    "shipping",
    "reports",
    "gateway",
    "notify",
    "ledger",
    "media",
    "profile",
    "checkout",
];

/// Summary of a generated tree.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    pub services: usize,
    pub with_problems: usize,
    pub pipeline_files: usize,
    pub other_files: usize,
    pub bytes: u64,
}

/// Write a monorepo of `services` services below `root` (created if needed).
pub fn generate(root: &Path, services: usize, seed: u64) -> io::Result<Generated> {
    generate_with(root, services, seed, false)
}

/// As [`generate`]; `dirty`: every service has every problem of the catalog that its deploy
/// path allows (a first run over a neglected monorepo), instead of about half of them having
/// one to four. The styles and names are the same as for the same seed without `dirty`.
pub fn generate_with(
    root: &Path,
    services: usize,
    seed: u64,
    dirty: bool,
) -> io::Result<Generated> {
    let mut rng = Rng::new(seed);
    let mut summary = Generated {
        services,
        ..Generated::default()
    };
    write(
        root,
        "README.md",
        "# Monorepo\n\nServices live under `services/<team>/<name>/`.\n",
        &mut summary,
        false,
    )?;
    for i in 0..services {
        let word = rng.pick(&WORDS);
        let name = format!("{word}-{i:05}");
        let team = format!("team-{:02}", i % 37);
        let dir = root.join("services").join(&team).join(&name);
        let mut problems = Vec::new();
        if rng.chance(0.5) {
            let n = 1 + rng.below(4);
            while problems.len() < n {
                let p = *rng.pick(&PROBLEMS);
                if !problems.contains(&p) {
                    problems.push(p);
                }
            }
        }
        if dirty {
            // Every other service deploys with the rolling action; the rest use CodeDeploy.
            problems = PROBLEMS
                .iter()
                .copied()
                .filter(|p| *p != Problem::RollingWithoutCircuitBreaker || i % 2 == 1)
                .collect();
        }
        if !problems.is_empty() {
            summary.with_problems += 1;
        }
        let svc = Service {
            name,
            account: format!(
                "{:012}",
                100_000_000_000u64 + (i as u64 % 9) * 11_111_111_111
            ),
            region: REGIONS[rng.below(REGIONS.len())],
            port: *rng.pick(&[80, 3000, 8000, 8080, 8443]),
            rolling: problems.contains(&Problem::RollingWithoutCircuitBreaker),
            problems,
        };
        write_service(&dir, &svc, &mut rng, &mut summary)?;
    }
    Ok(summary)
}

fn write(
    dir: &Path,
    name: &str,
    text: &str,
    summary: &mut Generated,
    pipeline: bool,
) -> io::Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(&path, text)?;
    summary.bytes += text.len() as u64;
    if pipeline {
        summary.pipeline_files += 1;
    } else {
        summary.other_files += 1;
    }
    Ok(())
}

fn write_service(
    dir: &Path,
    svc: &Service,
    rng: &mut Rng,
    summary: &mut Generated,
) -> io::Result<()> {
    // Where the pipeline files live: the service folder, or folders pipefix joins to it.
    let (ci, deploy): (PathBuf, PathBuf) = match rng.below(4) {
        0 => (dir.to_path_buf(), dir.to_path_buf()),
        1 => (dir.join("pipeline"), dir.join("pipeline")),
        2 => (dir.join("ci"), dir.join("deploy")),
        _ => (dir.join("aws"), dir.join("aws")),
    };
    let files: [(&Path, &str, String); 6] = [
        (&ci, "codepipeline.json", pipeline(svc, rng)),
        (&ci, "buildspec.yml", buildspec(svc, rng)),
        (&deploy, "appspec.yml", appspec(svc, rng)),
        (&deploy, "taskdef.json", taskdef(svc, rng)),
        (&deploy, "deployment-group.json", deployment_group(svc, rng)),
        (&deploy, "ecs-service.json", ecs_service(svc, rng)),
    ];
    for (d, name, text) in &files {
        write(d, name, text, summary, true)?;
    }
    unrelated(dir, svc, rng, summary)
}

fn pipeline(svc: &Service, rng: &mut Rng) -> String {
    let style = JsonStyle::random(rng);
    let n = &svc.name;
    let source = if svc.has(Problem::GithubOauthToken) {
        json!({
            "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"},
            "runOrder": 1,
            "configuration": {
                "Owner": "example-org", "Repo": n, "Branch": "main",
                "OAuthToken": format!("ghp_{}", alnum(rng, 36)),
                "PollForSourceChanges": "false"
            },
            "outputArtifacts": [{"name": "SourceArtifact"}],
            "inputArtifacts": []
        })
    } else {
        json!({
            "name": "Source",
            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
            "runOrder": 1,
            "configuration": {
                "ConnectionArn": svc.arn("codestar-connections", &format!("connection/{}", uuid(rng))),
                "FullRepositoryId": format!("example-org/{n}"),
                "BranchName": "main",
                "OutputArtifactFormat": "CODE_ZIP"
            },
            "outputArtifacts": [{"name": "SourceArtifact"}],
            "inputArtifacts": []
        })
    };
    let build = json!({
        "name": "Build",
        "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "runOrder": 1,
        "configuration": {"ProjectName": format!("{n}-build")},
        "outputArtifacts": [{"name": "BuildArtifact"}],
        "inputArtifacts": [{"name": "SourceArtifact"}]
    });
    let deploy = |stage_env: &str| {
        if svc.rolling {
            json!({
                "name": format!("Deploy-{stage_env}"),
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1"},
                "runOrder": 1,
                "configuration": {
                    "ClusterName": format!("{stage_env}-cluster"),
                    "ServiceName": n,
                    "FileName": "imagedefinitions.json"
                },
                "outputArtifacts": [],
                "inputArtifacts": [{"name": "BuildArtifact"}]
            })
        } else {
            json!({
                "name": format!("Deploy-{stage_env}"),
                "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "CodeDeployToECS", "version": "1"},
                "runOrder": 1,
                "configuration": {
                    "ApplicationName": format!("{n}-app"),
                    "DeploymentGroupName": format!("{n}-{stage_env}-dg"),
                    "TaskDefinitionTemplateArtifact": "BuildArtifact",
                    "TaskDefinitionTemplatePath": "taskdef.json",
                    "AppSpecTemplateArtifact": "BuildArtifact",
                    "AppSpecTemplatePath": "appspec.yml",
                    "Image1ArtifactName": "BuildArtifact",
                    "Image1ContainerName": "IMAGE1_NAME"
                },
                "outputArtifacts": [],
                "inputArtifacts": [{"name": "BuildArtifact"}]
            })
        }
    };
    let approval = json!({
        "name": "Approval",
        "actions": [{
            "name": "ManualApproval",
            "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"},
            "runOrder": 1,
            "configuration": {"NotificationArn": svc.arn("sns", "deploy-approvals")},
            "outputArtifacts": [],
            "inputArtifacts": []
        }]
    });
    let mut stages = vec![
        json!({"name": "Source", "actions": [source]}),
        json!({"name": "Build", "actions": [build]}),
    ];
    if rng.chance(0.5) {
        stages.push(json!({"name": "Staging", "actions": [deploy("staging")]}));
    }
    if !svc.has(Problem::NoApproval) {
        stages.push(approval);
    }
    stages.push(json!({"name": "Production", "actions": [deploy("prod")]}));
    let declaration = json!({
        "name": format!("{n}-pipeline"),
        "roleArn": format!("arn:aws:iam::{}:role/service-role/{n}-codepipeline", svc.account),
        "artifactStore": {"type": "S3", "location": format!("codepipeline-{}-{}", svc.region, svc.account)},
        "stages": stages,
        "version": 1 + rng.below(40),
        "pipelineType": "V2"
    });
    let v = if style.wrapped {
        json!({
            "pipeline": declaration,
            "metadata": {
                "pipelineArn": svc.arn("codepipeline", &format!("{n}-pipeline")),
                "created": "2024-03-11T09:12:44.512000+00:00",
                "updated": "2024-05-02T16:40:03.118000+00:00"
            }
        })
    } else {
        declaration
    };
    style.render(&v)
}

fn buildspec(svc: &Service, rng: &mut Rng) -> String {
    let s = YamlStyle::random(rng);
    let i1 = s.ind;
    let i2 = s.ind.repeat(2);
    let n = &svc.name;
    let mut t = String::new();
    if s.comments {
        let _ = writeln!(
            t,
            "# Build spec for {n}: tests, image build and push to ECR.\n# Owned by the platform team; see the runbook before changing it."
        );
    }
    let _ = writeln!(t, "version: 0.2\n\nenv:\n{i1}variables:");
    let _ = writeln!(t, "{i2}AWS_ACCOUNT_ID: {}", s.q(&svc.account));
    let _ = writeln!(t, "{i2}IMAGE_REPO_NAME: {}", s.q(n));
    let _ = writeln!(
        t,
        "{i2}REPOSITORY_URI: {}",
        s.q(&format!("{}/{n}", svc.registry()))
    );
    let _ = writeln!(t, "{i2}NODE_ENV: {}", s.q("test"));
    if s.comments {
        let _ = writeln!(t, "{i2}# settings read by the integration tests");
    }
    let _ = writeln!(
        t,
        "{i2}TOKEN_URL: {}",
        s.q("https://auth.example.com/oauth/token")
    );
    if svc.has(Problem::PlaintextBuildSecret) {
        let _ = writeln!(
            t,
            "{i2}DB_PASSWORD: {}",
            s.q(&format!("Pw-{}", alnum(rng, 14)))
        );
    }
    if svc.has(Problem::DockerLoginPassword) {
        let _ = writeln!(t, "{i2}DOCKERHUB_USERNAME: {}", s.q("example-ci"));
    }
    if !svc.has(Problem::PlaintextBuildSecret) || svc.has(Problem::DockerLoginPassword) {
        let _ = writeln!(t, "{i1}secrets-manager:");
        let _ = writeln!(
            t,
            "{i2}DB_PASSWORD: {}",
            s.q(&svc.arn("secretsmanager", &format!("secret:{n}/db:password")))
        );
        if svc.has(Problem::DockerLoginPassword) {
            let _ = writeln!(
                t,
                "{i2}DOCKERHUB_TOKEN: {}",
                s.q(&svc.arn("secretsmanager", "secret:ci/dockerhub:token"))
            );
        }
    }
    let cmds = |t: &mut String, phase: &str, commands: &[String], abort: bool| {
        let _ = writeln!(t, "{i1}{phase}:");
        if abort {
            let _ = writeln!(t, "{i2}on-failure: ABORT");
        }
        let _ = writeln!(t, "{i2}commands:");
        let item = s.item(2);
        for c in commands {
            if c.starts_with('#') {
                if s.comments {
                    let _ = writeln!(t, "{item}{c}");
                }
            } else {
                let _ = writeln!(t, "{item}- {c}");
            }
        }
    };
    t.push_str("\nphases:\n");
    let mut install = vec![
        "echo Installing dependencies".to_string(),
        "npm ci --no-audit".to_string(),
    ];
    if s.comments {
        install.insert(0, "# dependencies are cached by CodeBuild".into());
    }
    cmds(&mut t, "install", &install, false);
    let login = if svc.has(Problem::GetLogin) {
        "$(aws ecr get-login --no-include-email --region $AWS_DEFAULT_REGION)".to_string()
    } else {
        "aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin $AWS_ACCOUNT_ID.dkr.ecr.$AWS_DEFAULT_REGION.amazonaws.com".to_string()
    };
    let mut pre = vec![
        "echo Logging in to Amazon ECR...".to_string(),
        login,
        "COMMIT_HASH=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)".to_string(),
        "IMAGE_TAG=$COMMIT_HASH".to_string(),
    ];
    if svc.has(Problem::DockerLoginPassword) {
        pre.push("docker login -u $DOCKERHUB_USERNAME -p $DOCKERHUB_TOKEN".into());
    }
    if svc.has(Problem::EchoSecret) {
        pre.push("# debug: which settings does the build see?".into());
        pre.push("echo \"DB password is $DB_PASSWORD\"".into());
        pre.push("printenv".into());
    }
    cmds(&mut t, "pre_build", &pre, true);
    let tag = if svc.has(Problem::LatestTagOnly) {
        "latest"
    } else {
        "$IMAGE_TAG"
    };
    let build = vec![
        "echo Build started on `date`".to_string(),
        "npm test".to_string(),
        format!("docker build -t $REPOSITORY_URI:{tag} ."),
    ];
    cmds(&mut t, "build", &build, true);
    let mut post = vec![
        "echo Build completed on `date`".to_string(),
        format!("docker push $REPOSITORY_URI:{tag}"),
    ];
    if svc.rolling {
        post.push(format!(
            "printf '[{{\"name\":\"{n}\",\"imageUri\":\"%s\"}}]' $REPOSITORY_URI:{tag} > imagedefinitions.json"
        ));
    } else {
        post.push(format!(
            "printf '{{\"ImageURI\":\"%s\"}}' $REPOSITORY_URI:{tag} > imageDetail.json"
        ));
    }
    cmds(&mut t, "post_build", &post, false);
    t.push_str("\nartifacts:\n");
    let _ = writeln!(t, "{i1}files:");
    let item = s.item(1);
    if svc.rolling {
        let _ = writeln!(t, "{item}- imagedefinitions.json");
    } else {
        for f in ["imageDetail.json", "taskdef.json", "appspec.yml"] {
            let _ = writeln!(t, "{item}- {f}");
        }
    }
    if rng.chance(0.3) {
        let _ = writeln!(t, "\ncache:\n{i1}paths:\n{item}- '/root/.npm/**/*'");
    }
    s.finish(t)
}

fn appspec(svc: &Service, rng: &mut Rng) -> String {
    let s = YamlStyle::random(rng);
    let i = |n: usize| s.ind.repeat(n);
    let mut t = String::new();
    if s.comments {
        t.push_str("# AppSpec for the CodeDeploy blue/green deployment.\n# <TASK_DEFINITION> is filled in by the pipeline.\n");
    }
    let _ = writeln!(t, "version: 0.0\nResources:");
    let item = s.item(0);
    let _ = writeln!(t, "{item}- TargetService:");
    // The mapping inside the item is indented past the `- `.
    let base = format!("{item}  ");
    let _ = writeln!(t, "{base}{}Type: AWS::ECS::Service", i(1));
    let _ = writeln!(t, "{base}{}Properties:", i(1));
    let _ = writeln!(
        t,
        "{base}{}TaskDefinition: {}",
        i(2),
        s.q("<TASK_DEFINITION>")
    );
    let _ = writeln!(t, "{base}{}LoadBalancerInfo:", i(2));
    let _ = writeln!(t, "{base}{}ContainerName: {}", i(3), s.q(&svc.name));
    let _ = writeln!(t, "{base}{}ContainerPort: {}", i(3), svc.port);
    if rng.chance(0.5) {
        let _ = writeln!(t, "{base}{}PlatformVersion: {}", i(2), s.q("LATEST"));
    }
    if rng.chance(0.4) {
        let _ = writeln!(t, "Hooks:");
        let _ = writeln!(
            t,
            "{item}- AfterAllowTestTraffic: {}",
            s.q(&format!("{}-smoke-test", svc.name))
        );
    }
    s.finish(t)
}

fn taskdef(svc: &Service, rng: &mut Rng) -> String {
    let style = JsonStyle::random(rng);
    let n = &svc.name;
    let image = if svc.has(Problem::LatestImage) {
        format!("{}/{n}:latest", svc.registry())
    } else if svc.rolling {
        format!("{}/{n}@sha256:{}", svc.registry(), rng.hex(64))
    } else {
        "<IMAGE1_NAME>".to_string()
    };
    let health = if svc.has(Problem::AggressiveHealthCheck) {
        json!({
            "command": ["CMD-SHELL", format!("curl -f http://localhost:{}/health || exit 1", svc.port)],
            "interval": 5, "timeout": 5, "retries": 1
        })
    } else {
        json!({
            "command": ["CMD-SHELL", format!("curl -f http://localhost:{}/health || exit 1", svc.port)],
            "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60
        })
    };
    let mut environment = vec![
        json!({"name": "NODE_ENV", "value": "production"}),
        json!({"name": "PORT", "value": svc.port.to_string()}),
        json!({"name": "LOG_LEVEL", "value": "info"}),
    ];
    if svc.has(Problem::PlaintextSecretEnv) {
        environment.push(json!({"name": "DB_PASSWORD", "value": format!("Pw-{}", alnum(rng, 16))}));
    }
    let app = json!({
        "name": n,
        "image": image,
        "essential": true,
        "cpu": 0,
        "portMappings": [{"containerPort": svc.port, "hostPort": svc.port, "protocol": "tcp"}],
        "environment": environment,
        "secrets": [{"name": "DB_URL", "valueFrom": svc.arn("secretsmanager", &format!("secret:{n}/db-url"))}],
        "healthCheck": health,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": format!("/ecs/{n}"),
                "awslogs-region": svc.region,
                "awslogs-stream-prefix": "ecs"
            }
        },
        "mountPoints": [],
        "volumesFrom": []
    });
    let mut containers = vec![app];
    if rng.chance(0.3) {
        containers.push(json!({
            "name": "log-router",
            "image": format!("public.ecr.aws/aws-observability/aws-for-fluent-bit@sha256:{}", rng.hex(64)),
            "essential": false,
            "firelensConfiguration": {"type": "fluentbit"},
            "memoryReservation": 50
        }));
    }
    let def = json!({
        "family": n,
        "taskRoleArn": format!("arn:aws:iam::{}:role/{n}-task", svc.account),
        "executionRoleArn": format!("arn:aws:iam::{}:role/ecsTaskExecutionRole", svc.account),
        "networkMode": "awsvpc",
        "containerDefinitions": containers,
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024"
    });
    let v = if style.wrapped {
        let mut d = def;
        if let Some(m) = d.as_object_mut() {
            m.insert(
                "taskDefinitionArn".into(),
                json!(svc.arn("ecs", &format!("task-definition/{n}:{}", 1 + rng.below(90)))),
            );
            m.insert("revision".into(), json!(1 + rng.below(90)));
            m.insert("status".into(), json!("ACTIVE"));
            m.insert(
                "registeredAt".into(),
                json!("2024-05-02T16:41:10.204000+00:00"),
            );
        }
        json!({"taskDefinition": d, "tags": []})
    } else {
        def
    };
    style.render(&v)
}

fn deployment_group(svc: &Service, rng: &mut Rng) -> String {
    let style = JsonStyle::random(rng);
    let n = &svc.name;
    let config = if svc.has(Problem::AllAtOnce) {
        "CodeDeployDefault.ECSAllAtOnce"
    } else {
        *rng.pick(&[
            "CodeDeployDefault.ECSCanary10Percent5Minutes",
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
        ])
    };
    let alarms = if svc.has(Problem::NoAlarms) {
        json!({"enabled": false, "ignorePollAlarmFailure": false, "alarms": []})
    } else {
        json!({"enabled": true, "ignorePollAlarmFailure": false,
               "alarms": [{"name": format!("{n}-target-5xx")}, {"name": format!("{n}-unhealthy-hosts")}]})
    };
    let rollback = if svc.has(Problem::NoRollback) {
        json!({"enabled": false})
    } else {
        json!({"enabled": true, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"]})
    };
    let wait = if svc.has(Problem::LongBlueWait) {
        240
    } else {
        5
    };
    let info = json!({
        "applicationName": format!("{n}-app"),
        "deploymentGroupId": uuid(rng),
        "deploymentGroupName": format!("{n}-prod-dg"),
        "deploymentConfigName": config,
        "ec2TagFilters": [],
        "onPremisesInstanceTagFilters": [],
        "autoScalingGroups": [],
        "serviceRoleArn": format!("arn:aws:iam::{}:role/{n}-codedeploy", svc.account),
        "triggerConfigurations": [],
        "alarmConfiguration": alarms,
        "autoRollbackConfiguration": rollback,
        "deploymentStyle": {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        "blueGreenDeploymentConfiguration": {
            "terminateBlueInstancesOnDeploymentSuccess": {"action": "TERMINATE", "terminationWaitTimeInMinutes": wait},
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT", "waitTimeInMinutes": 0}
        },
        "loadBalancerInfo": {
            "targetGroupPairInfoList": [{
                "targetGroups": [{"name": format!("{n}-blue")}, {"name": format!("{n}-green")}],
                "prodTrafficRoute": {"listenerArns": [svc.arn("elasticloadbalancing", &format!("listener/app/{n}-alb/{}/{}", rng.hex(16), rng.hex(16)))]}
            }]
        },
        "ecsServices": [{"serviceName": n, "clusterName": "prod-cluster"}],
        "computePlatform": "ECS"
    });
    let v = if style.wrapped {
        json!({ "deploymentGroupInfo": info })
    } else {
        info
    };
    style.render(&v)
}

fn ecs_service(svc: &Service, rng: &mut Rng) -> String {
    let style = JsonStyle::random(rng);
    let n = &svc.name;
    let grace = if svc.has(Problem::NoGracePeriod) {
        0
    } else {
        120
    };
    let mut service = json!({
        "serviceName": n,
        "cluster": "prod-cluster",
        "taskDefinition": svc.arn("ecs", &format!("task-definition/{n}:{}", 1 + rng.below(90))),
        "loadBalancers": [{
            "targetGroupArn": svc.arn("elasticloadbalancing", &format!("targetgroup/{n}-blue/{}", rng.hex(16))),
            "containerName": n,
            "containerPort": svc.port
        }],
        "desiredCount": 2,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "healthCheckGracePeriodSeconds": grace,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": [format!("subnet-{}", rng.hex(17)), format!("subnet-{}", rng.hex(17))],
                "securityGroups": [format!("sg-{}", rng.hex(17))],
                "assignPublicIp": "DISABLED"
            }
        }
    });
    if let Some(m) = service.as_object_mut() {
        if svc.rolling {
            m.insert("deploymentController".into(), json!({"type": "ECS"}));
            m.insert(
                "deploymentConfiguration".into(),
                json!({"maximumPercent": 200, "minimumHealthyPercent": 100}),
            );
        } else {
            m.insert(
                "deploymentController".into(),
                json!({"type": "CODE_DEPLOY"}),
            );
            if svc.has(Problem::PercentOnFargate) {
                m.insert(
                    "deploymentConfiguration".into(),
                    json!({"maximumPercent": 200, "minimumHealthyPercent": 50}),
                );
            }
        }
    }
    let v = if style.wrapped {
        if let Some(m) = service.as_object_mut() {
            m.insert(
                "serviceArn".into(),
                json!(svc.arn("ecs", &format!("service/prod-cluster/{n}"))),
            );
            m.insert("status".into(), json!("ACTIVE"));
            m.insert("runningCount".into(), json!(2));
            m.insert("pendingCount".into(), json!(0));
            let events: Vec<Value> = (0..4 + rng.below(8))
                .map(|k| {
                    json!({
                        "id": uuid(rng),
                        "createdAt": format!("2024-05-{:02}T1{}:00:00.000000+00:00", 1 + k % 28, k % 10),
                        "message": format!("(service {n}) has reached a steady state.")
                    })
                })
                .collect();
            m.insert("events".into(), Value::Array(events));
        }
        if rng.chance(0.5) {
            json!({"services": [service], "failures": []})
        } else {
            json!({ "service": service })
        }
    } else {
        service
    };
    style.render(&v)
}

/// Source code, tooling and other YAML/JSON that is not a pipeline file.
fn unrelated(dir: &Path, svc: &Service, rng: &mut Rng, summary: &mut Generated) -> io::Result<()> {
    let n = &svc.name;
    write(
        dir,
        "README.md",
        &format!("# {n}\n\nOwned by the platform team. Deployed by `{n}-pipeline`.\n"),
        summary,
        false,
    )?;
    write(
        dir,
        "package.json",
        &format!(
            "{{\n  \"name\": \"@example/{n}\",\n  \"version\": \"1.{}.0\",\n  \"private\": true,\n  \"scripts\": {{\n    \"start\": \"node src/index.js\",\n    \"test\": \"jest\"\n  }},\n  \"dependencies\": {{\n    \"express\": \"^4.19.2\",\n    \"pg\": \"^8.11.5\"\n  }},\n  \"devDependencies\": {{\n    \"jest\": \"^29.7.0\"\n  }}\n}}\n",
            rng.below(30)
        ),
        summary,
        false,
    )?;
    write(
        dir,
        "src/index.js",
        &format!(
            "const express = require('express');\nconst app = express();\n\napp.get('/health', (req, res) => res.send('ok'));\napp.listen({}, () => console.log('{n} listening'));\n",
            svc.port
        ),
        summary,
        false,
    )?;
    write(
        dir,
        "Dockerfile",
        "FROM public.ecr.aws/docker/library/node:18-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev\nCMD [\"node\", \"src/index.js\"]\n",
        summary,
        false,
    )?;
    if rng.chance(0.5) {
        write(
            dir,
            "docker-compose.yml",
            &format!(
                "services:\n  {n}:\n    build: .\n    ports:\n      - \"{p}:{p}\"\n    environment:\n      NODE_ENV: development\n  db:\n    image: postgres:15\n",
                p = svc.port
            ),
            summary,
            false,
        )?;
    }
    if rng.chance(0.4) {
        write(
            dir,
            "k8s/deployment.yaml",
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: {n}\n          image: {}/{n}:1.0.0\n",
                svc.registry()
            ),
            summary,
            false,
        )?;
    }
    if rng.chance(0.3) {
        write(
            dir,
            "tsconfig.json",
            "{\n  \"compilerOptions\": {\n    \"target\": \"es2020\",\n    \"module\": \"commonjs\",\n    \"strict\": true\n  }\n}\n",
            summary,
            false,
        )?;
    }
    if rng.chance(0.2) {
        write(
            dir,
            ".github/workflows/ci.yml",
            "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci && npm test\n",
            summary,
            false,
        )?;
    }
    Ok(())
}

fn alnum(rng: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n).map(|_| A[rng.below(A.len())] as char).collect()
}

fn uuid(rng: &mut Rng) -> String {
    let h = rng.hex(32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn usage() -> ! {
    eprintln!("usage: gen-monorepo --services N --out DIR [--seed S] [--dirty]");
    std::process::exit(2);
}

fn main() {
    let mut services: Option<usize> = None;
    let mut out: Option<PathBuf> = None;
    let mut seed: u64 = 1;
    let mut dirty = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--dirty" {
            dirty = true;
            continue;
        }
        let value = args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--services" => services = Some(value.parse().unwrap_or_else(|_| usage())),
            "--out" => out = Some(PathBuf::from(value)),
            "--seed" => seed = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    let (Some(services), Some(out)) = (services, out) else {
        usage()
    };
    match generate_with(&out, services, seed, dirty) {
        Ok(g) => println!(
            "{}: {} services ({} with problems), {} pipeline files, {} other files, {} bytes",
            out.display(),
            g.services,
            g.with_problems,
            g.pipeline_files,
            g.other_files,
            g.bytes
        ),
        Err(e) => {
            eprintln!("error: {}: {e}", out.display());
            std::process::exit(1);
        }
    }
}
