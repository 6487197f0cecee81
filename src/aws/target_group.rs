//! An ALB/NLB target group's health check.

use super::{At, Field};

/// `CreateTargetGroup`'s input, or one described target group (the ELBv2 API is PascalCase).
#[derive(Clone, Debug)]
pub struct TargetGroup<'a>(pub At<'a>);

impl<'a> TargetGroup<'a> {
    pub fn name(&self) -> Option<&'a str> {
        self.0.str("TargetGroupName").or_else(|| self.0.str("Name"))
    }

    pub fn interval(&self) -> Field<u64> {
        self.0.u64("HealthCheckIntervalSeconds")
    }

    pub fn timeout(&self) -> Field<u64> {
        self.0.u64("HealthCheckTimeoutSeconds")
    }

    pub fn healthy_threshold(&self) -> Field<u64> {
        self.0.u64("HealthyThresholdCount")
    }

    pub fn unhealthy_threshold(&self) -> Field<u64> {
        self.0.u64("UnhealthyThresholdCount")
    }

    pub fn protocol(&self) -> Option<&'a str> {
        self.0.str("Protocol")
    }
}
