//go:build !cgo

package genaitailsamplingprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadata"
)

func TestNoCgoFactoryFailsWithInstructions(t *testing.T) {
	_, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(metadata.Type),
		createDefaultConfig(), consumertest.NewNop())
	require.ErrorContains(t, err, "cgo_enabled: true")
}
