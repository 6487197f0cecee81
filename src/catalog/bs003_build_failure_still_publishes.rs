//! BS003: a failed `build` phase stops the build before `post_build` publishes anything.

use serde_json::Value;

use crate::document::{Op, Position};
use crate::model::Kind;

use super::image_tags::{Tag, is_fixed_value, pushed, tag_of};
use super::buildspec::{commands, referenced_vars, variable_value};
use super::support::docs_of;
use super::{Context, Finding};

pub struct Rule;

/// A line that builds the image.
fn builds_image(line: &str) -> bool {
    line.contains("docker build")
        || line.contains("docker-compose build")
        || line.contains("docker compose build")
        || line.contains("docker buildx build")
}

/// Whether a command can fail once the image is built: anything but messages, tagging,
/// variable assignments and moving around.
fn can_fail(line: &str) -> bool {
    let l = line.trim();
    let first = l.split_whitespace().next().unwrap_or("");
    if l.is_empty() || l.starts_with('#') {
        return false;
    }
    if first.contains('=') && !first.starts_with('=') && !l.contains("$(") {
        return false;
    }
    if l.starts_with("docker tag ") || l.starts_with("docker images") {
        return false;
    }
    !matches!(
        first,
        "echo"
            | "printf"
            | "cd"
            | "ls"
            | "pwd"
            | "date"
            | "true"
            | ":"
            | "export"
            | "set"
            | "sleep"
    )
}

/// The mutable references post_build pushes (`latest` or a fixed tag, also through a
/// variable that the buildspec sets to one).
fn mutable_pushes(bs: &Value, root: &crate::document::Path, lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .flat_map(|l| pushed(l))
        .filter(|r| match tag_of(r, None) {
            Tag::Latest(_) | Tag::LatestVar(_) => true,
            Tag::Other => {
                let tag = r.trim_matches('"').rsplit(':').next().unwrap_or("");
                referenced_vars(tag)
                    .first()
                    .filter(|v| {
                        tag.trim_start_matches(['$', '{']).trim_end_matches('}') == v.as_str()
                    })
                    .and_then(|v| variable_value(bs, root, v))
                    .is_some_and(|v| is_fixed_value(bs, root, &v))
            }
        })
        .collect()
}

impl super::Rule for Rule {
    fn id(&self) -> &'static str {
        "BS003"
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for (file, bs, root) in docs_of(cx.unit, Kind::Buildspec) {
            let Some(build) = bs.pointer("/phases/build").filter(|b| b.is_object()) else {
                continue;
            };
            let on_failure = build.get("on-failure").and_then(Value::as_str);
            if on_failure == Some("ABORT") {
                continue;
            }
            let cmds = commands(bs, root);
            let post: Vec<_> = cmds.iter().filter(|c| c.phase == "post_build").collect();
            // A post_build that checks the outcome itself is fine.
            if post
                .iter()
                .any(|c| c.text.contains("CODEBUILD_BUILD_SUCCEEDING"))
            {
                continue;
            }
            let post_lines: Vec<&str> = post.iter().flat_map(|c| c.lines()).collect();
            let mutable = mutable_pushes(bs, root, &post_lines);
            if mutable.is_empty() {
                continue;
            }
            // Harm needs an image built before the build phase ends and a command after it
            // that can fail: a failure before the image exists makes the push fail too.
            let early: Vec<&str> = cmds
                .iter()
                .filter(|c| matches!(c.phase, "install" | "pre_build"))
                .flat_map(|c| c.lines())
                .collect();
            let build_lines: Vec<&str> = cmds
                .iter()
                .filter(|c| c.phase == "build")
                .flat_map(|c| c.lines())
                .collect();
            let after_image: Vec<&str> = match build_lines.iter().rposition(|l| builds_image(l)) {
                Some(i) => build_lines[i + 1..].to_vec(),
                None if early.iter().any(|l| builds_image(l)) => build_lines.clone(),
                None => Vec::new(),
            };
            let Some(risky) = after_image.iter().find(|l| can_fail(l)) else {
                continue;
            };
            let what = format!(
                "pushes {} even when `{}` in the build phase failed after the image was built",
                mutable.join(", "),
                risky
            );
            let text = cx.unit.files[file]
                .doc()
                .map(|(d, _)| d.text())
                .unwrap_or_default();
            let version_01 = super::buildspec_shell::Shell::of(bs, root, text).version_01;
            let build_path = root.key("phases").key("build");
            let f = Finding::at(
                cx.id(),
                file,
                build_path.key("on-failure"),
                format!(
                    "post_build {what}: CodeBuild runs post_build after a failed build, so an image that failed its checks replaces the tag that deploys use"
                ),
            );
            let f = match on_failure {
                _ if version_01 => f.follow_up(
                    "Buildspec version 0.1 has no on-failure: move to version 0.2 and set on-failure: ABORT on the build phase, or start post_build with `[ \"$CODEBUILD_BUILD_SUCCEEDING\" = 1 ] || exit 1`",
                ),
                None => f.with_fix(
                    "set on-failure: ABORT on the build phase",
                    vec![Op::InsertKey {
                        path: build_path,
                        key: "on-failure".to_string(),
                        value: Value::String("ABORT".to_string()),
                        position: if build.get("commands").is_some() {
                            Position::Before("commands".to_string())
                        } else {
                            Position::Start
                        },
                    }],
                ),
                Some(_) => f.follow_up(
                    "The build phase sets on-failure: CONTINUE explicitly: change it to ABORT, or start post_build with `[ \"$CODEBUILD_BUILD_SUCCEEDING\" = 1 ] || exit 1`",
                ),
            };
            out.push(f);
        }
    }
}
