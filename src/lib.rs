//! pipefix: finds unsafe settings in AWS CI/CD pipeline files and fixes them in place.
//!
//! The flow of one run, one module per stage:
//! [`discover`] (find, read, classify by content: [`model`]) → [`workspace`] (the files of
//! a unit and the facts they share) → [`catalog`] (each fix checks the workspace) →
//! [`engine`] (apply, verify, repeat to a fixed point, on [`document`]s) → [`write`]
//! (atomic) and [`report`] (diff, patch, summaries). [`run`] wires them; [`cli`] is the
//! command line.

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
pub mod workspace;
pub mod write;
