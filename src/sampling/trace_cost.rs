//! Cost per agent run: the money and tokens of one whole trace, known only where the trace
//! is whole (here, at the decision point).
//!
//! Two separable parts, so a rewrite of the store can carry them over unchanged:
//! - [`TraceTotals`], an accumulator fed one [`CallCost`] per span;
//! - [`annotate_root`], the edit applied to the root span of a kept trace on release.
//!
//! A span counts when the cost stage judged it a call: accounted (`priced`,
//! `provider_reported`, `estimated`) adds its cost and tokens; `unpriced` adds tokens and
//! marks the total incomplete; `duplicate`, `no_usage`, wrappers and other spans add nothing.
//! So the totals equal the sum of the accounted spans, with no call counted twice. Spans that
//! arrive after the decision are not in the totals (docs/exactly-once.md, "Cost per trace").

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::view::attr;
use crate::money::Usd;
use crate::otlp::{AnyRef, KeyValueRef};

/// Attributes written on the root span of a kept trace.
pub const TRACE_COST: &str = "tollbooth.trace.cost";
pub const TRACE_INPUT_TOKENS: &str = "tollbooth.trace.input_tokens";
pub const TRACE_OUTPUT_TOKENS: &str = "tollbooth.trace.output_tokens";
pub const TRACE_LLM_CALLS: &str = "tollbooth.trace.llm_calls";
/// Present when some calls had no price: the cost is then a lower bound.
pub const TRACE_UNPRICED_CALLS: &str = "tollbooth.trace.unpriced_calls";

/// One span's part in its trace's totals (from the facts the cost stage wrote on it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallCost {
    /// The accounted cost; `None` when the call had no price.
    pub usd: Option<f64>,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl CallCost {
    /// Reads what the cost stage wrote on a span (its attributes); `None` for spans that are
    /// not a counted call.
    pub fn of(attrs: &[KeyValueRef<'_>]) -> Option<CallCost> {
        let find = |k: &str| attr(attrs.iter().copied(), k);
        let accounted = match find("tollbooth.cost.status")? {
            AnyRef::Str(b"priced" | b"provider_reported" | b"estimated") => true,
            AnyRef::Str(b"unpriced") => false,
            _ => return None,
        };
        let int = |k: &str| match find(k) {
            Some(AnyRef::Int(i)) if i > 0 => i as u64,
            _ => 0,
        };
        let usd = if accounted {
            match find("gen_ai.usage.cost") {
                Some(AnyRef::Double(d)) if d.is_finite() && d >= 0.0 => Some(d),
                _ => None,
            }
        } else {
            None
        };
        Some(CallCost {
            usd,
            input_tokens: int("gen_ai.usage.input_tokens"),
            output_tokens: int("gen_ai.usage.output_tokens"),
        })
    }
}

/// The running totals of one trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TraceTotals {
    /// Summed in exact decimal: the attribute equals the sum of the span costs.
    pub cost: Usd,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub llm_calls: u64,
    pub unpriced_calls: u64,
}

impl TraceTotals {
    pub fn add(&mut self, c: &CallCost) {
        self.llm_calls += 1;
        self.input_tokens = self.input_tokens.saturating_add(c.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(c.output_tokens);
        // The attribute's shortest decimal, as written on the span: the totals are the
        // exact sum of what the spans say.
        match c.usd.and_then(|d| Usd::from_f64(d, 0)) {
            Some(usd) => self.cost = Usd(self.cost.0.saturating_add(usd.0)),
            None => self.unpriced_calls += 1,
        }
    }

    /// Totals of a set of spans, given as their attribute lists.
    pub fn of<'s, 'a: 's>(spans: impl IntoIterator<Item = &'s [KeyValueRef<'a>]>) -> TraceTotals {
        let mut t = TraceTotals::default();
        for c in spans.into_iter().filter_map(CallCost::of) {
            t.add(&c);
        }
        t
    }

    /// The cost of a run, when every call in it was priced: what the histogram records.
    pub fn complete_cost(&self) -> Option<Usd> {
        (self.llm_calls > 0 && self.unpriced_calls == 0).then_some(self.cost)
    }
}

/// The trace's root span: the one without a parent (the earliest, if a broken trace has
/// several). Spans are given as (parent span ID, start time). `None` while the root has not
/// arrived.
pub fn root_index<'a>(spans: impl IntoIterator<Item = (&'a [u8], u64)>) -> Option<usize> {
    spans
        .into_iter()
        .enumerate()
        .filter(|(_, (parent, _))| parent.is_empty())
        .min_by_key(|(i, (_, start))| (*start, *i))
        .map(|(i, _)| i)
}

