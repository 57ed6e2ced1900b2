//! Every built-in detector with a gate (src/redact/detectors.rs `Gate`): a text in which the
//! detector's regex matches must pass the gate, or redaction would miss what the regex finds.
//! Strings are generated from the regex itself (seeded), with and without surrounding prose,
//! and near misses (the matched string cut and altered) check that a gate is not simply
//! always open.

mod common;

use rand::{RngExt, SeedableRng};
use regex::Regex;
use tollbooth::redact::detectors::{Gate, SPECS};

const SAMPLES: usize = 3000;

const PROSE: [&str; 4] = [
    "please summarise the ticket and reply politely ",
    "Ünïcödé prose — with “quotes” and 数字 ",
    "{\"role\": \"user\", \"content\": \"",
    "",
];

#[test]
fn a_text_the_regex_matches_in_always_passes_the_gate() {
    let mut gated = 0;
    for spec in SPECS.iter().filter(|s| s.gate != Gate::None) {
        gated += 1;
        let re = Regex::new(&spec.pattern()).unwrap();
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(&spec.pattern())
            .unwrap();
        let gen = rand_regex::Regex::with_hir(common::without_looks(&hir), 8).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(spec.name.len() as u64 * 7919);
        let (mut matched, mut closed_on_near_miss) = (0, 0);
        for i in 0..SAMPLES {
            let s: String = rng.sample(&gen);
            let text = format!("{}{s} {}", PROSE[i % 4], PROSE[(i + 1) % 4]);
            if re.is_match(&text) {
                matched += 1;
                assert!(
                    spec.gate.passes(&text),
                    "{}: gate {:?} closed on a text its regex matches: {text:?}",
                    spec.name,
                    spec.gate
                );
            }
            // A near miss: the sample with every second character replaced by a letter.
            let near: String = s
                .chars()
                .enumerate()
                .map(|(k, c)| if k % 2 == 1 { 'q' } else { c })
                .collect();
            let near = format!("{}{near}", PROSE[i % 4]);
            // (A gate may pass texts the regex rejects; it must close on some.)
            if !re.is_match(&near) && !spec.gate.passes(&near) {
                closed_on_near_miss += 1;
            }
        }
        assert!(
            matched >= SAMPLES / 2,
            "{}: only {matched} samples matched",
            spec.name
        );
        assert!(
            closed_on_near_miss > 0,
            "{}: the gate never closes, so it saves nothing",
            spec.name
        );
    }
    assert!(gated >= 6, "{gated} gated detectors");
}

#[test]
fn gates_on_the_edge_cases_they_are_written_for() {
    let gate = |name: &str| SPECS.iter().find(|s| s.name == name).unwrap().gate;
    let card = gate("credit_card");
    assert!(card.passes("card 4111 1111-1111 1111 ok"));
    assert!(!card.passes("order #48213 and 4111 1111  1111 1111")); // two spaces cut the run
    let ssn = gate("us_ssn");
    assert!(ssn.passes("ssn 078-05-1120"));
    assert!(!ssn.passes("call 555-0100"));
    let iban = gate("iban");
    assert!(iban.passes("GB82 WEST 1234 5698 7654 32"));
    assert!(!iban.passes("gb82 west"));
    let param = gate("secret_param");
    assert!(param.passes("api_key=abcdef123"));
    assert!(param.passes("\"password\"   :  \"hunter22\""));
    assert!(param.passes("TOKEN\t= x"));
    assert!(param.passes("\u{212A}EY: folded by case-insensitive matching"));
    assert!(!param.passes("{\"role\": \"user\", \"content\": \"the key idea\"}"));
    assert!(gate("url_credentials").passes("postgres://u:p@h/db"));
    assert!(!gate("email").passes("no at sign here"));
}
