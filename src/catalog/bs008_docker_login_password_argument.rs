//! BS008: `docker login -p "$P"` becomes `echo "$P" | docker login --password-stdin`.

use crate::model::Kind;

use super::buildspec::{
    LineEdit, Tok, TokKind, commands, edit_lines, referenced_vars, rewrite, tokenize,
    variable_value,
};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

/// A `docker login` with its password on the command line.
struct Login {
    /// Byte range of the password option (flag and value) in the line.
    option: (usize, usize),
    /// Byte offset of `docker`.
    docker: usize,
    /// The password as written (`$P`, `"${P}"`, `$(cmd)`, or a literal).
    value: String,
}

fn find_login(line: &str) -> Option<Login> {
    // Tokens are slices of the line: without the word there is no `docker login`.
    if !line.contains("login") {
        return None;
    }
    let toks = tokenize(line)?;
    let docker = toks
        .windows(2)
        .position(|w| w[0].raw == "docker" && w[1].raw == "login")?;
    let args: Vec<&Tok<'_>> = toks[docker + 2..]
        .iter()
        .take_while(|t| t.kind != TokKind::Sep)
        .collect();
    for (i, t) in args.iter().enumerate() {
        let raw = t.raw;
        let (value, end) = if raw == "-p" || raw == "--password" {
            let v = args.get(i + 1)?;
            (v.raw.to_string(), v.end)
        } else if let Some(v) = raw.strip_prefix("--password=") {
            (v.to_string(), t.end)
        } else if raw.starts_with("-p") && raw.len() > 2 {
            (raw[2..].to_string(), t.end)
        } else {
            continue;
        };
        return Some(Login {
            option: (t.start, end),
            docker: toks[docker].start,
            value,
        });
    }
    None
}

/// What feeds the password into stdin, when the value is a reference (never a literal).
fn stdin_source(value: &str) -> Option<String> {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if let Some(cmd) = inner.strip_prefix("$(").and_then(|v| v.strip_suffix(')')) {
        return Some(cmd.trim().to_string());
    }
    let vars = referenced_vars(inner);
    let is_var = vars.len() == 1
        && (inner == format!("${}", vars[0]) || inner == format!("${{{}}}", vars[0]));
    is_var.then(|| format!("echo \"{inner}\""))
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS008"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            for cmd in commands(bs, root) {
                let logins: Vec<Login> = cmd.lines().filter_map(find_login).collect();
                let Some(first) = logins.first() else {
                    continue;
                };
                let mut f = Finding::at(
                    cx.id(),
                    file,
                    cmd.path(),
                    format!(
                        "{}: docker login gets the password on the command line, visible in the process list and logs",
                        cmd.phase
                    ),
                );
                for l in &logins {
                    for v in referenced_vars(&l.value) {
                        if let Some(p) = variable_value(bs, root, &v) {
                            f = f.secret(p);
                        }
                    }
                }
                if logins.iter().all(|l| stdin_source(&l.value).is_some()) {
                    let new = edit_lines(cmd.text, |line| {
                        let Some(l) = find_login(line) else {
                            return LineEdit::Keep;
                        };
                        let Some(src) = stdin_source(&l.value) else {
                            return LineEdit::Keep;
                        };
                        LineEdit::Replace(format!(
                            "{}{src} | {}--password-stdin{}",
                            &line[..l.docker],
                            &line[l.docker..l.option.0],
                            &line[l.option.1..]
                        ))
                    });
                    if let Some(new) = new {
                        f = f.with_fix(
                            "pipe the password into docker login --password-stdin",
                            vec![rewrite(&cmd, new)],
                        );
                    }
                } else {
                    f = f.secret(first.value.clone()).follow_up(
                        "The docker login password is written literally in the buildspec: move it to Secrets Manager (env.secrets-manager), rotate it, then pipe it in with --password-stdin",
                    );
                }
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_and_sources() {
        let l = find_login("docker login -u $U -p \"$P\" my.registry").map(|l| l.value);
        assert_eq!(l.as_deref(), Some("\"$P\""));
        assert!(find_login("docker login -u $U --password-stdin").is_none());
        assert_eq!(stdin_source("$P").as_deref(), Some("echo \"$P\""));
        assert_eq!(stdin_source("\"${P}\"").as_deref(), Some("echo \"${P}\""));
        assert_eq!(
            stdin_source("$(aws ecr get-login-password)").as_deref(),
            Some("aws ecr get-login-password")
        );
        assert_eq!(stdin_source("hunter2"), None);
        assert_eq!(stdin_source("pre$P"), None);
    }
}
