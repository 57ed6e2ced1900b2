//! Writes the committed seed corpora under fuzz/corpus/ (run from fuzz/:
//! `cargo run --example seeds`). Seeds are small and deterministic: a few realistic GenAI
//! batches in each input shape the targets read, every engine configuration, and an edit list.
//! The pricing seeds (seed-small.json) are files, not generated here.

use std::fs;
use std::path::Path;

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
use prost::Message;
use tollbooth::edits::{Disposition, EditList, Op, Target};
use tollbooth_fuzz::configs;
use tollbooth_fuzz::input::{join, Cursor};
use tollbooth_fuzz::synth;

/// Fixed "random" bytes the synthetic batches are built from.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect()
}

fn encoded_batch(seed: u32) -> Vec<u8> {
    synth::batch(&mut Cursor::new(&noise(seed, 600)), seed).encode_to_vec()
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

/// Pieces for the multi-batch targets: synthetic (mode byte 1) and raw (mode byte 0).
fn traffic(seed: u32, n: u32) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                [&[1u8][..], &noise(seed * 31 + i, 300)].concat()
            } else {
                [&[0u8][..], &encoded_batch(seed * 31 + i)].concat()
            }
        })
        .collect()
}

fn with_head(head: &[u8], pieces: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
    [head, &join(&parts)].concat()
}

fn main() {
    for seed in 0..3u32 {
        write("otlp_reader", &format!("seed-{seed}"), &encoded_batch(seed));
        write(
            "redaction",
            &format!("seed-{seed}"),
            &[&[seed as u8, seed as u8][..], &noise(seed + 100, 400)].concat(),
        );
    }
    for (i, cfg) in configs::ALL.iter().enumerate() {
        write("engine_new", &format!("seed-{i}.json"), cfg.as_bytes());
    }
    for cfg in 0..5u8 {
        let t = traffic(u32::from(cfg), 6);
        write(
            "process_release",
            &format!("seed-{cfg}"),
            &with_head(&[cfg, 40], &t),
        );
    }
    for cfg in 0..2u8 {
        let t = traffic(10 + u32::from(cfg), 6);
        write(
            "collect_metrics",
            &format!("seed-{cfg}"),
            &with_head(&[cfg], &t),
        );
    }

    let mut list = EditList::new();
    let span = Target::Span {
        rs: 0,
        ss: 0,
        span: 1,
    };
    list.push(
        span,
        &Op::SetStr("gen_ai.provider.name".into(), "openai".into()),
    );
    list.push(span, &Op::SetDouble("gen_ai.usage.cost".into(), 0.0125));
    list.push(Target::Resource { rs: 0 }, &Op::Delete("host.name".into()));
    list.push(
        span,
        &Op::SetAny(
            "gen_ai.prompt".into(),
            AnyValue {
                value: Some(Value::StringValue("****".into())),
            }
            .encode_to_vec(),
        ),
    );
    list.push(
        Target::Span {
            rs: 0,
            ss: 0,
            span: 0,
        },
        &Op::DropSpan,
    );
    let list = list.finish(Disposition::Forward);
    let batch_bytes = noise(7, 300);
    let program = noise(8, 200);
    write(
        "edits_roundtrip",
        "seed-0",
        &join(&[&list, &batch_bytes, &program]),
    );

    for (k, file) in [
        ("pricing_native", "seed-small.json"),
        ("pricing_litellm", "seed-small.json"),
    ] {
        let bytes = fs::read(Path::new("corpus").join(k).join(file)).unwrap();
        write(k, "seed-knobs", &join(&[&bytes, &noise(9, 64)]));
    }
}
