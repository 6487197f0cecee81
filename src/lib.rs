//! pipefix: finds unsafe settings in AWS CI/CD pipeline files and fixes them in place.
//!
//! The flow of one run, one module per stage:
//! [`discover`] (find, read, classify by content: [`model`]) → [`workspace`] (the files of
//! a unit and the facts they share) → [`catalog`] (each fix checks the workspace) →
//! [`engine`] (apply, verify, repeat to a fixed point, on [`document`]s) → [`write`]
//! (atomic) and [`report`] (diff, patch, summaries). [`run`] wires them; [`cli`] is the
//! command line.
//!
//! Below them: [`errors`] (every input error with its place), [`meta`] (the catalog's data
//! from `patches/`), [`finding`] (what a fix reports), [`front`] (raw files and CloudFormation
//! resources as the values rules read), [`config`]. Each module uses only the layers below it
//! (`docs/architecture.md`; `tests/module_layers.rs` checks it).

pub mod aws;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod config_edit;
pub mod discover;
pub mod document;
pub mod engine;
pub mod errors;
pub mod finding;
pub mod front;
pub mod interrupt;
pub mod meta;
pub mod model;
pub mod registry;
pub mod report;
pub mod run;
#[cfg(test)]
pub(crate) mod testing;
pub mod workspace;
pub mod write;
