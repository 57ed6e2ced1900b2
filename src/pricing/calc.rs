//! Cost arithmetic (docs/pricing.md, "Arithmetic"), exact and in OTel token semantics.
//!
//! The long-context tier is chosen once from total input including cache and applies to
//! every class; cache writes with a 1-hour TTL use their own rate; reasoning is a part of
//! output and billed once, at the reasoning rate when the model has one. Batch calls on an
//! entry without batch prices pay half of every standard rate; uplifts multiply the total.

use super::inputs::{canonical_tier, PriceContext};
use super::table::{ModelEntry, Price, Unit, Uplift};
use crate::money::Usd;

/// Tokens to price, inclusive: `input` ⊇ cache read + write, `output` ⊇ reasoning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub cache_write_1h: u64,
    pub output: u64,
    pub reasoning: u64,
}

/// The cost of one call by class; `total` is their sum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Uncached input.
    pub input: Usd,
    pub cache_read: Usd,
    /// 5-minute and 1-hour writes.
    pub cache_write: Usd,
    /// Output other than reasoning.
    pub output: Usd,
    pub reasoning: Usd,
    pub total: Usd,
    /// A cache rate was missing and the input rate was used.
    pub cache_rate_defaulted: bool,
    /// The request's service tier/batch has no price of its own: standard was used.
    pub variant_missing: bool,
    /// A long-context tier applied.
    pub long_context: bool,
    /// Input or output tokens had no rate at all (billed at 0 for that class; flagged).
    pub rate_missing: bool,
    /// A batch call on an entry without batch prices: half of every standard rate.
    pub batch_halved: bool,
    /// The product of the uplifts that applied (residency, regional endpoint, geo, speed).
    pub uplift: Option<Usd>,
}

/// Prices `t` with `entry` at `unix_secs` in `ctx`. Token counts that contradict each other
/// (cache larger than input) are clamped so nothing is billed twice.
pub fn price(entry: &ModelEntry, t: Tokens, unix_secs: i64, ctx: PriceContext<'_>) -> Breakdown {
    let sel = entry.resolve_refs(unix_secs, ctx);
    let set = sel.units;
    let inc = entry.tier_inclusive;
    let total_in = t.input;
    let rate = |p: Option<&Price>| {
        p.map(|p| {
            let r = p.at(total_in, inc);
            if sel.batch_halved {
                r.scale_by(Usd::HALF)
            } else {
                r
            }
        })
    };
    let long_context = set.iter().flatten().any(|p| {
        p.tiers
            .iter()
            .any(|&(s, _)| total_in > s || (inc && total_in == s))
    });

    let rate_missing = (t.input > 0 && set[Unit::Input as usize].is_none())
        || (t.output > 0 && set[Unit::Output as usize].is_none());
    let input_rate = rate(set[Unit::Input as usize]).unwrap_or(Usd::ZERO);
    let output_rate = rate(set[Unit::Output as usize]).unwrap_or(Usd::ZERO);
    let mut defaulted = false;
    let mut or_input = |r: Option<Usd>, n: u64| {
        r.unwrap_or_else(|| {
            if n > 0 {
                defaulted = true;
            }
            input_rate
        })
    };
    let cache_read = t.cache_read.min(t.input);
    let cache_write = t.cache_write.min(t.input - cache_read);
    let w1h = t.cache_write_1h.min(cache_write);
    let w5m = cache_write - w1h;
    let uncached = t.input - cache_read - cache_write;

    let cr_rate = or_input(rate(set[Unit::CacheRead as usize]), cache_read);
    let cw_rate = or_input(rate(set[Unit::CacheWrite as usize]), w5m + w1h);
    let cw1h_rate = rate(set[Unit::CacheWrite1h as usize]).unwrap_or(cw_rate);
    let reasoning = t.reasoning.min(t.output);
    let reasoning_rate = rate(set[Unit::Reasoning as usize]).unwrap_or(output_rate);

    let up = |x: Usd| sel.uplift.map_or(x, |f| x.scale_by(f));
    let b_input = up(input_rate.times(uncached));
    let b_cr = up(cr_rate.times(cache_read));
    let b_cw = up(cw_rate.times(w5m) + cw1h_rate.times(w1h));
    let b_out = up(output_rate.times(t.output - reasoning));
    let b_reason = up(reasoning_rate.times(reasoning));
    Breakdown {
        input: b_input,
        cache_read: b_cr,
        cache_write: b_cw,
        output: b_out,
        reasoning: b_reason,
        total: b_input + b_cr + b_cw + b_out + b_reason,
        cache_rate_defaulted: defaulted,
        variant_missing: sel.variant_missing,
        long_context,
        rate_missing,
        batch_halved: sel.batch_halved,
        uplift: sel.uplift,
    }
}

