//! Fractional board positions: keys that sort as strings, with a key between any two, so that
//! moving a task writes that task alone.

const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn digit_value(c: u8) -> usize {
    DIGITS.iter().position(|&d| d == c).unwrap_or(0)
}

/// A key strictly between `before` and `after` (either may be absent: the start or the end of
/// the list). Keys are non-empty strings of base-62 digits that never end in `0`.
///
/// When `before >= after` (a caller passing neighbours in the wrong order) the result is a key
/// just after `before`, which keeps the function total; callers should pass ordered neighbours.
pub fn key_between(before: Option<&str>, after: Option<&str>) -> String {
    let a = before.unwrap_or("").as_bytes();
    match after {
        Some(b) if b.as_bytes() > a => midpoint(a, Some(b.as_bytes())),
        _ => midpoint(a, None),
    }
}

fn midpoint(a: &[u8], b: Option<&[u8]>) -> String {
    if let Some(b) = b {
        // Skip the common prefix (treating missing digits of `a` as '0').
        let mut n = 0;
        while n < b.len() && a.get(n).copied().unwrap_or(b'0') == b[n] {
            n += 1;
        }
        if n > 0 {
            let rest_a = if n <= a.len() { &a[n..] } else { &[][..] };
            let mut out = String::from_utf8_lossy(&b[..n]).into_owned();
            out.push_str(&midpoint(rest_a, Some(&b[n..])));
            return out;
        }
    }
    let digit_a = a.first().map(|&c| digit_value(c)).unwrap_or(0);
    let digit_b = b
        .and_then(|b| b.first())
        .map(|&c| digit_value(c))
        .unwrap_or(DIGITS.len());
    if digit_b - digit_a > 1 {
        let mid = (digit_a + digit_b) / 2;
        return (DIGITS[mid] as char).to_string();
    }
    match b {
        Some(b) if b.len() > 1 => (b[0] as char).to_string(),
        _ => {
            let rest = if a.is_empty() { &[][..] } else { &a[1..] };
            let mut out = (DIGITS[digit_a] as char).to_string();
            out.push_str(&midpoint(rest, None));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fall_strictly_between_their_neighbours() {
        let first = key_between(None, None);
        let after = key_between(Some(&first), None);
        let before = key_between(None, Some(&first));
        let middle = key_between(Some(&first), Some(&after));
        assert!(before < first && first < middle && middle < after);
    }

    #[test]
    fn repeated_insertion_at_one_point_keeps_order() {
        let low = key_between(None, None);
        let mut high = key_between(Some(&low), None);
        for _ in 0..200 {
            let mid = key_between(Some(&low), Some(&high));
            assert!(low < mid && mid < high, "{low} < {mid} < {high}");
            assert!(!mid.ends_with('0'));
            high = mid;
        }
        let mut low2 = key_between(None, None);
        for _ in 0..200 {
            let next = key_between(Some(&low2), None);
            assert!(low2 < next);
            low2 = next;
        }
    }

    #[test]
    fn reversed_neighbours_still_give_a_key_after_the_first() {
        let k = key_between(Some("V"), Some("A"));
        assert!(k.as_str() > "V");
    }
}
