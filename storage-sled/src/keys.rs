//! Order-preserving byte encodings for keys.
//!
//! Every composite key is the concatenation of its parts, each encoded so that comparing the
//! bytes compares the values:
//!
//! * ids: the 16 UUID bytes (UUIDs order by their bytes, as the id types do);
//! * unsigned integers: big-endian;
//! * signed 128-bit integers (unix nanoseconds, ranks): big-endian with the sign bit flipped;
//! * strings: the UTF-8 bytes (whose order is code-point order) with `0x00` escaped as
//!   `0x00 0xFF`, closed by `0x00 0x00`, so that a string is never confused with a longer one
//!   and the parts after it compare only between equal strings;
//! * sort values ([`SortValue`]): a tag byte, `0x00` for a value and `0x01` for no value (which
//!   therefore sorts after every value), then the value.

use tasklane_core::query::SortValue;
use uuid::Uuid;

/// The tag byte of a present sort value.
pub(crate) const VALUE_TAG: u8 = 0x00;
/// The tag byte of an absent sort value (no due date).
pub(crate) const NULL_TAG: u8 = 0x01;

/// A little builder for composite keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct Key(pub(crate) Vec<u8>);

impl Key {
    pub(crate) fn new() -> Self {
        Key(Vec::with_capacity(64))
    }

    pub(crate) fn id(mut self, id: Uuid) -> Self {
        self.0.extend_from_slice(id.as_bytes());
        self
    }

    pub(crate) fn u64(mut self, n: u64) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    pub(crate) fn byte(mut self, b: u8) -> Self {
        self.0.push(b);
        self
    }

    pub(crate) fn text(mut self, s: &str) -> Self {
        push_text(&mut self.0, s);
        self
    }

    pub(crate) fn sort_value(mut self, v: &SortValue) -> Self {
        push_sort_value(&mut self.0, v);
        self
    }

    pub(crate) fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    pub(crate) fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Appends an escaped, terminated string.
pub(crate) fn push_text(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    for &b in s.as_bytes() {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Appends a signed integer in an order-preserving form.
pub(crate) fn push_i128(out: &mut Vec<u8>, n: i128) {
    out.extend_from_slice(&((n as u128) ^ (1u128 << 127)).to_be_bytes());
}

/// Appends a sort value: tag, then the value.
pub(crate) fn push_sort_value(out: &mut Vec<u8>, v: &SortValue) {
    match v {
        SortValue::Int(n) => {
            out.push(VALUE_TAG);
            push_i128(out, *n);
        }
        SortValue::Text(s) => {
            out.push(VALUE_TAG);
            push_text(out, s);
        }
        SortValue::Null => out.push(NULL_TAG),
    }
}

/// The smallest key greater than every key that starts with `prefix` (`None` when there is none,
/// that is when the prefix is all `0xFF`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Reads a UUID at `at` in `bytes`.
pub(crate) fn uuid_at(bytes: &[u8], at: usize) -> Option<Uuid> {
    let slice: [u8; 16] = bytes.get(at..at + 16)?.try_into().ok()?;
    Some(Uuid::from_bytes(slice))
}

/// Reads the UUID that ends `bytes`.
pub(crate) fn trailing_uuid(bytes: &[u8]) -> Option<Uuid> {
    let at = bytes.len().checked_sub(16)?;
    uuid_at(bytes, at)
}

/// Reads a big-endian u64 at `at` in `bytes`.
pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let slice: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(slice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_key(s: &str, tail: u8) -> Vec<u8> {
        Key::new().text(s).byte(tail).build()
    }

    #[test]
    fn text_order_matches_string_order_with_trailing_parts() {
        let words = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "b",
            "\u{e9}",
            "\0",
            "\0\0",
            "zz",
            "\u{10ffff}",
        ];
        for a in words {
            for b in words {
                for ta in [0u8, 0xFF] {
                    for tb in [0u8, 0xFF] {
                        let expected = a.cmp(b).then(ta.cmp(&tb));
                        assert_eq!(
                            text_key(a, ta).cmp(&text_key(b, tb)),
                            expected,
                            "{a:?}/{ta} vs {b:?}/{tb}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn integers_and_nulls_order() {
        let values = [i128::MIN, -5, -1, 0, 1, 7, i128::MAX];
        for a in values {
            for b in values {
                let ka = Key::new().sort_value(&SortValue::Int(a)).build();
                let kb = Key::new().sort_value(&SortValue::Int(b)).build();
                assert_eq!(ka.cmp(&kb), a.cmp(&b));
                let null = Key::new().sort_value(&SortValue::Null).build();
                assert!(ka < null);
            }
        }
    }

    #[test]
    fn prefix_end_is_tight() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }
}
