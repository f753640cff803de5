//! Property tests for fractional board positions.

use proptest::prelude::*;
use tasklane_core::position::key_between;

proptest! {
    /// Inserting anywhere, again and again, always yields a key strictly between the neighbours,
    /// so the board order is exactly the insertion order asked for.
    #[test]
    fn insertions_keep_a_total_order(slots in proptest::collection::vec(any::<prop::sample::Index>(), 1..200)) {
        let mut keys: Vec<String> = Vec::new();
        for slot in slots {
            let at = slot.index(keys.len() + 1);
            let before = if at == 0 { None } else { Some(keys[at - 1].as_str()) };
            let after = keys.get(at).map(String::as_str);
            let key = key_between(before, after);
            prop_assert!(!key.is_empty() && !key.ends_with('0'));
            if let Some(b) = before { prop_assert!(b < key.as_str(), "{b} < {key}"); }
            if let Some(a) = after { prop_assert!(key.as_str() < a, "{key} < {a}"); }
            keys.insert(at, key);
        }
        let mut sorted = keys.clone();
        sorted.sort();
        prop_assert_eq!(sorted, keys);
    }
}
