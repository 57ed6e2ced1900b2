package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor/internal/metadata"
)

// NewFactory returns the factory for the `genai_tail_sampling` processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTracesProcessor, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		ReleaseInterval: 100 * time.Millisecond,
		Release:         ReleaseConfig{MaxSpans: defaultReleaseMaxSpans, MaxBytes: defaultReleaseMaxBytes},
	}
}

func createTracesProcessor(_ context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	return newTailSampler(set, cfg.(*Config), next, clockwork.NewRealClock())
}
