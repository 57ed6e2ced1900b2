//go:build cgo && !tollbooth_source

package engine

// The default build, the one a user's ocb manifest gets from a `gomod:` line: the engine
// prebuilt by `make lib-release` and shipped inside this Go module, with the header it was
// built with. Only linux/amd64 is prebuilt; link_unsupported.go stops other platforms with
// instructions. docs/distribution.md describes the archive and how it is checked.

/*
#cgo linux,amd64 CFLAGS: -I${SRCDIR}/prebuilt/linux_amd64
#cgo linux,amd64 LDFLAGS: ${SRCDIR}/prebuilt/linux_amd64/libtollbooth.a -ldl -lm -lpthread
*/
import "C"

// The archive's directory is a Go package of its own so that `go mod vendor` keeps it (vendoring
// copies only the directories of imported packages; golang/go#26366).
import _ "github.com/tollbooth-dev/tollbooth/go-shim/internal/engine/prebuilt/linux_amd64"
