package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

// recordRunCosts records each run's cost (sent by the engine as one gauge point per run, see
// src/sampling/trace_cost.rs) in the cost-per-trace histogram.
func (p *tailSampler) recordRunCosts(ctx context.Context, md pmetric.Metrics) {
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				if m.Name() != "tollbooth.trace.cost" || m.Type() != pmetric.MetricTypeGauge {
					continue
				}
				pts := m.Gauge().DataPoints()
				for n := 0; n < pts.Len(); n++ {
					pt := pts.At(n)
					svc, _ := pt.Attributes().Get("service.name")
					root, _ := pt.Attributes().Get("tollbooth.trace.root")
					p.telemetry.ProcessorGenaiTailSamplingTraceCost.Record(ctx, pt.DoubleValue(),
						metric.WithAttributeSet(attribute.NewSet(
							attribute.String("service.name", svc.Str()),
							attribute.String("tollbooth.trace.root", root.Str()))))
				}
			}
		}
	}
}

func withAttr(key, value string) metric.ObserveOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String(key, value)))
}

// policyReader reads each policy's tallies into memory allocated once, at start, so a
// collection allocates nothing. Callbacks may run concurrently; mu guards the buffer.
type policyReader struct {
	names []string
	mu    sync.Mutex
	buf   []engine.PolicyCounters
}

func newPolicyReader(eng *engine.Engine) (*policyReader, error) {
	report, err := eng.Report()
	if err != nil {
		return nil, err
	}
	r := &policyReader{}
	if report.Sampling != nil {
		for _, p := range report.Sampling.Policies {
			r.names = append(r.names, p.Name)
		}
	}
	r.buf = make([]engine.PolicyCounters, len(r.names))
	return r, nil
}

// each calls fn with every policy's name and tallies, read from the engine now.
func (r *policyReader) each(eng *engine.Engine, fn func(name string, c *engine.PolicyCounters)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := eng.ReadPolicies(r.buf)
	if err != nil {
		return
	}
	for i := 0; i < n; i++ {
		fn(r.names[i], &r.buf[i])
	}
}

