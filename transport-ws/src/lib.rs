//! Tasklane's WebSocket transport. Its implementation arrives with the WebSocket issue; this crate compiles so the workspace shape is fixed.
#![deny(missing_docs)]
