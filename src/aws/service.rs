//! An ECS service and a CodeDeploy deployment group.

use super::{At, Field};
use crate::document::Path;

/// `CreateService`'s input (or a described service).
#[derive(Clone, Debug)]
pub struct Service<'a>(pub At<'a>);

/// One of a service's `loadBalancers`.
#[derive(Clone, Debug)]
pub struct LoadBalancer<'a> {
    pub container_name: Option<&'a str>,
    pub container_port: Field<u64>,
    pub target_group_arn: Option<&'a str>,
}

impl<'a> Service<'a> {
    /// The keys a rule that inserts them names.
    pub const GRACE_PERIOD: &'static str = "healthCheckGracePeriodSeconds";
    pub const DEPLOYMENT_CONFIGURATION: &'static str = "deploymentConfiguration";
    pub const CIRCUIT_BREAKER: &'static str = "deploymentCircuitBreaker";
    pub const CONTROLLER: &'static str = "deploymentController";

    pub fn name(&self) -> Option<&'a str> {
        self.0.str("serviceName")
    }

    /// The task definition it runs (`family`, `family:revision` or an ARN).
    pub fn task_definition(&self) -> Option<&'a str> {
        self.0.str("taskDefinition")
    }

    /// The deployment controller type; none means `ECS`.
    pub fn controller(&self) -> &'a str {
        self.0
            .value
            .pointer("/deploymentController/type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("ECS")
    }

    pub fn deployment_configuration(&self) -> Option<At<'a>> {
        self.0.get(Self::DEPLOYMENT_CONFIGURATION)
    }

    /// `deploymentConfiguration.deploymentCircuitBreaker`.
    pub fn circuit_breaker(&self) -> Option<At<'a>> {
        self.deployment_configuration()?.get(Self::CIRCUIT_BREAKER)
    }

    /// Where the circuit breaker is or goes.
    pub fn circuit_breaker_path(&self) -> Path {
        self.0
            .path(Self::DEPLOYMENT_CONFIGURATION)
            .key(Self::CIRCUIT_BREAKER)
    }

    pub fn launch_type(&self) -> Option<&'a str> {
        self.0.str("launchType")
    }

    /// The `capacityProvider` of each `capacityProviderStrategy` entry that names one.
    pub fn capacity_providers(&self) -> Vec<&'a str> {
        self.0
            .items("capacityProviderStrategy")
            .iter()
            .filter_map(|p| p.str("capacityProvider"))
            .collect()
    }

    pub fn grace_period(&self) -> Field<u64> {
        self.0.u64(Self::GRACE_PERIOD)
    }

    pub fn load_balancers(&self) -> Vec<LoadBalancer<'a>> {
        self.0
            .items("loadBalancers")
            .iter()
            .map(|lb| LoadBalancer {
                container_name: lb.str("containerName"),
                container_port: lb.u64("containerPort"),
                target_group_arn: lb.str("targetGroupArn"),
            })
            .collect()
    }
}

/// `CreateDeploymentGroup`'s input (or a described deployment group).
#[derive(Clone, Debug)]
pub struct DeploymentGroup<'a>(pub At<'a>);

impl<'a> DeploymentGroup<'a> {
    /// The keys a rule that inserts them names.
    pub const AUTO_ROLLBACK: &'static str = "autoRollbackConfiguration";
    pub const ALARM_CONFIGURATION: &'static str = "alarmConfiguration";
    pub const DEPLOYMENT_CONFIG_NAME: &'static str = "deploymentConfigName";

