package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"context"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// samplingStats is the engine's sampling snapshot (src/sampling/telemetry.rs SamplingSnapshot);
// only the fields reported here are decoded.
type samplingStats struct {
	SpansReceived          uint64        `json:"spans_received"`
	TracesBuffered         uint64        `json:"traces_buffered"`
	SpansBuffered          uint64        `json:"spans_buffered"`
	BytesBuffered          uint64        `json:"bytes_buffered"`
	TracesSampled          uint64        `json:"traces_sampled"`
	TracesNotSampled       uint64        `json:"traces_not_sampled"`
	TracesDropped          uint64        `json:"traces_dropped"`
	SpansSampled           uint64        `json:"spans_sampled"`
	SpansNotSampled        uint64        `json:"spans_not_sampled"`
	SpansDropped           uint64        `json:"spans_dropped"`
	EarlyDecisionsBudget   uint64        `json:"early_decisions_budget"`
	EarlyDecisionsRoot     uint64        `json:"early_decisions_root"`
	EarlyDecisionsOversize uint64        `json:"early_decisions_oversize"`
	LateSpansSampled       uint64        `json:"late_spans_sampled"`
	LateSpansDropped       uint64        `json:"late_spans_dropped"`
	ShutdownDroppedTraces  uint64        `json:"shutdown_dropped_traces"`
	ShutdownDroppedSpans   uint64        `json:"shutdown_dropped_spans"`
	SpansPendingRelease    uint64        `json:"spans_pending_release"`
	SpansReleased          uint64        `json:"spans_released"`
	RunsWithLLMCalls       uint64        `json:"runs_with_llm_calls"`
	RunsCostIncomplete     uint64        `json:"runs_cost_incomplete"`
	RunsRootMissing        uint64        `json:"runs_root_missing"`
	RunCostsDropped        uint64        `json:"run_costs_dropped"`
	DecisionAgeMs          summary       `json:"decision_age_ms"`
	DecisionCacheEntries   uint64        `json:"decision_cache_entries"`
	MemoryBytes            uint64        `json:"memory_bytes"`
	Policies               []policyStats `json:"policies"`
}

type summary struct {
	Count uint64 `json:"count"`
	Sum   uint64 `json:"sum"`
	Max   uint64 `json:"max"`
}

type policyStats struct {
	Name                   string `json:"name"`
	TracesSampled          uint64 `json:"traces_sampled"`
	TracesNotSampled       uint64 `json:"traces_not_sampled"`
	TracesDropped          uint64 `json:"traces_dropped"`
	TracesInvertSampled    uint64 `json:"traces_invert_sampled"`
	TracesInvertNotSampled uint64 `json:"traces_invert_not_sampled"`
	TracesKept             uint64 `json:"traces_kept"`
}

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

