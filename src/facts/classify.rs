//! The one classifier: what a GenAI span is, for money. Cost prices only inference spans;
//! metrics count only them; sampling sums only them. Agent, workflow and wrapper spans repeat
//! their children's usage, so counting them would count a call twice.
//!
//! Markers and their sources: docs/genai-conventions.md, "Span kinds".

/// What a span is, for money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Kind {
    /// One model call (chat, completion, embeddings, ...): its usage is billed.
    Inference,
    /// A workflow, chain or SDK wrapper span, or a span reporting summed usage.
    Aggregate,
    /// An agent invocation (its model calls are its children).
    Agent,
    /// A tool execution.
    Tool,
    /// Another GenAI span (retrieval, guardrail, evaluator, unknown operation, ...).
    Other,
    /// No convention marks the span as GenAI.
    #[default]
    NotGenAi,
}

impl Kind {
    pub fn is_genai(self) -> bool {
        self != Kind::NotGenAi
    }

    /// Spans whose usage repeats their children's.
    pub fn repeats_children(self) -> bool {
        matches!(self, Kind::Aggregate | Kind::Agent)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Inference => "inference",
            Kind::Aggregate => "aggregate",
            Kind::Agent => "agent",
            Kind::Tool => "tool",
            Kind::Other => "other",
            Kind::NotGenAi => "not_genai",
        }
    }
}

/// The markers the classifier reads, as the span wrote them (bytes; compared exactly or
/// ignoring ASCII case where conventions vary).
#[derive(Debug, Default, Clone, Copy)]
pub struct Markers<'a> {
    pub span_name: &'a [u8],
    /// `gen_ai.operation.name`, else OpenLLMetry's `llm.request.type`.
    pub operation: Option<&'a [u8]>,
    pub openinference_kind: Option<&'a [u8]>,
    pub traceloop_kind: Option<&'a [u8]>,
    pub ai_sdk_operation: Option<&'a [u8]>,
    pub langfuse_type: Option<&'a [u8]>,
    /// pydantic-ai's `gen_ai.aggregated_usage.*`.
    pub aggregated_usage: bool,
}

/// Classifies a span already recognised as GenAI. The most specific marker decides: summed
/// usage, then the Langfuse SDK's explicit type, the AI SDK operation, the OpenInference
/// kind, the OTel operation, the Traceloop decorator kind, the span name; a span naming a
/// provider or model and nothing else is a model call.
pub fn classify(m: &Markers<'_>) -> Kind {
    if m.aggregated_usage {
        return Kind::Aggregate;
    }
    if let Some(t) = m.langfuse_type {
        return match t {
            b"generation" | b"embedding" => Kind::Inference,
            b"agent" => Kind::Agent,
            b"tool" => Kind::Tool,
            b"chain" | b"span" => Kind::Aggregate,
            _ => Kind::Other,
        };
    }
    if let Some(op) = m.ai_sdk_operation {
        // `ai.generateText.doGenerate` is the provider call; `ai.generateText` wraps it.
        return if op.ends_with(b".doGenerate")
            || op.ends_with(b".doStream")
            || op.ends_with(b".doEmbed")
        {
            Kind::Inference
        } else if op.starts_with(b"ai.toolCall") {
            Kind::Tool
        } else {
            Kind::Aggregate
        };
    }
    if let Some(k) = m.openinference_kind {
        let is = |s: &str| k.eq_ignore_ascii_case(s.as_bytes());
        return if is("LLM") || is("EMBEDDING") {
            Kind::Inference
        } else if is("AGENT") {
            Kind::Agent
        } else if is("CHAIN") {
            Kind::Aggregate
        } else if is("TOOL") {
            Kind::Tool
        } else {
            Kind::Other
        };
    }
    if let Some(op) = m.operation {
        return match op {
            b"chat" | b"text_completion" | b"generate_content" | b"embeddings" | b"completion"
            | b"embedding" | b"generate" | b"rerank" => Kind::Inference,
            b"invoke_agent" | b"create_agent" => Kind::Agent,
            // Spring AI's ChatClient span wraps the model call that carries the same usage.
            b"invoke_workflow" | b"framework" => Kind::Aggregate,
            b"execute_tool" => Kind::Tool,
            _ => Kind::Other,
        };
    }
    if let Some(k) = m.traceloop_kind {
        return match k {
            b"workflow" | b"task" => Kind::Aggregate,
            b"agent" => Kind::Agent,
            b"tool" => Kind::Tool,
            _ => Kind::Other,
        };
    }
    if m.span_name.starts_with(b"invoke_agent") {
        return Kind::Agent;
    }
    Kind::Inference
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut Markers<'static>)) -> Kind {
        let mut m = Markers::default();
        f(&mut m);
        classify(&m)
    }

    #[test]
    fn tools_agents_workflows_and_calls_from_every_convention() {
        // Tools.
        assert_eq!(with(|m| m.operation = Some(b"execute_tool")), Kind::Tool);
        assert_eq!(with(|m| m.openinference_kind = Some(b"TOOL")), Kind::Tool);
        assert_eq!(
            with(|m| m.ai_sdk_operation = Some(b"ai.toolCall")),
            Kind::Tool
        );
        assert_eq!(with(|m| m.traceloop_kind = Some(b"tool")), Kind::Tool);
        assert_eq!(with(|m| m.langfuse_type = Some(b"tool")), Kind::Tool);
        // Agents.
        assert_eq!(with(|m| m.operation = Some(b"invoke_agent")), Kind::Agent);
        assert_eq!(with(|m| m.openinference_kind = Some(b"agent")), Kind::Agent);
        assert_eq!(with(|m| m.traceloop_kind = Some(b"agent")), Kind::Agent);
        assert_eq!(with(|m| m.langfuse_type = Some(b"agent")), Kind::Agent);
        assert_eq!(with(|m| m.span_name = b"invoke_agent planner"), Kind::Agent);
        // Workflows and wrappers.
        assert_eq!(
            with(|m| m.operation = Some(b"invoke_workflow")),
            Kind::Aggregate
        );
        assert_eq!(
            with(|m| m.openinference_kind = Some(b"CHAIN")),
            Kind::Aggregate
        );
        assert_eq!(
            with(|m| m.traceloop_kind = Some(b"workflow")),
            Kind::Aggregate
        );
        assert_eq!(
            with(|m| m.ai_sdk_operation = Some(b"ai.generateText")),
            Kind::Aggregate
        );
        assert_eq!(with(|m| m.operation = Some(b"framework")), Kind::Aggregate);
        // Summed usage wins over everything (pydantic-ai agent runs).
        assert_eq!(
            with(|m| {
                m.aggregated_usage = true;
                m.operation = Some(b"chat")
            }),
            Kind::Aggregate
        );
        // Model calls.
        assert_eq!(
            with(|m| m.ai_sdk_operation = Some(b"ai.streamText.doStream")),
            Kind::Inference
        );
        assert_eq!(
            with(|m| m.langfuse_type = Some(b"generation")),
            Kind::Inference
        );
        assert_eq!(with(|m| m.operation = Some(b"chat")), Kind::Inference);
        assert_eq!(with(|_| ()), Kind::Inference);
        assert_eq!(with(|m| m.operation = Some(b"retrieval")), Kind::Other);
    }
}
