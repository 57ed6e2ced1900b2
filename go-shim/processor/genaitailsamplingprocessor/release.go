package genaitailsamplingprocessor // import "github.com/tollbooth-dev/tollbooth/go-shim/processor/genaitailsamplingprocessor"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"
)

// Bounded releases (README "Releases"). The engine returns everything one release decided as
// one OTLP message, grouped by resource and scope. Sent as one ConsumeTraces call, a shutdown
// flush or one large trace exceeds an OTLP/gRPC backend's 4 MiB message limit, and the
// exporter drops the whole batch as a permanent error. So the release is cut into chunks of at
// most maxSpans spans and maxBytes encoded bytes: whole traces per chunk when they fit, a
// trace larger than the limits in consecutive pieces; every piece keeps its resource and scope.

// releaseWarnEvery limits the warning about refused chunks to one a minute.
const releaseWarnEvery = time.Minute

// framingBytes bounds the protobuf tag and length prefix of one nested message (1 byte tag, a
// varint length of at most 4 bytes below 256 MiB).
const framingBytes = 5

type chunkLimits struct {
	maxSpans int
	maxBytes int
}

// spanRef locates a span in the released Traces.
type spanRef struct {
	rs, ss, sp int32
}

// planner packs span references into chunks under the limits, estimating each chunk's encoded
// size from the parts it holds: the sizes are exact per span, resource and scope, plus an upper
// bound for each framing prefix, so the estimate never falls below the real size.
type planner struct {
	lim       chunkLimits
	spanCost  func(spanRef) int
	rsCost    []int   // a ResourceSpans without its scopes, framed
	ssCost    [][]int // a ScopeSpans without its spans, framed
	chunks    [][]spanRef
	cur       []spanRef
	curBytes  int
	curRS     map[int32]struct{}
	curSS     map[[2]int32]struct{}
	newRS     map[int32]struct{}
	newSS     map[[2]int32]struct{}
	spanBytes []int // per ref of the trace being placed
}

// marginal is what adding refs to the current chunk would add to its size.
func (pl *planner) marginal(refs []spanRef, costs []int) int {
	clear(pl.newRS)
	clear(pl.newSS)
	n := 0
	for i, r := range refs {
		n += costs[i]
		if _, ok := pl.curRS[r.rs]; !ok {
			if _, ok := pl.newRS[r.rs]; !ok {
				pl.newRS[r.rs] = struct{}{}
				n += pl.rsCost[r.rs]
			}
		}
		k := [2]int32{r.rs, r.ss}
		if _, ok := pl.curSS[k]; !ok {
			if _, ok := pl.newSS[k]; !ok {
				pl.newSS[k] = struct{}{}
				n += pl.ssCost[r.rs][r.ss]
			}
		}
	}
	return n
}

func (pl *planner) add(refs []spanRef, bytes int) {
	pl.cur = append(pl.cur, refs...)
	pl.curBytes += bytes
	for _, r := range refs {
		pl.curRS[r.rs] = struct{}{}
		pl.curSS[[2]int32{r.rs, r.ss}] = struct{}{}
	}
}

func (pl *planner) flush() {
	if len(pl.cur) == 0 {
		return
	}
	pl.chunks = append(pl.chunks, pl.cur)
	pl.cur = nil
	pl.curBytes = 0
	clear(pl.curRS)
	clear(pl.curSS)
}

// place puts one trace's spans into chunks: with the current chunk when it fits, else in a
// fresh chunk, else (larger than the limits) span by span across as many chunks as it needs.
func (pl *planner) place(refs []spanRef) {
	pl.spanBytes = pl.spanBytes[:0]
	for _, r := range refs {
		pl.spanBytes = append(pl.spanBytes, pl.spanCost(r))
	}
	costs := pl.spanBytes
	if len(pl.cur)+len(refs) <= pl.lim.maxSpans {
		if m := pl.marginal(refs, costs); pl.curBytes+m <= pl.lim.maxBytes {
			pl.add(refs, m)
			return
		}
	}
	pl.flush()
	if len(refs) <= pl.lim.maxSpans {
		if m := pl.marginal(refs, costs); m <= pl.lim.maxBytes {
			pl.add(refs, m)
			return
		}
	}
	for i := range refs {
		one := refs[i : i+1]
		m := pl.marginal(one, costs[i:i+1])
		if len(pl.cur) > 0 && (len(pl.cur)+1 > pl.lim.maxSpans || pl.curBytes+m > pl.lim.maxBytes) {
			pl.flush()
			m = pl.marginal(one, costs[i:i+1])
		}
		// A single span over maxBytes still goes, alone: it cannot be cut.
		pl.add(one, m)
	}
}

