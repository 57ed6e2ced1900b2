// Package base holds what the Tollbooth collector components share besides the engine.
package base // import "github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
