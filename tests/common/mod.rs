//! Shared by the integration tests: fake, pattern-valid secrets made at test time (so no
//! committed file carries a token that secret scanners, or people, would mistake for a real
//! one), small batches, redaction run as the collector runs it, and raw batches ([`raw`]).
#![allow(dead_code)]

pub mod raw;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};

/// Deterministic xorshift, seeded by name: the same placeholder gives the same token.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: &str) -> Gen {
        let mut h = 0xcbf29ce484222325u64;
        for b in seed.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
        Gen(h | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn from(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n)
            .map(|_| a[(self.next() % a.len() as u64) as usize] as char)
            .collect()
    }
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UPPER_DIGIT: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64(input: &[u8]) -> String {
    let a = B64.as_bytes();
    let mut out = String::new();
    for c in input.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(a[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn pem_body(g: &mut Gen) -> Vec<String> {
    (0..3).map(|_| g.from(B64, 64)).collect()
}

/// The fake token for a placeholder name, or `None` if unknown.
pub fn fake(name: &str) -> Option<String> {
    let mut g = Gen::new(name);
    let pem = |g: &mut Gen, nl: &str| {
        let mut s = String::from("-----BEGIN RSA PRIVATE KEY-----");
        for l in pem_body(g) {
            s.push_str(nl);
            s.push_str(&l);
        }
        s.push_str(nl);
        s.push_str("-----END RSA PRIVATE KEY-----");
        s
    };
    Some(match name {
        "openai_proj" => format!("sk-{}-A1{}", "proj", g.from(ALNUM, 46)),
        "openai_legacy" => format!("sk-T3{}", g.from(ALNUM, 46)),
        "anthropic" => format!("sk-{}-api03-{}AA", "ant", g.from(URLSAFE, 93)),
        "aws_id" => format!("AKI{}{}", "A", g.from(UPPER_DIGIT, 16)),
        "aws_id_asia" => format!("ASI{}{}", "A", g.from(UPPER_DIGIT, 16)),
        "aws_secret" => g.from(B64, 40),
        "ghp" => format!("gh{}_{}", "p", g.from(ALNUM, 36)),
        "github_pat" => format!(
            "github_{}_{}_{}",
            "pat",
            g.from(ALNUM, 22),
            g.from(ALNUM, 59)
        ),
        "glpat" => format!("gl{}-{}", "pat", g.from(ALNUM, 20)),
        "slack" => format!(
            "xo{}-{}-{}-{}",
            "xb",
            g.from("0123456789", 12),
            g.from("0123456789", 13),
            g.from(ALNUM, 24)
        ),
        "stripe" => format!("sk_{}_{}", "live", g.from(ALNUM, 24)),
        "stripe_rk" => format!("rk_{}_{}", "live", g.from(ALNUM, 24)),
        "google" => format!("AI{}{}", "za", g.from(URLSAFE, 35)),
        "jwt" => format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
            g.from(URLSAFE, 40),
            g.from(URLSAFE, 43)
        ),
        "pem" => pem(&mut g, "\n"),
        "pem_json" => pem(&mut Gen::new("pem"), "\\n"),
        "pem_line" => pem_body(&mut Gen::new("pem")).remove(0),
        "bearer" => format!("T0k{}", g.from(ALNUM, 29)),
        "basic" => base64(format!("svc-user:{}", g.from(ALNUM, 12)).as_bytes()),
        "azure_key" => g.from("0123456789abcdef", 32),
        _ => return None,
    })
}

/// Expands `${name}` placeholders; returns the text and the placeholder names used.
pub fn expand(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut used = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("closed placeholder") + i;
        let name = &rest[i + 2..end];
        out.push_str(&fake(name).unwrap_or_else(|| panic!("unknown placeholder {name}")));
        used.push(name.to_string());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    (out, used)
}

pub fn one_span(attrs: Vec<KeyValue>) -> TracesData {
    TracesData {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: "chat".into(),
                    attributes: attrs,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The `redaction` block of the genai processor in config/collector.yaml, as the Go side
/// hands it to the engine: what `make run` and the end-to-end tests use.
pub fn default_redaction_config() -> tollbooth::redact::RedactionConfig {
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(include_str!("../../config/collector.yaml")).unwrap();
    let block = &yaml["processors"]["genai"]["redaction"];
    assert!(
        !block.is_null(),
        "config/collector.yaml has no genai redaction block"
    );
    let json = serde_json::to_string(block).unwrap();
    tollbooth::redact::RedactionConfig::from_json(json.as_bytes()).unwrap()
}

/// One string attribute of the first span, after redaction.
pub fn first_span_str(td: &TracesData, key: &str) -> String {
    tollbooth::otlp::find_str(
        &td.resource_spans[0].scope_spans[0].spans[0].attributes,
        key,
    )
    .unwrap_or_default()
    .to_string()
}

/// Redacts an owned batch as the collector does: encode, read in place, apply the edit list
/// (what Go does to its pdata). Panics if the edits do not apply.
pub fn redact_owned(
    r: &tollbooth::redact::Redactor,
    td: &mut TracesData,
    counts: &mut tollbooth::redact::RedactionCounts,
) {
    use prost::Message;
    use tollbooth::edits::{self, Disposition, EditList};
    let bytes = td.encode_to_vec();
    let traces = tollbooth::otlp::read_traces(&bytes).expect("a batch prost encoded reads");
    let mut list = EditList::new();
    r.redact_batch(&traces, &mut list, counts);
    let (_, ops) = edits::decode(&list.finish(Disposition::Forward)).expect("edits decode");
    assert!(
        edits::apply(td, &ops),
        "edits address the batch they came from"
    );
}

/// A regex without its look-around assertions (`\b`, `^`, `$`), which strings cannot be
/// generated for: the tests that generate samples check each against the real regex.
pub fn without_looks(h: &regex_syntax::hir::Hir) -> regex_syntax::hir::Hir {
    use regex_syntax::hir::{Capture, Hir, HirKind, Repetition};
    match h.kind() {
        HirKind::Look(_) => Hir::empty(),
        HirKind::Concat(v) => Hir::concat(v.iter().map(without_looks).collect()),
        HirKind::Alternation(v) => Hir::alternation(v.iter().map(without_looks).collect()),
        HirKind::Repetition(r) => Hir::repetition(Repetition {
            sub: Box::new(without_looks(&r.sub)),
            ..r.clone()
        }),
        HirKind::Capture(c) => Hir::capture(Capture {
            sub: Box::new(without_looks(&c.sub)),
            ..c.clone()
        }),
        _ => h.clone(),
    }
}
