package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// editWriter encodes edits in the src/edits.rs wire format, independently of the Rust encoder.
type editWriter struct {
	body  []byte
	count uint32
}

func (w *editWriter) head(op, target byte, rs, ss, span, sub uint32) {
	w.body = append(w.body, op, target)
	for _, v := range []uint32{rs, ss, span, sub} {
		w.body = binary.LittleEndian.AppendUint32(w.body, v)
	}
	w.count++
}

func (w *editWriter) str(s string) {
	w.body = binary.LittleEndian.AppendUint32(w.body, uint32(len(s)))
	w.body = append(w.body, s...)
}

func (w *editWriter) bytes(disposition byte) []byte {
	out := append([]byte(editsMagic), disposition)
	out = binary.LittleEndian.AppendUint32(out, w.count)
	return append(out, w.body...)
}

func twoResourceBatch() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := 0; r < 2; r++ {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "svc")
		ss := rs.ScopeSpans().AppendEmpty()
		for i := 0; i < 3; i++ {
			s := ss.Spans().AppendEmpty()
			s.SetName("span")
			s.Attributes().PutStr("keep", "yes")
			s.Events().AppendEmpty().Attributes().PutStr("e", "1")
			s.Links().AppendEmpty().Attributes().PutStr("l", "1")
		}
	}
	return td
}

func TestApplyEditsEveryOp(t *testing.T) {
	td := twoResourceBatch()
	var w editWriter
	w.head(opSetStr, targetSpan, 0, 0, 1, 0)
	w.str("gen_ai.provider.name")
	w.str("openai")
	w.head(opSetInt, targetResource, 1, 0, 0, 0)
	w.str("n")
	w.body = binary.LittleEndian.AppendUint64(w.body, func() uint64 { v := int64(-3); return uint64(v) }())
	w.head(opSetDouble, targetEvent, 0, 0, 2, 0)
	w.str("cost")
	w.body = binary.LittleEndian.AppendUint64(w.body, math.Float64bits(0.125))
	w.head(opSetBool, targetLink, 1, 0, 0, 0)
	w.str("b")
	w.body = append(w.body, 1)
	w.head(opDelete, targetSpan, 0, 0, 0, 0)
	w.str("keep")
	w.head(opSetStatusMsg, targetSpan, 1, 0, 2, 0)
	w.str("redacted")
	w.head(opDropSpan, targetSpan, 1, 0, 1, 0)
	w.head(opSetStr, targetScope, 1, 0, 0, 0)
	w.str("scope.key")
	w.str("scoped")

	res, err := ApplyEdits(td, w.bytes(0))
	require.NoError(t, err)
	assert.Equal(t, EditResult{Applied: 7, DroppedSpans: 1}, res)
	sv, _ := td.ResourceSpans().At(1).ScopeSpans().At(0).Scope().Attributes().Get("scope.key")
	assert.Equal(t, "scoped", sv.Str())

	s01 := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	v, _ := s01.At(1).Attributes().Get("gen_ai.provider.name")
	assert.Equal(t, "openai", v.Str())
	_, kept := s01.At(0).Attributes().Get("keep")
	assert.False(t, kept)
	ev, _ := s01.At(2).Events().At(0).Attributes().Get("cost")
	assert.Equal(t, 0.125, ev.Double())
	n, _ := td.ResourceSpans().At(1).Resource().Attributes().Get("n")
	assert.Equal(t, int64(-3), n.Int())
	s1 := td.ResourceSpans().At(1).ScopeSpans().At(0).Spans()
	require.Equal(t, 2, s1.Len(), "span 1 of resource 1 dropped")
	b, _ := s1.At(0).Links().At(0).Attributes().Get("b")
	assert.True(t, b.Bool())
	assert.Equal(t, "redacted", s1.At(1).Status().Message(), "old index 2 is now 1")
	assert.Equal(t, 5, td.SpanCount())
}

func TestApplyEditsRenamesSpansEventsAndScopes(t *testing.T) {
	td := twoResourceBatch()
	td.ResourceSpans().At(1).ScopeSpans().At(0).Spans().At(2).Events().At(0).SetName("mail jane@example.com")
	var w editWriter
	w.head(opSetSpanName, targetSpan, 0, 0, 1, 0)
	w.str("GET /users/<REDACTED:email>")
	w.head(opSetEventName, targetEvent, 1, 0, 2, 0)
	w.str("mail <REDACTED:email>")
	w.head(opSetScopeName, targetScope, 1, 0, 0, 0)
	w.str("scope <REDACTED:email>")
	// A key that is not UTF-8 addresses the attribute holding exactly those bytes.
	bad := "caf\xe9"
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr(bad, "4111111111111111")
	w.head(opSetStr, targetSpan, 0, 0, 0, 0)
	w.str(bad)
	w.str("<REDACTED:credit_card>")

	res, err := ApplyEdits(td, w.bytes(0))
	require.NoError(t, err)
	assert.Equal(t, 4, res.Applied)
	spans0 := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	assert.Equal(t, "GET /users/<REDACTED:email>", spans0.At(1).Name())
	assert.Equal(t, "span", spans0.At(0).Name(), "other spans keep their names")
	ss1 := td.ResourceSpans().At(1).ScopeSpans().At(0)
	assert.Equal(t, "mail <REDACTED:email>", ss1.Spans().At(2).Events().At(0).Name())
	assert.Equal(t, "scope <REDACTED:email>", ss1.Scope().Name())
	v, ok := spans0.At(0).Attributes().Get(bad)
	require.True(t, ok)
	assert.Equal(t, "<REDACTED:credit_card>", v.Str())
	assert.Equal(t, 2, spans0.At(0).Attributes().Len(), "replaced, not added")
}

