//go:build cgo && !tollbooth_source

package engine

// libHash for the prebuilt archive. A module version's files never change in the module cache,
// so the stale-link problem libhash.go guards against in source builds cannot arise; the
// archive's identity is its sha256 in prebuilt/linux_amd64/libtollbooth.stamp.
const libHash = "prebuilt"
