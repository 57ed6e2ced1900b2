//! gitleaks' own examples through the default configuration (config/collector.yaml): each
//! rule's true positives, pasted into a chat prompt, must lose the secret gitleaks extracts;
//! its false positives must come out verbatim. Ground truth and licence:
//! tests/fixtures/gitleaks/README.md. Prints the per-rule misses (`-- --nocapture`).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use tollbooth::otlp::kv_str;
use tollbooth::redact::{RedactionCounts, Redactor};

#[derive(Deserialize)]
struct Example {
    rule: String,
    kind: String,
    /// Stored reversed (see the fixture README).
    text: String,
    #[serde(default)]
    path: Option<String>,
    secrets: Vec<String>,
    findings: Vec<(String, String)>,
}

fn rev(s: &str) -> String {
    s.chars().rev().collect()
}

fn examples() -> Vec<Example> {
    include_str!("fixtures/gitleaks/examples.jsonl")
        .lines()
        .map(|l| {
            let mut e: Example = serde_json::from_str(l).unwrap();
            e.text = rev(&e.text);
            e.secrets = e.secrets.iter().map(|s| rev(s)).collect();
            e.findings = e
                .findings
                .iter()
                .map(|(r, s)| (r.clone(), rev(s)))
                .collect();
            e
        })
        .collect()
}

/// How an example reaches the prompt.
#[derive(Clone, Copy, Debug)]
enum Paste {
    /// The whole message is the example.
    Alone,
    /// The example inside a question, as people paste config into chats.
    InProse,
}

fn prompt_through(r: &Redactor, content: &str) -> String {
    let msgs = serde_json::json!([
        {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant."}]},
        {"role": "user", "parts": [{"type": "text", "content": content}]}
    ])
    .to_string();
    let mut td = common::one_span(vec![kv_str("gen_ai.input.messages", &msgs)]);
    common::redact_owned(r, &mut td, &mut RedactionCounts::default());
    let out = common::first_span_str(&td, "gen_ai.input.messages");
    let v: serde_json::Value = serde_json::from_str(&out).expect("messages stay valid JSON");
    v[1]["parts"][0]["content"].as_str().unwrap().to_string()
}

#[derive(Default)]
struct Tally {
    tp: usize,
    tp_masked: usize,
    fp: usize,
    fp_verbatim: usize,
    missed: BTreeMap<String, Vec<String>>,
    touched: BTreeMap<String, Vec<String>>,
}

fn run(r: &Redactor, all: &[Example], skipped: &BTreeSet<String>, paste: Paste) -> Tally {
    let mut t = Tally::default();
    for e in all {
        // Rules that need file paths cannot run on telemetry: listed, not counted.
        if e.path.is_some() || skipped.contains(&e.rule) {
            continue;
        }
        let content = match paste {
            Paste::Alone => e.text.clone(),
            Paste::InProse => format!(
                "Why does this fail? Here is the relevant part:\n\n{}\n\nThanks!",
                e.text
            ),
        };
        let out = prompt_through(r, &content);
        if e.kind == "tp" {
            t.tp += 1;
            if e.secrets.iter().all(|s| !out.contains(s.as_str())) {
                t.tp_masked += 1;
            } else {
                t.missed.entry(e.rule.clone()).or_default().push(out);
            }
        } else if e.findings.is_empty() {
            // (An example that gitleaks' full rule set flags is no false positive.)
            t.fp += 1;
            if out == content {
                t.fp_verbatim += 1;
            } else {
                t.touched.entry(e.rule.clone()).or_default().push(out);
            }
        }
    }
    t
}

/// The default config: gitleaks' rules beside the built-in detectors gitleaks lacks, plus the
/// OpenAI and Anthropic key detectors (which also mask keys in shapes gitleaks' rules miss).
#[test]
fn gitleaks_examples_through_the_default_config() {
    check_examples(&common::default_redaction_config(), 0.95);
}

/// `secrets` (every built-in token detector) on top also masks placeholder-shaped tokens
/// (`ghp_xxxx...`) that gitleaks allowlists: more masking, never less.
#[test]
fn gitleaks_examples_with_every_builtin_detector() {
    let mut cfg = common::default_redaction_config();
    cfg.detectors.push("secrets".into());
    check_examples(&cfg, 0.85);
}

fn check_examples(cfg: &tollbooth::redact::RedactionConfig, fp_min: f64) {
    let r = Redactor::new(cfg).unwrap();
    let status = r
        .secret_rules()
        .expect("the default config loads secret rules")
        .status();
    let skipped: BTreeSet<String> = status.skipped.iter().map(|s| s.id.clone()).collect();
    let all = examples();
    let rules: BTreeSet<&str> = all.iter().map(|e| e.rule.as_str()).collect();
    println!(
        "gitleaks examples: {} from {} rules ({}); skipped rules (need file paths): {:?}",
        all.len(),
        rules.len(),
        include_str!("fixtures/gitleaks/VERSION").trim(),
        skipped
    );
    for paste in [Paste::Alone, Paste::InProse] {
        let t = run(&r, &all, &skipped, paste);
        let tp_rate = t.tp_masked as f64 / t.tp as f64;
        let fp_rate = t.fp_verbatim as f64 / t.fp as f64;
        println!(
            "{paste:?}: true positives masked {}/{} = {:.1}%; false positives verbatim {}/{} = {:.1}%",
            t.tp_masked,
            t.tp,
            tp_rate * 100.0,
            t.fp_verbatim,
            t.fp,
            fp_rate * 100.0
        );
        for (rule, outs) in &t.missed {
            println!("  missed {rule} ({}): {:?}", outs.len(), &outs[0]);
        }
        for (rule, outs) in &t.touched {
            println!("  touched {rule} ({}): {:?}", outs.len(), &outs[0]);
        }
        assert!(
            tp_rate >= 0.95,
            "{paste:?}: only {:.1}% of true positives masked",
            tp_rate * 100.0
        );
        assert!(
            fp_rate >= fp_min,
            "{paste:?}: only {:.1}% of false positives verbatim",
            fp_rate * 100.0
        );
    }
}

/// The near-miss lines of the redaction corpus (tests/fixtures/redaction_corpus.jsonl: text
/// that looks like a secret or personal datum and is not) stay untouched with the secret
/// rules on, as they do with the built-in detectors alone (tests/redaction_corpus.rs).
#[test]
fn near_misses_stay_untouched_with_secret_rules_on() {
    #[derive(Deserialize)]
    struct Case {
        text: String,
        expect: Vec<String>,
        attr: Option<String>,
    }
    let r = Redactor::new(&common::default_redaction_config()).unwrap();
    let mut near = 0;
    for line in include_str!("fixtures/redaction_corpus.jsonl").lines() {
        let case: Case = serde_json::from_str(line).unwrap();
        if !case.expect.is_empty() {
            continue;
        }
        near += 1;
        let (text, _) = common::expand(&case.text);
        let key = case.attr.as_deref().unwrap_or("gen_ai.prompt.0.content");
        let mut td = common::one_span(vec![kv_str(key, &text)]);
        common::redact_owned(&r, &mut td, &mut RedactionCounts::default());
        assert_eq!(common::first_span_str(&td, key), text, "near-miss changed");
    }
    assert!(near >= 30, "{near}");
}
