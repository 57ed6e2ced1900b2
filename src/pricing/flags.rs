//! The pricing flags written to `tollbooth.cost.flags`: each says a price rests on a rule
//! rather than on a row that prices exactly this call (docs/pricing.md, "What the span says").

use super::book::Resolved;
use super::calc::Breakdown;

/// The flags of one priced call, in a fixed order.
pub fn price_flags<'a>(
    r: &'a Resolved,
    b: &'a Breakdown,
) -> impl Iterator<Item = &'static str> + 'a {
    [
        (b.cache_rate_defaulted, "cache_rate_defaulted"),
        (b.variant_missing, "variant_missing"),
        (b.batch_halved, "batch_halved"),
        (b.long_context, "long_context"),
        (r.regional, "regional_price"),
        (b.uplift.is_some(), "uplift"),
        (r.discount.is_some(), "discounted"),
        (b.rate_missing, "rate_missing"),
    ]
    .into_iter()
    .filter(|f| f.0)
    .map(|f| f.1)
}
