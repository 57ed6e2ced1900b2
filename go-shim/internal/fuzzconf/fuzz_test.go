package fuzzconf

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"
)

// Component is what the fuzz test needs of one component.
type Component struct {
	// Seeds is the component's testdata config.yaml; each section becomes a seed.
	Seeds string
	// NewConfig returns the factory's default configuration.
	NewConfig func() component.Config
	// Create builds the component from a configuration Validate accepted. It may still
	// refuse (the engine parses its keys again and names unknown ones): that is an error,
	// reported before the collector starts.
	Create func(cfg component.Config) (component.Component, error)
}

// fuzz seeds the fuzz test from the component's testdata and runs Check on every input.
func fuzz(f *testing.F, c Component) {
	addSeeds(f, c.Seeds)
	f.Fuzz(func(t *testing.T, text string) { check(t, c, text) })
}

// addSeeds adds each top-level section of a testdata config.yaml as one seed.
func addSeeds(f *testing.F, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	r, err := confmap.NewRetrievedFromYAML(raw)
	if err != nil {
		f.Fatal(err)
	}
	conf, err := r.AsConf()
	if err != nil {
		f.Fatal(err)
	}
	for name := range conf.ToStringMap() {
		sub, err := conf.Sub(name)
		if err != nil {
			f.Fatal(err)
		}
		// JSON is YAML: the seed is the section as the collector would read it.
		seed, err := json.Marshal(sub.ToStringMap())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(seed))
	}
}

// check runs one YAML document through decoding, Validate and creation.
func check(t *testing.T, c Component, text string) {
	// Paths to devices or FIFOs would block the test, not the code under test.
	for _, p := range []string{"dev/", "proc/", "sys/", "fd/"} {
		if strings.Contains(text, p) {
			return
		}
	}
	r, err := confmap.NewRetrievedFromYAML([]byte(text))
	if err != nil {
		return
	}
	conf, err := r.AsConf()
	if err != nil || conf == nil {
		return
	}
	cfg := c.NewConfig()
	if err := conf.Unmarshal(cfg); err != nil {
		if err.Error() == "" {
			t.Fatal("decoding failed without a message")
		}
		return
	}
	first, second := confmap.Validate(cfg), confmap.Validate(cfg)
	if (first == nil) != (second == nil) || (first != nil && first.Error() != second.Error()) {
		t.Fatalf("Validate answered %v, then %v", first, second)
	}
	if first != nil {
		if first.Error() == "" {
			t.Fatal("Validate refused without a message")
		}
		return
	}
	comp, err := c.Create(cfg)
	if err != nil {
		if err.Error() == "" {
			t.Fatal("creation failed without a message")
		}
		return
	}
	ctx := context.Background()
	if err := comp.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatalf("a created component failed to start: %v", err)
	}
	if err := comp.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown failed: %v", err)
	}
}

func FuzzGenAIConfig(f *testing.F) {
	fuzz(f, Component{
		Seeds:     filepath.Join("..", "..", "processor", "genaiprocessor", "testdata", "config.yaml"),
		NewConfig: genaiprocessor.NewFactory().CreateDefaultConfig,
		Create: func(cfg component.Config) (component.Component, error) {
			return genaiprocessor.NewFactory().CreateTraces(context.Background(),
				processortest.NewNopSettings(genaiprocessor.NewFactory().Type()), cfg, consumertest.NewNop())
		},
	})
}

func FuzzTailSamplingConfig(f *testing.F) {
	fuzz(f, Component{
		Seeds:     filepath.Join("..", "..", "processor", "genaitailsamplingprocessor", "testdata", "config.yaml"),
		NewConfig: genaitailsamplingprocessor.NewFactory().CreateDefaultConfig,
		Create: func(cfg component.Config) (component.Component, error) {
			return genaitailsamplingprocessor.NewFactory().CreateTraces(context.Background(),
				processortest.NewNopSettings(genaitailsamplingprocessor.NewFactory().Type()), cfg, consumertest.NewNop())
		},
	})
}

func FuzzMetricsConfig(f *testing.F) {
	fuzz(f, Component{
		Seeds:     filepath.Join("..", "..", "connector", "genaimetricsconnector", "testdata", "config.yaml"),
		NewConfig: genaimetricsconnector.NewFactory().CreateDefaultConfig,
		Create: func(cfg component.Config) (component.Component, error) {
			conn, err := genaimetricsconnector.NewFactory().CreateTracesToMetrics(context.Background(),
				connectortest.NewNopSettings(genaimetricsconnector.NewFactory().Type()), cfg, consumertest.NewNop())
			if err != nil || cfg.(*genaimetricsconnector.Config).Processor == "" {
				return conn, err
			}
			// Fused: the processor it names is built after it, as the collector does, or the
			// connector refuses to start (by design: it counts in that processor's pass).
			var id component.ID
			if err := id.UnmarshalText([]byte(cfg.(*genaimetricsconnector.Config).Processor)); err != nil {
				return nil, err
			}
			set := processortest.NewNopSettings(genaiprocessor.NewFactory().Type())
			set.ID = id
			proc, err := genaiprocessor.NewFactory().CreateTraces(context.Background(), set,
				genaiprocessor.NewFactory().CreateDefaultConfig(), consumertest.NewNop())
			if err != nil {
				_ = conn.Shutdown(context.Background())
				return nil, err
			}
			return fused{conn: conn, proc: proc}, nil
		},
	})
}

// fused is a fused genai_metrics connector with the genai processor it counts in, started
// and shut down in the collector's orders.
type fused struct{ conn, proc component.Component }

func (f fused) Start(ctx context.Context, host component.Host) error {
	if err := f.conn.Start(ctx, host); err != nil {
		return err
	}
	return f.proc.Start(ctx, host)
}

func (f fused) Shutdown(ctx context.Context) error {
	return errors.Join(f.proc.Shutdown(ctx), f.conn.Shutdown(ctx))
}
