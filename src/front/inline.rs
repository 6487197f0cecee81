//! A buildspec written inside a template string: a CodeBuild project's `Source.BuildSpec`.
//!
//! The string is parsed as a document of its own, which the rules read and edit like a
//! `buildspec.yml`. An edited buildspec is written back by replacing the string in the
//! template through the template's own document, so a YAML literal block (`|`) keeps its
//! header and indentation and only the changed lines differ, and a JSON string is encoded
//! again. What cannot be written back line for line is reported, not edited: folded (`>`) or
//! quoted multi-line YAML strings, and templates the CDK generated. Inside `!Sub`, `${…}`
//! belongs to CloudFormation: an edit that would add one is refused.
//!
//! A buildspec given as a path (`BuildSpec: buildspec-prod.yml`) is not inline: it is the
//! file of that name, checked where it is. One built with `Fn::Join` is not read.

use serde_json::Value;

use crate::document::{Document, Format, Limits, NodeKind, Op, Path, ScalarStyle};
use crate::finding::Finding;
use crate::model::{self, Kind};

#[derive(Clone, Debug)]
pub struct Inline {
    /// The template, as it is now (edits of other resources included).
    outer: Document,
    /// The string's path in the template.
    at: Path,
    /// The project's logical id.
    pub resource: String,
    /// The string is `!Sub`'s (`Fn::Sub`'s) template.
    sub: bool,
    /// Why edits are not written back, when they are not.
    read_only: Option<String>,
}

/// `${` that CloudFormation substitutes (`${!X}` is a literal `${X}`).
fn sub_references(text: &str) -> usize {
    text.match_indices("${")
        .filter(|(i, _)| !text[i + 2..].starts_with('!'))
        .count()
}

/// `${X}` written so that `Fn::Sub` leaves it to the shell, unless the buildspec already
/// has that very `${X}` (a reference of the template's, copied from an edited line).
fn escape_sub(s: &str, existing: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let token = rest.find('}').map(|j| &rest[..=j]);
        let known = token.is_some_and(|t| existing.contains(&format!("${{{t}")));
        if !rest.starts_with('!') && !known {
            out.push('!');
        }
    }
    out.push_str(rest);
    out
}

fn escape_sub_value(v: &mut Value, existing: &str) {
    match v {
        Value::String(s) if s.contains("${") => *s = escape_sub(s, existing),
        Value::Array(a) => a.iter_mut().for_each(|c| escape_sub_value(c, existing)),
        Value::Object(m) => m.values_mut().for_each(|c| escape_sub_value(c, existing)),
        _ => {}
    }
}

fn escape_sub_op(op: &mut Op, existing: &str) {
    match op {
        Op::Replace { value, .. } | Op::InsertKey { value, .. } | Op::InsertItem { value, .. } => {
            escape_sub_value(value, existing)
        }
        Op::ReplaceInScalar { replace, .. } => *replace = escape_sub(replace, existing),
        Op::Remove { .. } | Op::RenameKey { .. } | Op::Comment { .. } => {}
    }
}

impl Inline {
    /// The inline buildspec at `at` (a project's `BuildSpec`), and its document.
    pub fn from_template(
        outer: &Document,
        at: Path,
        resource: &str,
        generated: bool,
        limits: &Limits,
    ) -> Option<(Inline, Document)> {
        let (at, sub) = match outer.value_at(&at)? {
            Value::String(_) => (at, false),
            Value::Object(m) if m.len() == 1 => match m.get("Fn::Sub")? {
                Value::String(_) => (at.key("Fn::Sub"), true),
                Value::Array(a) if a.first().is_some_and(Value::is_string) => {
                    (at.key("Fn::Sub").index(0), true)
                }
                _ => return None,
            },
            _ => return None,
        };
        let text = outer.value_at(&at)?.as_str()?;
        // One line is a path to a buildspec file in the source, not a buildspec.
        if !text.trim_end().contains('\n') {
            return None;
        }
        let inner = Document::parse(text, Format::Yaml, limits).ok()?;
        if model::classify(inner.value()).map(|(k, _)| k) != Some(Kind::Buildspec) {
            return None;
        }
        let style = match outer.node(&at).map(|n| &n.kind) {
            Some(NodeKind::Scalar { style }) => *style,
            _ => return None,
        };
        let read_only = if generated {
            Some("the CDK generated this template; change the project's `buildSpec` in the CDK app, not cdk.out".into())
        } else {
            match (outer.format(), style) {
                (Format::Json, _) | (Format::Yaml, ScalarStyle::Literal) => None,
                (Format::Yaml, ScalarStyle::Folded) => Some(
                    "the buildspec is a folded (`>`) string, which cannot be edited line for line; change it by hand or make it a literal block (`|`)".into(),
                ),
                (Format::Yaml, _) => Some(
                    "the buildspec is a quoted string, which cannot be edited line for line; change it by hand or make it a literal block (`|`)".into(),
                ),
            }
        };
        Some((
            Inline {
                outer: outer.clone(),
                at,
                resource: resource.to_string(),
                sub,
                read_only,
            },
            inner,
        ))
    }

    pub fn outer(&self) -> &Document {
        &self.outer
    }

    /// Another edit changed the template.
    pub fn set_outer(&mut self, outer: Document) {
        self.outer = outer;
    }

