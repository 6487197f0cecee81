//! CloudFormation, SAM and CDK templates (`tests/data/cloudformation/`,
//! `examples/plooral-cloudformation/`): `pipefix --apply` on a copy fixes the six problems in
//! place, keeps every template valid for cfn-lint (no new E-level finding), changes nothing on a
//! second run, never touches a create-only property, and only reports CDK output.
//!
//! The checks read the fixed templates with yaml-rust2's loader, which drops the intrinsic tags
//! (`!Ref X` reads as `"X"`, `!If [C, a, b]` as `[C, a, b]`): enough for literal values; that an
//! intrinsic survives is checked on the text.

mod common;

use common::{cfn_lint_errors, cfn_lint_new_errors, copy_tree, files_below, root};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// A template under test: where it comes from, and where it sits in the temporary copy.
struct Case {
    name: &'static str,
    /// A file, or a folder copied whole (relative to the project root).
    source: &'static str,
    /// The template, relative to the temporary folder.
    template: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "short-form",
        source: "tests/data/cloudformation/short-form.yaml",
        template: "short-form.yaml",
    },
    Case {
        name: "long-form",
        source: "tests/data/cloudformation/long-form.yaml",
        template: "long-form.yaml",
    },
    Case {
        name: "json",
        source: "tests/data/cloudformation/template.json",
        template: "template.json",
    },
    Case {
        name: "sam",
        source: "tests/data/cloudformation/sam.yaml",
        template: "sam.yaml",
    },
    Case {
        name: "cdk",
        source: "tests/data/cloudformation/cdk.out/Stack.template.json",
        template: "cdk.out/Stack.template.json",
    },
    Case {
        name: "plooral",
        source: "examples/plooral-cloudformation",
        template: "plooral-cloudformation/template.yaml",
    },
];

fn case(name: &str) -> &'static Case {
    CASES.iter().find(|c| c.name == name).expect("a known case")
}

/// The result of `pipefix --apply` (twice) on a fresh copy of a case.
struct Applied {
    _dir: Option<tempfile::TempDir>,
    root: PathBuf,
    template: PathBuf,
    original: String,
    fixed: String,
    /// Exit code and stderr of the first `--apply`.
    code: i32,
    stderr: String,
    /// Every file of the copy: before any run, after the first and after the second `--apply`.
    before: BTreeMap<PathBuf, Vec<u8>>,
    after_first: BTreeMap<PathBuf, Vec<u8>>,
    after_second: BTreeMap<PathBuf, Vec<u8>>,
    second_stderr: String,
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_below(dir)
        .into_iter()
        .map(|p| {
            let bytes = fs::read(&p).expect("read");
            (p.strip_prefix(dir).unwrap_or(&p).to_path_buf(), bytes)
        })
        .collect()
}

fn pipefix(args: &[&str], dir: &Path) -> (i32, String) {
    common::pipefix_stderr(args, dir)
}

fn apply(case: &Case) -> Applied {
    let dir = tempfile::tempdir().expect("tempdir");
    let root_dir = dir.path().join("repo");
    let src = root().join(case.source);
    let template = root_dir.join(case.template);
    if src.is_dir() {
        let dst = root_dir.join(src.file_name().expect("folder name"));
        fs::create_dir_all(&dst).expect("mkdir");
        copy_tree(&src, &dst);
    } else {
        fs::create_dir_all(template.parent().expect("parent")).expect("mkdir");
        fs::copy(&src, &template).expect("copy");
    }
    let original = fs::read_to_string(&template).expect("template");
    let before = snapshot(&root_dir);
    let (code, stderr) = pipefix(&["--apply"], &root_dir);
    let after_first = snapshot(&root_dir);
    let fixed = fs::read_to_string(&template).expect("fixed template");
    let (_, second_stderr) = pipefix(&["--apply"], &root_dir);
    let after_second = snapshot(&root_dir);
    Applied {
        _dir: Some(dir),
        root: root_dir,
        template,
        original,
        fixed,
        code,
        stderr,
        before,
        after_first,
        after_second,
        second_stderr,
    }
}

fn load(name: &str, text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text)
        .unwrap_or_else(|e| panic!("{name}: the template does not parse: {e}"));
    assert_eq!(docs.len(), 1, "{name}: one document");
    docs.remove(0)
}

