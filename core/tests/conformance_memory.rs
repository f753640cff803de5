//! The conformance suite on the in-memory reference store.
use tasklane_core::MemoryStore;
tasklane_core::conformance_tests!(async { MemoryStore::new() });
