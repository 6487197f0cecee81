//! BS007: no build command prints the environment or a secret to the build log.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::document::Op;
use crate::model::Kind;

use super::buildspec::{
    Command, LineEdit, TokKind, commands, edit_lines, env_map, referenced_vars, rewrite,
    scalar_text, tokenize,
};
use super::secrets;
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

/// Commands that dump every variable.
static DUMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:printenv|env|export -p|set|declare -p|declare -x)(?:\s*\|\s*(?:sort|cat|less))?$",
    )
    .ok()
});

/// `set -x`, `set -ex`, `set -o xtrace`.
static XTRACE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^set\s+(?:-o\s+xtrace|-([a-wyz]*)x([a-wyz]*))$").ok());

/// What the buildspec knows about secret variables: name → plaintext value (if it is one).
/// CodeBuild masks the values of `parameter-store` and `secrets-manager` variables in the log
/// (a literal replacement with `***`), so printing those leaks nothing; plaintext variables,
/// project variables of unknown type and values fetched at run time are not masked.
struct Secrets {
    by_name: BTreeMap<String, Option<String>>,
    masked: BTreeSet<String>,
    /// Whether the build handles a secret at all: a plaintext secret variable, a secret-named
    /// variable, a masked one (a dump also prints what was derived from it, which is not
    /// masked), or a secret fetched at run time. A dump or a trace leaks only then.
    unmasked_in_scope: bool,
}

impl Secrets {
    fn of(bs: &Value, lines: &[&str]) -> Secrets {
        let mut by_name = BTreeMap::new();
        let mut masked = BTreeSet::new();
        for key in ["secrets-manager", "parameter-store"] {
            for name in env_map(bs, key).into_iter().flat_map(|m| m.keys()) {
                masked.insert(name.clone());
            }
        }
        for (name, v) in env_map(bs, "variables").into_iter().flatten() {
            if let Some(text) = scalar_text(v)
                && secrets::plaintext_secret(name, &text).is_some()
            {
                by_name.insert(name.clone(), Some(text));
            }
        }
        let fetched = lines.iter().any(|l| {
            l.contains("get-secret-value")
                || (l.contains("get-parameter") && l.contains("--with-decryption"))
        });
        let secret_name = lines.iter().any(|l| {
            referenced_vars(l)
                .iter()
                .any(|v| secrets::is_secret_name(v))
        });
        Secrets {
            unmasked_in_scope: !by_name.is_empty() || fetched || secret_name || !masked.is_empty(),
            by_name,
            masked,
        }
    }

    fn is_secret(&self, name: &str) -> bool {
        !self.masked.contains(name)
            && (self.by_name.contains_key(name) || secrets::is_secret_name(name))
    }

    fn plaintext(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).and_then(|v| v.as_deref())
    }

    fn all_plaintext(&self) -> impl Iterator<Item = &str> {
        self.by_name.values().filter_map(|v| v.as_deref())
    }
}

/// Why a line prints secrets, and how it is fixed.
struct Leak {
    line: String,
    why: String,
    edit: LineEdit,
    /// Variables whose plaintext values the line prints (`None`: all of them).
    vars: Option<Vec<String>>,
}

