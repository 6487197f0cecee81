//! `--resolve-digests` against a real OCI registry on loopback (Debian's `docker-registry`,
//! CNCF distribution 2.8) and small in-process stubs for what a stock registry cannot show
//! (a bearer token server, a registry that never answers, one that goes away mid-run).
//!
//! Every address is on 127.0.0.1; no test touches the internet. The images are created by the
//! tests themselves (config blob + layer blob + manifest, pushed with plain HTTP), and every
//! expected digest is the sha256 of the bytes the test pushed.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use base64::Engine;
use sha2::{Digest, Sha256};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The registry binary, or `None` (with a note) when it is not installed. In CI it must be.
fn registry_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("docker-registry"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "docker-registry must be installed in CI (scripts/setup-registry.sh)"
        );
        eprintln!(
            "note: docker-registry is not installed (apt-get install docker-registry); registry tests skipped"
        );
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A real registry bound to 127.0.0.1 on a free port, storage in a temp dir, stopped on drop.
struct Registry {
    child: Child,
    host: String,
    auth: Option<String>,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// `htpasswd`: `Some((user, password))` turns on Basic auth with a bcrypt htpasswd file.
    fn start(htpasswd: Option<(&str, &str)>) -> Option<Registry> {
        let bin = registry_binary()?;
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        let mut auth = None;
        if let Some((user, password)) = htpasswd {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) must be installed with docker-registry");
            assert!(out.status.success(), "htpasswd failed");
            let file = dir.path().join("htpasswd");
            fs::write(&file, &out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: pipefix-test\n    path: {}\n",
                file.display()
            ));
            auth = Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ));
        }
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).expect("write registry config");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            child,
            host: format!("127.0.0.1:{port}"),
            auth,
            _dir: dir,
        };
        let agent = agent();
        let start = Instant::now();
        loop {
            let url = format!("http://{}/v2/", registry.host);
            if let Ok(r) = agent.get(&url).call()
                && matches!(r.status().as_u16(), 200 | 401)
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn request(&self, method: &str, url: &str) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let agent = agent();
        let mut req = match method {
            "PUT" => agent.put(url),
            _ => agent.post(url),
        };
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        req
    }

    fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let url = format!("http://{}/v2/{repo}/blobs/uploads/", self.host);
        let resp = self
            .request("POST", &url)
            .send(&[][..])
            .expect("start blob upload");
        assert_eq!(resp.status().as_u16(), 202, "blob upload start");
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_string();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("http://{}{location}", self.host)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={digest}");
        let resp = self
            .request("PUT", &put)
            .header("Content-Type", "application/octet-stream")
            .send(bytes)
            .expect("finish blob upload");
        assert_eq!(resp.status().as_u16(), 201, "blob upload");
        digest
    }

    fn push_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> String {
        let url = format!("http://{}/v2/{repo}/manifests/{reference}", self.host);
        let resp = self
            .request("PUT", &url)
            .header("Content-Type", media_type)
            .send(body)
            .expect("push manifest");
        assert_eq!(resp.status().as_u16(), 201, "manifest push");
        sha256(body)
    }

    /// A tiny single-platform OCI image under `repo:tag`; `seed` makes its content unique.
    /// Returns (manifest digest, manifest size).
    fn push_image(&self, repo: &str, tag: &str, seed: &str, arch: &str) -> (String, usize) {
        let config = format!(
            r#"{{"architecture":"{arch}","os":"linux","config":{{"Env":["SEED={seed}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#
        );
        let layer = format!("layer of {seed}").into_bytes();
        let config_digest = self.push_blob(repo, config.as_bytes());
        let layer_digest = self.push_blob(repo, &layer);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        let digest = self.push_manifest(repo, tag, OCI_MANIFEST, manifest.as_bytes());
        (digest, manifest.len())
    }

    /// A multi-arch tag: two platform manifests and the index naming them. Returns
    /// (index digest, platform manifest digests).
    fn push_index(&self, repo: &str, tag: &str) -> (String, Vec<String>) {
        let mut entries = Vec::new();
        let mut platform_digests = Vec::new();
        for arch in ["amd64", "arm64"] {
            let (d, size) = self.push_image(repo, &format!("{tag}-{arch}"), arch, arch);
            entries.push(format!(
                r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":{size},"platform":{{"architecture":"{arch}","os":"linux"}}}}"#
            ));
            platform_digests.push(d);
        }
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{}]}}"#,
            entries.join(",")
        );
        let digest = self.push_manifest(repo, tag, OCI_INDEX, index.as_bytes());
        (digest, platform_digests)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// A task definition with one container per image.
