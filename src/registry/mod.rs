//! Resolving image tags to digests from the registry itself (`--resolve-digests`).
//!
//! Off by default: pipefix touches the network only when asked. When asked, it speaks the OCI
//! distribution protocol: `HEAD /v2/<repository>/manifests/<tag>` with every manifest and
//! index media type in `Accept` (without them, distribution 2.8 answers 404 for OCI
//! manifests, and old registries may convert a Docker manifest to schema 1 and report another
//! digest), the `Docker-Content-Digest` answer or, when a registry leaves it out, the sha256
//! of the manifest a `GET` returns. A multi-arch tag resolves to its index, never to one
//! platform's manifest. `401` challenges are answered with a bearer token from the
//! challenge's realm (anonymously, or with the Docker configuration's credentials) or with
//! HTTP Basic credentials.
//!
//! Registries on `localhost` or a loopback address are spoken to over plain HTTP, as Docker
//! does; every other registry, and every token endpoint, over HTTPS only.
//!
//! One request per distinct reference per run (results are kept in memory), a few requests
//! in parallel, a timeout per request, retries with backoff on 429 and 5xx. A failure is a
//! reason string (`401 from public.ecr.aws`), never a crash, and never holds a token or a
//! password: messages are built from status codes, host names and registry error codes only.

pub mod credentials;
pub mod ecr;
pub mod reference;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

pub use credentials::{Credential, DockerConfig};
pub use reference::{ImageRef, is_content_addressed_tag};

/// Whether `d` is a content digest as image references carry them: `sha256:<64 hex>`.
pub fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Lower-case hex of SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Every manifest and index type a registry may hold for a tag.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Requests in flight at once, for the whole run.
const PARALLEL: usize = 4;
/// Attempts for one request answered 429 or 5xx.
const ATTEMPTS: u32 = 3;
/// The largest manifest read (`GET` when the digest header is missing).
const MAX_MANIFEST: u64 = 4 * 1024 * 1024;
/// The default timeout of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The digest a tag points to, or why it could not be found.
pub type Outcome = Result<String, String>;

pub struct Resolver {
    tls: ureq::Agent,
    plain: ureq::Agent,
    docker: DockerConfig,
    timeout: Duration,
    cache: Mutex<HashMap<String, Arc<OnceLock<Outcome>>>>,
    /// Authorization header values that worked, by `host/repository`.
    auth: Mutex<HashMap<String, String>>,
    /// Hosts that could not be reached, with why: later references there fail at once.
    down: Mutex<HashMap<String, String>>,
    progress: Progress,
    /// Why a credential could not be had, by host (added to a 401's reason).
    notes: Mutex<HashMap<String, String>>,
    /// Credentials by host, looked up once (a credential helper runs once per host).
    credentials: Mutex<HashMap<String, Option<Credential>>>,
    /// Requests in flight, across every unit of the run (at most [`PARALLEL`]).
    in_flight: (Mutex<usize>, std::sync::Condvar),
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resolver(timeout {:?})", self.timeout)
    }
}

impl Resolver {
    /// A resolver with the user's Docker configuration for credentials.
    pub fn new(timeout: Duration) -> Resolver {
        Resolver::with_docker_config(timeout, DockerConfig::from_env())
    }

    pub fn with_docker_config(timeout: Duration, docker: DockerConfig) -> Resolver {
        let agent = |https_only: bool| -> ureq::Agent {
            let builder = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .https_only(https_only)
                .timeout_global(Some(timeout))
                .user_agent(concat!("pipefix/", env!("CARGO_PKG_VERSION")));
            // A loopback registry is never reached through a proxy.
            let builder = if https_only {
                builder
            } else {
                builder.proxy(None).max_redirects(0)
            };
            builder.build().into()
        };
        Resolver {
            tls: agent(true),
            plain: agent(false),
            docker,
            timeout,
            cache: Mutex::new(HashMap::new()),
            auth: Mutex::new(HashMap::new()),
            down: Mutex::new(HashMap::new()),
            progress: Progress::default(),
            credentials: Mutex::new(HashMap::new()),
            notes: Mutex::new(HashMap::new()),
            in_flight: (Mutex::new(0), std::sync::Condvar::new()),
        }
    }

    /// Resolve several references, a few at a time; results in the order given.
    pub fn resolve_many(&self, images: &[ImageRef]) -> Vec<Outcome> {
        if images.len() <= 1 {
            return images.iter().map(|r| self.resolve(r)).collect();
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; images.len()]);
        std::thread::scope(|s| {
            for _ in 0..PARALLEL.min(images.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(r) = images.get(i) else { break };
                        let out = self.resolve(r);
                        if let Ok(mut v) = results.lock() {
                            v[i] = Some(out);
                        }
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err("not resolved".to_string())))
            .collect()
    }