/// The resources of a template whose `Type` is `ty`, by logical id.
fn resources<'a>(doc: &'a Yaml, ty: &str) -> Vec<(String, &'a Yaml)> {
    let mut out = Vec::new();
    if let Some(map) = doc["Resources"].as_hash() {
        for (k, v) in map {
            if v["Type"].as_str() == Some(ty) {
                out.push((k.as_str().unwrap_or_default().to_string(), v));
            }
        }
    }
    out
}

fn one<'a>(name: &str, doc: &'a Yaml, ty: &str) -> &'a Yaml {
    let found = resources(doc, ty);
    assert_eq!(found.len(), 1, "{name}: one {ty}");
    &found[0].1["Properties"]
}

fn items(y: &Yaml) -> &[Yaml] {
    y.as_vec().map(Vec::as_slice).unwrap_or(&[])
}

/// The literal values a property can take: the value itself, or the branches of an `If`
/// (short form `[Cond, a, b]` once the tag is dropped, or long form `{"Fn::If": [...]}`).
fn branches(y: &Yaml) -> Vec<&Yaml> {
    if let Some(args) = y["Fn::If"].as_vec() {
        return args.iter().skip(1).collect();
    }
    match y {
        Yaml::Array(a) if a.len() == 3 && a[0].as_str().is_some() => a.iter().skip(1).collect(),
        other => vec![other],
    }
}

fn int(y: &Yaml) -> Option<i64> {
    match y {
        Yaml::Integer(i) => Some(*i),
        Yaml::String(s) | Yaml::Real(s) => s.parse().ok(),
        _ => None,
    }
}

