//go:build !cgo

package genaimetricsconnector

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector/internal/metadata"
)

func TestNoCgoFactoryFailsWithInstructions(t *testing.T) {
	_, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type),
		createDefaultConfig(), consumertest.NewNop())
	require.ErrorContains(t, err, "cgo_enabled: true")
}
