//! Which instrumentation wrote a span. The same key means different things per emitter (input
//! tokens with or without cache, output with or without reasoning), so the inclusion rules
//! are keyed on this. Scope names and markers: docs/genai-conventions.md, "Sources".

/// A family of instrumentations with one set of token semantics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Source {
    OtelGenai,
    OtelBotocore,
    OtelVertexai,
    OpenLlmetry,
    OpenInference,
    AiSdk,
    OpenLit,
    Logfire,
    Langfuse,
    #[default]
    Other,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::OtelGenai => "otel_genai",
            Source::OtelBotocore => "otel_botocore",
            Source::OtelVertexai => "otel_vertexai",
            Source::OpenLlmetry => "openllmetry",
            Source::OpenInference => "openinference",
            Source::AiSdk => "ai_sdk",
            Source::OpenLit => "openlit",
            Source::Logfire => "logfire",
            Source::Langfuse => "langfuse",
            Source::Other => "other",
        }
    }
}

/// Marker attributes that reveal an instrumentation when its scope name does not.
#[derive(Debug, Default, Clone, Copy)]
pub struct SourceMarkers {
    /// `traceloop.span.kind` or `llm.request.type`.
    pub traceloop: bool,
    /// `openinference.span.kind`.
    pub openinference: bool,
    /// `ai.operationId`.
    pub ai_sdk: bool,
    /// `gen_ai.sdk.version`.
    pub openlit: bool,
    /// `langfuse.observation.type`.
    pub langfuse: bool,
}

/// The scope name decides when it is specific; marker attributes decide otherwise.
pub fn detect(scope: &[u8], m: SourceMarkers) -> Source {
    let starts = |p: &str| scope.starts_with(p.as_bytes());
    if starts("opentelemetry.instrumentation.botocore") {
        return Source::OtelBotocore;
    }
    if starts("opentelemetry.instrumentation.vertexai") {
        return Source::OtelVertexai;
    }
    if scope == b"ai" || starts("@ai-sdk") || starts("ai.") {
        return Source::AiSdk;
    }
    if starts("openinference") {
        return Source::OpenInference;
    }
    if starts("openlit") || m.openlit {
        return Source::OpenLit;
    }
    if starts("logfire") || starts("pydantic-ai") || scope == b"pydantic_ai" {
        return Source::Logfire;
    }
    if starts("langfuse") || m.langfuse {
        return Source::Langfuse;
    }
    if starts("opentelemetry.instrumentation.genai")
        || starts("opentelemetry.instrumentation.openai_v2")
        || starts("opentelemetry.instrumentation.google_genai")
    {
        return Source::OtelGenai;
    }
    if starts("opentelemetry.instrumentation.") || m.traceloop {
        // OpenLLMetry names its scopes after its module paths, like OTel contrib once did.
        return Source::OpenLlmetry;
    }
    if m.openinference {
        return Source::OpenInference;
    }
    if m.ai_sdk {
        return Source::AiSdk;
    }
    Source::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_then_markers() {
        let none = SourceMarkers::default();
        assert_eq!(
            detect(b"opentelemetry.instrumentation.openai.v1", none),
            Source::OpenLlmetry
        );
        assert_eq!(
            detect(b"opentelemetry.instrumentation.openai_v2", none),
            Source::OtelGenai
        );
        assert_eq!(detect(b"ai", none), Source::AiSdk);
        let lit = SourceMarkers {
            openlit: true,
            ..none
        };
        assert_eq!(detect(b"", lit), Source::OpenLit);
        let oi = SourceMarkers {
            openinference: true,
            ..none
        };
        assert_eq!(detect(b"my.app", oi), Source::OpenInference);
        assert_eq!(detect(b"my.app", none), Source::Other);
    }
}
