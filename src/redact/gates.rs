//! How the built-in detectors' gates (`Gate` in src/redact/detectors.rs) are decided for one
//! text. Almost every text is prose that opens no gate, so the cost is what the gates read:
//! each fact they ask about is worked out at most once per text ([`Facts`]), and gates that
//! look for the same bytes share one search.
//!
//! Each gate gives the same answer as the plain definition in its doc comment (in
//! src/redact/detectors.rs); the tests at the bottom compare both on generated texts, and
//! tests/detector_gates.rs checks the gates against strings generated from the detectors'
//! regexes.

use super::detectors::Gate;

/// The literal of url_credentials' gate; found by the separator walk that the key-word gate
/// makes anyway.
const SCHEME: &str = "://";

/// The words of the `WordAnyCase` gates, in lower case. They start with the same letter, so
/// one search for `b`/`B` answers for both.
const B_WORDS: [&str; 2] = ["basic", "bearer"];

/// secret_param's key words: every alternative of its regex's key words ends in one of them.
const KEY_WORDS: [&str; 6] = ["key", "token", "secret", "password", "passwd", "pwd"];

/// Words without which a gate cannot pass in ASCII text: the secret rules' keyword walk
/// looks for them too (src/redact/secret_rules/rule_set.rs), and a gate whose words it did
/// not find fails without a search of its own. Bit i of a word mask stands for word i.
pub const GATE_WORDS: [&str; 9] = [
    SCHEME,
    B_WORDS[0],
    B_WORDS[1],
    KEY_WORDS[0],
    KEY_WORDS[1],
    KEY_WORDS[2],
    KEY_WORDS[3],
    KEY_WORDS[4],
    KEY_WORDS[5],
];

/// The bits of [`GATE_WORDS`] each gate needs one of.
const SCHEME_BITS: u16 = 1;
const B_WORD_BITS: [u16; 2] = [1 << 1, 1 << 2];
const KEY_WORD_BITS: u16 = 0b1_1111_1000;

impl Gate {
    /// Whether `text` passes; true for every text the gated regex can match in.
    pub fn passes(self, text: &str) -> bool {
        self.passes_with(text, &mut Facts::default())
    }

    /// As [`Gate::passes`], with what earlier gates learnt about `text` kept in `facts`.
    pub(super) fn passes_with(self, text: &str, facts: &mut Facts) -> bool {
        let b = text.as_bytes();
        match self {
            Gate::None => true,
            Gate::Byte(x) => memchr::memchr(x, b).is_some(),
            Gate::Literal(SCHEME) => facts.may_hold(SCHEME_BITS) && facts.separators(text).scheme,
            Gate::Literal(l) => memchr::memmem::find(b, l.as_bytes()).is_some(),
            Gate::DigitRun(n) => facts.digits(b).longest_run >= n,
            Gate::CountryCheckDigits => facts.digits(b).country_check,
            Gate::WordAnyCase(w) => match B_WORDS.iter().position(|x| *x == w) {
                Some(k) => facts.may_hold(B_WORD_BITS[k]) && facts.words(b).passes(k),
                None => word_any_case(b, w.as_bytes()),
            },
            Gate::KeyWordBeforeSeparator => {
                facts.may_hold(KEY_WORD_BITS) && facts.separators(text).key_word
            }
        }
    }
}

/// What the gates asked about one text so far, each part worked out on first use.
#[derive(Debug, Default)]
pub(super) struct Facts {
    digits: Option<Digits>,
    words: Option<Words>,
    separators: Option<Separators>,
    /// Which [`GATE_WORDS`] an ASCII text holds, when a keyword walk told; None = unknown.
    gate_words: Option<u16>,
}

impl Facts {
    /// Takes what the secret rules' keyword walk found of [`GATE_WORDS`] in `text`
    /// (`ScanWork::gate_words`). Kept only for ASCII text, where a word's absence settles
    /// its gates: elsewhere Unicode case folding and the gates' own doubts apply.
    pub(super) fn learn_gate_words(&mut self, text: &str, found: Option<u16>) {
        if text.is_ascii() {
            self.gate_words = found;
        }
    }

    /// False only when the text is known to hold none of the gate words in `bits`.
    fn may_hold(&self, bits: u16) -> bool {
        self.gate_words.is_none_or(|w| w & bits != 0)
    }

