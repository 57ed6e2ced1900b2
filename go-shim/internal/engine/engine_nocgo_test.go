//go:build !cgo

package engine

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNoCgoBuildFailsWithInstructions(t *testing.T) {
	_, err := New(nil, time.Now())
	require.ErrorIs(t, err, ErrCgoRequired)
	assert.Contains(t, err.Error(), "cgo_enabled: true")
}
