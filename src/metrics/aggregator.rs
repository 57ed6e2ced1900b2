//! The aggregator: finds a call's series without allocating, enforces the cardinality
//! limit, expires idle series and hands the tallies to the exporter.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::Arc;

use opentelemetry_proto::tonic::metrics::v1::MetricsData;

use super::export;
use super::histogram::Hist;
use super::names::{BASE_DIMENSIONS, OTHER_ERROR};
use super::record::CallRecord;
use super::series::{ErrorId, Series, Tallies};
use crate::config::{DimensionConfig, MetricsConfig, Temporality};

/// Distinct `error.type` values kept before further ones report as `_OTHER`; bounds the
/// error label the same way the cardinality limit bounds series.
pub const MAX_ERROR_TYPES: usize = 64;

/// Longest label value kept, in bytes, marker included. The cardinality limit bounds the
/// number of series, this bounds their size: 1,900 unique 10 KB model names would otherwise
/// make every scrape a gigabyte (issue 11). Longer values keep their start and end in
/// [`TRUNCATED_MARKER`]; values that share that start share a series.
pub const MAX_LABEL_BYTES: usize = 256;
/// Appended to a cut label value, so a dashboard shows it was cut.
pub const TRUNCATED_MARKER: &str = "...[truncated]";

/// `v` as a label value: unchanged up to [`MAX_LABEL_BYTES`], else cut on a character
/// boundary and marked. Only hostile or broken values pay the allocation.
pub fn label_value(v: &str) -> Cow<'_, str> {
    if v.len() <= MAX_LABEL_BYTES {
        return Cow::Borrowed(v);
    }
    let mut end = MAX_LABEL_BYTES - TRUNCATED_MARKER.len();
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}{TRUNCATED_MARKER}", &v[..end]))
}

/// The series keys are already hashed with a keyed hash; hashing them again is waste.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Hashes a call's dimension values. SipHash through the `Hash` trait was a third of the
/// per-call cost; this multiply-rotate mix over whole words is several times faster.
/// Collisions cost a string comparison, never a wrong series (keys are compared in full),
/// and the cardinality limit bounds the chains.
struct KeyHasher(u64);

