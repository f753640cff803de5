//! Tasklane's REST/JSON transport. Its implementation arrives with the HTTP issue; this crate compiles so the workspace shape is fixed.
#![deny(missing_docs)]
