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
    pub fn name(&self) -> Option<&'a str> {
        self.0.str("deploymentGroupName")
    }

    pub fn auto_rollback(&self) -> Option<At<'a>> {
        self.0.get("autoRollbackConfiguration")
    }

    /// Whether automatic rollback is on and rolls back failed deployments.
    pub fn rolls_back_failures(&self) -> bool {
        self.auto_rollback().is_some_and(|arc| {
            arc.bool("enabled") == Field::Value(true)
                && arc
                    .value
                    .get("events")
                    .and_then(serde_json::Value::as_array)
                    .is_some_and(|e| e.iter().any(|x| x.as_str() == Some("DEPLOYMENT_FAILURE")))
        })
    }

    pub fn alarm_configuration(&self) -> Option<At<'a>> {
        self.0.get("alarmConfiguration")
    }

    pub fn deployment_config_name(&self) -> Option<&'a str> {
        self.0.str("deploymentConfigName")
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
    }
}
