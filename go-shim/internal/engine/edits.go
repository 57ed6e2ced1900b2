package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// The edit-list wire format is documented in src/edits.rs; keep the two in step.
const (
	editsMagic     = "TBE1"
	editsHeaderLen = 9
	editFixedLen   = 2 + 4*4
	opSetStr       = 1
	opSetInt       = 2
	opSetDouble    = 3
	opSetBool      = 4
	opDelete       = 5
	opDropSpan     = 6
	opSetStatusMsg = 7
	opSetAny       = 8
	opSetSpanName  = 9
	opSetEventName = 10
	opSetScopeName = 11
	// opEveryCopy is a bit on a keyed op (set or delete, ABI 5): every entry with the key is
	// removed first, then a set puts its value once. pdata keeps duplicated keys, and its
	// Put and Remove touch only the first entry with a key.
	opEveryCopy     = 0x80
	targetSpan      = 0
	targetResource  = 1
	targetEvent     = 2
	targetLink      = 3
	targetScope     = 4
	dispositionHeld = 1
)

// ErrMalformedEdits means the edit list did not decode or addressed a missing position.
// Nothing has been applied when it is returned.
var ErrMalformedEdits = errors.New("malformed edit list")

// edit is one decoded edit; key and value alias the list's bytes. op has the every-copy bit
// cleared; every says whether it was set.
type edit struct {
	op, target        byte
	every             bool
	rs, ss, span, sub uint32
	key, str          []byte
	num               uint64
	any               pcommon.Value // decoded payload of opSetAny
}

// EditResult summarises an applied edit list.
type EditResult struct {
	// Held is true when the engine kept the batch (a stateful stage): do not forward it.
	Held bool
	// Applied counts attribute, status and name edits applied.
	Applied int
	// DroppedSpans counts spans removed by explicit drop decisions.
	DroppedSpans int
}

// ApplyEdits validates the whole edit list against td and then applies it. On error td is
// unchanged, so the caller can pass it on as it was (fail-open).
func ApplyEdits(td ptrace.Traces, buf []byte) (EditResult, error) {
	edits, held, err := decodeEdits(buf)
	if err != nil {
		return EditResult{}, err
	}
	for i := range edits {
		if !addressable(td, &edits[i]) {
			return EditResult{}, fmt.Errorf("%w: edit %d addresses a position the batch does not have", ErrMalformedEdits, i)
		}
	}
	res := EditResult{Held: held}
	var drops map[[2]uint32]map[uint32]struct{}
	for i := range edits {
		e := &edits[i]
		if e.op == opDropSpan {
			if drops == nil {
				drops = map[[2]uint32]map[uint32]struct{}{}
			}
			k := [2]uint32{e.rs, e.ss}
			if drops[k] == nil {
				drops[k] = map[uint32]struct{}{}
			}
			drops[k][e.span] = struct{}{}
			continue
		}
		applyOne(td, e)
		res.Applied++
	}
	res.DroppedSpans = removeSpans(td, drops)
	return res, nil
}

