//! Go (RE2) regular-expression syntax, as gitleaks rule files are written, rewritten for the
//! Rust `regex` crate with Go's meaning.
//!
//! The two dialects share almost everything. The differences that change what a rule
//! matches, and what this rewrite does about each:
//! - `\w`, `\d`, `\s`, `\b` are ASCII in Go and Unicode in Rust: written out as ASCII classes
//!   and `(?-u:\b)`. This is also what keeps the fast DFA engines usable on non-ASCII prompts
//!   and keeps the compiled size of `[\w.-]{0,50}`-style prefixes small.
//! - A `{` that does not start a valid repetition is a literal in Go and an error in Rust:
//!   escaped. A lone `}` is escaped too.
//! - Inside a class, `[` is a literal in Go but opens a nested class in Rust, and `&&`, `~~`
//!   are set operators in Rust: escaped (POSIX classes such as `[[:alnum:]]` stay).
//! - `\Q...\E` quoting exists only in Go: turned into escaped literals.
//! - `\0`-style octal escapes: turned into `\x{..}`.
//!
//! Anything Rust still refuses (look-around, back-references: Go refuses them too) fails
//! when the rule is compiled, with the rule named.

/// Go's `\s`: tab, newline, form feed, carriage return, space (no vertical tab).
const SPACE: &str = r"\t\n\x0C\r ";
const WORD: &str = "0-9A-Za-z_";
const DIGIT: &str = "0-9";

/// Rewrites a Go pattern; the error says what could not be rewritten.
pub fn to_rust(go: &str) -> Result<String, String> {
    let chars: Vec<char> = go.chars().collect();
    let mut out = String::with_capacity(go.len() + 16);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i = escape(&chars, i, false, &mut out)?,
            '[' => i = class(&chars, i, &mut out)?,
            '{' => match repetition(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..end]);
                    i = end;
                }
                None => {
                    out.push_str(r"\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// `{n}`, `{n,}` or `{n,m}` at `i`: the index after it.
fn repetition(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let digits = |j: &mut usize| {
        let s = *j;
        while *j < chars.len() && chars[*j].is_ascii_digit() {
            *j += 1;
        }
        *j > s
    };
    if !digits(&mut j) {
        return None;
    }
    if chars.get(j) == Some(&',') {
        j += 1;
        digits(&mut j);
    }
    (chars.get(j) == Some(&'}')).then_some(j + 1)
}

/// One escape starting at `chars[i] == '\\'`; returns the index after it.
fn escape(chars: &[char], i: usize, in_class: bool, out: &mut String) -> Result<usize, String> {
    let Some(&c) = chars.get(i + 1) else {
        return Err("trailing backslash".into());
    };
    let perl = |set: &str, negated: bool, out: &mut String| match (in_class, negated) {
        (true, false) => out.push_str(set),
        // A negated class inside a class: Rust nests classes, which is a union.
        (_, true) => {
            out.push_str("[^");
            out.push_str(set);
            out.push(']');
        }
        (false, false) => {
            out.push('[');
            out.push_str(set);
            out.push(']');
        }
    };
    match c {
        'w' => perl(WORD, false, out),
        'W' => perl(WORD, true, out),
        'd' => perl(DIGIT, false, out),
        'D' => perl(DIGIT, true, out),
        's' => perl(SPACE, false, out),
        'S' => perl(SPACE, true, out),
        'b' | 'B' if !in_class => {
            out.push_str("(?-u:\\");
            out.push(c);
            out.push(')');
        }
        'Q' => {
            let mut j = i + 2;
            while j < chars.len() && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'E')) {
                let mut buf = [0u8; 4];
                out.push_str(&regex::escape(chars[j].encode_utf8(&mut buf)));
                j += 1;
            }
            return Ok(if j < chars.len() { j + 2 } else { j });
        }
        '1'..='7' if !chars.get(i + 2).is_some_and(|d| ('0'..='7').contains(d)) => {
            return Err(format!(
                "\\{c}: back-references are not supported (nor in Go)"
            ));
        }
        '0'..='7' => {
            // Go: an octal escape of up to three digits (a lone `\1`-`\7` would be a
            // back-reference, refused above).
            let mut j = i + 1;
            let mut v = 0u32;
            while j < chars.len() && j < i + 4 && ('0'..='7').contains(&chars[j]) {
                v = v * 8 + chars[j] as u32 - '0' as u32;
                j += 1;
            }
            out.push_str(&format!("\\x{{{v:x}}}"));
            return Ok(j);
        }
        'p' | 'P' | 'x' if chars.get(i + 2) == Some(&'{') => {
            // `\p{Greek}`, `\x{41}`: copied whole, braces included.
            let close = chars[i + 2..]
                .iter()
                .position(|&b| b == '}')
                .ok_or("unclosed \\p{ or \\x{")?;
            out.extend(&chars[i..i + 3 + close]);
            return Ok(i + 3 + close);
        }
        _ => {
            out.push('\\');
            out.push(c);
        }
    }
    Ok(i + 2)
}