/// Writes the totals on the root span (replacing values an earlier stage wrote). Nothing is
/// written on a trace without model calls.
pub fn annotate_root(root: &mut Span, t: &TraceTotals) {
    if t.llm_calls == 0 {
        return;
    }
    let mut set = |key: &str, v: any_value::Value| {
        let value = Some(AnyValue { value: Some(v) });
        match root.attributes.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value = value,
            None => root.attributes.push(KeyValue {
                key: key.into(),
                value,
            }),
        }
    };
    let int = |n: u64| any_value::Value::IntValue(n.min(i64::MAX as u64) as i64);
    set(TRACE_COST, any_value::Value::DoubleValue(t.cost.to_f64()));
    set(TRACE_INPUT_TOKENS, int(t.input_tokens));
    set(TRACE_OUTPUT_TOKENS, int(t.output_tokens));
    set(TRACE_LLM_CALLS, int(t.llm_calls));
    if t.unpriced_calls > 0 {
        set(TRACE_UNPRICED_CALLS, int(t.unpriced_calls));
    }
}

/// The cost of one decided run, waiting to be recorded in the histogram of cost per trace.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCost {
    pub service: String,
    pub root: String,
    pub usd: f64,
}

/// Most runs waiting between two collections (the Go component collects after every release).
const MAX_PENDING: usize = 65_536;
/// Distinct (service, root span name) pairs; later ones are recorded under [`OTHER_ROOT`].
const MAX_LABEL_PAIRS: usize = 1_000;
/// Longest label value kept, in bytes (cut at a character boundary).
const MAX_LABEL_BYTES: usize = 128;
/// The root label once [`MAX_LABEL_PAIRS`] is reached, and for a trace whose root is missing.
pub const OTHER_ROOT: &str = "_other";
pub const NO_ROOT: &str = "_no_root";

/// Per-run costs between two collections, with bounded labels: root span names can be
/// anything (`GET /users/123`), so the pairs are capped and long values cut.
#[derive(Debug, Default)]
pub struct RunCosts {
    pending: Vec<RunCost>,
    labels: std::collections::HashSet<(String, String)>,
    /// Runs not recorded because the queue was full (counted, never silently lost).
    pub dropped: u64,
}

