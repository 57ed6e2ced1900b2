//! Does a source's input count include cache tokens, and its output count reasoning tokens?
//! The OTel spec says yes to both; several emitters say no (per-source table:
//! docs/genai-conventions.md, "Inclusion"). Users can override a rule per scope and provider.

use serde::Deserialize;

use super::provider::normalize_provider;
use super::source::Source;

/// A user rule that overrides the built-in inclusion rules for matching spans.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InclusionOverride {
    /// Instrumentation scope name prefix (`opentelemetry.instrumentation.anthropic`); empty = any.
    #[serde(default)]
    pub scope: String,
    /// Provider (latest OTel spelling, e.g. `anthropic`); absent = any.
    #[serde(default)]
    pub provider: Option<String>,
    /// Does the source's input count include cache reads and writes?
    #[serde(default)]
    pub input_includes_cache: Option<bool>,
    /// Does the source's output count include reasoning tokens?
    #[serde(default)]
    pub output_includes_reasoning: Option<bool>,
}

/// A rule: `Some(false)` = the count leaves the part out (add it); `None` = spec semantics,
/// checked only by the sanity rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rule {
    pub input_includes_cache: Option<bool>,
    pub output_includes_reasoning: Option<bool>,
}

/// What the rule needs to know about the span.
#[derive(Debug, Clone, Copy)]
pub struct RuleInput<'a> {
    pub source: Source,
    pub scope_name: &'a [u8],
    pub scope_version: &'a [u8],
    /// Provider in the latest OTel spelling.
    pub provider: Option<&'a str>,
    /// AI SDK v6+ token details are present (its counts are then inclusive).
    pub ai_sdk_details: bool,
}

/// The rule for one span: the first matching override, else the built-in table.
pub fn rule(s: RuleInput<'_>, overrides: &[InclusionOverride]) -> Rule {
    for o in overrides {
        if s.scope_name.starts_with(o.scope.as_bytes())
            && o.provider
                .as_deref()
                .is_none_or(|p| Some(p) == s.provider || normalize_provider(p) == s.provider)
        {
            return Rule {
                input_includes_cache: o.input_includes_cache,
                output_includes_reasoning: o.output_includes_reasoning,
            };
        }
    }
    let excludes = Some(false);
    let anthropic_like = matches!(s.provider, Some("anthropic") | Some("aws.bedrock"));
    let gemini = matches!(
        s.provider,
        Some("gcp.gemini") | Some("gcp.vertex_ai") | Some("gcp.gen_ai")
    );
    let scope_is = |p: &str| s.scope_name.starts_with(p.as_bytes());
    let (input, output) = match s.source {
        Source::OtelBotocore => (excludes, None),
        Source::OtelVertexai => (None, excludes),
        Source::OpenLit if s.provider == Some("anthropic") => (excludes, None),
        Source::OpenInference if s.provider == Some("aws.bedrock") => (excludes, None),
        Source::OpenLlmetry => {
            let old = version_lt(s.scope_version, 0, 31);
            let anthropic = s.provider == Some("anthropic")
                || scope_is("opentelemetry.instrumentation.anthropic");
            let gemini_scope = scope_is("opentelemetry.instrumentation.google_generativeai");
            let mentions_openai = s.scope_name.windows(6).any(|w| w == b"openai");
            (
                if anthropic && old { excludes } else { None },
                if gemini_scope || (gemini && !mentions_openai) {
                    excludes
                } else {
                    None
                },
            )
        }
        Source::AiSdk if !s.ai_sdk_details => (
            if anthropic_like { excludes } else { None },
            if gemini { excludes } else { None },
        ),
        _ => (None, None),
    };
    Rule {
        input_includes_cache: input,
        output_includes_reasoning: output,
    }
}

/// True when `version` (like `0.30.1`) is below `major.minor`; false when unparsable.
fn version_lt(version: &[u8], major: u64, minor: u64) -> bool {
    let v = version.strip_prefix(b"v").unwrap_or(version);
    let mut parts = v.split(|b| matches!(b, b'.' | b'-' | b'b'));
    let num = |p: Option<&[u8]>| -> Option<u64> { std::str::from_utf8(p?).ok()?.parse().ok() };
    match num(parts.next()) {
        Some(ma) => (ma, num(parts.next()).unwrap_or(0)) < (major, minor),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare() {
        assert!(version_lt(b"0.30.0", 0, 31));
        assert!(!version_lt(b"0.62.1", 0, 31));
        assert!(!version_lt(b"", 0, 31));
        assert!(version_lt(b"v0.5b1", 0, 31));
    }
}
