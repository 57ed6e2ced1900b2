//! Built-in detectors for secrets and personal data, and the secret rules beside them.
//!
//! Each detector is a linear-time regex (the `regex` crate) that finds candidates, plus an
//! optional validator (Luhn, mod-97, SSN rules, address parsing) that keeps false positives
//! down. When a pattern has a capture group only that group is masked, so context such as
//! `Authorization: Bearer ` or a URL's user name survives.
//!
//! Secret rules (gitleaks' format, src/redact/secret_rules/) find secrets in the same pass.
//! Where findings overlap, the union of their ranges is masked once, under one name: a
//! specific secret rule's (`github-pat`) before a built-in detector's, and a built-in's
//! before a generic rule's (`generic-api-key`), as gitleaks prefers specific rules too.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::counts::Detections;
use super::gates::Facts;
use super::hashing::{hmac_sha256_hex, HmacKey};
use super::secret_rules::SecretRules;

/// Decides whether a candidate `text[start..end]` is real and returns the range to mask.
type Validator = fn(text: &str, start: usize, end: usize) -> Option<(usize, usize)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Secrets,
    Pii,
}

pub struct Spec {
    pub name: &'static str,
    pub group: Group,
    pattern: &'static str,
    validate: Option<Validator>,
    pub gate: Gate,
}

impl Spec {
    /// The detector's regex as compiled (`\b` is ASCII-only).
    pub fn pattern(&self) -> String {
        expand(self.pattern)
    }
}

