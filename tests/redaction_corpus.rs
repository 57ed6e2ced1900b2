//! The labelled corpus: every planted secret and personal datum must go (full recall), and
//! no near-miss may change. Prints recall and precision (`cargo test -- --nocapture`);
//! `REDACTION_CORPUS_SHOW=1` also prints every redacted line.

mod common;

use std::collections::BTreeMap;

use tollbooth::otlp::{find_str, kv_str};
use tollbooth::redact::{RedactionConfig, RedactionCounts, Redactor};

#[derive(serde::Deserialize)]
struct Case {
    text: String,
    expect: Vec<String>,
    needles: Vec<String>,
    attr: Option<String>,
}

#[test]
fn corpus_full_recall_no_near_miss_masked() {
    // The corpus measures the detectors, so the key rule that would mask some lines whole
    // (`"authorization": ...`) is off here.
    let cfg = RedactionConfig::from_json(
        br#"{"allow_all_keys": true, "summary": "silent", "detectors": ["all"], "sensitive_keys": []}"#,
    )
    .unwrap();
    let r = Redactor::new(&cfg).unwrap();
    let corpus = include_str!("fixtures/redaction_corpus.jsonl");
    let (mut needles, mut found) = (0u32, 0u32);
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    let (mut near, mut near_hit) = (0u32, 0u32);
    let mut failures = Vec::new();
    for (line_no, line) in corpus.lines().enumerate() {
        let case: Case = serde_json::from_str(line).unwrap();
        let (text, used) = common::expand(&case.text);
        let key = case.attr.as_deref().unwrap_or("gen_ai.prompt.0.content");
        let mut td = common::one_span(vec![kv_str(key, &text)]);
        let mut counts = RedactionCounts::default();
        common::redact_owned(&r, &mut td, &mut counts);
        let out = find_str(
            &td.resource_spans[0].scope_spans[0].spans[0].attributes,
            key,
        )
        .unwrap()
        .to_string();

        if std::env::var_os("REDACTION_CORPUS_SHOW").is_some() {
            println!("{:>3} {out}", line_no + 1);
        }
        let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
        for e in &case.expect {
            *expected.entry(e.as_str()).or_default() += 1;
        }
        for name in tollbooth::redact::detectors::names() {
            let got = counts.detected(name);
            let want = expected.get(name).copied().unwrap_or(0);
            tp += got.min(want);
            fp += got.saturating_sub(want);
            fn_ += want.saturating_sub(got);
            if got != want {
                failures.push(format!(
                    "line {}: {name} detected {got}, expected {want}: {out}",
                    line_no + 1
                ));
            }
        }
        if case.expect.is_empty() {
            near += 1;
            if out != text {
                near_hit += 1;
                failures.push(format!("line {}: near-miss changed: {out}", line_no + 1));
            }
            continue;
        }
        let mut list: Vec<String> = case.needles.iter().map(|n| common::expand(n).0).collect();
        list.extend(
            used.iter()
                .filter(|u| !u.starts_with("pem"))
                .map(|u| common::fake(u).unwrap()),
        );
        for n in list {
            needles += 1;
            if out.contains(&n) {
                failures.push(format!("line {}: {n:?} survived: {out}", line_no + 1));
            } else {
                found += 1;
            }
        }
        if key.ends_with("messages") || key.ends_with("arguments") {
            assert!(
                serde_json::from_str::<serde_json::Value>(&out).is_ok(),
                "line {}: JSON broken",
                line_no + 1
            );
        }
    }
    let recall = found as f64 / needles as f64;
    let precision = tp as f64 / (tp + fp) as f64;
    println!(
        "redaction corpus: {needles} planted values, recall {recall:.3}; detections tp={tp} fp={fp} fn={fn_}, precision {precision:.3}; near-misses {near}, changed {near_hit}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(found, needles);
    assert_eq!(near_hit, 0);
}
