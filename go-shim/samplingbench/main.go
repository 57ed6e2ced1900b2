// Command samplingbench measures genai_tail_sampling beside contrib's tail_sampling on the same
// generated input and the same policy list, one implementation per process (so memory is not
// shared between them):
//
//	samplingbench -impl tollbooth|contrib -mode cpu|mem -traces N
//
// cpu: ingest every trace as fast as possible, wait until every decision is made and forwarded,
// and report traces per CPU-second of this process (user+system, all threads: Go and Rust).
// mem: ingest with a decision_wait long enough that nothing is decided, then report the growth
// of the resident set per buffered span (Go heap and Rust heap alike).
// Output: one JSON line. `make bench-sampling` runs both and prints the ratios.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	tailsampling "github.com/open-telemetry/opentelemetry-collector-contrib/processor/tailsamplingprocessor"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"
)

const (
	spansPerTrace  = 10
	tracesPerBatch = 100
)

// policies is one contrib policy list, used unchanged by both implementations.
func policies() []any {
	return []any{
		map[string]any{"name": "drop-health", "type": "drop", "drop": map[string]any{"drop_sub_policy": []any{
			map[string]any{"name": "h", "type": "string_attribute", "string_attribute": map[string]any{"key": "url.path", "values": []any{"/health"}}}}}},
		map[string]any{"name": "errors", "type": "status_code", "status_code": map[string]any{"status_codes": []any{"ERROR"}}},
		map[string]any{"name": "slow", "type": "latency", "latency": map[string]any{"threshold_ms": 5000}},
		map[string]any{"name": "big", "type": "numeric_attribute", "numeric_attribute": map[string]any{"key": "gen_ai.usage.output_tokens", "min_value": 4105, "max_value": 1000000}},
		map[string]any{"name": "models", "type": "string_attribute", "string_attribute": map[string]any{"key": "gen_ai.request.model", "values": []any{"^o3-pro.*", "^claude-opus-4-1.*"}, "enabled_regex_matching": true}},
		map[string]any{"name": "rest", "type": "probabilistic", "probabilistic": map[string]any{"sampling_percentage": 10, "hash_salt": "bench"}},
	}
}

type countingSink struct{ spans atomic.Int64 }

func (s *countingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (s *countingSink) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	s.spans.Add(int64(td.SpanCount()))
	return nil
}

func batches(traces int) []ptrace.Traces {
	models := []string{"gpt-4o-mini", "gpt-5", "claude-sonnet-4", "claude-opus-4", "gemini-2.5-flash"}
	var out []ptrace.Traces
	const start = 1_760_000_000_000_000_000
	for b := 0; b*tracesPerBatch < traces; b++ {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "support-agent")
		rs.Resource().Attributes().PutStr("deployment.environment.name", "prod")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("opentelemetry.instrumentation.openai_v2")
		for t := b * tracesPerBatch; t < (b+1)*tracesPerBatch && t < traces; t++ {
			var tid pcommon.TraceID
			binary.BigEndian.PutUint64(tid[:8], uint64(t)*0x9e3779b97f4a7c15)
			binary.BigEndian.PutUint64(tid[8:], uint64(t)+1)
			for i := 0; i < spansPerTrace; i++ {
				s := ss.Spans().AppendEmpty()
				s.SetTraceID(tid)
				var sid pcommon.SpanID
				binary.BigEndian.PutUint64(sid[:], uint64(t)<<8|uint64(i+1))
				s.SetSpanID(sid)
				if i > 0 {
					var p pcommon.SpanID
					binary.BigEndian.PutUint64(p[:], uint64(t)<<8|1)
					s.SetParentSpanID(p)
				}
				s.SetName("chat " + models[(t+i)%len(models)])
				s.SetKind(ptrace.SpanKindClient)
				base := pcommon.Timestamp(start + uint64(t)*1_000_000_000 + uint64(i)*10_000_000)
				s.SetStartTimestamp(base)
				s.SetEndTimestamp(base + pcommon.Timestamp(uint64(50+(t*7+i*13)%900)*1_000_000))
				a := s.Attributes()
				a.PutStr("gen_ai.operation.name", "chat")
				a.PutStr("gen_ai.provider.name", "openai")
				a.PutStr("gen_ai.request.model", models[(t+i)%len(models)])
				a.PutInt("gen_ai.usage.input_tokens", int64(100+(t*31+i)%3000))
				a.PutInt("gen_ai.usage.output_tokens", int64(10+(t*17+i)%4100))
				a.PutStr("server.address", "api.openai.com")
				a.PutStr("http.request.method", "POST")
				a.PutInt("http.response.status_code", 200)
				a.PutStr("gen_ai.response.id", fmt.Sprintf("chatcmpl-%08d-%02d", t, i))
				a.PutStr("gen_ai.response.finish_reasons", "stop")
				if (t+i)%97 == 0 {
					s.Status().SetCode(ptrace.StatusCodeError)
				}
			}
		}
		out = append(out, td)
	}
	return out
}