/// A cheap test that every text in which the detector's regex can match passes. The regexes
/// the `regex` crate can find no fast literal for (an URL scheme, a key word before `:`, a run
/// of digits, an e-mail's `@`) were 80% of the combined set's cost on prose (BENCHMARKS.md);
/// those run alone, and only on texts that pass their gate. The rest share one set pass.
/// tests/detector_gates.rs checks each gate against strings generated from its regex; how a
/// gate is decided is in src/redact/gates.rs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// In the combined set.
    None,
    /// The text contains this byte.
    Byte(u8),
    /// The text contains this ASCII string.
    Literal(&'static str),
    /// The text contains this ASCII word in any letter case, or is not all ASCII (Unicode
    /// case folding maps a few non-ASCII letters to ASCII ones, e.g. U+017F to s).
    WordAnyCase(&'static str),
    /// Some run of at least this many ASCII digits, single spaces or dashes between them.
    DigitRun(usize),
    /// Two ASCII capitals followed by two ASCII digits somewhere.
    CountryCheckDigits,
    /// A key word (key, token, secret, password, passwd, pwd) ends just before a `:` or `=`
    /// (after an optional quote and whitespace), or non-ASCII text makes that uncertain.
    KeyWordBeforeSeparator,
}

/// `\b` is written `(?-u:\b)` so the fast DFA engines stay usable on non-ASCII prompts.
const B: &str = r"(?-u:\b)";

/// All detectors, in priority order: when two matches overlap, the earlier start wins and,
/// at the same start, the detector listed first (specific token formats before generic ones).
pub const SPECS: &[Spec] = &[
    Spec {
        name: "private_key",
        group: Group::Secrets,
        pattern: r"-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY-----(?s:.)*?-----END[A-Z0-9 ]{0,40} PRIVATE KEY-----",
        validate: Some(pem_body),
        gate: Gate::None,
    },
    Spec {
        name: "anthropic_key",
        group: Group::Secrets,
        pattern: r"\bsk-ant-[A-Za-z0-9_\-]{20,}",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "openai_key",
        group: Group::Secrets,
        pattern: r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        validate: Some(has_digit_and_letter),
        gate: Gate::None,
    },
    Spec {
        name: "aws_access_key_id",
        group: Group::Secrets,
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "aws_secret_key",
        group: Group::Secrets,
        pattern: r#"(?i)(?:aws[_\- ]?secret|secret[_\- ]?access)[a-z_\- ]{0,12}["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#,
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "github_token",
        group: Group::Secrets,
        pattern: r"\b(?:(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "gitlab_token",
        group: Group::Secrets,
        pattern: r"\bglpat-[A-Za-z0-9_\-]{20,}",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "slack_token",
        group: Group::Secrets,
        pattern: r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "stripe_key",
        group: Group::Secrets,
        pattern: r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "google_api_key",
        group: Group::Secrets,
        pattern: r"\bAIza[A-Za-z0-9_\-]{35}",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "jwt",
        group: Group::Secrets,
        pattern: r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
        validate: None,
        gate: Gate::None,
    },
    Spec {
        name: "url_credentials",
        group: Group::Secrets,
        pattern: r"(?i)\b[a-z][a-z0-9+.\-]{1,15}://[^\s:/@?#<>]{1,64}:([^\s:/@?#<>]{1,128})@",
        validate: None,
        gate: Gate::Literal("://"),
    },
    Spec {
        name: "basic_auth",
        group: Group::Secrets,
        pattern: r"(?i)\bbasic\s+([A-Za-z0-9+/]{8,}={0,2})",
        validate: Some(basic_credentials),
        gate: Gate::WordAnyCase("basic"),
    },
    Spec {
        name: "bearer_token",
        group: Group::Secrets,
        pattern: r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{12,}=*)",
        validate: Some(has_digit_and_letter),
        gate: Gate::WordAnyCase("bearer"),
    },
    Spec {
        name: "secret_param",
        group: Group::Secrets,
        pattern: r#"(?i)\b(?:x-api-key|api[_\-]?key|apikey|access[_\-]?token|refresh[_\-]?token|auth[_\-]?token|client[_\-]?secret|password|passwd|pwd|secret|token)["']?\s*[:=]\s*["']?([^\s"'&,;<>*]{6,})"#,
        validate: Some(secret_value),
        gate: Gate::KeyWordBeforeSeparator,
    },
    Spec {
        name: "email",
        group: Group::Pii,
        pattern: r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b",
        validate: Some(email_tld),
        gate: Gate::Byte(b'@'),
    },
    Spec {
        name: "credit_card",
        group: Group::Pii,
        pattern: r"\b[0-9](?:[ \-]?[0-9]){12,18}\b",
        validate: Some(card),
        gate: Gate::DigitRun(13),
    },
    Spec {
        name: "us_ssn",
        group: Group::Pii,
        pattern: r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
        validate: Some(ssn),
        gate: Gate::DigitRun(9),
    },
    Spec {
        name: "iban",
        group: Group::Pii,
        pattern: r"\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
        validate: Some(iban),
        gate: Gate::CountryCheckDigits,
    },
    Spec {
        name: "phone",
        group: Group::Pii,
        pattern: r"(?:\+[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,5}\)?){2,5}|(?:\b1[ .\-])?(?:\([2-9][0-9]{2}\) ?|\b[2-9][0-9]{2}[ .\-])[2-9][0-9]{2}[ .\-][0-9]{4})\b",
        validate: Some(phone),
        gate: Gate::None,
    },
    Spec {
        name: "ipv4",
        group: Group::Pii,
        pattern: r"\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b",
        validate: Some(ipv4),
        gate: Gate::None,
    },
    Spec {
        name: "ipv6",
        group: Group::Pii,
        pattern: r"(?i)(?:\b[0-9a-f]{1,4}|::)(?::{1,2}[0-9a-f]{1,4}){2,7}(?:::)?\b|\b(?i:[0-9a-f]{1,4}:){1,6}:",
        validate: Some(ipv6),
        gate: Gate::None,
    },
];

/// Lazy-DFA cache per regex: the combined set has many states, and a cache that thrashes
/// makes the engine fall back to its slowest search.
const DFA_CACHE: usize = 16 << 20;

/// Number of built-in detectors (the length of the per-detector counter array).
pub const COUNT: usize = SPECS.len();

/// Names of all detectors, in counter order.
pub fn names() -> impl Iterator<Item = &'static str> {
    SPECS.iter().map(|s| s.name)
}

enum Replacement {
    Fixed(String),
    /// Text before and after a `{hash}` placeholder.
    Hashed(String, String),
}

