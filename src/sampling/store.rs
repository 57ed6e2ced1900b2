//! The trace buffer: shards keyed by trace ID, each behind its own short-held mutex.
//!
//! Ingest only appends under one shard lock per shard touched; it never evaluates a policy.
//! The release path takes due traces out (marking them "deciding" so spans arriving in the
//! meantime join the in-flight decision rather than start a new trace), decides them with
//! no shard lock held, then finalises them (cache insert, late-span routing) per shard.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use opentelemetry_proto::tonic::trace::v1::TracesData;
use prost::Message;

use super::cache::DecisionCache;
use super::decision::FinalDecision;
use super::stored::{framed_len, push_span, StoredGroup, StoredTrace};
use super::telemetry::Telemetry;
use super::trace::{trace_id_of, ResourceHdr, ScopeHdr, TraceId, TRACE_OVERHEAD_BYTES};
use crate::otlp::owned::{decode_resource_lossy, decode_scope_lossy};
use crate::otlp::TracesRef;

/// Why a trace was taken for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `decision_wait` elapsed (or shutdown flush).
    Due,
    /// `decision_wait_after_root_received` elapsed after the root span.
    Root,
    /// Over `maximum_trace_size_bytes`.
    Oversize,
    /// Over `num_traces` or the byte budget: the oldest trace goes first.
    Budget,
}

/// A trace taken out of the buffer, waiting for its decision.
#[derive(Debug)]
pub struct Taken {
    pub shard: usize,
    pub seq: u64,
    pub reason: Reason,
    pub data: StoredTrace,
}

struct Entry {
    seq: u64,
    data: StoredTrace,
    root_seen: bool,
    oversize_queued: bool,
    deciding: bool,
}

/// Ingest-time limits copied out of the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub wait_ns: u64,
    pub wait_after_root_ns: u64,
    pub max_trace_bytes: u64,
    pub num_traces: u64,
    pub max_bytes: u64,
}

pub struct Shard {
    traces: HashMap<TraceId, Entry>,
    by_arrival: VecDeque<(u64, u64, TraceId)>,
    root_due: VecDeque<(u64, u64, TraceId)>,
    oversize: Vec<(u64, TraceId)>,
    /// Late spans that follow a cached Sampled decision, waiting for the next release.
    ready: Vec<StoredGroup>,
    ready_bytes: u64,
    sampled: DecisionCache,
    not_sampled: DecisionCache,
}

pub struct Store {
    shards: Vec<Mutex<Shard>>,
    next_seq: AtomicU64,
    pub limits: Limits,
}

/// A span routed to its shard: its trace, shared resource and scope, encoded bytes (borrowed
/// from the batch when it was read in place), and whether it is a root (no parent).
type Pending<'b> = (
    TraceId,
    Arc<ResourceHdr>,
    Arc<ScopeHdr>,
    Cow<'b, [u8]>,
    bool,
);

