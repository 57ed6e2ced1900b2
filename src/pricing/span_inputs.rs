//! A span's [`PriceContext`] from what its facts say, its resource and its server host.
//!
//! The attribute names that carry these facts (tier, region, geo, speed, the batch marker)
//! are read with every other span fact, once, from the alias table in src/facts/
//! (docs/genai-conventions.md); here they are combined: a span attribute beats the host,
//! which beats the resource (docs/pricing.md, "Where the bill is").

use super::inputs::{
    aws_region_of_host, is_region, residency_of_host, vertex_location_of_host, PriceContext,
};

/// The pricing facts of one span, as read by the facts reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpanPricing<'a> {
    pub server_address: Option<&'a str>,
    /// The billed service tier (`auto` already dropped).
    pub service_tier: Option<&'a str>,
    /// `pricing.batch_attribute` said `batch`/`true` (on the span, else its resource).
    pub batch: bool,
    /// `cloud.region` / `aws.region` on the span, then on its resource.
    pub region: Option<&'a str>,
    pub resource_region: Option<&'a str>,
    /// Anthropic `usage.inference_geo` and `speed`.
    pub inference_geo: Option<&'a str>,
    pub speed: Option<&'a str>,
}

/// Combines a span's pricing facts into the context the price lookup and arithmetic take.
pub fn pricing_inputs(f: SpanPricing<'_>) -> PriceContext<'_> {
    let host = f.server_address.unwrap_or("");
    let region = f
        .region
        .filter(|r| is_region(r))
        .or_else(|| aws_region_of_host(host))
        .or_else(|| f.resource_region.filter(|r| is_region(r)));
    PriceContext {
        service_tier: f.service_tier.filter(|t| *t != "auto"),
        batch: f.batch,
        region,
        data_residency: residency_of_host(host),
        vertex_location: vertex_location_of_host(host),
        inference_geo: f.inference_geo,
        speed: f.speed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_beats_host_beats_resource() {
        let c = pricing_inputs(SpanPricing {
            server_address: Some("bedrock-runtime.us-gov-west-1.amazonaws.com"),
            service_tier: Some("batch"),
            resource_region: Some("eu-west-1"),
            ..SpanPricing::default()
        });
        assert_eq!(c.region, Some("us-gov-west-1"));
        assert!(c.is_batch());
        let c = pricing_inputs(SpanPricing {
            service_tier: Some("flex"),
            resource_region: Some("eu-west-1"),
            ..SpanPricing::default()
        });
        assert_eq!(
            (c.region, c.service_tier),
            (Some("eu-west-1"), Some("flex"))
        );
        let c = pricing_inputs(SpanPricing {
            server_address: Some("eu.api.openai.com"),
            region: Some("not a region"),
            batch: true,
            ..SpanPricing::default()
        });
        assert_eq!((c.region, c.data_residency), (None, Some("eu")));
        assert!(c.batch);
    }
}
