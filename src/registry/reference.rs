//! Image references as ECS and Docker read them: `[host[:port]/]repository[:tag][@digest]`.

/// A reference to resolve: where its registry is, which repository, which tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// The registry host (and port) the API is spoken to: Docker Hub's `docker.io` becomes
    /// `registry-1.docker.io`.
    pub host: String,
    /// The repository inside the registry (`library/nginx` for `nginx`).
    pub repository: String,
    /// The tag (`latest` when none was written).
    pub tag: String,
    /// Whether the reference wrote a tag (`nginx` means `nginx:latest`).
    pub tag_written: bool,
}

/// Docker Hub's API host.
pub const DOCKER_HUB: &str = "registry-1.docker.io";

impl ImageRef {
    /// Parse a reference without a digest. `None` when it is not a valid reference or when it
    /// already carries a digest.
    pub fn parse(image: &str) -> Option<ImageRef> {
        if image.contains('@') || image.is_empty() || image.len() > 512 {
            return None;
        }
        let (first, rest) = match image.split_once('/') {
            Some((f, r)) if f.contains('.') || f.contains(':') || f == "localhost" => (Some(f), r),
            _ => (None, image),
        };
        // The tag follows the last ':' of the last path component.
        let (repo, tag) = match rest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (rest, None),
        };
        let host = match first {
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => {
                DOCKER_HUB.to_string()
            }
            Some(h) => h.to_ascii_lowercase(),
        };
        let repository = if host == DOCKER_HUB && !repo.contains('/') {
            format!("library/{repo}")
        } else {
            repo.to_string()
        };
        if !valid_repository(&repository) || !valid_host(&host) {
            return None;
        }
        if let Some(t) = tag
            && !valid_tag(t)
        {
            return None;
        }
        Some(ImageRef {
            host,
            repository,
            tag: tag.unwrap_or("latest").to_string(),
            tag_written: tag.is_some(),
        })
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`, `[::1]`): spoken
    /// to over plain HTTP, as Docker does. Every other registry is HTTPS only.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// `https://host` or, for a loopback registry, `http://host`.
    pub fn base_url(&self) -> String {
        let scheme = if self.is_loopback() { "http" } else { "https" };
        format!("{scheme}://{}", self.host)
    }

    /// The key under which results are cached: one request per distinct reference.
    pub fn key(&self) -> String {
        format!("{}/{}:{}", self.host, self.repository, self.tag)
    }
}

/// `localhost[:port]`, `127.x.y.z[:port]`, `[::1][:port]`.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.split(':').next().unwrap_or("")
    };
    if name.eq_ignore_ascii_case("localhost") || name == "::1" {
        return true;
    }
    name.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}

/// The distribution spec's repository grammar, loosely: lower-case components of
/// `[a-z0-9]` separated by `.`, `_`, `__`, `-` and `/`.
fn valid_repository(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && r.split('/').all(|part| {
            !part.is_empty()
                && part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        })
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && !t.starts_with(['.', '-'])
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Whether a tag names content rather than a release: a CDK asset hash (64 hex digits), a
/// digest written as a tag (`sha256-…`, as cosign does). Such tags name one content, so
/// pinning adds nothing.
pub fn is_content_addressed_tag(tag: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    hex(tag, 64)
        || tag
            .strip_prefix("sha256-")
            .is_some_and(|h| hex(h.split('.').next().unwrap_or(h), 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_docker_parses() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(
            (r.host.as_str(), r.repository.as_str(), r.tag.as_str()),
            (DOCKER_HUB, "library/nginx", "latest")
        );
        assert!(!r.tag_written);
        let r = ImageRef::parse("docker.io/datadog/agent:7").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag.as_str()),
            ("datadog/agent", "7")
        );
        assert_eq!(r.host, DOCKER_HUB);
        let r = ImageRef::parse("127.0.0.1:5000/team/app:1.0").unwrap();
        assert_eq!(r.host, "127.0.0.1:5000");
        assert_eq!(r.base_url(), "http://127.0.0.1:5000");
        let r = ImageRef::parse("localhost:5000/app").unwrap();
        assert_eq!((r.repository.as_str(), r.tag.as_str()), ("app", "latest"));
        assert!(r.is_loopback());
        let r = ImageRef::parse("public.ecr.aws/nginx/nginx:stable").unwrap();
        assert_eq!(r.base_url(), "https://public.ecr.aws");
        let r =
            ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1").unwrap();
        assert_eq!(r.repository, "team/api");
        assert!(ImageRef::parse("nginx@sha256:abc").is_none());
        assert!(ImageRef::parse("Nginx:1").is_none());
        assert!(ImageRef::parse("nginx:bad tag").is_none());
        assert!(ImageRef::parse("ghcr.io/o/r:$TAG").is_none());
        assert!(!is_loopback_host("10.0.0.1:5000"));
        assert!(is_loopback_host("127.3.2.1:80"));
        assert!(is_loopback_host("[::1]:5000"));
        assert!(!is_loopback_host("localhost.example.com"));
    }

    #[test]
    fn content_addressed_tags() {
        let h = "a".repeat(64);
        assert!(is_content_addressed_tag(&h));
        assert!(is_content_addressed_tag(&format!("sha256-{h}.sig")));
        assert!(!is_content_addressed_tag("latest"));
        assert!(!is_content_addressed_tag("v1.2.3"));
    }
}
