"""One instrumented LLM application, run in its own process by test_instrumentations.py.

    python instr_client.py LIBRARY OTLP_HTTP_ENDPOINT FAKE_LLM_URL

LIBRARY is one of LIBRARIES below. The script installs that one instrumentation library on the
official provider SDK, exports spans with the OTel SDK's OTLP/HTTP exporter to the collector, wraps
its calls in a hand-written agent span (which the collector must not price), makes the calls listed
in CALLS against the fake provider, flushes, and prints one JSON line describing what it did.
Running each library in a fresh process keeps one library's global patching out of the others.
The anthropic SDK traces its own calls unless ANTHROPIC_OPEN_TELEMETRY=false (the test sets that
when it runs an instrumentation library on top, so each call has one span).
"""

import json
import os
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

# library -> (provider SDK, [(model, streaming)])
CALLS = {
    "openai-v2": ("openai", [("o3-mini", False), ("gpt-4o", True)]),
    "openllmetry-openai": ("openai", [("o3-mini", False), ("gpt-4o", True)]),
    "openllmetry-anthropic": ("anthropic", [("claude-sonnet-4-5", False), ("claude-haiku-4-5", True)]),
    "openinference-openai": ("openai", [("o3-mini", False), ("gpt-4o", True)]),
    # No instrumentation library: the spans the anthropic SDK itself emits (it has built-in OTel
    # tracing, on by default, through the global tracer provider).
    "anthropic-sdk": ("anthropic", [("claude-sonnet-4-5", False), ("claude-haiku-4-5", True)]),
}
LIBRARIES = tuple(CALLS)


def instrument(library: str, provider: TracerProvider) -> None:
    if library == "openai-v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)
    elif library == "openllmetry-openai":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)
    elif library == "openllmetry-anthropic":
        from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

        AnthropicInstrumentor().instrument(tracer_provider=provider)
    elif library == "openinference-openai":
        from openinference.instrumentation.openai import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=provider)
    elif library == "anthropic-sdk":
        pass
    else:
        raise SystemExit(f"unknown library {library!r}; one of {', '.join(LIBRARIES)}")


def call_openai(base: str, model: str, stream: bool) -> None:
    import openai

    client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-fake-key-for-tests", max_retries=0)
    messages = [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Say this is a test"},
    ]
    if not stream:
        client.chat.completions.create(model=model, messages=messages)
        return
    chunks = client.chat.completions.create(
        model=model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    for _ in chunks:
        pass


def call_anthropic(base: str, model: str, stream: bool) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=base, api_key="sk-ant-fake-key-for-tests", max_retries=0)
    kwargs = dict(
        model=model,
        max_tokens=1024,
        system=[{"type": "text", "text": "You are a terse assistant.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "Say this is a test"}],
    )
    if not stream:
        client.messages.create(**kwargs)
        return
    for _ in client.messages.create(stream=True, **kwargs):
        pass


def main() -> None:
    library, endpoint, base = sys.argv[1], sys.argv[2], sys.argv[3]
    provider_sdk, calls = CALLS[library]
    resource = Resource.create({"service.name": f"instr-{library}", "test.library": library})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    instrument(library, provider)

    tracer = trace.get_tracer("tollbooth.e2e.agent")
    # A wrapper in the shape agent frameworks emit: it repeats its children's usage, so pricing it
    # would count the money twice.
    with tracer.start_as_current_span(
        "invoke_agent tester",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "tester",
            "gen_ai.provider.name": provider_sdk,
            "gen_ai.request.model": calls[0][0],
            "gen_ai.usage.input_tokens": 4000,
            "gen_ai.usage.output_tokens": 1000,
        },
    ):
        for model, stream in calls:
            if provider_sdk == "openai":
                call_openai(base, model, stream)
            else:
                call_anthropic(base, model, stream)
    provider.force_flush()
    provider.shutdown()
    print(json.dumps({"library": library, "calls": calls, "pid": os.getpid()}))


if __name__ == "__main__":
    main()
