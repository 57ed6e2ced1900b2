//! Where GenAI content lives, in every convention we know (docs/genai-conventions.md).
//!
//! Content is prompts, completions, system instructions and tool arguments/results; the
//! structure around it (roles, tool names, finish reasons, ids) is not content and is kept so
//! redacted telemetry still helps debugging.

/// What kind of content an attribute carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Message text or tool payloads: the content policy applies.
    Message,
    /// Stringified request headers (OpenLLMetry): always scanned by the detectors, since they
    /// carry API keys; `keep` does not skip them.
    Headers,
}

const EXACT: &[&str] = &[
    // OTel GenAI >= 1.37 (JSON strings)
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    // OTel <= 1.27 event attributes, Spring AI span attributes
    "gen_ai.prompt",
    "gen_ai.completion",
    // OpenInference
    "input.value",
    "output.value",
    // Vercel AI SDK
    "ai.prompt",
    "ai.prompt.messages",
    "ai.response.text",
    "ai.response.object",
    "ai.response.toolCalls",
    "ai.toolCall.args",
    "ai.toolCall.result",
    // Traceloop, Langfuse
    "traceloop.entity.input",
    "traceloop.entity.output",
    "langfuse.observation.input",
    "langfuse.observation.output",
];

/// Flattened, indexed conventions: `<prefix>.<N>.…`.
const INDEXED: &[&str] = &[
    "gen_ai.prompt.",
    "gen_ai.completion.",
    "llm.input_messages.",
    "llm.output_messages.",
    "llm.prompts.",
];

/// Last key segments that describe structure, not content.
const STRUCTURAL: &[&str] = &[
    "role",
    "name",
    "finish_reason",
    "id",
    "type",
    "tool_call_id",
    "index",
    "gen_ai.system",
    "gen_ai.provider.name",
    "gen_ai.event.name",
];

fn structural(key: &str) -> bool {
    STRUCTURAL
        .iter()
        .any(|s| key == *s || key.strip_suffix(s).is_some_and(|head| head.ends_with('.')))
}

/// Classifies a span (or event) attribute key.
pub fn kind(key: &str) -> Option<Kind> {
    if key == "gen_ai.headers" || key == "llm.headers" {
        return Some(Kind::Headers);
    }
    if EXACT.contains(&key) {
        return Some(Kind::Message);
    }
    for p in INDEXED {
        if let Some(rest) = key.strip_prefix(p) {
            if rest.starts_with(|c: char| c.is_ascii_digit()) && !structural(rest) {
                return Some(Kind::Message);
            }
        }
    }
    None
}

/// Span events whose attributes (other than structural ones) are content: OTel <= 1.27
/// `gen_ai.content.*` and the 1.28–1.36 message events.
pub fn is_content_event(name: &str) -> bool {
    name.starts_with("gen_ai.content.")
        || matches!(
            name,
            "gen_ai.system.message"
                | "gen_ai.user.message"
                | "gen_ai.assistant.message"
                | "gen_ai.tool.message"
                | "gen_ai.choice"
        )
}

/// Classifies an attribute of a content event.
pub fn event_kind(key: &str) -> Option<Kind> {
    kind(key).or_else(|| (!structural(key)).then_some(Kind::Message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions() {
        for k in [
            "gen_ai.input.messages",
            "gen_ai.prompt.0.content",
            "gen_ai.completion.2.tool_calls.0.arguments",
            "llm.input_messages.1.message.content",
            "llm.output_messages.0.message.contents.0.message_content.text",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
            "input.value",
            "ai.prompt.messages",
            "ai.response.text",
            "traceloop.entity.output",
        ] {
            assert_eq!(kind(k), Some(Kind::Message), "{k}");
        }
        for k in [
            "gen_ai.prompt.0.role",
            "llm.input_messages.0.message.role",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name",
            "gen_ai.request.model",
            "gen_ai.prompt_tokens",
            "input.mime_type",
        ] {
            assert_eq!(kind(k), None, "{k}");
        }
        assert_eq!(kind("llm.headers"), Some(Kind::Headers));
        assert!(is_content_event("gen_ai.content.prompt"));
        assert!(is_content_event("gen_ai.choice"));
        assert_eq!(event_kind("message"), Some(Kind::Message));
        assert_eq!(event_kind("gen_ai.system"), None);
    }
}
