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

// Stats is never reached without cgo (New fails).
func (e *Engine) Stats() (Stats, error) { return Stats{}, ErrCgoRequired }

// Close is a no-op without cgo.
func (e *Engine) Close() {}

// ValidateTraces is unavailable without cgo.
func ValidateTraces([]byte) error { return ErrCgoRequired }
