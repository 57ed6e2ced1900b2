//! Prices a grid of cases with our engine, for the LiteLLM oracle (tests/oracle/). Reads
//! `{"pricing_file": path, "deployments": {…}, "cases": [...]}` on stdin and writes one JSON
//! line per case: `{"id": …, "cost": "<exact decimal>" | null, "entry": …, "match": …}`.
//!
//! A case prices either a LiteLLM row directly (`"key"`) or what a span reports
//! (`"provider"`, an OTel provider name, and `"model"`), through the same lookup the cost
//! stage uses, with the pricing file loaded after the built-in table as a user would. Its
//! facts: `"input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning"`
//! (inclusive: input ⊇ cache, output ⊇ reasoning) and optionally `"service_tier", "batch",
//! "region", "data_residency", "vertex_location", "inference_geo", "speed"`.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::PathBuf;

use serde::Deserialize;
use tollbooth::pricing::book::Deployment;
use tollbooth::pricing::table::SourceData;
use tollbooth::pricing::{
    parse_file, price, PriceBook, PriceContext, PricingConfig, PricingOverrides, Tokens,
};

#[derive(Deserialize)]
struct Grid {
    pricing_file: String,
    #[serde(default)]
    deployments: HashMap<String, Deployment>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: u64,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    model: Option<String>,
    input: u64,
    #[serde(default)]
    cache_read: u64,
    #[serde(default)]
    cache_write: u64,
    #[serde(default)]
    cache_write_1h: u64,
    output: u64,
    #[serde(default)]
    reasoning: u64,
    #[serde(default)]
    service_tier: Option<String>,
    #[serde(default)]
    batch: bool,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    data_residency: Option<String>,
    #[serde(default)]
    vertex_location: Option<String>,
    #[serde(default)]
    inference_geo: Option<String>,
    #[serde(default)]
    speed: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let grid: Grid = serde_json::from_str(&input)?;
    let bytes = std::fs::read(&grid.pricing_file)?;
    let source = parse_file(&bytes, &grid.pricing_file)?;
    let SourceData::Flat(map) = &source.data else {
        return Err("expected LiteLLM's price file".into());
    };
    let book = PriceBook::load(&PricingConfig {
        files: vec![PathBuf::from(&grid.pricing_file)],
        overrides: PricingOverrides {
            deployments: grid.deployments,
            ..Default::default()
        },
        ..PricingConfig::default()
    })?;
    let state = book.snapshot();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for c in &grid.cases {
        let t = Tokens {
            input: c.input,
            cache_read: c.cache_read,
            cache_write: c.cache_write,
            cache_write_1h: c.cache_write_1h,
            output: c.output,
            reasoning: c.reasoning,
        };
        let ctx = PriceContext {
            service_tier: c.service_tier.as_deref(),
            batch: c.batch,
            region: c.region.as_deref(),
            data_residency: c.data_residency.as_deref(),
            vertex_location: c.vertex_location.as_deref(),
            inference_geo: c.inference_geo.as_deref(),
            speed: c.speed.as_deref(),
        };
        let line = match (&c.key, &c.provider, &c.model) {
            (Some(key), _, _) => {
                let cost = map
                    .get(&key.to_lowercase())
                    .map(|e| price(&e.model, t, now, ctx).total.to_string());
                serde_json::json!({"id": c.id, "cost": cost})
            }
            (None, Some(p), Some(m)) => match state.lookup(p, m, "", ctx.region) {
                Some(r) => {
                    let b = price(&r.entry, t, now, ctx);
                    serde_json::json!({"id": c.id, "cost": b.total.to_string(),
                        "entry": &*r.price_entry, "match": r.match_kind.as_str()})
                }
                None => serde_json::json!({"id": c.id, "cost": null}),
            },
            _ => return Err(format!("case {}: needs key, or provider and model", c.id).into()),
        };
        writeln!(out, "{line}")?;
    }
    Ok(())
}
