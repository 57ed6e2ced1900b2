//go:build cgo

package contribcompat

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/connector/spanmetricsconnector"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tollbooth-dev/tollbooth/go-shim/connector/genaimetricsconnector"
	"github.com/tollbooth-dev/tollbooth/go-shim/internal/testbatch"
	"github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"
)

// benchPatterns is the redaction block both processors get in the redaction benchmarks:
// contrib's own README example style, card numbers and e-mail addresses as value regexes.
func benchPatterns() map[string]any {
	return map[string]any{
		"allow_all_keys": true,
		"blocked_values": []any{
			`4[0-9]{12}(?:[0-9]{3})?`,                        // Visa
			`5[1-5][0-9]{14}`,                                // MasterCard
			`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, // e-mail
		},
		"summary": "info",
	}
}

// benchTenPatterns is what a contrib user writes to cover secrets and personal data with
// blocked_values alone: ten regexes over every string attribute.
func benchTenPatterns() map[string]any {
	return map[string]any{
		"allow_all_keys": true,
		"blocked_values": []any{
			`4[0-9]{12}(?:[0-9]{3})?`,                              // Visa
			`5[1-5][0-9]{14}`,                                      // MasterCard
			`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,       // e-mail
			`[0-9]{3}-[0-9]{2}-[0-9]{4}`,                           // US SSN
			`(?:AKIA|ASIA)[A-Z0-9]{16}`,                            // AWS access key id
			`gh[pousr]_[A-Za-z0-9]{36}`,                            // GitHub token
			`sk-[A-Za-z0-9_-]{20,}`,                                // OpenAI-style key
			`xox[abposr]-[A-Za-z0-9-]{10,}`,                        // Slack token
			`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`, // JWT
			`-----BEGIN [A-Z ]*PRIVATE KEY-----`,                   // PEM private key
		},
		"summary": "info",
	}
}

// defaultRedaction is the genai processor's redaction block of config/collector.yaml: the
// bundled gitleaks secret rules plus the built-in detectors it lists.
func defaultRedaction(b *testing.B) map[string]any {
	conf, err := confmaptest.LoadConf("../../../config/collector.yaml")
	require.NoError(b, err)
	genai, ok := conf.ToStringMap()["processors"].(map[string]any)["genai"].(map[string]any)
	require.True(b, ok)
	block, ok := genai["redaction"].(map[string]any)
	require.True(b, ok, "collector.yaml has a genai redaction block")
	require.Contains(b, block, "secret_rules")
	return block
}

// detectorBlock is Tollbooth's own way to find the same data (validated detectors, no regexes
// from the user), and the recommended set from config/collector.yaml.
func detectorBlock(detectors ...string) map[string]any {
	ds := make([]any, len(detectors))
	for i, d := range detectors {
		ds[i] = d
	}
	return map[string]any{"allow_all_keys": true, "detectors": ds, "summary": "info"}
}

