//! The core conformance suite, every case, against PostgreSQL with the record cache off (the
//! database path alone); `conformance.rs` runs it with the cache on. Each case gets a fresh schema.

mod common;

tasklane_core::conformance_tests!(optional: async { common::uncached_test_store().await });