struct Compiled {
    /// Index into [`SPECS`] (and the counter array).
    spec: usize,
    re: Regex,
    grouped: bool,
    replacement: Replacement,
}

/// The enabled detectors, compiled once at start, and the secret rules.
pub struct Detectors {
    /// The ungated detectors' patterns in one set; `set_members[i]` is set pattern i's index
    /// into `list`.
    set: Option<RegexSet>,
    set_members: Vec<usize>,
    /// Indices into `list` of the detectors with a gate.
    gated: Vec<usize>,
    list: Vec<Compiled>,
    rules: Option<SecretRules>,
    /// Replacements configured for secret rule ids (default `<REDACTED:id>`).
    rule_replacements: HashMap<String, Replacement>,
}

/// Who found a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finder {
    /// Index into `Detectors::list`.
    Builtin(usize),
    /// Index into the current rule set's rules.
    Rule(usize),
}

/// One accepted match. Lower `rank` names a merged mask: 0 specific secret rule, 1 built-in
/// detector, 2 generic secret rule.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    rank: u8,
    by: Finder,
}

fn expand(pattern: &str) -> String {
    pattern.replace(r"\b", B)
}

fn replacement(name: &str, text: String, key: &HmacKey) -> Result<Replacement, String> {
    match text.split_once("{hash}") {
        Some((a, b)) => {
            if key.is_empty() {
                return Err(format!(
                    "redaction.detector_replacements.{name}: {{hash}} needs an HMAC key (hmac_key, hmac_key_env or hmac_key_file)"
                ));
            }
            Ok(Replacement::Hashed(a.to_string(), b.to_string()))
        }
        None => Ok(Replacement::Fixed(text)),
    }
}

impl Detectors {
    /// Compiles the named detectors (names or the groups `secrets`, `pii`, `all`).
    pub fn new(
        enabled: &[String],
        replacements: &std::collections::BTreeMap<String, String>,
        key: &HmacKey,
    ) -> Result<Detectors, String> {
        Detectors::with_rules(enabled, replacements, key, None)
    }

