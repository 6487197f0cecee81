//! BS003: a failed `build` phase stops the build before `post_build` publishes anything.

use serde_json::Value;

use crate::document::{Op, Position};
use crate::model::Kind;

use super::buildspec::commands;
use super::support::docs_of;
use super::{Context, Finding, Safety};

pub struct Rule;

/// What in post_build publishes: a push or a deploy artifact.
fn publishes(line: &str) -> Option<&'static str> {
    if line.contains("docker push")
        || line.contains("docker buildx build") && line.contains("--push")
    {
        Some("pushes the image")
    } else if line.contains("imageDetail.json") || line.contains("imagedefinitions.json") {
        Some("writes the deploy artifact")
    } else {
        None
    }
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
            let Some(what) = post.iter().flat_map(|c| c.lines()).find_map(publishes) else {
                continue;
            };
            let build_path = root.key("phases").key("build");
            let f = Finding::at(
                cx.id(),
                file,
                build_path.key("on-failure"),
                format!(
                    "post_build {what} even when the build phase failed: CodeBuild runs post_build after a failed build"
                ),
            );
            let f = match on_failure {
                None => f.with_fix(
                    "set on-failure: ABORT on the build phase",
                    Safety::Safe,
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
