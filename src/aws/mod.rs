//! The typed model: borrowed views of the objects a pipeline is made of, in the AWS API's
//! names, each carrying its address in its document.
//!
//! A rule reads `container.health_check()?.start_period()` instead of walking raw keys, and
//! edits through the address the value came with (`hc.path("startPeriod")`). The views are
//! the same whichever front end produced the value (a raw CLI file or a CloudFormation
//! resource): the front end translates the addresses back (see [`crate::front`]).
//!
//! A view never guesses: a key that holds something other than the type it should (a
//! template token, a computed CloudFormation value) reads as [`Field::Other`], which rules
//! treat as "not mine to judge", distinct from [`Field::Missing`].

pub mod appspec;
pub mod buildspec;
pub mod pipeline;
pub mod service;
pub mod target_group;
pub mod task_definition;

use serde_json::Value;

use crate::document::Path;
use crate::document::value::field;

pub use appspec::AppSpec;
pub use buildspec::Buildspec;
pub use pipeline::{Action, Pipeline, Stage};
pub use service::{DeploymentGroup, Service};
pub use target_group::TargetGroup;
pub use task_definition::{Container, HealthCheck, TaskDefinition, Timing as HealthCheckTiming};

/// A value of a view and its address (owned: the address of a nested value is built).
#[derive(Clone, Debug)]
pub struct At<'a> {
    pub value: &'a Value,
    pub at: Path,
}

/// What a key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<T> {
    Missing,
    Value(T),
    /// Something else than the type the API wants (a token, a computed value).
    Other,
}

impl<T> Field<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, or `default` when the key is absent (what AWS uses then); `None` for
    /// something that cannot be judged.
    pub fn or_default(self, default: T) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            Field::Missing => Some(default),
            Field::Other => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Field::Missing)
    }
}

impl<'a> At<'a> {
    pub fn new(value: &'a Value, at: Path) -> At<'a> {
        At { value, at }
    }

    /// The address of a key of this object (present or not: where an insert goes).
    pub fn path(&self, key: &str) -> Path {
        self.at.key(key)
    }

    pub fn get(&self, key: &str) -> Option<At<'a>> {
        Some(At::new(field(self.value, key)?, self.at.key(key)))
    }

    pub fn str(&self, key: &str) -> Option<&'a str> {
        field(self.value, key).and_then(Value::as_str)
    }

    /// A whole non-negative number (a float with no fraction counts, as AWS reads it).
    pub fn u64(&self, key: &str) -> Field<u64> {
        match field(self.value, key) {
            None | Some(Value::Null) => Field::Missing,
            Some(Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                        .map(|f| f as u64)
                })
                .map_or(Field::Other, Field::Value),
            Some(_) => Field::Other,
        }
    }

    pub fn bool(&self, key: &str) -> Field<bool> {
        match field(self.value, key) {
            None | Some(Value::Null) => Field::Missing,
            Some(Value::Bool(b)) => Field::Value(*b),
            Some(_) => Field::Other,
        }
    }

    /// The items of a list, each with its address.
    pub fn items(&self, key: &str) -> Vec<At<'a>> {
        let list = self.at.key(key);
        field(self.value, key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, v)| At::new(v, list.index(i)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_object(&self) -> bool {
        self.value.is_object()
    }

    /// What a key holds, as written: for a reading the typed accessors do not make (one that
    /// tells `null` or `5.0` apart from a missing key or a whole number).
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        field(self.value, key)
    }

    /// Whether the object has the key (whatever it holds, `null` included).
    pub fn has(&self, key: &str) -> bool {
        field(self.value, key).is_some()
    }

    /// The value of `key`, then of each key after it, with its address (`None` when one is
    /// absent or its parent is not an object).
    pub fn get_in(&self, keys: &[&str]) -> Option<At<'a>> {
        keys.iter().try_fold(self.clone(), |at, k| at.get(k))
    }

    /// The strings of a list (other items skipped); empty when the key holds no list.
    pub fn strs(&self, key: &str) -> Vec<&'a str> {
        field(self.value, key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_tell_missing_from_other() {
        let v = json!({"a": 5, "b": "5", "c": 2.0, "d": true, "e": null});
        let at = At::new(&v, Path::root());
        assert_eq!(at.u64("a"), Field::Value(5));
        assert_eq!(at.u64("b"), Field::Other);
        assert_eq!(at.u64("c"), Field::Value(2));
        assert_eq!(at.u64("x"), Field::Missing);
        assert_eq!(at.u64("e"), Field::Missing);
        assert_eq!(at.bool("d"), Field::Value(true));
        assert_eq!(at.u64("x").or_default(30), Some(30));
        assert_eq!(at.u64("b").or_default(30), None);
        assert!(at.has("e") && !at.has("x"));
    }

    #[test]
    fn nested_values_keep_their_address() {
        let v = json!({"a": {"b": {"c": 7}}, "l": ["x", 1, "y"]});
        let at = At::new(&v, Path::root().key("top"));
        let c = at.get_in(&["a", "b", "c"]).expect("nested");
        assert_eq!(c.value, &json!(7));
        assert_eq!(c.at.to_string(), "$['top']['a']['b']['c']");
        assert!(at.get_in(&["a", "x", "c"]).is_none());
        assert!(at.get_in(&["l", "0"]).is_none());
        assert_eq!(at.strs("l"), vec!["x", "y"]);
        assert!(at.strs("a").is_empty());
    }
}
