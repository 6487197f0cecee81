//! pipefix: finds unsafe settings in AWS CI/CD pipeline files and fixes them in place.

pub mod document;
