// Package fuzzconf fuzzes the three components' configurations: YAML text goes through the
// collector's own decoding (confmap) and the component's Validate, and what Validate accepts
// is used to create, start and shut down the component.
//
// What must hold (DESIGN.md invariants 5 and 2): no input panics decoding, Validate or
// creation; Validate gives the same answer twice; a refusal carries a message; a component
// that was created starts and shuts down cleanly. Run one with
// `go test -tags tollbooth_source -fuzz FuzzTailSamplingConfig ./internal/fuzzconf/`.
package fuzzconf // import "github.com/tollbooth-dev/tollbooth/go-shim/internal/fuzzconf"