func newProcessor(impl string, decisionWait string, sink consumer.Traces) (processor.Traces, error) {
	raw := map[string]any{
		"decision_wait": decisionWait,
		"num_traces":    1_000_000,
		"policies":      policies(),
	}
	var f processor.Factory
	switch impl {
	case "contrib":
		f = tailsampling.NewFactory()
	case "tollbooth":
		f = genaitailsamplingprocessor.NewFactory()
		raw["max_buffered_bytes"] = 8 << 30
	default:
		return nil, fmt.Errorf("unknown -impl %q", impl)
	}
	cfg := f.CreateDefaultConfig()
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return nil, err
	}
	return f.CreateTraces(context.Background(), processortest.NewNopSettings(f.Type()), cfg, sink)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func main() {
	impl := flag.String("impl", "tollbooth", "tollbooth or contrib")
	mode := flag.String("mode", "cpu", "cpu or mem")
	traces := flag.Int("traces", 50_000, "traces to send")
	cpuProfile := flag.String("cpuprofile", "", "write a Go CPU profile here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*impl, *mode, *traces); err != nil {
		fmt.Fprintln(os.Stderr, err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(impl, mode string, traces int) error {
	input := batches(traces)
	spans := traces * spansPerTrace
	sink := &countingSink{}
	wait := "1s"
	if mode == "mem" {
		wait = "1h"
	}
	p, err := newProcessor(impl, wait, sink)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := p.Start(ctx, componenttest.NewNopHost()); err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	rss0, cpu0, t0 := rssBytes(), cpuSeconds(), time.Now()
	for _, td := range input {
		if err := p.ConsumeTraces(ctx, td); err != nil {
			return err
		}
	}
	res := map[string]any{"impl": impl, "mode": mode, "traces": traces, "spans": spans}
	switch mode {
	case "cpu":
		// Done when the kept spans stop growing well after the last decision is due.
		last, stable := int64(-1), 0
		for stable < 3 {
			time.Sleep(time.Second)
			if n := sink.spans.Load(); n == last && time.Since(t0) > 3*time.Second {
				stable++
			} else {
				last, stable = n, 0
			}
		}
		cpu := cpuSeconds() - cpu0
		res["cpu_seconds"] = cpu
		res["traces_per_cpu_second"] = float64(traces) / cpu
		res["spans_kept"] = sink.spans.Load()
	case "mem":
		time.Sleep(2 * time.Second) // contrib ingests on its own goroutine
		runtime.GC()
		debug.FreeOSMemory()
		grow := rssBytes() - rss0
		res["rss_growth_bytes"] = grow
		res["bytes_per_buffered_span"] = float64(grow) / float64(spans)
	default:
		return fmt.Errorf("unknown -mode %q", mode)
	}
	runtime.KeepAlive(input)
	if err := p.Shutdown(ctx); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