    /// The digest `r`'s tag points to now; one request per distinct reference per run.
    pub fn resolve(&self, r: &ImageRef) -> Outcome {
        let cell = {
            let Ok(mut cache) = self.cache.lock() else {
                return Err("internal error: cache poisoned".to_string());
            };
            cache.entry(r.key()).or_default().clone()
        };
        cell.get_or_init(|| {
            self.progress.start();
            self.acquire();
            let out = self.fetch(r);
            self.release();
            self.progress.done();
            out
        })
        .clone()
    }

    /// Wait for a free slot among the [`PARALLEL`] requests in flight.
    fn acquire(&self) {
        let (lock, cv) = &self.in_flight;
        let Ok(mut n) = lock.lock() else { return };
        while *n >= PARALLEL {
            match cv.wait(n) {
                Ok(g) => n = g,
                Err(_) => return,
            }
        }
        *n += 1;
    }

    fn release(&self) {
        let (lock, cv) = &self.in_flight;
        if let Ok(mut n) = lock.lock() {
            *n = n.saturating_sub(1);
        }
        cv.notify_one();
    }

    /// Clear the progress line, if one was drawn.
    pub fn finish(&self) {
        self.progress.finish();
    }

    fn credential(&self, host: &str) -> Option<Credential> {
        if let Some(c) = self
            .credentials
            .lock()
            .ok()
            .and_then(|m| m.get(host).cloned())
        {
            return c;
        }
        let mut c = self.docker.credential(host);
        // Private ECR without a Docker credential: GetAuthorizationToken with the
        // environment's AWS keys.
        if c.is_none()
            && let Some((region, china)) = ecr::region_of(host)
            && let Some(keys) = ecr::AwsKeys::from_env()
        {
            let endpoint = ecr::endpoint(&region, china);
            let loopback = url_host(&endpoint).is_some_and(|h| reference::is_loopback_host(&h));
            match ecr::authorization_token(self.agent(loopback), &keys, &region, &endpoint) {
                Ok(cred) => c = Some(cred),
                Err(why) => {
                    if let Ok(mut n) = self.notes.lock() {
                        n.insert(host.to_string(), why);
                    }
                }
            }
        }
        if let Ok(mut m) = self.credentials.lock() {
            m.insert(host.to_string(), c.clone());
        }
        c
    }

    fn agent(&self, loopback: bool) -> &ureq::Agent {
        if loopback { &self.plain } else { &self.tls }
    }

    fn fetch(&self, r: &ImageRef) -> Outcome {
        if let Some(why) = self.down.lock().ok().and_then(|d| d.get(&r.host).cloned()) {
            return Err(why);
        }
        let url = format!("{}/v2/{}/manifests/{}", r.base_url(), r.repository, r.tag);
        let auth_key = format!("{}/{}", r.host, r.repository);
        let mut auth = self
            .auth
            .lock()
            .ok()
            .and_then(|a| a.get(&auth_key).cloned());
        for round in 0..2 {
            let resp = self.send(r, Method::Head, &url, auth.as_deref())?;
            match resp.status {
                200 => {
                    if let Some(d) = resp.digest.filter(|d| is_digest(d)) {
                        return Ok(d);
                    }
                    // No usable digest header: the digest is the sha256 of the manifest bytes.
                    let got = self.send(r, Method::Get, &url, auth.as_deref())?;
                    return match (got.status, got.body) {
                        (200, Some(body)) => Ok(format!("sha256:{}", sha256_hex(&body))),
                        (s, _) => Err(format!("{s} from {}", r.host)),
                    };
                }
                401 if round == 0 => {
                    let challenge = resp.challenge.unwrap_or_default();
                    let header = self.authorize(r, &challenge)?;
                    if let Ok(mut a) = self.auth.lock() {
                        a.insert(auth_key.clone(), header.clone());
                    }
                    auth = Some(header);
                }
                401 => {
                    return Err(if self.credential(&r.host).is_some() {
                        format!("401 from {}: the registry refused the credentials", r.host)
                    } else {
                        format!(
                            "401 from {}: anonymous access refused (a private or missing repository; no credentials for it in the Docker configuration)",
                            r.host
                        )
                    });
                }
                403 => return Err(format!("403 from {}: access denied", r.host)),
                404 => {
                    // Which: no such repository, or no such tag. Distribution answers
                    // MANIFEST_UNKNOWN for both on a manifest; its tag list says NAME_UNKNOWN
                    // for a repository it does not have.
                    let tags = format!("{}/v2/{}/tags/list", r.base_url(), r.repository);
                    let code = self
                        .send(r, Method::Get, &tags, auth.as_deref())
                        .ok()
                        .filter(|g| g.status == 404)
                        .and_then(|g| g.body)
                        .and_then(|b| error_code(&b));
                    let what = match code.as_deref() {
                        Some("NAME_UNKNOWN") => {
                            format!("no repository \"{}\"", r.repository)
                        }
                        _ => format!("no tag \"{}\" in \"{}\"", r.tag, r.repository),
                    };
                    return Err(format!("404 from {}: {what}", r.host));
                }
                s => return Err(format!("{s} from {}", r.host)),
            }
        }
        Err(format!("401 from {}", r.host))
    }