    /// As [`Detectors::new`], plus secret rules; `replacements` may name rule ids too.
    pub fn with_rules(
        enabled: &[String],
        replacements: &std::collections::BTreeMap<String, String>,
        key: &HmacKey,
        rules: Option<SecretRules>,
    ) -> Result<Detectors, String> {
        let mut on = [false; COUNT];
        for (i, name) in enabled.iter().enumerate() {
            let hits: Vec<usize> = match name.as_str() {
                "all" => (0..COUNT).collect(),
                "secrets" => idx(|s| s.group == Group::Secrets),
                "pii" => idx(|s| s.group == Group::Pii),
                n => idx(|s| s.name == n),
            };
            if hits.is_empty() {
                return Err(format!(
                    "redaction.detectors[{i}]: unknown detector {name:?}; known: all, secrets, pii, {}",
                    names().collect::<Vec<_>>().join(", ")
                ));
            }
            for h in hits {
                on[h] = true;
            }
        }
        let mut rule_replacements = HashMap::new();
        for (name, text) in replacements {
            let Some(i) = SPECS.iter().position(|s| s.name == name) else {
                let is_rule = rules
                    .as_ref()
                    .is_some_and(|r| r.current().rules.iter().any(|x| &*x.id == name));
                if !is_rule {
                    return Err(format!(
                        "redaction.detector_replacements: unknown detector or secret rule {name:?}"
                    ));
                }
                rule_replacements.insert(name.clone(), replacement(name, text.clone(), key)?);
                continue;
            };
            if !on[i] {
                return Err(format!(
                    "redaction.detector_replacements.{name}: detector {name:?} is not enabled in redaction.detectors"
                ));
            }
        }
        let mut list = Vec::new();
        for (i, spec) in SPECS.iter().enumerate() {
            if !on[i] {
                continue;
            }
            let re = RegexBuilder::new(&expand(spec.pattern))
                .dfa_size_limit(DFA_CACHE)
                .build()
                .map_err(|e| format!("built-in detector {}: {e}", spec.name))?;
            let text = replacements
                .get(spec.name)
                .cloned()
                .unwrap_or_else(|| format!("<REDACTED:{}>", spec.name));
            let replacement = replacement(spec.name, text, key)?;
            list.push(Compiled {
                spec: i,
                grouped: re.captures_len() > 1,
                re,
                replacement,
            });
        }
        let (gated, set_members): (Vec<usize>, Vec<usize>) =
            (0..list.len()).partition(|&i| SPECS[list[i].spec].gate != Gate::None);
        let set = if set_members.is_empty() {
            None
        } else {
            Some(
                RegexSetBuilder::new(
                    set_members
                        .iter()
                        .map(|&i| expand(SPECS[list[i].spec].pattern)),
                )
                .dfa_size_limit(DFA_CACHE)
                .build()
                .map_err(|e| format!("built-in detector set: {e}"))?,
            )
        };
        Ok(Detectors {
            set,
            set_members,
            gated,
            list,
            rules,
            rule_replacements,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.rules.is_none()
    }

    /// The secret rules, when configured (status, reload).
    pub fn secret_rules(&self) -> Option<&SecretRules> {
        self.rules.as_ref()
    }

    /// Whether any enabled detector's pattern, or any secret rule's keyword, occurs
    /// (validators and rule regexes not run): a cheap filter.
    pub fn may_match(&self, text: &str) -> bool {
        let mut facts = Facts::default();
        self.gated.iter().any(|&di| {
            let c = &self.list[di];
            SPECS[c.spec].gate.passes_with(text, &mut facts) && c.re.is_match(text)
        }) || self.set.as_ref().is_some_and(|s| s.is_match(text))
            || self
                .rules
                .as_ref()
                .is_some_and(|r| r.current().may_match(text))
    }

    /// Replaces every detected secret or personal datum in `text`; `None` when nothing was
    /// found. `counts` is bumped under the name each mask carries.
    ///
    /// The output is looked at again (a secret that only appears once its neighbour is
    /// masked), so one call reaches the fixed point and redaction is idempotent.
    pub fn redact(&self, text: &str, key: &HmacKey, counts: &mut Detections) -> Option<String> {
        let mut out = self.pass(text, key, counts)?;
        for _ in 0..3 {
            match self.pass(&out, key, counts) {
                Some(next) => out = next,
                None => break,
            }
        }
        Some(out)
    }

    fn pass(&self, text: &str, key: &HmacKey, counts: &mut Detections) -> Option<String> {
        let mut hits = Vec::new();
        // The rules' keyword walk goes first: it also tells the gates which of their words
        // occur (src/redact/gates.rs `GATE_WORDS`), so most gates need no search of their own.
        let rule_set = self.rules.as_ref().map(|r| r.current());
        let mut found = Vec::new();
        let mut facts = Facts::default();
        if let Some(rs) = &rule_set {
            let work = rs.scan(text, &mut found);
            facts.learn_gate_words(text, work.gate_words);
        }
        // `matches` allocates its answer on every call; almost no text has a match.
        let in_set = self
            .set
            .as_ref()
            .filter(|set| set.is_match(text))
            .map(|set| set.matches(text))
            .into_iter()
            .flat_map(|m| m.into_iter().map(|i| self.set_members[i]));
        let gated = self.gated.iter().copied().filter(move |&di| {
            let c = &self.list[di];
            SPECS[c.spec].gate.passes_with(text, &mut facts)
        });
        {
            for di in in_set.chain(gated) {
                let c = &self.list[di];
                let validate = SPECS[c.spec].validate;
                let mut push = |s: usize, e: usize| {
                    let r = match validate {
                        Some(v) => v(text, s, e),
                        None => Some((s, e)),
                    };
                    if let Some((start, end)) = r {
                        if start < end {
                            hits.push(Hit {
                                start,
                                end,
                                rank: 1,
                                by: Finder::Builtin(di),
                            });
                        }
                    }
                };
                if c.grouped {
                    for caps in c.re.captures_iter(text) {
                        if let Some(g) = caps.get(1) {
                            push(g.start(), g.end());
                        }
                    }
                } else {
                    for m in c.re.find_iter(text) {
                        push(m.start(), m.end());
                    }
                }
            }
        }
        if let Some(rs) = &rule_set {
            // Where a rule's allowlist names a known non-secret (gitleaks' example keys,
            // placeholders), the built-in secret detectors defer to it.
            let safe: Vec<(usize, usize)> = found
                .iter()
                .filter(|f| f.allowlisted)
                .map(|f| (f.start, f.end))
                .collect();
            if !safe.is_empty() {
                hits.retain(|h| match h.by {
                    Finder::Builtin(di) if SPECS[self.list[di].spec].group == Group::Secrets => {
                        !safe.iter().any(|&(s, e)| h.start < e && s < h.end)
                    }
                    _ => true,
                });
            }
            hits.extend(found.into_iter().filter(|f| !f.allowlisted).map(|f| Hit {
                start: f.start,
                end: f.end,
                rank: if rs.rules[f.rule].generic { 2 } else { 0 },
                by: Finder::Rule(f.rule),
            }));
        }
        if hits.is_empty() {
            return None;
        }
        hits.sort_by_key(|h| (h.start, h.rank, h.by_order()));
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut i = 0;
        while i < hits.len() {
            // A secret rule's hit and the hits it overlaps are one mask over their union,
            // named by the best-ranked. Built-in hits that overlap only built-in hits keep
            // their own rule: the first wins and the rest are looked for again next pass.
            let (start, mut end, mut best) = (hits[i].start, hits[i].end, hits[i]);
            let mut has_rule = best.is_rule();
            i += 1;
            while i < hits.len() && hits[i].start < end {
                let h = hits[i];
                i += 1;
                if !has_rule && !h.is_rule() {
                    continue;
                }
                has_rule = true;
                end = end.max(h.end);
                if h.rank < best.rank {
                    best = h;
                }
            }
            out.push_str(&text[last..start]);
            let found = &text[start..end];
            match best.by {
                Finder::Builtin(di) => {
                    let c = &self.list[di];
                    write_mask(&mut out, &c.replacement, key, found);
                    counts.add_builtin(c.spec);
                }
                Finder::Rule(ri) => {
                    let id = &rule_set.as_ref().expect("rule hits come from a set").rules[ri].id;
                    match self.rule_replacements.get(&**id) {
                        Some(r) => write_mask(&mut out, r, key, found),
                        None => {
                            out.push_str("<REDACTED:");
                            out.push_str(id);
                            out.push('>');
                        }
                    }
                    counts.add_rule(id);
                }
            }
            last = end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }
}

impl Hit {
    fn is_rule(&self) -> bool {
        matches!(self.by, Finder::Rule(_))
    }

    /// Tie-break at equal start and rank: built-ins in list order, then rules in file order.
    fn by_order(&self) -> (u8, usize) {
        match self.by {
            Finder::Builtin(i) => (0, i),
            Finder::Rule(i) => (1, i),
        }
    }
}

fn write_mask(out: &mut String, r: &Replacement, key: &HmacKey, found: &str) {
    match r {
        Replacement::Fixed(t) => out.push_str(t),
        Replacement::Hashed(a, b) => {
            out.push_str(a);
            out.push_str(&hmac_sha256_hex(key, found)[..16]);
            out.push_str(b);
        }
    }
}

fn idx(f: impl Fn(&Spec) -> bool) -> Vec<usize> {
    SPECS
        .iter()
        .enumerate()
        .filter(|(_, s)| f(s))
        .map(|(i, _)| i)
        .collect()
}

// ---- validators ----

/// A PEM block with a key in it: at least 32 base64 characters between the markers (not an
/// empty or `...` placeholder block from documentation).
fn pem_body(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t[s..e];
    let body_start = v[5..].find("-----").map_or(0, |p| p + 10);
    let body_end = v.rfind("-----END").unwrap_or(v.len());
    let body = v.get(body_start..body_end).unwrap_or("");
    let key_chars = body
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .count();
    (key_chars >= 32).then_some((s, e))
}

fn has_digit_and_letter(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t[s..e];
    (v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic()))
        .then_some((s, e))
}

/// A secret-looking `key=value`: the value has a digit or symbol, or is long. Keeps prose such
/// as "password: required" intact, and placeholders: variable references (`$API_KEY`,
/// `${TOKEN}`, `{{ secret }}`, `%PASS%`), constant names (`ACCESS_TOKEN`) and filler such as
/// `xxxxxxxx` or `fo1_xxxxxxxxxxxx` (under 2 bits of entropy per character).
fn secret_value(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t[s..e];
    let plain_word = v.bytes().all(|b| b.is_ascii_alphabetic());
    let variable = v.starts_with('$')
        || v.starts_with("{{")
        || (v.len() > 2 && v.starts_with('%') && v.ends_with('%'));
    let constant_name = v.contains('_')
        && v.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        && !v.starts_with('_');
    let filler = super::secret_rules::rule_set::shannon_entropy(v) < 2.0;
    let short_word = plain_word && v.len() < 16;
    (!(short_word || variable || constant_name || filler)).then_some((s, e))
}

/// `Basic <base64>` only when it decodes to printable `user:password`.
fn basic_credentials(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let decoded = base64_decode(&t.as_bytes()[s..e])?;
    (decoded.contains(&b':') && decoded.iter().all(|b| (0x20..0x7f).contains(b))).then_some((s, e))
}

fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "js", "ts", "css", "py", "rs", "go", "json",
    "yaml", "yml", "txt", "md", "html", "lock",
];

/// Rejects `name@2x.png`-style file names that look like addresses.
fn email_tld(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t.as_bytes()[s..e];
    let tld = &v[v.iter().rposition(|&c| c == b'.').map_or(0, |dot| dot + 1)..];
    let file = FILE_EXTENSIONS
        .iter()
        .any(|x| x.as_bytes().eq_ignore_ascii_case(tld));
    (!file).then_some((s, e))
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = (d - b'0') as u32;
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// Issuer prefixes and lengths of the major networks: keeps timestamps and ids out.
fn card_network(d: &[u8]) -> bool {
    let n = d.len();
    let p = |k: usize| -> u32 { d[..k].iter().fold(0u32, |a, b| a * 10 + (b - b'0') as u32) };
    match d[0] {
        b'4' => matches!(n, 13 | 16 | 19),                // Visa
        b'5' => (51..=55).contains(&p(2)) && n == 16,     // Mastercard
        b'2' => (2221..=2720).contains(&p(4)) && n == 16, // Mastercard 2-series
        b'3' => {
            (matches!(p(2), 34 | 37) && n == 15)                           // Amex
            || (p(2) == 35 && (16..=19).contains(&n))                          // JCB
            || (matches!(p(2), 36 | 38 | 39) || (300..=305).contains(&p(3))) && (14..=19).contains(&n)
        } // Diners
        b'6' => {
            (p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3)) || p(2) == 62)
                && (16..=19).contains(&n)
        } // Discover, UnionPay
        _ => false,
    }
}

