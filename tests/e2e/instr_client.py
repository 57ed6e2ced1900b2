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
    # The libraries below run in their own venvs (.venv-instr-NAME; see the Makefile).
    "openlit": ("openai+anthropic", [("o3-mini", False), ("gpt-4o", True), ("claude-sonnet-4-5", False),
                                     ("claude-haiku-4-5", True)]),
    # pydantic-ai agents traced by logfire, with logfire.instrument_openai() on as well: each
    # model call is reported by pydantic-ai and by logfire's OpenAI instrumentation.
    "pyai-logfire": ("pydantic-ai", [("o3-mini", False), ("gpt-4o", True)]),
    # LangChain ChatOpenAI with OpenInference's LangChain and OpenAI instrumentors together.
    "langchain-openinference": ("langchain", [("o3-mini", False), ("gpt-4o", True)]),
    # LiteLLM's own OpenTelemetry callback (litellm.callbacks = ["otel"]).
    "litellm": ("litellm", [("o3-mini", False), ("gpt-4o", True)]),
}
LIBRARIES = tuple(CALLS)


def instrument(library: str, provider: TracerProvider) -> None:
    """Installs the library's instrumentation on the global tracer provider `provider`."""
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
    elif library == "langchain-openinference":
        from openinference.instrumentation.langchain import LangChainInstrumentor
        from openinference.instrumentation.openai import OpenAIInstrumentor

        LangChainInstrumentor().instrument(tracer_provider=provider)
        OpenAIInstrumentor().instrument(tracer_provider=provider)
    elif library == "litellm":
        import litellm

        # The callback traces on the global tracer provider.
        litellm.callbacks = ["otel"]
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


def call_langchain(base: str, model: str, stream: bool) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(model=model, base_url=f"{base}/v1", api_key="sk-fake-key-for-tests", max_retries=0,
                     stream_usage=True)
    messages = [("system", "You are a terse assistant."), ("user", "Say this is a test")]
    if stream:
        for _ in llm.stream(messages):
            pass
    else:
        llm.invoke(messages)


def call_litellm(base: str, model: str, stream: bool) -> None:
    import litellm

    kwargs = dict(
        model=f"openai/{model}",
        messages=[{"role": "system", "content": "You are a terse assistant."},
                  {"role": "user", "content": "Say this is a test"}],
        api_base=f"{base}/v1",
        api_key="sk-fake-key-for-tests",
    )
    if stream:
        for _ in litellm.completion(stream=True, stream_options={"include_usage": True}, **kwargs):
            pass
    else:
        litellm.completion(**kwargs)


def run_openlit(endpoint: str, base: str, calls) -> None:
    """OpenLIT sets up its own tracer provider and exporter; spans go out as they end."""
    import openlit

    openlit.init(otlp_endpoint=endpoint, service_name="instr-openlit", application_name="instr-openlit",
                 disable_batch=True, disable_metrics=True, disable_events=True)
    for model, stream in calls:
        if model.startswith("claude"):
            call_anthropic(base, model, stream)
        else:
            call_openai(base, model, stream)
    trace.get_tracer_provider().force_flush()


def run_pydantic_ai(endpoint: str, base: str, calls) -> None:
    """logfire's own SDK setup, exporting to the collector instead of Logfire's service; one
    agent run per call (the agent run is pydantic-ai's invoke_agent span)."""
    import asyncio

    import logfire
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    logfire.configure(
        send_to_logfire=False,
        console=False,
        service_name="instr-pyai-logfire",
        additional_span_processors=[SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))],
    )
    logfire.instrument_pydantic_ai()
    logfire.instrument_openai()
    provider = OpenAIProvider(base_url=f"{base}/v1", api_key="sk-fake-key-for-tests")
    for model, stream in calls:
        agent = Agent(OpenAIChatModel(model, provider=provider), instructions="You are a terse assistant.")
        if not stream:
            agent.run_sync("Say this is a test")
            continue

        async def streamed():
            async with agent.run_stream("Say this is a test") as run:
                async for _ in run.stream_text():
                    pass

        asyncio.run(streamed())
    logfire.force_flush()


def main() -> None:
    library, endpoint, base = sys.argv[1], sys.argv[2], sys.argv[3]
    provider_sdk, calls = CALLS[library]
    if library in ("openlit", "pyai-logfire"):
        (run_openlit if library == "openlit" else run_pydantic_ai)(endpoint, base, calls)
        print(json.dumps({"library": library, "calls": calls, "pid": os.getpid()}))
        return
    resource = Resource.create({"service.name": f"instr-{library}", "test.library": library})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    trace.set_tracer_provider(provider)
    instrument(library, provider)

    if library in ("langchain-openinference", "litellm"):
        # No wrapper. OpenInference's LangChain span is not made current, so the OpenAI span of
        # the same call starts a trace of its own (the pair is in different traces). LiteLLM,
        # inside a span, writes a call's attributes onto that span (gen_ai.operation.name
        # included) instead of opening its own, so a wrapper would become the call.
        for model, stream in calls:
            (call_litellm if library == "litellm" else call_langchain)(base, model, stream)
        provider.force_flush()
        provider.shutdown()
        print(json.dumps({"library": library, "calls": calls, "pid": os.getpid()}))
        return
    tracer = trace.get_tracer("tollbooth.e2e.agent")
    # A wrapper in the shape agent frameworks emit: it repeats its children's usage, so pricing it
    # would count the money twice.
    with tracer.start_as_current_span(
        "invoke_agent tester",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "tester",
            "gen_ai.provider.name": "openai" if provider_sdk == "litellm" else provider_sdk,
            "gen_ai.request.model": calls[0][0],
            "gen_ai.usage.input_tokens": 4000,
            "gen_ai.usage.output_tokens": 1000,
        },
    ):
        for model, stream in calls:
            if provider_sdk == "openai":
                call_openai(base, model, stream)
            elif provider_sdk == "litellm":
                call_litellm(base, model, stream)
            else:
                call_anthropic(base, model, stream)
    provider.force_flush()
    provider.shutdown()
    print(json.dumps({"library": library, "calls": calls, "pid": os.getpid()}))


if __name__ == "__main__":
    main()
