//go:build cgo

package engine

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func genaiBatch() ptrace.Traces {
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
	return td
}

func marshal(t *testing.T, td ptrace.Traces) []byte {
	buf, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return buf
}

func TestABIVersionMatchesHeader(t *testing.T) {
	assert.Equal(t, uint32(4), ABIVersion(), "ABI 4: edit ops 9-11 (span, event and scope names), raw keys")
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
	stats, err := eng.Stats()
	require.NoError(t, err)
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
	stats, _ := eng.Stats()
	assert.Equal(t, uint64(1), stats.BatchesUndecodable)
}

func TestCollectMetricsCountsCallsAcrossGoroutines(t *testing.T) {
	eng, err := New([]byte(`{"metrics": {}}`), time.Now())
	require.NoError(t, err)
	defer eng.Close()
	buf := marshal(t, genaiBatch())
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
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
	_, err = eng.Stats()
	assert.ErrorIs(t, err, ErrClosed)
}
