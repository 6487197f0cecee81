//! YAML documents: span-aware parsing and lowering of edits to byte splices.
//!
//! Structure and meaning come from yaml-rust2's event stream. Its markers count characters
//! (not bytes), give only start positions and skip comments, so byte spans are computed here:
//! marker line/column → byte through a line table, then a small scanner finds where each
//! scalar ends. Every computed offset is checked against the text (the expected quote, key
//! text, bracket…) and a mismatch is a [`ParseError`], never a guess.
//!
//! Meaning follows the YAML 1.2 core schema. CloudFormation's short-form tags (`!Ref`,
//! `!Sub`, `!If`, …) mean their long form (`{"Ref": …}`, `{"Fn::Sub": …}`), as in a JSON
//! template; `!!str` makes a plain scalar a string; other tags are accepted and ignored. A merge key `<<` is kept as
//! an ordinary key (its value is the aliased mapping); merging is not performed, so the
//! meaning is exactly what the file spells out. Non-finite floats (`.inf`, `.nan`) have no
//! JSON form and are kept as strings. Multi-document streams are parsed in full (an error in
//! any document fails the parse); the root and meaning are the first document's.
//!
//! Not supported (a [`ParseError`] says so): mapping keys that are not scalars, empty keys
//! (`: x`, `! : x`; their position cannot be pinned), explicit single-pair mappings inside
//! flow sequences (`[a: 1]`), and bare `\r` line breaks.
//!
//! The parts: [`parse`] (events → tree and meaning), [`spans`] (where scalars end), [`edit`]
//! (lowering of edits to splices); offsets and line/column convert through
//! [`LineIndex`](super::LineIndex).

mod edit;
mod parse;
mod spans;

pub use edit::lower;
pub use parse::parse;
pub(crate) use parse::parse_indexed;