/// A card number passes Luhn and a network prefix; when a longer run fails, shorter runs
/// ending at a separator are tried (a card followed by more digit groups).
fn card(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t.as_bytes()[s..e];
    let seps: Vec<u8> = v.iter().copied().filter(|b| !b.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return None; // mixed separators: not how card numbers are written
    }
    let mut ends: Vec<usize> = vec![v.len()];
    ends.extend(
        v.iter()
            .enumerate()
            .rev()
            .filter(|(_, b)| !b.is_ascii_digit())
            .map(|(i, _)| i),
    );
    for end in ends {
        let digits: Vec<u8> = v[..end]
            .iter()
            .copied()
            .filter(|b| b.is_ascii_digit())
            .collect();
        if (13..=19).contains(&digits.len()) && card_network(&digits) && luhn(&digits) {
            return Some((s, s + end));
        }
    }
    None
}

/// SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000.
fn ssn(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t.as_bytes()[s..e];
    let area = &v[0..3];
    let ok = area != b"000"
        && area != b"666"
        && area[0] != b'9'
        && &v[4..6] != b"00"
        && &v[7..11] != b"0000";
    ok.then_some((s, e))
}

fn iban_ok(chars: &[u8]) -> bool {
    if !(15..=34).contains(&chars.len()) {
        return false;
    }
    let mut rem = 0u32;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        let v = match c {
            b'0'..=b'9' => (c - b'0') as u32,
            b'A'..=b'Z' => (c - b'A') as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// IBAN by the ISO 13616 mod-97 check; trailing groups are shed until it validates
/// (an IBAN followed by an upper-case word).
fn iban(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t.as_bytes()[s..e];
    let mut end = v.len();
    loop {
        let chars: Vec<u8> = v[..end].iter().copied().filter(|b| *b != b' ').collect();
        if chars.len() < 15 {
            return None;
        }
        if iban_ok(&chars) {
            return Some((s, s + end));
        }
        end = v[..end].iter().rposition(|b| *b == b' ')?;
    }
}

fn phone(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t[s..e];
    let digits = v.bytes().filter(|b| b.is_ascii_digit()).count();
    if !(10..=15).contains(&digits) {
        return None;
    }
    // Unbalanced parentheses mean the pattern cut through something else.
    (v.matches('(').count() == v.matches(')').count()).then_some((s, e))
}

/// Rejects dotted runs longer than four parts (OIDs, version strings like 1.2.3.4.5).
fn ipv4(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let b = t.as_bytes();
    let dotted_before = s >= 2 && b[s - 1] == b'.' && b[s - 2].is_ascii_digit();
    let dotted_after = e + 1 < b.len() && b[e] == b'.' && b[e + 1].is_ascii_digit();
    (!dotted_before && !dotted_after).then_some((s, e))
}

/// Must parse as an address and have three or more written groups (not `a::b`, clock times
/// or MAC addresses).
fn ipv6(t: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let v = &t[s..e];
    let groups = v.split(':').filter(|g| !g.is_empty()).count();
    let b = t.as_bytes();
    let glued = (s > 0 && (b[s - 1] == b':' || b[s - 1].is_ascii_alphanumeric()))
        || (e < b.len() && b[e] == b':');
    (groups >= 3 && !glued && v.parse::<std::net::Ipv6Addr>().is_ok()).then_some((s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Detectors {
        Detectors::new(&["all".into()], &Default::default(), &HmacKey::default()).unwrap()
    }

    fn red(d: &Detectors, t: &str) -> String {
        let mut c = Detections::default();
        d.redact(t, &HmacKey::default(), &mut c)
            .unwrap_or_else(|| t.to_string())
    }

    #[test]
    fn validators() {
        assert!(luhn(b"4111111111111111"));
        assert!(!luhn(b"4111111111111112"));
        assert!(iban_ok(b"GB82WEST12345698765432"));
        assert!(!iban_ok(b"GB82WEST12345698765433"));
        assert_eq!(base64_decode(b"dXNlcjpwYXNz").unwrap(), b"user:pass");
    }

    #[test]
    fn only_the_group_is_masked() {
        let d = all();
        assert_eq!(
            red(&d, "postgres://app:hunter22@db.internal:5432/x"),
            "postgres://app:<REDACTED:url_credentials>@db.internal:5432/x"
        );
        assert_eq!(
            red(&d, "Authorization: Basic dXNlcjpwYXNzd29yZA=="),
            "Authorization: Basic <REDACTED:basic_auth>"
        );
    }

    #[test]
    fn card_followed_by_more_groups() {
        let d = all();
        assert_eq!(
            red(&d, "card 4111 1111 1111 1111 20 ok"),
            "card <REDACTED:credit_card> 20 ok"
        );
    }

    #[test]
    fn unknown_name_is_an_error_naming_the_index() {
        let e = Detectors::new(&["emails".into()], &Default::default(), &HmacKey::default())
            .err()
            .unwrap();
        assert!(e.contains("detectors[0]") && e.contains("emails"), "{e}");
    }

    #[test]
    fn hash_placeholder_needs_a_key() {
        let mut r = std::collections::BTreeMap::new();
        r.insert("email".to_string(), "<email:{hash}>".to_string());
        assert!(Detectors::new(&["email".into()], &r, &HmacKey::default()).is_err());
    }
}
