//! What the aggregator needs to know about one model call.

use std::borrow::Cow;

/// One inference call, borrowed from the span it came from. Built by the engine after
/// recognition and pricing; the aggregator copies nothing unless the call starts a series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallRecord<'a> {
    /// `service.name` of the resource.
    pub service: &'a str,
    /// Provider in the latest OTel spelling.
    pub provider: &'a str,
    /// `gen_ai.operation.name`; empty when unknown (the label is then left off).
    pub operation: &'a str,
    pub request_model: &'a str,
    pub response_model: &'a str,
    /// Values of the configured extra dimensions, in configuration order; `None` (or a
    /// missing tail) means absent, and the dimension's default applies.
    pub extra_dims: &'a [Option<Cow<'a, str>>],
    /// Input tokens in semconv semantics (cached tokens included); `None` when not reported.
    pub input_tokens: Option<u64>,
    /// Output tokens in semconv semantics (reasoning included).
    pub output_tokens: Option<u64>,
    /// The part of `input_tokens` read from the prompt cache.
    pub cache_read_tokens: u64,
    /// The part of `input_tokens` written to the prompt cache.
    pub cache_write_tokens: u64,
    /// The part of `output_tokens` spent reasoning.
    pub reasoning_tokens: u64,
    /// The call's price; `None` when the call was not priced.
    pub cost: Option<Cost>,
    /// True when pricing ran and found no price; counted, never treated as $0.
    pub unpriced: bool,
    /// Call duration in seconds (span end − start).
    pub duration_s: f64,
    /// Time to first chunk of a streamed response, in seconds.
    pub ttft_s: Option<f64>,
    /// `error.type` of a failed call; `None` for success.
    pub error_type: Option<&'a str>,
}

/// A price in US dollars. Totals are kept in integer pico-dollars so that Prometheus sums
/// equal the sum of the span costs; give `exact_pico_usd` whenever the pricing stage has an
/// exact decimal (see [`pico_usd_from_decimal`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub usd: f64,
    /// Exact cost in 10⁻¹² USD. When absent, `usd` is rounded to the nearest pico-dollar.
    pub exact_pico_usd: Option<i128>,
}

/// Pico-dollars per dollar. One pico-dollar resolves a single token at $0.000001 per million.
pub const PICO_PER_USD: i128 = 1_000_000_000_000;

impl Cost {
    /// The exact amount in pico-dollars (from `usd` when no exact value was given).
    pub fn pico_usd(&self) -> i128 {
        self.exact_pico_usd
            .unwrap_or_else(|| (self.usd * PICO_PER_USD as f64).round() as i128)
    }
}

/// Converts a decimal string such as `"0.000125"` or `"-3"` to pico-dollars, rounding half
/// away from zero past the 12th decimal. `None` for anything that is not a plain decimal.
pub fn pico_usd_from_decimal(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut value: i128 = 0;
    for b in int_part.bytes() {
        value = value.checked_mul(10)?.checked_add((b - b'0') as i128)?;
    }
    let frac = frac_part.as_bytes();
    for i in 0..12 {
        let d = frac.get(i).map_or(0, |b| (b - b'0') as i128);
        value = value.checked_mul(10)?.checked_add(d)?;
    }
    if frac.get(12).is_some_and(|b| *b >= b'5') {
        value = value.checked_add(1)?;
    }
    Some(if neg { -value } else { value })
}

/// Formats pico-dollars as the nearest `f64` number of dollars, rounding once.
pub fn pico_to_usd_f64(pico: i128) -> f64 {
    let abs = pico.unsigned_abs();
    let per = PICO_PER_USD as u128;
    let sign = if pico < 0 { "-" } else { "" };
    format!("{sign}{}.{:012}", abs / per, abs % per)
        .parse()
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_convert_exactly() {
        assert_eq!(pico_usd_from_decimal("1"), Some(PICO_PER_USD));
        assert_eq!(pico_usd_from_decimal("0.000125"), Some(125_000_000));
        assert_eq!(pico_usd_from_decimal("-0.5"), Some(-PICO_PER_USD / 2));
        assert_eq!(pico_usd_from_decimal(".25"), Some(PICO_PER_USD / 4));
        assert_eq!(pico_usd_from_decimal("0.0000000000015"), Some(2));
        assert_eq!(pico_usd_from_decimal("0.0000000000014"), Some(1));
        for bad in ["", ".", "1e-6", "abc", "1.2.3", "--1"] {
            assert_eq!(pico_usd_from_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn f64_cost_rounds_to_nearest_pico() {
        let c = Cost {
            usd: 0.1,
            exact_pico_usd: None,
        };
        assert_eq!(c.pico_usd(), PICO_PER_USD / 10);
    }

    #[test]
    fn export_rounds_once() {
        // Ten calls at $0.1: f64 accumulation gives 0.9999999999999999, the exact sum 1.
        let mut f = 0.0f64;
        for _ in 0..10 {
            f += 0.1;
        }
        assert_ne!(f, 1.0);
        assert_eq!(pico_to_usd_f64(10 * (PICO_PER_USD / 10)), 1.0);
        assert_eq!(pico_to_usd_f64(-PICO_PER_USD / 4), -0.25);
        assert_eq!(pico_to_usd_f64(125_000_000), 0.000125);
    }
}
