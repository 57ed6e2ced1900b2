package genaitailsamplingprocessor

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// splitInput builds traces spread over several resources and scopes, as the engine's release
// groups them: trace t has spans in every resource/scope pair.
func splitInput(resources, scopes, traces, spansPer, pad int) ptrace.Traces {
	td := ptrace.NewTraces()
	val := strings.Repeat("p", pad)
	n := uint64(0)
	for r := 0; r < resources; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", r))
		rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		for s := 0; s < scopes; s++ {
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName(fmt.Sprintf("scope-%d", s))
			ss.Scope().SetVersion("1.0")
			for tr := 0; tr < traces; tr++ {
				for k := 0; k < spansPer; k++ {
					sp := ss.Spans().AppendEmpty()
					var tid pcommon.TraceID
					binary.BigEndian.PutUint64(tid[8:], uint64(tr+1))
					sp.SetTraceID(tid)
					n++
					var sid pcommon.SpanID
					binary.BigEndian.PutUint64(sid[:], n)
					sp.SetSpanID(sid)
					sp.SetName("op")
					sp.Attributes().PutStr("pad", val)
				}
			}
		}
	}
	return td
}

type placed struct {
	resource, scope, version, schema string
}

func whereIsEachSpan(td ptrace.Traces) map[pcommon.SpanID]placed {
	out := map[pcommon.SpanID]placed{}
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		svc, _ := rs.Resource().Attributes().Get("service.name")
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				out[spans.At(k).SpanID()] = placed{svc.Str(), ss.Scope().Name(), ss.Scope().Version(), rs.SchemaUrl()}
			}
		}
	}
	return out
}

func TestSplitKeepsResourceAndScopeAndBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  chunkLimits
		pad  int
	}{
		{"by spans", chunkLimits{maxSpans: 7, maxBytes: 64 << 10}, 10},
		{"by bytes", chunkLimits{maxSpans: 8192, maxBytes: 64 << 10}, 900},
		{"one span per chunk", chunkLimits{maxSpans: 1, maxBytes: 64 << 10}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			td := splitInput(3, 2, 20, 5, tc.pad)
			want := whereIsEachSpan(td)
			var m ptrace.ProtoMarshaler
			got := map[pcommon.SpanID]placed{}
			traceCalls := map[pcommon.TraceID]int{}
			plan := planChunks(td, tc.lim)
			for _, refs := range plan {
				chunk := buildChunk(td, refs)
				require.LessOrEqual(t, chunk.SpanCount(), tc.lim.maxSpans)
				require.LessOrEqual(t, m.TracesSize(chunk), tc.lim.maxBytes)
				ids := map[pcommon.TraceID]struct{}{}
				for id, pl := range whereIsEachSpan(chunk) {
					_, dup := got[id]
					require.False(t, dup, "span in two chunks")
					got[id] = pl
				}
				forEachSpanOf(chunk, func(sp ptrace.Span) { ids[sp.TraceID()] = struct{}{} })
				for id := range ids {
					traceCalls[id]++
				}
			}
			assert.Equal(t, want, got, "every span once, under its own resource, scope and schema URL")
			if tc.lim.maxSpans >= 30 && tc.pad < 100 {
				for id, n := range traceCalls {
					assert.Equal(t, 1, n, "trace %v fits a chunk and is not split", id)
				}
			}
			t.Logf("%d spans in %d chunks", len(want), len(plan))
		})
	}
}

func TestSplitSendsAnOversizedSpanAlone(t *testing.T) {
	td := splitInput(1, 1, 1, 3, 100<<10)
	plan := planChunks(td, chunkLimits{maxSpans: 100, maxBytes: 64 << 10})
	require.Len(t, plan, 3)
	for _, refs := range plan {
		assert.Len(t, refs, 1)
	}
}

func forEachSpanOf(td ptrace.Traces, fn func(ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				fn(spans.At(k))
			}
		}
	}
}

// The splitting's cost beside what a release already does: decoding the engine's bytes.
func BenchmarkSplit30kSpanTrace(b *testing.B) {
	td := splitInput(1, 1, 1, 30000, 1000)
	buf, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(b, err)
	var u ptrace.ProtoUnmarshaler
	b.Run("decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_, _ = u.UnmarshalTraces(buf)
		}
	})
	b.Run("decode+split", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			d, _ := u.UnmarshalTraces(buf)
			for _, refs := range planChunks(d, chunkLimits{maxSpans: defaultReleaseMaxSpans, maxBytes: defaultReleaseMaxBytes}) {
				_ = buildChunk(d, refs)
			}
		}
	})
}
