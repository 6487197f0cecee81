//! An ECS AppSpec: the service it targets and its load balancer container.

use crate::document::value::field;
use serde_json::Value;

use super::{At, Field};

#[derive(Clone, Debug)]
pub struct AppSpec<'a>(pub At<'a>);

/// A `Resources` entry of type `AWS::ECS::Service`.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// Its `Properties`.
    pub properties: At<'a>,
}

impl<'a> AppSpec<'a> {
    pub fn targets(&self) -> Vec<Target<'a>> {
        let mut out = Vec::new();
        for r in self.0.items("Resources") {
            let Some(m) = r.value.as_object() else {
                continue;
            };
            for (name, t) in m {
                if field(t, "Type").and_then(Value::as_str) == Some("AWS::ECS::Service")
                    && let Some(p) = field(t, "Properties")
                {
                    out.push(Target {
                        properties: At::new(p, r.at.key(name).key("Properties")),
                    });
                }
            }
        }
        out
    }
}

impl<'a> Target<'a> {
    pub fn task_definition(&self) -> Option<&'a str> {
        self.properties.str("TaskDefinition")
    }

    pub fn container_name(&self) -> Option<&'a str> {
        self.properties
            .get("LoadBalancerInfo")?
            .str("ContainerName")
    }

    pub fn container_port(&self) -> Field<u64> {
        self.properties
            .get("LoadBalancerInfo")
            .map_or(Field::Missing, |lb| lb.u64("ContainerPort"))
    }
}