    pub fn name(&self) -> Option<&'a str> {
        self.0.str("deploymentGroupName")
    }

    pub fn application_name(&self) -> Option<&'a str> {
        self.0.str("applicationName")
    }

    pub fn compute_platform(&self) -> Option<&'a str> {
        self.0.str("computePlatform")
    }

    /// Whether it has an `ecsServices` key (whatever it holds).
    pub fn has_ecs_services(&self) -> bool {
        self.0.has("ecsServices")
    }

    /// Whether it carries a `revision`: a `create-deployment` input, not a group's record
    /// (which has `targetRevision`).
    pub fn has_revision(&self) -> bool {
        self.0.has("revision")
    }

    pub fn auto_rollback(&self) -> Option<At<'a>> {
        self.0.get(Self::AUTO_ROLLBACK)
    }

    /// Whether `autoRollbackConfiguration.enabled` is `true`.
    pub fn rollback_enabled(&self) -> bool {
        self.auto_rollback().map(|a| a.bool("enabled")) == Some(Field::Value(true))
    }

    /// The events automatic rollback names (strings only).
    pub fn rollback_events(&self) -> Vec<&'a str> {
        self.auto_rollback()
            .map(|a| a.strs("events"))
            .unwrap_or_default()
    }

    /// Whether automatic rollback is on and rolls back failed deployments.
    pub fn rolls_back_failures(&self) -> bool {
        self.rollback_enabled() && self.rollback_events().contains(&"DEPLOYMENT_FAILURE")
    }

    /// Whether alarm monitoring is enabled (`alarmConfiguration.enabled` is `true`).
    pub fn alarms_enabled(&self) -> bool {
        self.alarm_configuration().map(|c| c.bool("enabled")) == Some(Field::Value(true))
    }

    /// The `alarms` list of `alarmConfiguration`, when it is a list, with its address.
    pub fn alarm_list(&self) -> Option<At<'a>> {
        self.alarm_configuration()?
            .get("alarms")
            .filter(|a| a.value.is_array())
    }

    /// The names of the alarms it lists (entries without a string name skipped).
    pub fn alarm_names(&self) -> Vec<&'a str> {
        self.alarm_configuration()
            .map(|c| {
                c.items("alarms")
                    .iter()
                    .filter_map(|a| a.str("name"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The name of the first target group of its first target group pair.
    pub fn first_target_group_name(&self) -> Option<&'a str> {
        self.0
            .value
            .pointer("/loadBalancerInfo/targetGroupPairInfoList/0/targetGroups/0/name")
            .and_then(serde_json::Value::as_str)
    }

    /// `blueGreenDeploymentConfiguration.terminateBlueInstancesOnDeploymentSuccess
    /// .terminationWaitTimeInMinutes`, as written.
    pub fn blue_termination_wait(&self) -> Option<At<'a>> {
        self.0.get_in(&[
            "blueGreenDeploymentConfiguration",
            "terminateBlueInstancesOnDeploymentSuccess",
            "terminationWaitTimeInMinutes",
        ])
    }

    pub fn alarm_configuration(&self) -> Option<At<'a>> {
        self.0.get(Self::ALARM_CONFIGURATION)
    }

    pub fn deployment_config_name(&self) -> Option<&'a str> {
        self.0.str(Self::DEPLOYMENT_CONFIG_NAME)
    }

    /// The `ecsServices` it deploys: (cluster, service) names.
    pub fn ecs_services(&self) -> Vec<(Option<&'a str>, Option<&'a str>)> {
        self.0
            .items("ecsServices")
            .iter()
            .map(|s| (s.str("clusterName"), s.str("serviceName")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Path;
    use serde_json::json;

    #[test]
    fn services_and_groups() {
        let v = json!({"serviceName": "shop", "healthCheckGracePeriodSeconds": 0,
            "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true}},
            "loadBalancers": [{"containerName": "web", "containerPort": 8080}]});
        let s = Service(At::new(&v, Path::root()));
        assert_eq!((s.name(), s.controller()), (Some("shop"), "ECS"));
        assert_eq!(s.grace_period(), Field::Value(0));
        assert_eq!(
            s.circuit_breaker().map(|c| c.bool("enable")),
            Some(Field::Value(true))
        );
        assert_eq!(s.load_balancers()[0].container_port, Field::Value(8080));
        let g = json!({"deploymentGroupName": "dg", "autoRollbackConfiguration":
            {"enabled": true, "events": ["DEPLOYMENT_FAILURE"]},
            "ecsServices": [{"clusterName": "c", "serviceName": "shop"}]});
        let g = DeploymentGroup(At::new(&g, Path::root()));
        assert!(g.rolls_back_failures());
        assert_eq!(g.ecs_services(), vec![(Some("c"), Some("shop"))]);
        let g = json!({"autoRollbackConfiguration": {"enabled": "true", "events": ["DEPLOYMENT_FAILURE", 3]},
            "alarmConfiguration": {"enabled": true, "alarms": [{"name": "a"}, {}]},
            "loadBalancerInfo": {"targetGroupPairInfoList": [{"targetGroups": [{"name": "blue"}]}]},
            "blueGreenDeploymentConfiguration": {"terminateBlueInstancesOnDeploymentSuccess":
                {"terminationWaitTimeInMinutes": 60}}});
        let g = DeploymentGroup(At::new(&g, Path::root()));
        assert!(!g.rollback_enabled() && !g.rolls_back_failures());
        assert_eq!(g.rollback_events(), vec!["DEPLOYMENT_FAILURE"]);
        assert!(g.alarms_enabled());
        assert_eq!(g.alarm_names(), vec!["a"]);
        assert_eq!(
            g.alarm_list().map(|l| l.at.to_string()).as_deref(),
            Some("$['alarmConfiguration']['alarms']")
        );
        assert_eq!(g.first_target_group_name(), Some("blue"));
        let wait = g.blue_termination_wait().expect("wait");
        assert_eq!(wait.value.as_u64(), Some(60));
        assert!(!g.has_revision() && !g.has_ecs_services());
    }
}
