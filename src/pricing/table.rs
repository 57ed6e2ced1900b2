//! The in-memory price model shared by every file format.
//!
//! Shaped like genai-prices (docs/pricing.md, "The price model"): per-token rates with
//! cliff tiers keyed on total input, dated price changes, context variants (service tier,
//! batch) that override unit by unit, and uplifts that multiply the whole cost.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use crate::money::Usd;

/// The token classes the engine bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Input = 0,
    Output = 1,
    CacheRead = 2,
    CacheWrite = 3,
    CacheWrite1h = 4,
    Reasoning = 5,
}

pub const UNITS: [Unit; 6] = [
    Unit::Input,
    Unit::Output,
    Unit::CacheRead,
    Unit::CacheWrite,
    Unit::CacheWrite1h,
    Unit::Reasoning,
];

/// A per-token rate with cliff tiers: above `start` total input tokens, the tier rate
/// applies to every token of this unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub base: Usd,
    /// Sorted by start, ascending.
    pub tiers: Vec<(u64, Usd)>,
}

impl Price {
    pub fn flat(rate: Usd) -> Price {
        Price {
            base: rate,
            tiers: Vec::new(),
        }
    }

    /// The rate for a request whose total input is `total_input`.
    pub fn at(&self, total_input: u64, inclusive: bool) -> Usd {
        let mut r = self.base;
        for &(start, rate) in &self.tiers {
            if total_input > start || (inclusive && total_input == start) {
                r = rate;
            }
        }
        r
    }
}

/// Prices per unit; `None` means the source gave no price for that unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceSet {
    pub units: [Option<Price>; 6],
}

impl PriceSet {
    pub fn get(&self, u: Unit) -> Option<&Price> {
        self.units[u as usize].as_ref()
    }
    pub fn set(&mut self, u: Unit, p: Price) {
        self.units[u as usize] = Some(p);
    }
    /// Overrides unit by unit with the prices `other` defines.
    pub fn overlay(&mut self, other: &PriceSet) {
        for (mine, theirs) in self.units.iter_mut().zip(other.units.iter()) {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.units.iter().all(Option::is_none)
    }
}

/// When a price applies.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// From this UTC day (days since 1970-01-01) on.
    StartDate(i64),
    /// Daily UTC window in seconds of the day; may wrap midnight.
    TimeOfDay { start: u32, end: u32 },
    /// Off-peak rules (LiteLLM `off_peak_pricing`): active when any rule is.
    OffPeak(Arc<[OffPeakRule]>),
}

/// UTC windows on some weekdays; weekdays are read in a fixed-offset calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct OffPeakRule {
    /// `[start, end)` seconds of the UTC day; `start == end` is the whole day.
    pub windows: Vec<(u32, u32)>,
    /// Bit `d` set for ISO weekday `d` (1 = Monday); all bits = every day.
    pub weekdays: u8,
    /// Offset of the weekday calendar from UTC, in seconds.
    pub weekday_offset: i32,
}

impl Constraint {
    pub fn active(&self, unix_secs: i64) -> bool {
        match self {
            Constraint::StartDate(day) => unix_secs.div_euclid(86_400) >= *day,
            Constraint::TimeOfDay { start, end } => in_window(unix_secs, *start, *end),
            Constraint::OffPeak(rules) => rules.iter().any(|r| {
                let local_day = (unix_secs + i64::from(r.weekday_offset)).div_euclid(86_400);
                let iso = ((local_day + 3).rem_euclid(7) + 1) as u8; // 1970-01-01 was a Thursday
                r.weekdays & (1 << iso) != 0
                    && r.windows
                        .iter()
                        .any(|&(s, e)| s == e || in_window(unix_secs, s, e))
            }),
        }
    }
}

fn in_window(unix_secs: i64, start: u32, end: u32) -> bool {
    let t = unix_secs.rem_euclid(86_400) as u32;
    if end < start {
        t >= start || t < end
    } else {
        start <= t && t < end
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dated {
    pub constraint: Option<Constraint>,
    pub prices: PriceSet,
}

/// Request facts a variant is selected by (`service_tier`, `processing`).
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub when: Vec<(String, String)>,
    pub constraint: Option<Constraint>,
    pub prices: PriceSet,
}

/// One priced model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    pub id: String,
    /// Scanned last to first; the first active constraint wins.
    pub prices: Vec<Dated>,
    pub variants: Vec<Variant>,
    /// Tier thresholds compare with `>=` (xAI) instead of `>`.
    pub tier_inclusive: bool,
    /// Multipliers on the whole cost, selected by where or how the call ran.
    pub uplifts: Vec<Uplift>,
}

/// A multiplier on the whole cost (LiteLLM's residency, regional-endpoint and
/// `provider_specific_entry` fields), as an exact decimal factor (`1.1`).
#[derive(Debug, Clone, PartialEq)]
pub enum Uplift {
    /// OpenAI data residency (`eu`, `us`), from a regional API host.
    Residency(String, Usd),
    /// Any Vertex AI location other than `global`.
    VertexRegional(Usd),
    /// Anthropic `inference_geo` (`us`).
    Geo(String, Usd),
    /// Anthropic `speed` (`fast`).
    Speed(String, Usd),
}

/// A genai-prices match rule, compiled.
#[derive(Debug, Clone)]
pub enum Matcher {
    Equals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(Regex),
    Or(Vec<Matcher>),
    And(Vec<Matcher>),
    Not(Box<Matcher>),
}

impl Matcher {
    /// `s` must already be lower-case.
    pub fn matches(&self, s: &str) -> bool {
        match self {
            Matcher::Equals(x) => s == x,
            Matcher::StartsWith(x) => s.starts_with(x.as_str()),
            Matcher::EndsWith(x) => s.ends_with(x.as_str()),
            Matcher::Contains(x) => s.contains(x.as_str()),
            Matcher::Regex(r) => r.is_match(s),
            Matcher::Or(v) => v.iter().any(|m| m.matches(s)),
            Matcher::And(v) => v.iter().all(|m| m.matches(s)),
            Matcher::Not(m) => !m.matches(s),
        }
    }
}

/// One provider of a native table: models scanned in order by their match rules.
#[derive(Debug, Clone)]
pub struct ProviderTable {
    pub id: String,
    pub provider_match: Option<Matcher>,
    pub model_match: Option<Matcher>,
    pub api_pattern: Option<Regex>,
    pub fallback: Vec<String>,
    pub models: Vec<(Matcher, Arc<ModelEntry>)>,
}

/// A LiteLLM row: its provider and prices, keyed by the lower-cased model key.
#[derive(Debug, Clone)]
pub struct FlatEntry {
    pub key: String,
    pub provider: String,
    pub model: Arc<ModelEntry>,
}

/// The contents of one pricing file.
#[derive(Debug, Clone)]
pub enum SourceData {
    Native(Vec<ProviderTable>),
    Flat(HashMap<String, FlatEntry>),
}

/// One loaded file and its provenance.
#[derive(Debug, Clone)]
pub struct Source {
    /// `genai-prices`, `litellm`, `overrides`, or what the file says.
    pub name: String,
    pub version: String,
    pub path: String,
    pub data: SourceData,
}

impl Source {
    pub fn model_count(&self) -> usize {
        match &self.data {
            SourceData::Native(ps) => ps.iter().map(|p| p.models.len()).sum(),
            SourceData::Flat(m) => m.len(),
        }
    }
}
