//! LiteLLM's `model_prices_and_context_window.json`, read as it is.
//!
//! Its flat field grammar `<base>[_above_<N>[k]_tokens][_<tier>]` (docs/pricing.md, "LiteLLM's
//! file") is translated into our model: `_above_` → cliff tiers, `_priority`/`_flex`/… →
//! service-tier variants, `_batches` → the batch variant, `tiered_pricing` ranges → tiers,
//! residency/regional/geo/speed multipliers → uplifts. Each variant is built so that it bills
//! what LiteLLM's own cost function bills for that row. Floats become exact decimals through
//! their shortest text. Non-token units are not billed.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::table::{
    Constraint, Dated, FlatEntry, ModelEntry, OffPeakRule, Price, PriceSet, Source, SourceData,
    Unit, Uplift, Variant,
};
use crate::money::Usd;

/// Base field names, longest first so `…_above_1hr` is not read as the 5-minute write.
const BASES: &[(&str, Unit)] = &[
    (
        "cache_creation_input_token_cost_above_1hr",
        Unit::CacheWrite1h,
    ),
    ("cache_creation_input_token_cost", Unit::CacheWrite),
    ("cache_read_input_token_cost", Unit::CacheRead),
    ("output_cost_per_reasoning_token", Unit::Reasoning),
    ("input_cost_per_token", Unit::Input),
    ("output_cost_per_token", Unit::Output),
];

/// Per unit: the base rate and the `_above_` tier rates, as read.
type RawUnits = [(Option<Usd>, Vec<(u64, Usd)>); 6];

/// Suffix → the service tier it prices. `_batches` is read separately ([`batch_variant`]).
const TIERS: &[(&str, &str, &str)] = &[
    ("priority", "service_tier", "priority"),
    ("flex", "service_tier", "flex"),
    ("balanced", "service_tier", "balanced"),
    ("ultrafast", "service_tier", "ultrafast"),
];

/// True when a parsed JSON document looks like LiteLLM's file.
pub fn looks_like(doc: &Map<String, Value>) -> bool {
    doc.contains_key("sample_spec")
        || doc
            .values()
            .take(20)
            .any(|v| v.get("litellm_provider").is_some())
}

/// Converts LiteLLM's document; entries without a per-token price are skipped.
pub fn convert(doc: &Map<String, Value>, path: &str, version: &str) -> Source {
    let mut out = HashMap::with_capacity(doc.len());
    for (key, v) in doc {
        if key == "sample_spec" || key == "fallback_generalizations" {
            continue;
        }
        let Some(o) = v.as_object() else { continue };
        let provider = o
            .get("litellm_provider")
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        let Some(entry) = entry(key, o, &provider) else {
            continue;
        };
        let lk = key.to_lowercase();
        out.insert(
            lk.clone(),
            FlatEntry {
                key: key.clone(),
                provider,
                model: Arc::new(entry),
            },
        );
    }
    Source {
        name: "litellm".into(),
        version: version.to_string(),
        path: path.to_string(),
        data: SourceData::Flat(out),
    }
}

/// A rate or multiplier as LiteLLM writes it. A negative one is implausible (it would make
/// costs, and the cost counter, go down) and is read as absent.
fn rate(v: &Value) -> Option<Usd> {
    match v {
        Value::Number(n) => Usd::from_f64(n.as_f64()?, 0),
        Value::String(s) => Usd::parse(s),
        _ => None,
    }
    .filter(|r| *r >= Usd::ZERO)
}

/// Parses `_above_200k_tokens`, `_priority`, `_above_200k_tokens_priority`,
/// `_priority_above_200k_tokens` into (threshold, tier suffix).
fn suffix(rest: &str) -> Option<(Option<u64>, Option<&'static str>)> {
    let mut threshold = None;
    let mut tier = None;
    let mut s = rest;
    while !s.is_empty() {
        let t = s.strip_prefix('_')?;
        if let Some(a) = t.strip_prefix("above_") {
            let end = a.find("_tokens")?;
            let num = &a[..end];
            let n = match num.strip_suffix('k') {
                // (Checked: a threshold past u64 tokens is no threshold, not a wrapped one.)
                Some(k) => k.parse::<u64>().ok()?.checked_mul(1000)?,
                None => num.parse::<u64>().ok()?,
            };
            threshold = Some(n);
            s = &a[end + "_tokens".len()..];
        } else {
            let (name, rest) = match t.find('_') {
                Some(i) => (&t[..i], &t[i..]),
                None => (t, ""),
            };
            tier = Some(if name == "batches" {
                "batches"
            } else {
                TIERS.iter().find(|x| x.0 == name)?.0
            });
            s = rest;
        }
    }
    Some((threshold, tier))
}