fn taskdef(images: &[&str]) -> String {
    let containers: Vec<String> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            format!(
                "    {{ \"name\": \"c{i}\", \"image\": \"{image}\", \"essential\": {} }}",
                i == 0
            )
        })
        .collect();
    format!(
        "{{\n  \"family\": \"svc\",\n  \"containerDefinitions\": [\n{}\n  ]\n}}\n",
        containers.join(",\n")
    )
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run pipefix in `dir` (TD002 only, so that the assertions see one rule's work), with its own
/// Docker configuration folder and no proxy.
fn pipefix(dir: &Path, docker_config: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("pipefix")
        .expect("binary")
        .current_dir(dir)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .args(["--select", "TD002"])
        .args(args)
        .output()
        .expect("run pipefix");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn workdir(images: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("taskdef.json");
    fs::write(&file, taskdef(images)).expect("write taskdef");
    fs::create_dir(dir.path().join("docker")).expect("docker config dir");
    (dir, file)
}

fn images_of(file: &Path) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(file).expect("read")).expect("still JSON");
    v["containerDefinitions"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| c["image"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn single_arch_and_multi_arch_tags_pin_the_digest_the_registry_reports() {
    let Some(reg) = Registry::start(None) else {
        return;
    };
    let (single, _) = reg.push_image("team/app", "1.0", "one", "amd64");
    let (index, platforms) = reg.push_index("team/multi", "2.0");
    let app = format!("{}/team/app:1.0", reg.host);
    let multi = format!("{}/team/multi:2.0", reg.host);
    let (dir, file) = workdir(&[&app, &multi]);
    let docker = dir.path().join("docker");

    // Without the flag nothing is asked and nothing is fixed.
    let before = fs::read_to_string(&file).expect("read");
    let offline = pipefix(dir.path(), &docker, &["--apply"]);
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert_eq!(fs::read_to_string(&file).expect("read"), before);

    let run = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        images_of(&file),
        vec![
            format!("{}/team/app@{single}", reg.host),
            format!("{}/team/multi@{index}", reg.host)
        ]
    );
    // The index, never one platform's manifest.
    assert!(!platforms.contains(&index));
    // The report names the tag that was resolved.
    assert!(run.stderr.contains("tag \"2.0\""), "{}", run.stderr);
    // A second run changes nothing.
    let pinned = fs::read_to_string(&file).expect("read");
    let again = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(fs::read_to_string(&file).expect("read"), pinned);
}

#[test]
fn a_moved_tag_is_followed_until_pinned_and_a_pin_stays() {
    let Some(reg) = Registry::start(None) else {
        return;
    };
    let (first, _) = reg.push_image("team/app", "stable", "first", "amd64");
    let app = format!("{}/team/app:stable", reg.host);
    let (dir, file) = workdir(&[&app]);
    let docker = dir.path().join("docker");
    // A dry run shows the digest of now...
    let dry = pipefix(dir.path(), &docker, &["--resolve-digests"]);
    assert!(dry.stdout.contains(&first), "{}", dry.stdout);
    // ...the tag moves before --apply: the pin written is the one the registry reports then.
    let (second, _) = reg.push_image("team/app", "stable", "second", "amd64");
    assert_ne!(first, second);
    let run = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        images_of(&file),
        vec![format!("{}/team/app@{second}", reg.host)]
    );
    // Once pinned, the image stays on its pin when the tag moves again: moving a pin is a
    // decision, not a fix.
    let pinned = fs::read_to_string(&file).expect("read");
    reg.push_image("team/app", "stable", "third", "amd64");
    let later = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(later.code, 0, "{}", later.stderr);
    assert_eq!(fs::read_to_string(&file).expect("read"), pinned);
}

#[test]
fn a_missing_tag_or_repository_is_a_finding_not_a_crash() {
    let Some(reg) = Registry::start(None) else {
        return;
    };
    let (good, _) = reg.push_image("team/app", "1.0", "one", "amd64");
    let app = format!("{}/team/app:1.0", reg.host);
    let missing_tag = format!("{}/team/app:nope", reg.host);
    let missing_repo = format!("{}/team/ghost:1.0", reg.host);
    let (dir, file) = workdir(&[&app, &missing_tag, &missing_repo]);
    let docker = dir.path().join("docker");
    let run = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "could not resolve: 404 from {}: no tag \"nope\" in \"team/app\"",
            reg.host
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "could not resolve: 404 from {}: no repository \"team/ghost\"",
            reg.host
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        images_of(&file),
        vec![
            format!("{}/team/app@{good}", reg.host),
            missing_tag,
            missing_repo
        ]
    );
}

