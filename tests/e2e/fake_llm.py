"""A fake LLM provider on loopback for the end-to-end tests.

Speaks just enough of two provider APIs for the official Python SDKs (and the instrumentation
libraries wrapped around them) to be pointed at it with a base URL:

  POST /v1/chat/completions   OpenAI Chat Completions (plain JSON, or SSE when "stream": true;
                              the usage chunk is sent when stream_options.include_usage is set)
  POST /v1/messages           Anthropic Messages (plain JSON, or SSE when "stream": true)

Every response carries a realistic usage block with cached and reasoning tokens. The token counts
are fixed per model (see USAGE) so a test can compute the expected cost independently. Every
request body is recorded in `FakeLLM.requests`.

Standard library only. Run it by hand with `python tests/e2e/fake_llm.py [port]`.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class OpenAIUsage:
    """OpenAI semantics: prompt_tokens INCLUDES cached_tokens; completion_tokens INCLUDES reasoning."""

    response_model: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int

    def block(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": self.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


@dataclass(frozen=True)
class AnthropicUsage:
    """Anthropic semantics: input_tokens EXCLUDES cache reads and cache writes; billed input is
    input + cache_read + cache_creation. Thinking tokens are inside output_tokens."""

    response_model: str
    input_tokens: int
    cache_read_input_tokens: int
    cache_creation_5m: int
    cache_creation_1h: int
    output_tokens: int

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.cache_creation_5m + self.cache_creation_1h

    def block(self, output_tokens: int | None = None) -> dict:
        return {
            "input_tokens": self.input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_creation_5m,
                "ephemeral_1h_input_tokens": self.cache_creation_1h,
            },
            "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
            "service_tier": "standard",
        }


# Token counts per requested model. The numbers are shaped like real traffic: a long cached system
# prompt, a reasoning model that spends most of its output thinking.
USAGE: dict[str, OpenAIUsage | AnthropicUsage] = {
    "o3-mini": OpenAIUsage("o3-mini-2025-01-31", prompt_tokens=2006, cached_tokens=1920,
                           completion_tokens=913, reasoning_tokens=768),
    "gpt-4o": OpenAIUsage("gpt-4o-2024-08-06", prompt_tokens=1536, cached_tokens=1024,
                          completion_tokens=187, reasoning_tokens=0),
    "gpt-4o-mini": OpenAIUsage("gpt-4o-mini-2024-07-18", prompt_tokens=12, cached_tokens=0,
                               completion_tokens=5, reasoning_tokens=0),
    "claude-sonnet-4-5": AnthropicUsage("claude-sonnet-4-5-20250929", input_tokens=57,
                                        cache_read_input_tokens=3072, cache_creation_5m=1536,
                                        cache_creation_1h=0, output_tokens=421),
    "claude-haiku-4-5": AnthropicUsage("claude-haiku-4-5-20251001", input_tokens=230,
                                       cache_read_input_tokens=0, cache_creation_5m=0,
                                       cache_creation_1h=2048, output_tokens=96),
}

REPLY = "This is a test."


def usage_for(model: str) -> OpenAIUsage | AnthropicUsage:
    if model in USAGE:
        return USAGE[model]
    for name, usage in USAGE.items():  # dated or decorated request names
        if model.startswith(name):
            return usage
    raise KeyError(model)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, fmt, *args):  # keep pytest output quiet
        pass

    def do_POST(self):  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(400, {"error": {"type": "invalid_request_error", "message": "bad JSON"}})
        path = self.path.split("?", 1)[0].rstrip("/")
        self.server.owner.requests.append({"path": path, "body": body, "headers": dict(self.headers)})
        model = str(body.get("model", ""))
        try:
            usage = usage_for(model)
        except KeyError:
            return self._json(404, {"error": {"type": "not_found_error", "message": f"model {model!r}"}})
        if path.endswith("/chat/completions") and isinstance(usage, OpenAIUsage):
            return self._openai_chat(body, usage)
        if path.endswith("/messages") and isinstance(usage, AnthropicUsage):
            return self._anthropic_messages(body, usage)
        return self._json(404, {"error": {"type": "not_found_error", "message": f"no route {path}"}})

    # ---- OpenAI ----
    def _openai_chat(self, body: dict, usage: OpenAIUsage):
        self.server.owner.counter += 1
        rid = f"chatcmpl-fake{self.server.owner.counter:06d}"
        created = int(time.time())
        common = {"id": rid, "created": created, "model": usage.response_model,
                  "system_fingerprint": "fp_fake0001", "service_tier": "default"}
        if not body.get("stream"):
            return self._json(200, dict(common, object="chat.completion", choices=[{
                "index": 0,
                "message": {"role": "assistant", "content": REPLY, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }], usage=usage.block()))
        chunk = dict(common, object="chat.completion.chunk")
        events = [dict(chunk, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                        "logprobs": None, "finish_reason": None}])]
        for word in REPLY.split(" "):
            events.append(dict(chunk, choices=[{"index": 0, "delta": {"content": word + " "},
                                                "logprobs": None, "finish_reason": None}]))
        events.append(dict(chunk, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(dict(chunk, choices=[], usage=usage.block()))
        lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
        self._sse("".join(lines))

    # ---- Anthropic ----
    def _anthropic_messages(self, body: dict, usage: AnthropicUsage):
        self.server.owner.counter += 1
        mid = f"msg_fake{self.server.owner.counter:06d}"
        message = {"id": mid, "type": "message", "role": "assistant", "model": usage.response_model,
                   "stop_reason": "end_turn", "stop_sequence": None}
        if not body.get("stream"):
            return self._json(200, dict(message, content=[{"type": "text", "text": REPLY}], usage=usage.block()))
        events = [
            ("message_start", {"type": "message_start", "message": dict(
                message, content=[], stop_reason=None, usage=usage.block(output_tokens=1))}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "text", "text": ""}}),
        ]
        for word in REPLY.split(" "):
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                   "delta": {"type": "text_delta", "text": word + " "}}))
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            # Like the real API, the final delta repeats the cumulative usage.
            ("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": usage.block()}),
            ("message_stop", {"type": "message_stop"}),
        ]
        self._sse("".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events))

    # ---- plumbing ----
    def _json(self, status: int, obj: dict):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_fake{self.server.owner.counter:06d}")
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, text: str):
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "FakeLLM"


class FakeLLM:
    """A running fake provider: `url` is the base (http://127.0.0.1:PORT); stop() shuts it down."""

    def __init__(self, port: int = 0):
        self.requests: list[dict] = []
        self.counter = 0
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    srv = FakeLLM(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"fake LLM on {srv.url}  (OpenAI base {srv.url}/v1, Anthropic base {srv.url})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.stop()
