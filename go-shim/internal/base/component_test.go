//go:build cgo

package base

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

func chat() ptrace.Traces {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("chat")
	s.Attributes().PutStr("gen_ai.system", "openai")
	return td
}

func TestLifecycleRunsOnceAndTicksOnTheClock(t *testing.T) {
	clock := clockwork.NewFakeClock()
	c, err := New(nil, clock)
	require.NoError(t, err)
	ticks, finals, closes := make(chan struct{}, 4), 0, 0
	c.Every(time.Second, func() { ticks <- struct{}{} })
	c.AtShutdown(func(context.Context) { finals++ })
	c.OnClose(func() { closes++ })
	host := componenttest.NewNopHost()
	require.NoError(t, c.Start(context.Background(), host))
	require.NoError(t, c.Start(context.Background(), host))
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1), "one ticker, however often Start runs")
	clock.Advance(time.Second)
	<-ticks
	require.NoError(t, c.Shutdown(context.Background()))
	require.NoError(t, c.Shutdown(context.Background()))
	assert.Equal(t, [2]int{1, 1}, [2]int{finals, closes})
	_, _, err = c.Consume(chat(), true)
	assert.ErrorIs(t, err, engine.ErrClosed, "the engine is freed")
}

func TestShutdownWithoutStartStillFlushesAndAStartAfterItDoesNothing(t *testing.T) {
	clock := clockwork.NewFakeClock()
	c, err := New(nil, clock)
	require.NoError(t, err)
	finals := 0
	c.Every(time.Second, func() { t.Error("ticked after shutdown") })
	c.AtShutdown(func(context.Context) { finals++ })
	require.NoError(t, c.Shutdown(context.Background()))
	require.NoError(t, c.Start(context.Background(), componenttest.NewNopHost()))
	clock.Advance(time.Hour)
	assert.Equal(t, 1, finals)
}

func TestConsumeAppliesEditsAndNamesWhyItFailed(t *testing.T) {
	c, err := New(nil, clockwork.NewRealClock())
	require.NoError(t, err)
	defer c.Close()
	td := chat()
	res, reason, err := c.Consume(td, true)
	require.NoError(t, err)
	assert.Empty(t, reason)
	assert.Equal(t, 1, res.Applied)
	v, _ := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("gen_ai.provider.name")
	assert.Equal(t, "openai", v.Str())

	untouched := chat()
	res, _, err = c.Consume(untouched, false)
	require.NoError(t, err)
	assert.Zero(t, res.Applied, "edits ignored without apply")

	c.Process = func([]byte, time.Time, func([]byte) error) error {
		return &engine.Error{Op: "process", Status: engine.StatusDecodeError, Message: "bad"}
	}
	_, reason, err = c.Consume(chat(), true)
	var engErr *engine.Error
	require.True(t, errors.As(err, &engErr))
	assert.Equal(t, "undecodable", reason)
}
