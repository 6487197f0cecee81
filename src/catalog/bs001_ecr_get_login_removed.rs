//! BS001: `aws ecr get-login` (gone in AWS CLI v2) becomes `get-login-password | docker login`.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Kind;

use super::buildspec::{LineEdit, commands, defines, edit_lines, rewrite, tokenize};
use super::support::docs_of;
use super::{Context, Finding, Safety};

pub struct Rule;

/// The old login as the shell runs it: `eval $(…)`, `$(…)`, `` `…` `` or `… | sh`.
static OLD_LOGIN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?:eval\s+)?"?\$\(\s*(aws\s+ecr\s+get-login(?:\s[^)]*)?)\)"?"#,
        r"|(?:eval\s+)?`\s*(aws\s+ecr\s+get-login(?:\s[^`]*)?)`",
        r"|(aws\s+ecr\s+get-login(?:\s[^|;&]*)?)\|\s*(?:sudo\s+)?(?:/bin/|/usr/bin/)?(?:ba|z)?sh\b",
    ))
    .ok()
});

/// Where the old command logs in, as far as the files tell.
struct Login {
    region: String,
    registries: Vec<String>,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS001"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let Some(re) = OLD_LOGIN.as_ref() else {
            return;
        };
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let has_repository_uri = defines(bs, root, "REPOSITORY_URI");
            for cmd in commands(bs, root) {
                if !cmd.lines().any(mentions_get_login) {
                    continue;
                }
                let mut unresolved = false;
                let new = edit_lines(cmd.text, |line| {
                    if !mentions_get_login(line) {
                        return LineEdit::Keep;
                    }
                    let mut result = String::new();
                    let mut last = 0;
                    for caps in re.captures_iter(line) {
                        let (Some(whole), Some(old)) =
                            (caps.get(0), caps.get(1).or(caps.get(2)).or(caps.get(3)))
                        else {
                            continue;
                        };
                        if old.as_str().trim_end().ends_with("get-login-password") {
                            continue;
                        }
                        let login = parse(old.as_str());
                        let registries = if !login.registries.is_empty() {
                            login.registries.clone()
                        } else if has_repository_uri {
                            vec!["${REPOSITORY_URI%%/*}".to_string()]
                        } else if let Some(r) = &cx.facts.registry {
                            vec![r.clone()]
                        } else {
                            unresolved = true;
                            return LineEdit::Keep;
                        };
                        let new: Vec<String> = registries
                            .iter()
                            .map(|r| {
                                format!(
                                    "aws ecr get-login-password --region {} | docker login --username AWS --password-stdin {r}",
                                    login.region
                                )
                            })
                            .collect();
                        result.push_str(&line[last..whole.start()]);
                        result.push_str(&new.join(" && "));
                        last = whole.end();
                    }
                    if last == 0 {
                        unresolved = true;
                        return LineEdit::Keep;
                    }
                    result.push_str(&line[last..]);
                    LineEdit::Replace(result)
                });
                let base = Finding::at(
                    cx.id(),
                    file,
                    cmd.path(),
                    format!(
                        "{} runs `aws ecr get-login`, which AWS CLI v2 no longer has (`Invalid choice`)",
                        cmd.phase
                    ),
                );
                let finding = match new {
                    Some(new) if !unresolved => base.with_fix(
                        "log in with aws ecr get-login-password | docker login --password-stdin",
                        Safety::Safe,
                        vec![rewrite(&cmd, new)],
                    ),
                    _ => base.follow_up(
                        "Replace it by hand: define REPOSITORY_URI (the ECR repository the build pushes to) or pass --registry-ids, then run `aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin <account>.dkr.ecr.<region>.amazonaws.com`",
                    ),
                };
                out.push(finding);
            }
        }
    }
}

/// Whether a line runs the removed command (not `get-login-password`).
fn mentions_get_login(line: &str) -> bool {
    let mut rest = line;
    while let Some(i) = rest.find("get-login") {
        let after = &rest[i + "get-login".len()..];
        if !after.starts_with('-') && rest[..i].contains("ecr") {
            return true;
        }
        rest = after;
    }
    false
}

/// Region and registry ids of an `aws ecr get-login …` command.
fn parse(cmd: &str) -> Login {
    let words: Vec<String> = tokenize(cmd)
        .unwrap_or_default()
        .iter()
        .map(|t| t.raw.to_string())
        .collect();
    let mut region = None;
    let mut ids = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        if let Some(v) = w.strip_prefix("--region=") {
            region = Some(v.to_string());
        } else if w == "--region" {
            region = words.get(i + 1).cloned();
            i += 1;
        } else if let Some(v) = w.strip_prefix("--registry-ids=") {
            ids.extend(v.split(',').map(str::to_string));
        } else if w == "--registry-ids" {
            while let Some(v) = words.get(i + 1).filter(|v| !v.starts_with("--")) {
                ids.push(v.clone());
                i += 1;
            }
        }
        i += 1;
    }
    let region = region.unwrap_or_else(|| "$AWS_DEFAULT_REGION".to_string());
    let registries = ids
        .iter()
        .filter(|id| !id.is_empty())
        .map(|id| format!("{id}.dkr.ecr.{region}.amazonaws.com"))
        .collect();
    Login { region, registries }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_logins_are_recognised() {
        assert!(mentions_get_login(
            "$(aws ecr get-login --no-include-email)"
        ));
        assert!(!mentions_get_login(
            "aws ecr get-login-password | docker login"
        ));
        let l =
            parse("aws ecr get-login --registry-ids 111111111111 222222222222 --region eu-west-1");
        assert_eq!(l.region, "eu-west-1");
        assert_eq!(
            l.registries,
            [
                "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
                "222222222222.dkr.ecr.eu-west-1.amazonaws.com"
            ]
        );
        let re = OLD_LOGIN
            .as_ref()
            .map(|r| r.is_match("aws ecr get-login --no-include-email | sh"));
        assert_eq!(re, Some(true));
    }
}