// registerCallback exposes the engine's sampling counters through the async instruments.
// One callback serves them all: it reads the counters once (one cgo call into a struct, no
// JSON) when the collector collects its telemetry, so every instrument of one collection
// comes from one reading and the span books balance (tests/e2e/selfmetrics.py). Nothing is
// read per batch or per release.
func (p *tailSampler) registerCallback(meter metric.Meter) (metric.Registration, error) {
	tb := p.telemetry
	return base.RegisterCounters(meter, p.Engine, func(c *engine.Counters, o metric.Observer) {
		s := &c.Sampling
		obs := func(inst metric.Int64Observable, n uint64, opts ...metric.ObserveOption) {
			o.ObserveInt64(inst, int64(n), opts...)
		}
		for _, d := range [...]struct {
			decision      string
			traces, spans uint64
		}{
			{"sampled", s.TracesSampled, s.SpansSampled},
			{"not_sampled", s.TracesNotSampled, s.SpansNotSampled},
			{"dropped", s.TracesDropped, s.SpansDropped},
			{"dropped_on_shutdown", s.ShutdownDroppedTraces, s.ShutdownDroppedSpans},
		} {
			obs(tb.ProcessorGenaiTailSamplingTraces, d.traces, withAttr("decision", d.decision))
			obs(tb.ProcessorGenaiTailSamplingSpans, d.spans, withAttr("decision", d.decision))
		}
		p.policies.each(p.Engine, func(name string, ps *engine.PolicyCounters) {
			for _, d := range [...]struct {
				name string
				n    uint64
			}{
				{"sampled", ps.TracesSampled},
				{"not_sampled", ps.TracesNotSampled},
				{"dropped", ps.TracesDropped},
				{"invert_sampled", ps.TracesInvertSampled},
				{"invert_not_sampled", ps.TracesInvertNotSampled},
			} {
				obs(tb.ProcessorGenaiTailSamplingPolicyTraces, d.n, metric.WithAttributeSet(attribute.NewSet(
					attribute.String("policy", name), attribute.String("decision", d.name))))
			}
			obs(tb.ProcessorGenaiTailSamplingPolicyTracesKept, ps.TracesKept, withAttr("policy", name))
		})
		obs(tb.ProcessorGenaiTailSamplingEarlyDecisions, s.EarlyDecisionsBudget, withAttr("reason", "budget"))
		obs(tb.ProcessorGenaiTailSamplingEarlyDecisions, s.EarlyDecisionsRoot, withAttr("reason", "root"))
		obs(tb.ProcessorGenaiTailSamplingEarlyDecisions, s.EarlyDecisionsOversize, withAttr("reason", "oversize"))
		obs(tb.ProcessorGenaiTailSamplingLateSpans, s.LateSpansSampled, withAttr("decision", "sampled"))
		obs(tb.ProcessorGenaiTailSamplingLateSpans, s.LateSpansDropped, withAttr("decision", "dropped"))
		recorded := s.RunsWithLLMCalls - min(s.RunsWithLLMCalls, s.RunsCostIncomplete+s.RunCostsDropped)
		obs(tb.ProcessorGenaiTailSamplingRuns, recorded, withAttr("outcome", "recorded"))
		obs(tb.ProcessorGenaiTailSamplingRuns, s.RunsCostIncomplete, withAttr("outcome", "incomplete"))
		obs(tb.ProcessorGenaiTailSamplingRuns, s.RunsRootMissing, withAttr("outcome", "root_missing"))
		obs(tb.ProcessorGenaiTailSamplingRuns, s.RunCostsDropped, withAttr("outcome", "queue_full"))
		obs(tb.ProcessorGenaiTailSamplingTracesBuffered, s.TracesBuffered)
		obs(tb.ProcessorGenaiTailSamplingSpansBuffered, s.SpansBuffered)
		obs(tb.ProcessorGenaiTailSamplingBytesBuffered, s.BytesBuffered)
		obs(tb.ProcessorGenaiTailSamplingMemoryBytes, s.MemoryBytes)
		obs(tb.ProcessorGenaiTailSamplingDecisionCacheEntries, s.DecisionCacheEntries)
		o.ObserveInt64(tb.ProcessorGenaiTailSamplingMaxBufferedBytes, p.maxBytes)
		obs(tb.ProcessorGenaiTailSamplingDecisionLatencySum, s.DecisionAgeMs.Sum)
		obs(tb.ProcessorGenaiTailSamplingDecisionLatencyCount, s.DecisionAgeMs.Count)
		obs(tb.ProcessorGenaiTailSamplingDecisionLatencyMax, s.DecisionAgeMs.Max)
	},
		tb.ProcessorGenaiTailSamplingTraces, tb.ProcessorGenaiTailSamplingSpans,
		tb.ProcessorGenaiTailSamplingPolicyTraces, tb.ProcessorGenaiTailSamplingPolicyTracesKept,
		tb.ProcessorGenaiTailSamplingEarlyDecisions, tb.ProcessorGenaiTailSamplingLateSpans,
		tb.ProcessorGenaiTailSamplingRuns, tb.ProcessorGenaiTailSamplingTracesBuffered,
		tb.ProcessorGenaiTailSamplingSpansBuffered, tb.ProcessorGenaiTailSamplingBytesBuffered,
		tb.ProcessorGenaiTailSamplingMemoryBytes, tb.ProcessorGenaiTailSamplingDecisionCacheEntries,
		tb.ProcessorGenaiTailSamplingMaxBufferedBytes, tb.ProcessorGenaiTailSamplingDecisionLatencySum,
		tb.ProcessorGenaiTailSamplingDecisionLatencyCount, tb.ProcessorGenaiTailSamplingDecisionLatencyMax,
	)
}