#[test]
fn basic_auth_from_the_docker_configuration() {
    let Some(reg) = Registry::start(Some(("alice", "s3cret-pw"))) else {
        return;
    };
    let (digest, _) = reg.push_image("team/private", "1.0", "private", "amd64");
    let image = format!("{}/team/private:1.0", reg.host);
    let (dir, file) = workdir(&[&image]);
    let docker = dir.path().join("docker");

    // No credentials: refused, reported, unchanged.
    let before = fs::read_to_string(&file).expect("read");
    let refused = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("could not resolve: 401 from {}", reg.host)),
        "{}",
        refused.stderr
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), before);

    // Wrong password: refused too, and the password is never printed.
    let write_auth = |password: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{password}"));
        fs::write(
            docker.join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host),
        )
        .expect("write docker config");
    };
    write_auth("wrong-pw");
    let wrong = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("401 from"), "{}", wrong.stderr);
    assert!(!wrong.stderr.contains("wrong-pw") && !wrong.stdout.contains("wrong-pw"));
    assert_eq!(fs::read_to_string(&file).expect("read"), before);

    write_auth("s3cret-pw");
    let run = pipefix(dir.path(), &docker, &["--apply", "--resolve-digests"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        images_of(&file),
        vec![format!("{}/team/private@{digest}", reg.host)]
    );
    assert!(!run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"));
}

#[test]
fn a_registry_that_is_down_is_a_finding() {
    let Some(mut reg) = Registry::start(None) else {
        return;
    };
    reg.push_image("team/app", "1.0", "one", "amd64");
    let image = format!("{}/team/app:1.0", reg.host);
    reg.stop();
    let (dir, file) = workdir(&[&image]);
    let before = fs::read_to_string(&file).expect("read");
    let run = pipefix(
        dir.path(),
        &dir.path().join("docker"),
        &["--apply", "--resolve-digests"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "could not resolve: {}: connection refused",
            reg.host
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), before);
}

// ---------------------------------------------------------------------------------------------
// In-process stubs on loopback.

/// One HTTP request as the stubs see it.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
    })
}

