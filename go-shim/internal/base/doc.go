// Package base holds what the three Tollbooth components share: the engine and its
// lifecycle (start and shut down once, engine freed last), the batch path into the engine
// (marshal, one engine call, apply the edits or report why not), tickers on an injectable
// clock (tests advance a fake one instead of sleeping), and the one callback through which
// a component's asynchronous instruments read the engine's counters.
package base // import "github.com/tollbooth-dev/tollbooth/go-shim/internal/base"
