//! The core conformance suite, unchanged, on a fresh temporary sled store per case.
use tasklane_storage_sled::SledStore;

tasklane_core::conformance_tests!(async {
    SledStore::temporary().expect("a temporary sled store")
});
