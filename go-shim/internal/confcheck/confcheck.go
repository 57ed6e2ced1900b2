// Package confcheck range-checks configuration values that the components hand to the Rust
// engine as generic maps (the genai processor's cost and redaction blocks, the tail sampler's
// contrib-compatible keys), so that a component's Validate - and with it `otelcol validate` and
// collector start - refuses an out-of-range number with a message naming the key and the fix.
//
// Only the values are checked here. Unknown keys, wrong types of non-numeric keys and the
// cross-field rules stay with the engine, which parses the same keys when the component is
// created and names what it rejects.
package confcheck // import "github.com/tollbooth-dev/tollbooth/go-shim/internal/confcheck"

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Checker collects every problem found, so one validate run reports them all.
type Checker struct {
	errs []error
}

// Err is nil when no check failed, else every failure joined.
func (c *Checker) Err() error { return errors.Join(c.errs...) }

// Failf records a problem with the key at path.
func (c *Checker) Failf(path, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s %s", path, fmt.Sprintf(format, args...)))
}

// Join returns "prefix.key", or key alone at the top level.
func Join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// Sub returns the block under key (nil when absent). A value that is not a block is reported.
func (c *Checker) Sub(m map[string]any, prefix, key string) map[string]any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	sub, ok := v.(map[string]any)
	if !ok {
		c.Failf(Join(prefix, key), "must be a block of keys, got %v", v)
		return nil
	}
	return sub
}

// List returns the list under key (nil when absent). A value that is not a list is reported.
func (c *Checker) List(m map[string]any, prefix, key string) []any {
	v, ok := m[key]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		c.Failf(Join(prefix, key), "must be a list, got %v", v)
		return nil
	}
	return list
}

// number reads key as a number. Absent: ok is false and nothing is reported.
func (c *Checker) number(m map[string]any, path, key string) (float64, bool) {
	v, present := m[key]
	if !present || v == nil {
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			c.Failf(Join(path, key), "must be a finite number, got %v", n)
			return 0, false
		}
		return n, true
	}
	c.Failf(Join(path, key), "must be a number, got %q", fmt.Sprint(v))
	return 0, false
}

// Range describes the values a numeric key accepts. Min and Max are inclusive unless
// MinExclusive is set; Integer refuses fractions; Hint says what the key means, with an example.
type Range struct {
	Min, Max     float64
	MinExclusive bool
	Integer      bool
	Hint         string
}

// Common ranges. NoMax leaves a range unbounded above.
const NoMax = math.MaxFloat64

var (
	// Percent: 0-100, fractions allowed.
	Percent = Range{Min: 0, Max: 100}
	// NonNegativeInt: a count, size or limit where 0 has a meaning (usually "off").
	NonNegativeInt = Range{Min: 0, Max: NoMax, Integer: true}
	// PositiveInt: a count, size or limit that must be at least 1.
	PositiveInt = Range{Min: 1, Max: NoMax, Integer: true}
	// NonNegative: a threshold that cannot be negative.
	NonNegative = Range{Min: 0, Max: NoMax}
	// Positive: a rate that must be above 0.
	Positive = Range{Min: 0, Max: NoMax, MinExclusive: true}
)

// With returns a copy of r with its hint set.
func (r Range) With(hint string) Range {
	r.Hint = hint
	return r
}

// Number checks the numeric key against r and returns its value (ok false when absent or bad).
func (c *Checker) Number(m map[string]any, path, key string, r Range) (float64, bool) {
	n, ok := c.number(m, path, key)
	if !ok {
		return 0, false
	}
	full := Join(path, key)
	hint := ""
	if r.Hint != "" {
		hint = " (" + r.Hint + ")"
	}
	if r.Integer && n != math.Trunc(n) {
		c.Failf(full, "must be a whole number, got %s%s", format(n), hint)
		return 0, false
	}
	low := n < r.Min || (r.MinExclusive && n == r.Min)
	if low || n > r.Max {
		c.Failf(full, "must be %s, got %s%s", r.describe(), format(n), hint)
		return 0, false
	}
	return n, true
}

func (r Range) describe() string {
	switch {
	case r.Max == NoMax && r.MinExclusive:
		return "greater than " + format(r.Min)
	case r.Max == NoMax && r.Min == 0:
		return "0 or more"
	case r.Max == NoMax:
		return "at least " + format(r.Min)
	default:
		return "between " + format(r.Min) + " and " + format(r.Max)
	}
}

func format(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// Duration checks a duration key: a Go duration string ("30s") or integer nanoseconds, as the
// engine accepts. Positive refuses 0; a negative duration is always refused.
func (c *Checker) Duration(m map[string]any, path, key string, positive bool, hint string) {
	v, present := m[key]
	if !present || v == nil {
		return
	}
	full := Join(path, key)
	if hint != "" {
		hint = " (" + hint + ")"
	}
	var d time.Duration
	switch t := v.(type) {
	case string:
		parsed, err := time.ParseDuration(t)
		if err != nil {
			c.Failf(full, "must be a duration such as \"30s\" or \"500ms\", got %q%s", t, hint)
			return
		}
		d = parsed
	case time.Duration:
		d = t
	default:
		n, ok := c.number(m, path, key)
		if !ok {
			return
		}
		if n != math.Trunc(n) {
			c.Failf(full, "must be a duration such as \"30s\" or whole nanoseconds, got %s%s", format(n), hint)
			return
		}
		d = time.Duration(n)
	}
	switch {
	case d < 0:
		c.Failf(full, "must not be negative, got %s%s", d, hint)
	case positive && d == 0:
		c.Failf(full, "must be greater than 0%s", hint)
	}
}

// Dedupe checks the `dedupe` block (exactly-once accounting, src/dedupe/) that the genai
// processor and the genai_metrics connector both pass to the engine.
func (c *Checker) Dedupe(m map[string]any) {
	if v, ok := m["enabled"]; ok {
		if _, isBool := v.(bool); !isBool {
			c.Failf("dedupe.enabled", "must be true or false, got %v", v)
		}
	}
	c.Number(m, "dedupe", "window_seconds",
		Range{Min: 1, Max: 86400, Integer: true}.With("seconds a call is remembered, e.g. 300"))
	c.Number(m, "dedupe", "max_entries",
		PositiveInt.With("calls remembered at most, e.g. 100000"))
	c.Number(m, "dedupe", "max_bytes",
		PositiveInt.With("bytes the remembered calls may take, e.g. 16777216 (16 MiB)"))
	c.Number(m, "dedupe", "time_slack_ms",
		Range{Min: 0, Max: 60000, Integer: true}.With("how far apart the ends of two nested spans of one call may be, e.g. 1000"))
}
