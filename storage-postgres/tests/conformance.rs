//! The core conformance suite, every case, against PostgreSQL with the record cache on (the
//! default); `conformance_uncached.rs` runs it with the cache off. Each case gets a fresh schema.

mod common;

tasklane_core::conformance_tests!(optional: async { common::test_store().await });
