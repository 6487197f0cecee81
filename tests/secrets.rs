//! Secrets never leak: property tests over generated secret values.
//!
//! For each generated value, placed in every position a fix may touch or show (buildspec
//! `env.variables`, task definition `environment`, the pipeline's `OAuthToken`, a build log
//! line), no output of `--format text` (stdout and stderr, dry run and `--apply`) contains it;
//! only `--format patch` may. And for files that do not parse, where no fix can know which
//! value is secret, error messages never quote the value of the line they point at.
//!
//! The generator is a small seeded xorshift (no new dependency): the seeds are fixed, so a
//! failure names the case that reproduces it. New positions (as fixes that move secrets
//! land) are one more entry in `POSITIONS` or `BROKEN`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A secret-looking value: 10 to 40 characters of letters, digits and the punctuation
    /// passwords use (nothing that needs escaping in JSON or YAML double quotes).
    fn secret(&mut self) -> String {
        const CHARS: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@%+=/!~^*";
        let n = 10 + self.below(31);
        // A fixed first letter pair makes accidental matches with ordinary output impossible.
        let mut s = String::from("Qz");
        for _ in 2..n {
            s.push(CHARS[self.below(CHARS.len())] as char);
        }
        s
    }

    /// A value of the shape of a credential, whatever the variable's name.
    fn credential(&mut self) -> String {
        const UP: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut s = String::from("AKIA");
        for _ in 0..16 {
            s.push(UP[self.below(UP.len())] as char);
        }
        s
    }
}

fn pipefix() -> Command {
    let mut c = Command::cargo_bin("pipefix").expect("binary");
    c.env_remove("NO_COLOR");
    c
}

fn all_output(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Neither the value nor a long piece of it (a message that cuts a token short) appears.
fn assert_absent(output: &str, secret: &str, what: &str) {
    assert!(
        !output.contains(secret),
        "{what}: the secret {secret:?} is in the output:\n{output}"
    );
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 16 {
        let half: String = chars[..chars.len() / 2].iter().collect();
        assert!(
            !output.contains(&half),
            "{what}: part of the secret {secret:?} is in the output:\n{output}"
        );
    }
}

/// Where a secret is put in a copy of the bundled example: (file, original value, how the
/// value is written there). Each original is a literal of the example.
const POSITIONS: [(&str, &str, &str); 7] = [
    // buildspec env.variables (BS006's ground)
    (
        "pipeline/buildspec.yml",
        "DB_PASSWORD: \"Pl00ral-prod-2024!\"",
        "DB_PASSWORD: \"{}\"",
    ),
    (
        "pipeline/buildspec.yml",
        "DOCKERHUB_TOKEN: \"dckr_pat_4mXq8bV2nLz7RtY0cKw3HsPe9Jg\"",
        "DOCKERHUB_TOKEN: \"{}\"",
    ),
    // task definition environment (TD004's ground), next to the health check TD003 fixes,
    // so the values are in the diff's context
    (
        "pipeline/ecs_taskdef.json",
        "\"value\": \"Pl00ral-prod-2024!\"",
        "\"value\": \"{}\"",
    ),
    (
        "pipeline/ecs_taskdef.json",
        "\"value\": \"b3f9c1e07a4d4c2e9f6a18d5e2c7b0a4f3e1d9c8b7a6f5e4\"",
        "\"value\": \"{}\"",
    ),
    // inside the health check TD003 rewrites: in the diff itself
    (
        "pipeline/ecs_taskdef.json",
        "wget -q -O /dev/null http://localhost:8080/health || exit 1",
        "HEALTH_TOKEN={} wget -q -O /dev/null http://localhost:8080/health || exit 1",
    ),
    // the pipeline's source token (CP002's ground), in the file CP001 rewrites
    (
        "pipeline/codepipeline.json",
        "\"OAuthToken\": \"ghp_Q7mZk2VfT9xRb4LwN8pYc1HdJ6sGa3Ue5KoX\"",
        "\"OAuthToken\": \"{}\"",
    ),
    // a build log line
    (
        "artifacts/codebuild.log",
        "Processing environment variables\n",
        "Processing environment variables\n[Container] 2024/05/14 10:05:14.315590 Running command export API_TOKEN={} && npm ci\n",
    ),
];

/// A copy of the example with one generated secret in each position (and a credential-shaped
/// value under an innocent name in the task definition).
fn planted(rng: &mut Rng) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let dst = dir.path().join("plooral");
    fs::create_dir_all(&dst).expect("mkdir");
    common::copy_tree(&common::root().join("examples/plooral"), &dst);
    let mut secrets = Vec::new();
    for (file, original, template) in POSITIONS {
        let p = dst.join(file);
        let text = fs::read_to_string(&p).expect("read");
        assert!(text.contains(original), "{file} no longer holds {original}");
        let s = rng.secret();
        let text = text.replacen(original, &template.replace("{}", &s), 1);
        fs::write(&p, text).expect("write");
        secrets.push(s);
    }
    let td = dst.join("pipeline/ecs_taskdef.json");
    let text = fs::read_to_string(&td).expect("read");
    let cred = rng.credential();
    let text = text.replacen(
        "\"value\": \"plooral_app\"",
        &format!("\"value\": \"user {cred} (rotated)\""),
        1,
    );
    fs::write(&td, text).expect("write");
    secrets.push(cred);
    (dir, secrets)
}

