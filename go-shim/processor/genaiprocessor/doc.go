// Package genaiprocessor implements the `genai` processor: GenAI span recognition and
// enrichment done by the Tollbooth Rust engine, one cgo call per batch.
//
//go:generate mdatagen metadata.yaml
package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"
