//! Exact money: USD as an integer count of 1e-24 USD.
//!
//! Prices arrive as decimals ("2.5" per million tokens) or as JSON floats (`2.5e-06` per token).
//! Multiplying floats gives `0.024200000000000003`; integers do not. 1e-24 USD resolves every
//! per-token price in the source data (LiteLLM floats reach 1e-23), and an i128 still holds
//! 1.7e14 USD, far above any sum the engine keeps.

use std::fmt;

/// Decimal digits below one USD.
pub const SCALE_DIGITS: u32 = 24;
const SCALE: i128 = 10i128.pow(SCALE_DIGITS);

/// An exact USD amount (or a per-token rate) in units of 1e-24 USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Usd(pub i128);

impl Usd {
    pub const ZERO: Usd = Usd(0);
    /// The factor 0.5, exactly: batch APIs bill half the standard rate where a table has
    /// no batch price (docs/pricing.md, "Batch and service tiers").
    pub const HALF: Usd = Usd(SCALE / 2);

    /// Parses a decimal string (`"1.25"`, `"2.5e-06"`, `"-3"`) and multiplies it by
    /// `10^shift` (use -6 to turn a per-million price into a per-token rate). Digits below
    /// 1e-24 are rounded half away from zero; `None` for malformed text or overflow.
    pub fn parse_scaled(s: &str, shift: i32) -> Option<Usd> {
        let s = s.trim();
        let (neg, s) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (mant, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (int, frac) = match mant.find('.') {
            Some(i) => (&mant[..i], &mant[i + 1..]),
            None => (mant, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut digits: i128 = 0;
        let mut ndigits = 0u32;
        let mut dropped = 0i32; // leading significant digits beyond i128 capacity are refused
        for c in int.bytes().chain(frac.bytes()) {
            if !c.is_ascii_digit() {
                return None;
            }
            if digits == 0 && c == b'0' {
                continue;
            }
            if ndigits >= 36 {
                dropped += 1;
                continue;
            }
            digits = digits * 10 + i128::from(c - b'0');
            ndigits += 1;
        }
        let _ = dropped;
        // value = digits * 10^(exp + shift - frac.len() + dropped); we want value * 10^24.
        let mut pow = exp
            .checked_add(shift)?
            .checked_sub(frac.len() as i32)?
            .checked_add(dropped)?
            .checked_add(SCALE_DIGITS as i32)?;
        let mut v = digits;
        while pow > 0 {
            v = v.checked_mul(10)?;
            pow -= 1;
        }
        while pow < 0 && v != 0 {
            let last = pow == -1;
            let (q, r) = (v / 10, v % 10);
            v = if last && r >= 5 { q + 1 } else { q };
            pow += 1;
        }
        Some(Usd(if neg { -v } else { v }))
    }

    /// Parses a plain decimal USD amount.
    pub fn parse(s: &str) -> Option<Usd> {
        Usd::parse_scaled(s, 0)
    }

    /// Converts a float through its shortest round-trip text, as Python's `repr` does, so
    /// `2.5e-06` becomes exactly 2.5e-6 and not the binary value nearest to it.
    pub fn from_f64(f: f64, shift: i32) -> Option<Usd> {
        if !f.is_finite() {
            return None;
        }
        let mut buf = StackStr::new();
        use std::fmt::Write;
        write!(buf, "{f:e}").ok()?;
        Usd::parse_scaled(buf.as_str(), shift)
    }

    /// Rate × count, exact.
    pub fn times(self, count: u64) -> Usd {
        Usd(self.0.saturating_mul(i128::from(count)))
    }

    /// Applies a multiplier given as an exact decimal amount (a discount of 0.9, an uplift
    /// of 1.1, a batch half): `self × factor`, rounded half away from zero at 1e-24.
    /// Computed in 1e12 limbs so that small rates times factors near 1 do not overflow.
    pub fn scale_by(self, factor: Usd) -> Usd {
        const L: u128 = 1_000_000_000_000;
        let neg = (self.0 < 0) != (factor.0 < 0);
        let (a, f) = (self.0.unsigned_abs(), factor.0.unsigned_abs());
        let (a1, a0, f1, f0) = (a / L, a % L, f / L, f % L);
        // a·f / L² = a1·f1 + (a1·f0 + a0·f1) / L + a0·f0 / L²
        let mid = a1.saturating_mul(f0).saturating_add(a0.saturating_mul(f1));
        let low = (mid % L) * L + a0 * f0; // < 2·L²
        let mut q = a1
            .saturating_mul(f1)
            .saturating_add(mid / L)
            .saturating_add(low / (L * L));
        if (low % (L * L)) * 2 >= L * L {
            q = q.saturating_add(1);
        }
        let q = i128::try_from(q).unwrap_or(i128::MAX);
        Usd(if neg { -q } else { q })
    }

    pub fn to_f64(self) -> f64 {
        let int = (self.0 / SCALE) as f64;
        let frac = (self.0 % SCALE) as f64 / 1e24;
        int + frac
    }
}

impl std::ops::Add for Usd {
    type Output = Usd;
    fn add(self, o: Usd) -> Usd {
        Usd(self.0.saturating_add(o.0))
    }
}

impl std::ops::AddAssign for Usd {
    fn add_assign(&mut self, o: Usd) {
        *self = *self + o;
    }
}

impl std::ops::Sub for Usd {
    type Output = Usd;
    fn sub(self, o: Usd) -> Usd {
        Usd(self.0.saturating_sub(o.0))
    }
}

impl fmt::Display for Usd {
    /// Exact decimal text with trailing zeros trimmed: `0.0242`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let a = self.0.unsigned_abs();
        let int = a / SCALE as u128;
        let frac = a % SCALE as u128;
        if neg {
            f.write_str("-")?;
        }
        write!(f, "{int}")?;
        if frac != 0 {
            let s = format!("{frac:024}");
            write!(f, ".{}", s.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

/// A fixed stack buffer for formatting a float without allocating.
struct StackStr {
    buf: [u8; 64],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        StackStr {
            buf: [0; 64],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let b = s.as_bytes();
        if self.len + b.len() > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_decimals_and_exponents() {
        assert_eq!(Usd::parse("1.25").unwrap().to_string(), "1.25");
        assert_eq!(Usd::parse("2.5e-06").unwrap().to_string(), "0.0000025");
        assert_eq!(
            Usd::parse_scaled("2.5", -6).unwrap(),
            Usd::parse("2.5e-6").unwrap()
        );
        assert_eq!(Usd::parse("-3").unwrap().to_string(), "-3");
        assert_eq!(Usd::parse("0").unwrap(), Usd::ZERO);
        assert!(Usd::parse("abc").is_none());
        assert!(Usd::parse("").is_none());
        assert!(Usd::parse("1e400").is_none());
    }

    #[test]
    fn float_goes_through_shortest_text() {
        // 2.5e-06 * 9680 is 0.024200000000000003 in floats; exactly 0.0242 here.
        let rate = Usd::from_f64(2.5e-06, 0).unwrap();
        assert_eq!(rate.times(9680).to_string(), "0.0242");
        let odd = Usd::from_f64(3.3333333333333335e-07, 0).unwrap();
        assert_eq!(odd.to_string(), "0.00000033333333333333335");
    }

    #[test]
    fn scale_by_rounds() {
        let a = Usd::parse("10").unwrap();
        assert_eq!(a.scale_by(Usd::parse("0.9").unwrap()).to_string(), "9");
        // Fractional amounts and per-token rates must not overflow the product.
        let a = Usd::parse("3.5").unwrap();
        assert_eq!(a.scale_by(Usd::parse("0.85").unwrap()).to_string(), "2.975");
        let rate = Usd::parse("2.5e-6").unwrap();
        assert_eq!(rate.scale_by(Usd::HALF).to_string(), "0.00000125");
        assert_eq!(
            rate.scale_by(Usd::parse("1.1").unwrap()).to_string(),
            "0.00000275"
        );
        assert_eq!(Usd(1).scale_by(Usd::HALF), Usd(1));
        assert_eq!(Usd(-3).scale_by(Usd::HALF), Usd(-2));
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(v in -10i128.pow(30)..10i128.pow(30)) {
            let u = Usd(v);
            prop_assert_eq!(Usd::parse(&u.to_string()), Some(u));
        }

        #[test]
        fn scale_by_is_the_rounded_exact_product(a in 0i128..10i128.pow(20), f in 0i128..10i128.pow(18), big in 0i128..10i128.pow(36)) {
            // Small enough for a direct i128 product: the reference.
            let want = (a * f + 5 * 10i128.pow(23)) / 10i128.pow(24);
            prop_assert_eq!(Usd(a).scale_by(Usd(f)), Usd(want));
            // A factor of one keeps any amount.
            prop_assert_eq!(Usd(big).scale_by(Usd(10i128.pow(24))), Usd(big));
        }

        #[test]
        fn float_rates_round_trip(f in 1e-12f64..1e-3) {
            let u = Usd::from_f64(f, 0).unwrap();
            let back = u.to_f64();
            prop_assert!(((back - f) / f).abs() < 1e-15);
        }
    }
}
