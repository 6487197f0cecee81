//! A CodeBuild buildspec: its phases, their commands (each with its address), and `env`.

use crate::document::value::field;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::At;
use crate::document::Path;

/// A buildspec (a `buildspec.yml`, or the one inside a template string).
#[derive(Clone, Debug)]
pub struct Buildspec<'a>(pub At<'a>);

/// One item of a phase's `commands` or `finally` list.
#[derive(Clone, Debug)]
pub struct Command<'a> {
    pub phase: &'a str,
    /// The sequence the item is in (shared by its items: most buildspec rules list every
    /// command on every check).
    pub list: Rc<Path>,
    pub index: usize,
    pub text: &'a str,
}

impl Command<'_> {
    pub fn path(&self) -> Path {
        self.list.index(self.index)
    }

    /// The shell lines of the item (one for a plain command, several for a `|` block).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text
            .split('\n')
            .map(str::trim)
            .filter(|l| !l.is_empty())
    }
}

impl<'a> Buildspec<'a> {
    /// Every command, phase by phase in document order (`commands`, then `finally`).
    pub fn commands(&self) -> Vec<Command<'a>> {
        let mut out = Vec::new();
        let Some(phases) = field(self.0.value, "phases").and_then(Value::as_object) else {
            return out;
        };
        // Paths are built once per phase, not once per list (most buildspec rules call this).
        let phases_path = self.0.path("phases");
        for (phase, body) in phases {
            let phase_path = phases_path.key(phase);
            for list in ["commands", "finally"] {
                let Some(items) = field(body, list).and_then(Value::as_array) else {
                    continue;
                };
                let list_path = Rc::new(phase_path.key(list));
                for (index, item) in items.iter().enumerate() {
                    if let Some(text) = item.as_str() {
                        out.push(Command {
                            phase,
                            list: Rc::clone(&list_path),
                            index,
                            text,
                        });
                    }
                }
            }
        }
        out
    }

    /// `env.<key>` as a mapping (`variables`, `secrets-manager`, `parameter-store`).
    pub fn env(&self, key: &str) -> Option<&'a Map<String, Value>> {
        field(field(self.0.value, "env")?, key)?.as_object()
    }

    /// The `artifacts.files` entries that are strings, with their addresses.
    pub fn artifact_files(&self) -> Vec<(Path, &'a str)> {
        self.0
            .get("artifacts")
            .map(|a| {
                a.items("files")
                    .into_iter()
                    .filter_map(|f| Some((f.at.clone(), f.value.as_str()?)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commands_env_and_artifacts_with_their_addresses() {
        let v = json!({"version": 0.2, "env": {"variables": {"A": "1"}},
            "phases": {"build": {"commands": ["make", 5, "a\nb"], "finally": ["rm x"]}},
            "artifacts": {"files": ["imagedefinitions.json", {"x": 1}]}});
        let bs = Buildspec(At::new(&v, Path::root()));
        let cmds = bs.commands();
        assert_eq!(cmds.len(), 3);
        assert_eq!(
            cmds[1].path().to_string(),
            "$['phases']['build']['commands'][2]"
        );
        assert_eq!(cmds[1].lines().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(cmds[2].phase, "build");
        assert_eq!(bs.env("variables").map(|m| m.len()), Some(1));
        let files = bs.artifact_files();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].0.to_string(), "$['artifacts']['files'][0]");
    }
}
