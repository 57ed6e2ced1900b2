// Package genaimetricsconnector implements the `genai_metrics` connector: every GenAI call in
// a traces pipeline is aggregated by the Tollbooth Rust engine and emitted as metrics.
//
//go:generate mdatagen metadata.yaml
package genaimetricsconnector // import "github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"
