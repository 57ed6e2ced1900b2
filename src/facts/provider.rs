//! Provider spellings seen in the wild, mapped onto the latest OTel `gen_ai.provider.name`
//! values (docs/genai-conventions.md, "Provider").

/// Whole-value spellings (compared without regard to ASCII case).
const WHOLE: &[(&str, &str)] = &[
    ("az.ai.openai", "azure.ai.openai"),
    ("azure.ai.openai", "azure.ai.openai"),
    ("azure_openai", "azure.ai.openai"),
    ("azure-openai", "azure.ai.openai"),
    ("az.ai.inference", "azure.ai.inference"),
    ("azure.ai.inference", "azure.ai.inference"),
    ("aws.bedrock", "aws.bedrock"),
    ("bedrock", "aws.bedrock"),
    ("amazon-bedrock", "aws.bedrock"),
    ("aws_bedrock", "aws.bedrock"),
    ("gcp.gemini", "gcp.gemini"),
    ("gemini", "gcp.gemini"),
    ("google.generative-ai", "gcp.gemini"),
    ("google", "gcp.gemini"),
    ("gcp.vertex_ai", "gcp.vertex_ai"),
    ("vertex_ai", "gcp.vertex_ai"),
    ("vertexai", "gcp.vertex_ai"),
    ("google.vertex", "gcp.vertex_ai"),
    ("vertex", "gcp.vertex_ai"),
    ("gcp.gen_ai", "gcp.gen_ai"),
    ("ibm.watsonx.ai", "ibm.watsonx.ai"),
    ("watsonx", "ibm.watsonx.ai"),
];

/// First-label spellings: the AI SDK writes `openai.chat`, `anthropic.messages`, ...
const HEAD: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("cohere", "cohere"),
    ("deepseek", "deepseek"),
    ("groq", "groq"),
    ("mistral", "mistral_ai"),
    ("mistralai", "mistral_ai"),
    ("mistral_ai", "mistral_ai"),
    ("perplexity", "perplexity"),
    ("xai", "x_ai"),
    ("x_ai", "x_ai"),
    ("x-ai", "x_ai"),
    ("ollama", "ollama"),
    ("azure", "azure.ai.openai"),
    ("bedrock", "aws.bedrock"),
    ("amazon", "aws.bedrock"),
    ("vertex", "gcp.vertex_ai"),
];

/// The latest OTel spelling of a provider name; `None` when we do not know the provider.
/// Runs once per span, so it compares in place rather than lower-casing a copy.
pub fn normalize_provider(raw: &str) -> Option<&'static str> {
    let find = |table: &[(&str, &'static str)], s: &str| {
        table
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s))
            .map(|(_, v)| *v)
    };
    let head = raw.split('.').next().unwrap_or(raw);
    find(WHOLE, raw).or_else(|| find(HEAD, head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_spellings_normalise() {
        for (raw, want) in [
            ("az.ai.openai", "azure.ai.openai"),
            ("gemini", "gcp.gemini"),
            ("vertex_ai", "gcp.vertex_ai"),
            ("xai", "x_ai"),
            ("mistralai", "mistral_ai"),
            ("Anthropic", "anthropic"),
            ("openai.chat", "openai"),
            ("anthropic.messages", "anthropic"),
            ("amazon-bedrock", "aws.bedrock"),
        ] {
            assert_eq!(normalize_provider(raw), Some(want), "{raw}");
        }
        assert_eq!(normalize_provider("acme-llm"), None);
    }
}