/// The prices that apply to one request, borrowed from its entry.
pub struct Selected<'e> {
    pub units: [Option<&'e Price>; 6],
    /// The service tier asked for has no price of its own.
    pub variant_missing: bool,
    /// Batch without batch prices: rates are halved.
    pub batch_halved: bool,
    pub uplift: Option<Usd>,
}

impl ModelEntry {
    /// The prices for a request at `unix_secs` in `ctx`: the dated base, then every
    /// matching variant unit by unit, then the uplifts. Borrowing: no allocation.
    pub fn resolve_refs(&self, unix_secs: i64, ctx: PriceContext<'_>) -> Selected<'_> {
        let base = self
            .prices
            .iter()
            .rev()
            .find(|d| d.constraint.as_ref().is_none_or(|c| c.active(unix_secs)))
            .or_else(|| self.prices.iter().find(|d| d.constraint.is_none()));
        let mut out: [Option<&Price>; 6] = [None; 6];
        if let Some(d) = base {
            for (o, p) in out.iter_mut().zip(d.prices.units.iter()) {
                *o = p.as_ref();
            }
        }
        let reported = ctx.service_tier.map(canonical_tier);
        let batch = ctx.is_batch();
        let (mut tier_found, mut batch_found) = (false, false);
        for v in &self.variants {
            if !v.constraint.as_ref().is_none_or(|c| c.active(unix_secs)) {
                continue;
            }
            let ok = v.when.iter().all(|(k, val)| match k.as_str() {
                "service_tier" => reported == Some(canonical_tier(val)),
                "processing" => batch && val == "batch",
                "speed" => ctx.speed == Some(val.as_str()),
                _ => false,
            });
            if ok {
                for (o, p) in out.iter_mut().zip(v.prices.units.iter()) {
                    if p.is_some() {
                        *o = p.as_ref();
                    }
                }
                for (k, _) in &v.when {
                    tier_found |= k == "service_tier";
                    batch_found |= k == "processing";
                }
            }
        }
        let uplift = self
            .uplifts
            .iter()
            .filter_map(|u| match u {
                Uplift::Residency(zone, f) => {
                    ctx.data_residency
                        .is_some_and(|z| z.eq_ignore_ascii_case(zone))
                }
                .then_some(*f),
                Uplift::VertexRegional(f) => ctx
                    .vertex_location
                    .is_some_and(|l| !l.eq_ignore_ascii_case("global"))
                    .then_some(*f),
                Uplift::Geo(geo, f) => ctx
                    .inference_geo
                    .is_some_and(|g| g.eq_ignore_ascii_case(geo))
                    .then_some(*f),
                Uplift::Speed(speed, f) => ctx
                    .speed
                    .is_some_and(|s| s.eq_ignore_ascii_case(speed))
                    .then_some(*f),
            })
            .reduce(|a, b| a.scale_by(b));
        Selected {
            units: out,
            variant_missing: ctx.tier().is_some() && !tier_found,
            batch_halved: batch && !batch_found,
            uplift,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::table::{Constraint, Dated, PriceSet, Variant};
    use super::*;

    fn usd(s: &str) -> Usd {
        Usd::parse_scaled(s, -6).unwrap()
    }

    fn entry(units: &[(Unit, Price)]) -> ModelEntry {
        let mut ps = PriceSet::default();
        for (u, p) in units {
            ps.set(*u, p.clone());
        }
        ModelEntry {
            id: "m".into(),
            prices: vec![Dated {
                constraint: None,
                prices: ps,
            }],
            variants: vec![],
            tier_inclusive: false,
            uplifts: vec![],
        }
    }

    fn sonnet() -> ModelEntry {
        let tier = |b: &str, t: &str| Price {
            base: usd(b),
            tiers: vec![(200_000, usd(t))],
        };
        entry(&[
            (Unit::Input, tier("3", "6")),
            (Unit::Output, tier("15", "22.5")),
            (Unit::CacheRead, tier("0.3", "0.6")),
            (Unit::CacheWrite, tier("3.75", "7.5")),
            (Unit::CacheWrite1h, tier("6", "12")),
        ])
    }

    #[test]
    fn cache_classes_are_partitions_of_input() {
        let t = Tokens {
            input: 10_000,
            cache_read: 6_000,
            cache_write: 3_000,
            cache_write_1h: 1_000,
            output: 500,
            reasoning: 0,
        };
        let b = price(&sonnet(), t, 0, PriceContext::default());
        // 1000*3 + 6000*0.3 + 2000*3.75 + 1000*6 + 500*15, per million
        assert_eq!(b.total.to_string(), "0.0258");
        assert_eq!(b.cache_write.to_string(), "0.0135");
        assert!(!b.long_context);
    }

    #[test]
    fn long_context_tier_uses_total_input_including_cache_for_every_class() {
        let t = Tokens {
            input: 200_001,
            cache_read: 200_000,
            output: 1_000_000,
            ..Default::default()
        };
        let b = price(&sonnet(), t, 0, PriceContext::default());
        assert!(b.long_context);
        assert_eq!(b.input, usd("6").times(1));
        assert_eq!(b.cache_read, usd("0.6").times(200_000));
        assert_eq!(b.output.to_string(), "22.5");
        let at = price(
            &sonnet(),
            Tokens {
                input: 200_000,
                ..t
            },
            0,
            PriceContext::default(),
        );
        assert!(!at.long_context);
    }

    #[test]
    fn reasoning_billed_once() {
        let mut e = entry(&[
            (Unit::Input, Price::flat(usd("1"))),
            (Unit::Output, Price::flat(usd("8"))),
        ]);
        let t = Tokens {
            input: 0,
            output: 1_000_000,
            reasoning: 400_000,
            ..Default::default()
        };
        assert_eq!(
            price(&e, t, 0, PriceContext::default()).total.to_string(),
            "8"
        );
        e.prices[0]
            .prices
            .set(Unit::Reasoning, Price::flat(usd("3")));
        let b = price(&e, t, 0, PriceContext::default());
        assert_eq!(b.total.to_string(), "6"); // 0.6M*8 + 0.4M*3
    }

    #[test]
    fn missing_cache_rate_uses_input_and_is_flagged() {
        let e = entry(&[
            (Unit::Input, Price::flat(usd("2"))),
            (Unit::Output, Price::flat(usd("8"))),
        ]);
        let t = Tokens {
            input: 1_000_000,
            cache_read: 500_000,
            ..Default::default()
        };
        let b = price(&e, t, 0, PriceContext::default());
        assert_eq!(b.total.to_string(), "2");
        assert!(b.cache_rate_defaulted);
    }

    #[test]
    fn dated_prices_and_variants() {
        let mut e = entry(&[
            (Unit::Input, Price::flat(usd("10"))),
            (Unit::Output, Price::flat(usd("40"))),
        ]);
        let mut later = PriceSet::default();
        later.set(Unit::Input, Price::flat(usd("2")));
        later.set(Unit::Output, Price::flat(usd("8")));
        e.prices.push(Dated {
            constraint: Some(Constraint::StartDate(20249)), // 2025-06-10
            prices: later,
        });
        let mut flex = PriceSet::default();
        flex.set(Unit::Input, Price::flat(usd("1")));
        e.variants.push(Variant {
            when: vec![("service_tier".into(), "flex".into())],
            constraint: None,
            prices: flex,
        });
        let t = Tokens {
            input: 1_000_000,
            output: 1_000_000,
            ..Default::default()
        };
        let before = 20248 * 86_400;
        let after = 20249 * 86_400;
        assert_eq!(
            price(&e, t, before, PriceContext::default())
                .total
                .to_string(),
            "50"
        );
        assert_eq!(
            price(&e, t, after, PriceContext::default())
                .total
                .to_string(),
            "10"
        );
        let flex = PriceContext {
            service_tier: Some("flex"),
            ..Default::default()
        };
        assert_eq!(price(&e, t, after, flex).total.to_string(), "9");
        let prio = PriceContext {
            service_tier: Some("priority"),
            ..Default::default()
        };
        let b = price(&e, t, after, prio);
        assert!(b.variant_missing);
        assert_eq!(b.total.to_string(), "10");
        // No batch price: half of every standard rate, flagged.
        let batch = PriceContext {
            service_tier: Some("batch"),
            ..Default::default()
        };
        let b = price(&e, t, after, batch);
        assert!(b.batch_halved && !b.variant_missing);
        assert_eq!(b.total.to_string(), "5");
        // A batch price of its own wins, unit by unit.
        let mut half_in = PriceSet::default();
        half_in.set(Unit::Input, Price::flat(usd("1.5")));
        e.variants.push(Variant {
            when: vec![("processing".into(), "batch".into())],
            constraint: None,
            prices: half_in,
        });
        let b = price(&e, t, after, batch);
        assert!(!b.batch_halved);
        assert_eq!(b.total.to_string(), "9.5");
    }

    #[test]
    fn uplifts_multiply_every_class_when_the_call_matches() {
        let mut e = sonnet();
        e.uplifts = vec![
            Uplift::Residency("eu".into(), Usd::parse("1.1").unwrap()),
            Uplift::Geo("us".into(), Usd::parse("1.1").unwrap()),
            Uplift::VertexRegional(Usd::parse("1.1").unwrap()),
        ];
        let t = Tokens {
            input: 100_000,
            cache_read: 50_000,
            output: 100_000,
            ..Default::default()
        };
        let plain = price(&e, t, 0, PriceContext::default());
        assert_eq!(plain.total.to_string(), "1.665");
        assert_eq!(plain.uplift, None);
        let eu = PriceContext {
            data_residency: Some("eu"),
            ..Default::default()
        };
        let b = price(&e, t, 0, eu);
        assert_eq!(b.total.to_string(), "1.8315");
        assert_eq!(b.cache_read.to_string(), "0.0165");
        let both = PriceContext {
            data_residency: Some("eu"),
            inference_geo: Some("US"),
            vertex_location: Some("global"),
            ..Default::default()
        };
        assert_eq!(price(&e, t, 0, both).total.to_string(), "2.01465");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn tokens() -> impl Strategy<Value = Tokens> {
            (
                0u64..2_000_000,
                0u64..2_000_000,
                0u64..2_000_000,
                0u64..2_000_000,
                0u64..500_000,
                0u64..500_000,
            )
                .prop_map(|(input, cr, cw, w1h, output, reasoning)| Tokens {
                    input,
                    cache_read: cr,
                    cache_write: cw,
                    cache_write_1h: w1h,
                    output,
                    reasoning,
                })
        }

        proptest! {
            #[test]
            fn total_is_the_sum_and_never_negative(t in tokens()) {
                let b = price(&sonnet(), t, 0, PriceContext::default());
                prop_assert_eq!(b.total, b.input + b.cache_read + b.cache_write + b.output + b.reasoning);
                prop_assert!(b.total.0 >= 0);
            }

            #[test]
            fn cached_tokens_never_cost_more_than_uncached(t in tokens()) {
                // With cache reads cheaper than input, moving tokens into cache_read never raises cost.
                let plain = Tokens { cache_read: 0, cache_write: 0, cache_write_1h: 0, ..t };
                let cached = Tokens { cache_read: t.input / 2, cache_write: 0, cache_write_1h: 0, ..t };
                let p = price(&sonnet(), plain, 0, PriceContext::default());
                let c = price(&sonnet(), cached, 0, PriceContext::default());
                prop_assert!(c.total <= p.total);
            }

            #[test]
            fn reasoning_never_adds_to_output_without_its_own_rate(t in tokens()) {
                let e = entry(&[(Unit::Input, Price::flat(usd("1"))), (Unit::Output, Price::flat(usd("8")))]);
                let with = price(&e, t, 0, PriceContext::default());
                let without = price(&e, Tokens { reasoning: 0, ..t }, 0, PriceContext::default());
                prop_assert_eq!(with.total, without.total);
            }
        }
    }
}