func decodeEdits(buf []byte) ([]edit, bool, error) {
	if len(buf) < editsHeaderLen || string(buf[:4]) != editsMagic {
		return nil, false, fmt.Errorf("%w: bad header", ErrMalformedEdits)
	}
	held := buf[4] == dispositionHeld
	if buf[4] > dispositionHeld {
		return nil, false, fmt.Errorf("%w: unknown disposition %d", ErrMalformedEdits, buf[4])
	}
	count := binary.LittleEndian.Uint32(buf[5:9])
	r := reader{buf: buf, pos: editsHeaderLen}
	// Every edit takes at least editFixedLen bytes: bound the allocation by the buffer size.
	if uint64(count)*editFixedLen > uint64(len(buf)) {
		return nil, false, fmt.Errorf("%w: count %d exceeds buffer", ErrMalformedEdits, count)
	}
	edits := make([]edit, count)
	for i := range edits {
		e := &edits[i]
		e.op, e.target = r.u8(), r.u8()
		e.rs, e.ss, e.span, e.sub = r.u32(), r.u32(), r.u32(), r.u32()
		e.every, e.op = e.op&opEveryCopy != 0, e.op&^opEveryCopy
		if e.every && !isKeyed(e.op) {
			r.fail()
		}
		switch e.op {
		case opSetStr:
			e.key, e.str = r.bytes(), r.bytes()
		case opSetInt, opSetDouble:
			e.key, e.num = r.bytes(), r.u64()
		case opSetBool:
			e.key, e.num = r.bytes(), uint64(r.u8())
		case opDelete:
			e.key = r.bytes()
		case opDropSpan:
			if e.target != targetSpan {
				r.fail()
			}
		case opSetStatusMsg, opSetSpanName:
			e.str = r.bytes()
			if e.target != targetSpan {
				r.fail()
			}
		case opSetEventName:
			e.str = r.bytes()
			if e.target != targetEvent {
				r.fail()
			}
		case opSetScopeName:
			e.str = r.bytes()
			if e.target != targetScope {
				r.fail()
			}
		case opSetAny:
			e.key, e.str = r.bytes(), r.bytes()
			if !r.bad {
				v, err := decodeAnyValue(e.str)
				if err != nil {
					return nil, false, fmt.Errorf("%w: edit %d: %v", ErrMalformedEdits, i, err)
				}
				e.any = v
			}
		default:
			r.fail()
		}
		if e.target > targetScope {
			r.fail()
		}
		if r.bad {
			return nil, false, fmt.Errorf("%w: edit %d truncated or unknown (op %d, target %d)", ErrMalformedEdits, i, e.op, e.target)
		}
	}
	if r.pos != len(buf) {
		return nil, false, fmt.Errorf("%w: %d trailing bytes", ErrMalformedEdits, len(buf)-r.pos)
	}
	return edits, held, nil
}

// isKeyed reports whether op addresses an attribute by key (the ops that take opEveryCopy).
func isKeyed(op byte) bool {
	switch op {
	case opSetStr, opSetInt, opSetDouble, opSetBool, opDelete, opSetAny:
		return true
	}
	return false
}

type reader struct {
	buf []byte
	pos int
	bad bool
}

func (r *reader) fail() { r.bad = true }

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || len(r.buf)-r.pos < n {
		r.bad = true
		return nil
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b
}

func (r *reader) u8() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) bytes() []byte {
	n := r.u32()
	if uint64(n) > uint64(len(r.buf)) {
		r.bad = true
		return nil
	}
	return r.take(int(n))
}

func spanAt(td ptrace.Traces, rs, ss, i uint32) (ptrace.Span, bool) {
	rss := td.ResourceSpans()
	if int(rs) >= rss.Len() {
		return ptrace.Span{}, false
	}
	sss := rss.At(int(rs)).ScopeSpans()
	if int(ss) >= sss.Len() {
		return ptrace.Span{}, false
	}
	spans := sss.At(int(ss)).Spans()
	if int(i) >= spans.Len() {
		return ptrace.Span{}, false
	}
	return spans.At(int(i)), true
}

func addressable(td ptrace.Traces, e *edit) bool {
	switch e.target {
	case targetResource:
		return int(e.rs) < td.ResourceSpans().Len()
	case targetScope:
		return int(e.rs) < td.ResourceSpans().Len() &&
			int(e.ss) < td.ResourceSpans().At(int(e.rs)).ScopeSpans().Len()
	}
	span, ok := spanAt(td, e.rs, e.ss, e.span)
	if !ok {
		return false
	}
	switch e.target {
	case targetEvent:
		return int(e.sub) < span.Events().Len()
	case targetLink:
		return int(e.sub) < span.Links().Len()
	}
	return true
}

func attrsOf(td ptrace.Traces, e *edit) pcommon.Map {
	switch e.target {
	case targetResource:
		return td.ResourceSpans().At(int(e.rs)).Resource().Attributes()
	case targetScope:
		return td.ResourceSpans().At(int(e.rs)).ScopeSpans().At(int(e.ss)).Scope().Attributes()
	}
	span, _ := spanAt(td, e.rs, e.ss, e.span)
	switch e.target {
	case targetEvent:
		return span.Events().At(int(e.sub)).Attributes()
	case targetLink:
		return span.Links().At(int(e.sub)).Attributes()
	}
	return span.Attributes()
}