fn leak(line: &str, secrets: &Secrets) -> Option<Leak> {
    let mk = |why: String, edit: LineEdit, vars: Option<Vec<String>>| Leak {
        line: line.to_string(),
        why,
        edit,
        vars,
    };
    // Every line of every buildspec comes here: only a line that starts with one of the
    // command names below can be any of the leaks, so the others cost no regex and no tokens.
    let start = line.trim_start();
    let starts = |words: &[&str]| words.iter().any(|w| start.starts_with(w));
    // Dumping the environment or tracing commands leaks only what the log does not mask.
    let dumps = secrets.unmasked_in_scope;
    let norm = if dumps && starts(&["printenv", "env", "export", "set", "declare"]) {
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        String::new()
    };
    if dumps && DUMP.as_ref().is_some_and(|r| r.is_match(&norm)) {
        return Some(mk("prints every variable".into(), LineEdit::Remove, None));
    }
    if let Some(c) = XTRACE
        .as_ref()
        .and_then(|r| r.captures(&norm))
        .filter(|_| dumps)
    {
        let rest = format!(
            "{}{}",
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str())
        );
        let edit = if rest.is_empty() {
            LineEdit::Remove
        } else {
            LineEdit::Replace(format!("set -{rest}"))
        };
        return Some(mk(
            "traces every command with its expanded arguments".into(),
            edit,
            None,
        ));
    }
    if !starts(&["echo", "printf", "printenv"]) {
        return None;
    }
    let toks = tokenize(line)?;
    let first = toks.first()?;
    if toks.iter().any(|t| t.kind != TokKind::Word) {
        // Piped or redirected: the value goes somewhere else than the log.
        return None;
    }
    let printed: Vec<String> = match first.raw {
        "echo" | "printf" => toks[1..]
            .iter()
            .flat_map(|t| {
                // Single quotes print the text `$X`, not the value.
                if t.raw.starts_with('\'') {
                    Vec::new()
                } else {
                    referenced_vars(t.raw)
                }
            })
            .filter(|v| secrets.is_secret(v))
            .collect(),
        "printenv" => toks[1..]
            .iter()
            .map(|t| t.unquoted())
            .filter(|v| secrets.is_secret(v))
            .collect(),
        _ => Vec::new(),
    };
    if printed.is_empty() {
        return None;
    }
    Some(mk(
        format!("prints {}", printed.join(", ")),
        LineEdit::Remove,
        Some(printed),
    ))
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS007"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            // One finding per list: removing an item moves the next one into its place.
            let mut by_list: Vec<(Vec<&Command<'_>>, Vec<Leak>)> = Vec::new();
            let cmds = commands(bs, root);
            let lines: Vec<&str> = cmds.iter().flat_map(|c| c.lines()).collect();
            let secrets = Secrets::of(bs, &lines);
            for cmd in &cmds {
                let leaks: Vec<Leak> = cmd.lines().filter_map(|l| leak(l, &secrets)).collect();
                if leaks.is_empty() {
                    continue;
                }
                match by_list.last_mut() {
                    Some((c, l)) if c[0].list == cmd.list => {
                        c.push(cmd);
                        l.extend(leaks);
                    }
                    _ => by_list.push((vec![cmd], leaks)),
                }
            }
            for (cmds, leaks) in by_list {
                let mut ops: Vec<Op> = Vec::new();
                for cmd in cmds.iter().rev() {
                    let new = edit_lines(cmd.text, |l| match leak(l, &secrets) {
                        Some(k) => k.edit,
                        None => LineEdit::Keep,
                    });
                    if let Some(new) = new {
                        ops.push(rewrite(cmd, new));
                    }
                }
                let what: Vec<String> = leaks
                    .iter()
                    .map(|k| format!("`{}` {}", k.line, k.why))
                    .collect();
                let mut f = Finding::at(
                    cx.id(),
                    file,
                    cmds[0].path(),
                    format!(
                        "{} writes secrets to the build log: {}",
                        cmds[0].phase,
                        what.join("; ")
                    ),
                );
                for k in &leaks {
                    match &k.vars {
                        None => {
                            for v in secrets.all_plaintext() {
                                f = f.secret(v);
                            }
                        }
                        Some(vars) => {
                            for v in vars {
                                if let Some(p) = secrets.plaintext(v) {
                                    f = f.secret(p);
                                }
                            }
                        }
                    }
                }
                out.push(
                    f.with_fix(
                        "remove the commands that print secrets",
                        ops,
                    )
                    .follow_up(
                        "Rotate every secret these commands already printed, and delete the CloudWatch log streams of past builds that contain them",
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_prints_secrets() {
        let s = Secrets {
            by_name: BTreeMap::from([("DB_PASS".to_string(), Some("x".to_string()))]),
            masked: BTreeSet::from(["DB_ARN_SECRET".to_string()]),
            unmasked_in_scope: true,
        };
        let yes = [
            "printenv",
            "env | sort",
            "set -x",
            "set -o  xtrace",
            "echo \"DB password is $DB_PASS\"",
            "echo ${API_TOKEN}",
            "printenv GITHUB_TOKEN",
        ];
        for l in yes {
            assert!(leak(l, &s).is_some(), "{l}");
        }
        let no = [
            "echo Build started on `date`",
            "echo $NODE_ENV",
            "echo '$DB_PASS'",
            "echo \"$DB_PASS\" | docker login -u u --password-stdin",
            "echo $DB_PASS > .pgpass",
            "env NODE_ENV=test npm test",
            "set -e",
            "echo $DB_ARN_SECRET",
        ];
        for l in no {
            assert!(leak(l, &s).is_none(), "{l}");
        }
        // Nothing the log would show in clear: dumping the environment leaks nothing.
        let clean = Secrets {
            by_name: BTreeMap::new(),
            masked: BTreeSet::from(["DB_PASSWORD".to_string()]),
            unmasked_in_scope: false,
        };
        for l in ["printenv", "set -x", "echo $DB_PASSWORD"] {
            assert!(leak(l, &clean).is_none(), "{l}");
        }
        assert!(matches!(
            leak("set -eux", &s).map(|k| k.edit),
            Some(LineEdit::Replace(x)) if x == "set -eu"
        ));
    }
}
