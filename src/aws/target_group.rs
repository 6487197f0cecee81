//! An ALB/NLB target group's health check.

use super::{At, Field};

/// `CreateTargetGroup`'s input, or one described target group (the ELBv2 API is PascalCase).
#[derive(Clone, Debug)]
pub struct TargetGroup<'a>(pub At<'a>);

impl<'a> TargetGroup<'a> {
    /// The health check timing keys (a rule that sets them names them).
    pub const INTERVAL: &'static str = "HealthCheckIntervalSeconds";
    pub const TIMEOUT: &'static str = "HealthCheckTimeoutSeconds";
    pub const HEALTHY_THRESHOLD: &'static str = "HealthyThresholdCount";
    pub const UNHEALTHY_THRESHOLD: &'static str = "UnhealthyThresholdCount";

    pub fn name(&self) -> Option<&'a str> {
        self.0.str("TargetGroupName").or_else(|| self.0.str("Name"))
    }

    /// `TargetGroupArn` (describe-target-groups output).
    pub fn arn(&self) -> Option<&'a str> {
        self.0.str("TargetGroupArn")
    }

    pub fn interval(&self) -> Field<u64> {
        self.0.u64(Self::INTERVAL)
    }

    pub fn timeout(&self) -> Field<u64> {
        self.0.u64(Self::TIMEOUT)
    }

    pub fn healthy_threshold(&self) -> Field<u64> {
        self.0.u64(Self::HEALTHY_THRESHOLD)
    }

    pub fn unhealthy_threshold(&self) -> Field<u64> {
        self.0.u64(Self::UNHEALTHY_THRESHOLD)
    }

    pub fn protocol(&self) -> Option<&'a str> {
        self.0.str("Protocol")
    }
}
