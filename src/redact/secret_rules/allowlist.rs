//! gitleaks allowlists: what keeps a rule's known false positives (placeholders, example
//! keys, template variables) out of redaction.
//!
//! An allowlist holds `regexes` (tested against the secret, the whole match or the line, per
//! `regexTarget`), `stopwords` (substrings of the secret, case-insensitive) and `paths` /
//! `commits`. Telemetry has neither file paths nor commits, so those never match here: an
//! `OR` allowlist that has only them never applies, and an `AND` allowlist that has any of
//! them never applies either (gitleaks behaves the same on text without a path).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex::Regex;

use super::file::AllowlistDoc;
use super::rule_set::compile_regex;

/// What the allowlist's regexes are tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Secret,
    Match,
    Line,
}

/// A finding offered to allowlists.
pub struct Candidate<'a> {
    pub secret: &'a str,
    pub matched: &'a str,
    pub line: &'a str,
}

pub struct Allowlist {
    all_of: bool,
    target: Target,
    /// The patterns joined into one alternation, as gitleaks joins them (so a flag such as
    /// `(?i)` at the start of one pattern reaches the later ones too, exactly as there).
    regex: Option<Regex>,
    /// Lower-cased stopwords, matched against the lower-cased secret.
    stopwords: Option<AhoCorasick>,
    /// Has `paths` or `commits`: conditions that text alone never meets.
    needs_path_or_commit: bool,
}

