//go:build cgo && tollbooth_source

package engine

import (
	"os"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cFields lists the fields of `typedef struct NAME {...} NAME;` in the header, in order.
func cFields(t *testing.T, header, name string) []string {
	body := regexp.MustCompile(`(?s)typedef struct ` + name + ` \{(.*?)\} ` + name + `;`).FindStringSubmatch(header)
	require.NotNil(t, body, "%s not in the header", name)
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^\s*uint64_t (\w+)(\[\w+\])?;`).FindAllStringSubmatch(body[1], -1) {
		out = append(out, m[1])
	}
	return out
}

// goFields lists the `c` tags of a struct in memory order, nested structs flattened (a
// nested field's tag is the prefix of its own fields' tags).
func goFields(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, goFields(f.Type, f.Tag.Get("c"))...)
			continue
		}
		out = append(out, prefix+f.Tag.Get("c"))
	}
	return out
}

// The engine writes TollboothStats into a Counters: every field must sit where the header
// puts it (the sizes are checked at compile time in engine_cgo.go).
func TestCountersMatchTheHeader(t *testing.T) {
	header, err := os.ReadFile("../../../include/tollbooth.h")
	require.NoError(t, err)
	assert.Equal(t, cFields(t, string(header), "TollboothStats"), goFields(reflect.TypeOf(Counters{}), ""))
	assert.Equal(t, cFields(t, string(header), "TollboothPolicyStats"), goFields(reflect.TypeOf(PolicyCounters{}), ""))
}

func TestReadCountersAfterKnownBatchesWithoutAllocating(t *testing.T) {
	eng, err := New([]byte(`{"cost": {}, "redaction": {"allow_all_keys": true, "detectors": ["email"]}}`), time.Now())
	require.NoError(t, err)
	defer eng.Close()
	for i := 0; i < 3; i++ {
		td := genaiBatchWithInput(int64(100 + i))
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(1).Attributes().PutStr("prompt", "to jane.doe@example.com")
		require.NoError(t, eng.Process(marshal(t, td), time.Now(), func([]byte) error { return nil }))
	}
	var c Counters
	require.NoError(t, eng.ReadCounters(&c))
	assert.Equal(t, uint64(3), c.BatchesProcessed)
	assert.Equal(t, uint64(6), c.SpansProcessed)
	assert.Equal(t, uint64(3), c.GenAIInferenceSpans)
	assert.Equal(t, uint64(3), c.CostPriced)
	assert.Equal(t, uint64(1), c.PricingCacheEntries)
	assert.Positive(t, c.RustHeapBytes)
	assert.Equal(t, uint64(6), c.Redaction.SpansSeen)

	// The names match the JSON report's, and so do the values.
	report, err := eng.Report()
	require.NoError(t, err)
	named := map[string]uint64{}
	c.Redaction.Named(func(name string, n uint64) { named[name] = n })
	assert.Equal(t, report.Redaction, named)
	assert.Equal(t, uint64(3), named["detected.email"])

	allocs := testing.AllocsPerRun(100, func() { _ = eng.ReadCounters(&c) })
	assert.Zero(t, allocs, "reading the counters allocates nothing")
}

func TestReadPoliciesInTheOrderTheReportNamesThem(t *testing.T) {
	eng, err := New([]byte(`{"sampling": {"decision_wait": "1s", "policies": [
		{"name": "all", "type": "always_sample"},
		{"name": "none", "type": "probabilistic", "probabilistic": {"sampling_percentage": 0}}]}}`), time.Now())
	require.NoError(t, err)
	defer eng.Close()
	start := time.Now()
	require.NoError(t, eng.Process(marshal(t, genaiBatch()), start, func([]byte) error { return nil }))
	require.NoError(t, eng.Release(start.Add(2*time.Second), false, func([]byte) error { return nil }))

	report, err := eng.Report()
	require.NoError(t, err)
	require.NotNil(t, report.Sampling)
	require.Len(t, report.Sampling.Policies, 2)
	assert.Equal(t, "none", report.Sampling.Policies[1].Name)
	var c Counters
	require.NoError(t, eng.ReadCounters(&c))
	assert.Equal(t, uint64(2), c.Sampling.Policies)
	assert.Equal(t, uint64(2), c.Sampling.SpansReceived)
	assert.Equal(t, uint64(1), c.Sampling.TracesSampled)
	dst := make([]PolicyCounters, 3)
	n, err := eng.ReadPolicies(dst)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, uint64(1), dst[0].TracesKept)
	assert.Equal(t, uint64(1), dst[1].TracesNotSampled)
	allocs := testing.AllocsPerRun(100, func() { _, _ = eng.ReadPolicies(dst) })
	assert.Zero(t, allocs)
}