fn entry(key: &str, o: &Map<String, Value>, provider: &str) -> Option<ModelEntry> {
    // tier name ("" = standard) -> unit -> (base, tiers)
    let mut sets: HashMap<&'static str, RawUnits> = HashMap::new();
    for (k, v) in o {
        let Some(&(base, unit)) = BASES.iter().find(|(b, _)| k.starts_with(b)) else {
            continue;
        };
        let Some((threshold, tier)) = suffix(&k[base.len()..]) else {
            continue;
        };
        let Some(r) = rate(v) else { continue };
        let slot = &mut sets.entry(tier.unwrap_or("")).or_default()[unit as usize];
        match threshold {
            Some(t) => slot.1.push((t, r)),
            None => slot.0 = Some(r),
        }
    }
    let std_raw = sets.remove("").unwrap_or_default();
    let mut standard = build(std_raw.clone(), true);
    if let Some(ranges) = o.get("tiered_pricing").and_then(|t| t.as_array()) {
        standard = from_ranges(ranges)?;
    }
    if standard.get(Unit::Input).is_none() && standard.get(Unit::Output).is_none() {
        return None;
    }
    let mut prices = vec![Dated {
        constraint: None,
        prices: standard.clone(),
    }];
    if let Some(op) = o.get("off_peak_pricing").and_then(|v| v.as_object()) {
        // Off-peak windows we cannot model (an unknown weekday calendar) leave the row
        // unpriced rather than priced at the wrong rate half of the day.
        let (rules, rates) = off_peak(op)?;
        let mut p = standard.clone();
        p.overlay(&rates);
        prices.push(Dated {
            constraint: Some(Constraint::OffPeak(rules.into())),
            prices: p,
        });
    }
    let mut variants = Vec::new();
    for (name, cond, val) in TIERS {
        if let Some(units) = sets.remove(name) {
            let ps = tier_variant(units, &std_raw);
            if !ps.is_empty() {
                variants.push(Variant {
                    when: vec![(cond.to_string(), val.to_string())],
                    constraint: None,
                    prices: ps,
                });
            }
        }
    }
    let batch = batch_variant(sets.remove("batches").unwrap_or_default(), &std_raw);
    if !batch.is_empty() {
        variants.push(Variant {
            when: vec![("processing".into(), "batch".into())],
            constraint: None,
            prices: batch,
        });
    }
    Some(ModelEntry {
        id: key.to_string(),
        prices,
        variants,
        tier_inclusive: provider == "xai",
        uplifts: uplifts(o),
    })
}

/// Multipliers on the whole cost: OpenAI residency (`regional_processing_uplift_multiplier_eu`),
/// Vertex non-global endpoints (`regional_endpoint_uplift_multiplier`), and Anthropic's
/// `provider_specific_entry` (`{"us": 1.1, "fast": 2}`: inference geo and speed).
fn uplifts(o: &Map<String, Value>) -> Vec<Uplift> {
    let mut out = Vec::new();
    for zone in ["eu", "us"] {
        if let Some(f) = o
            .get(&format!("regional_processing_uplift_multiplier_{zone}"))
            .and_then(rate)
        {
            out.push(Uplift::Residency(zone.into(), f));
        }
    }
    if let Some(f) = o.get("regional_endpoint_uplift_multiplier").and_then(rate) {
        out.push(Uplift::VertexRegional(f));
    }
    if let Some(m) = o.get("provider_specific_entry").and_then(|v| v.as_object()) {
        for (k, v) in m {
            let Some(f) = rate(v).filter(|_| v.is_number()) else {
                continue;
            };
            out.push(if k == "fast" {
                Uplift::Speed(k.clone(), f)
            } else {
                Uplift::Geo(k.clone(), f)
            });
        }
    }
    out
}