// planChunks groups td's spans by trace (in order of first appearance) and packs them into
// chunks within lim.
func planChunks(td ptrace.Traces, lim chunkLimits) [][]spanRef {
	var m ptrace.ProtoMarshaler
	rss := td.ResourceSpans()
	pl := &planner{
		lim:    lim,
		rsCost: make([]int, rss.Len()),
		ssCost: make([][]int, rss.Len()),
		curRS:  map[int32]struct{}{},
		curSS:  map[[2]int32]struct{}{},
		newRS:  map[int32]struct{}{},
		newSS:  map[[2]int32]struct{}{},
	}
	order := []pcommon.TraceID{}
	byTrace := map[pcommon.TraceID][]spanRef{}
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		shell := ptrace.NewResourceSpans()
		rs.Resource().CopyTo(shell.Resource())
		shell.SetSchemaUrl(rs.SchemaUrl())
		pl.rsCost[i] = m.ResourceSpansSize(shell) + framingBytes
		sss := rs.ScopeSpans()
		pl.ssCost[i] = make([]int, sss.Len())
		for j := 0; j < sss.Len(); j++ {
			ss := sss.At(j)
			sshell := ptrace.NewScopeSpans()
			ss.Scope().CopyTo(sshell.Scope())
			sshell.SetSchemaUrl(ss.SchemaUrl())
			pl.ssCost[i][j] = m.ScopeSpansSize(sshell) + framingBytes
			spans := ss.Spans()
			for k := 0; k < spans.Len(); k++ {
				id := spans.At(k).TraceID()
				refs, seen := byTrace[id]
				if !seen {
					order = append(order, id)
				}
				byTrace[id] = append(refs, spanRef{int32(i), int32(j), int32(k)})
			}
		}
	}
	pl.spanCost = func(r spanRef) int {
		return m.SpanSize(rss.At(int(r.rs)).ScopeSpans().At(int(r.ss)).Spans().At(int(r.sp))) + framingBytes
	}
	for _, id := range order {
		pl.place(byTrace[id])
	}
	pl.flush()
	return pl.chunks
}

// buildChunk moves the referenced spans out of td into a new Traces, under copies of their
// resources and scopes (in order of first appearance).
func buildChunk(td ptrace.Traces, refs []spanRef) ptrace.Traces {
	out := ptrace.NewTraces()
	src := td.ResourceSpans()
	rsAt := map[int32]ptrace.ResourceSpans{}
	ssAt := map[[2]int32]ptrace.SpanSlice{}
	for _, r := range refs {
		k := [2]int32{r.rs, r.ss}
		dst, ok := ssAt[k]
		if !ok {
			srs := src.At(int(r.rs))
			drs, ok := rsAt[r.rs]
			if !ok {
				drs = out.ResourceSpans().AppendEmpty()
				srs.Resource().CopyTo(drs.Resource())
				drs.SetSchemaUrl(srs.SchemaUrl())
				rsAt[r.rs] = drs
			}
			sss := srs.ScopeSpans().At(int(r.ss))
			dss := drs.ScopeSpans().AppendEmpty()
			sss.Scope().CopyTo(dss.Scope())
			dss.SetSchemaUrl(sss.SchemaUrl())
			dst = dss.Spans()
			ssAt[k] = dst
		}
		src.At(int(r.rs)).ScopeSpans().At(int(r.ss)).Spans().At(int(r.sp)).MoveTo(dst.AppendEmpty())
	}
	return out
}

// forward sends one release downstream in bounded chunks. encodedSize is the release's OTLP
// size as the engine encoded it: when it and the span count are within the limits the release
// goes as it is, without planning. A chunk the next consumer refuses is counted and the other
// chunks are still sent. Called under releaseMu.
// The final flush (shutdown) always warns about refused chunks.
func (p *tailSampler) forward(ctx context.Context, td ptrace.Traces, encodedSize int, final bool) {
	spans := td.SpanCount()
	if spans == 0 {
		return
	}
	if spans <= p.limits.maxSpans && encodedSize <= p.limits.maxBytes {
		p.sendChunk(ctx, td, spans)
	} else {
		for _, refs := range planChunks(td, p.limits) {
			p.sendChunk(ctx, buildChunk(td, refs), len(refs))
		}
	}
	p.warnRefused(final)
}

func (p *tailSampler) sendChunk(ctx context.Context, td ptrace.Traces, spans int) {
	p.telemetry.ProcessorGenaiTailSamplingReleaseBatches.Add(ctx, 1)
	if err := p.next.ConsumeTraces(ctx, td); err != nil {
		p.telemetry.ProcessorGenaiTailSamplingSpansReleaseFailed.Add(ctx, int64(spans))
		p.refused.chunks++
		p.refused.spans += spans
		p.refused.lastErr = err
	}
}

// warnRefused logs the chunks refused since the last warning, at most once a minute unless
// forced.
func (p *tailSampler) warnRefused(force bool) {
	r := &p.refused
	if r.chunks == 0 || (!force && !r.lastWarn.IsZero() && time.Since(r.lastWarn) < releaseWarnEvery) {
		return
	}
	p.logger.Warn("next consumer refused released (sampled) traces; the spans are counted in processor_genai_tail_sampling_spans_release_failed",
		zap.Int("batches", r.chunks), zap.Int("spans", r.spans), zap.Error(r.lastErr))
	*r = refusedReleases{lastWarn: time.Now()}
}

// refusedReleases accumulates refused chunks between warnings (guarded by releaseMu).
type refusedReleases struct {
	chunks, spans int
	lastErr       error
	lastWarn      time.Time
}
