package base

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

// RegisterCounters registers one callback for a component's asynchronous instruments. At each
// collection it reads the engine's counters once (one cgo call, no allocation) and hands them
// to observe, so every instrument of one collection comes from one reading; a closed engine
// observes nothing. Unregister the result before closing the engine.
func RegisterCounters(meter metric.Meter, eng *engine.Engine, observe func(c *engine.Counters, o metric.Observer), instruments ...metric.Observable) (metric.Registration, error) {
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		var c engine.Counters
		if eng.ReadCounters(&c) == nil {
			observe(&c, o)
		}
		return nil
	}, instruments...)
}
