//! Redaction: secrets and personal data never leave the collector, and telemetry stays useful.
//!
//! One [`Redactor`] is built from a [`RedactionConfig`] at start (all regexes compiled, keys
//! resolved, every mistake reported then) and is shared by all calls (`Send + Sync`, no
//! locks). It is contrib's `redaction` processor (same keys, same order of rules, same audit
//! attributes) plus built-in validated detectors, a GenAI content policy, truncation and span
//! dropping.
//!
//! Module map: [`config`] (the YAML/JSON block), [`detectors`] (built-in patterns and
//! validators), [`keys`] (sensitive keys), [`content`] (where GenAI content lives),
//! [`hashing`] (contrib hashes and keyed HMAC), [`apply`] (one attribute map at a time),
//! [`nested`] (arrays and maps, depth-bounded), [`text`] (masking one text, JSON, truncation),
//! [`counts`] (self-metrics), gates.rs (the cheap tests that decide which detectors run). The
//! rules and why: docs/redaction.md.
//!
//! Configuration (collector YAML; the Go side sends it as JSON with the same keys):
//! ```yaml
//! redaction:
//!   allow_all_keys: true                 # contrib keys, contrib defaults and meaning
//!   blocked_values: ["4[0-9]{12}(?:[0-9]{3})?"]
//!   hash_function: hmac-sha256           # "" (mask "****"), md5, sha1, sha3, hmac-sha256, hmac-sha512
//!   hmac_key_env: TOLLBOOTH_HMAC_KEY     # or hmac_key / hmac_key_file; >= 32 bytes
//!   summary: info                        # debug | info | silent
//!   detectors: [secrets, email, credit_card, us_ssn, iban]   # or pii, all, single names
//!   detector_replacements: {email: "<email:{hash}>"}         # default "<REDACTED:name>"
//!   content: {policy: redact, max_chars: 1000}               # keep|redact|hash|truncate|drop
//!   max_value_bytes: 10240               # 0 = off
//!   sensitive_keys: [password, token, api_key, ...]          # default list; [] = off
//!   on_error: drop                       # read by Go: drop (default) | pass
//!   drop_spans: {name_patterns: ["^GET /healthz$"], attributes: [{key: http.route, value_pattern: "^/ready"}]}
//! ```
//!
//! Differences from contrib, all on the safe side: span, event and scope names, status
//! messages, link attributes, bytes values and the leaves of arrays, kvlists and JSON text are
//! scanned too (contrib reads only string attributes, or their flat string form with
//! `redact_all_types`); values under sensitive keys are masked whole; integers that are card
//! numbers are masked. Scope attributes get the same rules as resource attributes, as in
//! contrib.
//!
//! The batch is read in place ([`crate::otlp::read_traces`]); strings need not be UTF-8 and
//! nesting may be of any depth. Output is the edit list Go applies
//! ([`Redactor::redact_batch`]).

pub mod apply;
pub mod config;
pub mod content;
pub mod counts;
pub mod detectors;
mod gates;
pub mod hashing;
pub mod keys;
pub mod nested;
pub mod secret_rules;
pub mod text;

use std::collections::HashSet;

use regex::{Regex, RegexBuilder};

use crate::edits::{EditList, Target};
use crate::otlp::{SpanRef, TracesRef};
pub use config::{ContentPolicy, HashFunction, OnError, RedactionConfig, Summary};
pub use counts::RedactionCounts;
use detectors::Detectors;
use hashing::HmacKey;
use keys::SensitiveKeys;
use secret_rules::SecretRules;
use text::lossy;

/// Compiled size limits for user regexes: a hostile pattern fails at start instead of
/// eating memory (matching is linear-time in the `regex` crate regardless).
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 4 << 20;

/// The audit attributes contrib writes.
pub const SUMMARY_KEYS: &[&str] = &[
    "redaction.redacted.keys",
    "redaction.redacted.count",
    "redaction.masked.keys",
    "redaction.masked.count",
    "redaction.allowed.keys",
    "redaction.allowed.count",
    "redaction.ignored.count",
    "redaction.body.redacted.keys",
    "redaction.body.redacted.count",
    "redaction.body.masked.keys",
    "redaction.body.masked.count",
    "redaction.body.allowed.keys",
    "redaction.body.allowed.count",
    "redaction.body.ignored.count",
];

/// The audit attributes contrib's allow-list always keeps (its `makeAllowList`): the others
/// in [`SUMMARY_KEYS`] are removed by `allowed_keys` like any other key, as in contrib.
pub const ALLOW_LISTED_SUMMARY_KEYS: &[&str] = &[
    "redaction.redacted.keys",
    "redaction.redacted.count",
    "redaction.masked.keys",
    "redaction.masked.count",
    "redaction.ignored.count",
];

