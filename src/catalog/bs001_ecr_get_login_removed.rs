//! BS001: `aws ecr get-login` (gone in AWS CLI v2) becomes `get-login-password | docker login`.

use std::sync::LazyLock;

use regex::Regex;

use crate::model::Kind;

use super::buildspec::{
    LineEdit, commands, edit_lines, referenced_vars, rewrite, tokenize, variable_value,
};
use super::buildspec_shell::Shell;
use super::support::docs_of;
use super::{Context, Finding};

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
            let text = cx.unit.files[file]
                .doc()
                .map(|(d, _)| d.text())
                .unwrap_or_default();
            let cmds = commands(bs, root);
            // Most buildspecs have no old login: the shell model is built only for those that do.
            if !cmds.iter().any(|c| c.lines().any(mentions_get_login)) {
                continue;
            }
            let shell = Shell::of(bs, root, text);
            for cmd in cmds {
                if !cmd.lines().any(mentions_get_login) {
                    continue;
                }
                let item = Shell::item_of(bs, root, &cmd.list, cmd.index);
                let mut unresolved = false;
                let mut captured = false;
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
                        // Only a login the shell runs as a command is replaced; output captured
                        // into a variable (`X=`aws ecr get-login``) is parsed by later lines.
                        if !runs_as_command(&line[..whole.start()]) {
                            unresolved = true;
                            captured = true;
                            return LineEdit::Keep;
                        }
                        let login = parse(old.as_str());
                        let registries = if !login.registries.is_empty() {
                            login.registries.clone()
                        } else if let Some(r) = registry_for(bs, root, &shell, item, &login.region)
                        {
                            vec![r]
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
                        vec![rewrite(&cmd, new)],
                    ),
                    _ if captured => base.follow_up(
                        "The command's output is captured and parsed by later lines: take the password from `aws ecr get-login-password --region <region>` instead (the user name is AWS)",
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

/// The registry host to log in to, written so that the shell can expand it where the login
/// runs: the literal host of `REPOSITORY_URI`, else `${REPOSITORY_URI%%/*}` or the host part of
/// its value when every variable in it is assigned before the login (never `${…}` in a
/// Terraform/CloudFormation template), else exactly what the old command logged in to: the
/// default registry of the account the build runs as, in the command's region.
fn registry_for(
    bs: &serde_json::Value,
    root: &crate::document::Path,
    shell: &Shell,
    item: usize,
    region: &str,
) -> Option<String> {
    let usable = |expr: &str| {
        !(shell.template && expr.contains("${"))
            && referenced_vars(expr)
                .iter()
                .all(|v| shell.available_before(item, v))
    };
    let value =
        variable_value(bs, root, "REPOSITORY_URI").map(|v| v.trim_matches(['"', '\'']).to_string());
    let host = value
        .as_deref()
        .and_then(|v| v.split_once('/'))
        .map(|(h, _)| h.to_string())
        .filter(|h| h.contains(".dkr.ecr.") && h.ends_with(".amazonaws.com"));
    let by_var = "${REPOSITORY_URI%%/*}";
    let known_var = value.is_some()
        || shell.env.contains("REPOSITORY_URI")
        || shell.project.contains("REPOSITORY_URI");
    if known_var && usable(by_var) {
        return Some(by_var.to_string());
    }
    if let Some(h) = &host
        && !h.contains('$')
    {
        return Some(h.clone());
    }
    if let Some(h) = host.filter(|h| usable(h)) {
        return Some(h);
    }
    // `get-login` without `--registry-ids` logs in to the caller's own registry. Another file's
    // registry would only be a guess; the caller's account is a fact the build can ask for
    // (GetCallerIdentity needs no permission).
    let own = format!(
        "\"$(aws sts get-caller-identity --query Account --output text).dkr.ecr.{region}.amazonaws.com\""
    );
    (!region.is_empty() && usable(region)).then_some(own)
}

/// Whether what stands before a match on its line lets the match run as a command of its own.
fn runs_as_command(before: &str) -> bool {
    let b = before.trim_end();
    b.is_empty()
        || [";", "&&", "||", "then", "do", "else", "{", "(", "|"]
            .iter()
            .any(|end| b.ends_with(end))
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
