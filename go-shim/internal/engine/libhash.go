//go:build cgo

package engine

// LibHash identifies the linked Rust library build: in a source build (tollbooth_source tag)
// the hash make writes to zz_libhash.go, otherwise "prebuilt" (libhash_prebuilt.go).
//
// It also makes the library's hash part of this package's compiled output: Go decides whether
// to relink a binary from its dependencies' compiled contents, and an unused constant compiles
// to nothing, so without a use a Rust-only change could leave a stale engine in the collector.
func LibHash() string { return libHash }