/// The inner buildspec of the (one) CodeBuild project, and the buildspec read as YAML.
fn buildspec(name: &str, doc: &Yaml) -> (String, Yaml) {
    let text = one(name, doc, "AWS::CodeBuild::Project")["Source"]["BuildSpec"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: Source.BuildSpec is a string"))
        .to_string();
    let inner = load(&format!("{name} (inline buildspec)"), &text);
    (text, inner)
}

// ---------------------------------------------------------------------------------------------
// The oracle itself.

#[test]
fn oracle_reports_an_error_the_fix_added_and_not_one_that_was_there() {
    let Some(py) = common::validator_python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let good = "AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n  Cluster:\n    Type: AWS::ECS::Cluster\n  Service:\n    Type: AWS::ECS::Service\n    Properties:\n      Cluster: !Ref Cluster\n      DesiredCount: 1\n      HealthCheckGracePeriodSeconds: 60\n";
    let original = dir.path().join("original.yaml");
    let fixed = dir.path().join("fixed.yaml");
    let broken_before = dir.path().join("broken-before.yaml");
    fs::write(&original, good).expect("write");
    // The kind of mistake a fix could make: a misspelled property.
    let bad = good.replace("HealthCheckGracePeriodSeconds", "HealthCheckGracePeriod");
    fs::write(&fixed, &bad).expect("write");
    fs::write(&broken_before, &bad).expect("write");
    let found = cfn_lint_new_errors(
        &py,
        &[
            (original.clone(), fixed.clone()),
            (original.clone(), original.clone()),
            (broken_before, fixed),
        ],
    )
    .expect("cfn-lint runs");
    assert_eq!(found.len(), 3);
    assert!(
        found[0].iter().any(|f| f.rule == "E3002"
            && f.path == "Resources/Service/Properties/HealthCheckGracePeriod"),
        "E3002 for the unknown property: {:?}",
        found[0]
    );
    assert!(
        found[1].is_empty(),
        "an unchanged file adds nothing: {:?}",
        found[1]
    );
    assert!(
        found[2].is_empty(),
        "an error the original had already is not new: {:?}",
        found[2]
    );
}

// ---------------------------------------------------------------------------------------------
// Before fixing.

#[test]
fn every_template_passes_cfn_lint_before_fixing() {
    let Some(py) = common::validator_python() else {
        return;
    };
    let files: Vec<PathBuf> = CASES
        .iter()
        .map(|c| {
            let src = root().join(c.source);
            if src.is_dir() {
                src.join("template.yaml")
            } else {
                src
            }
        })
        .collect();
    let errors = cfn_lint_errors(&py, &files).expect("cfn-lint runs");
    for (file, errs) in files.iter().zip(&errors) {
        assert!(
            errs.is_empty(),
            "{} has cfn-lint errors before any fix: {errs:#?}",
            file.display()
        );
    }
}

/// The test data holds what its README says: the six problems, in each style.
#[test]
fn templates_hold_the_problems_they_are_meant_to() {
    for c in CASES {
        let src = root().join(c.source);
        let path = if src.is_dir() {
            src.join("template.yaml")
        } else {
            src
        };
        let text = fs::read_to_string(&path).expect("template");
        let doc = load(c.name, &text);
        let (spec, _) = buildspec(c.name, &doc);
        assert!(spec.contains("aws ecr get-login "), "{}: get-login", c.name);
        assert!(
            spec.contains("docker pull "),
            "{}: a Docker Hub pull",
            c.name
        );
        assert!(spec.contains("echo"), "{}: an echo", c.name);
        let dg = &resources(&doc, "AWS::CodeDeploy::DeploymentGroup");
        assert!(
            dg.iter().any(
                |(_, r)| r["Properties"]["AutoRollbackConfiguration"]["Enabled"]
                    == Yaml::Boolean(false)
            ),
            "{}: a deployment group without rollback",
            c.name
        );
        let td = one(c.name, &doc, "AWS::ECS::TaskDefinition");
        assert!(
            items(&td["ContainerDefinitions"]).iter().any(|cd| {
                !cd["HealthCheck"].is_badvalue() && cd["HealthCheck"]["StartPeriod"].is_badvalue()
            }),
            "{}: a health check without StartPeriod",
            c.name
        );
        for (_, tg) in resources(&doc, "AWS::ElasticLoadBalancingV2::TargetGroup") {
            assert_eq!(
                int(&tg["Properties"]["HealthCheckIntervalSeconds"]),
                Some(5),
                "{}",
                c.name
            );
        }
        assert!(
            !approval_before_prod(&doc),
            "{}: no approval before production",
            c.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// After fixing: what holds for every template.

#[test]
fn fixed_templates_add_no_cfn_lint_error_and_a_second_run_changes_nothing() {
    let runs: Vec<(&Case, Applied)> = CASES.iter().map(|c| (c, apply(c))).collect();
    let mut failures = Vec::new();
    for (c, a) in &runs {
        if !matches!(a.code, 0 | 1) || a.stderr.contains("panicked") {
            failures.push(format!(
                "{}: exit {} (a crash?)\n{}",
                c.name, a.code, a.stderr
            ));
        }
        for l in a.stderr.lines().filter(|l| l.starts_with("error:")) {
            failures.push(format!("{}: {l}", c.name));
        }
        if a.stderr.contains("this is a bug") {
            failures.push(format!(
                "{}: a fix failed verification\n{}",
                c.name, a.stderr
            ));
        }
        if a.after_second != a.after_first {
            let changed: Vec<_> = a
                .after_second
                .iter()
                .filter(|(p, b)| a.after_first.get(*p) != Some(b))
                .map(|(p, _)| p.display().to_string())
                .collect();
            failures.push(format!(
                "{}: a second --apply changed {changed:?}\n{}",
                c.name, a.second_stderr
            ));
        }
        if load(c.name, &a.fixed)["Resources"]
            .as_hash()
            .map(|h| h.len())
            != load(c.name, &a.original)["Resources"]
                .as_hash()
                .map(|h| h.len())
        {
            failures.push(format!("{}: the fix added or removed a resource", c.name));
        }
    }
    if let Some(py) = common::validator_python() {
        let pairs: Vec<(PathBuf, PathBuf)> = runs
            .iter()
            .map(|(c, a)| {
                let original = a.root.with_file_name(format!("original-{}", c.name));
                let original = original.with_extension(
                    a.template
                        .extension()
                        .and_then(|e| e.to_str())
                        .unwrap_or("yaml"),
                );
                fs::write(&original, &a.original).expect("write the original beside the copy");
                (original, a.template.clone())
            })
            .collect();
        let new = cfn_lint_new_errors(&py, &pairs).expect("cfn-lint runs");
        for ((c, _), errs) in runs.iter().zip(&new) {
            if !errs.is_empty() {
                failures.push(format!(
                    "{}: the fixed template has new cfn-lint errors: {errs:#?}",
                    c.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The create-only properties of `src/front/cfn/names.json`, as at the top level of
/// `Properties`, are the same before and after (a change replaces the resource). A task
/// definition is left out: every one of its properties is create-only, and a replacement is a
/// new revision, which is what a fix of a task definition means.
#[test]
fn no_fix_changes_a_create_only_property() {
    let table: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root().join("src/front/cfn/names.json")).expect("table"),
    )
    .expect("table is JSON");
    let types = table["types"].as_object().expect("types");
    let mut failures = Vec::new();
    for c in CASES {
        let a = apply(c);
        let before = load(c.name, &a.original);
        let after = load(c.name, &a.fixed);
        for (ty, entry) in types {
            if ty == "AWS::ECS::TaskDefinition" {
                continue;
            }
            let create_only: Vec<&str> = entry["create_only"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
                .chain(
                    entry["conditional_create_only"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|v| v.as_str()),
                )
                .collect();
            for (id, res) in resources(&before, ty) {
                for prop in &create_only {
                    let old = &res["Properties"][*prop];
                    let new = &after["Resources"][id.as_str()]["Properties"][*prop];
                    if old != new {
                        failures.push(format!(
                            "{}: {id}.{prop} ({ty}) is create-only and changed: {old:?} -> {new:?}",
                            c.name
                        ));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// After fixing: the fixes each template must have received.

/// A stage before the production deploy stage holds a Manual approval.
fn approval_before_prod(doc: &Yaml) -> bool {
    let Some((_, pipeline)) = resources(doc, "AWS::CodePipeline::Pipeline")
        .into_iter()
        .next()
    else {
        return false;
    };
    let stages = items(&pipeline["Properties"]["Stages"]);
    let is_prod = |s: &Yaml| {
        let name = s["Name"].as_str().unwrap_or_default().to_ascii_lowercase();
        (name.contains("prod") || name == "deploy")
            && items(&s["Actions"])
                .iter()
                .any(|a| a["ActionTypeId"]["Category"].as_str() == Some("Deploy"))
    };
    let Some(prod) = stages.iter().position(is_prod) else {
        return false;
    };
    stages[..prod].iter().any(|s| {
        items(&s["Actions"]).iter().any(|a| {
            a["ActionTypeId"]["Category"].as_str() == Some("Approval")
                && a["ActionTypeId"]["Provider"].as_str() == Some("Manual")
        })
    })
}

/// What every template that pipefix may edit must show after `--apply`.
fn assert_common_fixes(name: &str, a: &Applied, secrets: &[&str], pulled: &[&str]) {
    let doc = load(name, &a.fixed);
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            failures.push(format!("{name}: {what}"));
        }
    };
    check(
        a.fixed != a.original,
        "the template was changed at all (pipefix reads CloudFormation)",
    );
    // 1. Manual approval before the production deploy.
    check(
        approval_before_prod(&doc),
        "an Approval/Manual action before the production deploy stage",
    );
    // 2. The inline buildspec: ECR login for AWS CLI v2, Docker Hub pulls from the ECR mirror.
    let (spec, inner) = buildspec(name, &doc);
    check(
        spec.contains("get-login-password"),
        "the buildspec logs in with `aws ecr get-login-password`",
    );
    check(
        !spec.contains("$(aws ecr get-login "),
        "the buildspec no longer runs `$(aws ecr get-login ...)`",
    );
    for image in pulled {
        check(
            spec.contains(&format!("public.ecr.aws/docker/library/{image}"))
                && !spec.contains(&format!("docker pull {image}")),
            &format!("`docker pull {image}` pulls from public.ecr.aws/docker/library"),
        );
    }
    check(
        !inner.is_badvalue() && !inner["phases"].is_badvalue(),
        "the fixed inline buildspec is still a buildspec",
    );
    // 5. Health checks: a start period for every container health check, targets not evicted
    // within 30 s.
    let td = one(name, &doc, "AWS::ECS::TaskDefinition");
    for cd in items(&td["ContainerDefinitions"]) {
        let hc = &cd["HealthCheck"];
        if hc.is_badvalue() {
            continue;
        }
        check(
            branches(&hc["StartPeriod"])
                .iter()
                .all(|v| int(v).is_some_and(|s| s > 0)),
            &format!(
                "container {:?} has a HealthCheck.StartPeriod",
                cd["Name"].as_str()
            ),
        );
        check(
            branches(&hc["Retries"])
                .iter()
                .all(|v| int(v).is_none_or(|r| r >= 2)),
            &format!(
                "container {:?} health check retries at least 2 (every literal branch)",
                cd["Name"].as_str()
            ),
        );
    }
    for (id, tg) in resources(&doc, "AWS::ElasticLoadBalancingV2::TargetGroup") {
        let p = &tg["Properties"];
        let interval = int(&p["HealthCheckIntervalSeconds"]).unwrap_or(30);
        for threshold in branches(&p["UnhealthyThresholdCount"]) {
            check(
                int(threshold).is_some_and(|t| t * interval >= 30),
                &format!("target group {id} keeps a failing target at least 30 s"),
            );
        }
    }
    // 4. Automatic rollback.
    for (id, dg) in resources(&doc, "AWS::CodeDeploy::DeploymentGroup") {
        let arc = &dg["Properties"]["AutoRollbackConfiguration"];
        check(
            arc["Enabled"] == Yaml::Boolean(true)
                && items(&arc["Events"])
                    .iter()
                    .any(|e| e.as_str() == Some("DEPLOYMENT_FAILURE")),
            &format!("deployment group {id} rolls back on DEPLOYMENT_FAILURE"),
        );
    }
    // 6. No secret value left in the template (moved to Secrets Manager references).
    for secret in secrets {
        check(
            !a.fixed.contains(secret),
            &format!("the plaintext secret {secret:?} is gone from the template"),
        );
    }
    check(
        items(&td["ContainerDefinitions"]).iter().all(|cd| {
            items(&cd["Environment"])
                .iter()
                .all(|e| e["Name"].as_str() != Some("DB_PASSWORD"))
        }),
        "DB_PASSWORD is no longer in a container's Environment",
    );
    check(
        items(&td["ContainerDefinitions"]).iter().any(|cd| {
            items(&cd["Secrets"])
                .iter()
                .any(|s| !s["ValueFrom"].is_badvalue())
        }),
        "a container reads its secret from Secrets (ValueFrom)",
    );
    assert!(
        failures.is_empty(),
        "{}\n--- pipefix stderr ---\n{}",
        failures.join("\n"),
        a.stderr
    );
}

/// The ECS-controller service of a template has a circuit breaker with rollback.
fn assert_circuit_breaker(name: &str, a: &Applied, service: &str) {
    let doc = load(name, &a.fixed);
    let cb = &doc["Resources"][service]["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"];
    assert!(
        cb["Enable"] == Yaml::Boolean(true) && cb["Rollback"] == Yaml::Boolean(true),
        "{name}: {service} has DeploymentCircuitBreaker {{Enable: true, Rollback: true}}, got {cb:?}\n{}",
        a.stderr
    );
}

/// A CODE_DEPLOY service's literal grace period covers the container's start period.
fn assert_grace_period(name: &str, a: &Applied, service: &str) {
    let doc = load(name, &a.fixed);
    let grace = int(&doc["Resources"][service]["Properties"]["HealthCheckGracePeriodSeconds"]);
    let td = one(name, &doc, "AWS::ECS::TaskDefinition");
    let start = items(&td["ContainerDefinitions"])
        .iter()
        .filter_map(|cd| int(&cd["HealthCheck"]["StartPeriod"]))
        .max()
        .unwrap_or(1);
    assert!(
        grace.is_some_and(|g| g > 0 && g >= start),
        "{name}: {service} HealthCheckGracePeriodSeconds {grace:?} covers the start period {start}\n{}",
        a.stderr
    );
}

#[test]
fn short_form_yaml_is_fixed_in_place() {
    let a = apply(case("short-form"));
    assert_common_fixes("short-form", &a, &["s3cr3t-Orders-2024"], &["node:18"]);
    // Intrinsics are kept: the !Sub image is reported, not rewritten; the grace period comes
    // from a parameter used once, which a safe fix does not touch.
    for line in [
        "Image: !Sub \"${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/orders-api:${ImageTag}\"",
        "HealthCheckGracePeriodSeconds: !Ref GracePeriod",
        "ServiceName: !GetAtt Service.Name",
    ] {
        assert!(a.fixed.contains(line), "short-form: kept `{line}`");
    }
    let doc = load("short-form", &a.fixed);
    assert_eq!(int(&doc["Parameters"]["GracePeriod"]["Default"]), Some(0));
    assert!(
        a.stderr
            .lines()
            .any(|l| l.contains("SV002") && l.contains("depends on a parameter")),
        "short-form: SV002 reports the grace period as depending on a parameter\n{}",
        a.stderr
    );
    let (spec, _) = buildspec("short-form", &doc);
    assert!(
        spec.contains("on-failure: ABORT"),
        "short-form: the build phase stops on failure"
    );
    // The literal block stays a literal block with its indentation.
    assert!(
        a.fixed
            .contains("        BuildSpec: |\n          version: 0.2\n")
    );
}

#[test]
fn long_form_yaml_is_fixed_in_place() {
    let a = apply(case("long-form"));
    assert_common_fixes(
        "long-form",
        &a,
        &["billing-Pa55word"],
        &["python:3.12-slim"],
    );
    assert_circuit_breaker("long-form", &a, "StagingService");
    assert_grace_period("long-form", &a, "ProdService");
    // The approval goes before Production, not before Staging.
    let doc = load("long-form", &a.fixed);
    let stages: Vec<&str> = items(&one("long-form", &doc, "AWS::CodePipeline::Pipeline")["Stages"])
        .iter()
        .filter_map(|s| s["Name"].as_str())
        .collect();
    let staging = stages.iter().position(|s| *s == "Staging");
    let prod = stages.iter().position(|s| *s == "Production");
    assert!(
        staging.is_some() && prod == staging.map(|s| s + 2),
        "long-form: one stage inserted between Staging and Production: {stages:?}"
    );
    // The Fn::If stays, with both literal branches fixed.
    assert!(
        a.fixed
            .contains("UnhealthyThresholdCount:\n        Fn::If:\n")
    );
}

#[test]
fn json_template_is_fixed_in_place() {
    let a = apply(case("json"));
    assert_common_fixes("json", &a, &["catalog-Secret-99"], &["nginx:1.25"]);
    assert_grace_period("json", &a, "Service");
    let doc: serde_json::Value = serde_json::from_str(&a.fixed).expect("still JSON");
    assert!(
        doc["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["HealthCheck"]
            ["Retries"]["Fn::If"]
            .is_array(),
        "json: the Fn::If of Retries is kept"
    );
}

#[test]
fn sam_template_is_fixed_in_place() {
    let a = apply(case("sam"));
    assert_common_fixes(
        "sam",
        &a,
        &["n0tify-Smtp-77", "n0tify-Db-88"],
        &["golang:1.22"],
    );
    assert_circuit_breaker("sam", &a, "Service");
    for kept in [
        "Transform: AWS::Serverless-2016-10-31",
        "BuildSpec: !Sub |",
        "DesiredCount: !If [HasTwoTasks, 2, 1]",
        "echo \"commit ${!CODEBUILD_RESOLVED_SOURCE_VERSION}\"",
        "--region ${AWS::Region}",
    ] {
        assert!(a.fixed.contains(kept), "sam: kept `{kept}`");
    }
}

#[test]
fn cdk_output_is_reported_never_changed() {
    let a = apply(case("cdk"));
    assert_eq!(
        a.after_first, a.before,
        "cdk: build output is never edited\n{}",
        a.stderr
    );
    let lines: Vec<&str> = a
        .stderr
        .lines()
        .filter(|l| l.contains("Stack.template.json"))
        .collect();
    for (id, cdk_path) in [
        ("CP001", "InventoryStack/Pipeline/Resource"),
        ("DG001", "InventoryStack/DeploymentGroup/Resource"),
        ("TD003", "InventoryStack/TaskDef/Resource"),
        ("TG001", "InventoryStack/Service/BlueTG/Resource"),
        ("SV002", "InventoryStack/Service/Service"),
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(id) && a.stderr.contains(cdk_path)),
            "cdk: {id} is reported with the construct path {cdk_path}\n{}",
            a.stderr
        );
    }
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("TD002") && l.contains("container-assets")),
        "cdk: a CDK asset tag is content-addressed, not a mutable tag\n{}",
        a.stderr
    );
}

/// The seed incident as a template: everything the raw example fixes that lives in the template.
#[test]
fn plooral_cloudformation_gets_the_fixes_of_the_raw_example() {
    let a = apply(case("plooral"));
    assert_common_fixes(
        "plooral",
        &a,
        &[
            "Pl00ral-prod-2024!",
            "b3f9c1e07a4d4c2e9f6a18d5e2c7b0a4f3e1d9c8b7a6f5e4",
            "dckr_pat_4mXq8bV2nLz7RtY0cKw3HsPe9Jg",
        ],
        &["node:18-alpine", "postgres:15"],
    );
    assert_grace_period("plooral", &a, "Service");
    let doc = load("plooral", &a.fixed);
    let (spec, _) = buildspec("plooral", &doc);
    for (what, ok) in [
        ("on-failure: ABORT", spec.contains("on-failure: ABORT")),
        ("no printenv", !spec.contains("printenv")),
        ("--password-stdin", spec.contains("--password-stdin")),
        ("imageDetail.json", spec.contains("imageDetail.json")),
    ] {
        assert!(ok, "plooral: buildspec {what}\n{}", a.stderr);
    }
    let deploy = items(&one("plooral", &doc, "AWS::CodePipeline::Pipeline")["Stages"])
        .iter()
        .flat_map(|s| items(&s["Actions"]))
        .find(|a| a["ActionTypeId"]["Provider"].as_str() == Some("CodeDeployToECS"))
        .cloned()
        .unwrap_or(Yaml::BadValue);
    assert_eq!(
        deploy["Configuration"]["Image1ContainerName"].as_str(),
        Some("IMAGE1_NAME"),
        "plooral: CP003"
    );
    // The appspec beside the template is fixed as in the raw example.
    let appspec =
        fs::read_to_string(a.root.join("plooral-cloudformation/appspec.yml")).expect("appspec");
    assert!(appspec.contains("<TASK_DEFINITION>"), "plooral: AS001");
    // A second run finds nothing more to fix.
    assert!(
        !a.second_stderr.lines().any(|l| l.ends_with("[fixed]")),
        "plooral: the second run fixed more\n{}",
        a.second_stderr
    );
}

// ---------------------------------------------------------------------------------------------
// The checks themselves: a template fixed by hand, the way the issue describes, meets them and
// is valid CloudFormation (so the checks above ask for something a correct fix can do).

fn hand_fixed(name: &str) -> Applied {
    let c = case(name);
    let original = fs::read_to_string(root().join(c.source)).expect("template");
    let expected = root()
        .join("tests/data/cloudformation/expected")
        .join(c.template);
    let fixed = fs::read_to_string(&expected).expect("hand-fixed template");
    Applied {
        _dir: None,
        root: root(),
        template: expected,
        original,
        fixed,
        code: 1,
        stderr: String::new(),
        before: BTreeMap::new(),
        after_first: BTreeMap::new(),
        after_second: BTreeMap::new(),
        second_stderr: String::new(),
    }
}

#[test]
fn hand_fixed_templates_meet_the_checks_and_pass_cfn_lint() {
    let short = hand_fixed("short-form");
    assert_common_fixes("short-form", &short, &["s3cr3t-Orders-2024"], &["node:18"]);
    let long = hand_fixed("long-form");
    assert_common_fixes(
        "long-form",
        &long,
        &["billing-Pa55word"],
        &["python:3.12-slim"],
    );
    assert_circuit_breaker("long-form", &long, "StagingService");
    assert_grace_period("long-form", &long, "ProdService");
    // And the checks refuse the unfixed templates.
    let unfixed = Applied {
        fixed: short.original.clone(),
        ..hand_fixed("short-form")
    };
    let refused = std::panic::catch_unwind(|| {
        assert_common_fixes(
            "short-form",
            &unfixed,
            &["s3cr3t-Orders-2024"],
            &["node:18"],
        )
    });
    assert!(refused.is_err(), "the checks refuse an unfixed template");
    let Some(py) = common::validator_python() else {
        return;
    };
    let pairs = [
        (
            root().join(case("short-form").source),
            short.template.clone(),
        ),
        (root().join(case("long-form").source), long.template.clone()),
    ];
    let new = cfn_lint_new_errors(&py, &pairs).expect("cfn-lint runs");
    assert!(
        new.iter().all(Vec::is_empty),
        "the hand-fixed templates are valid: {new:#?}"
    );
}
