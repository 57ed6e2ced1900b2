//! Which rule keywords occur in a value: the one pass every value gets (see rule_set.rs).
//!
//! The pass only needs the SET of keywords present, not where or how often. Aho-Corasick's
//! overlapping iterator reports every occurrence and returns to the caller for each, about
//! 30 instructions per byte on prompt text. Here the automaton is copied once into a small
//! table (one row per state, one column per byte that occurs in some keyword, ASCII case
//! folded), so the walk is a class lookup and a table load per byte (BENCHMARKS.md, "secret
//! rule keywords").
//!
//! Matching is ASCII case-insensitive, as gitleaks lower-cases the text before its keyword
//! test; the caller lower-cases the rare text whose non-ASCII letters fold to ASCII.

use std::collections::HashMap;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, MatchKind};

/// Table entries above this stay with the overlapping iterator (a huge user rule set).
const MAX_TABLE_ENTRIES: usize = 1 << 22;
/// Set in a table entry when the state it leads to ends one or more keywords.
const MATCH_FLAG: u32 = 1 << 31;

/// The keywords of a rule set: a prefiltered searcher that answers "any keyword here?" (a
/// document-level skip) and a table that collects every keyword present in one pass. The
/// pass may also look for words that are no rule's keyword (the detectors' gate words, see
/// src/redact/gates.rs), which `any_in` leaves out.
pub struct Keywords {
    /// Over the searched words only (the first `searched`).
    any: AhoCorasick,
    /// None when the table would be too large; the overlapping iterator of `every` then
    /// does the same job, slower.
    table: Option<Table>,
    /// Over all words, built only when there is no table.
    every: Option<AhoCorasick>,
    count: usize,
}

/// An unanchored Aho-Corasick automaton as a dense table. A byte that occurs in no keyword
/// sends every state back to the start, so all such bytes share column 0.
struct Table {
    /// Byte → column.
    column: [u8; 256],
    columns: usize,
    /// `next[row + column]` = the next state's row (its index × `columns`), with
    /// [`MATCH_FLAG`] when that state ends keywords. The start state is row 0.
    next: Vec<u32>,
    /// Keywords ended by each state, by state index.
    ends: Vec<Vec<u32>>,
    /// The fast walk between keywords; None when it would be too large.
    jump: Option<Jump>,
}

/// The same automaton for the walk between keywords, at four instructions a byte: a row
/// of 256 entries per state (no column lookup, no flag to test), and every move into a state
/// that ends a keyword sent instead to a `dead` state that never leaves. Eight bytes are
/// walked, then one comparison says whether a keyword ended among them; if so they are
/// walked again in [`Table::next`] to find where.
struct Jump {
    /// `entries[state × 256 + byte]` = the next state × 256; padded with unused entries to
    /// a power of two, so an index masked with `len - 1` needs no bounds check.
    entries: Vec<u32>,
    /// The dead state × 256.
    dead: usize,
}

/// A case-insensitive searcher over `words`: a DFA where it fits (its prefilter and
/// transitions are the fastest), else aho-corasick's own choice.
fn searcher(words: &[&str]) -> Result<AhoCorasick, String> {
    let builder = |kind| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(kind)
            .build(words)
    };
    builder(Some(AhoCorasickKind::DFA))
        .or_else(|_| builder(None))
        .map_err(|e| format!("secret rule keywords: {e}"))
}

impl Keywords {
    /// All of `words` are walked for; `any_in` looks only for the first `searched`.
    pub fn new(words: &[&str], searched: usize) -> Result<Keywords, String> {
        let any = searcher(&words[..searched.min(words.len())])?;
        let table = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(words)
            .ok()
            .and_then(|dfa| Table::from_dfa(&dfa, words));
        let every = match table {
            Some(_) => None,
            None => Some(searcher(words)?),
        };
        Ok(Keywords {
            any,
            table,
            every,
            count: words.len(),
        })
    }

    /// Number of keywords (the indexes `each_present` reports are below it).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Whether any keyword occurs in `text`.
    pub fn any_in(&self, text: &str) -> bool {
        self.any.is_match(text)
    }

    /// Calls `found` with the index of every keyword occurring in `text`, at least once
    /// each (possibly more often: the caller keeps a set).
    pub fn each_present(&self, text: &str, mut found: impl FnMut(usize)) {
        match &self.table {
            Some(t) => t.walk(text.as_bytes(), &mut found),
            None => {
                let every = self.every.as_ref().expect("built when there is no table");
                for m in every.find_overlapping_iter(text) {
                    found(m.pattern().as_usize());
                }
            }
        }
    }
}

