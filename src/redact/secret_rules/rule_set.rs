//! A compiled set of secret rules and the scan of one value.
//!
//! Cost model: every value gets ONE case-insensitive multi-pattern pass (Aho-Corasick) over
//! all rules' keywords; only the rules whose keywords occur in the value run their regex.
//! Most telemetry values contain no keyword, so most values cost that one pass and nothing
//! else (see BENCHMARKS.md). A rule without keywords runs on every value, as in gitleaks.
//!
//! A regex match becomes a finding as gitleaks decides it: the secret is `secretGroup` (or
//! the first non-empty group, or the whole match), it must have more Shannon entropy than
//! `entropy` when that is set, and no global or rule allowlist may allow it. Composite rules
//! (`required`) need each required rule to match in the same value, within `withinLines` /
//! `withinColumns` when set; `skipReport` rules count only as part of one.

use std::collections::HashMap;
use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use super::allowlist::{Allowlist, Candidate};
use super::file::{Merged, RequiredDoc};
use super::go_regex;
use super::keywords::Keywords;
use crate::redact::gates::GATE_WORDS;

/// Compiled-size limits per regex, the same as for users' other regexes (src/redact/mod.rs):
/// a hostile pattern fails at start instead of eating memory; matching is linear-time anyway.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
const REGEX_DFA_LIMIT: usize = 4 << 20;

pub fn compile_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(n) => {
                format!("the compiled regex exceeds the {n}-byte size limit")
            }
            e => e.to_string(),
        })
}

/// A rule that is in the file but cannot run on telemetry, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub id: String,
    pub reason: &'static str,
}

struct Required {
    rule: usize,
    within_lines: Option<usize>,
    within_columns: Option<usize>,
}

pub struct Rule {
    pub id: Arc<str>,
    /// The compiled regex (Rust syntax, after src/redact/secret_rules/go_regex.rs).
    pub regex: Regex,
    /// Lower-cased keywords; empty = runs on every value.
    pub keywords: Vec<String>,
    secret_group: usize,
    entropy: f64,
    allowlists: Vec<Allowlist>,
    /// gitleaks' `generic-*` rules: a specific rule's name wins when both find one secret.
    pub generic: bool,
    required: Vec<Required>,
    skip_report: bool,
}

/// One finding: the byte range to mask and the rule (index into [`RuleSet::rules`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub rule: usize,
    /// The rule matched here but an allowlist names this a known non-secret (an example
    /// key, a placeholder): nothing to mask, and other detectors leave it alone too.
    pub allowlisted: bool,
}

/// What one scan did, for tests and the benchmark's profile of the prefilter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanWork {
    /// Rules whose regex ran on the value.
    pub regexes_run: usize,
    /// Which of [`GATE_WORDS`] occur in the value (bit i for word i, ASCII case folded);
    /// None when the keyword walk did not look for them.
    pub gate_words: Option<u16>,
}

pub struct RuleSet {
    pub rules: Vec<Rule>,
    keywords: Option<Keywords>,
    /// Keyword index → rules that list it (none for a gate word no rule lists).
    keyword_rules: Vec<Vec<usize>>,
    /// Keyword index → its bit in [`ScanWork::gate_words`] (0 for a word no gate asks about).
    gate_bits: Vec<u16>,
    /// Rules without keywords: they run on every value.
    always: Vec<usize>,
    global: Vec<Allowlist>,
    pub skipped: Vec<Skipped>,
    /// Files the set was built from, in merge order.
    pub files: Vec<String>,
}

