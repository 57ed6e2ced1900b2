package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"context"

	"github.com/jonboulle/clockwork"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor/internal/metadata"
)

// NewFactory returns the factory for the `genai` processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTracesProcessor, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{WriteLatestNames: true, Cost: map[string]any{}}
}

func createTracesProcessor(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	return newTracesProcessor(ctx, set, cfg.(*Config), next, clockwork.NewRealClock())
}

// newTracesProcessor builds the processor on the given clock (tests pass a fake one).
func newTracesProcessor(ctx context.Context, set processor.Settings, cfg *Config, next consumer.Traces, clock clockwork.Clock) (processor.Traces, error) {
	p, err := newGenAIProcessor(set, cfg, clock)
	if err != nil {
		return nil, err
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithStart(p.Start),
		processorhelper.WithShutdown(p.Shutdown),
	)
}
