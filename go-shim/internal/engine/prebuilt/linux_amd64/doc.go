// Package linux_amd64 holds the Tollbooth engine prebuilt for linux/amd64: libtollbooth.a (the
// Rust static library, built by `make lib-release` with the dist-lib cargo profile), tollbooth.h
// (the header it was built with) and libtollbooth.stamp (what it was built from; `make
// check-lib` fails when the sources no longer match). The engine package links the archive
// with a `#cgo linux,amd64 LDFLAGS` line; this package has no code and exists so that the
// directory is part of every build's package graph (see link_prebuilt.go).
package linux_amd64 // import "github.com/tollbooth-dev/tollbooth/go-shim/internal/engine/prebuilt/linux_amd64"