    /// Answer a `401` challenge: the `Authorization` header value to retry with.
    fn authorize(&self, r: &ImageRef, challenge: &str) -> Result<String, String> {
        let (scheme, params) = parse_challenge(challenge);
        let credential = self.credential(&r.host);
        if scheme.eq_ignore_ascii_case("basic") {
            return credential
                .as_ref()
                .and_then(Credential::basic_header)
                .ok_or_else(|| {
                    let note = self
                        .notes
                        .lock()
                        .ok()
                        .and_then(|n| n.get(&r.host).cloned())
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    format!(
                        "401 from {}: the registry needs credentials and the Docker configuration has none for it{note}",
                        r.host
                    )
                });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(format!(
                "401 from {}: unsupported authentication scheme",
                r.host
            ));
        }
        let realm = params.get("realm").cloned().unwrap_or_default();
        let realm_host = url_host(&realm).unwrap_or_default();
        let realm_loopback = reference::is_loopback_host(&realm_host);
        let allowed =
            realm.starts_with("https://") || (realm.starts_with("http://") && realm_loopback);
        if !allowed {
            return Err(format!(
                "401 from {}: its token endpoint is not an HTTPS address",
                r.host
            ));
        }
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", r.repository));
        let mut query = Vec::new();
        if let Some(s) = params.get("service") {
            query.push(format!("service={}", encode(s)));
        }
        query.push(format!("scope={}", encode(&scope)));
        let agent = self.agent(realm_loopback);
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            let result = match &credential {
                Some(Credential::IdentityToken(t)) => {
                    let mut form = vec![
                        ("grant_type", "refresh_token".to_string()),
                        ("client_id", "pipefix".to_string()),
                        ("refresh_token", t.clone()),
                        ("scope", scope.clone()),
                    ];
                    if let Some(s) = params.get("service") {
                        form.push(("service", s.clone()));
                    }
                    agent
                        .post(&realm)
                        .send_form(form.iter().map(|(k, v)| (*k, v.as_str())))
                }
                Some(c @ Credential::Basic { .. }) => {
                    let url = format!("{realm}?{}", query.join("&"));
                    let mut req = agent.get(&url);
                    if let Some(h) = c.basic_header() {
                        req = req.header("Authorization", h);
                    }
                    req.call()
                }
                None => agent.get(&format!("{realm}?{}", query.join("&"))).call(),
            };
            let mut resp = match result {
                Ok(resp) => resp,
                Err(e) => return Err(transport_reason(&e, &realm_host, self.timeout)),
            };
            let status = resp.status().as_u16();
            if retryable(status) && attempt + 1 < ATTEMPTS {
                std::thread::sleep(backoff(attempt, retry_after(resp.headers())));
                last = Some(status);
                continue;
            }
            if status != 200 {
                let who = if credential.is_some() {
                    "the credentials were refused"
                } else {
                    "anonymous access was refused"
                };
                return Err(format!("{status} from {realm_host}: {who}"));
            }
            let body = resp
                .body_mut()
                .with_config()
                .limit(MAX_MANIFEST)
                .read_to_vec()
                .map_err(|e| transport_reason(&e, &realm_host, self.timeout))?;
            let token = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| {
                    v.get("token")
                        .or_else(|| v.get("access_token"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .filter(|t| !t.is_empty())
                .ok_or_else(|| format!("{realm_host}: the token endpoint gave no token"))?;
            return Ok(format!("Bearer {token}"));
        }
        Err(format!(
            "{} from {realm_host}",
            last.map_or_else(|| "no answer".to_string(), |s| s.to_string())
        ))
    }

    /// One request, retried with backoff on 429 and 5xx.
    fn send(
        &self,
        r: &ImageRef,
        method: Method,
        url: &str,
        auth: Option<&str>,
    ) -> Result<Answer, String> {
        let agent = self.agent(r.is_loopback());
        let mut attempt = 0;
        loop {
            let mut req = match method {
                Method::Head => agent.head(url),
                Method::Get => agent.get(url),
            }
            .header("Accept", ACCEPT);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let mut resp = match req.call() {
                Ok(resp) => resp,
                Err(e) => {
                    let why = transport_reason(&e, &r.host, self.timeout);
                    if let Ok(mut d) = self.down.lock() {
                        d.insert(r.host.clone(), why.clone());
                    }
                    return Err(why);
                }
            };
            let status = resp.status().as_u16();
            attempt += 1;
            if retryable(status) && attempt < ATTEMPTS {
                std::thread::sleep(backoff(attempt - 1, retry_after(resp.headers())));
                continue;
            }
            let header = |name: &str| {
                resp.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let digest = header("docker-content-digest");
            let challenge = header("www-authenticate");
            let body = match method {
                Method::Get => resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_MANIFEST)
                    .read_to_vec()
                    .ok(),
                Method::Head => None,
            };
            return Ok(Answer {
                status,
                digest,
                challenge,
                body,
            });
        }
    }
}

#[derive(Clone, Copy)]
enum Method {
    Head,
    Get,
}

struct Answer {
    status: u16,
    digest: Option<String>,
    challenge: Option<String>,
    body: Option<Vec<u8>>,
}

fn retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status) && status != 501
}

