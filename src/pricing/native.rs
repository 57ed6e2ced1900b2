//! The native pricing file (`config/pricing/*.json`), genai-prices' shape in JSON.
//!
//! ```json
//! {"tollbooth_pricing": 1, "source": "genai-prices", "source_version": "0.2.3",
//!  "providers": [{"id": "openai", "provider_match": {"contains": "openai"},
//!    "fallback_model_providers": ["..."],
//!    "models": [{"id": "gpt-4o", "match": {"or": [{"equals": "gpt-4o"}, {"starts_with": "gpt-4o-2024-08"}]},
//!      "prices": {"input_mtok": "2.5", "output_mtok": "10", "cache_read_mtok": "1.25",
//!                 "input_mtok": {"base": "1.25", "tiers": [{"start": 200000, "price": "2.5"}]}},
//!      "price_variants": [{"when": {"service_tier": "flex"}, "prices": {"input_mtok": "1.25"}}]}]}]}
//! ```
//! `prices` may also be a list of `{"constraint": {"start_date": "2025-06-10"}, "prices": {…}}`
//! (dated changes; `start_time`/`end_time` give daily UTC windows). Prices are decimal strings
//! (numbers are accepted) in USD per million tokens.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

use super::table::{
    Constraint, Dated, Matcher, ModelEntry, Price, PriceSet, ProviderTable, Source, SourceData,
    Unit, Variant,
};
use crate::money::Usd;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    tollbooth_pricing: u32,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    source_version: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    licence: Option<String>,
    providers: Vec<ProviderDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProviderDoc {
    id: String,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    api_pattern: Option<String>,
    #[serde(default)]
    provider_match: Option<Value>,
    #[serde(default)]
    model_match: Option<Value>,
    #[serde(default)]
    fallback_model_providers: Vec<String>,
    #[serde(default)]
    tier_inclusive: bool,
    models: Vec<ModelDoc>,
}

/// One model in a native file or in the user's `custom_models`.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ModelDoc {
    pub id: String,
    /// Defaults to `{"equals": id}`.
    #[serde(default, rename = "match")]
    pub match_: Option<Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub deprecated: bool,
    pub prices: Value,
    #[serde(default)]
    pub price_variants: Vec<VariantDoc>,
    #[serde(default)]
    pub tier_inclusive: Option<bool>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct VariantDoc {
    pub when: BTreeMap<String, String>,
    pub prices: Value,
    #[serde(default)]
    pub constraint: Option<Value>,
}

/// Parses a native file; `path` only labels errors.
pub fn parse(bytes: &[u8], path: &str) -> Result<Source, String> {
    let doc: FileDoc = serde_json::from_slice(bytes)
        .map_err(|e| format!("{path}: not a valid pricing file: {e}"))?;
    if doc.tollbooth_pricing != 1 {
        return Err(format!(
            "{path}: tollbooth_pricing version {} is not supported (expected 1)",
            doc.tollbooth_pricing
        ));
    }
    let mut providers = Vec::with_capacity(doc.providers.len());
    for p in &doc.providers {
        providers.push(provider(p).map_err(|e| format!("{path}: provider {:?}: {e}", p.id))?);
    }
    Ok(Source {
        name: doc.source.unwrap_or_else(|| "custom".into()),
        version: doc.source_version.unwrap_or_default(),
        path: path.to_string(),
        data: SourceData::Native(providers),
    })
}

fn provider(p: &ProviderDoc) -> Result<ProviderTable, String> {
    let mut models = Vec::with_capacity(p.models.len());
    for m in &p.models {
        let entry = model(m, p.tier_inclusive).map_err(|e| format!("model {:?}: {e}", m.id))?;
        // Models priced only in units we do not bill (audio hours, searches) would match and
        // cost $0; leaving them out makes such calls "unpriced" instead.
        if entry
            .1
            .prices
            .iter()
            .any(|d| d.prices.get(Unit::Input).is_some() || d.prices.get(Unit::Output).is_some())
        {
            models.push(entry);
        }
    }
    Ok(ProviderTable {
        id: p.id.clone(),
        provider_match: p.provider_match.as_ref().map(matcher).transpose()?,
        model_match: p.model_match.as_ref().map(matcher).transpose()?,
        api_pattern: p
            .api_pattern
            .as_deref()
            .map(|r| Regex::new(r).map_err(|e| format!("api_pattern: {e}")))
            .transpose()?,
        fallback: p.fallback_model_providers.clone(),
        models,
    })
}