impl Allowlist {
    /// Compiles one allowlist; `what` names it in errors (file and rule).
    pub fn compile(doc: &AllowlistDoc, what: &str) -> Result<Allowlist, String> {
        let all_of = match doc
            .condition
            .as_deref()
            .unwrap_or("")
            .to_ascii_uppercase()
            .as_str()
        {
            "" | "OR" | "||" => false,
            "AND" | "&&" => true,
            _ => {
                return Err(format!(
                    "{what}: unknown allowlist condition {:?} (expected \"OR\" or \"AND\")",
                    doc.condition.as_deref().unwrap_or("")
                ))
            }
        };
        let target = match doc.regex_target.as_deref().unwrap_or("") {
            "" | "secret" => Target::Secret,
            "match" => Target::Match,
            "line" => Target::Line,
            other => {
                return Err(format!(
                    "{what}: unknown allowlist regexTarget {other:?} (expected \"secret\", \"match\" or \"line\")"
                ))
            }
        };
        if doc.regexes.is_empty()
            && doc.stopwords.is_empty()
            && doc.paths.is_empty()
            && doc.commits.is_empty()
        {
            return Err(format!(
                "{what}: an allowlist needs at least one of regexes, stopwords, paths or commits"
            ));
        }
        let regex = if doc.regexes.is_empty() {
            None
        } else {
            let parts = doc
                .regexes
                .iter()
                .map(|p| {
                    super::go_regex::to_rust(p)
                        .map_err(|e| format!("{what}: allowlist regex {p:?}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let joined = format!("(?:{})", parts.join("|"));
            Some(
                compile_regex(&joined)
                    .map_err(|e| format!("{what}: allowlist regexes {:?}: {e}", doc.regexes))?,
            )
        };
        let stopwords = if doc.stopwords.is_empty() {
            None
        } else {
            let words: Vec<String> = doc.stopwords.iter().map(|w| w.to_lowercase()).collect();
            Some(
                AhoCorasickBuilder::new()
                    .build(&words)
                    .map_err(|e| format!("{what}: allowlist stopwords: {e}"))?,
            )
        };
        Ok(Allowlist {
            all_of,
            target,
            regex,
            stopwords,
            needs_path_or_commit: !doc.paths.is_empty() || !doc.commits.is_empty(),
        })
    }

    /// Whether this allowlist lets the candidate through as a non-secret.
    pub fn allows(&self, c: &Candidate) -> bool {
        let target = match self.target {
            Target::Secret => c.secret,
            Target::Match => c.matched,
            Target::Line => c.line,
        };
        // gitleaks: an empty target or secret never matches an allowlist.
        let regex_hit =
            !target.is_empty() && self.regex.as_ref().is_some_and(|r| r.is_match(target));
        let stop_hit = !c.secret.is_empty()
            && self
                .stopwords
                .as_ref()
                .is_some_and(|s| s.is_match(&c.secret.to_lowercase()));
        if self.all_of {
            !self.needs_path_or_commit
                && (self.regex.is_none() || regex_hit)
                && (self.stopwords.is_none() || stop_hit)
        } else {
            regex_hit || stop_hit
        }
    }

    /// Whether this allowlist can ever apply to text (see the module doc).
    pub fn applies_to_text(&self) -> bool {
        if self.all_of {
            !self.needs_path_or_commit
        } else {
            self.regex.is_some() || self.stopwords.is_some()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(f: impl FnOnce(&mut AllowlistDoc)) -> AllowlistDoc {
        let mut d = AllowlistDoc::default();
        f(&mut d);
        d
    }

    fn cand<'a>(secret: &'a str, matched: &'a str, line: &'a str) -> Candidate<'a> {
        Candidate {
            secret,
            matched,
            line,
        }
    }

    #[test]
    fn targets_and_stopwords() {
        let a = Allowlist::compile(&doc(|d| d.regexes = vec![".+EXAMPLE$".into()]), "t").unwrap();
        assert!(a.allows(&cand("AKIAEXAMPLE", "x", "x")));
        assert!(!a.allows(&cand("AKIAREAL", "EXAMPLE", "EXAMPLE")));
        let m = Allowlist::compile(
            &doc(|d| {
                d.regex_target = Some("line".into());
                d.regexes = vec!["--mount=type=secret,".into()];
            }),
            "t",
        )
        .unwrap();
        assert!(m.allows(&cand("s", "m", "RUN --mount=type=secret,id=x")));
        let s = Allowlist::compile(&doc(|d| d.stopwords = vec!["Example".into()]), "t").unwrap();
        assert!(s.allows(&cand("myEXAMPLEkey", "", "")));
        assert!(!s.allows(&cand("", "", "")));
    }

    #[test]
    fn and_needs_every_part_and_paths_never_match_text() {
        let both = Allowlist::compile(
            &doc(|d| {
                d.condition = Some("and".into());
                d.regexes = vec!["^abc".into()];
                d.stopwords = vec!["xyz".into()];
            }),
            "t",
        )
        .unwrap();
        assert!(both.allows(&cand("abcxyz", "", "")));
        assert!(!both.allows(&cand("abc", "", "")));
        let with_path = Allowlist::compile(
            &doc(|d| {
                d.condition = Some("AND".into());
                d.paths = vec![r"\.bb$".into()];
                d.regexes = vec!["LICENSE".into()];
            }),
            "t",
        )
        .unwrap();
        assert!(!with_path.allows(&cand("LICENSE", "LICENSE", "LICENSE")));
        assert!(!with_path.applies_to_text());
        let only_paths = Allowlist::compile(&doc(|d| d.paths = vec!["x".into()]), "t").unwrap();
        assert!(!only_paths.applies_to_text());
    }

    #[test]
    fn joined_like_gitleaks_so_a_leading_flag_reaches_later_patterns() {
        let a = Allowlist::compile(
            &doc(|d| d.regexes = vec!["(?i)^true|false".into(), "^null$".into()]),
            "t",
        )
        .unwrap();
        assert!(a.allows(&cand("NULL", "", "")));
    }

    #[test]
    fn bad_values_name_themselves() {
        let e = Allowlist::compile(
            &doc(|d| {
                d.regex_target = Some("mtach".into());
                d.regexes = vec!["x".into()];
            }),
            "file f, rule r",
        )
        .err()
        .unwrap();
        assert!(e.contains("mtach") && e.contains("rule r"), "{e}");
        assert!(Allowlist::compile(&doc(|_| {}), "t").is_err());
        let e = Allowlist::compile(&doc(|d| d.condition = Some("xor".into())), "t")
            .err()
            .unwrap();
        assert!(e.contains("xor"), "{e}");
    }
}
