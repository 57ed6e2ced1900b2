// Command pipelinebench runs the whole collector pipeline side by side: Tollbooth's default
// configuration (config/collector.yaml) and the stock contrib components doing the same work
// (contrib.yaml), on the bench distribution, with the same pre-encoded GenAI workload posted over
// OTLP/HTTP. Each run is a fresh collector process; runs are interleaved (ours, contrib, ours,
// ...). It measures the collector's CPU seconds and peak RSS from /proc, checks the output in
// the same run (kept trace IDs, planted secrets, prices) and prints the ratio table.
//
//	pipelinebench -bin build/otelcol-tollbooth-bench -spans 131072 -reps 3
//
// `make bench-pipeline` builds and runs it; BENCHMARKS.md records results. Timings never
// decide the exit code; a failed correctness check does.
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

//go:embed contrib.yaml
var contribYAML []byte

// variant is one row of the table: how each side's config differs from its base, and
// whether the load is paced.
type variant struct {
	name, desc string
	ours       func(config)
	contrib    func(config)
	paced      bool
	unredacted bool // planted secrets are expected in the output (reported, not a failure)
}

func removeProcessor(c config, pipeline, proc string) {
	p := c.m("service", "pipelines", pipeline)
	var keep []any
	for _, x := range p["processors"].([]any) {
		if x != proc {
			keep = append(keep, x)
		}
	}
	p["processors"] = keep
}

var variants = []variant{
	{name: "redact", desc: "full pipeline, redaction on (ours: config/collector.yaml as it is; genai_metrics counts in genai's pass)",
		ours: func(config) {}, contrib: func(config) {}},
	{name: "noredact", desc: "redaction off on both sides (ours: genai redaction.enabled false)",
		ours:    noRedaction,
		contrib: func(c config) { removeProcessor(c, "traces", "redaction") }, unredacted: true},
	{name: "paced", desc: "full pipeline, redaction on, posted at a fixed rate (memory at equal load; config/collector.yaml as it is)",
		ours: func(config) {}, contrib: func(config) {}, paced: true},
	{name: "separate", desc: "as redact, ours with genai_metrics on an engine of its own (a second crossing per batch)",
		ours: separate, contrib: func(config) {}},
	{name: "separate-noredact", desc: "as noredact, ours with genai_metrics separate",
		ours:    func(c config) { noRedaction(c); separate(c) },
		contrib: func(c config) { removeProcessor(c, "traces", "redaction") }, unredacted: true},
}

// fused makes genai_metrics count in the genai processor's pass (one crossing per batch).
// config/collector.yaml may already say so; then this changes nothing.
func fused(c config) {
	c.m("connectors", "genai_metrics")["processor"] = "genai"
}

// separate makes genai_metrics count with an engine of its own (a second crossing).
func separate(c config) {
	delete(c.m("connectors", "genai_metrics"), "processor")
}

// stage is one step of the per-stage breakdown: the first pipeline cut down to some of its
// components, ending in the debug exporter (no sampling, no file). Both sides add the same
// kinds of work in the same order (cost, metrics, redaction), so each step is comparable and
// the cheap steps are measured before the expensive redaction adds its noise.
type stage struct {
	side, name string
	edit       func(config)
	// from names the stage this one adds to when it is not the one listed before it.
	from string
}

func debugOnly(c config, procs []string, exporters ...string) {
	c.m("exporters")["debug"] = map[string]any{"verbosity": "basic"}
	c.onlyPipelines("traces")
	c.pipeline("traces", []string{"otlp"}, procs, append(exporters, "debug"))
	for _, e := range exporters {
		c.pipeline("metrics/"+e, []string{e}, nil, []string{"prometheus"})
	}
}

func noRedaction(c config) {
	c.m("processors", "genai")["redaction"] = map[string]any{"enabled": false}
}