/// A service-tier variant as LiteLLM bills it: a unit the tier prices keeps the standard
/// `_above_` rates the tier does not restate; reasoning follows the tier's output rate.
fn tier_variant(mut units: RawUnits, std: &RawUnits) -> PriceSet {
    // A cache class priced only above a threshold bills at the tier's own input rate below it.
    let input = units[Unit::Input as usize].0;
    for u in [Unit::CacheRead, Unit::CacheWrite] {
        let (std_base, std_tiers) = &std[u as usize];
        if std_base.is_none() && !std_tiers.is_empty() && units[u as usize].0.is_none() {
            units[u as usize].0 = input;
        }
    }
    for (i, (base, tiers)) in units.iter_mut().enumerate() {
        if base.is_none() && !tiers.is_empty() {
            *base = std[i].0;
        }
        if base.is_some() {
            for &(start, r) in &std[i].1 {
                if !tiers.iter().any(|t| t.0 == start) {
                    tiers.push((start, r));
                }
            }
        }
    }
    let mut ps = build(units, false);
    if ps.get(Unit::Reasoning).is_none() {
        if let Some(out) = ps.get(Unit::Output).cloned() {
            ps.set(Unit::Reasoning, out);
        }
    }
    ps
}

/// The batch variant as LiteLLM's batch cost function bills the row. With a batch input
/// rate, a class without a batch rate of its own is billed as input (cache reads, writes) or
/// at half the standard rate (output); without one, every class pays half its flat
/// standard rate and 1-hour writes pay the 5-minute rate. Reasoning bills as output.
fn batch_variant(b: RawUnits, std: &RawUnits) -> PriceSet {
    let half = |u: Unit| std[u as usize].0.map(|r| r.scale_by(Usd::HALF));
    let mut ps = PriceSet::default();
    let with_tiers = |base: Option<Usd>, u: Unit| {
        base.map(|base| {
            let mut tiers = b[u as usize].1.clone();
            tiers.sort_by_key(|t| t.0);
            Price { base, tiers }
        })
    };
    let output = with_tiers(
        b[Unit::Output as usize].0.or_else(|| half(Unit::Output)),
        Unit::Output,
    );
    match with_tiers(b[Unit::Input as usize].0, Unit::Input) {
        Some(input) => {
            // A class with no flat batch rate starts from the batch input price.
            let or_input = |u: Unit, fallback: &Price| {
                let mut p = fallback.clone();
                if let Some(base) = b[u as usize].0 {
                    p.base = base;
                    p.tiers.clear();
                }
                for &(start, r) in &b[u as usize].1 {
                    p.tiers.retain(|t| t.0 != start);
                    p.tiers.push((start, r));
                }
                p.tiers.sort_by_key(|t| t.0);
                p
            };
            ps.set(Unit::CacheRead, or_input(Unit::CacheRead, &input));
            let cw = or_input(Unit::CacheWrite, &input);
            ps.set(Unit::CacheWrite1h, or_input(Unit::CacheWrite1h, &cw));
            ps.set(Unit::CacheWrite, cw);
            ps.set(Unit::Input, input);
        }
        None => {
            if let Some(i) = half(Unit::Input) {
                ps.set(Unit::Input, Price::flat(i));
            }
            if let Some(r) = half(Unit::CacheRead) {
                ps.set(Unit::CacheRead, Price::flat(r));
            }
            if let Some(w) = half(Unit::CacheWrite).or_else(|| half(Unit::Input)) {
                ps.set(Unit::CacheWrite, Price::flat(w));
                ps.set(Unit::CacheWrite1h, Price::flat(w));
            }
        }
    }
    if let Some(out) = output {
        ps.set(Unit::Reasoning, out.clone());
        ps.set(Unit::Output, out);
    }
    ps
}

