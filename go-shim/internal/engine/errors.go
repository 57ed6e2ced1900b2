package engine

import (
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
	StatusSizeMismatch  Status = 6
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
	case StatusSizeMismatch:
		return "size_mismatch"
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

// Report is what the engine's JSON stats say that has no fixed layout in Counters: the
// last pricing reload error, counts per secret-rule id, the sampling policies' names and
// the secret rules' status. Read it rarely (at start, after a failed reload): it allocates.
type Report struct {
	// PricingLastReloadError names the file and the reason (empty after a good reload).
	PricingLastReloadError string `json:"pricing_last_reload_error,omitempty"`
	// Redaction holds every redaction tally by name ("detected.email", "detected.RULE-ID").
	Redaction map[string]uint64 `json:"redaction,omitempty"`
	// Sampling names the tail sampler's policies, in the order ReadPolicies fills them.
	Sampling *struct {
		Policies []struct {
			Name string `json:"name"`
		} `json:"policies"`
	} `json:"sampling,omitempty"`
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
