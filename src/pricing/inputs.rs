//! What a price depends on besides the model and the token counts (docs/pricing.md,
//! "Where the bill is"): the billed tier, batch processing, and where the call ran.
//!
//! The cost stage fills one [`PriceContext`] per span (see [`super::span_inputs`]); lookup
//! reads the region, the price arithmetic reads the rest.

/// The request facts that select a price. Borrowed from the span; all optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PriceContext<'a> {
    /// The billed service tier as reported (`flex`, `priority`, `default`, …). `batch`
    /// (Anthropic's value for Message Batches) selects batch prices.
    pub service_tier: Option<&'a str>,
    /// The call went through a batch API.
    pub batch: bool,
    /// The cloud region that served the call (`us-gov-west-1`): selects region-keyed rows
    /// such as LiteLLM's `bedrock/<region>/<model>`.
    pub region: Option<&'a str>,
    /// OpenAI data residency (`eu`, `us`), from a regional API host (`eu.api.openai.com`).
    pub data_residency: Option<&'a str>,
    /// Vertex AI location (`global`, `us-east5`): non-global endpoints may carry an uplift.
    pub vertex_location: Option<&'a str>,
    /// Anthropic `usage.inference_geo` (`us`, `global`): US-only inference may carry an uplift.
    pub inference_geo: Option<&'a str>,
    /// Anthropic `speed` (`fast`).
    pub speed: Option<&'a str>,
}

impl PriceContext<'_> {
    /// True when batch prices apply: the batch flag, or a service tier of `batch`.
    pub fn is_batch(&self) -> bool {
        self.batch
            || self
                .service_tier
                .is_some_and(|t| t.eq_ignore_ascii_case("batch"))
    }

    /// The service tier that selects a tier variant: `None` for standard and batch.
    pub fn tier(&self) -> Option<&str> {
        self.service_tier
            .map(canonical_tier)
            .filter(|t| *t != "default" && *t != "batch")
    }
}

/// `fast` bills as `priority` at OpenAI (LiteLLM maps it the same way); Anthropic's
/// `standard` and OpenAI's `auto`/`default` are the standard price.
pub fn canonical_tier(t: &str) -> &str {
    match t {
        "fast" => "priority",
        "standard" | "on_demand" | "auto" => "default",
        other => other,
    }
}

/// The AWS region in a Bedrock runtime host (`bedrock-runtime.us-gov-west-1.amazonaws.com`,
/// also `-fips` hosts), or `None`.
pub fn aws_region_of_host(host: &str) -> Option<&str> {
    let rest = host
        .strip_prefix("bedrock-runtime-fips.")
        .or_else(|| host.strip_prefix("bedrock-runtime."))?;
    let (region, tail) = rest.split_once('.')?;
    (tail.starts_with("amazonaws.com") && is_region(region)).then_some(region)
}

/// OpenAI data residency from its regional hosts (`eu.api.openai.com`).
pub fn residency_of_host(host: &str) -> Option<&str> {
    let (zone, tail) = host.split_once('.')?;
    (tail == "api.openai.com" && matches!(zone, "eu" | "us")).then_some(zone)
}

/// The Vertex AI location of an endpoint host: `us-east5-aiplatform.googleapis.com` is
/// `us-east5`; the bare host `aiplatform.googleapis.com` is `global`.
pub fn vertex_location_of_host(host: &str) -> Option<&str> {
    if host == "aiplatform.googleapis.com" {
        return Some("global");
    }
    let loc = host.strip_suffix("-aiplatform.googleapis.com")?;
    is_region(loc).then_some(loc)
}

/// A cloud region name: lower-case words and digits joined by `-`, ending in a number
/// (`us-east-1`, `europe-west4`, `us-gov-west-1`).
pub fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.contains('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().last().is_some_and(|b| b.is_ascii_digit())
}

/// An Azure deployment zone as LiteLLM keys them (`eu`, `global-standard`, `us-gov`).
pub fn is_zone(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_tell_where_the_call_ran() {
        assert_eq!(
            aws_region_of_host("bedrock-runtime.us-gov-west-1.amazonaws.com"),
            Some("us-gov-west-1")
        );
        assert_eq!(
            aws_region_of_host("bedrock-runtime-fips.us-east-1.amazonaws.com"),
            Some("us-east-1")
        );
        assert_eq!(aws_region_of_host("bedrock-runtime.evil.com"), None);
        assert_eq!(residency_of_host("eu.api.openai.com"), Some("eu"));
        assert_eq!(residency_of_host("api.openai.com"), None);
        assert_eq!(
            vertex_location_of_host("us-east5-aiplatform.googleapis.com"),
            Some("us-east5")
        );
        assert_eq!(
            vertex_location_of_host("aiplatform.googleapis.com"),
            Some("global")
        );
        assert!(!is_region("us-east-1/../x"));
    }

    #[test]
    fn batch_and_tiers() {
        let c = PriceContext {
            service_tier: Some("batch"),
            ..Default::default()
        };
        assert!(c.is_batch());
        assert_eq!(c.tier(), None);
        let c = PriceContext {
            service_tier: Some("fast"),
            ..Default::default()
        };
        assert_eq!(c.tier(), Some("priority"));
        assert!(!c.is_batch());
    }
}