func benchProcessor(b *testing.B, build func(testing.TB, map[string]any) (processor.Factory, component.Config), block map[string]any) {
	f, cfg := build(b, block)
	ctx := context.Background()
	p, err := f.CreateTraces(ctx, processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(b, err)
	require.NoError(b, p.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(b, p.Shutdown(ctx)) }()
	testbatch.BenchConsume(b, p.ConsumeTraces)
}

// BenchmarkRedaction: contrib `redaction` and `genai` (redaction only: pricing and name
// normalisation off) with the same patterns on the same batch; then `genai` with its own
// detectors instead of regexes.
func BenchmarkRedaction(b *testing.B) {
	b.Run("contrib_redaction/patterns", func(b *testing.B) { benchProcessor(b, contribConfig, benchPatterns()) })
	b.Run("genai/patterns", func(b *testing.B) { benchProcessor(b, oursConfig, benchPatterns()) })
	b.Run("genai/detectors_email_card", func(b *testing.B) {
		benchProcessor(b, oursConfig, detectorBlock("email", "credit_card"))
	})
	b.Run("genai/detectors_recommended", func(b *testing.B) {
		benchProcessor(b, oursConfig, detectorBlock("secrets", "email", "credit_card", "us_ssn", "iban"))
	})
	// Issue 15: the default configuration, with gitleaks' ~220 secret rules, against contrib
	// with ten regexes.
	b.Run("contrib_redaction/ten_patterns", func(b *testing.B) { benchProcessor(b, contribConfig, benchTenPatterns()) })
	b.Run("genai/default_config", func(b *testing.B) { benchProcessor(b, oursConfig, defaultRedaction(b)) })
	// The floor under every genai case: the batch marshalled, handed to the engine, read and
	// walked with nothing to look for (no detectors, no rules), and the edit list applied.
	b.Run("genai/floor_nothing_to_find", func(b *testing.B) {
		benchProcessor(b, oursConfig, map[string]any{
			"allow_all_keys": true, "detectors": []any{}, "summary": "info",
			"secret_rules": map[string]any{"include_default": false},
		})
	})
}

func benchConnector(b *testing.B, f connector.Factory, cfg component.Config) {
	ctx := context.Background()
	c, err := f.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(b, err)
	require.NoError(b, c.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(b, c.Shutdown(ctx)) }()
	// Both connectors only read the batch, so one batch serves every iteration (and the
	// copy loop of BenchConsume costs nothing measured either way).
	testbatch.BenchConsume(b, c.ConsumeTraces)
}

// BenchmarkSpanMetrics: aggregation per span, contrib `span_metrics` vs `genai_metrics`, on
// the same batch. The work differs (see BENCHMARKS.md): span_metrics aggregates every span
// (calls + duration histogram by service/span name/kind/status); genai_metrics recognises the
// inference spans and aggregates tokens, duration, cost, requests and errors per
// provider/model/operation/service.
func BenchmarkSpanMetrics(b *testing.B) {
	b.Run("contrib_span_metrics/default", func(b *testing.B) {
		f := spanmetricsconnector.NewFactory()
		benchConnector(b, f, f.CreateDefaultConfig())
	})
	b.Run("contrib_span_metrics/genai_dimensions", func(b *testing.B) {
		f := spanmetricsconnector.NewFactory()
		cfg := f.CreateDefaultConfig()
		unmarshalInto(b, map[string]any{"dimensions": []any{
			map[string]any{"name": "gen_ai.system"},
			map[string]any{"name": "gen_ai.request.model"},
			map[string]any{"name": "gen_ai.response.model"},
			map[string]any{"name": "gen_ai.operation.name"},
		}}, cfg)
		benchConnector(b, f, cfg)
	})
	// What genai_metrics pays before Rust sees a span: one pdata proto marshal of the batch.
	b.Run("floor/go_marshal_only", func(b *testing.B) {
		var m ptrace.ProtoMarshaler
		testbatch.BenchConsume(b, func(_ context.Context, td ptrace.Traces) error {
			_, err := m.MarshalTraces(td)
			return err
		})
	})
	b.Run("genai_metrics/default", func(b *testing.B) {
		f := genaimetricsconnector.NewFactory()
		benchConnector(b, f, f.CreateDefaultConfig())
	})
	// The first pipeline of config/collector.yaml: the genai processor (its cost and redaction
	// blocks as configured there) and genai_metrics after it. Alone: the processor without a
	// connector, for reference; separate: the connector marshals each batch again for its own
	// engine; fused: the connector counts in the processor's pass (`processor: genai`).
	for _, wiring := range []string{"alone", "separate", "fused"} {
		b.Run("genai_then_genai_metrics/"+wiring, func(b *testing.B) {
			benchProcessorThenConnector(b, wiring)
		})
	}
}

// benchProcessorThenConnector builds genai -> genai_metrics in the collector's order (the
// connector first) and times the processor's ConsumeTraces, which hands each batch on.
func benchProcessorThenConnector(b *testing.B, wiring string) {
	ctx, host := context.Background(), componenttest.NewNopHost()
	cm, err := confmaptest.LoadConf("../../../config/collector.yaml")
	require.NoError(b, err)
	pf := genaiprocessor.NewFactory()
	pcfg := pf.CreateDefaultConfig()
	sub, err := cm.Sub("processors::genai")
	require.NoError(b, err)
	require.NoError(b, sub.Unmarshal(pcfg))
	var next consumer.Traces = consumertest.NewNop()
	if wiring != "alone" {
		cf := genaimetricsconnector.NewFactory()
		ccfg := cf.CreateDefaultConfig()
		if wiring == "fused" {
			unmarshalInto(b, map[string]any{"processor": "genai"}, ccfg)
		}
		conn, err := cf.CreateTracesToMetrics(ctx, connectortest.NewNopSettings(cf.Type()), ccfg, consumertest.NewNop())
		require.NoError(b, err)
		defer func() { require.NoError(b, conn.Shutdown(ctx)) }()
		next = conn
	}
	proc, err := pf.CreateTraces(ctx, processortest.NewNopSettings(pf.Type()), pcfg, next)
	require.NoError(b, err)
	if c, ok := next.(component.Component); ok {
		require.NoError(b, c.Start(ctx, host))
	}
	require.NoError(b, proc.Start(ctx, host))
	defer func() { require.NoError(b, proc.Shutdown(ctx)) }()
	testbatch.BenchConsume(b, proc.ConsumeTraces)
}