    fn digits(&mut self, b: &[u8]) -> Digits {
        *self.digits.get_or_insert_with(|| Digits::of(b))
    }

    fn words(&mut self, b: &[u8]) -> Words {
        *self.words.get_or_insert_with(|| Words::of(b))
    }

    fn separators(&mut self, text: &str) -> Separators {
        *self.separators.get_or_insert_with(|| Separators::of(text))
    }
}

/// What the digit gates need from a text, from one walk over its digits.
#[derive(Debug, Clone, Copy, Default)]
struct Digits {
    /// The most ASCII digits in one run, a single space or dash allowed between two.
    longest_run: usize,
    /// Two ASCII capitals right before two ASCII digits (an IBAN's country and check digits).
    country_check: bool,
}

impl Digits {
    fn of(b: &[u8]) -> Digits {
        let mut d = Digits::default();
        let mut from = 0;
        while let Some(start) = next_digit(b, from) {
            d.country_check |= start >= 2
                && start + 1 < b.len()
                && b[start + 1].is_ascii_digit()
                && b[start - 1].is_ascii_uppercase()
                && b[start - 2].is_ascii_uppercase();
            let (end, digits) = run_from(b, start);
            d.longest_run = d.longest_run.max(digits);
            from = end + 1;
        }
        d
    }
}

/// Where the next ASCII digit at or after `from` is. Sixteen bytes are tested per round, as
/// two u64 words ([`digit_bytes`]), so prose costs about one instruction per byte.
fn next_digit(b: &[u8], from: usize) -> Option<usize> {
    let rest = b.get(from..)?;
    let mut blocks = rest.chunks_exact(16);
    for (k, block) in blocks.by_ref().enumerate() {
        let (lo, hi) = block.split_at(8);
        let lo = digit_bytes(u64::from_le_bytes(lo.try_into().expect("eight bytes")));
        let hi = digit_bytes(u64::from_le_bytes(hi.try_into().expect("eight bytes")));
        if lo | hi != 0 {
            let at = if lo != 0 {
                lo.trailing_zeros() / 8
            } else {
                8 + hi.trailing_zeros() / 8
            };
            return Some(from + 16 * k + at as usize);
        }
    }
    let tail = blocks.remainder();
    tail.iter()
        .position(u8::is_ascii_digit)
        .map(|p| b.len() - tail.len() + p)
}

/// The high bit of each byte of `x` (little-endian) that is an ASCII digit, the other bits
/// clear. Per byte `low` (its low seven bits): 185 - low has its high bit set when low <=
/// 0x39, low + 80 when low >= 0x30, and neither sum carries into the next byte.
fn digit_bytes(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low = x & LOW7;
    (ONES * (127 + 0x3a)).wrapping_sub(low) & !x & (low + ONES * (127 - 0x2f)) & HIGH
}

/// Whether `b[i]` belongs to a digit run: a digit, or a single space or dash between two.
fn in_run(b: &[u8], i: usize) -> bool {
    b[i].is_ascii_digit()
        || ((b[i] == b' ' || b[i] == b'-')
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1).is_some_and(u8::is_ascii_digit))
}

/// From a run's first digit: where the run ends and how many digits it has.
fn run_from(b: &[u8], start: usize) -> (usize, usize) {
    let (mut i, mut digits) = (start, 0);
    while i < b.len() {
        if b[i].is_ascii_digit() {
            digits += 1;
        } else if !in_run(b, i) {
            break;
        }
        i += 1;
    }
    (i, digits)
}

/// Which of [`B_WORDS`] occur in any ASCII letter case, from one search for `b`/`B`.
#[derive(Debug, Clone, Copy)]
struct Words {
    /// Unicode case folding maps a few non-ASCII letters to ASCII ones (U+017F to s), so a
    /// text that is not all ASCII passes every word gate.
    ascii: bool,
    found: [bool; B_WORDS.len()],
}

impl Words {
    fn of(b: &[u8]) -> Words {
        let ascii = b.is_ascii();
        let mut found = [false; B_WORDS.len()];
        if ascii {
            for i in memchr::memchr2_iter(b'b', b'B', b) {
                // Most `b`s in prose are not followed by a word's second letter.
                let second = b.get(i + 1).map_or(0, |&c| c | 0x20);
                if !B_WORDS.iter().any(|w| w.as_bytes()[1] == second) {
                    continue;
                }
                for (f, w) in found.iter_mut().zip(B_WORDS) {
                    *f |= b[i..].len() >= w.len()
                        && b[i..i + w.len()].eq_ignore_ascii_case(w.as_bytes());
                }
                if found.iter().all(|&f| f) {
                    break;
                }
            }
        }
        Words { ascii, found }
    }

