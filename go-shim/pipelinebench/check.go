package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// checks is what one run's output says about correctness. Every count but the first four
// should be zero.
type checks struct {
	KeptTraces, ExpectedTraces int
	SecretsChecked             int // planted secrets in kept traces
	DecoysChecked              int // non-secret look-alikes in kept traces
	MissingKept                int // expected kept (policy or hash), absent
	MissingDeterministic       int // error / slow / expensive traces absent
	ExtraKept                  int // kept though no policy should keep it
	Incomplete                 int // kept with fewer or more spans than sent
	SecretsUnmasked            int // a planted secret survives, whole, in the output
	DecoysAltered              int // false positives: a look-alike was masked
	IDsAltered                 int // of which provider response IDs (the rest: tracking numbers)
	ChatSpans, ChatUnpriced    int // chat spans seen / without a cost
	CostClassMismatch          int // kept traces whose summed cost disagrees with their design

	costs      map[string]float64 // span ID -> gen_ai.usage.cost, compared across sides
	unredacted bool               // redaction is off: secrets are expected in the output
}

func (c checks) failures() []string {
	var f []string
	add := func(n int, what string) {
		if n != 0 {
			f = append(f, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(c.MissingDeterministic, "error/slow/expensive traces not kept")
	add(c.MissingKept, "expected traces not kept")
	add(c.ExtraKept, "unexpected traces kept")
	add(c.Incomplete, "incomplete traces")
	if !c.unredacted {
		add(c.SecretsUnmasked, "planted secrets unmasked")
	}
	add(c.ChatUnpriced, "chat spans without a cost")
	add(c.CostClassMismatch, "traces whose cost contradicts the workload's design")
	return f
}

// checkOutput reads the file exporter's OTLP JSON lines and compares them with what the
// workload planted and what the policies must keep.
func checkOutput(path string, w *workload) (checks, error) {
	c := checks{costs: map[string]float64{}}
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	spans := map[string]int{}
	cost := map[string]float64{}
	found := map[string]bool{} // "trace/value" for every secret or decoy seen intact
	r := bufio.NewReaderSize(f, 1<<20)
	var u ptrace.JSONUnmarshaler
	for {
		line, err := r.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			td, uerr := u.UnmarshalTraces(line)
			if uerr != nil {
				return c, fmt.Errorf("%s: %w", path, uerr)
			}
			forSpans(td, func(s ptrace.Span) {
				id := s.TraceID().String()
				spans[id]++
				ti := w.byID[id]
				if ti == nil {
					return
				}
				var text strings.Builder
				s.Attributes().Range(func(_ string, v pcommon.Value) bool {
					text.WriteString(v.AsString())
					text.WriteByte('\n')
					return true
				})
				text.WriteString(s.Status().Message())
				for _, v := range append(ti.secrets, ti.decoys...) {
					if strings.Contains(text.String(), v) {
						found[id+"/"+v] = true
					}
				}
				a := s.Attributes()
				if op, _ := a.Get("gen_ai.operation.name"); op.Str() == "chat" {
					c.ChatSpans++
					v, ok := a.Get("gen_ai.usage.cost")
					if !ok {
						c.ChatUnpriced++
						return
					}
					x := v.Double()
					if v.Type() == pcommon.ValueTypeInt {
						x = float64(v.Int())
					}
					c.costs[s.SpanID().String()] = x
					cost[id] += x
				}
			})
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return c, err
		}
	}
	for i := range w.traces {
		ti := &w.traces[i]
		n, kept := spans[ti.id]
		switch {
		case kept && !ti.keep():
			c.ExtraKept++
		case !kept && ti.keep():
			c.MissingKept++
			if ti.err || ti.slow || ti.pricey {
				c.MissingDeterministic++
			}
		}
		if ti.keep() {
			c.ExpectedTraces++
		}
		if !kept {
			continue
		}
		c.KeptTraces++
		if n != ti.allSpans {
			c.Incomplete++
		}
		if (cost[ti.id] >= costThreshold) != ti.pricey {
			c.CostClassMismatch++
		}
		for _, v := range ti.secrets {
			c.SecretsChecked++
			if found[ti.id+"/"+v] {
				c.SecretsUnmasked++
			}
		}
		for _, v := range ti.decoys {
			c.DecoysChecked++
			if !found[ti.id+"/"+v] {
				c.DecoysAltered++
				if strings.Trim(v, "0123456789") != "" {
					c.IDsAltered++
				}
			}
		}
	}
	return c, nil
}

func forSpans(td ptrace.Traces, fn func(ptrace.Span)) {
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			sp := ss.At(j).Spans()
			for k := 0; k < sp.Len(); k++ {
				fn(sp.At(k))
			}
		}
	}
}

// costDiffs counts spans both sides kept whose costs differ by more than a rounding error.
func costDiffs(a, b map[string]float64) (compared, differ int) {
	for id, x := range a {
		y, ok := b[id]
		if !ok {
			continue
		}
		compared++
		if math.Abs(x-y) > 1e-9*math.Max(math.Abs(x), 1e-6) {
			differ++
		}
	}
	return
}