fn respond(mut stream: &TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    let _ = stream.write_all(text.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Serve `handler` on a loopback port in a thread, for at most `max` connections or 30 s.
fn stub(
    max: usize,
    handler: impl Fn(&Request, &TcpStream, usize) + Send + 'static,
) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind stub");
    let host = format!("127.0.0.1:{}", listener.local_addr().expect("addr").port());
    listener.set_nonblocking(true).expect("nonblocking");
    let handle = std::thread::spawn(move || {
        let start = Instant::now();
        let mut served = 0;
        while served < max && start.elapsed() < Duration::from_secs(30) {
            match listener.accept() {
                Ok((stream, _)) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    if let Some(req) = read_request(&stream) {
                        handler(&req, &stream, served);
                    }
                    served += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        // Dropping the listener: later connections are refused.
    });
    (host, handle)
}

#[test]
fn the_bearer_token_flow_with_credentials_and_a_registry_without_digest_header() {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#.to_vec();
    let expected = sha256(&manifest);
    let token = "tok-3f1a9c";
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("bob:hunter2-pw")
    );
    let listener_host = Arc::new(std::sync::Mutex::new(String::new()));
    let shared_host = listener_host.clone();
    let token_requests = Arc::new(AtomicUsize::new(0));
    let counted = token_requests.clone();
    let (host, handle) = stub(8, move |req, stream, _| {
        let host = shared_host.lock().map(|h| h.clone()).unwrap_or_default();
        if req.target.starts_with("/token?") {
            counted.fetch_add(1, Ordering::SeqCst);
            let ok = req.header("authorization") == Some(basic.as_str())
                && req.target.contains("scope=repository%3Ateam%2Fapp%3Apull")
                && req.target.contains("service=stub");
            if ok {
                respond(
                    stream,
                    "200 OK",
                    &[],
                    format!(r#"{{"token":"{token}"}}"#).as_bytes(),
                );
            } else {
                respond(stream, "401 Unauthorized", &[], b"");
            }
            return;
        }
        if req.target == "/v2/team/app/manifests/1.0" {
            let accept = req.header("accept").unwrap_or("");
            if req.header("authorization") != Some(format!("Bearer {token}").as_str()) {
                respond(
                    stream,
                    "401 Unauthorized",
                    &[(
                        "WWW-Authenticate",
                        format!(
                            r#"Bearer realm="http://{host}/token",service="stub",scope="repository:team/app:pull""#
                        ),
                    )],
                    b"",
                );
            } else if !(accept.contains(OCI_INDEX) && accept.contains(OCI_MANIFEST)) {
                respond(stream, "404 Not Found", &[], b"");
            } else if req.method == "HEAD" {
                // No Docker-Content-Digest: the client must GET and hash the manifest.
                respond(
                    stream,
                    "200 OK",
                    &[("Content-Type", OCI_MANIFEST.to_string())],
                    b"",
                );
            } else {
                respond(
                    stream,
                    "200 OK",
                    &[("Content-Type", OCI_MANIFEST.to_string())],
                    &manifest,
                );
            }
            return;
        }
        respond(stream, "404 Not Found", &[], b"");
    });
    if let Ok(mut h) = listener_host.lock() {
        *h = host.clone();
    }
    let image = format!("{host}/team/app:1.0");
    let (dir, file) = workdir(&[&image]);
    let docker = dir.path().join("docker");
    fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#,
            base64::engine::general_purpose::STANDARD.encode("bob:hunter2-pw")
        ),
    )
    .expect("docker config");
    let run = pipefix(
        dir.path(),
        &docker,
        &["--apply", "--resolve-digests", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stderr, run.stdout);
    assert_eq!(
        images_of(&file),
        vec![format!("{host}/team/app@{expected}")]
    );
    assert_eq!(token_requests.load(Ordering::SeqCst), 1);
    for secret in [token, "hunter2-pw"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
    drop(handle);
}

#[test]
fn a_registry_that_never_answers_times_out_and_one_that_goes_away_mid_run() {
    // A listener that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_host = format!("127.0.0.1:{}", silent.local_addr().expect("addr").port());
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        silent.set_nonblocking(true).ok();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(15) {
            if let Ok((s, _)) = silent.accept() {
                open.push(s);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    // A registry that answers one request, then is gone.
    let digest = format!("sha256:{}", "ab".repeat(32));
    let answered = digest.clone();
    let (gone_host, gone) = stub(1, move |_, stream, _| {
        respond(
            stream,
            "200 OK",
            &[("Docker-Content-Digest", answered.clone())],
            b"",
        );
    });
    let slow = format!("{silent_host}/team/slow:1.0");
    let first = format!("{gone_host}/team/first:1.0");
    let second = format!("{gone_host}/team/second:1.0");
    let (dir, file) = workdir(&[&slow, &first, &second]);
    fs::write(
        dir.path().join("pipefix.toml"),
        "resolve-digests = true\nregistry-timeout = 1\n",
    )
    .expect("config");
    let start = Instant::now();
    let run = pipefix(dir.path(), &dir.path().join("docker"), &["--apply"]);
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "could not resolve: {silent_host} did not answer within 1 s"
        )),
        "{}",
        run.stderr
    );
    let images = images_of(&file);
    assert_eq!(images[0], slow);
    // One of the two on the vanishing registry got its answer, the other a reason.
    let pinned: Vec<&String> = images[1..].iter().filter(|i| i.contains('@')).collect();
    assert_eq!(pinned.len(), 1, "{images:?}");
    assert!(pinned[0].ends_with(&digest));
    assert!(
        run.stderr
            .contains(&format!("could not resolve: {gone_host}")),
        "{}",
        run.stderr
    );
    // --offline wins over the configuration: nothing is asked.
    let offline = pipefix(dir.path(), &dir.path().join("docker"), &["--offline"]);
    assert!(
        !offline.stderr.contains("could not resolve"),
        "{}",
        offline.stderr
    );
    let _ = gone.join();
    drop(held);
}

#[test]
fn the_plooral_example_gets_every_image_pinned_from_a_local_registry() {
    let Some(reg) = Registry::start(None) else {
        return;
    };
    // The example's sidecar is a Docker Hub image; tests never reach Docker Hub, so the copy
    // names the same repository on the loopback registry, which holds an image the test made.
    let (agent_digest, _) = reg.push_image("datadog/agent", "latest", "agent", "amd64");
    let tree = common::example_copy();
    let root = tree.path().join("plooral");
    let taskdef = root.join("pipeline/ecs_taskdef.json");
    let text = fs::read_to_string(&taskdef).expect("read");
    assert!(text.contains("\"datadog/agent:latest\""));
    let local = format!("\"{}/datadog/agent:latest\"", reg.host);
    fs::write(&taskdef, text.replace("\"datadog/agent:latest\"", &local)).expect("write");
    let docker = tree.path().join("docker-config");
    let root_dir = root.clone();
    fs::create_dir(&docker).expect("mkdir");
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("pipefix")
            .expect("binary")
            .current_dir(&root_dir)
            .env("DOCKER_CONFIG", &docker)
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .args(args)
            .output()
            .expect("run");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = run(&["--apply", "--resolve-digests", "."]);
    let images = images_of(&taskdef);
    assert_eq!(
        images,
        vec![
            "<IMAGE1_NAME>".to_string(),
            format!("{}/datadog/agent@{agent_digest}", reg.host)
        ],
        "{stderr}"
    );
    assert!(!stderr.contains("could not resolve"), "{stderr}");
    // A second run changes nothing while the tag does not move.
    let snapshot: Vec<(PathBuf, Vec<u8>)> = common::files_below(&root)
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read");
            (p, b)
        })
        .collect();
    run(&["--apply", "--resolve-digests", "."]);
    for (p, b) in snapshot {
        assert_eq!(fs::read(&p).expect("read"), b, "{} changed", p.display());
    }
}

