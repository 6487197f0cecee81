//! Registry credentials from the user's Docker configuration, read the way the Docker CLI
//! reads them: `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), `credHelpers`
//! for one registry, then `credsStore` for all, then the inline `auths` entry.
//!
//! A credential helper is the program `docker-credential-<name>`, given the registry host on
//! standard input to its `get` command, answering `{"Username": …, "Secret": …}`. This is how
//! private ECR works without an AWS SDK: `docker-credential-ecr-login` (AWS's own helper)
//! turns the environment's AWS credentials into a registry password.
//!
//! Credentials are never printed: the [`Credential`] type's `Debug` hides them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::Value;

use super::reference::DOCKER_HUB;

#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or registry token used as one, as ECR's `AWS` user).
    Basic { user: String, password: String },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user): exchanged at
    /// the token endpoint.
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { user, .. } => write!(f, "Basic({user}, ****)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(****)"),
        }
    }
}

impl Credential {
    /// The `Authorization: Basic …` header value.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credential::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            Credential::IdentityToken(_) => None,
        }
    }
}

/// The Docker configuration, read once per run.
#[derive(Clone, Debug, Default)]
pub struct DockerConfig {
    json: Option<Value>,
}

/// How long a credential helper may take before it is given up on.
const HELPER_TIMEOUT: Duration = Duration::from_secs(20);

impl DockerConfig {
    /// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`; an absent or unreadable
    /// file means no credentials (anonymous access).
    pub fn from_env() -> DockerConfig {
        let path = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
            .map(|d| d.join("config.json"));
        let json = path
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str::<Value>(&t).ok());
        DockerConfig { json }
    }

    #[cfg(test)]
    pub fn from_json(json: Value) -> DockerConfig {
        DockerConfig { json: Some(json) }
    }

    /// The credential for a registry host, if the configuration has one.
    pub fn credential(&self, host: &str) -> Option<Credential> {
        let json = self.json.as_ref()?;
        let names = host_names(host);
        let helper = json
            .get("credHelpers")
            .and_then(Value::as_object)
            .and_then(|m| {
                m.iter()
                    .find(|(k, _)| names.contains(&normalise_key(k).as_str()))
                    .and_then(|(_, v)| v.as_str())
            });
        if let Some(h) = helper {
            return run_helper(h, &names);
        }
        if let Some(store) = json.get("credsStore").and_then(Value::as_str)
            && let Some(c) = run_helper(store, &names)
        {
            return Some(c);
        }
        let auths = json.get("auths").and_then(Value::as_object)?;
        let entry = auths
            .iter()
            .find(|(k, _)| names.contains(&normalise_key(k).as_str()))
            .map(|(_, v)| v)?;
        if let Some(t) = entry
            .get("identitytoken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            return Some(Credential::IdentityToken(t.to_string()));
        }
        if let Some(auth) = entry.get("auth").and_then(Value::as_str) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()?;
            let text = String::from_utf8(bytes).ok()?;
            let (user, password) = text.split_once(':')?;
            return Some(Credential::Basic {
                user: user.to_string(),
                password: password.to_string(),
            });
        }
        match (
            entry.get("username").and_then(Value::as_str),
            entry.get("password").and_then(Value::as_str),
        ) {
            (Some(u), Some(p)) => Some(Credential::Basic {
                user: u.to_string(),
                password: p.to_string(),
            }),
            _ => None,
        }
    }
}

/// The names a registry goes by in a Docker configuration: Docker Hub is stored as
/// `https://index.docker.io/v1/`.
fn host_names(host: &str) -> Vec<&str> {
    if host == DOCKER_HUB {
        vec!["index.docker.io", "docker.io", DOCKER_HUB]
    } else {
        vec![host]
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`.
fn normalise_key(k: &str) -> String {
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    k.split('/').next().unwrap_or(k).to_ascii_lowercase()
}

/// Run `docker-credential-<name> get` for the first of `names` it knows. A helper that is
/// missing, fails or has nothing for the host means no credential.
fn run_helper(name: &str, names: &[&str]) -> Option<Credential> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return None;
    }
    let program = format!("docker-credential-{name}");
    for host in names {
        let Ok(mut child) = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            return None;
        };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(host.as_bytes());
        }
        // Bounded wait: a helper that hangs (waiting for a prompt) must not hang the run.
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if start.elapsed() < HELPER_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        if !status.is_some_and(|s| s.success()) {
            continue;
        }
        let mut out = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            use std::io::Read;
            let _ = stdout.read_to_string(&mut out);
        }
        let Ok(v) = serde_json::from_str::<Value>(&out) else {
            continue;
        };
        let user = v.get("Username").and_then(Value::as_str).unwrap_or("");
        let secret = v.get("Secret").and_then(Value::as_str).unwrap_or("");
        if secret.is_empty() {
            continue;
        }
        return Some(if user == "<token>" {
            Credential::IdentityToken(secret.to_string())
        } else {
            Credential::Basic {
                user: user.to_string(),
                password: secret.to_string(),
            }
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auths_entries() {
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
        let c = DockerConfig::from_json(json!({
            "auths": {
                "127.0.0.1:5000": {"auth": auth},
                "https://index.docker.io/v1/": {"identitytoken": "tok"}
            }
        }));
        let basic = c.credential("127.0.0.1:5000").unwrap();
        assert_eq!(
            basic,
            Credential::Basic {
                user: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert!(!format!("{basic:?}").contains("s3cret"));
        assert_eq!(
            basic.basic_header().as_deref(),
            Some("Basic YWxpY2U6czNjcmV0")
        );
        assert_eq!(
            c.credential(DOCKER_HUB),
            Some(Credential::IdentityToken("tok".into()))
        );
        assert_eq!(c.credential("ghcr.io"), None);
        // A helper that does not exist gives no credential, not an error.
        let c = DockerConfig::from_json(json!({"credHelpers": {"ghcr.io": "pipefix-test-absent"}}));
        assert_eq!(c.credential("ghcr.io"), None);
    }
}
