//! The loader of LiteLLM's price file (src/pricing/litellm.rs) on arbitrary bytes,
//! seeded with a small file of that format; the content-detecting parse_file runs on the same
//! bytes. Input: the file, then (after the separator) the token counts and dates to price.
//! Invariants (tollbooth_fuzz::pricing): no panic, the same bytes give the same book, every
//! model the file names prices to a non-negative cost whose parts add up, and more output
//! never costs less.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollbooth_fuzz::input::pieces;
use tollbooth_fuzz::pricing::{exercise, load_litellm};

fuzz_target!(|data: &[u8]| {
    let parts = pieces(data);
    exercise(parts[0], parts.get(1).copied().unwrap_or(&[]), load_litellm);
});