/// A registry stub that counts manifest requests and answers each with `answer(n)`.
fn counting_stub(
    max: usize,
    answer: impl Fn(usize) -> (&'static str, Vec<(&'static str, String)>) + Send + 'static,
) -> (String, Arc<AtomicUsize>, std::thread::JoinHandle<()>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    let (host, handle) = stub(max, move |req, stream, _| {
        if req.target.contains("/manifests/") {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            let (status, headers) = answer(n);
            respond(stream, status, &headers, b"");
        } else {
            respond(stream, "404 Not Found", &[], b"");
        }
    });
    (host, count, handle)
}

#[test]
fn without_the_flag_or_with_offline_nothing_touches_the_network() {
    let (host, count, handle) = counting_stub(1, |_| ("500 Internal Server Error", vec![]));
    let image = format!("{host}/team/app:1.0");
    let (dir, file) = workdir(&[&image]);
    let docker = dir.path().join("docker");
    let before = fs::read_to_string(&file).expect("read");
    let plain = pipefix(dir.path(), &docker, &["--apply"]);
    assert_eq!(plain.code, 1, "{}", plain.stderr);
    fs::write(dir.path().join("pipefix.toml"), "resolve-digests = true\n").expect("config");
    let offline = pipefix(dir.path(), &docker, &["--apply", "--offline"]);
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert_eq!(count.load(Ordering::SeqCst), 0);
    assert_eq!(fs::read_to_string(&file).expect("read"), before);
    // --help says so.
    let help = Command::cargo_bin("pipefix")
        .expect("binary")
        .arg("--help")
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("never touches the network"), "{help}");
    drop(handle);
}