var stages = []stage{
	{"floor", "otlp -> debug", func(c config) { debugOnly(c, nil) }, ""},
	{"ours", "+ genai cost (redaction off)", func(c config) { noRedaction(c); debugOnly(c, []string{"genai"}) }, ""},
	{"ours", "+ genai_metrics", func(c config) { noRedaction(c); separate(c); debugOnly(c, []string{"genai"}, "genai_metrics") }, ""},
	{"ours", "+ genai redaction", func(c config) { separate(c); debugOnly(c, []string{"genai"}, "genai_metrics") }, ""},
	{"ours", "+ genai_metrics fused (redaction off)", func(c config) { noRedaction(c); fused(c); debugOnly(c, []string{"genai"}, "genai_metrics") }, "+ genai cost (redaction off)"},
	{"ours", "+ genai redaction, fused", func(c config) { fused(c); debugOnly(c, []string{"genai"}, "genai_metrics") }, ""},
	{"contrib", "+ transform cost", func(c config) { debugOnly(c, []string{"transform/cost"}) }, ""},
	{"contrib", "+ span_metrics", func(c config) { debugOnly(c, []string{"transform/cost"}, "span_metrics") }, ""},
	{"contrib", "+ redaction", func(c config) { debugOnly(c, []string{"transform/cost", "redaction"}, "span_metrics") }, ""},
}

type opts struct {
	bin, oursConfig, out     string
	spans, reps, conns, seed int
	pace, samplePercent      float64
	decisionWait             string
	variants, sides          []string
	stages, keep, smoke      bool
	callgrind                bool
}

// result is one run.
type result struct {
	Side, Variant string
	Rep           int
	Spans         int
	CPUSeconds    float64 // collector, first batch sent -> last kept span exported
	Instructions  float64 `json:",omitempty"` // the same span of work, counted by callgrind
	StartupCPU    float64 // collector, before the first batch
	PeakRSSMiB    float64
	WallSeconds   float64
	SendSeconds   float64
	GenCPUSeconds float64 // this harness while it posted
	BatchesPerSec float64 // achieved posting rate
	Retries       int64   // batches refused (429/503) and sent again
	EarlyDecided  float64 // traces decided before decision_wait (ours) / evicted undecided (contrib)
	MetricsCalls  float64 // calls the metrics connector counted (ours: chat spans, contrib: spans)
	Checks        *checks `json:",omitempty"`
	Err           string  `json:",omitempty"`
}

func (r result) spansPerCPU() float64 { return float64(r.Spans) / r.CPUSeconds }

// cost is the per-span measure of the stage table: CPU microseconds, or instructions under
// callgrind.
func (r result) cost() float64 {
	if r.Instructions > 0 {
		return r.Instructions / float64(r.Spans)
	}
	return 1e6 * r.CPUSeconds / float64(r.Spans)
}

func main() {
	var o opts
	var variantList, sideList string
	flag.StringVar(&o.bin, "bin", "build/otelcol-tollbooth-bench", "collector binary (the bench distribution has both sides)")
	flag.StringVar(&o.oursConfig, "ours-config", "config/collector.yaml", "our config (the default one)")
	flag.StringVar(&o.out, "out", "build/bench-pipeline", "directory for run outputs and results.json")
	flag.IntVar(&o.spans, "spans", 131072, "spans per run (rounded up to 1024-span batches)")
	flag.IntVar(&o.reps, "reps", 3, "interleaved repetitions of every variant and side")
	flag.IntVar(&o.conns, "conns", 2, "concurrent OTLP/HTTP posts when unpaced")
	flag.IntVar(&o.seed, "seed", 1, "workload seed")
	flag.Float64Var(&o.pace, "pace", 8, "batches per second in the paced variant")
	flag.Float64Var(&o.samplePercent, "sample-percent", 10, "probabilistic policy percentage (both sides)")
	flag.StringVar(&o.decisionWait, "decision-wait", "2s", "decision_wait (both sides)")
	flag.StringVar(&variantList, "variants", "redact,noredact,paced", "variants to run")
	flag.StringVar(&sideList, "sides", "ours,contrib", "sides to run (a single side gives no ratios)")
	flag.BoolVar(&o.stages, "stages", false, "also run the per-stage breakdown (one run per stage)")
	flag.BoolVar(&o.keep, "keep", false, "keep each run's traces.jsonl")
	flag.BoolVar(&o.callgrind, "callgrind", false, "count instructions (valgrind callgrind) instead of CPU time: stages and the redact variant, one run each, small workload")
	flag.BoolVar(&o.smoke, "smoke", false, "correctness only: 8192 spans, one repetition, redact and noredact")
	flag.Parse()
	if o.smoke {
		o.spans, o.reps, variantList = 8192, 1, "redact,noredact"
	}
	if o.callgrind {
		// Instruction counts hardly vary from run to run; under callgrind a run is ~50x slower.
		o.reps, o.stages, variantList = 1, true, "redact,noredact"
		given := false
		flag.Visit(func(f *flag.Flag) { given = given || f.Name == "spans" })
		if !given {
			o.spans = 4096
		}
	}
	o.variants, o.sides = strings.Split(variantList, ","), strings.Split(sideList, ",")
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipelinebench:", err)
		os.Exit(2)
	}
	if !ok {
		fmt.Fprintln(os.Stderr, "pipelinebench: correctness checks FAILED (see above)")
		os.Exit(1)
	}
}

