//go:build cgo && !tollbooth_source && !(linux && amd64)

package engine

// There is no prebuilt engine for this GOOS/GOARCH. This deliberate type error stops the build
// with the instructions below in the compiler's message.
var _ int = "Tollbooth ships its Rust engine prebuilt for linux/amd64 only. On this platform build it from source: " +
	"clone the repository (a Rust toolchain is needed), run `make lib`, and in your ocb manifest add `path: <clone>/go-shim` " +
	"to the Tollbooth entries and `build_tags: tollbooth_source` under `dist` (README: Build from source)"
