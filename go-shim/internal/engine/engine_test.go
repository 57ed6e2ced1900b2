//go:build cgo

package engine

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func genaiBatch() ptrace.Traces { return genaiBatchWithInput(120) }

// genaiBatchWithInput is one plain span and one chat call with the given input tokens (calls
// with the same usage and times are one call reported twice, and counted once).
func genaiBatchWithInput(input int64) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "checkout")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	plain := spans.AppendEmpty()
	plain.SetName("GET /health")
	chat := spans.AppendEmpty()
	chat.SetName("chat gpt-4o")
	chat.Attributes().PutStr("gen_ai.system", "openai")
	chat.Attributes().PutStr("gen_ai.operation.name", "chat")
	chat.Attributes().PutStr("gen_ai.request.model", "gpt-4o")
	chat.Attributes().PutInt("gen_ai.usage.input_tokens", input)
	chat.Attributes().PutInt("gen_ai.usage.output_tokens", 30)
	return td
}

func marshal(t *testing.T, td ptrace.Traces) []byte {
	buf, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return buf
}

func TestABIVersionMatchesHeader(t *testing.T) {
	assert.Equal(t, uint32(6), ABIVersion(), "ABI 6: counters read into caller-owned structs (TollboothStats)")
}

func TestNewRejectsBadConfigWithTheFieldName(t *testing.T) {
	_, err := New([]byte(`{"normalize": {"write_latest_name": true}}`), time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write_latest_name")
	var engErr *Error
	require.ErrorAs(t, err, &engErr)
	assert.Equal(t, StatusInvalidConfig, engErr.Status)
}

func TestProcessReturnsEditsThatApply(t *testing.T) {
	eng, err := New(nil, time.Now())
	require.NoError(t, err)
	defer eng.Close()
	td := genaiBatch()
	var res EditResult
	require.NoError(t, eng.Process(marshal(t, td), time.Now(), func(edits []byte) error {
		res, err = ApplyEdits(td, edits)
		return err
	}))
	assert.Equal(t, 1, res.Applied)
	chat := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
	v, ok := chat.Attributes().Get("gen_ai.provider.name")
	require.True(t, ok)
	assert.Equal(t, "openai", v.Str())
	var stats Counters
	require.NoError(t, eng.ReadCounters(&stats))
	assert.Equal(t, uint64(2), stats.SpansProcessed)
	assert.Equal(t, uint64(1), stats.GenAISpans)
}

// Go's pdata carries invalid UTF-8 in strings. The engine reads it like any other value; only
// bytes that are not protobuf at all are a decode error.
func TestInvalidUTF8IsReadAndOnlyGarbageIsADecodeError(t *testing.T) {
	eng, err := New(nil, time.Now())
	require.NoError(t, err)
	defer eng.Close()
	td := genaiBatch()
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().PutStr("prompt", "bad \xff\xfe")
	var res EditResult
	err = eng.Process(marshal(t, td), time.Now(), func(edits []byte) (applyErr error) {
		res, applyErr = ApplyEdits(td, edits)
		return applyErr
	})
	require.NoError(t, err)
	assert.Positive(t, res.Applied, "the batch was enriched")
	err = eng.Process([]byte{0xff, 0xff, 0xff}, time.Now(), func([]byte) error { return nil })
	var engErr *Error
	require.ErrorAs(t, err, &engErr)
	assert.Equal(t, StatusDecodeError, engErr.Status)
	assert.True(t, strings.Contains(engErr.Message, "malformed"), engErr.Message)
	var stats Counters
	require.NoError(t, eng.ReadCounters(&stats))
	assert.Equal(t, uint64(1), stats.BatchesUndecodable)
}

func TestCollectMetricsCountsCallsAcrossGoroutines(t *testing.T) {
	eng, err := New([]byte(`{"metrics": {}}`), time.Now())
	require.NoError(t, err)
	defer eng.Close()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				buf := marshal(t, genaiBatchWithInput(int64(1000*g+i+1)))
				assert.NoError(t, eng.Process(buf, time.Now(), func([]byte) error { return nil }))
			}
		}()
	}
	wg.Wait()
	var md pmetric.Metrics
	require.NoError(t, eng.CollectMetrics(time.Now(), func(b []byte) error {
		md, err = (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(b)
		return err
	}))
	ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	found := false
	for i := 0; i < ms.Len(); i++ {
		if m := ms.At(i); m.Name() == "tollbooth.genai.requests" {
			found = true
			assert.Equal(t, int64(200), m.Sum().DataPoints().At(0).IntValue())
		}
	}
	assert.True(t, found, "tollbooth.genai.requests exported")
}

