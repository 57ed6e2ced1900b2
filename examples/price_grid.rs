//! Prices a grid of LiteLLM keys × token shapes with our engine, for the LiteLLM oracle
//! (tests/oracle/). Reads `{"pricing_file": path, "cases": [...]}` on stdin and writes one JSON
//! line per case: `{"id": …, "cost": "<exact decimal>" | null}`.
//!
//! A case: `{"id", "key", "input", "cache_read", "cache_write", "cache_write_1h", "output",
//! "reasoning", "service_tier"?}`; token counts are inclusive (input ⊇ cache, output ⊇ reasoning).

use std::io::{Read, Write};

use serde::Deserialize;
use tollbooth::pricing::table::SourceData;
use tollbooth::pricing::{parse_file, price, PriceContext, Tokens};

#[derive(Deserialize)]
struct Grid {
    pricing_file: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: u64,
    key: String,
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for c in &grid.cases {
        let cost = map.get(&c.key.to_lowercase()).map(|e| {
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
                batch: false,
            };
            price(&e.model, t, now, ctx).total.to_string()
        });
        writeln!(out, "{}", serde_json::json!({"id": c.id, "cost": cost}))?;
    }
    Ok(())
}