    /// The template with `inner` (the edited buildspec) written into the string.
    pub fn embed(&self, inner: &Document, limits: &Limits) -> Result<Document, String> {
        if let Some(why) = &self.read_only {
            return Err(why.clone());
        }
        let old = self
            .outer
            .value_at(&self.at)
            .and_then(Value::as_str)
            .unwrap_or("");
        if self.sub && sub_references(inner.text()) > sub_references(old) {
            return Err(
                "the edit would put `${…}` into a `!Sub` buildspec, where CloudFormation reads it as its own reference".into(),
            );
        }
        let op = Op::Replace {
            path: self.at.clone(),
            value: Value::String(inner.text().to_string()),
        };
        self.outer.apply(&op, limits).map_err(|e| e.to_string())
    }

    /// A finding about the buildspec: its fix is dropped, with the reason, when the string
    /// cannot be written back; inside `!Sub`, the `${…}` its edits add are written `${!…}`,
    /// which CloudFormation turns into the `${…}` the shell reads.
    pub fn lower(&self, mut f: Finding) -> Finding {
        if let Some(why) = &self.read_only
            && f.fix.take().is_some()
        {
            f.message = format!("{} ({why})", f.message);
        }
        if self.sub
            && let Some(fix) = &mut f.fix
        {
            let existing = self
                .outer
                .value_at(&self.at)
                .and_then(Value::as_str)
                .unwrap_or("");
            for op in &mut fix.ops {
                escape_sub_op(op, existing);
            }
        }
        f
    }

    /// The 1-based line and column in the template of a byte of the buildspec's text.
    pub fn line_col(&self, inner: &str, byte: usize) -> (usize, usize) {
        self.outer.line_col(self.outer_offset(inner, byte))
    }

    fn outer_offset(&self, inner: &str, byte: usize) -> usize {
        let Some(node) = self.outer.node(&self.at) else {
            return 0;
        };
        let start = node.span.start;
        let text = self.outer.text();
        if self.outer.format() == Format::Json {
            return start;
        }
        // A literal block: its lines start on the line after the header, each indented by
        // the indentation of the first line that is not blank.
        let Some(body) = text[start..node.span.end].find('\n').map(|i| start + i + 1) else {
            return start;
        };
        let block = &text[body..node.span.end];
        let indent = block
            .lines()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
        let byte = byte.min(inner.len());
        let line = inner[..byte].matches('\n').count();
        let col = byte - inner[..byte].rfind('\n').map_or(0, |i| i + 1);
        let mut at = body;
        for (i, l) in block.split_inclusive('\n').enumerate() {
            if i == line {
                let lead = l.len() - l.trim_start_matches(' ').len();
                return (at + lead.min(indent) + col).min(text.len());
            }
            at += l.len();
        }
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECT: &str = "Resources:\n  Build:\n    Type: AWS::CodeBuild::Project\n    Properties:\n      Source:\n        Type: CODEPIPELINE\n        BuildSpec: |\n          version: 0.2\n          phases:\n            build:\n              commands:\n                - make\n";

    fn inline(text: &str) -> Option<(Inline, Document)> {
        let outer = Document::parse(text, Format::Yaml, &Limits::default()).expect("parses");
        let at = Path::root()
            .key("Resources")
            .key("Build")
            .key("Properties")
            .key("Source")
            .key("BuildSpec");
        Inline::from_template(&outer, at, "Build", false, &Limits::default())
    }

    #[test]
    fn a_literal_block_is_edited_in_place() {
        let (spec, inner) = inline(PROJECT).expect("inline buildspec");
        assert_eq!(inner.value()["phases"]["build"]["commands"][0], "make");
        let edited = inner
            .apply(
                &Op::Replace {
                    path: Path::root()
                        .key("phases")
                        .key("build")
                        .key("commands")
                        .index(0),
                    value: Value::String("make test".into()),
                },
                &Limits::default(),
            )
            .expect("edit");
        let outer = spec.embed(&edited, &Limits::default()).expect("embedded");
        assert_eq!(outer.text(), PROJECT.replace("- make\n", "- make test\n"));
        // `make` is on the buildspec's fifth line, indented by ten spaces in the template.
        let byte = inner.text().find("make").expect("make");
        assert_eq!(spec.line_col(inner.text(), byte), (12, 19));
    }

    #[test]
    fn paths_folded_and_sub_strings() {
        assert!(inline(&PROJECT.replace(
            "BuildSpec: |\n          version: 0.2\n          phases:\n            build:\n              commands:\n                - make\n",
            "BuildSpec: buildspec-prod.yml\n"
        ))
        .is_none());
        // Folded lines join into one: never edited (usually not even a buildspec).
        let folded = inline(&PROJECT.replace("BuildSpec: |", "BuildSpec: >"));
        assert!(folded.is_none_or(|(f, _)| f.read_only.is_some()));
        let quoted = PROJECT.replace(
            "BuildSpec: |\n          version: 0.2\n          phases:\n            build:\n              commands:\n                - make\n",
            "BuildSpec: \"version: 0.2\\nphases:\\n  build:\\n    commands:\\n      - make\\n\"\n",
        );
        let (quoted, _) = inline(&quoted).expect("a quoted buildspec is read");
        assert!(quoted.read_only.is_some());
        let sub = PROJECT
            .replace("BuildSpec: |", "BuildSpec: !Sub |")
            .replace("- make", "- make ${Env}");
        let (spec, inner) = inline(&sub).expect("sub buildspec");
        assert!(spec.sub);
        let add = Op::Replace {
            path: Path::root()
                .key("phases")
                .key("build")
                .key("commands")
                .index(0),
            value: Value::String("make ${Env} ${IMAGE_TAG}".into()),
        };
        let edited = inner.apply(&add, &Limits::default()).expect("edit");
        assert!(spec.embed(&edited, &Limits::default()).is_err());
    }
}
