//go:build cgo

package engine

// Where the header and the static library come from is decided by the link_*.go files.

/*
#cgo noescape tollbooth_engine_process
#cgo noescape tollbooth_validate_traces
#cgo nocallback tollbooth_validate_traces
#cgo nocallback tollbooth_engine_process
#cgo nocallback tollbooth_engine_release
#cgo nocallback tollbooth_engine_collect_metrics
#cgo nocallback tollbooth_engine_stats
#cgo noescape tollbooth_engine_read_stats
#cgo nocallback tollbooth_engine_read_stats
#cgo noescape tollbooth_engine_read_policy_stats
#cgo nocallback tollbooth_engine_read_policy_stats
#cgo nocallback tollbooth_buf_free
#include <stdlib.h>
#include "tollbooth.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// Engine owns one Rust engine handle. Safe for concurrent use; the handle is freed when its
// creator has called Close and every Retain has been matched by a ReleaseShare (a fused
// genai_metrics connector shares its genai processor's engine and outlives it at shutdown).
// Freeing waits for calls in flight and makes later calls return ErrClosed.
type Engine struct {
	mu     sync.RWMutex
	handle *C.TollboothEngine
	// shares counts Retain calls not yet released; closed is set by the creator's Close.
	shares int
	closed bool
}

// ABIVersion is the revision of the linked Rust library.
func ABIVersion() uint32 { return uint32(C.tollbooth_abi_version()) }

// New creates an engine from its JSON configuration (src/config.rs).
func New(configJSON []byte, now time.Time) (*Engine, error) {
	if got, want := ABIVersion(), uint32(C.TOLLBOOTH_ABI_VERSION); got != want {
		return nil, fmt.Errorf("tollbooth: linked Rust library has ABI version %d, this Go code expects %d (library %s): "+
			"in a source build run `make dist`; a stale prebuilt archive is rebuilt by `make lib-release` (`make check-lib` detects it)", got, want, libHash)
	}
	var handle *C.TollboothEngine
	var errBuf C.TollboothBuf
	var ptr *C.uint8_t
	if len(configJSON) > 0 {
		ptr = (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(configJSON)))
	}
	st := (uint32)(C.tollbooth_engine_new(ptr, C.size_t(len(configJSON)), C.uint64_t(now.UnixNano()), &handle, &errBuf))
	if err := callError("create", st, errBuf); err != nil {
		return nil, err
	}
	e := &Engine{handle: handle}
	var c Counters
	if err := e.ReadCounters(&c); err != nil {
		e.Close()
		return nil, fmt.Errorf("tollbooth: the linked Rust library does not match this Go code's tollbooth.h (library %s): %w", libHash, err)
	}
	return e, nil
}

// callError turns a status and error buffer into an error, freeing the buffer.
func callError(op string, st uint32, errBuf C.TollboothBuf) error {
	msg := string(view(errBuf))
	C.tollbooth_buf_free(errBuf)
	if st == uint32(C.TOLLBOOTH_STATUS_OK) {
		return nil
	}
	return &Error{Op: op, Status: Status(st), Message: msg}
}

// view returns Go's view of a Rust buffer; valid only until the buffer is freed.
func view(b C.TollboothBuf) []byte {
	if b.ptr == nil || b.len == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(b.ptr)), int(b.len))
}

// withBuf runs one export that fills an output buffer and hands fn a view of it; the buffer
// is freed when fn returns.
func (e *Engine) withBuf(op string, call func(h *C.TollboothEngine, out, errBuf *C.TollboothBuf) uint32, fn func([]byte) error) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.handle == nil {
		return ErrClosed
	}
	var out, errBuf C.TollboothBuf
	st := call(e.handle, &out, &errBuf)
	defer C.tollbooth_buf_free(out)
	if err := callError(op, st, errBuf); err != nil {
		return err
	}
	return fn(view(out))
}

// Process runs the engine over one marshalled OTLP traces batch and calls fn with the edit
// list (src/edits.rs). The batch is borrowed for the call; edits are valid only inside fn.
func (e *Engine) Process(batch []byte, now time.Time, fn func(edits []byte) error) error {
	var ptr *C.uint8_t
	if len(batch) > 0 {
		ptr = (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(batch)))
	}
	return e.withBuf("process", func(h *C.TollboothEngine, out, errBuf *C.TollboothBuf) uint32 {
		return uint32(C.tollbooth_engine_process(h, ptr, C.size_t(len(batch)), C.uint64_t(now.UnixNano()), out, errBuf))
	}, fn)
}

// Release calls fn with the OTLP traces that stateful stages have finished holding (nil when
// none); flushAll decides and releases everything held (shutdown).
func (e *Engine) Release(now time.Time, flushAll bool, fn func(traces []byte) error) error {
	return e.withBuf("release", func(h *C.TollboothEngine, out, errBuf *C.TollboothBuf) uint32 {
		return uint32(C.tollbooth_engine_release(h, C.uint64_t(now.UnixNano()), C.bool(flushAll), out, errBuf))
	}, fn)
}

// CollectMetrics calls fn with the aggregated metrics as OTLP MetricsData bytes (nil when none).
func (e *Engine) CollectMetrics(now time.Time, fn func(metrics []byte) error) error {
	return e.withBuf("collect_metrics", func(h *C.TollboothEngine, out, errBuf *C.TollboothBuf) uint32 {
		return uint32(C.tollbooth_engine_collect_metrics(h, C.uint64_t(now.UnixNano()), out, errBuf))
	}, fn)
}

// Report returns what the engine reports that has no fixed layout (see Report). It crosses
// as JSON and allocates: read it at start or when a counter says something changed.
func (e *Engine) Report() (Report, error) {
	var r Report
	err := e.withBuf("stats", func(h *C.TollboothEngine, out, errBuf *C.TollboothBuf) uint32 {
		return uint32(C.tollbooth_engine_stats(h, out, errBuf))
	}, func(b []byte) error { return json.Unmarshal(b, &r) })
	return r, err
}

// Counters and the C struct it mirrors must have one size; a build where they differ does
// not compile (one of the two array lengths is negative).
var (
	_ [unsafe.Sizeof(Counters{}) - C.sizeof_TollboothStats]byte
	_ [C.sizeof_TollboothStats - unsafe.Sizeof(Counters{})]byte
	_ [unsafe.Sizeof(PolicyCounters{}) - C.sizeof_TollboothPolicyStats]byte
	_ [C.sizeof_TollboothPolicyStats - unsafe.Sizeof(PolicyCounters{})]byte
	_ [Detectors - C.TOLLBOOTH_DETECTORS]byte
	_ [C.TOLLBOOTH_DETECTORS - Detectors]byte
)

// ReadCounters fills c with the engine's counters and gauges: one cgo call, no JSON, no
// allocation. The library refuses a Counters of another size (StatusSizeMismatch).
func (e *Engine) ReadCounters(c *Counters) error {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.handle == nil {
		return ErrClosed
	}
	c.StructSize = uint64(unsafe.Sizeof(*c))
	var errBuf C.TollboothBuf
	st := uint32(C.tollbooth_engine_read_stats(e.handle, (*C.TollboothStats)(unsafe.Pointer(c)), &errBuf))
	return callError("read_stats", st, errBuf)
}

// ReadPolicies fills dst with each sampling policy's tallies in configuration order and
// returns how many it wrote (Counters.Sampling.Policies at most); no allocation.
func (e *Engine) ReadPolicies(dst []PolicyCounters) (int, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.handle == nil {
		return 0, ErrClosed
	}
	var ptr *C.TollboothPolicyStats
	if len(dst) > 0 {
		ptr = (*C.TollboothPolicyStats)(unsafe.Pointer(unsafe.SliceData(dst)))
	}
	var written C.size_t
	var errBuf C.TollboothBuf
	st := uint32(C.tollbooth_engine_read_policy_stats(e.handle, ptr, C.size_t(len(dst)),
		C.size_t(unsafe.Sizeof(PolicyCounters{})), &written, &errBuf))
	return int(written), callError("read_policy_stats", st, errBuf)
}

// detectorKeys names RedactionCounters.Detected as the JSON stats do ("detected.NAME"),
// read from the library once.
var detectorKeys = sync.OnceValue(func() []string {
	keys := make([]string, Detectors)
	for i := range keys {
		keys[i] = "detected." + C.GoString(C.tollbooth_detector_name(C.size_t(i)))
	}
	return keys
})

// Close gives up the creator's hold: the engine is freed (after calls in flight finish) once
// no share taken with Retain is left. Safe to call more than once.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.freeIfUnheld()
}

// Retain takes a share of the engine, to be given back with ReleaseShare; false when the engine
// is already freed.
func (e *Engine) Retain() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.handle == nil {
		return false
	}
	e.shares++
	return true
}

// ReleaseShare gives back one share taken with Retain; the last hold given up frees the
// engine.
func (e *Engine) ReleaseShare() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shares > 0 {
		e.shares--
	}
	e.freeIfUnheld()
}

// freeIfUnheld frees the handle when neither the creator nor a share holds it (mu held).
func (e *Engine) freeIfUnheld() {
	if e.closed && e.shares == 0 && e.handle != nil {
		C.tollbooth_engine_free(e.handle)
		e.handle = nil
	}
}

// ValidateTraces decodes a batch in Rust and discards it: the cost floor of the boundary.
func ValidateTraces(batch []byte) error {
	var ptr *C.uint8_t
	if len(batch) > 0 {
		ptr = (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(batch)))
	}
	var errBuf C.TollboothBuf
	st := uint32(C.tollbooth_validate_traces(ptr, C.size_t(len(batch)), &errBuf))
	return callError("validate", st, errBuf)
}