/// Compiles one model document (also used for user-defined models).
pub fn model(m: &ModelDoc, tier_inclusive: bool) -> Result<(Matcher, Arc<ModelEntry>), String> {
    let mat = match &m.match_ {
        Some(v) => matcher(v).map_err(|e| format!("match: {e}"))?,
        None => Matcher::Equals(m.id.to_lowercase()),
    };
    let prices = match &m.prices {
        Value::Array(list) => {
            let mut out = Vec::new();
            for c in list {
                let o = c.as_object().ok_or("prices[]: expected an object")?;
                for k in o.keys() {
                    if k != "constraint" && k != "prices" {
                        return Err(format!("prices[]: unknown key {k:?}"));
                    }
                }
                out.push(Dated {
                    constraint: o.get("constraint").map(constraint).transpose()?,
                    prices: price_set(o.get("prices").ok_or("prices[]: missing \"prices\"")?)?,
                });
            }
            if !out.iter().any(|d| d.constraint.is_none()) {
                return Err("prices: one entry must have no constraint".into());
            }
            out
        }
        v => vec![Dated {
            constraint: None,
            prices: price_set(v)?,
        }],
    };
    let mut variants = Vec::new();
    for v in &m.price_variants {
        // Conditions other than service_tier/processing (speed, search_type) are kept but
        // never selected: the span carries no such fact yet.
        variants.push(Variant {
            when: v.when.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
            constraint: v.constraint.as_ref().map(constraint).transpose()?,
            prices: price_set(&v.prices)?,
        });
    }
    Ok((
        mat,
        Arc::new(ModelEntry {
            id: m.id.clone(),
            prices,
            variants,
            tier_inclusive: m.tier_inclusive.unwrap_or(tier_inclusive),
            uplifts: Vec::new(),
        }),
    ))
}

fn unit_of(key: &str) -> Option<Unit> {
    Some(match key {
        "input_mtok" => Unit::Input,
        "output_mtok" => Unit::Output,
        "cache_read_mtok" => Unit::CacheRead,
        "cache_write_mtok" => Unit::CacheWrite,
        "cache_write_1h_mtok" => Unit::CacheWrite1h,
        "output_reasoning_mtok" => Unit::Reasoning,
        _ => return None,
    })
}

fn price_set(v: &Value) -> Result<PriceSet, String> {
    let o = v.as_object().ok_or("prices: expected an object")?;
    let mut set = PriceSet::default();
    for (k, val) in o {
        let unit = unit_of(k).ok_or_else(|| {
            format!("unknown price unit {k:?} (known: input_mtok, output_mtok, cache_read_mtok, cache_write_mtok, cache_write_1h_mtok, output_reasoning_mtok)")
        })?;
        set.set(unit, price(val).map_err(|e| format!("{k}: {e}"))?);
    }
    Ok(set)
}

/// A price per million tokens. Negative prices are refused: they would make costs, and the
/// cost counter, go down.
fn per_mtok(v: &Value) -> Result<Usd, String> {
    let r = match v {
        Value::String(s) => Usd::parse_scaled(s, -6),
        Value::Number(n) => n.as_f64().and_then(|f| Usd::from_f64(f, -6)),
        _ => None,
    };
    match r {
        Some(p) if p < Usd::ZERO => Err(format!("{v} is a negative price")),
        Some(p) => Ok(p),
        None => Err(format!("{v} is not a decimal price")),
    }
}

fn price(v: &Value) -> Result<Price, String> {
    match v {
        Value::Object(o) => {
            let base = per_mtok(o.get("base").ok_or("tiered price needs \"base\"")?)?;
            let mut tiers = Vec::new();
            for t in o
                .get("tiers")
                .and_then(|t| t.as_array())
                .ok_or("tiered price needs \"tiers\"")?
            {
                let start = t
                    .get("start")
                    .and_then(|s| s.as_u64())
                    .ok_or("tier needs an integer \"start\"")?;
                let p = per_mtok(t.get("price").ok_or("tier needs \"price\"")?)?;
                tiers.push((start, p));
            }
            tiers.sort_by_key(|t| t.0);
            Ok(Price { base, tiers })
        }
        v => Ok(Price::flat(per_mtok(v)?)),
    }
}

