//! Pricing: price tables, model matching and cost arithmetic. The rules are in
//! docs/pricing.md; each module's comment names the section it implements.
//!
//! - [`table`]: the in-memory price model shared by every format.
//! - [`native`]: our JSON format (genai-prices' shape); the default table ships in it.
//! - [`litellm`]: LiteLLM's price file, read as it is.
//! - [`names`]: model-name rewrites and provider mapping for lookup.
//! - [`inputs`]: what a price depends on besides model and tokens (tier, batch, region);
//!   [`span_inputs`] combines it from a span's facts (src/facts/).
//! - [`book`]: loading, overrides, lookup, reload; [`cache`]: the bounded lookup cache.
//! - [`calc`]: exact cost arithmetic; [`flags`]: what a price is worth a look for.
//! - [`config`]: the `cost.pricing` section.

pub mod book;
pub mod cache;
pub mod calc;
pub mod config;
pub mod flags;
pub mod inputs;
pub mod litellm;
pub mod names;
pub mod native;
pub mod span_inputs;
pub mod table;

pub use book::{parse_file, BookState, PriceBook, PricingError, PricingOverrides, Resolved};
pub use calc::{price, Breakdown, Tokens};
pub use config::PricingConfig;
pub use flags::price_flags;
pub use inputs::PriceContext;
pub use names::MatchKind;
pub use span_inputs::{pricing_inputs, SpanPricing};
