//! Small pieces several fixes share: reading the unit's files by kind and building the
//! usual edits. Nothing here decides what is wrong; that stays in each fix's file.

use serde_json::Value;
use std::rc::Rc;

use crate::aws::{Action, At, Container, DeploymentGroup, Pipeline, Service, TaskDefinition};
use crate::document::{Op, Path, Position};
use crate::model::Kind;
use crate::workspace::{File, Unit};

/// Each file of `kind` with its index, its meaning and the path of its root object.
pub fn docs_of(unit: &Unit, kind: Kind) -> impl Iterator<Item = (usize, &Value, &Path)> {
    unit.of_kind(kind)
        .filter_map(|(i, f)| Some((i, f.value()?, f.doc()?.1)))
}

/// Set `key` of the mapping at `map_path` (whose meaning is `map`) to `value`: replace it
/// when it exists, insert it at `position` otherwise.
pub fn set_key(map_path: &Path, map: &Value, key: &str, value: Value, position: Position) -> Op {
    if map.get(key).is_some() {
        Op::Replace {
            path: map_path.key(key),
            value,
        }
    } else {
        Op::InsertKey {
            path: map_path.clone(),
            key: key.to_string(),
            value,
            position,
        }
    }
}

/// [`set_key`] on a mapping of the typed model, addressed by where it came from.
pub fn set_key_in(map: &At<'_>, key: &str, value: Value, position: Position) -> Op {
    set_key(&map.at, map.value, key, value, position)
}

/// After the first of `keys` that the mapping has, else at the end.
pub fn after_first_of(map: &Value, keys: &[&str]) -> Position {
    keys.iter()
        .find(|k| map.get(**k).is_some())
        .map(|k| Position::After((*k).to_string()))
        .unwrap_or(Position::End)
}

/// `pattern` compiled once per thread and reused (rules take patterns from parameters, and
/// compiling a regex costs far more than matching a few names). `None` when it is invalid.
pub fn cached_regex(pattern: &str) -> Option<Rc<regex::Regex>> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<Rc<regex::Regex>>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(r) = c.get(pattern) {
            return r.clone();
        }
        // Shared, not cloned: a cloned `Regex` starts with empty search caches, which every
        // search would then build again.
        let r = regex::Regex::new(pattern).ok().map(Rc::new);
        // Parameters are few; a bound keeps a pathological caller from growing it forever.
        if c.len() < 256 {
            c.insert(pattern.to_string(), r.clone());
        }
        r
    })
}

/// The text of a `<NAME>` image placeholder (`NAME`), if `image` is one.
pub fn placeholder_name(image: &str) -> Option<&str> {
    image
        .strip_prefix('<')?
        .strip_suffix('>')
        .filter(|n| !n.is_empty() && !n.contains(['<', '>']))
}

/// Whether `s` can be an `Image<N>ContainerName` placeholder name.
pub fn is_placeholder_text(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// The task definition a file holds, as a view at its address.
pub fn task_definition(file: &File) -> Option<TaskDefinition<'_>> {
    Some(TaskDefinition(At::new(
        file.value()?,
        file.doc()?.1.clone(),
    )))
}

/// The pipeline a file holds, as a view at its address.
pub fn pipeline(file: &File) -> Option<Pipeline<'_>> {
    Some(Pipeline(At::new(file.value()?, file.doc()?.1.clone())))
}

/// The names of a task definition's containers.
pub fn container_names<'a>(taskdef: &TaskDefinition<'a>) -> Vec<&'a str> {
    taskdef
        .containers()
        .iter()
        .filter_map(Container::name)
        .collect()
}

/// Every `CodeDeployToECS` action of the unit, with its file.
pub fn codedeploy_actions(unit: &Unit) -> Vec<(usize, Action<'_>)> {
    unit.pipelines()
        .flat_map(|(file, p)| p.actions().into_iter().map(move |a| (file, a)))
        .filter(|(_, a)| a.provider() == Some("CodeDeployToECS"))
        .collect()
}

