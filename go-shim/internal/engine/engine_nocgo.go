//go:build !cgo

package engine

import "time"

// Engine is unavailable without cgo; New always fails with ErrCgoRequired.
type Engine struct{}

// ABIVersion is 0 without cgo: no library is linked.
func ABIVersion() uint32 { return 0 }

// New fails: the Rust engine can only be linked with cgo.
func New([]byte, time.Time) (*Engine, error) { return nil, ErrCgoRequired }

// Process is never reached without cgo (New fails).
func (e *Engine) Process([]byte, time.Time, func([]byte) error) error { return ErrCgoRequired }

// Release is never reached without cgo (New fails).
func (e *Engine) Release(time.Time, bool, func([]byte) error) error { return ErrCgoRequired }

// CollectMetrics is never reached without cgo (New fails).
func (e *Engine) CollectMetrics(time.Time, func([]byte) error) error { return ErrCgoRequired }

// Report is never reached without cgo (New fails).
func (e *Engine) Report() (Report, error) { return Report{}, ErrCgoRequired }

// ReadCounters is never reached without cgo (New fails).
func (e *Engine) ReadCounters(*Counters) error { return ErrCgoRequired }

// ReadPolicies is never reached without cgo (New fails).
func (e *Engine) ReadPolicies([]PolicyCounters) (int, error) { return 0, ErrCgoRequired }

// detectorKeys has no library to ask without cgo.
func detectorKeys() []string { return nil }

// Close is a no-op without cgo.
func (e *Engine) Close() {}

// Retain takes no share without cgo: there is no engine.
func (e *Engine) Retain() bool { return false }

// ReleaseShare does nothing without cgo.
func (e *Engine) ReleaseShare() {}

// ValidateTraces is unavailable without cgo.
func ValidateTraces([]byte) error { return ErrCgoRequired }
