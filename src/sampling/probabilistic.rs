//! Contrib-compatible probabilistic decision: FNV-1a 64 over salt then trace ID, compared with
//! a threshold derived from the percentage exactly as contrib's `big.Float` arithmetic does,
//! so the same trace IDs are kept by both.

/// Salt contrib uses when `hash_salt` is empty.
pub const DEFAULT_HASH_SALT: &str = "default-hash-seed";

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a 64 over `salt` then `id`.
pub fn hash_trace_id(salt: &str, id: &[u8]) -> u64 {
    let mut h = FNV_OFFSET;
    for &b in salt.as_bytes().iter().chain(id) {
        h ^= b as u64;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// `u64::MAX * ratio`, rounded to a 64-bit mantissa (nearest, ties to even) and then
/// truncated to an integer, saturating at both ends: the value Go's
/// `big.Float(MaxUint64).Mul(big.NewFloat(ratio)).Uint64()` gives.
pub fn threshold(ratio: f64) -> u64 {
    if ratio.is_nan() || ratio <= 0.0 {
        return 0;
    }
    if ratio.is_infinite() {
        return u64::MAX;
    }
    // ratio = mantissa * 2^exp with an integer mantissa (at most 53 bits).
    let bits = ratio.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mantissa, exp) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), raw_exp - 1075)
    };
    let product = u64::MAX as u128 * mantissa as u128;
    let bit_len = 128 - product.leading_zeros() as i32;
    let (mut q, mut shift) = (product, 0i32);
    if bit_len > 64 {
        shift = bit_len - 64;
        q = product >> shift;
        let rem = product & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q += 1;
            if q == 1u128 << 64 {
                q >>= 1;
                shift += 1;
            }
        }
    }
    let e = shift + exp;
    if e >= 0 {
        let q_len = 128 - q.leading_zeros() as i32;
        if q_len + e > 64 {
            u64::MAX
        } else {
            (q << e) as u64
        }
    } else if -e >= 128 {
        0
    } else {
        (q >> (-e)) as u64
    }
}

/// The probabilistic policy's state: fixed at build time.
#[derive(Debug, Clone)]
pub struct Probabilistic {
    pub threshold: u64,
    pub salt: String,
}

impl Probabilistic {
    pub fn new(salt: &str, percentage: f64) -> Self {
        Probabilistic {
            threshold: threshold(percentage / 100.0),
            salt: if salt.is_empty() {
                DEFAULT_HASH_SALT.to_string()
            } else {
                salt.to_string()
            },
        }
    }

    /// Contrib samples when the hash is at or below the threshold.
    pub fn sampled(&self, id: &[u8]) -> bool {
        hash_trace_id(&self.salt, id) <= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(hash_trace_id("", b""), 0xcbf29ce484222325);
        assert_eq!(hash_trace_id("a", b""), 0xaf63dc4c8601ec8c);
        assert_eq!(hash_trace_id("foo", b""), 0xdcb27518fed9d577);
        // Salt and ID are one stream.
        assert_eq!(hash_trace_id("fo", b"o"), hash_trace_id("foo", b""));
    }

    #[test]
    fn thresholds_match_big_float_arithmetic() {
        assert_eq!(threshold(1.0), u64::MAX);
        assert_eq!(threshold(1.5), u64::MAX);
        assert_eq!(threshold(0.0), 0);
        assert_eq!(threshold(-0.5), 0);
        assert_eq!(threshold(0.5), (1u64 << 63) - 1);
        assert_eq!(threshold(0.25), (1u64 << 62) - 1);
        // 0.1 is not exact in binary: (2^64-1) * 0x1999999999999a / 2^56, rounded to 64
        // significant bits, then truncated.
        let exact = (u64::MAX as u128) * 0x1999999999999au128; // 117 bits
        let rounded = (exact + (1u128 << 52)) >> 53 << 53; // keep 64 bits, round half up
        assert_eq!(threshold(0.1), (rounded >> 56) as u64);
    }
}