/// The placeholder the pipeline fills with the build's image in `taskdef`: the name the
/// `Image1ContainerName` of a CodeDeployToECS action gives, when that is placeholder text and
/// not the name of one of the task definition's containers; `IMAGE1_NAME` otherwise (the
/// name CP003 sets).
pub fn image1_placeholder(unit: &Unit, taskdef: &TaskDefinition<'_>) -> String {
    let names = container_names(taskdef);
    codedeploy_actions(unit)
        .iter()
        .filter_map(|(_, a)| {
            a.configuration("Image1ContainerName")
                .and_then(Value::as_str)
        })
        .map(|p| {
            let p = p.trim();
            placeholder_name(p).unwrap_or(p)
        })
        .find(|p| is_placeholder_text(p) && !names.contains(p))
        .unwrap_or(IMAGE1)
        .to_string()
}

/// Whether `s` is a value something else fills in before it is used: a template token
/// (`$VAR`, `${VAR}`, `{VAR}`, `{{ … }}`, `%VAR%`, `<VAR>`, `#{VAR}`), a part in capitals
/// that a `sed` replaces (`REPOSITORY_URI:IMAGE_TAG`, `PLACEHOLDER_TASK_DEFINITION`), or a
/// word that says so (`filled-in-by-gh-action`, `placeholder`, `changeme`).
pub fn is_template_value(s: &str) -> bool {
    let s = s.trim();
    if s.is_empty() {
        return false;
    }
    if s.contains(['$', '{', '}', '%', '<', '>']) {
        return true;
    }
    let caps_token = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && part.contains('_')
            && part
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    if s.split(['/', ':', '@', '.']).any(caps_token) {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    [
        "filled-in",
        "fill-in",
        "placeholder",
        "replace-me",
        "replaceme",
        "to-be-replaced",
        "changeme",
        "change-me",
        "dummy",
        "overwritten",
        "set-by-",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

/// The logical id of the template resource file `file` is, when it is one.
pub fn resource_id(unit: &Unit, file: usize) -> Option<&str> {
    match &unit.files.get(file)?.front {
        crate::front::Front::Cfn(r) => Some(&r.logical_id),
        _ => None,
    }
}

/// How a message names an object: the first of `keys` it has as a string, else the logical id
/// of the template resource it is (CloudFormation names many resources itself), else `?`.
pub fn name_of<'a>(unit: &'a Unit, file: usize, v: &'a Value, keys: &[&str]) -> &'a str {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .or_else(|| resource_id(unit, file))
        .unwrap_or("?")
}

/// How a message names a deployment group: its `deploymentGroupName`, else the logical id of
/// the template resource it is, else `?`.
pub fn group_name<'a>(unit: &'a Unit, file: usize, dg: &DeploymentGroup<'a>) -> &'a str {
    dg.name().or_else(|| resource_id(unit, file)).unwrap_or("?")
}

/// The placeholder name AWS documents for the first image.
pub const IMAGE1: &str = "IMAGE1_NAME";

/// How a message names a service: its `serviceName` in quotes, or, for a create-service input that leaves
/// the name to the command line, the file it is declared in.
pub fn service_name(unit: &Unit, file: usize, svc: &Service<'_>) -> String {
    match svc.name() {
        Some(n) => format!("\"{n}\""),
        None if resource_id(unit, file).is_some() => {
            format!("\"{}\"", name_of(unit, file, svc.0.value, &[]))
        }
        None => format!(
            "in {} (named on the command line)",
            unit.files[file].file_name()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(placeholder_name("<IMAGE1_NAME>"), Some("IMAGE1_NAME"));
        assert_eq!(placeholder_name("<>"), None);
        assert_eq!(placeholder_name("repo:latest"), None);
        assert!(is_placeholder_text("IMAGE1_NAME"));
        assert!(!is_placeholder_text("a b"));
        for t in [
            "REPOSITORY_URI:IMAGE_TAG",
            "$ECR_LATEST_IMAGE_URL",
            "{ACCOUNT_ID}.dkr.ecr.ap-northeast-2.amazonaws.com/app:latest",
            "filled-in-by-gh-action",
            "arn:aws:ecs:ap-northeast-1:PLACEHOLDER_AWS_ID:task-definition/PLACEHOLDER_TASK_DEFINITION",
            "%IMAGE_URI%",
        ] {
            assert!(is_template_value(t), "{t}");
        }
        for t in [
            "nginx:1.25",
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:v1.0.0",
            "arn:aws:ecs:eu-west-2:111111111111:task-definition/ghost-blog:1",
            "project51-bg-deploy-td",
            "mysql",
        ] {
            assert!(!is_template_value(t), "{t}");
        }
    }
}