func TestCallsAfterCloseFailCleanly(t *testing.T) {
	eng, err := New(nil, time.Now())
	require.NoError(t, err)
	eng.Close()
	eng.Close()
	assert.ErrorIs(t, eng.Process(nil, time.Now(), func([]byte) error { return nil }), ErrClosed)
	_, err = eng.Report()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, eng.ReadCounters(&Counters{}), ErrClosed)
	_, err = eng.ReadPolicies(nil)
	assert.ErrorIs(t, err, ErrClosed)
}

// A span may carry the same attribute key twice (pdata keeps both entries). The secret in the
// second copy must not survive redaction through the real engine path: the edit for a key the
// map holds twice carries the every-copy bit, and Go removes every copy before the put.
func TestRedactionReachesEveryCopyOfADuplicatedKey(t *testing.T) {
	const secret = "tb-planted-4242"
	eng, err := New([]byte(`{"redaction": {"allow_all_keys": true, "blocked_values": ["tb-planted-[0-9]+"]}}`), time.Now())
	require.NoError(t, err)
	defer eng.Close()
	for name, values := range map[string][2]string{
		"secret in the second copy": {"harmless", secret},
		"secret in the first copy":  {secret, "harmless"},
		"secret in both copies":     {secret, "also " + secret},
	} {
		t.Run(name, func(t *testing.T) {
			td := genaiBatch()
			chat := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
			chat.Attributes().PutStr("noteA", values[0])
			chat.Attributes().PutStr("noteB", values[1])
			ev := chat.Events().AppendEmpty().Attributes()
			ev.PutStr("noteA", values[0])
			ev.PutStr("noteB", values[1])
			td.ResourceSpans().At(0).Resource().Attributes().PutStr("noteA", values[0])
			td.ResourceSpans().At(0).Resource().Attributes().PutStr("noteB", values[1])
			td = withDuplicateKey(t, td, "noteB", "noteA")
			chat = td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
			require.Len(t, copies(chat.Attributes(), "noteA"), 2)

			require.NoError(t, eng.Process(marshal(t, td), time.Now(), func(edits []byte) error {
				_, applyErr := ApplyEdits(td, edits)
				return applyErr
			}))
			out := marshal(t, td)
			assert.NotContains(t, string(out), "tb-planted-", "a copy of the duplicated key kept the secret")
			chat = td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1)
			for _, m := range []pcommon.Map{
				chat.Attributes(),
				chat.Events().At(0).Attributes(),
				td.ResourceSpans().At(0).Resource().Attributes(),
			} {
				got := copies(m, "noteA")
				require.Len(t, got, 1, "one redacted copy is left")
				assert.NotEqual(t, "harmless", got[0], "the value left is the redacted copy")
			}
		})
	}
}

// A share taken with Retain keeps the engine alive after its creator's Close; the last
// ReleaseShare frees it, and a freed engine gives no new share.
func TestSharesOutliveTheCreatorsClose(t *testing.T) {
	e, err := New([]byte(`{"metrics": {}}`), time.Unix(0, 0))
	require.NoError(t, err)
	require.True(t, e.Retain())
	e.Close()
	e.Close()
	require.NoError(t, e.Process(marshal(t, genaiBatch()), time.Unix(1, 0), func([]byte) error { return nil }),
		"a share holds the engine open")
	e.ReleaseShare()
	err = e.Process(marshal(t, genaiBatch()), time.Unix(2, 0), func([]byte) error { return nil })
	assert.ErrorIs(t, err, ErrClosed)
	assert.False(t, e.Retain())
	e.ReleaseShare() // unmatched: harmless
}
