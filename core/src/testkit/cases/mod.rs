//! The conformance cases, one public async function each. See [`crate::testkit`].

mod store;

pub use store::*;
