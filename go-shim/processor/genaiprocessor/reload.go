package genaiprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaiprocessor"

import (
	"time"

	"go.uber.org/zap"

	"github.com/tollbooth-dev/tollbooth/go-shim/internal/engine"
)

// reloadWatchInterval is how often the processor looks whether a pricing or secret-rules file
// failed to reload. The engine reloads inside a batch and cannot log; a ticker reads two
// counters (one cgo call, no allocation in Go) and fetches the reason (JSON) only when one
// rose, so batches never pay for it. A second is short enough that the reason is still the
// failed reload's when it is read (a good reload clears it) and shutdown looks once more.
const reloadWatchInterval = time.Second

// reloadWatch remembers the failed-reload counts already warned about. Only the ticker
// goroutine touches it, and the shutdown check once the ticker has stopped.
type reloadWatch struct {
	pricingErrors uint64
	ruleErrors    uint64
}

// checkReloads warns once for every tick in which a pricing or secret-rules reload failed,
// naming the file and the reason.
func (p *genaiProcessor) checkReloads() {
	var c engine.Counters
	if p.Engine.ReadCounters(&c) != nil {
		return
	}
	pricing := c.PricingReloadErrors > p.watch.pricingErrors
	rules := c.SecretRulesReloadErrors > p.watch.ruleErrors
	p.watch = reloadWatch{pricingErrors: c.PricingReloadErrors, ruleErrors: c.SecretRulesReloadErrors}
	if !pricing && !rules {
		return
	}
	report, err := p.Engine.Report()
	if err != nil {
		return
	}
	if pricing {
		p.logger.Warn("a pricing file could not be reloaded; the last good price table stays in use",
			zap.String("error", report.PricingLastReloadError))
	}
	if rules && report.SecretRules != nil {
		p.logger.Warn("a secret rules file could not be reloaded; the last good rules stay in use",
			zap.String("error", report.SecretRules.LastError))
	}
}