func TestApplyEditsDropsEmptiedScopesAndResources(t *testing.T) {
	td := twoResourceBatch()
	var w editWriter
	for i := uint32(0); i < 3; i++ {
		w.head(opDropSpan, targetSpan, 0, 0, i, 0)
	}
	res, err := ApplyEdits(td, w.bytes(0))
	require.NoError(t, err)
	assert.Equal(t, 3, res.DroppedSpans)
	assert.Equal(t, 1, td.ResourceSpans().Len())
	assert.Equal(t, 3, td.SpanCount())
}

func TestApplyEditsRejectsBadListsWithoutTouchingData(t *testing.T) {
	var good editWriter
	good.head(opSetStr, targetSpan, 0, 0, 0, 0)
	good.str("k")
	good.str("v")
	valid := good.bytes(0)

	var outOfRange editWriter
	outOfRange.head(opSetStr, targetSpan, 0, 0, 0, 0)
	outOfRange.str("k")
	outOfRange.str("v")
	outOfRange.head(opDelete, targetEvent, 0, 0, 0, 9)
	outOfRange.str("keep")

	huge := append([]byte(editsMagic), 0)
	huge = binary.LittleEndian.AppendUint32(huge, math.MaxUint32)

	cases := map[string][]byte{
		"empty":                   nil,
		"bad magic":               append([]byte("XXXX"), valid[4:]...),
		"truncated":               valid[:len(valid)-1],
		"trailing":                append(append([]byte{}, valid...), 0),
		"unknown op":              append(append([]byte{}, valid[:9]...), append([]byte{99}, valid[10:]...)...),
		"out of range":            outOfRange.bytes(0),
		"huge count":              huge,
		"bad disposition":         append(append([]byte(editsMagic), 7), valid[5:]...),
		"span name on an event":   nameOp(opSetSpanName, targetEvent, 0),
		"event name on a span":    nameOp(opSetEventName, targetSpan, 0),
		"scope name on a span":    nameOp(opSetScopeName, targetSpan, 0),
		"event name out of range": nameOp(opSetEventName, targetEvent, 5),
		"every-copy drop span":    nameOp(opDropSpan|opEveryCopy, targetSpan, 0)[:len(valid)+editFixedLen],
		"every-copy span name":    nameOp(opSetSpanName|opEveryCopy, targetSpan, 0),
		"every-copy status":       nameOp(opSetStatusMsg|opEveryCopy, targetSpan, 0),
		"every-copy event name":   nameOp(opSetEventName|opEveryCopy, targetEvent, 0),
		"every-copy scope name":   nameOp(opSetScopeName|opEveryCopy, targetScope, 0),
		"every-copy unknown op":   append(append([]byte{}, valid[:9]...), append([]byte{99 | opEveryCopy}, valid[10:]...)...),
	}
	for name, buf := range cases {
		t.Run(name, func(t *testing.T) {
			td := twoResourceBatch()
			before := td.SpanCount()
			_, err := ApplyEdits(td, buf)
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrMalformedEdits))
			v, _ := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("k")
			assert.Equal(t, "", v.Str(), "nothing applied")
			assert.Equal(t, before, td.SpanCount())
		})
	}
}

// nameOp is a valid set_str followed by a name op addressed to `target` (event `sub`).
func nameOp(op, target byte, sub uint32) []byte {
	var w editWriter
	w.head(opSetStr, targetSpan, 0, 0, 0, 0)
	w.str("k")
	w.str("v")
	w.head(op, target, 0, 0, 0, sub)
	w.str("renamed")
	return w.bytes(0)
}

func TestHeldDisposition(t *testing.T) {
	var w editWriter
	res, err := ApplyEdits(twoResourceBatch(), w.bytes(dispositionHeld))
	require.NoError(t, err)
	assert.True(t, res.Held)
}

func FuzzApplyEdits(f *testing.F) {
	var w editWriter
	w.head(opSetStr, targetSpan, 0, 0, 0, 0)
	w.str("k")
	w.str("v")
	f.Add(w.bytes(0))
	f.Add(nameOp(opSetEventName, targetEvent, 0))
	f.Add(nameOp(opSetScopeName, targetScope, 0))
	var every editWriter
	every.head(opSetStr|opEveryCopy, targetSpan, 0, 0, 0, 0)
	every.str("keep")
	every.str("v")
	every.head(opDelete|opEveryCopy, targetEvent, 0, 0, 0, 0)
	every.str("e")
	f.Add(every.bytes(0))
	f.Fuzz(func(t *testing.T, buf []byte) {
		td := twoResourceBatch()
		_, _ = ApplyEdits(td, buf)
	})
}

