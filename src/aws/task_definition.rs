//! An ECS task definition, its containers and their health checks.

use crate::document::value::field;
use serde_json::Value;

use super::{At, Field};

/// `RegisterTaskDefinition`'s input (or a described task definition).
#[derive(Clone, Debug)]
pub struct TaskDefinition<'a>(pub At<'a>);

impl<'a> TaskDefinition<'a> {
    /// The keys a rule that reports on them names.
    pub const EXECUTION_ROLE_ARN: &'static str = "executionRoleArn";
    pub const CONTAINER_DEFINITIONS: &'static str = "containerDefinitions";

    pub fn family(&self) -> Option<&'a str> {
        self.0.str("family")
    }

    pub fn execution_role_arn(&self) -> Option<&'a str> {
        self.0.str(Self::EXECUTION_ROLE_ARN)
    }

    /// The containers; none when `containerDefinitions` is absent or not a list.
    pub fn containers(&self) -> Vec<Container<'a>> {
        self.0
            .items(Self::CONTAINER_DEFINITIONS)
            .into_iter()
            .enumerate()
            .map(|(index, at)| Container { at, index })
            .collect()
    }

    /// The containers when `containerDefinitions` is a list (empty or not); `None` otherwise.
    pub fn container_list(&self) -> Option<Vec<Container<'a>>> {
        self.0
            .raw(Self::CONTAINER_DEFINITIONS)?
            .is_array()
            .then(|| self.containers())
    }

    /// Whether it may run on Fargate (`requiresCompatibilities` names it, or nothing is said).
    pub fn fargate(&self) -> bool {
        match field(self.0.value, "requiresCompatibilities") {
            Some(Value::Array(a)) => a.iter().any(|c| c.as_str() == Some("FARGATE")),
            _ => self.0.str("networkMode") == Some("awsvpc"),
        }
    }
}

/// One of `containerDefinitions`.
#[derive(Clone, Debug)]
pub struct Container<'a> {
    pub at: At<'a>,
    /// Its index in `containerDefinitions`.
    pub index: usize,
}

impl<'a> Container<'a> {
    pub fn name(&self) -> Option<&'a str> {
        self.at.str("name")
    }

    pub fn image(&self) -> Option<&'a str> {
        self.at.str("image").map(str::trim)
    }

    /// `essential`: a container whose health cannot stop the task says `false`.
    pub fn essential(&self) -> Field<bool> {
        self.at.bool("essential")
    }

    pub fn health_check(&self) -> Option<HealthCheck<'a>> {
        let hc = self.at.get("healthCheck")?;
        hc.is_object().then_some(HealthCheck(hc))
    }

    /// `environment` entries as (entry, name, value) where both are strings.
    pub fn environment(&self) -> Vec<(At<'a>, &'a str, &'a str)> {
        self.at
            .items("environment")
            .into_iter()
            .filter_map(|e| {
                let (n, v) = (e.str("name")?, e.str("value")?);
                Some((e, n, v))
            })
            .collect()
    }

    /// Its `secrets` entries (whatever each holds); empty when it has no list.
    pub fn secrets(&self) -> Vec<At<'a>> {
        self.at.items("secrets")
    }

    /// The `secretOptions` entries of its `logConfiguration`.
    pub fn log_secret_options(&self) -> Vec<At<'a>> {
        self.at
            .get("logConfiguration")
            .map(|l| l.items("secretOptions"))
            .unwrap_or_default()
    }

    /// `logConfiguration.logDriver`.
    pub fn log_driver(&self) -> Option<&'a str> {
        self.at.get("logConfiguration")?.str("logDriver")
    }

    /// Whether it names `repositoryCredentials.credentialsParameter` (whatever it holds).
    pub fn has_registry_credentials(&self) -> bool {
        self.at
            .get_in(&["repositoryCredentials", "credentialsParameter"])
            .is_some()
    }

    /// The names of the variables it reads from `secrets`.
    pub fn secret_names(&self) -> Vec<&'a str> {
        self.at
            .items("secrets")
            .iter()
            .filter_map(|s| s.str("name"))
            .collect()
    }
}

/// A container's `healthCheck`.
#[derive(Clone, Debug)]
pub struct HealthCheck<'a>(pub At<'a>);

impl<'a> HealthCheck<'a> {
    pub fn interval(&self) -> Field<u64> {
        self.0.u64("interval")
    }

    pub fn timeout(&self) -> Field<u64> {
        self.0.u64("timeout")
    }

    pub fn retries(&self) -> Field<u64> {
        self.0.u64("retries")
    }

    pub fn start_period(&self) -> Field<u64> {
        self.0.u64("startPeriod")
    }

    pub fn path(&self, key: &str) -> crate::document::Path {
        self.0.path(key)
    }

    /// What a timing key holds, as written (for a reading that must tell `null` or a
    /// fraction apart from a whole number, which the `Field` accessors do not).
    pub fn raw(&self, key: Timing) -> Option<&'a Value> {
        self.0.value.get(key.key())
    }
}

/// The timing keys of a container health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    StartPeriod,
    Interval,
    Retries,
}

impl Timing {
    /// The key's name in the API.
    pub fn key(self) -> &'static str {
        match self {
            Timing::StartPeriod => "startPeriod",
            Timing::Interval => "interval",
            Timing::Retries => "retries",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Path;
    use serde_json::json;

    #[test]
    fn containers_and_health_checks_carry_their_address() {
        let v = json!({"family": "shop", "containerDefinitions": [
            {"name": "envoy", "image": "envoy:1"},
            {"name": "web", "image": " shop:1 ", "healthCheck": {"interval": 5, "retries": "3"},
             "environment": [{"name": "A", "value": "1"}, {"name": "B"}],
             "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn"}]}]});
        let td = TaskDefinition(At::new(&v, Path::root().key("taskDefinition")));
        assert_eq!(td.family(), Some("shop"));
        let c = &td.containers()[1];
        assert_eq!(
            (c.name(), c.image(), c.index),
            (Some("web"), Some("shop:1"), 1)
        );
        let hc = c.health_check().expect("health check");
        assert_eq!(hc.interval(), Field::Value(5));
        assert_eq!(hc.retries(), Field::Other);
        assert_eq!(hc.start_period(), Field::Missing);
        assert_eq!(
            hc.path("startPeriod").to_string(),
            "$['taskDefinition']['containerDefinitions'][1]['healthCheck']['startPeriod']"
        );
        assert_eq!(c.environment().len(), 1);
        assert_eq!(c.secret_names(), vec!["DB_PASSWORD"]);
        assert_eq!(c.secrets()[0].str("valueFrom"), Some("arn"));
        assert!(c.log_secret_options().is_empty() && c.log_driver().is_none());
        assert!(!c.has_registry_credentials());
        assert!(td.containers()[0].health_check().is_none());
        assert_eq!(td.container_list().map(|l| l.len()), Some(2));
        let odd = json!({"containerDefinitions": {"name": "web"}});
        let odd = TaskDefinition(At::new(&odd, Path::root()));
        assert!(odd.container_list().is_none() && odd.containers().is_empty());
    }
}
