// The Vercel AI SDK client of tests/e2e/test_instrumentations.py, in the shape of
// instr_client.py: node client.mjs OTLP_HTTP_ENDPOINT FAKE_LLM_URL
//
// AI SDK telemetry (experimental_telemetry) traces one generateText and one streamText call
// through the OpenAI provider's Chat Completions API against the fake provider, and exports
// each span as it ends over OTLP/HTTP protobuf. The SDK's own ai.generateText / ai.streamText
// spans wrap the model calls (ai.*.doGenerate / ai.*.doStream) and repeat their usage.
import { createOpenAI } from "@ai-sdk/openai";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { generateText, streamText } from "ai";

const [endpoint, base] = process.argv.slice(2);
const CALLS = [
  ["o3-mini", false],
  ["gpt-4o", true],
];

const provider = new TracerProvider({
  resource: resourceFromAttributes({ "service.name": "instr-aisdk", "test.library": "aisdk" }),
  spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }) })],
});
const tracer = provider.getTracer("tollbooth.e2e.aisdk");
const openai = createOpenAI({ baseURL: `${base}/v1`, apiKey: "sk-fake-key-for-tests" });
const telemetry = { isEnabled: true, tracer, functionId: "tester" };

for (const [model, stream] of CALLS) {
  const args = {
    model: openai.chat(model),
    system: "You are a terse assistant.",
    prompt: "Say this is a test",
    maxRetries: 0,
    experimental_telemetry: telemetry,
  };
  if (stream) {
    const result = streamText(args);
    for await (const _ of result.textStream) {
      // drain
    }
    await result.usage;
  } else {
    await generateText(args);
  }
}
await provider.forceFlush();
await provider.shutdown();
console.log(JSON.stringify({ library: "aisdk", calls: CALLS, pid: process.pid }));