// registerCallbacks exposes the last snapshot through the async instruments.
func (p *tailSampler) registerCallbacks() error {
	tb := p.telemetry
	gauge := func(f func(s *samplingStats) uint64) metric.Int64Callback {
		return func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(f(p.stats.Load())))
			return nil
		}
	}
	regs := []error{
		tb.RegisterProcessorGenaiTailSamplingTracesCallback(func(_ context.Context, o metric.Int64Observer) error {
			s := p.stats.Load()
			o.Observe(int64(s.TracesSampled), withAttr("decision", "sampled"))
			o.Observe(int64(s.TracesNotSampled), withAttr("decision", "not_sampled"))
			o.Observe(int64(s.TracesDropped), withAttr("decision", "dropped"))
			o.Observe(int64(s.ShutdownDroppedTraces), withAttr("decision", "dropped_on_shutdown"))
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingSpansCallback(func(_ context.Context, o metric.Int64Observer) error {
			s := p.stats.Load()
			o.Observe(int64(s.SpansSampled), withAttr("decision", "sampled"))
			o.Observe(int64(s.SpansNotSampled), withAttr("decision", "not_sampled"))
			o.Observe(int64(s.SpansDropped), withAttr("decision", "dropped"))
			o.Observe(int64(s.ShutdownDroppedSpans), withAttr("decision", "dropped_on_shutdown"))
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingPolicyTracesCallback(func(_ context.Context, o metric.Int64Observer) error {
			for _, ps := range p.stats.Load().Policies {
				for _, d := range []struct {
					name string
					n    uint64
				}{
					{"sampled", ps.TracesSampled},
					{"not_sampled", ps.TracesNotSampled},
					{"dropped", ps.TracesDropped},
					{"invert_sampled", ps.TracesInvertSampled},
					{"invert_not_sampled", ps.TracesInvertNotSampled},
				} {
					o.Observe(int64(d.n), metric.WithAttributeSet(attribute.NewSet(
						attribute.String("policy", ps.Name), attribute.String("decision", d.name))))
				}
			}
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingPolicyTracesKeptCallback(func(_ context.Context, o metric.Int64Observer) error {
			for _, ps := range p.stats.Load().Policies {
				o.Observe(int64(ps.TracesKept), withAttr("policy", ps.Name))
			}
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingEarlyDecisionsCallback(func(_ context.Context, o metric.Int64Observer) error {
			s := p.stats.Load()
			o.Observe(int64(s.EarlyDecisionsBudget), withAttr("reason", "budget"))
			o.Observe(int64(s.EarlyDecisionsRoot), withAttr("reason", "root"))
			o.Observe(int64(s.EarlyDecisionsOversize), withAttr("reason", "oversize"))
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingLateSpansCallback(func(_ context.Context, o metric.Int64Observer) error {
			s := p.stats.Load()
			o.Observe(int64(s.LateSpansSampled), withAttr("decision", "sampled"))
			o.Observe(int64(s.LateSpansDropped), withAttr("decision", "dropped"))
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingRunsCallback(func(_ context.Context, o metric.Int64Observer) error {
			s := p.stats.Load()
			recorded := s.RunsWithLLMCalls - min(s.RunsWithLLMCalls, s.RunsCostIncomplete+s.RunCostsDropped)
			o.Observe(int64(recorded), withAttr("outcome", "recorded"))
			o.Observe(int64(s.RunsCostIncomplete), withAttr("outcome", "incomplete"))
			o.Observe(int64(s.RunsRootMissing), withAttr("outcome", "root_missing"))
			o.Observe(int64(s.RunCostsDropped), withAttr("outcome", "queue_full"))
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingTracesBufferedCallback(gauge(func(s *samplingStats) uint64 { return s.TracesBuffered })),
		tb.RegisterProcessorGenaiTailSamplingSpansBufferedCallback(gauge(func(s *samplingStats) uint64 { return s.SpansBuffered })),
		tb.RegisterProcessorGenaiTailSamplingBytesBufferedCallback(gauge(func(s *samplingStats) uint64 { return s.BytesBuffered })),
		tb.RegisterProcessorGenaiTailSamplingMemoryBytesCallback(gauge(func(s *samplingStats) uint64 { return s.MemoryBytes })),
		tb.RegisterProcessorGenaiTailSamplingDecisionCacheEntriesCallback(gauge(func(s *samplingStats) uint64 { return s.DecisionCacheEntries })),
		tb.RegisterProcessorGenaiTailSamplingMaxBufferedBytesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(p.maxBytes)
			return nil
		}),
		tb.RegisterProcessorGenaiTailSamplingDecisionLatencySumCallback(gauge(func(s *samplingStats) uint64 { return s.DecisionAgeMs.Sum })),
		tb.RegisterProcessorGenaiTailSamplingDecisionLatencyCountCallback(gauge(func(s *samplingStats) uint64 { return s.DecisionAgeMs.Count })),
		tb.RegisterProcessorGenaiTailSamplingDecisionLatencyMaxCallback(gauge(func(s *samplingStats) uint64 { return s.DecisionAgeMs.Max })),
	}
	for _, err := range regs {
		if err != nil {
			return err
		}
	}
	return nil
}
