//! The one reader for numbers in attributes: token counts, HTTP status codes, costs, timings.
//!
//! Instrumentations write the same count as an int, a double with no fraction, or a decimal
//! string; every stage must read it the same way, so there is exactly one reader. Counts
//! saturate at the `i64` range instead of failing: a huge value must still be seen (and
//! flagged as implausible by the caller), never wrapped nor silently dropped.

use crate::otlp::AnyRef;

/// A count as sent: int, integral double, or decimal integer string (surrounding ASCII
/// whitespace allowed). Values beyond the `i64` range saturate. `None` for anything else.
pub fn count(v: &AnyRef<'_>) -> Option<i64> {
    match *v {
        AnyRef::Int(i) => Some(i),
        // `as` saturates at the i64 range, which is what we want for 1e30.
        AnyRef::Double(d) if d.is_finite() && d.fract() == 0.0 => Some(d as i64),
        AnyRef::Str(s) => decimal_count(s),
        _ => None,
    }
}

/// A decimal integer (`"42"`, `" -7 "`, `"+3"`), saturating at the `i64` range.
fn decimal_count(s: &[u8]) -> Option<i64> {
    let s = s.trim_ascii();
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: i64 = 0;
    for d in digits {
        let d = (d - b'0') as i64;
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
    }
    Some(n)
}

/// A finite number: double, int, or decimal string (`"0.25"`, `"1e-3"`). `None` for NaN,
/// infinities and anything else.
pub fn number(v: &AnyRef<'_>) -> Option<f64> {
    let n = match *v {
        AnyRef::Double(d) => d,
        AnyRef::Int(i) => i as f64,
        AnyRef::Str(s) => std::str::from_utf8(s.trim_ascii()).ok()?.parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

/// A non-negative finite number, for values that cannot be below zero (costs, durations).
pub fn non_negative(v: &AnyRef<'_>) -> Option<f64> {
    number(v).filter(|n| *n >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_every_spelling_saturate_never_wrap() {
        assert_eq!(count(&AnyRef::Int(7)), Some(7));
        assert_eq!(count(&AnyRef::Double(12.0)), Some(12));
        assert_eq!(count(&AnyRef::Double(12.5)), None);
        assert_eq!(count(&AnyRef::Double(f64::NAN)), None);
        assert_eq!(count(&AnyRef::Double(1e30)), Some(i64::MAX));
        assert_eq!(count(&AnyRef::Double(-1e30)), Some(i64::MIN));
        assert_eq!(count(&AnyRef::Str(b" 42 ")), Some(42));
        assert_eq!(count(&AnyRef::Str(b"-3")), Some(-3));
        assert_eq!(count(&AnyRef::Str(b"+3")), Some(3));
        assert_eq!(
            count(&AnyRef::Str(b"99999999999999999999999")),
            Some(i64::MAX)
        );
        assert_eq!(
            count(&AnyRef::Str(b"-99999999999999999999999")),
            Some(i64::MIN)
        );
        for bad in [&b""[..], b"-", b"1.5", b"x", b"1 2", b"\xff"] {
            assert_eq!(count(&AnyRef::Str(bad)), None, "{bad:?}");
        }
        assert_eq!(count(&AnyRef::Bool(true)), None);
    }

    #[test]
    fn numbers_are_finite() {
        assert_eq!(number(&AnyRef::Str(b"0.25")), Some(0.25));
        assert_eq!(number(&AnyRef::Int(3)), Some(3.0));
        assert_eq!(number(&AnyRef::Double(f64::INFINITY)), None);
        assert_eq!(number(&AnyRef::Str(b"NaN")), None);
        assert_eq!(non_negative(&AnyRef::Double(-0.5)), None);
        assert_eq!(non_negative(&AnyRef::Double(0.5)), Some(0.5));
    }
}
