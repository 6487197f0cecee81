//! Small pieces several fixes share: reading the unit's files by kind and building the
//! usual edits. Nothing here decides what is wrong; that stays in each fix's file.

use serde_json::Value;

use crate::document::{Op, Path, Position};
use crate::model::Kind;
use crate::workspace::Unit;

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

/// After the first of `keys` that the mapping has, else at the end.
pub fn after_first_of(map: &Value, keys: &[&str]) -> Position {
    keys.iter()
        .find(|k| map.get(**k).is_some())
        .map(|k| Position::After((*k).to_string()))
        .unwrap_or(Position::End)
}
