package engine

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrCgoRequired is returned by New in a build without cgo.
var ErrCgoRequired = errors.New("tollbooth components need a cgo-enabled collector build: " +
	"set `dist.cgo_enabled: true` in the ocb manifest (ocb builds with CGO_ENABLED=0 otherwise); " +
	"on linux/amd64 the module carries the engine prebuilt, elsewhere build it from source (README: Build from source)")

// Status mirrors TollboothStatus in include/tollbooth.h.
type Status int

// Status values; keep in step with the header (the ABI version check guards the pairing).
const (
	StatusOK            Status = 0
	StatusNullArgument  Status = 1
	StatusInvalidConfig Status = 2
	StatusDecodeError   Status = 3
	StatusPoisoned      Status = 4
	StatusPanic         Status = 5
)

func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusNullArgument:
		return "null_argument"
	case StatusInvalidConfig:
		return "invalid_config"
	case StatusDecodeError:
		return "decode_error"
	case StatusPoisoned:
		return "poisoned"
	case StatusPanic:
		return "panic"
	}
	return fmt.Sprintf("status_%d", int(s))
}

// Error is a failed engine call.
type Error struct {
	Op      string
	Status  Status
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("tollbooth engine %s: %s: %s", e.Op, e.Status, e.Message)
}

// ErrClosed is returned by calls on an engine after Close.
var ErrClosed = errors.New("tollbooth engine is closed")

// Stats is the engine's own counters (src/stats.rs).
type Stats struct {
	BatchesProcessed    uint64 `json:"batches_processed"`
	BatchesUndecodable  uint64 `json:"batches_undecodable"`
	SpansProcessed      uint64 `json:"spans_processed"`
	GenAISpans          uint64 `json:"genai_spans"`
	GenAIInferenceSpans uint64 `json:"genai_inference_spans"`
	EditsEmitted        uint64 `json:"edits_emitted"`
	PanicsCaught        uint64 `json:"panics_caught"`

	CostPriced           uint64 `json:"cost_priced"`
	CostUnpriced         uint64 `json:"cost_unpriced"`
	CostNoUsage          uint64 `json:"cost_no_usage"`
	CostProviderReported uint64 `json:"cost_provider_reported"`
	CostEstimated        uint64 `json:"cost_estimated"`
	// Exactly-once accounting (src/dedupe/): spans marked duplicate, spans without usage not
	// counted as requests, and the recent-calls window's size.
	DuplicateCalls        uint64 `json:"duplicate_calls"`
	UncountedWithoutUsage uint64 `json:"uncounted_without_usage"`
	DedupeWindowEntries   uint64 `json:"dedupe_window_entries"`
	DedupeWindowBytes     uint64 `json:"dedupe_window_bytes"`
	DedupeWindowEvictions uint64 `json:"dedupe_window_evictions"`
	PricingReloads        uint64 `json:"pricing_reloads"`
	PricingReloadErrors   uint64 `json:"pricing_reload_errors"`

	// Pricing gauges: the model-lookup cache's size (bounded by cost.pricing.cache_max_bytes)
	// and why the last pricing reload failed, naming the file (empty after a good reload).
	PricingCacheEntries    uint64 `json:"pricing_cache_entries"`
	PricingCacheBytes      uint64 `json:"pricing_cache_bytes"`
	PricingLastReloadError string `json:"pricing_last_reload_error,omitempty"`

	// RustHeapBytes is what Rust code in this process holds allocated, all engines together
	// (src/heap.rs): memory Go's runtime metrics and memory_limiter cannot see.
	RustHeapBytes uint64 `json:"rust_heap_bytes"`

	// Redaction holds the redaction counters ("spans_dropped", "detected.email", ...) when
	// redaction is configured.
	Redaction map[string]uint64 `json:"redaction,omitempty"`
	// Sampling is the tail sampler's telemetry (src/sampling/telemetry.rs) when configured.
	Sampling json.RawMessage `json:"sampling,omitempty"`
	// SecretRules is the status of redaction.secret_rules when configured.
	SecretRules *SecretRulesStatus `json:"secret_rules,omitempty"`
}

// SecretRulesStatus is what the engine reports of its gitleaks-format secret rules
// (src/redact/secret_rules/mod.rs, Status).
type SecretRulesStatus struct {
	Rules   int `json:"rules"`
	Skipped []struct {
		ID     string `json:"id"`
		Reason string `json:"reason"`
	} `json:"skipped"`
	Files         []string `json:"files"`
	BundledSource string   `json:"bundled_source"`
	Reloads       uint64   `json:"reloads"`
	ReloadErrors  uint64   `json:"reload_errors"`
	LastError     string   `json:"last_error"`
}

// FailReason names why a batch was passed on unprocessed, for the components' fail-open
// self-metrics (attribute `reason`): bad_edits, undecodable, panic or engine_error.
func FailReason(err error) string {
	var engErr *Error
	switch {
	case errors.Is(err, ErrMalformedEdits):
		return "bad_edits"
	case errors.As(err, &engErr) && engErr.Status == StatusDecodeError:
		return "undecodable"
	case errors.As(err, &engErr) && engErr.Status == StatusPanic:
		return "panic"
	}
	return "engine_error"
}