/// `Retry-After: N` (seconds), if given.
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// 250 ms, 500 ms, 1 s, … or what the registry asked for, at most 5 s.
fn backoff(attempt: u32, asked: Option<Duration>) -> Duration {
    let own = Duration::from_millis(250u64 << attempt.min(4));
    asked.unwrap_or(own).min(Duration::from_secs(5))
}

/// Why a request got no answer, without anything from the request itself.
fn transport_reason(e: &ureq::Error, host: &str, timeout: Duration) -> String {
    use std::io::ErrorKind;
    match e {
        ureq::Error::Timeout(_) => {
            format!("{host} did not answer within {} s", timeout.as_secs_f32())
        }
        ureq::Error::HostNotFound => format!("{host}: host not found"),
        ureq::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => format!("{host}: connection refused"),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
                format!("{host}: connection reset")
            }
            ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                format!("{host} did not answer within {} s", timeout.as_secs_f32())
            }
            ErrorKind::UnexpectedEof => format!("{host}: connection closed without an answer"),
            _ => format!("{host}: network error ({})", io.kind()),
        },
        ureq::Error::RequireHttpsOnly(_) => format!("{host}: refused to use plain HTTP"),
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => format!("{host}: TLS error"),
        ureq::Error::Protocol(_) => format!("{host}: not an HTTP answer"),
        ureq::Error::ConnectionFailed => format!("{host}: connection failed"),
        ureq::Error::TooManyRedirects => format!("{host}: too many redirects"),
        _ => format!("{host}: request failed"),
    }
}

/// The first error code of a registry error body (`{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`),
/// only when it is a plain upper-case code.
fn error_code(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let code = v.get("errors")?.get(0)?.get("code")?.as_str()?;
    code.chars()
        .all(|c| c.is_ascii_uppercase() || c == '_')
        .then(|| code.to_string())
}

/// `Bearer realm="…",service="…",scope="…"` → ("Bearer", {realm, service, scope}).
pub fn parse_challenge(header: &str) -> (String, HashMap<String, String>) {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    _ => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        params.insert(key, value);
    }
    (scheme.to_string(), params)
}

/// The `host[:port]` of an `http(s)://` URL.
fn url_host(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // No user info in a token realm.
    Some(
        authority
            .rsplit('@')
            .next()
            .unwrap_or(authority)
            .to_string(),
    )
}

/// Percent-encoding for a query value.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A progress line on stderr, only on a terminal and only past a few references.
#[derive(Default)]
struct Progress {
    started: AtomicUsize,
    done: AtomicUsize,
    drawn: std::sync::atomic::AtomicBool,
}

const PROGRESS_AFTER: usize = 3;

impl Progress {
    fn start(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
        self.draw();
    }

    fn done(&self) {
        self.done.fetch_add(1, Ordering::SeqCst);
        self.draw();
    }

    fn draw(&self) {
        let started = self.started.load(Ordering::SeqCst);
        if started <= PROGRESS_AFTER || !std::io::stderr().is_terminal() {
            return;
        }
        let done = self.done.load(Ordering::SeqCst);
        self.drawn.store(true, Ordering::SeqCst);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\rresolving image digests: {done}/{started}\x1b[K");
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.drawn.swap(false, Ordering::SeqCst) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#,
        );
        assert_eq!(s, "Bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/nginx:pull,push");
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(
            (s.as_str(), p["realm"].as_str()),
            ("Basic", "Registry Realm")
        );
        assert_eq!(
            url_host("https://public.ecr.aws/token?x=1").as_deref(),
            Some("public.ecr.aws")
        );
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
        assert_eq!(
            error_code(br#"{"errors":[{"code":"NAME_UNKNOWN","message":"x"}]}"#).as_deref(),
            Some("NAME_UNKNOWN")
        );
        assert!(retryable(429) && retryable(503) && !retryable(404) && !retryable(501));
        assert_eq!(backoff(0, None), Duration::from_millis(250));
        assert_eq!(
            backoff(1, Some(Duration::from_secs(60))),
            Duration::from_secs(5)
        );
    }
}
