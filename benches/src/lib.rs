//! Benchmarks for Tasklane: see `benches/` and docs/BENCHMARKS.md.
#![deny(missing_docs)]
