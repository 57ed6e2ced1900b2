//! One histogram cell: exact count, sum and semconv buckets, plus an HDR record of the shape
//! for exponential export.
//!
//! Why both: HDR bins are powers-of-two wide, so they cannot put a value exactly on the right
//! side of a decimal bound such as 0.01 s; the explicit buckets are therefore counted
//! directly (one binary search over 14 integers). The HDR histogram is only allocated when
//! exponential export is configured, where bucket edges are approximate by nature.

use hdrhistogram::Histogram;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exponential_histogram_data_point::Buckets, ExponentialHistogramDataPoint, HistogramDataPoint,
};

use super::buckets::Shape;

/// Significant digits of the HDR record: 1% resolution, well under an exponential bucket
/// width at the scales `max_size` 160 allows for realistic ranges.
const HDR_SIGFIG: u8 = 2;
/// Highest exponential scale OTLP allows.
const MAX_SCALE: i32 = 20;
const MIN_SCALE: i32 = -10;

#[derive(Debug, Clone)]
pub struct Hist {
    count: u64,
    /// Exact sum in raw units (tokens or nanoseconds).
    sum: u128,
    min: u64,
    max: u64,
    buckets: [u64; 15],
    hdr: Option<Box<Histogram<u64>>>,
}

impl Hist {
    pub fn new(exponential: bool) -> Hist {
        Hist {
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
            buckets: [0; 15],
            hdr: exponential.then(|| {
                Box::new(Histogram::new(HDR_SIGFIG).expect("2 significant digits is valid"))
            }),
        }
    }