#[test]
fn generated_secrets_never_reach_text_output() {
    // One seeded case per run of the suite keeps it fast (each run covers the whole example);
    // raise the count locally to explore more values.
    let mut rng = Rng(0x5eed_0001);
    for case in 0..1 {
        let (dir, secrets) = planted(&mut rng);
        for args in [&["--dry-run", "--unsafe-fixes", "plooral"][..]] {
            let out = pipefix()
                .current_dir(dir.path())
                .args(args)
                .output()
                .expect("runs");
            assert_ne!(out.status.code(), Some(2), "{}", all_output(&out));
            let text = all_output(&out);
            assert!(text.contains("TD003"), "the fixes ran: {text}");
            for s in &secrets {
                assert_absent(&text, s, &format!("case {case}, {args:?}"));
            }
        }
        // The patch is exact: it must carry the values in its context to apply.
        let patch = pipefix()
            .current_dir(dir.path())
            .args(["--format", "patch", "plooral"])
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&patch.stdout);
        assert!(
            secrets.iter().any(|s| stdout.contains(s.as_str())),
            "case {case}: the patch should hold the unmasked context"
        );
        assert!(!stdout.contains("****"), "case {case}: the patch is masked");
        for s in &secrets {
            assert_absent(&String::from_utf8_lossy(&patch.stderr), s, "patch stderr");
        }
        let applied = pipefix()
            .current_dir(dir.path())
            .args(["--apply", "--unsafe-fixes", "plooral"])
            .output()
            .expect("runs");
        assert_ne!(applied.status.code(), Some(2), "{}", all_output(&applied));
        for s in &secrets {
            assert_absent(&all_output(&applied), s, &format!("case {case}, --apply"));
        }
    }
}

/// Broken files with a secret on the line the error points at: (file name, text with `{}`).
const BROKEN: [(&str, &str); 9] = [
    (
        "taskdef.json",
        "{\"family\": \"x\", \"containerDefinitions\": [{\"name\": \"a\", \"environment\": [\n  {\"name\": \"DB_PASSWORD\", \"value\": {}}\n]}]}\n",
    ),
    (
        "taskdef.json",
        "{\"family\": \"x\", \"containerDefinitions\": [{\"name\": \"a\", \"environment\": [\n  {\"name\": \"DB_PASSWORD\", \"value\": 12{}}\n]}]}\n",
    ),
    (
        "taskdef.json",
        "{\"family\": \"x\", \"containerDefinitions\": [{\"name\": \"a\", \"environment\": [\n  {\"name\": \"DB_PASSWORD\", \"value\": \"{}\n",
    ),
    (
        "taskdef.json",
        "{\"family\": \"x\", \"containerDefinitions\": [{\"name\": \"a\", \"environment\": [\n  {\"name\": \"DB_PASSWORD\", \"value\": \"{}\\q\"}\n]}]}\n",
    ),
    (
        "taskdef.json",
        "{\"family\": \"x\", \"containerDefinitions\": [{\"name\": \"a\", \"environment\": [\n  {\"name\": \"DB_PASSWORD\", {}: 1}\n]}]}\n",
    ),
    (
        "buildspec.yml",
        "version: 0.2\nenv:\n  variables:\n    DB_PASSWORD: \"{}\nphases:\n  build:\n    commands: [make]\n",
    ),
    (
        "buildspec.yml",
        "version: 0.2\nenv:\n  variables:\n    DB_PASSWORD: {}: x\nphases:\n  build:\n    commands: [make]\n",
    ),
    (
        "buildspec.yml",
        "version: 0.2\nenv:\n  variables:\n    DB_PASSWORD: {}\n    DB_PASSWORD: {}\nphases:\n  build:\n    commands: [make]\n",
    ),
    (
        "buildspec.yml",
        "version: 0.2\nenv:\n  variables:\n    DB_PASSWORD: '{}\n    x: [\nphases: {}\n",
    ),
];

#[test]
fn parse_errors_never_quote_a_secret() {
    let mut rng = Rng(0x5eed_0002);
    for case in 0..4 {
        for (i, (name, template)) in BROKEN.iter().enumerate() {
            let s = rng.secret();
            let dir = tempfile::tempdir().expect("tempdir");
            let p = dir.path().join(name);
            let body = template.replace("{}", &s);
            fs::write(&p, &body).expect("write");
            for format in ["text", "patch"] {
                let out = pipefix()
                    .current_dir(dir.path())
                    .args(["--format", format, "."])
                    .output()
                    .expect("runs");
                let text = all_output(&out);
                assert_eq!(out.status.code(), Some(2), "case {case}.{i}: {text}");
                assert!(text.contains(&format!("error: ./{name}:")), "{text}");
                assert_absent(&text, &s, &format!("case {case}.{i} ({format})"));
            }
            assert_eq!(fs::read_to_string(Path::new(&p)).expect("read"), body);
        }
    }
}
