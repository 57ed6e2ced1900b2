//! Recognising GenAI spans across instrumentation conventions.
//!
//! Instrumentations disagree on names (see shared/research/genai-conventions.md): OTel GenAI
//! (`gen_ai.*`, three generations), OpenLLMetry (`llm.*`, `traceloop.*`), OpenInference
//! (`openinference.span.kind`, `llm.*`), the Vercel AI SDK (`ai.*`). This module answers two
//! questions for one span: is it a GenAI span, and which provider, operation and models does it
//! name. Usage and pricing build on the [`GenAiCall`] it returns.

use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::otlp::first_str;

/// Where a GenAI span sits in a call tree; only [`Level::Inference`] spans are billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// One model call (chat, completion, embeddings, ...): carries the usage that is billed.
    Inference,
    /// An agent, workflow, chain or SDK wrapper span that may repeat its children's usage.
    Aggregate,
    /// A tool, retriever or other GenAI-related span with no model usage of its own.
    Other,
}

/// What a GenAI span says about itself, borrowed from the span's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenAiCall<'a> {
    /// Provider in the latest OTel spelling (`openai`, `gcp.gemini`, ...), if any is named.
    pub provider: Option<&'static str>,
    /// The provider exactly as the span wrote it, when it is not one we normalise.
    pub provider_raw: Option<&'a str>,
    /// True when the span already carries `gen_ai.provider.name`.
    pub has_latest_provider_key: bool,
    pub operation: Option<&'a str>,
    pub request_model: Option<&'a str>,
    pub response_model: Option<&'a str>,
    pub level: Level,
}

impl GenAiCall<'_> {
    /// The provider to report: normalised when known, else as written, else `unknown`.
    pub fn provider_name(&self) -> &str {
        self.provider.or(self.provider_raw).unwrap_or("unknown")
    }
}

const PROVIDER_KEYS: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
    "ai.model.provider",
];
const REQUEST_MODEL_KEYS: &[&str] = &[
    "gen_ai.request.model",
    "llm.request.model",
    "ai.model.id",
    "llm.model_name",
];
const RESPONSE_MODEL_KEYS: &[&str] = &[
    "gen_ai.response.model",
    "llm.response.model",
    "ai.response.model",
    "llm.model_name",
];
const OPERATION_KEYS: &[&str] = &["gen_ai.operation.name", "llm.request.type"];

/// Recognises a GenAI span; `None` for spans no convention marks as GenAI.
pub fn recognize<'a>(span_name: &'a str, attrs: &'a [KeyValue]) -> Option<GenAiCall<'a>> {
    let provider_raw = first_str(attrs, PROVIDER_KEYS);
    let operation = first_str(attrs, OPERATION_KEYS);
    let request_model = first_str(attrs, REQUEST_MODEL_KEYS);
    let response_model = first_str(attrs, RESPONSE_MODEL_KEYS);
    let oi_kind = first_str(attrs, &["openinference.span.kind"]);
    let traceloop_kind = first_str(attrs, &["traceloop.span.kind"]);
    let ai_sdk = first_str(attrs, &["ai.operationId"]);

    let any = provider_raw.is_some()
        || operation.is_some()
        || request_model.is_some()
        || response_model.is_some()
        || oi_kind.is_some()
        || traceloop_kind.is_some()
        || ai_sdk.is_some();
    if !any {
        return None;
    }

    let level = level_of(span_name, operation, oi_kind, traceloop_kind, ai_sdk);
    let provider = provider_raw.and_then(normalize_provider);
    Some(GenAiCall {
        provider,
        provider_raw: provider_raw.filter(|_| provider.is_none()),
        has_latest_provider_key: first_str(attrs, &["gen_ai.provider.name"]).is_some(),
        operation,
        request_model,
        response_model,
        level,
    })
}

/// Classifies a span from the markers each convention uses (shared by [`crate::usage`]).
pub(crate) fn level_of(
    span_name: &str,
    operation: Option<&str>,
    oi_kind: Option<&str>,
    traceloop_kind: Option<&str>,
    ai_sdk_operation: Option<&str>,
) -> Level {
    if let Some(op) = ai_sdk_operation {
        // AI SDK: `ai.generateText.doGenerate` is the model call; `ai.generateText` wraps it.
        return if op.ends_with(".doGenerate")
            || op.ends_with(".doStream")
            || op.ends_with(".doEmbed")
        {
            Level::Inference
        } else if op.starts_with("ai.toolCall") {
            Level::Other
        } else {
            Level::Aggregate
        };
    }
    if let Some(kind) = oi_kind {
        return match kind.to_ascii_uppercase().as_str() {
            "LLM" | "EMBEDDING" => Level::Inference,
            "AGENT" | "CHAIN" => Level::Aggregate,
            _ => Level::Other,
        };
    }
    if let Some(op) = operation {
        return match op {
            "chat" | "text_completion" | "generate_content" | "embeddings" | "completion"
            | "embedding" | "rerank" => Level::Inference,
            "invoke_agent" | "create_agent" | "invoke_workflow" => Level::Aggregate,
            _ => Level::Other,
        };
    }
    if let Some(kind) = traceloop_kind {
        return match kind {
            "workflow" | "agent" | "task" => Level::Aggregate,
            _ => Level::Other,
        };
    }
    if span_name.starts_with("invoke_agent") {
        return Level::Aggregate;
    }
    Level::Inference
}