/// LiteLLM `off_peak_pricing`: `{<rate keys>, windows: [{hours_utc, weekdays}], weekday_timezone?}`.
fn off_peak(o: &Map<String, Value>) -> Option<(Vec<OffPeakRule>, PriceSet)> {
    let mut rates = PriceSet::default();
    for &(base, unit) in BASES {
        if let Some(r) = o.get(base).and_then(rate) {
            rates.set(unit, Price::flat(r));
        }
    }
    let offset = match o.get("weekday_timezone").and_then(|t| t.as_str()) {
        None | Some("UTC") | Some("Etc/UTC") => 0,
        // Fixed-offset zones without daylight saving.
        Some("Asia/Shanghai") | Some("Asia/Hong_Kong") | Some("Asia/Singapore") => 8 * 3600,
        Some("Asia/Tokyo") | Some("Asia/Seoul") => 9 * 3600,
        Some(_) => return None,
    };
    let mut rules = Vec::new();
    for w in o.get("windows")?.as_array()? {
        let hours: Vec<&str> = match w.get("hours_utc")? {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => return None,
        };
        let mut windows = Vec::new();
        for h in hours {
            let (a, b) = h.split_once('-')?;
            windows.push((hhmm(a)?, hhmm(b)?));
        }
        let weekdays = match w.get("weekdays") {
            None => 0xFE,
            Some(Value::Array(days)) => {
                let mut m = 0u8;
                for d in days {
                    let n = d.as_u64().filter(|n| (1..=7).contains(n))?;
                    m |= 1 << n;
                }
                m
            }
            Some(_) => return None,
        };
        rules.push(OffPeakRule {
            windows,
            weekdays,
            weekday_offset: offset,
        });
    }
    Some((rules, rates))
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 3600 + m * 60)
}

fn build(units: RawUnits, standard: bool) -> PriceSet {
    // In a tier variant a missing rate falls back to the standard row, not to input.
    let input_base = units[Unit::Input as usize].0.filter(|_| standard);
    let mut ps = PriceSet::default();
    for (i, (base, mut tiers)) in units.into_iter().enumerate() {
        tiers.sort_by_key(|t| t.0);
        let unit = super::table::UNITS[i];
        match (base, input_base) {
            (Some(b), _) => ps.set(unit, Price { base: b, tiers }),
            // Only an `_above_` rate (Gemini's cache writes): below the threshold LiteLLM
            // bills the class at the input rate, as for any missing cache rate.
            (None, Some(b)) if !tiers.is_empty() => ps.set(unit, Price { base: b, tiers }),
            _ => continue,
        }
    }
    ps
}

