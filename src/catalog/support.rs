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

/// `pattern` compiled once per thread and reused (rules take patterns from parameters, and
/// compiling a regex costs far more than matching a few names). `None` when it is invalid.
pub fn cached_regex(pattern: &str) -> Option<regex::Regex> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(r) = c.get(pattern) {
            return r.clone();
        }
        let r = regex::Regex::new(pattern).ok();
        // Parameters are few; a bound keeps a pathological caller from growing it forever.
        if c.len() < 64 {
            c.insert(pattern.to_string(), r.clone());
        }
        r
    })
}