    fn passes(self, k: usize) -> bool {
        !self.ascii || self.found[k]
    }
}

/// The text contains `w` in any ASCII letter case, or is not all ASCII (as [`Words`]).
fn word_any_case(b: &[u8], w: &[u8]) -> bool {
    if !b.is_ascii() {
        return true;
    }
    let (lo, up) = (w[0].to_ascii_lowercase(), w[0].to_ascii_uppercase());
    memchr::memchr2_iter(lo, up, b)
        .any(|i| b.len() - i >= w.len() && b[i..i + w.len()].eq_ignore_ascii_case(w))
}

/// What one walk over a text's `:` and `=` finds.
#[derive(Debug, Clone, Copy, Default)]
struct Separators {
    /// Some `:` starts [`SCHEME`].
    scheme: bool,
    /// Some separator has a key word before it ([`key_word_before`]).
    key_word: bool,
}

impl Separators {
    fn of(text: &str) -> Separators {
        let b = text.as_bytes();
        let mut s = Separators::default();
        for i in memchr::memchr2_iter(b':', b'=', b) {
            s.scheme |= b[i..].starts_with(SCHEME.as_bytes());
            s.key_word = s.key_word || key_word_before(text, i);
            if s.scheme && s.key_word {
                break;
            }
        }
        s
    }
}

