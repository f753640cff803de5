//! The PostgreSQL store for Tasklane. Its implementation arrives with the stores issue; this crate compiles so the workspace shape is fixed.
#![deny(missing_docs)]
