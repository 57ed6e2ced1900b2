// Package engine binds the Rust engine (include/tollbooth.h) through cgo and applies the
// edit lists it returns to pdata.
//
// One cgo call is made per batch, never per span. Input bytes are Go memory borrowed by Rust
// for the duration of a call; every buffer Rust returns is freed by Rust's own free function
// before the call here returns. A build without cgo compiles, and New then returns
// ErrCgoRequired so the collector fails at start with instructions.
package engine
