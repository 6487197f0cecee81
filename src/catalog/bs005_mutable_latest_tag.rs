//! BS005: images are tagged with the commit, not only with a mutable `latest`.


use serde_json::Value;

use crate::document::{Op, Path};
use crate::model::Kind;

use super::buildspec::{
    Command, LineEdit, assignment, commands, edit_lines, env_map, rewrite, scalar_text,
    tokenize,
};
use super::image_tags::{Tag, is_fixed_value, is_latest, pushed, tag_of};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

pub const TAG_VAR: &str = "IMAGE_TAG";
const DEFINE: [&str; 2] = [
    "IMAGE_TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)",
    "IMAGE_TAG=${IMAGE_TAG:-build-$CODEBUILD_BUILD_NUMBER}",
];

/// A reference that is one variable (`$IMAGE`, `${IMAGE}`) whose value in the buildspec
/// already carries a tag, or is not known: its tag cannot be read here.
fn tag_hidden_in_variable(bs: &Value, root: &Path, reference: &str) -> bool {
    let r = reference.trim_matches('"');
    let name = r
        .strip_prefix("${")
        .and_then(|x| x.strip_suffix('}'))
        .or_else(|| r.strip_prefix('$'));
    let Some(name) = name.filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    else {
        return false;
    };
    match super::buildspec::variable_value(bs, root, name) {
        Some(v) => super::buildspec_shell::carries_tag(&v) || v.contains("$("),
        None => false,
    }
}

/// What the fix does to each command.
struct Plan {
    /// IMAGE_TAG ends up as latest (so `$IMAGE_TAG` pushes are mutable).
    latest_var: Option<&'static str>,
    /// Repositories whose `$IMAGE_TAG` push gets an extra `latest` push (IMAGE_TAG was plainly
    /// `latest`, and latest is not pushed otherwise).
    keep_latest: Vec<String>,
    /// Whether literal `:latest` pushes get a commit tag pushed before them.
    tag_literal: bool,
    /// The fixed tags the build pushes (`latest` for an untagged push).
    fixed_tags: Vec<String>,
    /// One repository is pushed with several fixed tags (`R:web`, `R:app`: two images): each
    /// gets its own commit tag (`R:web-$IMAGE_TAG`), or the second would overwrite the first.
    suffix: bool,
}

impl Plan {
    /// The commit tag that goes with a fixed tag.
    fn commit_tag(&self, fixed: &str) -> String {
        if self.suffix {
            format!("{fixed}-${TAG_VAR}")
        } else {
            format!("${TAG_VAR}")
        }
    }
}

/// Whether a line's first command is the `docker push` (not one behind `if`, `&&`, `||`).
fn starts_with_push(line: &str) -> bool {
    tokenize(line).is_some_and(|t| t.len() >= 2 && t[0].raw == "docker" && t[1].raw == "push")
}

/// The fixed tag of a pushed reference (`latest` when it has none).
fn fixed_tag_of(reference: &str) -> String {
    let r = reference.trim_matches('"');
    let last = r.rsplit('/').next().unwrap_or(r);
    match last.rsplit_once(':') {
        Some((_, t)) => t.to_string(),
        None => "latest".to_string(),
    }
}

