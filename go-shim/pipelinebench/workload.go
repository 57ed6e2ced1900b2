package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

const (
	spansPerTrace  = 8
	tracesPerBatch = 128 // 1024 spans a batch, the standard batch of go-shim/internal/testbatch
	costThreshold  = 0.05
	slowThresholdS = 10 // both configs keep traces longer than 10 s
)

// model is one entry of the mix: every one is priced by our bundled table and by the OTTL
// statements in contrib.yaml (same per-million-token prices).
type model struct{ name, system string }

var models = []model{
	{"gpt-4o", "openai"},
	{"gpt-4o-mini", "openai"},
	{"claude-sonnet-4-5", "anthropic"},
	{"gemini-2.5-flash", "gcp.gemini"},
}

// expensiveModel makes a trace cross the cost threshold on one call (20k+ input tokens at
// $15/M), while an ordinary trace stays far below it (at most ~$0.03), so a per-span cost
// condition (contrib) and a per-trace cost sum (ours) keep the same traces.
var expensiveModel = model{"claude-opus-4-1", "anthropic"}

// traceInfo is what the generator knows about one trace: why it must be kept, what was
// planted in it, and the values no redactor should touch.
type traceInfo struct {
	id                  string // hex, as the file exporter writes it
	err, slow, pricey   bool
	sampled             bool     // the probabilistic policy's hash keeps it
	secrets             []string // must not appear in any output
	decoys              []string // look like secrets but are not: altered = false positive
	chatSpans, allSpans int
}

// keep: the decision both samplers must reach with the shared policy list.
func (t *traceInfo) keep() bool { return t.err || t.slow || t.pricey || t.sampled }

// workload is the whole input: batches pre-encoded as OTLP/HTTP request bodies.
type workload struct {
	bodies [][]byte
	traces []traceInfo
	byID   map[string]*traceInfo
	spans  int
}

// probThreshold is contrib's probabilistic threshold: MaxUint64 * ratio in big.Float.
func probThreshold(percent float64) uint64 {
	t, _ := new(big.Float).Mul(new(big.Float).SetUint64(math.MaxUint64), big.NewFloat(percent/100)).Uint64()
	return t
}

// fnvSalted is contrib's probabilistic hash: FNV-1a 64 over the salt, then the trace ID.
func fnvSalted(salt string, id []byte) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, b := range append([]byte(salt), id...) {
		h ^= uint64(b)
		h *= 0x100000001b3
	}
	return h
}

