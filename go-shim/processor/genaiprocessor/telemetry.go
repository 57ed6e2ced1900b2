package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

// The engine's counters and gauges are asynchronous instruments served by one callback: it
// reads the engine's counters once (one cgo call into a struct, engine.Counters) when the
// collector collects its telemetry, and nothing is read per batch. Sums are observed as the
// engine's cumulative totals, and a series appears at its first non-zero value, as with the
// synchronous counters these replace. Failed-open, dropped and applied-edit counts stay
// synchronous: Go counts those events itself, per batch, and the engine never sees them.

func statusAttr(s string) metric.ObserveOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String("status", s)))
}

func (p *genaiProcessor) registerCallback(meter metric.Meter) (metric.Registration, error) {
	tb := p.telemetry
	return base.RegisterCounters(meter, p.Engine, func(c *engine.Counters, o metric.Observer) {
		sum := func(inst metric.Int64Observable, n uint64, opts ...metric.ObserveOption) {
			if n > 0 {
				o.ObserveInt64(inst, int64(n), opts...)
			}
		}
		gauge := func(inst metric.Int64Observable, n uint64) { o.ObserveInt64(inst, int64(n)) }
		sum(tb.ProcessorGenaiSpansRecognized, c.GenAISpans)
		sum(tb.ProcessorGenaiCostCalls, c.CostPriced, statusAttr("priced"))
		sum(tb.ProcessorGenaiCostCalls, c.CostUnpriced, statusAttr("unpriced"))
		sum(tb.ProcessorGenaiCostCalls, c.CostNoUsage, statusAttr("no_usage"))
		sum(tb.ProcessorGenaiCostCalls, c.CostProviderReported, statusAttr("provider_reported"))
		sum(tb.ProcessorGenaiCostCalls, c.CostEstimated, statusAttr("estimated"))
		sum(tb.ProcessorGenaiCostCalls, c.DuplicateCalls, statusAttr("duplicate"))
		sum(tb.ProcessorGenaiDedupeEvictions, c.DedupeWindowEvictions)
		sum(tb.ProcessorGenaiPricingReloads, c.PricingReloads)
		sum(tb.ProcessorGenaiPricingReloadErrors, c.PricingReloadErrors)
		p.redactions(c, func(name string, n uint64) {
			sum(tb.ProcessorGenaiRedactions, n, metric.WithAttributeSet(attribute.NewSet(attribute.String("detector", name))))
		})
		gauge(tb.ProcessorGenaiPricingCacheEntries, c.PricingCacheEntries)
		gauge(tb.ProcessorGenaiPricingCacheBytes, c.PricingCacheBytes)
		gauge(tb.ProcessorGenaiDedupeWindowEntries, c.DedupeWindowEntries)
		gauge(tb.ProcessorGenaiDedupeWindowBytes, c.DedupeWindowBytes)
		gauge(tb.ProcessorGenaiRustHeapBytes, c.RustHeapBytes)
	},
		tb.ProcessorGenaiSpansRecognized, tb.ProcessorGenaiCostCalls, tb.ProcessorGenaiDedupeEvictions,
		tb.ProcessorGenaiPricingReloads, tb.ProcessorGenaiPricingReloadErrors, tb.ProcessorGenaiRedactions,
		tb.ProcessorGenaiPricingCacheEntries, tb.ProcessorGenaiPricingCacheBytes,
		tb.ProcessorGenaiDedupeWindowEntries, tb.ProcessorGenaiDedupeWindowBytes, tb.ProcessorGenaiRustHeapBytes,
	)
}

// redactions calls fn with each redaction tally under its `detector` name. Counts per
// secret-rule id have no fixed place in the counters (rule files reload, so the set of ids
// changes): with secret rules configured every tally comes from the engine's JSON report
// instead, read once per collection, never per batch.
func (p *genaiProcessor) redactions(c *engine.Counters, fn func(name string, n uint64)) {
	if !p.ruleCounts {
		c.Redaction.Named(fn)
		return
	}
	if r, err := p.Engine.Report(); err == nil {
		for name, n := range r.Redaction {
			fn(name, n)
		}
	}
}
