// Package fuse lets a genai_metrics connector count in its genai processor's engine pass
// (`genai_metrics: {processor: genai}`), so that a batch crosses into Rust once per pipeline.
//
// The collector builds a pipeline's components from its exporters back to its receivers, so
// the connector (an exporter of the processor's pipeline) is created before the processor:
//
//  1. the connector registers a Request under (collector instance, processor ID), carrying its
//     metrics block;
//  2. the processor, when created, claims the request for its ID, adds the metrics block to
//     its own engine configuration and publishes the engine it built (the request takes a
//     share of it);
//  3. the connector, at Start, takes that engine (and its share); its final flush may come
//     after the processor has shut down, which is why it holds a share;
//  4. the connector's shutdown (or the abandoning of a connector that failed to build)
//     unregisters the request and gives back the share if it was never taken.
package fuse // import "github.com/tollbooth-dev/tollbooth/go-shim/internal/fuse"

import (
	"encoding/json"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

// Key names one processor of one collector: several collectors (services) can live in one
// process (tests, a reloaded configuration during its switch-over).
type Key struct {
	// Instance is the service.instance.id of the collector's telemetry resource; empty in
	// tests that build components by hand.
	Instance string
	// Processor is the genai processor's component ID (genai, genai/tier1, ...).
	Processor component.ID
}

// KeyOf builds the key from a component's telemetry resource and the processor's ID.
func KeyOf(resource pcommon.Resource, processor component.ID) Key {
	k := Key{Processor: processor}
	if v, ok := resource.Attributes().Get("service.instance.id"); ok {
		k.Instance = v.AsString()
	}
	return k
}

// Request is one connector's wish to count in a processor's pass.
type Request struct {
	key     Key
	metrics json.RawMessage

	mu      sync.Mutex
	claimed bool
	engine  *engine.Engine // published by the processor, with a share taken for the connector
	taken   bool
}

var (
	mu       sync.Mutex
	requests = map[Key]*Request{}
)

// Register records a connector's request; a second connector asking for the same processor
// is an error.
func Register(key Key, metrics json.RawMessage) (*Request, error) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := requests[key]; ok {
		return nil, fmt.Errorf("processor %q: another genai_metrics connector already counts in its pass; "+
			"give each connector its own genai processor, or drop `processor:` from one of them", key.Processor)
	}
	r := &Request{key: key, metrics: metrics}
	requests[key] = r
	return r, nil
}

// Claim is called by every genai processor at creation: it returns the request registered
// for it (nil when none) and marks it claimed. A second claim means the processor is in more
// than one pipeline, where one connector cannot see every pipeline's batches: an error.
func Claim(key Key) (*Request, error) {
	mu.Lock()
	r := requests[key]
	mu.Unlock()
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.claimed {
		return nil, fmt.Errorf("genai_metrics counts in %[1]s's pass, but %[1]s is in more than one pipeline; "+
			"give each pipeline its own genai processor (%[1]s/a, %[1]s/b) and connector, or remove `processor:` "+
			"from the genai_metrics connector to count separately", key.Processor)
	}
	r.claimed = true
	return r, nil
}

// Metrics is the connector's metrics block for the processor's engine configuration.
func (r *Request) Metrics() json.RawMessage { return r.metrics }

// Publish hands the processor's engine to the connector, taking a share of it for the
// connector; false when the engine is already freed.
func (r *Request) Publish(eng *engine.Engine) bool {
	if !eng.Retain() {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.engine != nil && !r.taken {
		r.engine.ReleaseShare()
	}
	r.engine, r.taken = eng, false
	return true
}

// Take gives the connector the published engine and its share (ReleaseShare it when done); nil
// when no processor has claimed the request and published an engine.
func (r *Request) Take() *engine.Engine {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.engine == nil || r.taken {
		return nil
	}
	r.taken = true
	return r.engine
}

// Unregister removes the request and gives back a published share nobody took. Safe to call
// more than once.
func (r *Request) Unregister() {
	mu.Lock()
	if requests[r.key] == r {
		delete(requests, r.key)
	}
	mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.engine != nil && !r.taken {
		r.engine.ReleaseShare()
		r.engine = nil
	}
}

// Registered reports whether a request is registered under key (for tests).
func Registered(key Key) bool {
	mu.Lock()
	defer mu.Unlock()
	_, ok := requests[key]
	return ok
}
