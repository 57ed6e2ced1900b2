package base

import (
	"context"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

// Component is what every Tollbooth component shares: one engine, the batch path into it,
// an optional ticker, and a lifecycle that starts and shuts down once, all on one clock that
// tests replace with a fake one.
type Component struct {
	Engine *engine.Engine
	Clock  clockwork.Clock
	// Process is Engine.Process; tests replace it to make the engine fail.
	Process func(batch []byte, now time.Time, fn func(edits []byte) error) error

	marshaler ptrace.ProtoMarshaler
	interval  time.Duration
	tick      func()
	final     func(context.Context)
	closers   []func()

	startOnce    sync.Once
	shutdownOnce sync.Once
	ticker       *Ticker
	// shared is set when Engine is a share of another component's engine (Attach): Close
	// releases the share instead of closing the engine.
	shared bool
}

// New creates the engine from its JSON configuration at the clock's time.
func New(configJSON []byte, clock clockwork.Clock) (*Component, error) {
	eng, err := engine.New(configJSON, clock.Now())
	if err != nil {
		return nil, err
	}
	return &Component{Engine: eng, Clock: clock, Process: eng.Process}, nil
}

// NewShared creates a component without an engine of its own: it uses another component's,
// given to Attach before Start (a fused genai_metrics connector and its genai processor).
// Until then Engine is nil.
func NewShared(clock clockwork.Clock) *Component {
	return &Component{Clock: clock, shared: true}
}

// Attach gives a NewShared component its engine, a share taken with Retain that Close
// releases.
func (c *Component) Attach(eng *engine.Engine) {
	c.Engine, c.Process = eng, eng.Process
}

// Every makes Start call tick every interval of the clock until Shutdown.
func (c *Component) Every(interval time.Duration, tick func()) {
	c.interval, c.tick = interval, tick
}

// AtShutdown runs final once at Shutdown, after the ticker has stopped and before the engine
// closes (a last flush), whether or not the component was started.
func (c *Component) AtShutdown(final func(context.Context)) {
	c.final = final
}

// OnClose runs fn at Shutdown before the engine closes, and when Close abandons a component
// that failed to build (unregistering instruments, shutting telemetry down).
func (c *Component) OnClose(fn func()) {
	c.closers = append(c.closers, fn)
}

// Start starts the ticker, once.
func (c *Component) Start(context.Context, component.Host) error {
	c.startOnce.Do(func() {
		if c.tick != nil {
			c.ticker = StartTicker(c.Clock, c.interval, c.tick)
		}
	})
	return nil
}

// Shutdown stops the ticker, runs the final flush and frees the engine, once. Safe without
// Start: a Start after it does nothing.
func (c *Component) Shutdown(ctx context.Context) error {
	c.shutdownOnce.Do(func() {
		c.startOnce.Do(func() {})
		c.ticker.Stop()
		if c.final != nil {
			c.final(ctx)
		}
		c.Close()
	})
	return nil
}

// Close runs the closers and frees the engine, or gives back its share of a shared one (also
// for a component abandoned while being built).
func (c *Component) Close() {
	for _, fn := range c.closers {
		fn()
	}
	switch {
	case c.Engine == nil:
	case c.shared:
		c.Engine.ReleaseShare()
	default:
		c.Engine.Close()
	}
}

// Consume marshals td, hands it to the engine once at the clock's time and, with apply,
// applies the edits it returns. On failure td is still the batch as received (ApplyEdits
// checks a whole list before applying any of it) and reason says why: marshal, or
// engine.FailReason's.
func (c *Component) Consume(td ptrace.Traces, apply bool) (res engine.EditResult, reason string, err error) {
	buf, err := c.marshaler.MarshalTraces(td)
	if err != nil {
		return res, "marshal", err
	}
	err = c.Process(buf, c.Clock.Now(), func(edits []byte) error {
		if !apply {
			return nil
		}
		var applyErr error
		res, applyErr = engine.ApplyEdits(td, edits)
		return applyErr
	})
	if err != nil {
		return res, engine.FailReason(err), err
	}
	return res, "", nil
}