// current is the collector of the run in progress, stopped if the harness is interrupted.
var current atomic.Pointer[collector]

func run(o opts) (bool, error) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		if c := current.Load(); c != nil {
			_ = c.cmd.Process.Kill()
		}
		os.Exit(130)
	}()
	oursRaw, err := os.ReadFile(o.oursConfig)
	if err != nil {
		return false, err
	}
	bases := map[string]config{}
	if bases["ours"], err = loadConfig(oursRaw); err != nil {
		return false, fmt.Errorf("%s: %w", o.oursConfig, err)
	}
	if bases["contrib"], err = loadConfig(contribYAML); err != nil {
		return false, fmt.Errorf("contrib.yaml: %w", err)
	}
	if _, err := os.Stat(o.bin); err != nil {
		return false, fmt.Errorf("%w (build it with `make dist-bench`)", err)
	}
	if o.bin, err = filepath.Abs(o.bin); err != nil {
		return false, err
	}
	batches := (o.spans + spansPerTrace*tracesPerBatch - 1) / (spansPerTrace * tracesPerBatch)
	t0 := time.Now()
	w := buildWorkload(batches, uint64(o.seed), o.samplePercent)
	expT, expS := w.expected()
	bytes := 0
	for _, b := range w.bodies {
		bytes += len(b)
	}
	fmt.Printf("workload: %d spans in %d batches (%.1f MB of OTLP protobuf, built in %.1fs); %d traces, %d to keep (%d spans)\n",
		w.spans, len(w.bodies), float64(bytes)/1e6, time.Since(t0).Seconds(), len(w.traces), expT, expS)
	fmt.Printf("load average at start: %s\n", loadavg())
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return false, err
	}
	var results []result
	firstCosts := map[string]map[string]float64{} // variant/side -> span costs of its first run
	ok := true
	for rep := 1; rep <= o.reps; rep++ {
		for _, name := range o.variants {
			v, found := lookup(name)
			if !found {
				return false, fmt.Errorf("unknown variant %q", name)
			}
			for _, side := range o.sides {
				cfg := bases[side].clone()
				if side == "ours" {
					v.ours(cfg)
				} else {
					v.contrib(cfg)
				}
				r := runOne(o, w, cfg, side, v.name, rep, v.paced, true)
				if r.Checks != nil {
					r.Checks.unredacted = v.unredacted
				}
				results = append(results, r)
				printRun(r)
				if r.Err != "" || len(r.Checks.failures()) > 0 {
					ok = false
				}
				if r.Checks != nil && firstCosts[v.name+"/"+side] == nil {
					firstCosts[v.name+"/"+side] = r.Checks.costs
				}
			}
		}
	}
	var stageResults []result
	for rep := 1; o.stages && rep <= o.reps; rep++ {
		for _, s := range stages {
			if s.side != "floor" && !contains(o.sides, s.side) {
				continue
			}
			base := s.side
			if base == "floor" {
				base = "ours"
			}
			cfg := bases[base].clone()
			s.edit(cfg)
			r := runOne(o, w, cfg, s.side, s.name, rep, false, false)
			stageResults = append(stageResults, r)
			printRun(r)
			if r.Err != "" {
				ok = false
			}
		}
	}
	fmt.Printf("load average at end: %s\n", loadavg())
	printTable(o, results)
	for _, name := range o.variants {
		a, b := firstCosts[name+"/ours"], firstCosts[name+"/contrib"]
		if a != nil && b != nil {
			n, d := costDiffs(a, b)
			fmt.Printf("cost per chat span, ours vs contrib's OTTL (%s): %d spans compared, %d differ\n", name, n, d)
			if d > 0 {
				ok = false
			}
		}
	}
	if o.stages {
		printStages(results, stageResults)
	}
	out, _ := json.MarshalIndent(map[string]any{"options": o, "load_end": loadavg(), "runs": results, "stages": stageResults}, "", " ")
	return ok, os.WriteFile(filepath.Join(o.out, "results.json"), out, 0o644)
}

