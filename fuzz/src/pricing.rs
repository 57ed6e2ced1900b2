//! Pricing-file loaders under fuzzing: what must hold for any file a loader accepts.
//!
//! A file that parses becomes a price book; every model it names can be looked up and priced
//! for any token counts and dates. A price is never negative (a negative rate would make the
//! cost counter go down), the parts add up to the total, more output never costs less, and the
//! same bytes always give the same book.

use serde_json::Value;
use tollbooth::money::Usd;
use tollbooth::pricing::table::Source;
use tollbooth::pricing::{
    litellm, native, parse_file, price, PriceBook, PriceContext, PricingError, PricingOverrides,
    Tokens,
};

use crate::input::Cursor;

/// (provider, model) pairs a file names: native `providers[].models[].id` and LiteLLM keys.
fn names(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(providers) = doc.get("providers").and_then(Value::as_array) {
        for p in providers {
            let pid = p.get("id").and_then(Value::as_str).unwrap_or("");
            for m in p
                .get("models")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = m.get("id").and_then(Value::as_str) {
                    out.push((pid.to_string(), id.to_string()));
                }
            }
        }
    } else if let Some(o) = doc.as_object() {
        for (k, v) in o {
            let p = v
                .get("litellm_provider")
                .and_then(Value::as_str)
                .unwrap_or("");
            out.push((p.to_string(), k.clone()));
        }
    }
    out.truncate(64);
    out
}

fn tokens(c: &mut Cursor) -> Tokens {
    let mut n = || match c.u8() % 4 {
        0 => 0,
        1 => c.u64(),
        _ => u64::from(c.u32() % 2_000_000),
    };
    Tokens {
        input: n(),
        cache_read: n(),
        cache_write: n(),
        cache_write_1h: n(),
        output: n(),
        reasoning: n(),
    }
}

/// A loader under test: bytes to a price source, or why not.
pub type Loader = fn(&[u8]) -> Result<Source, String>;

/// Our native format, read directly.
pub fn load_native(bytes: &[u8]) -> Result<Source, String> {
    native::parse(bytes, "fuzz.json")
}

/// LiteLLM's format, read directly (whatever the content-based detection would say).
pub fn load_litellm(bytes: &[u8]) -> Result<Source, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let obj = doc.as_object().ok_or("not an object")?;
    Ok(litellm::convert(obj, "fuzz.json", "fuzz"))
}

/// Loads `bytes` with `load` and prices every model the file names with token counts and
/// dates drawn from `knobs`; the content-detecting entry point must not panic either.
pub fn exercise(bytes: &[u8], knobs: &[u8], load: Loader) {
    let _ = parse_file(bytes, "fuzz.json");
    let first = load(bytes);
    let again = load(bytes);
    assert_eq!(
        first.as_ref().err(),
        again.as_ref().err(),
        "the same bytes parsed differently"
    );
    let Ok(source) = first else { return };
    let book = match PriceBook::from_sources(vec![source], PricingOverrides::default()) {
        Ok(b) => b,
        Err(PricingError(m)) => {
            assert!(!m.is_empty());
            return;
        }
    };
    let summary = book.summary();
    let again = PriceBook::from_sources(vec![again.unwrap()], PricingOverrides::default())
        .expect("the same source builds twice");
    assert_eq!(
        summary,
        again.summary(),
        "the same bytes built different books"
    );

    let doc: Value = serde_json::from_slice(bytes).expect("accepted files are JSON");
    let state = book.snapshot();
    let mut c = Cursor::new(knobs);
    for (provider, model) in names(&doc) {
        let Some(hit) = state.lookup(&provider, &model, "", None) else {
            continue;
        };
        let t = tokens(&mut c);
        let when = 1_600_000_000 + i64::from(c.u32() % 400_000_000);
        let ctx = PriceContext {
            service_tier: c.bool().then_some("flex"),
            batch: c.bool(),
            ..PriceContext::default()
        };
        let b = price(&hit.entry, t, when, ctx);
        for (part, v) in [
            ("input", b.input),
            ("cache_read", b.cache_read),
            ("cache_write", b.cache_write),
            ("output", b.output),
            ("reasoning", b.reasoning),
            ("total", b.total),
        ] {
            assert!(v >= Usd(0), "{model}: negative {part} cost {v}");
        }
        assert_eq!(
            b.input + b.cache_read + b.cache_write + b.output + b.reasoning,
            b.total,
            "{model}: parts do not add up"
        );
        let more = Tokens {
            output: t.output.saturating_add(1000),
            ..t
        };
        let b2 = price(&hit.entry, more, when, ctx);
        assert!(b2.total >= b.total, "{model}: more output cost less");
    }
}
