//! The core conformance suite, every case, against PostgreSQL: each case gets a fresh schema.

mod common;

tasklane_core::conformance_tests!(optional: async { common::test_store().await });
