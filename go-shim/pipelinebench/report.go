package main

import (
	"fmt"
	"sort"
	"strings"
)

// printRun prints one run as it finishes, so a long benchmark shows progress.
func printRun(r result) {
	if r.Err != "" {
		fmt.Printf("%-9s %-15s rep %d: ERROR: %s\n", r.Side, r.Variant, r.Rep, r.Err)
		return
	}
	status := "ok"
	if r.Checks != nil {
		if f := r.Checks.failures(); len(f) > 0 {
			status = "CHECK FAILED: " + strings.Join(f, ", ")
		}
	}
	fmt.Printf("%-9s %-15s rep %d: %6.2f CPU-s  %8.0f spans/CPU-s  peak RSS %6.1f MiB  wall %5.1fs  sent at %5.1f batches/s  generator %4.2f CPU-s  early %v  load %s  %s\n",
		r.Side, r.Variant, r.Rep, r.CPUSeconds, r.spansPerCPU(), r.PeakRSSMiB, r.WallSeconds, r.BatchesPerSec,
		r.GenCPUSeconds, r.EarlyDecided, loadavg(), status)
	if c := r.Checks; c != nil {
		fmt.Printf("          kept %d/%d traces; secrets unmasked %d/%d; look-alikes altered %d/%d; chat spans unpriced %d/%d\n",
			c.KeptTraces, c.ExpectedTraces, c.SecretsUnmasked, c.SecretsChecked, c.DecoysAltered, c.DecoysChecked,
			c.ChatUnpriced, c.ChatSpans)
	}
}