fn constraint(v: &Value) -> Result<Constraint, String> {
    if let Some(d) = v.get("start_date").and_then(|d| d.as_str()) {
        return parse_date(d)
            .map(Constraint::StartDate)
            .ok_or_else(|| format!("start_date {d:?} is not YYYY-MM-DD"));
    }
    let t = |k: &str| v.get(k).and_then(|x| x.as_str()).and_then(parse_time);
    match (t("start_time"), t("end_time")) {
        (Some(start), Some(end)) => Ok(Constraint::TimeOfDay { start, end }),
        _ => Err(format!(
            "constraint {v} needs start_date, or start_time and end_time (HH:MM[:SS] UTC)"
        )),
    }
}

/// Days since 1970-01-01 for a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Howard Hinnant's days-from-civil algorithm.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parse_time(s: &str) -> Option<u32> {
    let mut it = s.split(':');
    let h: u32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let sec: u32 = it.next().map(|x| x.parse().ok()).unwrap_or(Some(0))?;
    (h < 24 && m < 60 && sec < 60).then_some(h * 3600 + m * 60 + sec)
}

/// Compiles a match clause; strings are compared lower-case.
pub fn matcher(v: &Value) -> Result<Matcher, String> {
    let o = v
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| format!("match clause {v} must be an object with one key"))?;
    let (k, val) = o.iter().next().ok_or("empty match clause")?;
    let s = || {
        val.as_str()
            .map(str::to_lowercase)
            .ok_or_else(|| format!("{k}: expected a string"))
    };
    let list = || -> Result<Vec<Matcher>, String> {
        val.as_array()
            .ok_or_else(|| format!("{k}: expected a list"))?
            .iter()
            .map(matcher)
            .collect()
    };
    Ok(match k.as_str() {
        "equals" => Matcher::Equals(s()?),
        "starts_with" => Matcher::StartsWith(s()?),
        "ends_with" => Matcher::EndsWith(s()?),
        "contains" => Matcher::Contains(s()?),
        "regex" => {
            let r = val.as_str().ok_or("regex: expected a string")?;
            Matcher::Regex(
                regex::RegexBuilder::new(r)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("regex {r:?}: {e}"))?,
            )
        }
        "or" => Matcher::Or(list()?),
        "and" => Matcher::And(list()?),
        "not" => Matcher::Not(Box::new(matcher(val)?)),
        other => {
            return Err(format!(
                "unknown match clause {other:?} (use equals, starts_with, ends_with, contains, regex, or, and, not)"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (pricing_native seeds mutated): a negative price would be summed.
    #[test]
    fn negative_prices_are_refused() {
        assert!(per_mtok(&Value::from("-1"))
            .unwrap_err()
            .contains("negative"));
        assert!(per_mtok(&Value::from(-0.5))
            .unwrap_err()
            .contains("negative"));
        assert_eq!(per_mtok(&Value::from("0")), Ok(Usd::ZERO));
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2025-06-10"), Some(20249));
        assert_eq!(parse_date("2025-13-01"), None);
        assert_eq!(parse_time("16:30"), Some(59400));
    }

    #[test]
    fn parses_a_small_file_and_names_errors() {
        let f = br#"{"tollbooth_pricing":1,"source":"t","providers":[{"id":"p","models":[
            {"id":"m","prices":[{"prices":{"input_mtok":"10","output_mtok":40}},
                                 {"constraint":{"start_date":"2025-06-10"},"prices":{"input_mtok":"2","output_mtok":"8"}}],
             "price_variants":[{"when":{"service_tier":"flex"},"prices":{"input_mtok":"1"}}]}]}]}"#;
        let s = parse(f, "t.json").unwrap();
        assert_eq!(s.model_count(), 1);
        let bad = br#"{"tollbooth_pricing":1,"providers":[{"id":"p","models":[{"id":"m","prices":{"inptu_mtok":"1"}}]}]}"#;
        let e = parse(bad, "bad.json").unwrap_err();
        assert!(
            e.contains("bad.json") && e.contains("\"m\"") && e.contains("inptu_mtok"),
            "{e}"
        );
        let bad = br#"{"tollbooth_pricing":1,"providers":[],"extra":1}"#;
        assert!(parse(bad, "x").unwrap_err().contains("extra"));
    }
}