/// Maps the provider spellings seen in the wild onto the latest OTel values.
pub fn normalize_provider(raw: &str) -> Option<&'static str> {
    // The AI SDK writes `openai.chat`, `anthropic.messages`: the provider is the first label.
    let head = raw.split('.').next().unwrap_or(raw);
    let lower = raw.to_ascii_lowercase();
    let head_lower = head.to_ascii_lowercase();
    Some(match lower.as_str() {
        "az.ai.openai" | "azure.ai.openai" | "azure_openai" | "azure-openai" => "azure.ai.openai",
        "az.ai.inference" | "azure.ai.inference" => "azure.ai.inference",
        "aws.bedrock" | "bedrock" | "amazon-bedrock" | "aws_bedrock" => "aws.bedrock",
        "gcp.gemini" | "gemini" | "google.generative-ai" | "google" => "gcp.gemini",
        "gcp.vertex_ai" | "vertex_ai" | "vertexai" | "google.vertex" | "vertex" => "gcp.vertex_ai",
        "gcp.gen_ai" => "gcp.gen_ai",
        "ibm.watsonx.ai" | "watsonx" => "ibm.watsonx.ai",
        _ => match head_lower.as_str() {
            "openai" => "openai",
            "anthropic" => "anthropic",
            "cohere" => "cohere",
            "deepseek" => "deepseek",
            "groq" => "groq",
            "mistral" | "mistralai" | "mistral_ai" => "mistral_ai",
            "perplexity" => "perplexity",
            "xai" | "x_ai" | "x-ai" => "x_ai",
            "ollama" => "ollama",
            "azure" => "azure.ai.openai",
            "bedrock" | "amazon" => "aws.bedrock",
            "vertex" => "gcp.vertex_ai",
            _ => return None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::kv_str;

    #[test]
    fn plain_span_is_not_genai() {
        assert!(recognize("GET /", &[kv_str("http.method", "GET")]).is_none());
    }

    #[test]
    fn otel_1_27_chat_span() {
        let attrs = [
            kv_str("gen_ai.system", "openai"),
            kv_str("gen_ai.operation.name", "chat"),
            kv_str("gen_ai.request.model", "gpt-4o"),
            kv_str("gen_ai.response.model", "gpt-4o-2024-08-06"),
        ];
        let call = recognize("chat gpt-4o", &attrs).unwrap();
        assert_eq!(call.provider, Some("openai"));
        assert!(!call.has_latest_provider_key);
        assert_eq!(call.level, Level::Inference);
        assert_eq!(call.response_model, Some("gpt-4o-2024-08-06"));
    }

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
        ] {
            assert_eq!(normalize_provider(raw), Some(want), "{raw}");
        }
        assert_eq!(normalize_provider("acme-llm"), None);
    }

    #[test]
    fn aggregate_and_inference_levels() {
        let agent = [kv_str("gen_ai.operation.name", "invoke_agent")];
        assert_eq!(
            recognize("invoke_agent x", &agent).unwrap().level,
            Level::Aggregate
        );
        let oi = [
            kv_str("openinference.span.kind", "LLM"),
            kv_str("llm.provider", "openai"),
        ];
        assert_eq!(
            recognize("ChatCompletion", &oi).unwrap().level,
            Level::Inference
        );
        let sdk_root = [
            kv_str("ai.operationId", "ai.generateText"),
            kv_str("ai.model.provider", "openai.chat"),
        ];
        assert_eq!(
            recognize("ai.generateText", &sdk_root).unwrap().level,
            Level::Aggregate
        );
        let sdk_call = [
            kv_str("ai.operationId", "ai.generateText.doGenerate"),
            kv_str("ai.model.provider", "openai.chat"),
        ];
        let call = recognize("ai.generateText.doGenerate", &sdk_call).unwrap();
        assert_eq!(call.level, Level::Inference);
        assert_eq!(call.provider, Some("openai"));
        let tool = [kv_str("gen_ai.operation.name", "execute_tool")];
        assert_eq!(
            recognize("execute_tool", &tool).unwrap().level,
            Level::Other
        );
    }

    #[test]
    fn unknown_provider_is_kept_as_written() {
        let attrs = [
            kv_str("gen_ai.system", "acme-llm"),
            kv_str("gen_ai.operation.name", "chat"),
        ];
        let call = recognize("chat", &attrs).unwrap();
        assert_eq!(call.provider, None);
        assert_eq!(call.provider_name(), "acme-llm");
    }
}
