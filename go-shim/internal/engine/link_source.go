//go:build cgo && tollbooth_source

package engine

// A build from source (the tollbooth_source build tag; `make dist`, `make run` and `make test`
// set it): the header from the repository's include/ and the static library that `make` has
// just built from src/ and copied to lib/ (ignored by git). The committed prebuilt archive is
// neither read nor written.

/*
#cgo CFLAGS: -I${SRCDIR}/../../../include
#cgo LDFLAGS: ${SRCDIR}/lib/libtollbooth.a -ldl -lm -lpthread
*/
import "C"
