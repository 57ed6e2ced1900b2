//! Pricing: price tables, model matching and cost arithmetic (pricing-sources.md §6).
//!
//! - [`table`]: the in-memory price model shared by every format.
//! - [`native`]: our JSON format (genai-prices' shape); the default table ships in it.
//! - [`litellm`]: LiteLLM's price file, read as it is.
//! - [`names`]: model-name rewrites and provider mapping for lookup.
//! - [`book`]: loading, overrides, cached lookup, reload.
//! - [`calc`]: exact cost arithmetic.

pub mod book;
pub mod calc;
pub mod litellm;
pub mod names;
pub mod native;
pub mod table;

pub use book::{parse_file, BookState, PriceBook, PricingError, PricingOverrides, Resolved};
pub use calc::{price, Breakdown, Tokens};
pub use names::MatchKind;
pub use table::PriceContext;
