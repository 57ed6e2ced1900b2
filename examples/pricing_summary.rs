//! Prints what a pricing configuration loads: sources, versions, models priced, load time.
//! `cargo run --example pricing_summary -- [files…]` (the built-in table comes first).

use std::path::PathBuf;
use std::time::Instant;

use tollbooth::pricing::{PriceBook, PricingConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let t = Instant::now();
    let book = PriceBook::load(&PricingConfig {
        files,
        ..PricingConfig::default()
    })?;
    let took = t.elapsed();
    for (name, version, models) in book.summary() {
        println!("{name} {version}: {models} models priced");
    }
    println!("loaded in {took:?}");
    Ok(())
}
