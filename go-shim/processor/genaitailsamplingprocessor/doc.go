// Package genaitailsamplingprocessor is the `genai_tail_sampling` processor: contrib
// tail_sampling's policy schema plus GenAI policies, run by the Tollbooth Rust engine.
//
//go:generate mdatagen metadata.yaml
package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"
