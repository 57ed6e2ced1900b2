package base

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTickerTicksWithTheFakeClockAndStops(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var n atomic.Int32
	ticks := make(chan struct{}, 8)
	tk := StartTicker(clock, time.Second, func() { n.Add(1); ticks <- struct{}{} })
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
	clock.Advance(999 * time.Millisecond)
	assert.Zero(t, n.Load(), "no tick before the interval")
	clock.Advance(time.Millisecond)
	<-ticks
	clock.Advance(time.Second)
	<-ticks
	assert.Equal(t, int32(2), n.Load())
	tk.Stop()
	tk.Stop()
	clock.Advance(time.Second)
	assert.Equal(t, int32(2), n.Load(), "no tick after Stop")
	var none *Ticker
	none.Stop()
}