/// For each span, the framed bytes it and the spans after it in the same run of one trace
/// bring: what a group buffer grows by at once, so it is sized to the batch, not doubled.
fn run_room(items: &[Pending<'_>]) -> Vec<usize> {
    let mut room = vec![0; items.len()];
    let mut acc = 0;
    for k in (0..items.len()).rev() {
        if k + 1 < items.len() && items[k + 1].0 != items[k].0 {
            acc = 0;
        }
        acc += framed_len(&items[k].3);
        room[k] = acc;
    }
    room
}

/// Spreads trace IDs over shards (IDs are random, so a cheap mix suffices).
fn shard_of(id: &TraceId, n: usize) -> usize {
    let lo = u64::from_le_bytes(id[0..8].try_into().unwrap());
    let hi = u64::from_le_bytes(id[8..16].try_into().unwrap());
    let h = (lo ^ hi.rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((h >> 32) as usize) % n
}

impl Store {
    pub fn new(
        num_shards: usize,
        limits: Limits,
        sampled_cache: u64,
        non_sampled_cache: u64,
        expected_traces: usize,
    ) -> Store {
        let per = |n: u64| (n as usize).div_ceil(num_shards);
        let shards = (0..num_shards)
            .map(|_| {
                Mutex::new(Shard {
                    traces: HashMap::with_capacity(expected_traces / num_shards),
                    by_arrival: VecDeque::new(),
                    root_due: VecDeque::new(),
                    oversize: Vec::new(),
                    ready: Vec::new(),
                    ready_bytes: 0,
                    sampled: DecisionCache::new(per(sampled_cache)),
                    not_sampled: DecisionCache::new(per(non_sampled_cache)),
                })
            })
            .collect();
        Store {
            shards,
            next_seq: AtomicU64::new(0),
            limits,
        }
    }

    pub fn num_shards(&self) -> usize {
        self.shards.len()
    }

    /// A poisoned shard only means another thread panicked mid-update; the data is still
    /// structurally valid, so keep going rather than lose spans.
    fn lock(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Buffers every span of a decoded batch, encoding each span once. Spans whose trace was
    /// already decided follow that decision (kept for the next release, or discarded and
    /// counted).
    pub fn ingest(&self, td: TracesData, now_ns: u64, tel: &Telemetry) -> u64 {
        let n = self.shards.len();
        let mut per_shard: Vec<Vec<Pending>> = (0..n).map(|_| Vec::new()).collect();
        let mut spans = 0u64;
        for rs in td.resource_spans {
            let res = Arc::new(ResourceHdr::new(rs.resource, rs.schema_url));
            for ss in rs.scope_spans {
                let scope = Arc::new(ScopeHdr::new(ss.scope, ss.schema_url));
                for span in ss.spans {
                    spans += 1;
                    let id = trace_id_of(&span.trace_id);
                    let root = span.parent_span_id.is_empty();
                    let bytes = Cow::Owned(span.encode_to_vec());
                    per_shard[shard_of(&id, n)].push((id, res.clone(), scope.clone(), bytes, root));
                }
            }
        }
        self.ingest_routed(per_shard, spans, now_ns, tel);
        spans
    }

    /// As [`Store::ingest`] for a batch read in place: each span is held as the bytes it
    /// arrived as, so nothing is decoded or re-encoded (and bytes that are not UTF-8 go out
    /// as they came in).
    pub fn ingest_read(&self, td: &TracesRef<'_>, now_ns: u64, tel: &Telemetry) -> u64 {
        let n = self.shards.len();
        let mut per_shard: Vec<Vec<Pending>> = (0..n).map(|_| Vec::new()).collect();
        let mut spans = 0u64;
        for rs in td.resource_spans() {
            let raw = rs.resource_raw();
            let resource = (!raw.is_empty()).then(|| decode_resource_lossy(raw, &rs));
            let res = Arc::new(ResourceHdr::from_parts(
                resource,
                raw.into(),
                rs.schema_url().into(),
            ));
            for ss in rs.scope_spans() {
                let raw = ss.scope_raw();
                let scope = (!raw.is_empty()).then(|| decode_scope_lossy(raw, &ss));
                let scope = Arc::new(ScopeHdr::from_parts(
                    scope,
                    raw.into(),
                    ss.schema_url().into(),
                ));
                for span in ss.spans() {
                    spans += 1;
                    let id = trace_id_of(span.trace_id());
                    let root = span.parent_span_id().is_empty();
                    let item = (
                        id,
                        res.clone(),
                        scope.clone(),
                        Cow::Borrowed(span.raw()),
                        root,
                    );
                    per_shard[shard_of(&id, n)].push(item);
                }
            }
        }
        self.ingest_routed(per_shard, spans, now_ns, tel);
        spans
    }

    /// Appends the spans routed to each shard, one shard lock at a time.
    fn ingest_routed(
        &self,
        per_shard: Vec<Vec<Pending<'_>>>,
        spans: u64,
        now_ns: u64,
        tel: &Telemetry,
    ) {
        Telemetry::add(&tel.batches_ingested, 1);
        Telemetry::add(&tel.spans_received, spans);
        for (i, items) in per_shard.into_iter().enumerate() {
            if items.is_empty() {
                continue;
            }
            let room = run_room(&items);
            let mut shard = self.lock(i);
            for ((id, res, scope, span, root), room) in items.into_iter().zip(room) {
                self.ingest_span(&mut shard, id, &res, &scope, &span, room, root, now_ns, tel);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn ingest_span(
        &self,
        shard: &mut Shard,
        id: TraceId,
        res: &Arc<ResourceHdr>,
        scope: &Arc<ScopeHdr>,
        span: &[u8],
        room: usize,
        is_root: bool,
        now_ns: u64,
        tel: &Telemetry,
    ) {
        if !shard.traces.contains_key(&id) {
            if shard.sampled.contains(&id) {
                let cost = push_span(&mut shard.ready, res, scope, span, room);
                shard.ready_bytes += cost;
                Telemetry::add(&tel.bytes_pending_release, cost);
                Telemetry::add(&tel.late_spans_sampled, 1);
                Telemetry::add(&tel.spans_pending_release, 1);
                return;
            }
            if shard.not_sampled.contains(&id) {
                Telemetry::add(&tel.late_spans_dropped, 1);
                return;
            }
            let seq = self.next_seq.fetch_add(1, Ordering::Relaxed) + 1;
            shard.traces.insert(
                id,
                Entry {
                    seq,
                    data: StoredTrace {
                        id,
                        arrival_ns: now_ns,
                        ..Default::default()
                    },
                    root_seen: false,
                    oversize_queued: false,
                    deciding: false,
                },
            );
            shard.by_arrival.push_back((now_ns, seq, id));
            Telemetry::add(&tel.traces_received, 1);
            Telemetry::add(&tel.traces_buffered, 1);
            Telemetry::add(&tel.bytes_buffered, TRACE_OVERHEAD_BYTES);
            if let Some(e) = shard.traces.get_mut(&id) {
                e.data.bytes += TRACE_OVERHEAD_BYTES;
            }
        }
        let lim = self.limits;
        let Some(e) = shard.traces.get_mut(&id) else {
            return;
        };
        let cost = push_span(&mut e.data.groups, res, scope, span, room);
        e.data.span_count += 1;
        e.data.bytes += cost;
        Telemetry::add(&tel.spans_buffered, 1);
        Telemetry::add(&tel.bytes_buffered, cost);
        if e.deciding {
            return;
        }
        if is_root && !e.root_seen && lim.wait_after_root_ns > 0 {
            e.root_seen = true;
            let due = now_ns.saturating_add(lim.wait_after_root_ns);
            shard.root_due.push_back((due, e.seq, id));
        }
        if lim.max_trace_bytes > 0 && e.data.bytes > lim.max_trace_bytes && !e.oversize_queued {
            e.oversize_queued = true;
            shard.oversize.push((e.seq, id));
        }
    }

    /// Trace IDs held by the decision caches, across shards.
    pub fn cache_entries(&self) -> u64 {
        (0..self.shards.len())
            .map(|i| {
                let s = self.lock(i);
                (s.sampled.len() + s.not_sampled.len()) as u64
            })
            .sum()
    }

    /// True when buffered traces or bytes exceed their limits.
    pub fn over_budget(&self, tel: &Telemetry) -> bool {
        let t = tel.traces_buffered.load(Ordering::Relaxed);
        let b = tel.bytes_buffered.load(Ordering::Relaxed);
        t > self.limits.num_traces || b > self.limits.max_bytes
    }

    fn take(
        shard: &mut Shard,
        i: usize,
        id: &TraceId,
        seq: u64,
        reason: Reason,
        tel: &Telemetry,
    ) -> Option<Taken> {
        let e = shard.traces.get_mut(id)?;
        if e.seq != seq || e.deciding {
            return None;
        }
        e.deciding = true;
        let arrival_ns = e.data.arrival_ns;
        let data = std::mem::take(&mut e.data);
        e.data.id = *id;
        e.data.arrival_ns = arrival_ns;
        Telemetry::sub(&tel.traces_buffered, 1);
        Telemetry::sub(&tel.spans_buffered, data.span_count);
        Telemetry::sub(&tel.bytes_buffered, data.bytes);
        Some(Taken {
            shard: i,
            seq,
            reason,
            data,
        })
    }

    /// Takes every trace that is due at `now_ns` (all of them when `all`), plus late spans
    /// waiting for release, which are appended to `ready`.
    pub fn take_due(
        &self,
        now_ns: u64,
        all: bool,
        tel: &Telemetry,
        ready: &mut Vec<StoredGroup>,
    ) -> Vec<Taken> {
        let wait = self.limits.wait_ns;
        let mut out = Vec::new();
        for i in 0..self.shards.len() {
            let mut guard = self.lock(i);
            let shard = &mut *guard;
            while let Some(&(arrival, seq, id)) = shard.by_arrival.front() {
                if !all && arrival.saturating_add(wait) > now_ns {
                    break;
                }
                shard.by_arrival.pop_front();
                if let Some(t) = Self::take(shard, i, &id, seq, Reason::Due, tel) {
                    out.push(t);
                }
            }
            while let Some(&(due, seq, id)) = shard.root_due.front() {
                if !all && due > now_ns {
                    break;
                }
                shard.root_due.pop_front();
                if let Some(t) = Self::take(shard, i, &id, seq, Reason::Root, tel) {
                    out.push(t);
                }
            }
            for (seq, id) in std::mem::take(&mut shard.oversize) {
                if let Some(t) = Self::take(shard, i, &id, seq, Reason::Oversize, tel) {
                    out.push(t);
                }
            }
            let spans: u64 = shard.ready.iter().map(|g| g.len() as u64).sum();
            Telemetry::sub(&tel.spans_pending_release, spans);
            Telemetry::sub(&tel.bytes_pending_release, shard.ready_bytes);
            shard.ready_bytes = 0;
            ready.append(&mut shard.ready);
        }
        out
    }

    /// Takes the oldest buffered trace across all shards, for deciding early.
    pub fn take_oldest(&self, tel: &Telemetry) -> Option<Taken> {
        let mut best: Option<(u64, u64, usize)> = None;
        for i in 0..self.shards.len() {
            let mut guard = self.lock(i);
            let shard = &mut *guard;
            while let Some(&(arrival, seq, id)) = shard.by_arrival.front() {
                let live = shard
                    .traces
                    .get(&id)
                    .is_some_and(|e| e.seq == seq && !e.deciding);
                if live {
                    if best.is_none_or(|(a, s, _)| (arrival, seq) < (a, s)) {
                        best = Some((arrival, seq, i));
                    }
                    break;
                }
                shard.by_arrival.pop_front();
            }
        }
        let (_, seq, i) = best?;
        let mut guard = self.lock(i);
        let shard = &mut *guard;
        let (_, _, id) = shard.by_arrival.pop_front()?;
        Self::take(shard, i, &id, seq, Reason::Budget, tel)
    }

    /// Removes decided traces, remembers their decisions, and routes spans that arrived
    /// while they were being decided. Returns those late spans when the trace was sampled.
    pub fn finalize(
        &self,
        decided: &[(usize, TraceId, u64, FinalDecision)],
        tel: &Telemetry,
        out: &mut Vec<StoredGroup>,
    ) {
        let mut by_shard: Vec<Vec<usize>> = vec![Vec::new(); self.shards.len()];
        for (k, d) in decided.iter().enumerate() {
            by_shard[d.0].push(k);
        }
        for (i, ks) in by_shard.into_iter().enumerate() {
            if ks.is_empty() {
                continue;
            }
            let mut guard = self.lock(i);
            let shard = &mut *guard;
            for k in ks {
                let (_, id, seq, decision) = decided[k];
                let Some(e) = shard.traces.get(&id) else {
                    continue;
                };
                if e.seq != seq || !e.deciding {
                    continue;
                }
                let e = shard.traces.remove(&id).expect("present");
                let late = e.data;
                Telemetry::sub(&tel.spans_buffered, late.span_count);
                Telemetry::sub(&tel.bytes_buffered, late.bytes);
                if decision.is_sampled() {
                    shard.sampled.insert(id);
                    Telemetry::add(&tel.late_spans_sampled, late.span_count);
                    out.extend(late.groups);
                } else {
                    shard.not_sampled.insert(id);
                    Telemetry::add(&tel.late_spans_dropped, late.span_count);
                }
            }
        }
    }
}
