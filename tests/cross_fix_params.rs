//! Parameters that one fix documents as coming from another fix's configuration.

use std::fs;

use pipefix::config::Config;
use pipefix::run::{self, RunOptions};

#[test]
fn sv002_grace_period_without_start_period_is_td003_startup_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = r#"{
  "serviceName": "shop",
  "cluster": "shop-prod",
  "desiredCount": 2,
  "loadBalancers": [
    { "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/shop/0123456789abcdef", "containerName": "shop", "containerPort": 8080 }
  ]
}
"#;
    fs::write(dir.path().join("service.json"), service).expect("write");
    let mut config = Config::default();
    config.select = vec!["SV002".to_string()];
    config.set_param("TD003", "startup_time", serde_json::json!(120));
    let opts = RunOptions {
        paths: vec![dir.path().to_path_buf()],
        apply: true,
        jobs: 1,
        ..RunOptions::default()
    };
    let result = run::run(&opts, &config);
    assert!(result.bugs().next().is_none());
    let fixed = fs::read_to_string(dir.path().join("service.json")).expect("read");
    assert!(
        fixed.contains("\"healthCheckGracePeriodSeconds\": 120"),
        "the grace period should follow [rules.TD003] startup_time:\n{fixed}"
    );
}
