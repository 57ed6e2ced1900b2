package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// What happens to a batch the engine could not process while redaction is configured
// (`redaction.on_error`). Cost and metrics expose nothing, so without redaction a failed batch
// always passes on (fail-open, counted); with redaction, passing it on would export every
// secret in it, so the default is to drop it.
const (
	onErrorDrop = "drop"
	// onErrorPass forwards the batch unredacted: an explicit, documented-as-unsafe opt-in.
	onErrorPass = "pass"
)

// onErrorPolicy reads `redaction.on_error`; absent means drop.
func onErrorPolicy(redaction map[string]any) (string, error) {
	v, ok := redaction["on_error"]
	if !ok {
		return onErrorDrop, nil
	}
	s, isStr := v.(string)
	if !isStr || (s != onErrorDrop && s != onErrorPass) {
		return "", fmt.Errorf("redaction.on_error must be %q (the default: a batch redaction could not run on is dropped and counted) or %q (forward it unredacted: unsafe), got %v", onErrorDrop, onErrorPass, v)
	}
	return s, nil
}

// errorLog logs at ERROR level at most once per interval and says how many events the
// silence covered, so a failing engine cannot flood the collector's log.
type errorLog struct {
	logger   *zap.Logger
	interval time.Duration
	now      func() time.Time

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func newErrorLog(logger *zap.Logger) *errorLog {
	return &errorLog{logger: logger, interval: time.Minute, now: time.Now}
}

func (l *errorLog) error(msg string, fields ...zap.Field) {
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	if suppressed > 0 {
		fields = append(fields, zap.Int("similar_events_not_logged", suppressed))
	}
	l.logger.Error(msg, fields...)
}