/// Dashscope-style `[{range:[lo,hi], input_cost_per_token, …}]`: whole request at the range
/// with `lo < input <= hi`, i.e. a cliff at each `lo`.
fn from_ranges(ranges: &[Value]) -> Option<PriceSet> {
    let mut rows: Vec<(u64, &Map<String, Value>)> = ranges
        .iter()
        .filter_map(|r| {
            let o = r.as_object()?;
            let lo = o.get("range")?.as_array()?.first()?.as_f64()?;
            Some((lo as u64, o))
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    if rows.first()?.0 != 0 {
        return None;
    }
    let mut ps = PriceSet::default();
    for &(base, unit) in BASES {
        let mut price: Option<Price> = None;
        for (lo, row) in &rows {
            let Some(r) = row.get(base).and_then(rate) else {
                continue;
            };
            match (&mut price, *lo) {
                (None, 0) => price = Some(Price::flat(r)),
                (Some(p), lo) => p.tiers.push((lo, r)),
                (None, _) => {}
            }
        }
        if let Some(p) = price {
            ps.set(unit, p);
        }
    }
    Some(ps)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (pricing_litellm): a negative rate priced calls below zero.
    #[test]
    fn negative_rates_and_multipliers_are_ignored() {
        assert_eq!(rate(&Value::from(-1e-6)), None);
        assert_eq!(rate(&Value::from("-0.5")), None);
        assert_eq!(rate(&Value::from(0.0)), Some(Usd::ZERO));
        let doc: Map<String, Value> = serde_json::from_str(
            r#"{"m": {"litellm_provider": "openai", "input_cost_per_token": -1e-06,
                      "output_cost_per_token": -2e-06}}"#,
        )
        .unwrap();
        let src = convert(&doc, "t.json", "v");
        let SourceData::Flat(models) = &src.data else {
            panic!("LiteLLM converts to a flat table")
        };
        assert!(
            models.is_empty(),
            "an entry priced only below zero is skipped"
        );
    }

    #[test]
    fn key_grammar() {
        assert_eq!(suffix(""), Some((None, None)));
        assert_eq!(suffix("_above_200k_tokens"), Some((Some(200_000), None)));
        assert_eq!(suffix("_priority"), Some((None, Some("priority"))));
        assert_eq!(
            suffix("_above_272k_tokens_batches"),
            Some((Some(272_000), Some("batches")))
        );
        assert_eq!(
            suffix("_priority_above_200k_tokens"),
            Some((Some(200_000), Some("priority")))
        );
        assert_eq!(suffix("_above_12hr"), None);
        // Found by the long fuzz run (pricing_litellm): thousands past u64 overflowed.
        assert_eq!(suffix("_above_18446744073709552k_tokens"), None);
        assert_eq!(
            suffix("_above_18446744073709551k_tokens"),
            Some((Some(18_446_744_073_709_551_000), None))
        );
        assert_eq!(suffix("_cache_hit"), None);
    }

    #[test]
    fn converts_rows() {
        let doc: Map<String, Value> = serde_json::from_str(
            r#"{"sample_spec":{},
            "gemini/gemini-2.5-pro":{"litellm_provider":"gemini","input_cost_per_token":1.25e-06,
              "input_cost_per_token_above_200k_tokens":2.5e-06,"output_cost_per_token":1e-05,
              "output_cost_per_token_above_200k_tokens":1.5e-05,"cache_read_input_token_cost":1.25e-07,
              "input_cost_per_token_priority":2.25e-06},
            "dall-e-3":{"litellm_provider":"openai","output_cost_per_image":0.04},
            "qwen-plus":{"litellm_provider":"dashscope","tiered_pricing":[
              {"range":[0,256000],"input_cost_per_token":4e-07,"output_cost_per_token":1.2e-06},
              {"range":[256000,1000000],"input_cost_per_token":1.2e-06,"output_cost_per_token":3.6e-06}]}}"#,
        )
        .unwrap();
        assert!(looks_like(&doc));
        let s = convert(&doc, "x", "1");
        let SourceData::Flat(m) = &s.data else {
            panic!()
        };
        assert_eq!(m.len(), 2);
        let g = &m["gemini/gemini-2.5-pro"].model;
        let input = g.prices[0].prices.get(Unit::Input).unwrap();
        assert_eq!(input.at(200_000, false), Usd::parse("1.25e-6").unwrap());
        assert_eq!(input.at(200_001, false), Usd::parse("2.5e-6").unwrap());
        assert_eq!(g.variants.len(), 2, "priority and batch");
        let q = &m["qwen-plus"].model;
        let out = q.prices[0].prices.get(Unit::Output).unwrap();
        assert_eq!(out.at(300_000, false), Usd::parse("3.6e-6").unwrap());
    }

    #[test]
    fn off_peak_windows_follow_weekdays_and_hours() {
        let doc: Map<String, Value> = serde_json::from_str(
            r#"{"deepseek-v4-pro":{"litellm_provider":"deepseek","input_cost_per_token":1.32e-06,
              "output_cost_per_token":1.98e-06,"off_peak_pricing":{"input_cost_per_token":6.6e-07,
              "windows":[{"hours_utc":["16:30-00:30"],"weekdays":[1,2,3,4,5]},
                         {"hours_utc":"00:00-00:00","weekdays":[6,7]}]}},
              "odd":{"litellm_provider":"x","input_cost_per_token":1e-06,"output_cost_per_token":1e-06,
              "off_peak_pricing":{"input_cost_per_token":5e-07,"weekday_timezone":"Mars/Olympus",
              "windows":[{"hours_utc":"00:00-01:00"}]}}}"#,
        )
        .unwrap();
        let s = convert(&doc, "x", "1");
        let SourceData::Flat(m) = &s.data else {
            panic!()
        };
        assert!(!m.contains_key("odd"), "unknown calendars stay unpriced");
        let e = &m["deepseek-v4-pro"].model;
        let rate = |t: i64| {
            let sel = e.resolve_refs(t, Default::default());
            sel.units[Unit::Input as usize].unwrap().base
        };
        let monday = 4 * 86_400; // 1970-01-05
        assert_eq!(rate(monday + 12 * 3600), Usd::parse("1.32e-6").unwrap());
        assert_eq!(rate(monday + 17 * 3600), Usd::parse("6.6e-7").unwrap());
        assert_eq!(
            rate(monday + 5 * 86_400 + 12 * 3600),
            Usd::parse("6.6e-7").unwrap()
        );
    }
}