impl KeyHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    /// One dimension value. The last, partial word carries the length, which delimits
    /// values (`"ab","c"` ≠ `"a","bc"`) and tells `None` from `""`.
    #[inline]
    fn part(&mut self, value: Option<&str>) {
        let Some(s) = value else {
            self.mix(0xA5A5_A5A5_A5A5_A5A5);
            return;
        };
        let bytes = s.as_bytes();
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.mix(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        // Overlapping loads instead of copying the tail into a buffer (a store-forwarding
        // stall showed up in profiles).
        let rest = words.remainder();
        let n = rest.len();
        let tail = if n >= 4 {
            let lo = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as u64;
            let hi = u32::from_le_bytes(rest[n - 4..].try_into().expect("4 bytes")) as u64;
            lo | hi << 32
        } else if n > 0 {
            rest[0] as u64 | (rest[n / 2] as u64) << 8 | (rest[n - 1] as u64) << 16
        } else {
            0
        };
        self.mix(tail ^ (bytes.len() as u64) << 56);
    }

    fn finish(&self) -> u64 {
        // Final avalanche (murmur3 fmix64) so the low bits the table uses depend on every byte.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// Holds every series of one engine; the engine keeps it behind a mutex.
pub struct Aggregator {
    config: MetricsConfig,
    /// Random per aggregator, so span-controlled values cannot aim at one hash chain.
    seed: u64,
    series: Vec<Series>,
    /// Key hash → positions in `series` (more than one only on a 64-bit collision).
    index: HashMap<u64, Vec<u32>, BuildHasherDefault<IdentityHasher>>,
    /// The one series that absorbs calls beyond `aggregation_cardinality_limit`.
    overflow: Option<Series>,
    /// Interned dimension values shared by all series.
    strings: HashSet<Arc<str>>,
    error_types: Vec<Arc<str>>,
    error_ids: HashMap<Arc<str>, ErrorId>,
    /// Calls folded into the overflow series, for self-telemetry.
    overflowed_calls: u64,
}

impl Aggregator {
    pub fn new(config: MetricsConfig) -> Aggregator {
        Aggregator {
            config,
            seed: RandomState::new().hash_one(0x7011_b007_u64),
            series: Vec::new(),
            index: HashMap::default(),
            overflow: None,
            strings: HashSet::new(),
            error_types: Vec::new(),
            error_ids: HashMap::new(),
            overflowed_calls: 0,
        }
    }

    pub fn config(&self) -> &MetricsConfig {
        &self.config
    }

    /// Counts one model call seen at `now_unix_nano`. Allocation-free when the call's
    /// series and error type already exist.
    pub fn record(&mut self, call: &CallRecord<'_>, now_unix_nano: u64) {
        let error = call.error_type.map(|e| self.error_id(e));
        let hash = self.key_hash(call);
        let series = match self.find(hash, call) {
            Some(i) => &mut self.series[i],
            None => self.insert(hash, call, now_unix_nano),
        };
        series.last_seen_unix_nano = series.last_seen_unix_nano.max(now_unix_nano);
        series.touched = true;
        series.tallies.add(call, error);
    }

    /// Live series, the overflow series included (also exported as a gauge).
    pub fn series_count(&self) -> usize {
        self.series.len() + usize::from(self.overflow.is_some())
    }

    /// Calls that were folded into the overflow series since start.
    pub fn overflowed_calls(&self) -> u64 {
        self.overflowed_calls
    }

    /// An estimate of the heap this aggregator holds, for the engine's memory gauge (Go's
    /// memory_limiter cannot see Rust allocations).
    pub fn approx_heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let series_heap = |s: &Series| {
            let t = &s.tallies;
            s.dims.len() * size_of::<Option<Arc<str>>>()
                + t.errors.capacity() * size_of::<(ErrorId, u64)>()
                + t.duration.capacity() * size_of::<(Option<ErrorId>, Hist)>()
                + t.duration.iter().map(|d| d.1.heap_bytes()).sum::<usize>()
                + t.input_tokens.heap_bytes()
                + t.output_tokens.heap_bytes()
                + t.ttft.heap_bytes()
        };
        self.series.capacity() * size_of::<Series>()
            + self
                .series
                .iter()
                .chain(self.overflow.as_ref())
                .map(series_heap)
                .sum::<usize>()
            + self.index.capacity() * (size_of::<(u64, Vec<u32>)>() + 1)
            + self.index.values().map(|v| v.capacity() * 4).sum::<usize>()
            + self.strings.capacity() * (size_of::<Arc<str>>() + 1)
            + self.strings.iter().map(|s| s.len() + 16).sum::<usize>()
            + self
                .error_types
                .iter()
                .map(|s| s.len() + 16 + 40)
                .sum::<usize>()
    }

    /// Builds the metrics as of `now_unix_nano`; see [`Aggregator::snapshot`]. Empty when
    /// there is no series at all.
    pub fn collect(&mut self, now_unix_nano: u64) -> MetricsData {
        self.snapshot(now_unix_nano).into_metrics()
    }

    /// Takes what is due for export as of `now_unix_nano`: first drops series idle longer
    /// than `metrics_expiration`, then copies every series (cumulative) or the series with
    /// calls since the last collect and starts their new interval (delta). Cheap enough to
    /// run under the engine's lock; [`Snapshot::into_metrics`] does the rest outside it.
    pub fn snapshot(&mut self, now_unix_nano: u64) -> Snapshot {
        self.expire(now_unix_nano);
        let delta = self.config.aggregation_temporality == Temporality::Delta;
        let take = |s: &mut Series| -> Option<Series> {
            if !delta {
                return Some(s.clone());
            }
            let due = s.touched.then(|| s.clone());
            if s.touched {
                s.tallies.reset();
                s.touched = false;
            }
            s.start_unix_nano = now_unix_nano;
            due
        };
        let series: Vec<Series> = self.series.iter_mut().filter_map(take).collect();
        let overflow = self.overflow.as_mut().and_then(take);
        let mut dimension_names: Vec<String> =
            BASE_DIMENSIONS.iter().map(|d| d.to_string()).collect();
        dimension_names.extend(self.config.dimensions.iter().map(|d| d.name.clone()));
        Snapshot {
            series,
            overflow,
            dimension_names,
            error_types: self.error_types.clone(),
            temporality: self.config.aggregation_temporality,
            exponential_max_size: self
                .config
                .histogram
                .exponential
                .as_ref()
                .map(|e| e.max_size),
            series_count: self.series_count(),
            now_unix_nano,
        }
    }

    fn dims_len(&self) -> usize {
        BASE_DIMENSIONS.len() + self.config.dimensions.len()
    }

    fn key_hash(&self, call: &CallRecord<'_>) -> u64 {
        let mut h = KeyHasher(self.seed);
        for i in 0..self.dims_len() {
            h.part(key_part(&self.config.dimensions, call, i).as_deref());
        }
        h.finish()
    }

    fn find(&self, hash: u64, call: &CallRecord<'_>) -> Option<usize> {
        let candidates = self.index.get(&hash)?;
        candidates.iter().map(|i| *i as usize).find(|i| {
            let dims = &self.series[*i].dims;
            (0..dims.len()).all(|d| {
                dims[d].as_deref() == key_part(&self.config.dimensions, call, d).as_deref()
            })
        })
    }

    /// Starts a series for a new dimension set, or returns the overflow series when the
    /// limit is reached.
    fn insert(&mut self, hash: u64, call: &CallRecord<'_>, now: u64) -> &mut Series {
        let exponential = self.config.histogram.exponential.is_some();
        if self.series.len() >= self.config.aggregation_cardinality_limit {
            self.overflowed_calls += 1;
            return self.overflow.get_or_insert_with(|| Series {
                dims: Box::new([]),
                hash: 0,
                start_unix_nano: now,
                last_seen_unix_nano: now,
                touched: false,
                tallies: Tallies::new(exponential),
            });
        }
        let n = self.dims_len();
        let (extras, strings) = (&self.config.dimensions, &mut self.strings);
        let dims: Box<[Option<Arc<str>>]> = (0..n)
            .map(|i| key_part(extras, call, i).map(|v| intern(strings, &v)))
            .collect();
        let id = self.series.len();
        self.series.push(Series {
            dims,
            hash,
            start_unix_nano: now,
            last_seen_unix_nano: now,
            touched: false,
            tallies: Tallies::new(exponential),
        });
        self.index.entry(hash).or_default().push(id as u32);
        &mut self.series[id]
    }

    fn error_id(&mut self, e: &str) -> ErrorId {
        let e = label_value(if e.is_empty() { OTHER_ERROR } else { e });
        let e: &str = &e;
        if let Some(id) = self.error_ids.get(e) {
            return *id;
        }
        let e = if self.error_types.len() >= MAX_ERROR_TYPES {
            OTHER_ERROR
        } else {
            e
        };
        if let Some(id) = self.error_ids.get(e) {
            return *id;
        }
        let a: Arc<str> = Arc::from(e);
        let id = self.error_types.len() as ErrorId;
        self.error_types.push(a.clone());
        self.error_ids.insert(a, id);
        id
    }

    /// Drops series idle longer than `metrics_expiration` (zero: never) and the strings
    /// only they used. A delta series with unexported calls is kept until it is exported.
    fn expire(&mut self, now: u64) {
        let ttl = self.config.metrics_expiration.as_nanos() as u64;
        if ttl == 0 {
            return;
        }
        let delta = self.config.aggregation_temporality == Temporality::Delta;
        let live =
            |s: &Series| (delta && s.touched) || now.saturating_sub(s.last_seen_unix_nano) <= ttl;
        if self.overflow.as_ref().is_some_and(|o| !live(o)) {
            self.overflow = None;
        }
        let before = self.series.len();
        self.series.retain(live);
        if self.series.len() == before {
            return;
        }
        self.index.clear();
        for (i, s) in self.series.iter().enumerate() {
            self.index.entry(s.hash).or_default().push(i as u32);
        }
        self.strings.retain(|a| Arc::strong_count(a) > 1);
    }
}

/// The call's value for dimension `i` (base dimensions, then configured extras with their
/// defaults), cut to [`MAX_LABEL_BYTES`]; `None` leaves the label off.
fn key_part<'r>(
    extras: &'r [DimensionConfig],
    call: &'r CallRecord<'_>,
    i: usize,
) -> Option<Cow<'r, str>> {
    let v = match i {
        0 => Some(call.service),
        1 => Some(call.provider),
        2 => Some(call.operation),
        3 => Some(call.request_model),
        4 => Some(call.response_model),
        _ => {
            let extra = i - BASE_DIMENSIONS.len();
            call.extra_dims
                .get(extra)
                .and_then(|v| v.as_deref())
                .filter(|v| !v.is_empty())
                .or(extras[extra].default.as_deref())
        }
    };
    v.filter(|v| !v.is_empty()).map(label_value)
}

