//! Reads a span's [`PriceContext`] from its attributes, its resource and its server host.
//!
//! The one place that knows which attribute names carry pricing facts (docs/pricing.md,
//! "Where the bill is"); a span attribute beats the host, which beats the resource.

use opentelemetry_proto::tonic::common::v1::KeyValue;

use super::inputs::{
    aws_region_of_host, is_region, residency_of_host, vertex_location_of_host, PriceContext,
};
use crate::otlp::first_str;

/// Service tiers reported where the OpenAI keys (read with the usage) are absent:
/// the anthropic SDK's own tracing writes the billed tier (`standard`, `priority`, `batch`).
const TIER_KEYS: &[&str] = &[
    "anthropic.response.service_tier",
    "gen_ai.anthropic.response.service_tier",
];
/// The region that served the call; on a span (AWS SDK semconv) it is the service's region.
const REGION_KEYS: &[&str] = &["cloud.region", "aws.region"];
const GEO_KEYS: &[&str] = &["anthropic.usage.inference_geo"];
const SPEED_KEYS: &[&str] = &["anthropic.usage.speed", "anthropic.request.speed"];

/// The pricing facts of one span. `service_tier` is the tier already read with the usage
/// (OpenAI's keys); `batch_attribute` is `pricing.batch_attribute` (`batch`/`true` = batch).
pub fn pricing_inputs<'a>(
    span: &'a [KeyValue],
    resource: &'a [KeyValue],
    server_address: Option<&'a str>,
    service_tier: Option<&'a str>,
    batch_attribute: &str,
) -> PriceContext<'a> {
    let host = server_address.unwrap_or("");
    let batch = first_str(span, &[batch_attribute])
        .or_else(|| first_str(resource, &[batch_attribute]))
        .is_some_and(|v| v.eq_ignore_ascii_case("batch") || v.eq_ignore_ascii_case("true"));
    let region = first_str(span, REGION_KEYS)
        .filter(|r| is_region(r))
        .or_else(|| aws_region_of_host(host))
        .or_else(|| first_str(resource, REGION_KEYS).filter(|r| is_region(r)));
    PriceContext {
        service_tier: service_tier
            .or_else(|| first_str(span, TIER_KEYS))
            .filter(|t| *t != "auto"),
        batch,
        region,
        data_residency: residency_of_host(host),
        vertex_location: vertex_location_of_host(host),
        inference_geo: first_str(span, GEO_KEYS),
        speed: first_str(span, SPEED_KEYS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::kv_str;

    #[test]
    fn span_beats_host_beats_resource() {
        let span = [kv_str("anthropic.response.service_tier", "batch")];
        let res = [kv_str("cloud.region", "eu-west-1")];
        let c = pricing_inputs(
            &span,
            &res,
            Some("bedrock-runtime.us-gov-west-1.amazonaws.com"),
            None,
            "tollbooth.pricing.processing",
        );
        assert_eq!(c.region, Some("us-gov-west-1"));
        assert!(c.is_batch());
        let c = pricing_inputs(&[], &res, None, Some("flex"), "x");
        assert_eq!(
            (c.region, c.service_tier),
            (Some("eu-west-1"), Some("flex"))
        );
        let span = [
            kv_str("cloud.region", "not a region"),
            kv_str("tollbooth.pricing.processing", "batch"),
        ];
        let c = pricing_inputs(
            &span,
            &[],
            Some("eu.api.openai.com"),
            None,
            "tollbooth.pricing.processing",
        );
        assert_eq!((c.region, c.data_residency), (None, Some("eu")));
        assert!(c.batch);
    }
}
