//! Semantic-convention bucket boundaries, held as integers so bucket membership is exact.

/// `gen_ai.client.token.usage` advisory boundaries, in tokens.
pub const TOKEN_BOUNDS: [u64; 14] = [
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/// `gen_ai.client.operation.duration` (and time-to-first-chunk) boundaries, in nanoseconds:
/// 0.01 s doubling to 81.92 s. Integers, so a 10 ms call lands in the `le=0.01` bucket exactly.
pub const DURATION_BOUNDS_NS: [u64; 14] = [
    10_000_000,
    20_000_000,
    40_000_000,
    80_000_000,
    160_000_000,
    320_000_000,
    640_000_000,
    1_280_000_000,
    2_560_000_000,
    5_120_000_000,
    10_240_000_000,
    20_480_000_000,
    40_960_000_000,
    81_920_000_000,
];

/// How raw integer values of one histogram map to exported values and buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Values are token counts, exported as they are.
    Tokens,
    /// Values are nanoseconds, exported as seconds.
    Seconds,
}

impl Shape {
    pub fn bounds(self) -> &'static [u64; 14] {
        match self {
            Shape::Tokens => &TOKEN_BOUNDS,
            Shape::Seconds => &DURATION_BOUNDS_NS,
        }
    }

    /// Index of the bucket holding `raw`, in closed form: the semconv bounds are powers of 4
    /// (tokens) and 10 ms times powers of 2 (durations), so a leading-zero count replaces
    /// the binary search. Equal to [`bucket_index`] over [`Shape::bounds`] (tested).
    #[inline]
    pub fn bucket(self, raw: u64) -> usize {
        let ceil_log2 = |x: u64| (64 - x.saturating_sub(1).leading_zeros()) as usize;
        let i = match self {
            // (4^(i-1), 4^i]  ⇔  i = ceil(ceil(log2 v) / 2)
            Shape::Tokens => ceil_log2(raw).div_ceil(2),
            // (10ms·2^(i-1), 10ms·2^i]  ⇔  i = ceil(log2(ceil(v / 10ms)))
            Shape::Seconds => ceil_log2(raw.div_ceil(DURATION_BOUNDS_NS[0])),
        };
        i.min(TOKEN_BOUNDS.len())
    }

    /// Exported explicit bounds.
    pub fn explicit_bounds(self) -> Vec<f64> {
        self.bounds().iter().map(|b| self.to_export(*b)).collect()
    }

    /// One raw value in exported units.
    pub fn to_export(self, raw: u64) -> f64 {
        match self {
            Shape::Tokens => raw as f64,
            Shape::Seconds => raw as f64 / 1e9,
        }
    }

    /// A raw sum in exported units, converted once.
    pub fn sum_to_export(self, raw: u128) -> f64 {
        match self {
            Shape::Tokens => raw as f64,
            // Whole and fractional seconds separately, so large sums keep their nanoseconds.
            Shape::Seconds => (raw / 1_000_000_000) as f64 + (raw % 1_000_000_000) as f64 / 1e9,
        }
    }

    /// Raw units per unit of the HDR record (HDR keeps microseconds for durations to stay small).
    pub fn hdr_divisor(self) -> u64 {
        match self {
            Shape::Tokens => 1,
            Shape::Seconds => 1_000,
        }
    }
}

/// Index of the OTLP bucket holding `v`: bucket `i` counts `bounds[i-1] < v <= bounds[i]`,
/// the last one everything above the highest bound.
pub fn bucket_index(bounds: &[u64], v: u64) -> usize {
    bounds.partition_point(|b| *b < v)
}

/// Seconds to whole nanoseconds; negative, NaN or absurd values (clock skew) clamp to the range.
pub fn seconds_to_ns(s: f64) -> u64 {
    if s.is_nan() || s <= 0.0 {
        0
    } else {
        (s * 1e9).round().min(u64::MAX as f64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_are_upper_inclusive() {
        let b = &TOKEN_BOUNDS;
        assert_eq!(bucket_index(b, 0), 0);
        assert_eq!(bucket_index(b, 1), 0);
        assert_eq!(bucket_index(b, 2), 1);
        assert_eq!(bucket_index(b, 4), 1);
        assert_eq!(bucket_index(b, 5), 2);
        assert_eq!(bucket_index(b, 67108864), 13);
        assert_eq!(bucket_index(b, 67108865), 14);
        let d = &DURATION_BOUNDS_NS;
        assert_eq!(bucket_index(d, seconds_to_ns(0.01)), 0);
        assert_eq!(bucket_index(d, seconds_to_ns(0.010000001)), 1);
        assert_eq!(bucket_index(d, seconds_to_ns(81.92)), 13);
        assert_eq!(bucket_index(d, seconds_to_ns(100.0)), 14);
    }

    #[test]
    fn closed_form_bucket_equals_binary_search() {
        for shape in [Shape::Tokens, Shape::Seconds] {
            let mut values = vec![0, 1, 2, 3, u64::MAX - 1, u64::MAX];
            for b in shape.bounds() {
                values.extend([b - 1, *b, b + 1, b * 3 / 2]);
            }
            values.extend((0..10_000u64).map(|i| i * i * 7919));
            for v in values {
                assert_eq!(
                    shape.bucket(v),
                    bucket_index(shape.bounds(), v),
                    "{shape:?} {v}"
                );
            }
        }
    }

    #[test]
    fn exported_bounds_are_the_semconv_values() {
        assert_eq!(
            Shape::Seconds.explicit_bounds(),
            vec![
                0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96,
                81.92
            ]
        );
        assert_eq!(Shape::Tokens.explicit_bounds()[13], 67108864.0);
    }

    #[test]
    fn odd_durations_clamp() {
        assert_eq!(seconds_to_ns(-1.0), 0);
        assert_eq!(seconds_to_ns(f64::NAN), 0);
        assert_eq!(seconds_to_ns(f64::INFINITY), u64::MAX);
        assert_eq!(Shape::Seconds.sum_to_export(1_500_000_000), 1.5);
    }
}
