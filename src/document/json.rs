//! JSON documents: span-aware parsing and lowering of edits to byte splices.
//! (Being written: see the engine issue.)

use serde_json::Value;

use super::{Document, EditError, Limits, Node, Op, ParseError, Splice};

pub fn parse(_text: &str, _limits: &Limits) -> Result<(Node, Value), ParseError> {
    Err(ParseError {
        line: 1,
        col: 1,
        message: "JSON support is not built yet".into(),
    })
}

pub fn lower(_doc: &Document, _op: &Op) -> Result<Vec<Splice>, EditError> {
    Err(EditError::Unsupported(
        "JSON editing is not built yet".into(),
    ))
}