impl Table {
    /// Copies the automaton's reachable states; None when it is too large.
    fn from_dfa(dfa: &DFA, words: &[&str]) -> Option<Table> {
        let mut column = [0u8; 256];
        let mut representative = vec![0u8]; // column 0: a byte in no keyword
        for &b in words.iter().flat_map(|w| w.as_bytes()) {
            let b = b.to_ascii_lowercase();
            if column[b as usize] == 0 {
                if representative.len() > u8::MAX as usize {
                    return None;
                }
                let c = representative.len() as u8;
                column[b as usize] = c;
                column[b.to_ascii_uppercase() as usize] = c;
                representative.push(b);
            }
        }
        // A byte in no keyword: any byte whose column is still 0 (256 distinct keyword
        // bytes would leave none, and then column 0 is never read).
        if let Some(b) = (0..=255u8).find(|&b| column[b as usize] == 0) {
            representative[0] = b;
        }
        let columns = representative.len();
        let start = dfa.start_state(Anchored::No).ok()?;
        let mut index: HashMap<StateID, u32> = HashMap::from([(start, 0)]);
        let mut order = vec![start];
        let mut next = Vec::new();
        let mut ends = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let sid = order[i];
            ends.push(if dfa.is_match(sid) {
                (0..dfa.match_len(sid))
                    .map(|k| dfa.match_pattern(sid, k).as_u32())
                    .collect()
            } else {
                Vec::new()
            });
            for &b in &representative {
                let to = dfa.next_state(Anchored::No, sid, b);
                let n = order.len() as u32;
                let to_index = *index.entry(to).or_insert_with(|| {
                    order.push(to);
                    n
                });
                let row = (to_index as usize).checked_mul(columns)?;
                if row >= MATCH_FLAG as usize || next.len() >= MAX_TABLE_ENTRIES {
                    return None;
                }
                let flag = if dfa.is_match(to) { MATCH_FLAG } else { 0 };
                next.push(row as u32 | flag);
            }
            i += 1;
        }
        let mut table = Table {
            column,
            columns,
            next,
            ends,
            jump: None,
        };
        table.jump = Jump::of(&table);
        Some(table)
    }

    fn walk(&self, text: &[u8], found: &mut impl FnMut(usize)) {
        let mut row = 0;
        let mut rest = text;
        while let Some(at) = self.run_to_match(rest, &mut row) {
            for &k in &self.ends[row / self.columns] {
                found(k as usize);
            }
            rest = &rest[at + 1..];
        }
    }

    /// Walks `text` from state `row` to the first byte that ends a keyword (its position;
    /// `row` is then the state there). Kept apart from the match handling so the loop keeps
    /// its few values in registers.
    #[inline(never)]
    fn run_to_match(&self, text: &[u8], row: &mut usize) -> Option<usize> {
        let Some(jump) = &self.jump else {
            return self.step_to_match(text, row);
        };
        let mut chunks = text.chunks_exact(8);
        let (mut state, mut at) = ((*row / self.columns) << 8, 0);
        for c in &mut chunks {
            let after = jump.step(c.try_into().expect("chunks of eight"), state);
            if after == jump.dead {
                *row = (state >> 8) * self.columns;
                let k = self.step_to_match(c, row);
                return Some(at + k.expect("the dead state is entered only by ending a keyword"));
            }
            state = after;
            at += 8;
        }
        *row = (state >> 8) * self.columns;
        self.step_to_match(chunks.remainder(), row).map(|k| at + k)
    }

    /// Walks `bytes` from `row` one at a time to the first that ends a keyword (its position,
    /// `row` then the state there); else None, `row` the state after them.
    fn step_to_match(&self, bytes: &[u8], row: &mut usize) -> Option<usize> {
        let mut r = *row;
        for (k, &b) in bytes.iter().enumerate() {
            let entry = self.next[r + self.column[b as usize] as usize];
            if entry & MATCH_FLAG != 0 {
                *row = (entry & !MATCH_FLAG) as usize;
                return Some(k);
            }
            r = entry as usize;
        }
        *row = r;
        None
    }
}