/// A compiled redaction stage.
pub struct Redactor {
    allow_all_keys: bool,
    allowed_keys: HashSet<String>,
    ignored_keys: HashSet<String>,
    ignored_key_patterns: Vec<Regex>,
    blocked_key_patterns: Vec<Regex>,
    sensitive: SensitiveKeys,
    blocked_values: Vec<Regex>,
    allowed_values: Vec<Regex>,
    redact_all_types: bool,
    hash_function: HashFunction,
    key: HmacKey,
    summary: Summary,
    detectors: Detectors,
    content: config::ContentConfig,
    max_value_bytes: usize,
    drop_names: Vec<Regex>,
    drop_attrs: Vec<(String, Option<Regex>)>,
    mask_all: Regex,
    /// JSON may skip the parse when the raw text matches nothing (see `apply::Redactor::text`).
    json_fast_path: bool,
}

fn compile(key: &str, patterns: &[String]) -> Result<Vec<Regex>, String> {
    patterns
        .iter()
        .enumerate()
        .map(|(i, p)| compile_one(&format!("{key}[{i}]"), p))
        .collect()
}

fn compile_one(key: &str, p: &str) -> Result<Regex, String> {
    RegexBuilder::new(p)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| format!("redaction.{key}: invalid regular expression {p:?}: {e}"))
}

impl Redactor {
    /// Compiles the configuration; the error names the offending key and the fix.
    pub fn new(c: &RedactionConfig) -> Result<Redactor, String> {
        let key = HmacKey::resolve(c)?;
        let key_len = key.len();
        if matches!(
            c.hash_function,
            HashFunction::HmacSha256 | HashFunction::HmacSha512
        ) {
            let min = hashing::min_key_len(c.hash_function);
            if key_len < min {
                return Err(format!(
                    "redaction.hmac_key: hash_function {:?} needs a key of at least {min} bytes (set hmac_key, hmac_key_env or hmac_key_file)",
                    hash_name(c.hash_function)
                ));
            }
        }
        let hashes_content = c.content.policy == ContentPolicy::Hash;
        let hashes_detected = c
            .detector_replacements
            .values()
            .any(|r| r.contains("{hash}"));
        if (hashes_content || hashes_detected) && key_len < 32 {
            return Err(format!(
                "redaction.hmac_key: {} needs an HMAC key of at least 32 bytes (set hmac_key, hmac_key_env or hmac_key_file)",
                if hashes_content { "content.policy: hash" } else { "a {hash} detector replacement" }
            ));
        }
        if c.max_value_bytes != 0 && c.max_value_bytes < 64 {
            return Err("redaction.max_value_bytes: must be 0 (off) or at least 64".into());
        }
        if c.content.max_chars < 32 {
            return Err("redaction.content.max_chars: must be at least 32".into());
        }
        let drop_attrs = c
            .drop_spans
            .attributes
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let re = a
                    .value_pattern
                    .as_deref()
                    .map(|p| compile_one(&format!("drop_spans.attributes[{i}].value_pattern"), p))
                    .transpose()?;
                Ok((a.key.clone(), re))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut allowed_keys: HashSet<String> = c.allowed_keys.iter().cloned().collect();
        allowed_keys.extend(ALLOW_LISTED_SUMMARY_KEYS.iter().map(|s| s.to_string()));
        Ok(Redactor {
            allow_all_keys: c.allow_all_keys,
            allowed_keys,
            ignored_keys: c.ignored_keys.iter().cloned().collect(),
            ignored_key_patterns: compile("ignored_key_patterns", &c.ignored_key_patterns)?,
            blocked_key_patterns: compile("blocked_key_patterns", &c.blocked_key_patterns)?,
            sensitive: SensitiveKeys::new(&c.sensitive_keys)?,
            blocked_values: compile("blocked_values", &c.blocked_values)?,
            allowed_values: compile("allowed_values", &c.allowed_values)?,
            redact_all_types: c.redact_all_types,
            hash_function: c.hash_function,
            detectors: Detectors::with_rules(
                &c.detectors,
                &c.detector_replacements,
                &key,
                c.secret_rules.as_ref().map(SecretRules::load).transpose()?,
            )?,
            key,
            summary: c.summary,
            content: c.content.clone(),
            max_value_bytes: c.max_value_bytes,
            drop_names: compile("drop_spans.name_patterns", &c.drop_spans.name_patterns)?,
            drop_attrs,
            mask_all: Regex::new(".*").expect("valid"),
            // Anchors and key patterns can match a JSON leaf or key without matching the raw
            // text; allowed_values are per leaf. Then every JSON value is walked. (Sensitive
            // keys are looked for in the raw text: see `text::Redactor::text`.)
            json_fast_path: c.blocked_key_patterns.is_empty()
                && c.allowed_values.is_empty()
                && !c.blocked_values.iter().any(|p| {
                    p.contains('^') || p.contains('$') || p.contains("\\A") || p.contains("\\z")
                }),
        })
    }

