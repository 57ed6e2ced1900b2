package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzApplyEditsContract checks ApplyEdits' documented contract on any batch and any edit list: a
// refused list (ErrMalformedEdits) leaves the batch byte-for-byte unchanged, and an applied
// one keeps every span it does not drop, in order, and leaves each key with the last value
// set for it. Each input is tried twice: the edit bytes as they are (the decoder's edge
// cases), and a list the fuzz bytes build (mostly well-formed, so application is reached).
func FuzzApplyEditsContract(f *testing.F) {
	var w editWriter
	w.head(opSetStr, targetSpan, 0, 0, 1, 0)
	w.str("gen_ai.provider.name")
	w.str("openai")
	w.head(opDropSpan, targetSpan, 1, 0, 0, 0)
	batch, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(twoResourceBatch())
	require.NoError(f, err)
	f.Add(batch, w.bytes(0), []byte{1, 0, 0, 0, 1, 5, 2, 1, 1, 0, 6, 0, 0, 0, 2})
	f.Add([]byte{}, []byte("TBE1\x01\x00\x00\x00\x00"), []byte{8, 4, 1, 0, 0, 0, 3})

	f.Fuzz(func(t *testing.T, batch, raw, program []byte) {
		checkApply(t, traces(batch), raw)
		checkApply(t, traces(batch), buildEdits(program))
	})
}

// traces is the batch the bytes hold, or the two-resource test batch when they hold none.
func traces(b []byte) ptrace.Traces {
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(b)
	if err != nil || td.ResourceSpans().Len() == 0 {
		return twoResourceBatch()
	}
	return td
}

func encodeTraces(t *testing.T, td ptrace.Traces) []byte {
	b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	return b
}

type spanAtPos struct {
	rs, ss, i uint32
	id        [8]byte
	name      string
}

func spanList(td ptrace.Traces) []spanAtPos {
	var out []spanAtPos
	for r := 0; r < td.ResourceSpans().Len(); r++ {
		sss := td.ResourceSpans().At(r).ScopeSpans()
		for s := 0; s < sss.Len(); s++ {
			spans := sss.At(s).Spans()
			for i := 0; i < spans.Len(); i++ {
				sp := spans.At(i)
				out = append(out, spanAtPos{uint32(r), uint32(s), uint32(i), sp.SpanID(), sp.Name()})
			}
		}
	}
	return out
}

func checkApply(t *testing.T, td ptrace.Traces, buf []byte) {
	before := encodeTraces(t, td)
	spans := spanList(td)
	res, err := ApplyEdits(td, buf)
	if err != nil {
		require.True(t, errors.Is(err, ErrMalformedEdits), "unexpected error kind: %v", err)
		require.True(t, bytes.Equal(before, encodeTraces(t, td)), "a refused edit list changed the batch: %v", err)
		return
	}
	edits, _, derr := decodeEdits(buf)
	require.NoError(t, derr, "applied a list the decoder refuses")

	// Spans: everything not dropped is still there, in order; only the named ones are gone.
	drop := map[[3]uint32]bool{}
	for _, e := range edits {
		if e.op == opDropSpan {
			drop[[3]uint32{e.rs, e.ss, e.span}] = true
		}
	}
	var want []spanAtPos
	for _, s := range spans {
		if !drop[[3]uint32{s.rs, s.ss, s.i}] {
			want = append(want, s)
		}
	}
	got := spanList(td)
	require.Equal(t, len(drop), res.DroppedSpans)
	require.Equal(t, len(want), len(got), "spans lost or duplicated")
	for i := range got {
		require.Equal(t, want[i].id, got[i].id, "span %d changed identity", i)
		require.Equal(t, want[i].name, got[i].name, "span %d changed name", i)
	}
	if len(drop) > 0 {
		return // positions moved; the values were checked on inputs without drops
	}
	// Values: the last string set for a key on a target is what the key holds.
	last := map[[2]any]int{}
	for i, e := range edits {
		if e.op != opSetStatusMsg && e.op != opDropSpan {
			last[[2]any{address(&edits[i]), string(e.key)}] = i
		}
	}
	for i := range edits {
		e := &edits[i]
		if e.op != opSetStr || last[[2]any{address(&edits[i]), string(e.key)}] != i {
			continue
		}
		v, ok := attrsOf(td, e).Get(string(e.key))
		require.True(t, ok, "key %q missing after it was set", e.key)
		require.Equal(t, string(e.str), v.Str())
	}
}

// address names the attribute map an edit writes to: the indices its target does not use are
// ignored by ApplyEdits, so two edits that differ only there write the same map.
func address(e *edit) [5]uint32 {
	a := [5]uint32{uint32(e.target), e.rs}
	switch e.target {
	case targetScope:
		a[2] = e.ss
	case targetSpan:
		a[2], a[3] = e.ss, e.span
	case targetEvent, targetLink:
		a[2], a[3], a[4] = e.ss, e.span, e.sub
	}
	return a
}

// buildEdits turns fuzz bytes into an edit list in the wire format: ops, targets and small
// indices (mostly in range of the test batch), keys from a short list, and payloads.
func buildEdits(p []byte) []byte {
	next := func() byte {
		if len(p) == 0 {
			return 0
		}
		b := p[0]
		p = p[1:]
		return b
	}
	keys := []string{"keep", "gen_ai.usage.cost", "service.name", ""}
	var w editWriter
	for n := int(next() % 10); n > 0; n-- {
		op, target := 1+next()%8, next()%5
		if op == opDropSpan || op == opSetStatusMsg {
			target = targetSpan
		}
		w.head(op, target, uint32(next()%3), uint32(next()%2), uint32(next()%4), uint32(next()%2))
		key := keys[int(next())%len(keys)]
		switch op {
		case opSetStr:
			w.str(key)
			n := int(next() % 8) // read before p is sliced: next consumes p
			w.str(string(p[:min(len(p), n)]))
		case opSetInt, opSetDouble:
			w.str(key)
			w.body = binary.LittleEndian.AppendUint64(w.body, uint64(next())<<40|uint64(next()))
		case opSetBool:
			w.str(key)
			w.body = append(w.body, next()%2)
		case opDelete:
			w.str(key)
		case opSetStatusMsg:
			w.str("status")
		case opSetAny:
			w.str(key)
			var any []byte
			switch next() % 3 {
			case 0: // string_value
				any = protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte("v"))
			case 1: // int_value
				any = protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), uint64(next()))
			default: // whatever the fuzzer wrote
				n := int(next() % 6)
				any = p[:min(len(p), n)]
			}
			w.str(string(any))
		}
	}
	return w.bytes(next() % 2)
}
