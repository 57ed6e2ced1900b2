//! Every loaded secret rule, against strings generated from its own regex (seeded): planted
//! in a chat prompt (gen_ai.input.messages), in tool-call arguments and in a plain attribute,
//! through the default configuration (config/collector.yaml), the secret must be gone. Also:
//! the known non-secrets that the rule file's allowlists name come out untouched.
//!
//! A sample counts when gitleaks itself would report it: the rule's regex matches, entropy and
//! allowlists pass, and one of the rule's keywords occurs in the text (gitleaks scans only
//! text that holds a keyword). Prints rules below 100% with why (`-- --nocapture`).

mod common;

use rand::{RngExt, SeedableRng};
use regex_syntax::hir::HirKind;
use serde_json::json;
use tollbooth::otlp::kv_str;
use tollbooth::redact::secret_rules::{file, go_regex, BUNDLED};
use tollbooth::redact::{RedactionCounts, Redactor};

/// Samples that must be masked per rule, and the tries allowed to find them.
const SAMPLES: usize = 12;
const TRIES: usize = 400;

fn seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Place {
    Prompt,
    ToolArguments,
    Attribute,
}

const PLACES: [Place; 3] = [Place::Prompt, Place::ToolArguments, Place::Attribute];

/// The text that carries `s` in each place: inside prose in a prompt and an attribute,
/// alone as a tool argument's value.
fn wrap(place: Place, s: &str) -> String {
    match place {
        Place::Prompt => format!("Here it is: {s} -- can you check it?"),
        Place::ToolArguments => s.to_string(),
        Place::Attribute => format!("note: {s} (end)"),
    }
}

/// Plants `s` and returns the text that came out where [`wrap`] put it in.
fn through(r: &Redactor, place: Place, s: &str) -> String {
    let text = wrap(place, s);
    let (key, value) = match place {
        Place::Prompt => (
            "gen_ai.input.messages",
            json!([{"role": "user", "parts": [{"type": "text", "content": text}]}]).to_string(),
        ),
        Place::ToolArguments => (
            "gen_ai.tool.call.arguments",
            json!({"query": text, "limit": 5}).to_string(),
        ),
        Place::Attribute => ("app.note", text),
    };
    let mut td = common::one_span(vec![kv_str(key, &value)]);
    common::redact_owned(r, &mut td, &mut RedactionCounts::default());
    let out = common::first_span_str(&td, key);
    match place {
        Place::Prompt => {
            let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
            v[0]["parts"][0]["content"].as_str().unwrap().to_string()
        }
        Place::ToolArguments => {
            let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
            v["query"].as_str().unwrap().to_string()
        }
        Place::Attribute => out,
    }
}

#[derive(Default, Debug)]
struct RuleResult {
    counted: usize,
    masked: usize,
    /// Samples without any of the rule's keywords, planted after one.
    no_keyword: usize,
    example_miss: Option<String>,
}

#[test]
fn every_rule_masks_strings_generated_from_its_own_regex() {
    let r = Redactor::new(&common::default_redaction_config()).unwrap();
    let set = r.secret_rules().unwrap().current();
    let mut results = Vec::new();
    for (i, rule) in set.rules.iter().enumerate() {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(rule.regex.as_str())
            .unwrap();
        let gen = rand_regex::Regex::with_hir(common::without_looks(&hir), 6).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed(&rule.id));
        let mut res = RuleResult::default();
        for _ in 0..TRIES {
            if res.counted == SAMPLES {
                break;
            }
            let mut s: String = rng.sample(&gen);
            let lower = s.to_lowercase();
            if !rule.keywords.is_empty()
                && !rule.keywords.iter().any(|k| lower.contains(k.as_str()))
            {
                // gitleaks scans only text that holds a keyword: put the first one before it.
                res.no_keyword += 1;
                s = format!("{}: {s}", rule.keywords[0]);
            }
            let planted = format!(" {s} ");
            let findings: Vec<_> = set
                .rule_findings(i, &planted)
                .into_iter()
                .filter(|f| !f.allowlisted)
                .collect();
            if findings.is_empty() {
                continue; // anchors, entropy or an allowlist: gitleaks would not report it
            }
            let secrets: Vec<&str> = findings.iter().map(|f| &planted[f.start..f.end]).collect();
            res.counted += 1;
            let mut all = true;
            for place in PLACES {
                let out = through(&r, place, &s);
                if let Some(left) = secrets.iter().find(|x| out.contains(**x)) {
                    all = false;
                    res.example_miss
                        .get_or_insert(format!("{place:?}: {left:?} survived in {out:?}"));
                }
            }
            res.masked += all as usize;
        }
        if res.no_keyword > 0 {
            println!(
                "  {}: {} of its samples hold none of its keywords (planted after one)",
                rule.id, res.no_keyword
            );
        }
        results.push((rule.id.to_string(), res));
    }
    let full: Vec<_> = results
        .iter()
        .filter(|(_, x)| x.counted > 0 && x.masked == x.counted)
        .collect();
    let rate = full.len() as f64 / results.len() as f64;
    println!(
        "secret rules: {} loaded, {} at 100% ({:.1}%) over {} places x up to {SAMPLES} samples",
        results.len(),
        full.len(),
        rate * 100.0,
        PLACES.len()
    );
    for (id, x) in results
        .iter()
        .filter(|(_, x)| x.counted == 0 || x.masked < x.counted)
    {
        let why = if x.counted == 0 {
            "no generated sample passes the rule's own entropy/allowlist checks".to_string()
        } else {
            x.example_miss.clone().unwrap_or_default()
        };
        println!("  {id}: {}/{} masked; {why}", x.masked, x.counted);
    }
    assert!(
        rate >= 0.95,
        "only {:.1}% of rules mask every generated sample",
        rate * 100.0
    );
}

#[test]
fn the_rule_files_allowlisted_examples_stay_untouched() {
    let r = Redactor::new(&common::default_redaction_config()).unwrap();
    let loaded = r.secret_rules().unwrap().current();
    let doc = file::parse(BUNDLED, "bundled").unwrap();
    let mut examples = vec!["AKIAIOSFODNN7EXAMPLE".to_string()];
    for rule in doc
        .rules
        .iter()
        .filter(|d| loaded.rules.iter().any(|x| *x.id == d.id))
    {
        for a in &rule.allowlists {
            for p in &a.regexes {
                // Plain literals only: example keys the maintainers listed by hand.
                let lit = regex_syntax::ParserBuilder::new()
                    .build()
                    .parse(&go_regex::to_rust(p).unwrap())
                    .unwrap();
                if let HirKind::Literal(l) = lit.kind() {
                    examples.push(String::from_utf8(l.0.to_vec()).unwrap());
                }
            }
        }
    }
    assert!(examples.len() > 10, "{examples:?}");
    for e in &examples {
        for place in PLACES {
            for text in [e.clone(), format!("the docs use {e} as their example")] {
                let out = through(&r, place, &text);
                assert_eq!(
                    out,
                    wrap(place, &text),
                    "{place:?}: an allowlisted example was changed"
                );
            }
        }
    }
}