#[test]
fn one_request_per_distinct_reference_and_retries_on_503() {
    let digest = format!("sha256:{}", "cd".repeat(32));
    let answered = digest.clone();
    // The first answer is a 503 with Retry-After: the client waits and asks again.
    let (host, count, handle) = counting_stub(4, move |n| {
        if n == 0 {
            (
                "503 Service Unavailable",
                vec![("Retry-After", "0".to_string())],
            )
        } else {
            ("200 OK", vec![("Docker-Content-Digest", answered.clone())])
        }
    });
    let image = format!("{host}/team/app:1.0");
    let dir = tempfile::tempdir().expect("tempdir");
    // The same image in two containers and in a second unit.
    for sub in ["a", "b"] {
        fs::create_dir(dir.path().join(sub)).expect("mkdir");
        fs::write(
            dir.path().join(sub).join("taskdef.json"),
            taskdef(&[&image, &image]),
        )
        .expect("write");
    }
    fs::create_dir(dir.path().join("docker")).expect("mkdir");
    let run = pipefix(
        dir.path(),
        &dir.path().join("docker"),
        &["--apply", "--resolve-digests"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for sub in ["a", "b"] {
        let images = images_of(&dir.path().join(sub).join("taskdef.json"));
        assert_eq!(images, vec![format!("{host}/team/app@{digest}"); 2]);
    }
    // One 503, then one answer for all four uses.
    assert_eq!(count.load(Ordering::SeqCst), 2);
    drop(handle);
}

#[test]
fn a_private_repository_without_credentials_says_so() {
    // The token endpoint gives anonymous tokens, but the repository refuses them (as Docker
    // Hub, GHCR and ECR Public do for private repositories).
    let realm = Arc::new(std::sync::Mutex::new(String::new()));
    let shared = realm.clone();
    let (host, handle) = stub(4, move |req, stream, _| {
        if req.target.starts_with("/token") {
            respond(stream, "200 OK", &[], br#"{"access_token":"anon"}"#);
        } else {
            let realm = shared.lock().map(|h| h.clone()).unwrap_or_default();
            respond(
                stream,
                "401 Unauthorized",
                &[(
                    "WWW-Authenticate",
                    format!(r#"Bearer realm="http://{realm}/token",service="stub""#),
                )],
                b"",
            );
        }
    });
    if let Ok(mut r) = realm.lock() {
        *r = host.clone();
    }
    let image = format!("{host}/org/private:1.0");
    let (dir, file) = workdir(&[&image]);
    let before = fs::read_to_string(&file).expect("read");
    let run = pipefix(
        dir.path(),
        &dir.path().join("docker"),
        &["--apply", "--resolve-digests"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "could not resolve: 401 from {host}: anonymous access refused"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), before);
    drop(handle);
}