// stat is "median [min-max]" of one measure over the repetitions.
func stat(rs []result, f func(result) float64) (med float64, s string) {
	var xs []float64
	for _, r := range rs {
		if r.Err == "" {
			xs = append(xs, f(r))
		}
	}
	if len(xs) == 0 {
		return 0, "-"
	}
	sort.Float64s(xs)
	med = xs[len(xs)/2]
	if len(xs)%2 == 0 {
		med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return med, fmt.Sprintf("%.0f [%.0f-%.0f]", med, xs[0], xs[len(xs)-1])
}

func printTable(o opts, results []result) {
	pick := func(side, variant string) []result {
		var out []result
		for _, r := range results {
			if r.Side == side && r.Variant == variant {
				out = append(out, r)
			}
		}
		return out
	}
	fmt.Printf("\n%d spans a run, %d repetitions, medians [min-max]\n", results[0].Spans, o.reps)
	if o.callgrind {
		fmt.Println("| variant | ours instructions/span | contrib instructions/span | contrib / ours |")
		fmt.Println("|---|---|---|---|")
		for _, name := range o.variants {
			oi, ois := stat(pick("ours", name), result.cost)
			ci, cis := stat(pick("contrib", name), result.cost)
			fmt.Printf("| %s | %s | %s | %.2fx |\n", name, ois, cis, ci/oi)
		}
	}
	fmt.Println("| variant | ours spans/CPU-s | contrib spans/CPU-s | ratio | ours peak RSS MiB | contrib peak RSS MiB | ratio |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, name := range o.variants {
		ours, theirs := pick("ours", name), pick("contrib", name)
		oc, ocs := stat(ours, result.spansPerCPU)
		cc, ccs := stat(theirs, result.spansPerCPU)
		om, oms := stat(ours, func(r result) float64 { return r.PeakRSSMiB })
		cm, cms := stat(theirs, func(r result) float64 { return r.PeakRSSMiB })
		fmt.Printf("| %s | %s | %s | %.2fx | %s | %s | %.2fx |\n", name, ocs, ccs, oc/cc, oms, cms, om/cm)
		if v, _ := lookup(name); v.paced {
			for _, r := range append(ours, theirs...) {
				if r.Err == "" && r.BatchesPerSec < 0.9*o.pace {
					fmt.Printf("  WARNING: %s %s rep %d reached only %.1f of %.1f batches/s: not equal load\n",
						r.Side, name, r.Rep, r.BatchesPerSec, o.pace)
				}
			}
		}
	}
	for _, name := range o.variants {
		v, _ := lookup(name)
		fmt.Printf("  %s: %s\n", name, v.desc)
	}
	fmt.Println("\ncorrectness, every run (kept: traces kept / the policies' expected set; secrets: unmasked / planted in kept traces;")
	fmt.Println("look-alikes: non-secrets altered (false positives) / checked, in all runs: Luhn-invalid tracking numbers and")
	fmt.Println("provider response IDs; unpriced: chat spans without a cost / seen)")
	fmt.Println("| variant | side | runs | kept | missing / extra | secrets unmasked | look-alikes altered | unpriced | early decisions | generator CPU |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, name := range o.variants {
		for _, side := range o.sides {
			rs := pick(side, name)
			var n, kept, exp, miss, extra, sec, secN, dec, decN, ids, unp, chat int
			var early, gen, coll float64
			for _, r := range rs {
				if r.Checks == nil {
					continue
				}
				c := r.Checks
				n++
				kept, exp = c.KeptTraces, c.ExpectedTraces
				miss, extra = miss+c.MissingKept, extra+c.ExtraKept
				sec, secN, dec, decN = sec+c.SecretsUnmasked, secN+c.SecretsChecked, dec+c.DecoysAltered, decN+c.DecoysChecked
				ids += c.IDsAltered
				unp, chat = unp+c.ChatUnpriced, chat+c.ChatSpans
				early, gen, coll = max(early, r.EarlyDecided), gen+r.GenCPUSeconds, coll+r.CPUSeconds
			}
			if n == 0 {
				continue
			}
			fmt.Printf("| %s | %s | %d | %d/%d | %d / %d | %d/%d | %d/%d (%d response IDs) | %d/%d | max %.0f | %.0f%% of the collector's |\n",
				name, side, n, kept, exp, miss, extra, sec, secN, dec, decN, ids, unp, chat, early, 100*gen/coll)
		}
	}
}

// printStages: CPU microseconds per span of each cumulative stage (medians over the
// repetitions), and what each stage adds to the one before it.
func printStages(results, stageResults []result) {
	median := func(rs []result, side, variant string) float64 {
		var xs []result
		for _, r := range rs {
			if r.Side == side && r.Variant == variant {
				xs = append(xs, r)
			}
		}
		m, _ := stat(xs, result.cost)
		return m
	}
	unit := "CPU µs"
	if len(stageResults) > 0 && stageResults[0].Instructions > 0 {
		unit = "instructions"
	}
	// Instruction counts are large numbers; CPU microseconds want a decimal.
	f := "%.1f"
	if unit == "instructions" {
		f = "%.0f"
	}
	fmt.Printf("\nper-stage cost (%s per span, median; each row: the first pipeline with the components so far, into the debug exporter)\n", unit)
	fmt.Printf("| side | pipeline | %s/span | adds |\n", unit)
	fmt.Println("|---|---|---|---|")
	floor := median(stageResults, "floor", stages[0].name)
	fmt.Printf("| both | %s | "+f+" | |\n", stages[0].name, floor)
	// The full pipelines add forward, sampler and file export to the last stage of their kind.
	fulls := map[string][2]string{
		"ours/redact":    {"redact", "+ genai redaction, fused"},
		"ours/separate":  {"separate", "+ genai redaction"},
		"contrib/redact": {"redact", "+ redaction"},
	}
	for _, side := range []string{"ours", "contrib"} {
		prev := floor
		seen := map[string]float64{}
		for _, s := range stages {
			if s.side != side {
				continue
			}
			if s.from != "" && seen[s.from] > 0 {
				prev = seen[s.from]
			}
			if us := median(stageResults, side, s.name); us > 0 {
				fmt.Printf("| %s | %s | "+f+" | %+"+f[1:]+" |\n", side, s.name, us, us-prev)
				prev, seen[s.name] = us, us
			}
		}
		for _, v := range []string{"redact", "separate"} {
			ff, ok := fulls[side+"/"+v]
			if !ok {
				continue
			}
			if full := median(results, side, ff[0]); full > 0 && seen[ff[1]] > 0 {
				fmt.Printf("| %s | full: + forward, sampler, file export (the %s runs) | "+f+" | %+"+f[1:]+" |\n", side, v, full, full-seen[ff[1]])
			}
		}
	}
}
