//! Front ends: how the objects of a document become the API-shaped values the rules read,
//! and how a finding about such a value is addressed back in the document.
//!
//! Rules are written once, against the AWS API's own names (`deploymentConfiguration`,
//! `healthCheck.startPeriod`), the shape of the raw JSON/YAML files. A front end translates:
//! - [`Front::Api`]: the object is written in the API's shape (CLI input or output, a
//!   buildspec, an AppSpec): nothing to translate.
//! - [`Front::Cfn`]: a CloudFormation/SAM resource's `Properties` (PascalCase, intrinsic
//!   functions): a translated view for the rules, and each finding's paths and edits
//!   translated back, with the template's rules for computed values (see [`cfn`]).
//! - [`Front::Inline`]: a buildspec written inside a template string (a CodeBuild project's
//!   `Source.BuildSpec`): the rules read and edit the buildspec as a document of its own; the
//!   edited text is written back into the string (see [`inline`]).

pub mod cfn;
pub mod inline;

use std::sync::Arc;

use serde_json::Value;

use crate::document::{Document, Limits, Path};
use crate::finding::Finding;
use crate::model::{self, Kind};

/// How an object of a file is written.
#[derive(Clone, Debug)]
pub enum Front {
    Api,
    Cfn(Arc<cfn::Resource>),
    Inline(Box<inline::Inline>),
}

/// One object of a document that the rules check.
pub struct Object {
    pub kind: Kind,
    /// Where the object is: in the document for [`Front::Api`] and [`Front::Cfn`]; in the
    /// inline document for [`Front::Inline`].
    pub root: Path,
    pub front: Front,
    /// The buildspec parsed out of a template string ([`Front::Inline`] only).
    pub inline: Option<Document>,
}

/// Every object of a document the rules check, in document order.
pub fn objects(doc: &Document, limits: &Limits) -> Vec<Object> {
    if cfn::is_template(doc.value()) {
        return cfn::objects(doc, limits);
    }
    model::classify_all(doc.value())
        .into_iter()
        .map(|(kind, root)| Object {
            kind,
            root,
            front: Front::Api,
            inline: None,
        })
        .collect()
}

impl Front {
    /// The API-shaped value the rules read, when it is not simply the document's value at
    /// the object's root.
    pub fn view(&self, doc: &Document, root: &Path) -> Option<Value> {
        match self {
            Front::Cfn(r) => Some(r.view(doc, root)),
            Front::Api | Front::Inline(_) => None,
        }
    }

    /// A finding of the rules, addressed in the document: paths translated, and fixes that
    /// this way of writing the object does not allow turned into reports that say why.
    pub fn lower(&self, doc: &Document, finding: Finding) -> Finding {
        match self {
            Front::Api => finding,
            Front::Cfn(r) => r.lower(doc, finding),
            Front::Inline(i) => i.lower(finding),
        }
    }

    /// What the file is, when it is not one API object: `cloudformation` for a template.
    pub fn file_kind(&self) -> Option<&'static str> {
        match self {
            Front::Api => None,
            Front::Cfn(_) | Front::Inline(_) => Some("cloudformation"),
        }
    }

    /// The document that is written to disk for this object's file.
    pub fn file_text<'a>(&'a self, doc: &'a Document) -> &'a str {
        match self {
            Front::Inline(i) => i.outer().text(),
            Front::Api | Front::Cfn(_) => doc.text(),
        }
    }
}