func lookup(name string) (variant, bool) {
	for _, v := range variants {
		if v.name == name {
			return v, true
		}
	}
	return variant{}, false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// runOne starts a fresh collector, posts the workload, waits until the last expected span
// is exported, reads CPU and peak RSS, stops the collector and checks its output.
func runOne(o opts, w *workload, cfg config, side, variant string, rep int, paced, full bool) result {
	r := result{Side: side, Variant: variant, Rep: rep, Spans: w.spans}
	fail := func(err error) result { r.Err = err.Error(); return r }
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, fmt.Sprintf("%s-%s-%d", variant, side, rep))
	dir, _ := filepath.Abs(filepath.Join(o.out, name))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := cfg.write(cfgPath); err != nil {
		return fail(err)
	}
	runtime.GC() // the harness's own garbage never competes with the run
	c, err := startCollector(o.bin, cfgPath, dir, o.decisionWait, o.samplePercent, o.callgrind)
	if err != nil {
		return fail(err)
	}
	if o.callgrind {
		if err := c.instrument(true); err != nil {
			return fail(err)
		}
	}
	current.Store(c)
	defer current.Store(nil)
	defer func() {
		if err := c.stop(); err != nil && r.Err == "" {
			r.Err = "stop: " + err.Error()
		}
	}()
	cpu0, err := procCPU(c.pid())
	if err != nil {
		return fail(err)
	}
	r.StartupCPU = cpu0
	gen0, t0 := selfCPU(), time.Now()
	retries, err := send(c.http, w.bodies, o.conns, paced, o.pace)
	r.SendSeconds, r.GenCPUSeconds, r.Retries = time.Since(t0).Seconds(), selfCPU()-gen0, retries
	r.BatchesPerSec = float64(len(w.bodies)) / r.SendSeconds
	if err != nil {
		return fail(err)
	}
	// Done when every span was accepted and the exporter has written what the policies keep
	// (stages: every span). Then the collector's CPU is read, before anything else.
	exporter, want := "debug", w.spans
	if full {
		exporter = "file"
		_, want = w.expected()
	}
	var self string
	last, lastChange := -1.0, time.Now()
	// Each scrape costs the collector a little; under callgrind the wait is long, so ask less.
	poll := 250 * time.Millisecond
	if o.callgrind {
		poll = 2 * time.Second
	}
	for {
		time.Sleep(poll)
		if self, err = scrape(c.self); err != nil {
			return fail(err)
		}
		sent := metric(self, "otelcol_exporter_sent_spans", "exporter", exporter)
		if sent != last {
			last, lastChange = sent, time.Now()
		}
		if int(sent) == want && int(metric(self, "otelcol_receiver_accepted_spans")) == w.spans {
			break
		}
		if time.Since(lastChange) > 30*time.Second {
			return fail(fmt.Errorf("exported %v spans, expected %d; stuck for 30 s", sent, want))
		}
	}
	if o.callgrind {
		if err := c.instrument(false); err != nil {
			return fail(err)
		}
	}
	cpu1, err := procCPU(c.pid())
	if err != nil {
		return fail(err)
	}
	hwm, err := procHWM(c.pid())
	if err != nil {
		return fail(err)
	}
	r.CPUSeconds, r.PeakRSSMiB, r.WallSeconds = cpu1-cpu0, float64(hwm)/(1<<20), time.Since(t0).Seconds()
	// Under callgrind the counts are written when the collector exits.
	stop := func() error {
		if err := c.stop(); err != nil || !o.callgrind {
			return err
		}
		r.Instructions, err = callgrindTotal(filepath.Join(dir, "callgrind.out"))
		return err
	}
	if !full {
		if err := stop(); err != nil {
			return fail(err)
		}
		return r
	}
	r.EarlyDecided = metric(self, "otelcol_processor_genai_tail_sampling_early_decisions") +
		metric(self, "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early")
	// The metrics connectors flush every 5 s; wait for them to have counted every call.
	wantCalls := float64(w.spans)
	callsMetric := "traces_span_metrics_calls"
	if side == "ours" {
		wantCalls, callsMetric = float64(3*len(w.traces)), "tollbooth_genai_requests"
	}
	for deadline := time.Now().Add(12 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if text, err := scrape(c.prom); err == nil {
			if r.MetricsCalls = metric(text, callsMetric); r.MetricsCalls == wantCalls {
				break
			}
		}
	}
	if err := stop(); err != nil {
		return fail(err)
	}
	out := filepath.Join(dir, "traces.jsonl")
	ch, err := checkOutput(out, w)
	if err != nil {
		return fail(err)
	}
	if r.MetricsCalls != wantCalls {
		r.Err = fmt.Sprintf("metrics counted %v calls, want %v", r.MetricsCalls, wantCalls)
	}
	r.Checks = &ch
	if !o.keep {
		_ = os.Remove(out)
	}
	return r
}