impl RuleSet {
    /// Compiles merged files. The error names the file, the rule id and the reason.
    pub fn compile(m: &Merged) -> Result<RuleSet, String> {
        let mut rules = Vec::new();
        let mut skipped = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut pending_required: Vec<(usize, &[RequiredDoc], &str)> = Vec::new();
        let mut keywords_of: Vec<&Vec<String>> = Vec::new();
        for r in &m.rules {
            let d = &r.doc;
            let what = format!("secret rule file {}: rule {:?}", r.file, d.id);
            if d.id.trim().is_empty() {
                return Err(format!(
                    "secret rule file {}: a rule has no id (regex {:?})",
                    r.file,
                    d.regex.as_deref().unwrap_or("")
                ));
            }
            let Some(pattern) = &d.regex else {
                if d.path.is_none() {
                    return Err(format!("{what}: has neither regex nor path"));
                }
                skipped.push(Skipped {
                    id: d.id.clone(),
                    reason: "matches file paths only",
                });
                continue;
            };
            let translated = go_regex::to_rust(pattern)
                .map_err(|e| format!("{what}: regex {pattern:?}: {e}"))?;
            let regex = compile_regex(&translated)
                .map_err(|e| format!("{what}: regex {pattern:?}: {e}"))?;
            let groups = regex.captures_len() - 1;
            let secret_group = d.secret_group.unwrap_or(0);
            if secret_group > groups {
                return Err(format!(
                    "{what}: secretGroup {secret_group} but the regex has only {groups} group(s)"
                ));
            }
            let entropy = d.entropy.unwrap_or(0.0);
            if !entropy.is_finite() || entropy < 0.0 {
                return Err(format!(
                    "{what}: entropy {entropy} is not a non-negative number"
                ));
            }
            let allowlists = d
                .allowlists
                .iter()
                .map(|a| Allowlist::compile(a, &what))
                .collect::<Result<Vec<_>, _>>()?;
            if d.path.is_some() {
                // gitleaks runs such a rule only on files whose path matches.
                skipped.push(Skipped {
                    id: d.id.clone(),
                    reason: "needs a file path to match",
                });
                continue;
            }
            index.insert(d.id.as_str(), rules.len());
            keywords_of.push(&d.keywords);
            if !d.required.is_empty() {
                pending_required.push((rules.len(), &d.required, r.file.as_str()));
            }
            rules.push(Rule {
                id: Arc::from(d.id.as_str()),
                regex,
                keywords: d.keywords.clone(),
                secret_group,
                entropy,
                allowlists: allowlists
                    .into_iter()
                    .filter(|a| a.applies_to_text())
                    .collect(),
                generic: d.id.to_ascii_lowercase().contains("generic"),
                required: Vec::new(),
                skip_report: d.skip_report,
            });
        }
        for (i, reqs, file) in pending_required {
            for q in reqs {
                let Some(&rule) = index.get(q.id.as_str()) else {
                    return Err(format!(
                        "secret rule file {file}: rule {:?}: required rule {:?} does not exist (or needs file paths)",
                        rules[i].id, q.id
                    ));
                };
                rules[i].required.push(Required {
                    rule,
                    within_lines: q.within_lines,
                    within_columns: q.within_columns,
                });
            }
        }
        let mut global = Vec::new();
        for a in &m.allowlists {
            let what = format!("secret rule file {}: [[allowlists]]", a.file);
            let compiled = Allowlist::compile(&a.doc, &what)?;
            if a.targets.is_empty() {
                if compiled.applies_to_text() {
                    global.push(compiled);
                }
                continue;
            }
            for t in &a.targets {
                let Some(&i) = index.get(t.as_str()) else {
                    if skipped.iter().any(|s| &s.id == t) {
                        continue;
                    }
                    return Err(format!("{what}: target rule {t:?} does not exist"));
                };
                if compiled.applies_to_text() {
                    rules[i].allowlists.push(Allowlist::compile(&a.doc, &what)?);
                }
            }
        }
        // One automaton over every distinct keyword; an empty keyword occurs everywhere.
        let mut words: Vec<&str> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, kws) in keywords_of.iter().enumerate() {
            if kws.is_empty() || kws.iter().any(|k| k.is_empty()) {
                always.push(i);
                continue;
            }
            for k in kws.iter() {
                match words.iter().position(|w| w == k) {
                    Some(p) => keyword_rules[p].push(i),
                    None => {
                        words.push(k);
                        keyword_rules.push(vec![i]);
                    }
                }
            }
        }
        let searched = words.len();
        let gate_bits = if words.is_empty() {
            Vec::new()
        } else {
            with_gate_words(&mut words, &mut keyword_rules)
        };
        let keywords = if words.is_empty() {
            None
        } else {
            Some(Keywords::new(&words, searched)?)
        };
        Ok(RuleSet {
            rules,
            keywords,
            keyword_rules,
            gate_bits,
            always,
            global,
            skipped,
            files: m.files.clone(),
        })
    }

    /// Whether any rule could find something in `text` (some keyword occurs, or a rule has
    /// none). A superset test: a JSON leaf is a substring of its document, so a document that
    /// fails it has no leaf that passes.
    pub fn may_match(&self, text: &str) -> bool {
        !self.always.is_empty()
            || self
                .keywords
                .as_ref()
                .is_some_and(|k| k.any_in(text) || k.any_in(&unicode_lower(text)))
    }

    /// Appends the findings in `text`.
    pub fn scan(&self, text: &str, out: &mut Vec<Finding>) -> ScanWork {
        let mut work = ScanWork::default();
        if text.is_empty() {
            return work;
        }
        // Keywords seen, then rules to run: bit sets, since short keywords ("ey", "sk")
        // occur many times in ordinary text.
        // (Allocated on the first keyword: most values have none.)
        let mut seen: Option<Bits> = None;
        if let Some(k) = &self.keywords {
            let mut gate_words = 0;
            k.each_present(&unicode_lower(text), |kw| {
                gate_words |= self.gate_bits[kw];
                if !self.keyword_rules[kw].is_empty() {
                    seen.get_or_insert_with(|| Bits::new(k.count())).insert(kw);
                }
            });
            work.gate_words = Some(gate_words);
        }
        if seen.is_none() && self.always.is_empty() {
            return work;
        }
        let mut run = Bits::new(self.rules.len());
        for kw in seen.iter().flat_map(|s| s.iter()) {
            for &r in &self.keyword_rules[kw] {
                run.insert(r);
            }
        }
        for &r in &self.always {
            run.insert(r);
        }
        let first = out.len();
        let mut composite = false;
        for i in run.iter() {
            let r = &self.rules[i];
            if r.skip_report {
                continue; // found only when a composite rule asks for it
            }
            work.regexes_run += 1;
            composite |= !r.required.is_empty();
            self.find(i, text, out);
        }
        if composite {
            work.regexes_run += self.composites(text, first, out);
        }
        work
    }

    /// What rule `i` alone finds in `text`, keywords not consulted (allowlisted findings
    /// included, marked): for tests that check one rule at a time.
    pub fn rule_findings(&self, i: usize, text: &str) -> Vec<Finding> {
        let mut v = Vec::new();
        self.find(i, text, &mut v);
        v
    }

    /// Findings of rule `i` in `text`.
    fn find(&self, i: usize, text: &str, out: &mut Vec<Finding>) {
        let r = &self.rules[i];
        for caps in r.regex.captures_iter(text) {
            let m = caps.get(0).expect("group 0 always participates");
            // gitleaks trims newlines from the ends of the match.
            let trimmed = m.as_str().trim_matches('\n');
            let t_start =
                m.start() + (m.as_str().len() - m.as_str().trim_start_matches('\n').len());
            let t_end = t_start + trimmed.len();
            let (s, e) = if r.secret_group > 0 {
                caps.get(r.secret_group)
                    .map_or((t_start, t_start), |g| (g.start(), g.end()))
            } else {
                caps.iter()
                    .skip(1)
                    .flatten()
                    .find(|g| !g.is_empty())
                    .map_or((t_start, t_end), |g| (g.start(), g.end()))
            };
            let secret = &text[s..e];
            if r.entropy != 0.0 && shannon_entropy(secret) <= r.entropy {
                continue;
            }
            let line_start = text[..t_start].rfind('\n').map_or(0, |p| p + 1);
            let line_end = text[t_end..].find('\n').map_or(text.len(), |p| t_end + p);
            let c = Candidate {
                secret,
                matched: trimmed,
                line: &text[line_start..line_end],
            };
            let allowlisted = self
                .global
                .iter()
                .chain(&r.allowlists)
                .any(|a| a.allows(&c));
            // An empty secret (an optional group that did not take part) masks the match;
            // otherwise the secret, widened to the token it sits in (see `widen`).
            let (start, end) = if s < e {
                widen(text, s, e, t_start, t_end)
            } else {
                (t_start, t_end)
            };
            if start < end {
                out.push(Finding {
                    start,
                    end,
                    rule: i,
                    allowlisted,
                });
            }
        }
    }

    /// Keeps a composite rule's findings only where all its required rules match nearby,
    /// adding those (they are secrets too); returns the regexes run.
    fn composites(&self, text: &str, first: usize, out: &mut Vec<Finding>) -> usize {
        let mut run = 0;
        let mut aux_cache: HashMap<usize, Vec<Finding>> = HashMap::new();
        let found: Vec<Finding> = out.drain(first..).collect();
        for f in found {
            let r = &self.rules[f.rule];
            if r.required.is_empty() || f.allowlisted {
                out.push(f);
                continue;
            }
            let mut extra = Vec::new();
            let satisfied = r.required.iter().all(|q| {
                let hits = aux_cache.entry(q.rule).or_insert_with(|| {
                    run += 1;
                    let mut v = Vec::new();
                    self.find(q.rule, text, &mut v);
                    v
                });
                let near: Vec<Finding> = hits
                    .iter()
                    .filter(|h| !h.allowlisted && near(text, &f, h, q))
                    .copied()
                    .collect();
                let ok = !near.is_empty();
                extra.extend(near);
                ok
            });
            if satisfied {
                out.push(f);
                out.extend(extra);
            }
        }
        run
    }
}