/// Where `IMAGE_TAG` is set to latest, if it is.
enum LatestDef {
    Variable,
    Command,
    None,
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS005"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let cmds = commands(bs, root);
            let var_value = env_map(bs, "variables")
                .and_then(|m| m.get(TAG_VAR))
                .and_then(scalar_text);
            let cmd_values: Vec<&str> = cmds
                .iter()
                .flat_map(|c| c.lines())
                .filter_map(|l| assignment(l, TAG_VAR))
                .collect();
            let fixed = |v: &str| is_latest(v) && is_fixed_value(bs, root, v);
            let def = if cmd_values.iter().any(|v| fixed(v)) {
                LatestDef::Command
            } else if cmd_values.is_empty() && var_value.as_deref().is_some_and(fixed) {
                LatestDef::Variable
            } else {
                LatestDef::None
            };
            let defined = var_value.is_some() || !cmd_values.is_empty();
            let latest_var = (!matches!(def, LatestDef::None)).then_some(TAG_VAR);
            let all_lines: Vec<&str> = cmds.iter().flat_map(|c| c.lines()).collect();
            let pushes: Vec<(usize, String)> = cmds
                .iter()
                .enumerate()
                .flat_map(|(i, c)| c.lines().flat_map(pushed).map(move |r| (i, r)))
                .filter(|(_, r)| !untagged_but_tagged_elsewhere(r, &all_lines))
                .filter(|(_, r)| !tag_hidden_in_variable(bs, root, r))
                .collect();
            if pushes.is_empty()
                || pushes
                    .iter()
                    .any(|(_, r)| tag_of(r, latest_var) == Tag::Other)
            {
                continue;
            }
            let var_pushes: Vec<String> = pushes
                .iter()
                .filter_map(|(_, r)| match tag_of(r, latest_var) {
                    Tag::LatestVar(repo) => Some(repo),
                    _ => None,
                })
                .collect();
            let var_pushes_empty = var_pushes.is_empty();
            let literal: Vec<String> = pushes
                .iter()
                .filter_map(|(_, r)| match tag_of(r, latest_var) {
                    Tag::Latest(repo) => Some(repo),
                    _ => None,
                })
                .collect();
            let plain_latest = cmd_values
                .iter()
                .copied()
                .chain(var_value.as_deref())
                .any(|v| v.trim_matches(['"', '\'']) == "latest");
            // Fixed tags by repository, to see one repository carrying several images.
            let mut by_repo: std::collections::BTreeMap<
                String,
                std::collections::BTreeSet<String>,
            > = std::collections::BTreeMap::new();
            for (_, r) in &pushes {
                if let Tag::Latest(repo) = tag_of(r, latest_var) {
                    by_repo.entry(repo).or_default().insert(fixed_tag_of(r));
                }
            }
            let suffix = by_repo.values().any(|t| t.len() > 1);
            let fixed_tags: Vec<String> = by_repo
                .values()
                .flatten()
                .cloned()
                .collect::<std::collections::BTreeSet<String>>()
                .into_iter()
                .collect();
            let plan = Plan {
                latest_var,
                keep_latest: if plain_latest {
                    var_pushes
                        .into_iter()
                        .filter(|r| !literal.contains(r))
                        .collect()
                } else {
                    Vec::new()
                },
                tag_literal: latest_var.is_none() || var_pushes_empty,
                fixed_tags,
                suffix,
            };
            let mut ops = Vec::new();
            let mut inserted: Vec<(Path, usize)> = Vec::new();
            for cmd in cmds.iter().rev() {
                cmd_ops(cmd, &plan, &mut ops, &mut inserted);
            }
            let needs_definition = matches!(def, LatestDef::Variable) || !defined;
            if matches!(def, LatestDef::Variable) {
                let vars_len = env_map(bs, "variables").map_or(0, |m| m.len());
                let path = root.key("env").key("variables");
                let env_len = bs
                    .get("env")
                    .and_then(Value::as_object)
                    .map_or(0, |m| m.len());
                ops.push(Op::Remove {
                    path: match (vars_len, env_len) {
                        (1, 1) => root.key("env"),
                        (1, _) => path,
                        _ => path.key(TAG_VAR),
                    },
                });
            }
            if needs_definition {
                let pre = bs
                    .pointer("/phases/pre_build/commands")
                    .and_then(Value::as_array);
                let build = bs
                    .pointer("/phases/build/commands")
                    .and_then(Value::as_array);
                let (list, index) = match (pre, build) {
                    (Some(p), _) => {
                        let list = root.key("phases").key("pre_build").key("commands");
                        let extra = inserted
                            .iter()
                            .filter(|(l, _)| *l == list)
                            .map(|(_, n)| n)
                            .sum::<usize>();
                        (list, p.len() + extra)
                    }
                    (None, Some(_)) => (root.key("phases").key("build").key("commands"), 0),
                    _ => continue,
                };
                for (k, line) in DEFINE.iter().enumerate() {
                    ops.push(Op::InsertItem {
                        path: list.clone(),
                        index: index + k,
                        value: Value::String(line.to_string()),
                    });
                }
            }
            let (first, _) = &pushes[0];
            let text = cx.unit.files[file]
                .doc()
                .map(|(d, _)| d.text())
                .unwrap_or_default();
            let shell = super::buildspec_shell::Shell::of(bs, root, text);
            // A push that runs only under a condition (`if …; then docker push R:latest; fi`,
            // `test … && docker push …`): an unconditional commit tag would fail when the
            // image was not built, and a deploy file would name a tag that was never pushed.
            let conditional = all_lines
                .iter()
                .any(|l| !pushed(l).is_empty() && !starts_with_push(l));
            let finding = Finding::at(
                cx.id(),
                file,
                cmds[*first].path(),
                format!(
                    "the build pushes only mutable tags, pushed again by every build ({}): tasks started later run whatever was pushed last, and rollbacks cannot bring back old code",
                    pushes
                        .iter()
                        .map(|(_, r)| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            if shell.version_01 || shell.template || conditional {
                // 0.1 runs each command in its own shell: IMAGE_TAG set by one command is gone
                // in the next. A template needs its own escaping for shell variables.
                out.push(finding.follow_up(if shell.version_01 {
                    "Move the buildspec to version 0.2 (one shell for all commands), then tag and push the commit as well: IMAGE_TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)"
                } else if conditional {
                    "Tag and push the commit under the same condition as the push (IMAGE_TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)), and refer to it in the deploy file only when it was pushed"
                } else {
                    "Tag and push the commit as well (CODEBUILD_RESOLVED_SOURCE_VERSION), escaping shell variables for the template engine"
                }));
                continue;
            }
            out.push(
                finding
                    .with_fix(
                        "tag and push the commit (IMAGE_TAG from CODEBUILD_RESOLVED_SOURCE_VERSION)",
                        ops,
                    )
                    .follow_up("Consider ECR tag immutability for the repository, and check that its lifecycle policy keeps enough images to roll back to"),
            );
        }
    }
}

/// The edits of one command: pushes gain a commit tag, deploy files refer to it, a `latest`
/// definition of IMAGE_TAG becomes the commit.
fn cmd_ops(cmd: &Command<'_>, plan: &Plan, ops: &mut Vec<Op>, inserted: &mut Vec<(Path, usize)>) {
    let tagged = |repo: &str| format!("{repo}:${TAG_VAR}");
    let tagged_for = |repo: &str, r: &str| format!("{repo}:{}", plan.commit_tag(&fixed_tag_of(r)));
    let edit = |line: &str| -> Option<Vec<String>> {
        if plan.latest_var.is_some() && assignment(line, TAG_VAR).is_some_and(is_latest) {
            return Some(DEFINE.iter().map(|s| s.to_string()).collect());
        }
        if plan.tag_literal
            && (line.contains("imagedefinitions.json") || line.contains("imageDetail.json"))
        {
            let new = replace_fixed(line, plan);
            if new != line {
                return Some(vec![new]);
            }
        }
        let refs = pushed(line);
        let r = refs.first()?;
        let q = |s: String| {
            if r.starts_with('"') {
                format!("\"{s}\"")
            } else {
                s
            }
        };
        match tag_of(r, plan.latest_var) {
            Tag::Latest(repo) if plan.tag_literal => {
                let src = r.trim_matches('"').to_string();
                let commit = tagged_for(&repo, &src);
                Some(vec![
                    format!("docker tag {} {}", q(src), q(commit.clone())),
                    format!("docker push {}", q(commit)),
                    line.to_string(),
                ])
            }
            Tag::LatestVar(repo) if plan.keep_latest.contains(&repo) => Some(vec![
                line.to_string(),
                format!(
                    "docker tag {} {}",
                    q(tagged(&repo)),
                    q(format!("{repo}:latest"))
                ),
                format!("docker push {}", q(format!("{repo}:latest"))),
            ]),
            _ => None,
        }
    };
    let single_line = !cmd.text.trim().contains('\n');
    if single_line {
        let Some(lines) = edit(cmd.text.trim()) else {
            return;
        };
        // Keep the item where the original line is; add the others around it.
        let keep = lines.iter().position(|l| l == cmd.text.trim());
        let (main, before, after): (String, Vec<String>, Vec<String>) = match keep {
            Some(k) => (
                lines[k].clone(),
                lines[..k].to_vec(),
                lines[k + 1..].to_vec(),
            ),
            None => (lines[0].clone(), Vec::new(), lines[1..].to_vec()),
        };
        if main != cmd.text.trim() {
            ops.push(rewrite(cmd, main));
        }
        for l in after.iter().rev() {
            ops.push(Op::InsertItem {
                path: (*cmd.list).clone(),
                index: cmd.index + 1,
                value: Value::String(l.clone()),
            });
        }
        for l in before.iter().rev() {
            ops.push(Op::InsertItem {
                path: (*cmd.list).clone(),
                index: cmd.index,
                value: Value::String(l.clone()),
            });
        }
        inserted.push(((*cmd.list).clone(), before.len() + after.len()));
    } else if let Some(new) = edit_lines(cmd.text, |l| match edit(l) {
        Some(lines) => LineEdit::Replace(lines.join("\n")),
        None => LineEdit::Keep,
    }) {
        ops.push(rewrite(cmd, new));
    }
}

/// `:latest` (each fixed tag the build pushes) → `:$IMAGE_TAG` (or `:latest-$IMAGE_TAG`, see
/// [`Plan::suffix`]), closing and reopening single quotes around the variable where the tag sits
/// inside them (`'…:latest"}'` → `'…:'"$IMAGE_TAG"'"}'`).
fn replace_fixed(line: &str, plan: &Plan) -> String {
    let mut out = String::new();
    let mut single = false;
    let mut double = false;
    let mut i = 0;
    let b = line.as_bytes();
    'scan: while i < b.len() {
        for t in &plan.fixed_tags {
            let pat = format!(":{t}");
            if line[i..].starts_with(&pat)
                && !line[i + pat.len()..].starts_with(|c: char| {
                    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
                })
            {
                let commit = plan.commit_tag(t);
                if single {
                    let (fixed, var) = commit.split_at(commit.len() - TAG_VAR.len() - 1);
                    out.push_str(&format!(":{fixed}'\"{var}\"'"));
                } else {
                    out.push_str(&format!(":{commit}"));
                }
                i += pat.len();
                continue 'scan;
            }
        }
        let c = b[i];
        if c == b'\\' && !single {
            out.push_str(&line[i..(i + 2).min(b.len())]);
            i += 2;
            continue;
        }
        if c == b'\'' && !double {
            single = !single;
        } else if c == b'"' && !single {
            double = !double;
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// `docker push R` without a tag while the buildspec tags `R:<something>`: it relies on old
/// Docker pushing every tag, so which tag it means is unclear.
fn untagged_but_tagged_elsewhere(reference: &str, lines: &[&str]) -> bool {
    let r = reference.trim_matches('"');
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') || r.contains('@') {
        return false;
    }
    let prefix = format!("{r}:");
    lines.iter().any(|l| {
        l.match_indices(&prefix)
            .any(|(i, _)| !l[i + prefix.len()..].starts_with("latest"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(
            tag_of("$REPOSITORY_URI:latest", None),
            Tag::Latest("$REPOSITORY_URI".into())
        );
        assert_eq!(
            tag_of("$REPOSITORY_URI", None),
            Tag::Latest("$REPOSITORY_URI".into())
        );
        assert_eq!(
            tag_of("host:5000/app", None),
            Tag::Latest("host:5000/app".into())
        );
        assert_eq!(tag_of("$R:$IMAGE_TAG", None), Tag::Other);
        assert_eq!(
            tag_of("$R:$IMAGE_TAG", Some("IMAGE_TAG")),
            Tag::LatestVar("$R".into())
        );
        assert!(is_latest("${COMMIT_HASH:=latest}"));
        assert!(!is_latest(
            "$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)"
        ));
        assert_eq!(pushed("docker push $R:latest && echo ok"), ["$R:latest"]);
        assert_eq!(tag_of("$R:web", None), Tag::Latest("$R".into()));
        assert_eq!(tag_of("\"$(cat /tmp/tag.out)\"", None), Tag::Other);
        let plan = |tags: &[&str], suffix| Plan {
            latest_var: None,
            keep_latest: Vec::new(),
            tag_literal: true,
            fixed_tags: tags.iter().map(|t| t.to_string()).collect(),
            suffix,
        };
        let latest = plan(&["latest"], false);
        assert_eq!(
            replace_fixed(
                r#"printf '{"ImageURI":"'"$R"':latest"}' > imageDetail.json"#,
                &latest
            ),
            r#"printf '{"ImageURI":"'"$R"':'"$IMAGE_TAG"'"}' > imageDetail.json"#
        );
        assert_eq!(
            replace_fixed("echo \"$R:latest\"", &latest),
            "echo \"$R:$IMAGE_TAG\""
        );
        let two = plan(&["app", "web"], true);
        assert_eq!(
            replace_fixed(
                r#"echo "[{\"name\":\"web\",\"imageUri\":\"$R:web\"},{\"imageUri\":\"$R:app\"}]""#,
                &two
            ),
            r#"echo "[{\"name\":\"web\",\"imageUri\":\"$R:web-$IMAGE_TAG\"},{\"imageUri\":\"$R:app-$IMAGE_TAG\"}]""#
        );
        assert_eq!(
            replace_fixed("printf '{\"ImageURI\":\"R:web\"}'", &two),
            "printf '{\"ImageURI\":\"R:web-'\"$IMAGE_TAG\"'\"}'"
        );
    }

    #[test]
    fn fixed_values() {
        use serde_json::json;
        let root = Path::root();
        let bs = json!({"version": 0.2,
        "env": {"variables": {"STAGE": "prod"}, "parameter-store": {"P": "/p"}},
        "phases": {"build": {"commands": [
            "COMMIT_HASH=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c 1-7)",
            "CONST=web",
            "read -r READ < tag.txt"
        ]}}});
        assert!(is_fixed_value(&bs, &root, "latest"));
        assert!(is_fixed_value(&bs, &root, "\"web\""));
        assert!(!is_fixed_value(&bs, &root, "${COMMIT_HASH:=latest}"));
        assert!(!is_fixed_value(
            &bs,
            &root,
            "${CODEBUILD_BUILD_NUMBER:-latest}"
        ));
        assert!(!is_fixed_value(&bs, &root, "${P:-latest}"));
        assert!(!is_fixed_value(&bs, &root, "${READ:-latest}"));
        assert!(is_fixed_value(&bs, &root, "${NEVER_SET:=latest}"));
        assert!(is_fixed_value(&bs, &root, "${CONST:-latest}"));
        assert!(is_fixed_value(&bs, &root, "${STAGE:-latest}"));
        assert!(!is_fixed_value(&bs, &root, "$(date +%s)"));
    }
}