fn cut(s: &str) -> &str {
    if s.len() <= MAX_LABEL_BYTES {
        return s;
    }
    let mut end = MAX_LABEL_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl RunCosts {
    pub fn push(&mut self, service: &str, root: &str, usd: f64) {
        if self.pending.len() >= MAX_PENDING {
            self.dropped += 1;
            return;
        }
        let (service, mut root) = (cut(service).to_string(), cut(root).to_string());
        let key = (service, root.clone());
        if !self.labels.contains(&key) {
            if self.labels.len() >= MAX_LABEL_PAIRS {
                root = OTHER_ROOT.to_string();
            } else {
                self.labels.insert(key.clone());
            }
        }
        self.pending.push(RunCost {
            service: key.0,
            root,
            usd,
        });
    }

    pub fn take(&mut self) -> Vec<RunCost> {
        std::mem::take(&mut self.pending)
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// The runs as OTLP metrics for the Go component: one gauge point per run, which it records
/// into its histogram (`processor_genai_tail_sampling_trace_cost`). A transport between the
/// engine and its component, not an exported metric.
pub fn runs_to_metrics(
    runs: Vec<RunCost>,
    now_unix_nano: u64,
) -> opentelemetry_proto::tonic::metrics::v1::MetricsData {
    use opentelemetry_proto::tonic::metrics::v1::{
        metric, number_data_point, Gauge, Metric, MetricsData, NumberDataPoint, ResourceMetrics,
        ScopeMetrics,
    };
    if runs.is_empty() {
        return MetricsData::default();
    }
    let points = runs
        .into_iter()
        .map(|r| NumberDataPoint {
            attributes: vec![
                crate::otlp::kv_str("service.name", &r.service),
                crate::otlp::kv_str("tollbooth.trace.root", &r.root),
            ],
            time_unix_nano: now_unix_nano,
            value: Some(number_data_point::Value::AsDouble(r.usd)),
            ..Default::default()
        })
        .collect();
    MetricsData {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: TRACE_COST.into(),
                    unit: "USD".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::{kv_int, kv_str};

    /// Totals of decoded spans, their attributes read as the reader's values.
    fn totals(spans: &[Span]) -> TraceTotals {
        let lists: Vec<Vec<KeyValueRef<'_>>> = spans
            .iter()
            .map(|s| crate::facts::prost::flat_refs(&s.attributes).collect())
            .collect();
        TraceTotals::of(lists.iter().map(Vec::as_slice))
    }

    fn span(status: &str, cost: Option<f64>, input: i64, output: i64) -> Span {
        let mut attributes = vec![
            kv_str("tollbooth.cost.status", status),
            kv_int("gen_ai.usage.input_tokens", input),
            kv_int("gen_ai.usage.output_tokens", output),
        ];
        if let Some(c) = cost {
            attributes.push(KeyValue {
                key: "gen_ai.usage.cost".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::DoubleValue(c)),
                }),
            });
        }
        Span {
            attributes,
            parent_span_id: vec![1],
            ..Default::default()
        }
    }

    #[test]
    fn totals_are_the_exact_sum_of_accounted_spans_and_skip_duplicates() {
        let spans = [
            span("priced", Some(0.0051678), 2006, 913),
            span("duplicate", None, 2006, 913),
            span("provider_reported", Some(0.00443), 1536, 187),
            span("no_usage", None, 0, 0),
            Span::default(),
        ];
        let t = totals(&spans);
        assert_eq!(t.llm_calls, 2);
        assert_eq!((t.input_tokens, t.output_tokens), (3542, 1100));
        assert_eq!(t.cost.to_string(), "0.0095978");
        assert_eq!(t.complete_cost(), Some(t.cost));
        let with_unpriced = totals(&[
            span("priced", Some(1.0), 1, 1),
            span("unpriced", None, 5, 5),
        ]);
        assert_eq!(with_unpriced.unpriced_calls, 1);
        assert_eq!(
            with_unpriced.complete_cost(),
            None,
            "never a partial cost as a run's cost"
        );
        assert_eq!(TraceTotals::default().complete_cost(), None);
    }

    #[test]
    fn root_gets_the_totals() {
        let mut root = Span {
            name: "invoke_agent".into(),
            start_time_unix_nano: 5,
            ..Default::default()
        };
        let spans = vec![span("priced", Some(0.25), 10, 2), root.clone()];
        assert_eq!(
            root_index(
                spans
                    .iter()
                    .map(|s| (&s.parent_span_id[..], s.start_time_unix_nano))
            ),
            Some(1)
        );
        let t = totals(&spans);
        annotate_root(&mut root, &t);
        annotate_root(&mut root, &t);
        let a = &root.attributes;
        assert_eq!(a.iter().filter(|kv| kv.key == TRACE_COST).count(), 1);
        assert_eq!(crate::otlp::find_int(a, TRACE_LLM_CALLS), Some(1));
        assert_eq!(crate::otlp::find_int(a, TRACE_INPUT_TOKENS), Some(10));
        assert!(crate::otlp::find(a, TRACE_UNPRICED_CALLS).is_none());
        let mut plain = Span::default();
        annotate_root(&mut plain, &TraceTotals::default());
        assert!(plain.attributes.is_empty(), "no calls, nothing written");
    }

    #[test]
    fn run_labels_are_bounded() {
        let mut r = RunCosts::default();
        for i in 0..(MAX_LABEL_PAIRS + 10) {
            r.push("svc", &format!("GET /users/{i}"), 0.1);
        }
        r.push("svc", &"x".repeat(10_000), 0.1);
        let runs = r.take();
        assert!(runs.iter().all(|x| x.root.len() <= MAX_LABEL_BYTES));
        let distinct: std::collections::HashSet<_> = runs.iter().map(|x| &x.root).collect();
        assert_eq!(
            distinct.len(),
            MAX_LABEL_PAIRS + 1,
            "the rest under {OTHER_ROOT}"
        );
        assert!(r.is_empty());
    }
}