    /// The secret rules, when configured: the engine reloads them and reports their status.
    pub fn secret_rules(&self) -> Option<&SecretRules> {
        self.detectors.secret_rules()
    }

    /// Parses the JSON block and compiles it.
    pub fn from_json(bytes: &[u8]) -> Result<Redactor, String> {
        Redactor::new(&RedactionConfig::from_json(bytes)?)
    }

    /// Redacts one batch: appends the edits that, applied by Go, give the redacted batch.
    /// Order: per resource, per scope (attributes, name), then per span (drop, name,
    /// attributes, events, links, status).
    pub fn redact_batch(
        &self,
        td: &TracesRef<'_>,
        out: &mut EditList,
        counts: &mut RedactionCounts,
    ) {
        for rs in td.resource_spans() {
            let rs_i = rs.index();
            self.attrs(
                Target::Resource { rs: rs_i },
                rs.resource_attributes(),
                false,
                counts,
                out,
            );
            for ss in rs.scope_spans() {
                let ss_i = ss.index();
                // Contrib runs the same rules on instrumentation-scope attributes.
                self.attrs(
                    Target::Scope { rs: rs_i, ss: ss_i },
                    ss.scope_attributes(),
                    false,
                    counts,
                    out,
                );
                if let Some(n) = self.name(ss.scope_name(), counts) {
                    out.set_scope_name(rs_i, ss_i, &n);
                }
                for span in ss.spans() {
                    self.span(rs_i, ss_i, &span, counts, out);
                }
            }
        }
    }

    fn span(
        &self,
        rs: u32,
        ss: u32,
        span: &SpanRef<'_, '_>,
        counts: &mut RedactionCounts,
        out: &mut EditList,
    ) {
        let sp = span.index();
        counts.spans_seen += 1;
        if self.should_drop(span) {
            counts.spans_dropped += 1;
            out.drop_span(rs, ss, sp);
            return;
        }
        if let Some(n) = self.name(span.name(), counts) {
            out.set_span_name(rs, ss, sp, &n);
        }
        self.attrs(
            Target::Span { rs, ss, span: sp },
            span.attributes(),
            false,
            counts,
            out,
        );
        for ev in span.events() {
            let event = ev.index();
            let content_event = std::str::from_utf8(ev.name()).is_ok_and(content::is_content_event);
            self.attrs(
                Target::Event {
                    rs,
                    ss,
                    span: sp,
                    event,
                },
                ev.attributes(),
                content_event,
                counts,
                out,
            );
            if let Some(n) = self.name(ev.name(), counts) {
                out.set_event_name(rs, ss, sp, event, &n);
            }
        }
        for link in span.links() {
            let at = Target::Link {
                rs,
                ss,
                span: sp,
                link: link.index(),
            };
            self.attrs(at, link.attributes(), false, counts, out);
        }
        if let Some(m) = self.status_message(span.status().message, counts) {
            out.set_status_message(rs, ss, sp, &m);
        }
    }

    fn should_drop(&self, span: &SpanRef<'_, '_>) -> bool {
        if !self.drop_names.is_empty() {
            let name = lossy(span.name());
            if self.drop_names.iter().any(|r| r.is_match(&name)) {
                return true;
            }
        }
        self.drop_attrs.iter().any(|(k, re)| {
            span.attributes()
                .iter()
                .find(|kv| kv.key == k.as_bytes())
                .is_some_and(|kv| match re {
                    None => true,
                    Some(re) => apply::scalar_string(&kv.value).is_some_and(|s| re.is_match(&s)),
                })
        })
    }
}

fn hash_name(f: HashFunction) -> &'static str {
    match f {
        HashFunction::None => "",
        HashFunction::Md5 => "md5",
        HashFunction::Sha1 => "sha1",
        HashFunction::Sha3 => "sha3",
        HashFunction::HmacSha256 => "hmac-sha256",
        HashFunction::HmacSha512 => "hmac-sha512",
    }
}

#[cfg(test)]
mod tests;