impl Jump {
    /// Spreads `t` to 256 entries per state; None when that is too large.
    fn of(t: &Table) -> Option<Jump> {
        let states = t.ends.len();
        let len = (states + 1).checked_mul(256)?;
        if len > MAX_TABLE_ENTRIES {
            return None;
        }
        let dead = states * 256;
        let mut entries = vec![0u32; len.next_power_of_two()];
        for s in 0..states {
            for b in 0..256 {
                let e = t.next[s * t.columns + t.column[b] as usize];
                let to = if e & MATCH_FLAG != 0 {
                    dead
                } else {
                    e as usize / t.columns * 256
                };
                entries[s * 256 + b] = to as u32;
            }
        }
        entries[dead..dead + 256].fill(dead as u32);
        Some(Jump { entries, dead })
    }

    /// The state (× 256) after walking `bytes` from `state`.
    #[inline(always)]
    fn step(&self, bytes: &[u8; 8], state: usize) -> usize {
        let mask = self.entries.len() - 1;
        let entries = &self.entries[..=mask];
        let mut s = state;
        for &b in bytes {
            s = entries[(s + b as usize) & mask] as usize;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn present(k: &Keywords, text: &str) -> Vec<usize> {
        let mut v = Vec::new();
        k.each_present(text, |i| v.push(i));
        v.sort_unstable();
        v.dedup();
        v
    }

    #[test]
    fn every_keyword_present_is_reported_whatever_its_case_and_overlaps() {
        let words = ["sk", "ask", "key", "eyj", "ghp_", "k"];
        let k = Keywords::new(&words, words.len()).unwrap();
        assert_eq!(present(&k, ""), Vec::<usize>::new());
        assert_eq!(present(&k, "nothing here"), Vec::<usize>::new());
        // "ASK" holds "ask", "sk" and "k"; "KeYJ" holds "key", "eyj" and "k".
        assert_eq!(present(&k, "xASKx"), vec![0, 1, 5]);
        assert_eq!(present(&k, "KeYJ"), vec![2, 3, 5]);
        assert_eq!(present(&k, "token GHP_abc"), vec![4, 5]);
        assert!(k.any_in("a GHP_ b") && !k.any_in("a gh p_ b"));
    }

    #[test]
    fn the_table_and_the_fallback_agree() {
        let words = ["sk", "ask", "key", "eyj", "ghp_", "k", "xoxb-", "AKIA"];
        let fast = Keywords::new(&words, words.len()).unwrap();
        let mut slow = Keywords::new(&words, words.len()).unwrap();
        slow.table = None;
        slow.every = Some(searcher(&words).unwrap());
        assert!(fast.table.as_ref().is_some_and(|t| t.jump.is_some()));
        let mut byte_by_byte = Keywords::new(&words, words.len()).unwrap();
        byte_by_byte.table.as_mut().unwrap().jump = None;
        let texts = [
            "sk-proj-abc keyJ eyJhbGciOi xoxb-1-2 akia ASIA",
            "ééé ask KEY Ghp_",
            "kkkkk",
        ];
        for t in texts {
            assert_eq!(present(&fast, t), present(&slow, t), "{t}");
            assert_eq!(present(&fast, t), present(&byte_by_byte, t), "{t}");
        }
    }

    /// The bundled rule set's keywords against the plain definition (the lower-cased text
    /// contains the keyword), on texts stitched from keyword pieces, filler and case flips.
    #[test]
    fn the_bundled_keywords_are_found_exactly_where_they_occur() {
        let set = crate::redact::secret_rules::build(&Default::default()).unwrap();
        let mut words: Vec<&str> = set
            .rules
            .iter()
            .flat_map(|r| &r.keywords)
            .map(|k| k.as_str())
            .filter(|w| !w.is_empty())
            .collect();
        words.sort_unstable();
        words.dedup();
        assert!(words.len() > 100, "{} keywords", words.len());
        let k = Keywords::new(&words, words.len()).unwrap();
        assert!(k.table.as_ref().is_some_and(|t| t.jump.is_some()));
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut hits = 0;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..next(12) {
                let w = words[next(words.len())];
                let piece = match next(3) {
                    0 => w,
                    1 => &w[..w.len() / 2],
                    _ => &w[w.len() / 3..],
                };
                for c in piece.chars() {
                    text.push(if next(2) == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    });
                }
                text.push_str([" ", "", "-", "\u{e9}", "\n", "x"][next(6)]);
            }
            let lower = text.to_ascii_lowercase();
            let want: Vec<usize> = (0..words.len())
                .filter(|&i| lower.contains(words[i]))
                .collect();
            hits += want.len();
            assert_eq!(present(&k, &text), want, "{text:?}");
        }
        assert!(hits > 2000, "the texts hold keywords ({hits})");
    }
}
