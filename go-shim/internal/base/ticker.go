package base

import (
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Ticker calls a function every interval on its own goroutine until Stop. Time comes from
// an injected clock, so tests advance a fake clock instead of sleeping.
type Ticker struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartTicker starts calling fn every interval of clock.
func StartTicker(clock clockwork.Clock, interval time.Duration, fn func()) *Ticker {
	t := &Ticker{stop: make(chan struct{}), done: make(chan struct{})}
	ticker := clock.NewTicker(interval)
	go func() {
		defer close(t.done)
		defer ticker.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-ticker.Chan():
				fn()
			}
		}
	}()
	return t
}

// Stop ends the ticks and waits for a call in progress. Safe on nil and more than once.
func (t *Ticker) Stop() {
	if t == nil {
		return
	}
	t.once.Do(func() { close(t.stop) })
	<-t.done
}
