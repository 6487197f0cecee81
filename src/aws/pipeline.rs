//! A CodePipeline declaration: stages and actions.

use crate::document::Path;
use crate::document::value::field;
use serde_json::Value;

use super::At;

/// The pipeline declaration (inside `{"pipeline": …}` for get-pipeline output).
#[derive(Clone, Debug)]
pub struct Pipeline<'a>(pub At<'a>);

#[derive(Clone, Debug)]
pub struct Stage<'a> {
    pub at: At<'a>,
    pub index: usize,
}

#[derive(Clone, Debug)]
pub struct Action<'a> {
    pub at: At<'a>,
    /// The stage it belongs to.
    pub stage: usize,
    pub index: usize,
}

impl<'a> Pipeline<'a> {
    /// The key of its stages (a rule that inserts a stage names it).
    pub const STAGES: &'static str = "stages";

    pub fn name(&self) -> Option<&'a str> {
        self.0.str("name")
    }

    pub fn stages(&self) -> Vec<Stage<'a>> {
        self.0
            .items(Self::STAGES)
            .into_iter()
            .enumerate()
            .map(|(index, at)| Stage { at, index })
            .collect()
    }

    /// Every action, stage by stage: what [`Stage::actions`] of each of [`Pipeline::stages`]
    /// gives, built without the stages (many rules ask on every check).
    pub fn actions(&self) -> Vec<Action<'a>> {
        let mut out = Vec::new();
        let Some(stages) = field(self.0.value, Self::STAGES).and_then(Value::as_array) else {
            return out;
        };
        let stages_path = self.0.path(Self::STAGES);
        // One key shared by every stage's list of actions.
        let actions_key = Path::root().key(Stage::ACTIONS);
        for (stage, body) in stages.iter().enumerate() {
            let Some(actions) = field(body, Stage::ACTIONS).and_then(Value::as_array) else {
                continue;
            };
            let list = stages_path.index(stage).join(&actions_key);
            for (index, value) in actions.iter().enumerate() {
                out.push(Action {
                    at: At::new(value, list.index(index)),
                    stage,
                    index,
                });
            }
        }
        out
    }
}

impl<'a> Stage<'a> {
    /// The key of its actions (a rule that writes a stage names it).
    pub const ACTIONS: &'static str = "actions";

    pub fn name(&self) -> Option<&'a str> {
        self.at.str("name")
    }

    pub fn actions(&self) -> Vec<Action<'a>> {
        self.at
            .items(Self::ACTIONS)
            .into_iter()
            .enumerate()
            .map(|(index, at)| Action {
                at,
                stage: self.index,
                index,
            })
            .collect()
    }
}

impl<'a> Action<'a> {
    pub fn name(&self) -> Option<&'a str> {
        self.at.str("name")
    }

    fn type_id(&self, key: &str) -> Option<&'a str> {
        field(field(self.at.value, "actionTypeId")?, key).and_then(Value::as_str)
    }

    pub fn category(&self) -> Option<&'a str> {
        self.type_id("category")
    }

    pub fn owner(&self) -> Option<&'a str> {
        self.type_id("owner")
    }

    pub fn provider(&self) -> Option<&'a str> {
        self.type_id("provider")
    }

    /// A `configuration` value (a free-form map of strings).
    pub fn configuration(&self, key: &str) -> Option<&'a Value> {
        field(field(self.at.value, "configuration")?, key)
    }

    pub fn run_order(&self) -> i64 {
        field(self.at.value, "runOrder")
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }

    fn artifact_names(&self, key: &str) -> Vec<&'a str> {
        self.at
            .items(key)
            .iter()
            .filter_map(|a| a.str("name"))
            .collect()
    }

    pub fn input_artifacts(&self) -> Vec<&'a str> {
        self.artifact_names("inputArtifacts")
    }

    pub fn output_artifacts(&self) -> Vec<&'a str> {
        self.artifact_names("outputArtifacts")
    }

    /// Where its provider is written (`actionTypeId.provider`).
    pub fn provider_path(&self) -> crate::document::Path {
        self.at.path("actionTypeId").key("provider")
    }

    /// A deploy action of the given provider (`ECS`, `CodeDeployToECS`, …).
    pub fn deploys_with(&self, provider: &str) -> bool {
        self.category() == Some("Deploy") && self.provider() == Some(provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Path;
    use serde_json::json;

    /// The actions are those of every stage in turn, with the same addresses, for stages
    /// without actions, with other values, and pipelines without stages.
    #[test]
    fn actions_are_every_stages_actions() {
        let pipelines = [
            json!({"stages": [
                {"name": "A", "actions": [{"name": "a"}, 3, {"name": "b"}]},
                {"name": "B"},
                {"name": "C", "actions": "x"},
                "stage",
                {"name": "D", "actions": []},
                {"name": "E", "actions": [{"name": "e"}]}]}),
            json!({"stages": {}}),
            json!({"name": "none"}),
            json!([1]),
        ];
        for v in &pipelines {
            for root in [Path::root(), Path::root().key("pipeline").index(2)] {
                let p = Pipeline(At::new(v, root));
                let by_stage: Vec<Action> = p.stages().iter().flat_map(Stage::actions).collect();
                let all = p.actions();
                assert_eq!(all.len(), by_stage.len());
                for (a, b) in all.iter().zip(&by_stage) {
                    assert_eq!((a.stage, a.index, &a.at.at), (b.stage, b.index, &b.at.at));
                    assert!(std::ptr::eq(a.at.value, b.at.value));
                }
            }
        }
    }

    #[test]
    fn stages_and_actions() {
        let v = json!({"name": "p", "stages": [
            {"name": "Source", "actions": [{"name": "S", "actionTypeId": {"category": "Source",
              "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
              "outputArtifacts": [{"name": "Src"}]}]},
            {"name": "Deploy", "actions": [{"name": "D", "runOrder": 2, "actionTypeId":
              {"category": "Deploy", "owner": "AWS", "provider": "ECS", "version": "1"},
              "configuration": {"ServiceName": "shop"}, "inputArtifacts": [{"name": "Build"}]}]}]});
        let p = Pipeline(At::new(&v, Path::root().key("pipeline")));
        let actions = p.actions();
        assert_eq!(actions.len(), 2);
        let d = &actions[1];
        assert!(d.deploys_with("ECS") && !d.deploys_with("CodeDeployToECS"));
        assert_eq!((d.stage, d.index, d.run_order()), (1, 0, 2));
        assert_eq!(
            d.configuration("ServiceName").and_then(Value::as_str),
            Some("shop")
        );
        assert_eq!(d.input_artifacts(), vec!["Build"]);
        assert_eq!(actions[0].output_artifacts(), vec!["Src"]);
        assert_eq!(
            d.at.path("configuration").to_string(),
            "$['pipeline']['stages'][1]['actions'][0]['configuration']"
        );
    }
}