/// Adds the detectors' gate words (src/redact/gates.rs) to the keywords walked, so one walk
/// per value also tells the gates whether their words occur. A gate word that is already a
/// rule keyword shares its index. Returns each keyword's gate bit.
fn with_gate_words(words: &mut Vec<&str>, keyword_rules: &mut Vec<Vec<usize>>) -> Vec<u16> {
    let mut bits = vec![0u16; words.len()];
    for (i, g) in GATE_WORDS.iter().enumerate() {
        let at = match words.iter().position(|w| w.eq_ignore_ascii_case(g)) {
            Some(p) => p,
            None => {
                words.push(g);
                keyword_rules.push(Vec::new());
                bits.push(0);
                words.len() - 1
            }
        };
        bits[at] |= 1 << i;
    }
    bits
}

/// A small bit set over indices below a fixed bound.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// Sets bit `i`; true when it was not set before.
    fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let new = self.0[w] & b == 0;
        self.0[w] |= b;
        new
    }

    /// Set bits, in increasing order.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// The text the keyword automaton reads. It folds ASCII case itself, which is what
/// gitleaks' lower-casing does for ASCII keywords, except for the two characters whose
/// lower case is ASCII: the Kelvin sign (to `k`) and the dotted capital I (to `i` and a
/// combining dot). Only text holding one of them is lower-cased (rare: a copy).
fn unicode_lower(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.is_ascii() && (text.contains('\u{212A}') || text.contains('\u{130}')) {
        std::borrow::Cow::Owned(text.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Characters inside a token (base64, base64url, hex).
fn token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/')
}

/// Characters that may also end or join a token: base64 padding, `.` and `~` separators.
/// Never widened over leftwards, where they separate a key from its value (`key=...`).
fn token_tail_byte(b: u8) -> bool {
    token_byte(b) || matches!(b, b'=' | b'.' | b'~')
}

/// Widens the secret `[s, e)` over token characters, without leaving the match
/// `[ms, me)`. Most rules capture the whole token, so this changes nothing; a rule whose
/// groups mark a piece of the token (gitleaks' `jwt-base64` takes a header fragment as its
/// secret) still gets the whole token masked.
fn widen(text: &str, mut s: usize, mut e: usize, ms: usize, me: usize) -> (usize, usize) {
    let b = text.as_bytes();
    while s > ms && token_byte(b[s - 1]) {
        s -= 1;
    }
    while e < me && token_tail_byte(b[e]) {
        e += 1;
    }
    (s, e)
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.bytes().filter(|b| *b == b'\n').count();
    let col = at - before.rfind('\n').map_or(0, |p| p + 1);
    (line, col)
}

fn near(text: &str, a: &Finding, b: &Finding, q: &Required) -> bool {
    let (la, ca) = line_col(text, a.start);
    let (lb, cb) = line_col(text, b.start);
    q.within_lines.is_none_or(|n| la.abs_diff(lb) <= n)
        && q.within_columns.is_none_or(|n| ca.abs_diff(cb) <= n)
}

/// Shannon entropy in bits per character, as gitleaks computes it: character frequencies
/// divided by the length in BYTES (so non-ASCII text scores lower than its characters
/// alone would give; kept for the same verdicts).
pub fn shannon_entropy(s: &str) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts: HashMap<char, u32> = HashMap::new();
    let mut ascii = [0u32; 128];
    for c in s.chars() {
        if c.is_ascii() {
            ascii[c as usize] += 1;
        } else {
            *counts.entry(c).or_default() += 1;
        }
    }
    let inv = 1.0 / s.len() as f64;
    ascii
        .iter()
        .copied()
        .chain(counts.into_values())
        .filter(|&n| n > 0)
        .map(|n| {
            let f = n as f64 * inv;
            -f * f.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::secret_rules::file::{parse, Merged, Source};

    struct One(&'static str);
    impl Source for One {
        fn read(&self, _: &str) -> Result<String, String> {
            Ok(self.0.to_string())
        }
        fn bundled(&self) -> (&'static str, &'static str) {
            ("builtin", "")
        }
    }

    fn set(toml: &'static str) -> RuleSet {
        let mut m = Merged::default();
        m.add_file("t.toml", &One(toml)).unwrap();
        RuleSet::compile(&m).unwrap()
    }

    fn found(s: &RuleSet, text: &str) -> Vec<String> {
        let mut v = Vec::new();
        s.scan(text, &mut v);
        v.iter()
            .filter(|f| !f.allowlisted)
            .map(|f| format!("{}:{}", s.rules[f.rule].id, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn entropy_matches_gitleaks() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("ab") - 1.0).abs() < 1e-12);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-12);
        // Per byte: "é" is two bytes, so one character scores 0.5 * -log2(0.5).
        assert!((shannon_entropy("é") - 0.5).abs() < 1e-12);
    }

    #[test]
    fn keywords_gate_the_regex() {
        let s = set(
            "[[rules]]\nid = \"tok\"\nregex = '''\\btok_([a-z0-9]{8})\\b'''\nkeywords = [\"TOK_\"]\n",
        );
        let mut v = Vec::new();
        assert_eq!(s.scan("nothing to see here", &mut v).regexes_run, 0);
        assert!(!s.may_match("nothing to see here"));
        assert_eq!(found(&s, "use Tok_ab12cd34 now"), Vec::<String>::new());
        assert_eq!(
            found(&s, "use tok_ab12cd34 now"),
            ["tok:tok_ab12cd34"],
            "the whole token"
        );
        assert!(s.may_match("TOK_"), "keywords are case-insensitive");
        // As gitleaks lower-cases text: the Kelvin sign is a `k`.
        let k = set(
            "[[rules]]\nid = \"kr\"\nregex = '''(?i)kraken=(\\w+)'''\nkeywords = [\"kraken\"]\n",
        );
        assert_eq!(found(&k, "kra\u{212A}en=abc"), ["kr:abc"]);
        assert!(k.may_match("kra\u{212A}en"));
    }

    #[test]
    fn secret_group_entropy_and_allowlists() {
        let s = set(concat!(
            "[allowlist]\nregexes = ['''^placeholder$''']\n",
            "[[rules]]\nid = \"kv\"\nregex = '''(key)=(\\w+)'''\nsecretGroup = 2\nentropy = 2.0\nkeywords = [\"key\"]\n",
            "[[rules.allowlists]]\nstopwords = [\"example\"]\n",
            "[[rules.allowlists]]\nregexTarget = \"line\"\nregexes = ['''# ignore''']\n",
        ));
        assert_eq!(found(&s, "key=a1b2c3d4"), ["kv:a1b2c3d4"]);
        assert!(found(&s, "key=aaaaaaaa").is_empty(), "low entropy");
        assert!(found(&s, "key=placeholder").is_empty(), "global allowlist");
        assert!(found(&s, "key=myExample99").is_empty(), "stopword");
        assert!(found(&s, "x\nkey=a1b2c3d4 # ignore\n").is_empty(), "line");
        assert_eq!(
            found(&s, "key=a1b2c3d4\n# ignore"),
            ["kv:a1b2c3d4"],
            "other line"
        );
    }

    #[test]
    fn first_nonempty_group_or_whole_match() {
        let s = set(concat!(
            "[[rules]]\nid = \"g\"\nregex = '''(?:a=(x*)|b=(y+));'''\n",
            "[[rules]]\nid = \"w\"\nregex = '''\\nQQ\\d+\\n'''\n",
            "[[rules]]\nid = \"piece\"\nregex = '''ZXlK(?:(?P<a>aGJ)|(?P<b>cGM))[a-z]{3,}'''\n",
        ));
        assert_eq!(found(&s, "b=yy;"), ["g:yy"]);
        assert_eq!(found(&s, "a=;"), ["g:a=;"], "empty group: the whole match");
        assert_eq!(found(&s, "a\nQQ12\nb"), ["w:QQ12"], "newlines trimmed");
        assert_eq!(
            found(&s, "x ZXlKcGMabcdef y"),
            ["piece:ZXlKcGMabcdef"],
            "a group inside a token masks the token"
        );
    }

    #[test]
    fn composite_rules_need_their_partners() {
        let s = set(concat!(
            "[[rules]]\nid = \"pw\"\nregex = '''password\\s*=\\s*\"([^\"]+)\"'''\n",
            "[[rules.required]]\nid = \"user\"\nwithinLines = 1\n",
            "[[rules]]\nid = \"user\"\nregex = '''username\\s*=\\s*\"([^\"]+)\"'''\nskipReport = true\n",
        ));
        assert!(
            found(&s, "username = \"bob\"").is_empty(),
            "skipReport alone"
        );
        assert!(found(&s, "password = \"hunter2\"").is_empty(), "no partner");
        assert_eq!(
            found(&s, "username = \"bob\"\npassword = \"hunter2\""),
            ["pw:hunter2", "user:bob"]
        );
        assert!(found(&s, "username = \"bob\"\n\n\npassword = \"hunter2\"").is_empty());
    }

    #[test]
    fn path_rules_are_skipped_and_listed() {
        let s = set(concat!(
            "[[rules]]\nid = \"p12\"\npath = '''\\.p12$'''\n",
            "[[rules]]\nid = \"yaml\"\npath = '''\\.ya?ml$'''\nregex = 'secret'\n",
        ));
        assert!(s.rules.is_empty());
        let ids: Vec<_> = s.skipped.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["p12", "yaml"]);
    }

    #[test]
    fn hostile_rules_fail_with_file_rule_and_reason() {
        let huge = "[[rules]]\nid = \"big\"\nregex = '''(?:[a-z]{1000}){1000}'''\n";
        let mut m = Merged::default();
        m.add_file("evil.toml", &One(huge)).unwrap();
        let e = RuleSet::compile(&m).err().unwrap();
        assert!(
            e.contains("evil.toml") && e.contains("\"big\"") && e.contains("size limit"),
            "{e}"
        );
        for (body, why) in [
            ("regex = '''a(?=b)'''", "look-around"),
            ("regex = '''(a)\\1'''", "back-reference"),
            ("regex = '''(a)'''\nsecretGroup = 2", "secretGroup 2"),
            ("entropy = 2.0", "neither regex nor path"),
        ] {
            let text: &'static str =
                Box::leak(format!("[[rules]]\nid = \"r\"\n{body}\n").into_boxed_str());
            let mut m = Merged::default();
            m.add_file("u.toml", &One(text)).unwrap();
            let e = RuleSet::compile(&m).err().unwrap();
            assert!(e.contains("u.toml") && e.contains("\"r\""), "{why}: {e}");
        }
        assert!(parse("[[rules]]\nid=1\n", "x").is_err());
    }
}
