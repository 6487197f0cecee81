//! What an [`Op`] means, applied to a plain value. The document layer checks every edit
//! against this: the re-parsed file must equal the old meaning with the op applied here.

use serde_json::Value;

use super::{EditError, Op, Path, Position, Seg};

/// Up to how many keys an object is searched in order instead of by hash.
pub(crate) const SMALL_OBJECT: usize = 12;

/// The value of `key` in the object `v`. Objects of pipeline files have a few keys, and the
/// rules look keys up all the time: comparing a few keys costs less than hashing one (a map's
/// hasher is SipHash), so small objects are searched in order.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let map = v.as_object()?;
    if map.len() <= SMALL_OBJECT {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// [`field`], to change the value.
pub fn field_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    let map = v.as_object_mut()?;
    if map.len() <= SMALL_OBJECT {
        map.iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        map.get_mut(key)
    }
}

pub fn apply(v: &mut Value, op: &Op) -> Result<(), EditError> {
    let missing = |p: &Path| EditError::NoSuchNode(p.to_string());
    match op {
        Op::Replace { path, value } => {
            let slot = path.lookup_mut(v).ok_or_else(|| missing(path))?;
            *slot = value.clone();
        }
        Op::InsertKey {
            path,
            key,
            value,
            position,
        } => {
            let map = path
                .lookup_mut(v)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| missing(path))?;
            if map.contains_key(key) {
                return Err(EditError::Unsupported(format!(
                    "key {key:?} exists at {path}"
                )));
            }
            let idx = match position {
                Position::End => map.len(),
                Position::Start => 0,
                Position::Before(k) => index_of(map, k).unwrap_or(map.len()),
                Position::After(k) => index_of(map, k).map(|i| i + 1).unwrap_or(map.len()),
            };
            map.shift_insert(idx, key.clone(), value.clone());
        }
        Op::InsertItem { path, index, value } => {
            let seq = path
                .lookup_mut(v)
                .and_then(Value::as_array_mut)
                .ok_or_else(|| missing(path))?;
            if *index > seq.len() {
                return Err(missing(&path.index(*index)));
            }
            seq.insert(*index, value.clone());
        }
        Op::Remove { path } => {
            let parent = path.parent().ok_or_else(|| missing(path))?;
            let container = parent.lookup_mut(v).ok_or_else(|| missing(path))?;
            match (path.last(), container) {
                (Some(Seg::Key(k)), Value::Object(m)) => {
                    m.shift_remove(&**k).ok_or_else(|| missing(path))?;
                }
                (Some(Seg::Index(i)), Value::Array(a)) if *i < a.len() => {
                    a.remove(*i);
                }
                _ => return Err(missing(path)),
            }
        }
        Op::RenameKey { path, new_key } => {
            let parent = path.parent().ok_or_else(|| missing(path))?;
            let map = parent
                .lookup_mut(v)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| missing(path))?;
            let Some(Seg::Key(old)) = path.last() else {
                return Err(missing(path));
            };
            if map.contains_key(new_key) {
                return Err(EditError::Unsupported(format!("key {new_key:?} exists")));
            }
            let idx = index_of(map, old).ok_or_else(|| missing(path))?;
            let val = map.shift_remove(&**old).ok_or_else(|| missing(path))?;
            map.shift_insert(idx, new_key.clone(), val);
        }
        Op::Comment { path, .. } => {
            path.lookup_mut(v).ok_or_else(|| missing(path))?;
        }
        Op::ReplaceInScalar {
            path,
            find,
            replace,
        } => {
            let slot = path.lookup_mut(v).ok_or_else(|| missing(path))?;
            let Value::String(s) = slot else {
                return Err(EditError::NoSuchNode(format!("{path} is not a string")));
            };
            if find.is_empty() || !s.contains(find.as_str()) {
                return Err(EditError::NoSuchNode(format!(
                    "{path} does not contain the text"
                )));
            }
            *s = s.replace(find.as_str(), replace);
        }
    }
    Ok(())
}

fn index_of(map: &serde_json::Map<String, Value>, key: &str) -> Option<usize> {
    map.keys().position(|k| k == key)
}

/// `a == b`, faster for the comparisons an edit makes: the maps of an edited file keep their
/// key order, so keys are compared in order first and looked up by hash only when the orders
/// differ (`==` on a `serde_json::Map` hashes every key of one side).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return false;
            }
            for ((kx, vx), (ky, vy)) in x.iter().zip(y.iter()) {
                if kx != ky {
                    // Another order: the same keys with the same values still make equal maps.
                    return x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)));
                }
                if !same(vx, vy) {
                    return false;
                }
            }
            true
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

/// [`same`] for values that may be absent.
pub fn same_opt(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Searched in order or by hash, a key finds what the map's own lookup finds.
    #[test]
    fn field_is_the_maps_lookup() {
        for n in [0, 1, SMALL_OBJECT - 1, SMALL_OBJECT, SMALL_OBJECT + 1, 40] {
            let mut v = Value::Object((0..n).map(|i| (format!("k{i}"), json!(i))).collect());
            let map = v.as_object().cloned().unwrap_or_default();
            for key in ["k0", "k11", "k12", "k39", "k", "k00", "", "K0"] {
                assert_eq!(field(&v, key), map.get(key), "{n} {key}");
                assert_eq!(field_mut(&mut v, key).cloned(), map.get(key).cloned());
            }
            if let Some(slot) = field_mut(&mut v, "k0") {
                *slot = json!("x");
                assert_eq!(v["k0"], json!("x"));
            }
        }
        assert_eq!(field(&json!([1]), "0"), None);
        assert_eq!(field(&json!("s"), "s"), None);
    }

    #[test]
    fn same_is_equality() {
        let cases = [
            (
                json!({"a": 1, "b": [1, {"c": 2}]}),
                json!({"a": 1, "b": [1, {"c": 2}]}),
            ),
            (json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1})),
            (json!({"a": 1, "b": 2}), json!({"b": 2, "a": 3})),
            (json!({"a": 1, "b": 2}), json!({"a": 1, "c": 2})),
            (json!({"a": 1}), json!({"a": 1, "b": 2})),
            (json!([1, 2]), json!([2, 1])),
            (json!([1, 2]), json!([1, 2, 3])),
            (
                json!({"x": {"a": 1, "b": 2}}),
                json!({"x": {"b": 2, "a": 1}}),
            ),
            (json!(1), json!(1.0)),
            (json!("1"), json!(1)),
            (json!(null), json!(null)),
        ];
        for (a, b) in &cases {
            assert_eq!(same(a, b), a == b, "{a} vs {b}");
            assert_eq!(same(b, a), b == a, "{b} vs {a}");
            assert!(same(a, a));
        }
        assert!(same_opt(None, None) && !same_opt(Some(&json!(1)), None));
    }

    #[test]
    fn insert_key_keeps_order() {
        let mut v = json!({"a": 1, "c": 3});
        apply(
            &mut v,
            &Op::InsertKey {
                path: Path::root(),
                key: "b".into(),
                value: json!(2),
                position: Position::After("a".into()),
            },
        )
        .unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":1,"b":2,"c":3}"#);
    }

    #[test]
    fn rename_keeps_position_and_remove_needs_the_node() {
        let mut v = json!({"a": 1, "b": 2});
        let op = Op::RenameKey {
            path: Path::root().key("a"),
            new_key: "z".into(),
        };
        apply(&mut v, &op).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"z":1,"b":2}"#);
        let gone = Op::Remove {
            path: Path::root().key("nope"),
        };
        assert!(apply(&mut v, &gone).is_err());
    }
}