// msg appends one length-delimited field.
func msg(b []byte, field protowire.Number, inner []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, field, protowire.BytesType), inner)
}

// nestedAnyValue hand-encodes (per common.proto) the AnyValue
// ["<REDACTED:email>", {"n": 7}]: array_value = 5, kvlist_value = 6, string_value = 1,
// int_value = 3; ArrayValue.values and KeyValueList.values = 1; KeyValue key = 1, value = 2.
func nestedAnyValue() []byte {
	str := msg(nil, 1, []byte("<REDACTED:email>"))
	intVal := protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 7)
	kv := msg(msg(nil, 1, []byte("n")), 2, intVal)
	kvlist := msg(nil, 6, msg(nil, 1, kv))
	array := msg(msg(nil, 1, str), 1, kvlist)
	return msg(nil, 5, array)
}

func TestApplyEditsSetAnyNestedValue(t *testing.T) {
	payload := nestedAnyValue()
	var w editWriter
	w.head(opSetAny, targetSpan, 0, 0, 0, 0)
	w.str("gen_ai.tool.args")
	w.body = binary.LittleEndian.AppendUint32(w.body, uint32(len(payload)))
	w.body = append(w.body, payload...)
	td := twoResourceBatch()
	res, err := ApplyEdits(td, w.bytes(0))
	require.NoError(t, err)
	assert.Equal(t, 1, res.Applied)
	v, ok := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get("gen_ai.tool.args")
	require.True(t, ok)
	require.Equal(t, pcommon.ValueTypeSlice, v.Type())
	assert.Equal(t, "<REDACTED:email>", v.Slice().At(0).Str())
	n, _ := v.Slice().At(1).Map().Get("n")
	assert.Equal(t, int64(7), n.Int())
}

func TestApplyEditsRejectsUndecodableSetAny(t *testing.T) {
	var w editWriter
	w.head(opSetAny, targetSpan, 0, 0, 0, 0)
	w.str("k")
	w.str("\xff\xff\xff")
	_, err := ApplyEdits(twoResourceBatch(), w.bytes(0))
	require.ErrorIs(t, err, ErrMalformedEdits)
}

// withDuplicateKey re-reads td after renaming every attribute key `from` to `to` in its
// protobuf encoding: pdata keeps both entries when a batch holds a key twice, but its Put
// cannot make such a map. The two keys must have the same length and appear nowhere else.
func withDuplicateKey(t *testing.T, td ptrace.Traces, from, to string) ptrace.Traces {
	t.Helper()
	require.Len(t, to, len(from))
	buf, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	require.NoError(t, err)
	buf = bytes.ReplaceAll(buf, []byte(from), []byte(to))
	out, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(buf)
	require.NoError(t, err)
	return out
}

// copies returns the values of every entry with key in m, in order.
func copies(m pcommon.Map, key string) []string {
	var out []string
	m.Range(func(k string, v pcommon.Value) bool {
		if k == key {
			out = append(out, v.AsString())
		}
		return true
	})
	return out
}

func TestApplyEditsEveryCopyTouchesEveryEntryWithTheKey(t *testing.T) {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	for i, key := range []string{"dupA", "gonA", "keep", "dupB", "gonB", "dupC"} {
		span.Attributes().PutStr(key, fmt.Sprintf("v%d", i))
	}
	td = withDuplicateKey(t, td, "dupB", "dupA")
	td = withDuplicateKey(t, td, "dupC", "dupA")
	td = withDuplicateKey(t, td, "gonB", "gonA")
	attrs := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	require.Len(t, copies(attrs, "dupA"), 3, "pdata keeps duplicated keys")

	// Without the bit, pdata's Put and Remove touch the first entry only: the old bypass.
	plain := ptrace.NewTraces()
	td.CopyTo(plain)
	var w editWriter
	w.head(opSetStr, targetSpan, 0, 0, 0, 0)
	w.str("dupA")
	w.str("masked")
	_, err := ApplyEdits(plain, w.bytes(0))
	require.NoError(t, err)
	pattrs := plain.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes()
	assert.Equal(t, []string{"masked", "v3", "v5"}, copies(pattrs, "dupA"))

	w = editWriter{}
	w.head(opSetStr|opEveryCopy, targetSpan, 0, 0, 0, 0)
	w.str("dupA")
	w.str("masked")
	w.head(opDelete|opEveryCopy, targetSpan, 0, 0, 0, 0)
	w.str("gonA")
	res, err := ApplyEdits(td, w.bytes(0))
	require.NoError(t, err)
	assert.Equal(t, 2, res.Applied)
	assert.Equal(t, []string{"masked"}, copies(attrs, "dupA"))
	assert.Empty(t, copies(attrs, "gonA"))
	assert.Equal(t, []string{"v2"}, copies(attrs, "keep"))
	assert.Equal(t, 2, attrs.Len())
}
