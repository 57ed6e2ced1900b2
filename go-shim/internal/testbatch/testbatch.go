// Package testbatch builds the standard realistic GenAI batch used by benchmarks and tests:
// 8-span agent traces (an HTTP root, an agent span, three chat calls with usage and about 1 KB
// of prompt and 0.5 KB of completion content, two tool calls, one retrieval), 128 traces a
// batch (1024 spans). Content is deterministic so runs are comparable.
package testbatch

import (
	"encoding/binary"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// SpansPerTrace is the size of one agent trace.
const SpansPerTrace = 8

var models = []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"}

// text returns n bytes of prose-like content (with an email and a card-like number every so
// often, as real prompts have).
func text(seed, n int) string {
	words := []string{"please", "summarise", "the", "customer", "ticket", "about", "billing", "refund",
		"order", "#48213", "shipped", "late", "and", "reply", "politely", "with", "next", "steps"}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if i%37 == 0 {
			fmt.Fprintf(&b, "contact jane.doe%d@example.com ", seed)
			continue
		}
		b.WriteString(words[(seed+i)%len(words)])
		b.WriteByte(' ')
	}
	return b.String()[:n]
}

func ids(trace, span int) (pcommon.TraceID, pcommon.SpanID) {
	var t pcommon.TraceID
	binary.BigEndian.PutUint64(t[0:8], 0x7b0b0000+uint64(trace))
	binary.BigEndian.PutUint64(t[8:16], 0x9e3779b97f4a7c15*uint64(trace+1))
	var s pcommon.SpanID
	binary.BigEndian.PutUint64(s[:], uint64(trace)<<8|uint64(span+1))
	return t, s
}

// Batch returns `traces` agent traces in one ptrace.Traces (one resource, one scope).
func Batch(traces int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "support-agent")
	rs.Resource().Attributes().PutStr("deployment.environment.name", "prod")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("opentelemetry.instrumentation.openai_v2")
	ss.Scope().SetVersion("2.4b0")
	spans := ss.Spans()
	const start = 1_760_000_000_000_000_000
	for t := 0; t < traces; t++ {
		base := pcommon.Timestamp(start + uint64(t)*1_000_000_000)
		add := func(i int, parent int, name string, kind ptrace.SpanKind, durMs uint64) ptrace.Span {
			s := spans.AppendEmpty()
			tid, sid := ids(t, i)
			s.SetTraceID(tid)
			s.SetSpanID(sid)
			if parent >= 0 {
				_, psid := ids(t, parent)
				s.SetParentSpanID(psid)
			}
			s.SetName(name)
			s.SetKind(kind)
			s.SetStartTimestamp(base + pcommon.Timestamp(i)*1_000_000)
			s.SetEndTimestamp(base + pcommon.Timestamp(i)*1_000_000 + pcommon.Timestamp(durMs*1_000_000))
			return s
		}
		root := add(0, -1, "POST /v1/support", ptrace.SpanKindServer, 4200)
		root.Attributes().PutStr("http.request.method", "POST")
		root.Attributes().PutInt("http.response.status_code", 200)
		agent := add(1, 0, "invoke_agent support", ptrace.SpanKindInternal, 4100)
		agent.Attributes().PutStr("gen_ai.operation.name", "invoke_agent")
		agent.Attributes().PutStr("gen_ai.agent.name", "support")
		for c := 0; c < 3; c++ {
			model := models[(t+c)%len(models)]
			chat := add(2+c, 1, "chat "+model, ptrace.SpanKindClient, 900)
			a := chat.Attributes()
			a.PutStr("gen_ai.system", "openai")
			a.PutStr("gen_ai.operation.name", "chat")
			a.PutStr("gen_ai.request.model", model)
			a.PutStr("gen_ai.response.model", model)
			a.PutInt("gen_ai.usage.input_tokens", int64(900+t%50))
			a.PutInt("gen_ai.usage.output_tokens", int64(150+c))
			a.PutStr("gen_ai.response.finish_reasons", "stop")
			a.PutStr("gen_ai.prompt.0.role", "user")
			a.PutStr("gen_ai.prompt.0.content", text(t*3+c, 1024))
			a.PutStr("gen_ai.completion.0.role", "assistant")
			a.PutStr("gen_ai.completion.0.content", text(t*7+c, 512))
		}
		for k := 0; k < 2; k++ {
			tool := add(5+k, 1, "execute_tool lookup_order", ptrace.SpanKindInternal, 40)
			tool.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
			tool.Attributes().PutStr("gen_ai.tool.name", "lookup_order")
		}
		ret := add(7, 1, "retrieve kb", ptrace.SpanKindClient, 30)
		ret.Attributes().PutStr("db.system.name", "qdrant")
		ret.Attributes().PutInt("db.response.returned_rows", 5)
	}
	return td
}