/// secret_param's gate at the separator `text[i]`: its regex needs one of its key words, an
/// optional quote, optional whitespace, then `:` or `=`. Every alternative of its key words
/// ends in one of [`KEY_WORDS`].
fn key_word_before(text: &str, i: usize) -> bool {
    let b = text.as_bytes();
    // The common case, decided from one byte: an ASCII letter no key word ends in, right
    // before the separator (no whitespace or quote to step over), ASCII all around.
    if i >= 8 && b[i - 8..i].is_ascii() {
        let last = b[i - 1];
        let steps_over = (last as char).is_whitespace() || last == b'"' || last == b'\'';
        if !steps_over
            && !KEY_WORDS
                .iter()
                .any(|e| e.as_bytes()[e.len() - 1] == last | 0x20)
        {
            return false;
        }
    }
    // Back over whitespace (Unicode, as the regex's \s), then an optional quote.
    let mut head = text[..i].trim_end_matches(char::is_whitespace).as_bytes();
    if let Some((&q, rest)) = head.split_last() {
        if q == b'"' || q == b'\'' {
            head = rest;
        }
    }
    let tail = &head[head.len().saturating_sub(8)..];
    // Case-insensitive matching folds some non-ASCII letters to ASCII ones (the Kelvin sign
    // to k): near non-ASCII bytes the gate does not judge and lets the regex decide.
    !tail.is_ascii()
        || KEY_WORDS.iter().any(|e| {
            tail.len() >= e.len() && tail[tail.len() - e.len()..].eq_ignore_ascii_case(e.as_bytes())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// The gates as first written, one plain walk each: what the shared walks must agree with.
    mod plain {
        pub fn longest_run(b: &[u8]) -> usize {
            let (mut best, mut i) = (0, 0);
            while i < b.len() {
                if !b[i].is_ascii_digit() {
                    i += 1;
                    continue;
                }
                let mut run = 0;
                while i < b.len() {
                    if b[i].is_ascii_digit() {
                        run += 1;
                        i += 1;
                    } else if (b[i] == b' ' || b[i] == b'-')
                        && i + 1 < b.len()
                        && b[i + 1].is_ascii_digit()
                    {
                        i += 1;
                    } else {
                        break;
                    }
                }
                best = best.max(run);
                i += 1;
            }
            best
        }

        pub fn country_check(b: &[u8]) -> bool {
            b.windows(4).any(|x| {
                x[0].is_ascii_uppercase()
                    && x[1].is_ascii_uppercase()
                    && x[2].is_ascii_digit()
                    && x[3].is_ascii_digit()
            })
        }

        pub fn key_word_before_separator(text: &str) -> bool {
            const ENDINGS: [&[u8]; 6] =
                [b"key", b"token", b"secret", b"password", b"passwd", b"pwd"];
            for i in memchr::memchr2_iter(b':', b'=', text.as_bytes()) {
                let mut head = text[..i].trim_end_matches(char::is_whitespace).as_bytes();
                if let Some((&q, rest)) = head.split_last() {
                    if q == b'"' || q == b'\'' {
                        head = rest;
                    }
                }
                let tail = &head[head.len().saturating_sub(8)..];
                if !tail.is_ascii()
                    || ENDINGS.iter().any(|e| {
                        tail.len() >= e.len()
                            && tail[tail.len() - e.len()..].eq_ignore_ascii_case(e)
                    })
                {
                    return true;
                }
            }
            false
        }
    }

    /// Texts dense in what the gates look for: digits, separators, capitals, key words.
    fn text(rng: &mut rand::rngs::StdRng) -> String {
        const PIECES: [&str; 27] = [
            "0", "7", "42", "1234", "56789", "3 4", "5-6", " ", "-", "  ", "--", "GB", "de", "X",
            "ab", "://", ":", "=", "\"", "'", "\t", "key", "Token", "pwd", "basic", "BEARER", "é",
        ];
        // One text in four may hold the non-ASCII piece (the last).
        let pieces = PIECES.len() - usize::from(rng.random_range(0..4) != 0);
        let n = rng.random_range(0..40);
        (0..n)
            .map(|_| PIECES[rng.random_range(0..pieces)])
            .collect()
    }

    fn gate(name: &str) -> Gate {
        super::super::detectors::SPECS
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .gate
    }

    /// Each gate in `seen` (how often it answered false and true) gave both answers often.
    fn both_answers_common(seen: std::collections::BTreeMap<String, [usize; 2]>) {
        for (name, [no, yes]) in seen {
            assert!(
                no >= 100 && yes >= 100,
                "{name}: false {no}, true {yes} times"
            );
        }
    }

    #[test]
    fn the_shared_walks_agree_with_the_plain_ones() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(15);
        // How often each plain answer was false and true: both must be common.
        let mut seen = std::collections::BTreeMap::<String, [usize; 2]>::new();
        let mut check = |name: String, gate: bool, plain: bool, t: &str| {
            assert_eq!(gate, plain, "{name} on {t:?}");
            seen.entry(name).or_default()[usize::from(plain)] += 1;
        };
        for _ in 0..20_000 {
            let t = text(&mut rng);
            let b = t.as_bytes();
            let longest = plain::longest_run(b);
            for n in [1, 2, 5, 9, 13] {
                let g = Gate::DigitRun(n).passes(&t);
                check(format!("DigitRun({n})"), g, longest >= n, &t);
            }
            let g = gate("iban").passes(&t);
            check("iban".into(), g, plain::country_check(b), &t);
            let g = gate("secret_param").passes(&t);
            check(
                "secret_param".into(),
                g,
                plain::key_word_before_separator(&t),
                &t,
            );
            let g = gate("url_credentials").passes(&t);
            check("url_credentials".into(), g, t.contains(SCHEME), &t);
            for w in B_WORDS {
                let plain = !t.is_ascii() || t.to_ascii_lowercase().contains(w);
                check(w.into(), Gate::WordAnyCase(w).passes(&t), plain, &t);
                check(
                    format!("{w} alone"),
                    word_any_case(b, w.as_bytes()),
                    plain,
                    &t,
                );
            }
        }
        both_answers_common(seen);
    }

    #[test]
    fn digit_bytes_marks_exactly_the_digits() {
        for c in 0..=255u8 {
            for at in 0..8 {
                let mut w = [b'x'; 8];
                w[at] = c;
                w[(at + 3) % 8] = 0xff - c;
                let expect: u64 = (0..8)
                    .filter(|&k| w[k].is_ascii_digit())
                    .map(|k| 0x80 << (8 * k))
                    .sum();
                assert_eq!(digit_bytes(u64::from_le_bytes(w)), expect, "{w:?}");
            }
        }
    }

    #[test]
    fn one_facts_answers_every_gate_as_a_fresh_one_would() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        let gates: Vec<Gate> = super::super::detectors::SPECS
            .iter()
            .map(|s| s.gate)
            .collect();
        for _ in 0..5_000 {
            let t = text(&mut rng);
            let mut facts = Facts::default();
            for &g in gates.iter().rev() {
                assert_eq!(
                    g.passes_with(&t, &mut facts),
                    g.passes(&t),
                    "{g:?} on {t:?}"
                );
            }
        }
    }

    /// Texts where the gate words are often whole, often cut short or split by a separator.
    fn wordy_text(rng: &mut rand::rngs::StdRng) -> String {
        const PIECES: [&str; 22] = [
            "PassWord", "passwd", "SECRET", "secre", "tok", "en", "ke", "y", "pw", "d", "bas",
            "ic", "Bear", "er", ":", "//", "=", " ", "\"", "x", "q", "\u{212a}",
        ];
        let pieces = PIECES.len() - usize::from(rng.random_range(0..4) != 0);
        let n = rng.random_range(0..14);
        let mut t: String = (0..n)
            .map(|_| PIECES[rng.random_range(0..pieces)])
            .collect();
        if rng.random_range(0..2) == 0 {
            t.push_str(&text(rng));
        }
        t
    }

    /// A gate told which of its words the secret rules' keyword walk found (the bundled
    /// rules, as the detectors run them) answers as one that searched the text itself.
    #[test]
    fn gates_told_the_keyword_walks_words_answer_as_before() {
        let rules = crate::redact::secret_rules::build(&Default::default()).unwrap();
        let gates: Vec<Gate> = super::super::detectors::SPECS
            .iter()
            .map(|s| s.gate)
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(17);
        // How often each word gate was false and true, with the walk's word mask set.
        let mut seen = std::collections::BTreeMap::<String, [usize; 2]>::new();
        for _ in 0..20_000 {
            let t = wordy_text(&mut rng);
            let work = rules.scan(&t, &mut Vec::new());
            assert!(work.gate_words.is_some() || t.is_empty(), "{t:?}");
            let mut facts = Facts::default();
            facts.learn_gate_words(&t, work.gate_words);
            let told = facts.gate_words.is_some();
            for &g in &gates {
                let answer = g.passes_with(&t, &mut facts);
                assert_eq!(answer, g.passes(&t), "{g:?} on {t:?}");
                if told
                    && matches!(
                        g,
                        Gate::Literal(_) | Gate::WordAnyCase(_) | Gate::KeyWordBeforeSeparator
                    )
                {
                    seen.entry(format!("{g:?}")).or_default()[usize::from(answer)] += 1;
                }
            }
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
        both_answers_common(seen);
    }

    /// Each gate word is reported exactly when the ASCII-lower-cased text contains it.
    #[test]
    fn the_keyword_walk_reports_each_gate_word_where_it_occurs() {
        let rules = crate::redact::secret_rules::build(&Default::default()).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(18);
        let mut found = [0usize; GATE_WORDS.len()];
        for _ in 0..20_000 {
            let t = wordy_text(&mut rng);
            if t.is_empty() || !t.is_ascii() {
                continue;
            }
            let mask = rules.scan(&t, &mut Vec::new()).gate_words.unwrap();
            let lower = t.to_ascii_lowercase();
            for (i, w) in GATE_WORDS.iter().enumerate() {
                let has = lower.contains(w);
                assert_eq!(mask & (1 << i) != 0, has, "{w} in {t:?}");
                found[i] += usize::from(has);
            }
        }
        assert!(found.iter().all(|&n| n >= 100), "{found:?}");
    }

    #[test]
    fn digit_runs_at_every_offset_and_length() {
        for pad in 0..10 {
            for len in 1..24 {
                let digits: String = (0..len)
                    .map(|k| char::from(b'0' + (k % 10) as u8))
                    .collect();
                for sep in ["", " ", "-"] {
                    let run = digits
                        .chars()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(sep);
                    for t in [
                        format!("{}{run}", "x".repeat(pad)),
                        format!("{}{run}x", "x".repeat(pad)),
                        format!("{}GB{run}", "x".repeat(pad)),
                    ] {
                        assert_eq!(Digits::of(t.as_bytes()).longest_run, len, "{t:?}");
                        assert_eq!(
                            Digits::of(t.as_bytes()).country_check,
                            plain::country_check(t.as_bytes()),
                            "{t:?}"
                        );
                        for n in [9, 13] {
                            assert_eq!(Gate::DigitRun(n).passes(&t), len >= n, "{t:?}");
                        }
                    }
                }
            }
        }
    }
}