// gen draws everything from one seeded PRNG, so a run is reproducible.
type gen struct {
	r *rand.Rand
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func (g *gen) str(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) digits(n int) string { return g.str("0123456789", n) }

// luhnDigit completes `body` to a Luhn-valid number (bad=true: to a Luhn-invalid one).
func luhnDigit(body string, bad bool) string {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	c := (10 - sum%10) % 10
	if bad {
		c = (c + 1 + sum%9) % 10
	}
	return body + string(rune('0'+c))
}

// iban returns a German IBAN with correct check digits.
func (g *gen) iban() string {
	bban := g.digits(18)
	n := new(big.Int)
	n.SetString(bban+"131400", 10) // "DE00" moved to the end, D=13 E=14
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("DE%02d%s", check, bban)
}

// secret returns one planted secret of a random kind and the sentence that carries it. Each
// kind is caught by a detector of ours and by a regex of contrib.yaml.
func (g *gen) secret() (string, string) {
	switch g.r.IntN(8) {
	case 0:
		v := luhnDigit("4"+g.digits(14), false)
		return v, "charge my card " + v + " for the refund"
	case 1:
		v := luhnDigit("5"+string(rune('1'+g.r.IntN(5)))+g.digits(13), false)
		return v, "the card on file is " + v
	case 2:
		v := fmt.Sprintf("%03d-%02d-%04d", 1+g.r.IntN(660), 1+g.r.IntN(99), 1+g.r.IntN(9999))
		return v, "my SSN is " + v
	case 3:
		v := g.iban()
		return v, "wire it to " + v + " please"
	case 4:
		v := "AKIA" + g.str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
		return v, "the deploy uses access key " + v
	case 5:
		v := "ghp_" + g.str(alnum, 36)
		return v, "CI token " + v + " stopped working"
	case 6:
		v := "sk-proj-" + g.str(alnum, 20) + "7q" + g.str(alnum+"_-", 26)
		return v, "our key " + v + " is rate limited"
	default:
		v := "xoxb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.str(alnum, 24)
		return v, "post to slack with " + v
	}
}

var words = strings.Fields(`please summarise the customer ticket about billing refund order shipped late
and reply politely with next steps the invoice shows two charges for one subscription renewal
which the customer disputes kindly check the ledger before answering`)

// prose returns about n bytes of text with the `insert` sentences spread through it (never
// cut: a planted value is always whole).
func (g *gen) prose(n int, insert ...string) string {
	var b strings.Builder
	fill := func(to int) {
		for b.Len() < to {
			b.WriteString(words[g.r.IntN(len(words))])
			b.WriteByte(' ')
		}
	}
	for k, s := range insert {
		fill((k+1)*n/(len(insert)+1) - len(s)/2)
		b.WriteString(s)
		b.WriteByte(' ')
	}
	fill(n)
	return b.String()
}

// responseID is shaped like each provider's (random, so a regex may hit one by chance:
// such a hit is a false positive and is counted).
func (g *gen) responseID(system string) string {
	switch system {
	case "openai":
		return "chatcmpl-" + g.str(alnum, 29)
	case "anthropic":
		return "msg_01" + g.str(alnum, 22)
	default:
		return g.str(alnum+"-_", 27)
	}
}

// buildWorkload makes `batches` batches of 128 eight-span agent traces. Rates: errRate of
// traces have a failed model call, slowRate take 15 s, priceyRate call the expensive model,
// secretRate of chat calls carry a planted secret in the prompt (every prompt has an
// e-mail address), and decoyRate of tool calls carry a Luhn-invalid 16-digit tracking number.
func buildWorkload(batches int, seed uint64, samplePercent float64) *workload {
	const errRate, slowRate, priceyRate, secretRate, decoyRate, authRate = 0.10, 0.03, 0.03, 0.3, 0.2, 0.05
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	thr := probThreshold(samplePercent)
	w := &workload{byID: map[string]*traceInfo{}}
	w.traces = make([]traceInfo, 0, batches*tracesPerBatch)
	services := []string{"support-agent", "billing-agent", "search-agent"}
	domains := []string{"example.com", "acme-corp.io", "mail.example.org", "contoso.net"}
	const start = 1_760_000_000_000_000_000 // Oct 2025: prices of that date apply
	var m ptraceotlp.ExportRequest
	for b := 0; b < batches; b++ {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", services[b%len(services)])
		rs.Resource().Attributes().PutStr("deployment.environment.name", "prod")
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("opentelemetry.instrumentation.openai_v2")
		ss.Scope().SetVersion("2.4b0")
		spans := ss.Spans()
		for i := 0; i < tracesPerBatch; i++ {
			n := len(w.traces)
			var tid pcommon.TraceID
			binary.BigEndian.PutUint64(tid[:8], g.r.Uint64())
			binary.BigEndian.PutUint64(tid[8:], g.r.Uint64())
			ti := traceInfo{
				id:  hex.EncodeToString(tid[:]),
				err: g.r.Float64() < errRate, slow: g.r.Float64() < slowRate, pricey: g.r.Float64() < priceyRate,
				sampled: fnvSalted("default-hash-seed", tid[:]) <= thr,
			}
			base := pcommon.Timestamp(start + uint64(n)*50_000_000)
			var sid uint64 = g.r.Uint64() &^ 0xff
			add := func(k, parent int, name string, kind ptrace.SpanKind, offMs, durMs uint64) ptrace.Span {
				s := spans.AppendEmpty()
				s.SetTraceID(tid)
				s.SetSpanID(spanID(sid + uint64(k) + 1))
				if parent >= 0 {
					s.SetParentSpanID(spanID(sid + uint64(parent) + 1))
				}
				s.SetName(name)
				s.SetKind(kind)
				s.SetStartTimestamp(base + pcommon.Timestamp(offMs*1_000_000))
				s.SetEndTimestamp(base + pcommon.Timestamp((offMs+durMs)*1_000_000))
				ti.allSpans++
				return s
			}
			total := uint64(4200)
			if ti.slow {
				total = 15_000
			}
			root := add(0, -1, "POST /v1/support", ptrace.SpanKindServer, 0, total)
			root.Attributes().PutStr("http.request.method", "POST")
			root.Attributes().PutStr("url.path", "/v1/support")
			root.Attributes().PutInt("http.response.status_code", 200)
			if g.r.Float64() < authRate {
				v := "sk-proj-" + g.str(alnum, 20) + "3x" + g.str(alnum, 26)
				root.Attributes().PutStr("http.request.header.authorization", "Bearer "+v)
				ti.secrets = append(ti.secrets, v)
			}
			agent := add(1, 0, "invoke_agent support", ptrace.SpanKindInternal, 20, total-100)
			agent.Attributes().PutStr("gen_ai.operation.name", "invoke_agent")
			agent.Attributes().PutStr("gen_ai.agent.name", "support")
			failed := -1
			if ti.err {
				failed = g.r.IntN(3)
				root.Status().SetCode(ptrace.StatusCodeError)
				root.Attributes().PutInt("http.response.status_code", 500)
			}
			for c := 0; c < 3; c++ {
				md := models[g.r.IntN(len(models))]
				in, out := int64(700+g.r.IntN(700)), int64(100+g.r.IntN(200))
				if ti.pricey && c == 2 {
					md, in = expensiveModel, int64(20_000+g.r.IntN(10_000))
				}
				chat := add(2+c, 1, "chat "+md.name, ptrace.SpanKindClient, 40+uint64(c)*1300, 900+uint64(g.r.IntN(300)))
				a := chat.Attributes()
				a.PutStr("gen_ai.system", md.system)
				a.PutStr("gen_ai.operation.name", "chat")
				a.PutStr("gen_ai.request.model", md.name)
				a.PutStr("gen_ai.response.model", md.name)
				rid := g.responseID(md.system)
				a.PutStr("gen_ai.response.id", rid)
				ti.decoys = append(ti.decoys, rid)
				a.PutInt("gen_ai.usage.input_tokens", in)
				if c == failed {
					chat.Status().SetCode(ptrace.StatusCodeError)
					chat.Status().SetMessage("429 Too Many Requests")
					a.PutStr("error.type", "RateLimitError")
					a.PutInt("gen_ai.usage.output_tokens", 0)
				} else {
					a.PutInt("gen_ai.usage.output_tokens", out)
					a.PutStr("gen_ai.response.finish_reasons", "stop")
				}
				email := fmt.Sprintf("%s.%s%d@%s", words[g.r.IntN(len(words))], words[g.r.IntN(len(words))], n*3+c, domains[g.r.IntN(len(domains))])
				ti.secrets = append(ti.secrets, email)
				plant := []string{"contact " + email}
				if g.r.Float64() < secretRate {
					v, sentence := g.secret()
					ti.secrets = append(ti.secrets, v)
					plant = append(plant, sentence)
				}
				a.PutStr("gen_ai.prompt.0.role", "user")
				a.PutStr("gen_ai.prompt.0.content", g.prose(1024, plant...))
				a.PutStr("gen_ai.completion.0.role", "assistant")
				a.PutStr("gen_ai.completion.0.content", g.prose(512))
				ti.chatSpans++
			}
			for k := 0; k < 2; k++ {
				tool := add(5+k, 1, "execute_tool lookup_order", ptrace.SpanKindInternal, 1000+uint64(k)*1300, 40)
				tool.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
				tool.Attributes().PutStr("gen_ai.tool.name", "lookup_order")
				if g.r.Float64() < decoyRate {
					v := luhnDigit("4"+g.digits(14), true)
					tool.Attributes().PutStr("app.tracking_number", v)
					ti.decoys = append(ti.decoys, v)
				}
			}
			ret := add(7, 1, "retrieve kb", ptrace.SpanKindClient, 30, 30)
			ret.Attributes().PutStr("db.system.name", "qdrant")
			ret.Attributes().PutInt("db.response.returned_rows", 5)
			w.traces = append(w.traces, ti)
		}
		m = ptraceotlp.NewExportRequestFromTraces(td)
		body, err := m.MarshalProto()
		if err != nil {
			panic(err)
		}
		w.bodies = append(w.bodies, body)
		w.spans += td.SpanCount()
	}
	for i := range w.traces {
		w.byID[w.traces[i].id] = &w.traces[i]
	}
	return w
}

func spanID(v uint64) pcommon.SpanID {
	var s pcommon.SpanID
	binary.BigEndian.PutUint64(s[:], v)
	return s
}

// expected returns the traces and spans both samplers must keep.
func (w *workload) expected() (traces, spans int) {
	for i := range w.traces {
		if w.traces[i].keep() {
			traces++
			spans += w.traces[i].allSpans
		}
	}
	return
}