    pub fn record(&mut self, shape: Shape, raw: u64) {
        self.count += 1;
        self.sum += raw as u128;
        self.min = self.min.min(raw);
        self.max = self.max.max(raw);
        self.buckets[shape.bucket(raw)] += 1;
        if let Some(h) = &mut self.hdr {
            // `record` grows the auto-resizing histogram; `saturating_record` would clamp.
            let v = raw / shape.hdr_divisor();
            if h.record(v).is_err() {
                h.saturating_record(v);
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Heap bytes held (the HDR counts, when exponential export is on).
    pub fn heap_bytes(&self) -> usize {
        self.hdr.as_ref().map_or(0, |h| {
            std::mem::size_of::<Histogram<u64>>() + h.distinct_values() * 8
        })
    }

    /// Starts a new delta interval, keeping allocations.
    pub fn reset(&mut self) {
        self.count = 0;
        self.sum = 0;
        self.min = u64::MAX;
        self.max = 0;
        self.buckets = [0; 15];
        if let Some(h) = &mut self.hdr {
            h.reset();
        }
    }

    pub fn explicit_point(
        &self,
        shape: Shape,
        attributes: Vec<KeyValue>,
        start: u64,
        now: u64,
    ) -> HistogramDataPoint {
        HistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: now,
            count: self.count,
            sum: Some(shape.sum_to_export(self.sum)),
            bucket_counts: self.buckets.to_vec(),
            explicit_bounds: shape.explicit_bounds(),
            exemplars: vec![],
            flags: 0,
            min: self.min_max(shape).map(|m| m.0),
            max: self.min_max(shape).map(|m| m.1),
        }
    }

    fn min_max(&self, shape: Shape) -> Option<(f64, f64)> {
        (self.count > 0).then(|| (shape.to_export(self.min), shape.to_export(self.max)))
    }

    /// Exponential point at the highest scale whose bucket span fits `max_size`. Count, sum,
    /// min and max are exact; bucket counts come from HDR bins (1% resolution), so a value
    /// within 1% above a bucket edge may be counted one bucket lower.
    pub fn exponential_point(
        &self,
        shape: Shape,
        max_size: u32,
        attributes: Vec<KeyValue>,
        start: u64,
        now: u64,
    ) -> ExponentialHistogramDataPoint {
        let mut point = ExponentialHistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: now,
            count: self.count,
            sum: Some(shape.sum_to_export(self.sum)),
            scale: MAX_SCALE,
            zero_count: 0,
            positive: None,
            negative: None,
            flags: 0,
            exemplars: vec![],
            min: self.min_max(shape).map(|m| m.0),
            max: self.min_max(shape).map(|m| m.1),
            zero_threshold: 0.0,
        };
        let Some(h) = &self.hdr else {
            return point;
        };
        // HDR units → exported units (µs → s for durations).
        let per_unit = shape.to_export(shape.hdr_divisor());
        let mut bins: Vec<(f64, u64)> = Vec::new();
        for v in h.iter_recorded() {
            // The bin's lowest value: exact for powers of two (bins start on them), so a
            // value on an exponential bucket edge such as 1 s or 1024 tokens is placed exactly.
            let value = h.lowest_equivalent(v.value_iterated_to());
            if value == 0 {
                point.zero_count += v.count_at_value();
            } else {
                bins.push((value as f64 * per_unit, v.count_at_value()));
            }
        }
        let (Some(lo), Some(hi)) = (bins.first(), bins.last()) else {
            return point;
        };
        let (lo, hi) = (lo.0, hi.0);
        let mut scale = MAX_SCALE;
        while scale > MIN_SCALE && exp_index(hi, scale) - exp_index(lo, scale) + 1 > max_size as i64
        {
            scale -= 1;
        }
        let offset = exp_index(lo, scale);
        let top = exp_index(hi, scale);
        let mut counts = vec![0u64; (top - offset + 1) as usize];
        for (value, n) in bins {
            let i = exp_index(value, scale).clamp(offset, top) - offset;
            counts[i as usize] += n;
        }
        point.scale = scale;
        point.positive = Some(Buckets {
            offset: offset as i32,
            bucket_counts: counts,
        });
        point
    }
}

/// OTLP exponential bucket index: bucket `i` holds `(base^i, base^(i+1)]`, `base = 2^2^-scale`.
fn exp_index(value: f64, scale: i32) -> i64 {
    (value.log2() * 2f64.powi(scale)).ceil() as i64 - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_point_is_exact() {
        let mut h = Hist::new(false);
        for t in [0, 1, 4, 5, 100, 70_000_000] {
            h.record(Shape::Tokens, t);
        }
        let p = h.explicit_point(Shape::Tokens, vec![], 1, 2);
        assert_eq!(p.count, 6);
        assert_eq!(p.sum, Some(70_000_110.0));
        assert_eq!(p.bucket_counts[0], 2);
        assert_eq!(p.bucket_counts[1], 1);
        assert_eq!(p.bucket_counts[2], 1);
        assert_eq!(p.bucket_counts[4], 1);
        assert_eq!(p.bucket_counts[14], 1);
        assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
        assert_eq!((p.min, p.max), (Some(0.0), Some(70_000_000.0)));
        h.reset();
        assert_eq!(h.count(), 0);
    }

    #[test]
    fn exponential_point_fits_max_size_and_keeps_totals() {
        let mut h = Hist::new(true);
        let values_s = [0.0, 0.05, 0.2, 1.0, 3.0, 30.0, 30.0];
        for s in values_s {
            h.record(Shape::Seconds, super::super::buckets::seconds_to_ns(s));
        }
        let p = h.exponential_point(Shape::Seconds, 20, vec![], 1, 2);
        assert_eq!(p.count, 7);
        assert_eq!(p.zero_count, 1);
        let pos = p.positive.unwrap();
        assert!(pos.bucket_counts.len() <= 20);
        assert_eq!(pos.bucket_counts.iter().sum::<u64>(), 6);
        assert!((p.sum.unwrap() - 64.25).abs() < 1e-12);
        // Every non-zero value sits in its bucket or, within HDR resolution, the one below.
        for s in &values_s[1..] {
            let i = (exp_index(*s, p.scale) - pos.offset as i64) as usize;
            let here = pos.bucket_counts[i];
            let below = i.checked_sub(1).map_or(0, |j| pos.bucket_counts[j]);
            assert!(here + below > 0, "{s}");
        }
        // Exact edges land exactly: 1 s is the top of bucket -1 at any scale.
        assert!(pos.bucket_counts[(exp_index(1.0, p.scale) - pos.offset as i64) as usize] > 0);
    }
}