fn intern(strings: &mut HashSet<Arc<str>>, s: &str) -> Arc<str> {
    if let Some(a) = strings.get(s) {
        return a.clone();
    }
    let a: Arc<str> = Arc::from(s);
    strings.insert(a.clone());
    a
}

/// A copy of the tallies due for export, taken under the engine's lock and turned into
/// OTLP after it is released, so a large export does not hold up span processing.
pub struct Snapshot {
    series: Vec<Series>,
    overflow: Option<Series>,
    dimension_names: Vec<String>,
    error_types: Vec<Arc<str>>,
    temporality: Temporality,
    exponential_max_size: Option<u32>,
    series_count: usize,
    now_unix_nano: u64,
}

impl Snapshot {
    /// The OTLP metrics, series in dimension order with the overflow series last. Empty
    /// when the aggregator held no series.
    pub fn into_metrics(mut self) -> MetricsData {
        if self.series_count == 0 {
            return MetricsData::default();
        }
        self.series.sort_by(|a, b| a.dims.cmp(&b.dims));
        let order: Vec<&Series> = self.series.iter().chain(self.overflow.as_ref()).collect();
        let names: Vec<&str> = self.dimension_names.iter().map(String::as_str).collect();
        export::build(&export::Input {
            series: &order,
            dimension_names: &names,
            error_types: &self.error_types,
            temporality: self.temporality,
            exponential_max_size: self.exponential_max_size,
            series_count: self.series_count,
            now_unix_nano: self.now_unix_nano,
        })
    }
}