// selfCPU is this process's user + system time: the generator's cost while it posts.
func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// send posts every body to the OTLP/HTTP receiver: unpaced, `conns` at a time as fast as
// they are accepted; paced, one every 1/pace seconds whatever the previous one is doing.
// A refused batch (429/503: the collector pushing back) is sent again and counted.
func send(addr string, bodies [][]byte, conns int, paced bool, pace float64) (int64, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 120 * time.Second}
	url := "http://" + addr + "/v1/traces"
	var retries atomic.Int64
	post := func(body []byte) error {
		for {
			resp, err := client.Post(url, "application/x-protobuf", bytes.NewReader(body))
			if err != nil {
				return err
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				return nil
			case 429, 503:
				retries.Add(1)
				time.Sleep(50 * time.Millisecond)
			default:
				return fmt.Errorf("POST %s: %s", url, resp.Status)
			}
		}
	}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	do := func(b []byte) {
		defer wg.Done()
		if err := post(b); err != nil {
			firstErr.CompareAndSwap(nil, err)
		}
	}
	if paced {
		// At most 8 posts in flight: a collector that cannot keep up slows the pace (the
		// achieved rate is reported) instead of piling up requests.
		slots := make(chan struct{}, 8)
		tick := time.NewTicker(time.Duration(float64(time.Second) / pace))
		defer tick.Stop()
		for _, b := range bodies {
			<-tick.C
			slots <- struct{}{}
			wg.Add(1)
			go func() { do(b); <-slots }()
		}
	} else {
		var next atomic.Int64
		for i := 0; i < conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := next.Add(1) - 1; int(j) < len(bodies); j = next.Add(1) - 1 {
					if err := post(bodies[j]); err != nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return retries.Load(), err
	}
	return retries.Load(), nil
}