func applyOne(td ptrace.Traces, e *edit) {
	switch e.op {
	case opSetStatusMsg, opSetSpanName:
		span, _ := spanAt(td, e.rs, e.ss, e.span)
		if e.op == opSetSpanName {
			span.SetName(string(e.str))
		} else {
			span.Status().SetMessage(string(e.str))
		}
		return
	case opSetEventName:
		span, _ := spanAt(td, e.rs, e.ss, e.span)
		span.Events().At(int(e.sub)).SetName(string(e.str))
		return
	case opSetScopeName:
		td.ResourceSpans().At(int(e.rs)).ScopeSpans().At(int(e.ss)).Scope().SetName(string(e.str))
		return
	}
	attrs := attrsOf(td, e)
	key := string(e.key)
	if e.every {
		attrs.RemoveIf(func(k string, _ pcommon.Value) bool { return k == key })
	}
	switch e.op {
	case opSetStr:
		attrs.PutStr(key, string(e.str))
	case opSetInt:
		attrs.PutInt(key, int64(e.num))
	case opSetDouble:
		attrs.PutDouble(key, math.Float64frombits(e.num))
	case opSetBool:
		attrs.PutBool(key, e.num != 0)
	case opDelete:
		attrs.Remove(key)
	case opSetAny:
		e.any.CopyTo(attrs.PutEmpty(key))
	}
}

// decodeAnyValue decodes a protobuf AnyValue. pdata has no public decoder for a lone value,
// so the bytes are wrapped as the value of resource attribute "v" in a minimal TracesData
// (KeyValue.value = field 2 of KeyValue, in Resource.attributes = field 1, in
// ResourceSpans.resource = field 1, in TracesData.resource_spans = field 1).
func decodeAnyValue(b []byte) (pcommon.Value, error) {
	kv := protowire.AppendTag(nil, 1, protowire.BytesType)
	kv = protowire.AppendBytes(kv, []byte("v"))
	kv = protowire.AppendTag(kv, 2, protowire.BytesType)
	kv = protowire.AppendBytes(kv, b)
	wrap := func(field protowire.Number, inner []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, field, protowire.BytesType), inner)
	}
	td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(wrap(1, wrap(1, wrap(1, kv))))
	if err != nil {
		return pcommon.Value{}, fmt.Errorf("set_any value does not decode: %w", err)
	}
	if td.ResourceSpans().Len() != 1 {
		return pcommon.Value{}, errors.New("set_any value does not decode")
	}
	v, ok := td.ResourceSpans().At(0).Resource().Attributes().Get("v")
	if !ok {
		return pcommon.NewValueEmpty(), nil
	}
	return v, nil
}

// removeSpans removes the marked spans, then any scope or resource left empty by it.
func removeSpans(td ptrace.Traces, drops map[[2]uint32]map[uint32]struct{}) int {
	if len(drops) == 0 {
		return 0
	}
	removed := 0
	emptied := map[int]bool{}
	rss := td.ResourceSpans()
	for rs := 0; rs < rss.Len(); rs++ {
		sss := rss.At(rs).ScopeSpans()
		touched := false
		for ss := 0; ss < sss.Len(); ss++ {
			marked := drops[[2]uint32{uint32(rs), uint32(ss)}]
			if marked == nil {
				continue
			}
			touched = true
			idx := uint32(0)
			sss.At(ss).Spans().RemoveIf(func(ptrace.Span) bool {
				_, drop := marked[idx]
				idx++
				if drop {
					removed++
				}
				return drop
			})
		}
		if touched {
			sss.RemoveIf(func(s ptrace.ScopeSpans) bool { return s.Spans().Len() == 0 })
			emptied[rs] = sss.Len() == 0
		}
	}
	rs := 0
	rss.RemoveIf(func(ptrace.ResourceSpans) bool {
		drop := emptied[rs]
		rs++
		return drop
	})
	return removed
}
