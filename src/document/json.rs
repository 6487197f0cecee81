//! JSON documents: span-aware parsing and lowering of edits to byte splices.
//!
//! Parsing is a strict RFC 8259 scanner of our own ([`scan`]) because serde_json gives no
//! spans; edits become minimal splices in the file's own layout ([`edit`], [`render`]).

mod edit;
mod render;
mod scan;

use serde_json::Value;

use super::{Document, EditError, Limits, Node, Op, ParseError, Splice};

pub use render::quote;

/// Parse strict JSON into the span tree and its meaning.
pub fn parse(text: &str, limits: &Limits) -> Result<(Node, Value), ParseError> {
    scan::parse(text, limits)
}

/// Lower `op` to splices of `doc`'s text.
pub fn lower(doc: &Document, op: &Op) -> Result<Vec<Splice>, EditError> {
    edit::lower(doc, op)
}