/// A bracketed class starting at `chars[i] == '['`; returns the index after its `]`.
fn class(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    let mut j = i + 1;
    if chars.get(j) == Some(&'^') {
        out.push('^');
        j += 1;
    }
    // A `]` first in the class is a literal in Go.
    if chars.get(j) == Some(&']') {
        out.push_str(r"\]");
        j += 1;
    }
    while j < chars.len() {
        match chars[j] {
            ']' => {
                out.push(']');
                return Ok(j + 1);
            }
            '\\' => j = escape(chars, j, true, out)?,
            '[' => match posix_class_end(chars, j) {
                Some(end) => {
                    out.extend(&chars[j..end]);
                    j = end;
                }
                None => {
                    out.push_str(r"\[");
                    j += 1;
                }
            },
            c @ ('&' | '~') => {
                out.push('\\');
                out.push(c);
                j += 1;
            }
            c => {
                out.push(c);
                j += 1;
            }
        }
    }
    Err("missing closing ]".into())
}

/// `[:name:]` or `[:^name:]` at `j`: the index after it.
fn posix_class_end(chars: &[char], j: usize) -> Option<usize> {
    if chars.get(j + 1) != Some(&':') {
        return None;
    }
    let mut k = j + 2;
    if chars.get(k) == Some(&'^') {
        k += 1;
    }
    let start = k;
    while k < chars.len() && chars[k].is_ascii_lowercase() {
        k += 1;
    }
    (k > start && chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&']')).then_some(k + 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn re(go: &str) -> Regex {
        Regex::new(&to_rust(go).unwrap()).unwrap()
    }

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert!(!re(r"^\w+$").is_match("héllo"));
        assert!(re(r"^\w+$").is_match("hello_1"));
        assert!(!re(r"^[\w.-]+$").is_match("a·b"));
        assert!(re(r"^[\w.-]+$").is_match("a.b-c"));
        assert!(!re(r"^\d$").is_match("٣"));
        assert!(!re(r"^\s$").is_match("\u{a0}"));
        assert!(
            !re(r"^\s$").is_match("\u{b}"),
            "Go's \\s has no vertical tab"
        );
        assert!(re(r"^[^\S]$").is_match(" "));
        assert!(re(r"^[\W]$").is_match("-"));
        // ASCII word boundary: "é" is not a word character, so "x" after it starts a word.
        assert!(re(r"\bx").is_match("éx"));
    }

    #[test]
    fn go_literals_that_rust_would_reject_or_read_otherwise() {
        assert!(re(r"^\${(?:[A-Z_]+|[a-z_]+)}$").is_match("${HOME}"));
        assert!(re(r"^\{\{[ \t]*[\w ().|]+[ \t]*}}$").is_match("{{ .Values.x }}"));
        assert!(re(r"^a{2}$").is_match("aa"));
        assert!(re(r"^a{1,}b{0,2}$").is_match("aab"));
        assert!(re(r"^x{,2}$").is_match("x{,2}"), "not a repetition in Go");
        assert!(re(r"^[[]$").is_match("["));
        assert!(re(r"^[]a]$").is_match("]"));
        assert!(re(r"^[^]]+$").is_match("abc"));
        assert!(re(r"^[a&&b]+$").is_match("&"));
        assert!(re(r"^[[:alnum:]]+$").is_match("aZ9"));
        assert!(re(r"^\Qa.b*\E$").is_match("a.b*"));
        assert!(!re(r"^\Qa.b\E$").is_match("axb"));
        assert!(re(r"^\101$").is_match("A"));
        assert!(re(r"^\x60\x{41}$").is_match("`A"));
        assert!(re(r"^\p{Greek}$").is_match("λ"));
    }

    #[test]
    fn flags_and_groups_pass_through() {
        let r = re(r"\b(p8e-(?i)[a-z0-9]{4})(?:[\x60'\s;]|\\[nr]|$)");
        assert_eq!(&r.captures("p8e-AbC9;").unwrap()[1], "p8e-AbC9");
        assert!(re(r"(?P<k>a)(?<v>b)").is_match("ab"));
    }

    #[test]
    fn errors_are_reported_not_hidden() {
        assert!(to_rust(r"[abc").is_err());
        assert!(to_rust("abc\\").is_err());
        // Look-around passes the rewrite and fails compilation, with the rule named there.
        assert!(Regex::new(&to_rust(r"a(?=b)").unwrap()).is_err());
    }
}
