//! Private ECR without the AWS SDK: when the Docker configuration has no credential for an
//! ECR registry and AWS credentials are in the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, optionally `AWS_SESSION_TOKEN`), pipefix calls
//! `ecr:GetAuthorizationToken` itself, signed with Signature Version 4, and uses the answer as
//! HTTP Basic credentials (`AWS:<password>`), as `docker login` would.
//!
//! Only the environment's static or session keys are used: profiles, SSO and instance roles
//! are the job of `docker-credential-ecr-login`, which the Docker configuration can name.
//! `AWS_ENDPOINT_URL_ECR` (else `AWS_ENDPOINT_URL`) overrides the endpoint, as in the AWS CLI.

use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use regex::Regex;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::credentials::Credential;

static ECR_HOST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$").ok()
});

/// The region (and whether it is a China region) of a private ECR registry host.
pub fn region_of(host: &str) -> Option<(String, bool)> {
    let c = ECR_HOST.as_ref()?.captures(host)?;
    Some((c[1].to_string(), c.get(2).is_some()))
}

/// AWS keys from the environment. `Debug` hides the secret parts.
#[derive(Clone)]
pub struct AwsKeys {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AwsKeys({}, ****)", self.access_key)
    }
}

impl AwsKeys {
    pub fn from_env() -> Option<AwsKeys> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        Some(AwsKeys {
            access_key: var("AWS_ACCESS_KEY_ID")?,
            secret_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        })
    }
}

/// The ECR API endpoint for a region.
pub fn endpoint(region: &str, china: bool) -> String {
    std::env::var("AWS_ENDPOINT_URL_ECR")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .ok()
        .filter(|e| !e.is_empty())
        .map(|e| e.trim_end_matches('/').to_string())
        .unwrap_or_else(|| {
            format!(
                "https://api.ecr.{region}.amazonaws.com{}",
                if china { ".cn" } else { "" }
            )
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 {
        sha256(key)
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let mut inner = Sha256::new();
    inner.update(k.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    inner.update(data);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
    outer.update(inner);
    outer.finalize().to_vec()
}

/// A request to sign: headers are lower-case names, sorted, and include `host`.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The `Authorization` header value of Signature Version 4 for `req`.
pub fn authorization(
    req: &Signed<'_>,
    keys: &AwsKeys,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let canonical_headers: String = req
        .headers
        .iter()
        .map(|(k, v)| format!("{k}:{}\n", v.trim()))
        .collect();
    let signed_headers = req
        .headers
        .iter()
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        req.method,
        req.path,
        req.query,
        hex(&sha256(req.body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&sha256(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", keys.secret_key).as_bytes(),
        date.as_bytes(),
    );
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        keys.access_key
    )
}

/// `YYYYMMDDTHHMMSSZ` for a time since the epoch.
pub fn amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Call `GetAuthorizationToken` and turn its answer into Basic credentials.
pub fn authorization_token(
    agent: &ureq::Agent,
    keys: &AwsKeys,
    region: &str,
    endpoint: &str,
) -> Result<Credential, String> {
    let host = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .unwrap_or(endpoint)
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let date = amz_date(secs);
    let body = b"{}";
    let target = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
    let content_type = "application/x-amz-json-1.1";
    let mut headers = vec![
        ("content-type", content_type),
        ("host", host.as_str()),
        ("x-amz-date", date.as_str()),
    ];
    if let Some(t) = &keys.session_token {
        headers.push(("x-amz-security-token", t.as_str()));
    }
    headers.push(("x-amz-target", target));
    let auth = authorization(
        &Signed {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body,
        },
        keys,
        region,
        "ecr",
        &date,
    );
    let mut req = agent
        .post(format!("{endpoint}/"))
        .header("Content-Type", content_type)
        .header("X-Amz-Date", date.as_str())
        .header("X-Amz-Target", target)
        .header("Authorization", auth.as_str());
    if let Some(t) = &keys.session_token {
        req = req.header("X-Amz-Security-Token", t.as_str());
    }
    let mut resp = req
        .send(&body[..])
        .map_err(|_| format!("GetAuthorizationToken: no answer from {host}"))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("GetAuthorizationToken: {status} from {host}"));
    }
    let answer: Value = resp
        .body_mut()
        .with_config()
        .limit(1024 * 1024)
        .read_to_vec()
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| format!("GetAuthorizationToken: unreadable answer from {host}"))?;
    let token = answer
        .get("authorizationData")
        .and_then(|d| d.get(0))
        .and_then(|d| d.get("authorizationToken"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("GetAuthorizationToken: no token from {host}"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| format!("GetAuthorizationToken: malformed token from {host}"))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| format!("GetAuthorizationToken: malformed token from {host}"))?;
    Ok(Credential::Basic {
        user: user.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of AWS's Signature Version 4 documentation (IAM `ListUsers`).
    #[test]
    fn signature_version_4_matches_the_documented_example() {
        let keys = AwsKeys {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let auth = authorization(
            &Signed {
                method: "GET",
                path: "/",
                query: "Action=ListUsers&Version=2010-05-08",
                headers: &[
                    (
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8",
                    ),
                    ("host", "iam.amazonaws.com"),
                    ("x-amz-date", "20150830T123600Z"),
                ],
                body: b"",
            },
            &keys,
            "us-east-1",
            "iam",
            "20150830T123600Z",
        );
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        assert!(!format!("{keys:?}").contains("EXAMPLEKEY"));
    }

    #[test]
    fn dates_and_hosts() {
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(
            region_of("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(("eu-west-1".to_string(), false))
        );
        assert_eq!(
            region_of("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
            Some(("cn-north-1".to_string(), true))
        );
        assert_eq!(region_of("public.ecr.aws"), None);
    }

    /// Against a loopback stub of the ECR API: the request is the documented one, and the
    /// answer becomes `AWS` Basic credentials.
    #[test]
    fn get_authorization_token_against_a_stub() {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read");
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                head.push(line.trim_end().to_string());
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let token = base64::engine::general_purpose::STANDARD.encode("AWS:ecr-pass-123");
            let answer = format!(
                r#"{{"authorizationData":[{{"authorizationToken":"{token}","proxyEndpoint":"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com"}}]}}"#
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
            (head, body)
        });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .build()
            .into();
        let keys = AwsKeys {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "secret".into(),
            session_token: Some("session".into()),
        };
        let cred = authorization_token(
            &agent,
            &keys,
            "eu-west-1",
            &format!("http://127.0.0.1:{port}"),
        )
        .expect("token");
        assert_eq!(
            cred,
            Credential::Basic {
                user: "AWS".into(),
                password: "ecr-pass-123".into()
            }
        );
        let (head, body) = server.join().expect("server");
        let has = |prefix: &str| {
            head.iter().any(|h| {
                h.to_ascii_lowercase()
                    .starts_with(&prefix.to_ascii_lowercase())
            })
        };
        assert_eq!(head[0], "POST / HTTP/1.1");
        assert_eq!(body, b"{}");
        assert!(has(
            "x-amz-target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
        ));
        assert!(has("x-amz-security-token: session"));
        assert!(has("content-type: application/x-amz-json-1.1"));
        assert!(has(
            "authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
        ));
        assert!(head.iter().any(|h| h.contains(
            "/eu-west-1/ecr/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature="
        )));
    }
}
