//! Sensitive keys: attributes whose value is a credential whatever it looks like (a password
//! is a password even when no detector recognises its shape). docs/redaction.md explains the
//! rule; in short:
//!
//! - A key is split into lower-case words at every character that is not an ASCII letter or
//!   digit and at camelCase humps (`x-api-key`, `OPENAI_API_KEY`, `openaiApiKey` all end in
//!   the words `api key`).
//! - An entry matches when its words are the key's LAST words. Usage counters share words with
//!   credentials but never end in one: `llm.token_count.prompt` ends in `prompt`,
//!   `gen_ai.usage.input_tokens` in `tokens`, `max_tokens` in `tokens`.
//! - Keys ending in `first token` or `per token` name a measurement of tokens (time to first
//!   token, cost per token) and never match.
//!
//! Only text-bearing values (strings, bytes, arrays, maps) are masked; numbers and booleans
//! are kept, so a count or a timing under an unlucky name survives (see `apply`).

/// The default list (`redaction.sensitive_keys`); `[]` turns the rule off. Entries that a
/// shorter one already covers (`access_token` by `token`) are listed so that removing the
/// short one keeps them.
pub const DEFAULT: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "private_key",
    "secret_key",
    "client_secret",
    "access_token",
    "refresh_token",
    "credentials",
    "credential",
];

/// Trailing words that make a key a measurement about tokens, not a token.
const MEASUREMENTS: &[&[&[u8]]] = &[&[b"first", b"token"], &[b"per", b"token"]];

/// The longest entry we accept, in words (bounds the per-key work).
const MAX_WORDS: usize = 4;

/// A compiled `sensitive_keys` list.
#[derive(Debug, Clone, Default)]
pub struct SensitiveKeys {
    /// Each entry as its lower-case words.
    entries: Vec<Vec<Vec<u8>>>,
    /// The distinct last words of the entries: a key whose last word is none of them is
    /// rejected without looking further (almost every key).
    last: Vec<Vec<u8>>,
    /// Finds `<last word>"` followed by `:` in JSON text: where no JSON object key can be
    /// sensitive, one regex pass says so (see `may_have_json_key`).
    json_hint: Option<regex::Regex>,
}

impl SensitiveKeys {
    /// Compiles the configured entries; the error names the entry and the fix.
    pub fn new(list: &[String]) -> Result<SensitiveKeys, String> {
        let mut entries = Vec::with_capacity(list.len());
        let mut last: Vec<Vec<u8>> = Vec::new();
        for (i, e) in list.iter().enumerate() {
            let words: Vec<Vec<u8>> = Words::new(e.as_bytes())
                .map(|w| w.to_ascii_lowercase())
                .collect();
            if words.is_empty() || words.len() > MAX_WORDS {
                return Err(format!(
                    "redaction.sensitive_keys[{i}]: {e:?} must have 1 to {MAX_WORDS} words of ASCII letters and digits (e.g. \"api_key\")"
                ));
            }
            let w = words.last().expect("not empty");
            if !last.contains(w) {
                last.push(w.clone());
            }
            entries.push(words);
        }
        let json_hint = (!last.is_empty()).then(|| {
            let words: Vec<String> = last
                .iter()
                .map(|w| regex::escape(&String::from_utf8_lossy(w)))
                .collect();
            regex::Regex::new(&format!(r#"(?i)(?:{})"\s*:"#, words.join("|")))
                .expect("escaped words make a valid pattern")
        });
        Ok(SensitiveKeys {
            entries,
            last,
            json_hint,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether JSON text may have an object key that [`Self::matches`]: `false` means none
    /// can (no key ends in the last word of an entry).
    pub fn may_have_json_key(&self, json: &str) -> bool {
        self.json_hint.as_ref().is_some_and(|r| r.is_match(json))
    }

    /// Whether values under `key` are credentials. Keys need not be UTF-8.
    pub fn matches(&self, key: &[u8]) -> bool {
        let mut words: [&[u8]; MAX_WORDS] = [&[]; MAX_WORDS];
        if last_words(key, &mut words[..1]) == 0
            || !self.last.iter().any(|w| w.eq_ignore_ascii_case(words[0]))
        {
            return false;
        }
        let n = last_words(key, &mut words);
        // `words[0]` is the key's last word, `words[1]` the one before, ...
        let ends_with = |entry: &mut dyn Iterator<Item = &[u8]>, len: usize| {
            len <= n
                && entry
                    .zip(words.iter())
                    .all(|(e, w)| w.eq_ignore_ascii_case(e))
        };
        if MEASUREMENTS
            .iter()
            .any(|m| ends_with(&mut m.iter().rev().copied(), m.len()))
        {
            return false;
        }
        self.entries
            .iter()
            .any(|e| ends_with(&mut e.iter().rev().map(Vec::as_slice), e.len()))
    }
}

/// Fills `out` with the key's last words, last first; returns how many.
fn last_words<'a>(s: &'a [u8], out: &mut [&'a [u8]]) -> usize {
    let mut end = s.len();
    let mut n = 0;
    while n < out.len() {
        while end > 0 && !s[end - 1].is_ascii_alphanumeric() {
            end -= 1;
        }
        if end == 0 {
            break;
        }
        let mut start = end - 1;
        while start > 0 && s[start - 1].is_ascii_alphanumeric() && !hump(s, start) {
            start -= 1;
        }
        out[n] = &s[start..end];
        n += 1;
        end = start;
    }
    n
}

/// Whether a new word starts at `i` inside a run of letters and digits: a camelCase hump
/// (`apiKey` at `K`; `APIKey` at `K`, the last capital before a lower-case letter).
fn hump(s: &[u8], i: usize) -> bool {
    let (prev, cur) = (s[i - 1], s[i]);
    let next_lower = s.get(i + 1).is_some_and(u8::is_ascii_lowercase);
    cur.is_ascii_uppercase()
        && (prev.is_ascii_lowercase()
            || prev.is_ascii_digit()
            || (prev.is_ascii_uppercase() && next_lower))
}

/// The words of a key: runs of ASCII letters and digits, split again at camelCase humps
/// (`apiKey` → `api`, `Key`; `APIKey` → `API`, `Key`).
struct Words<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Words<'a> {
    fn new(s: &'a [u8]) -> Self {
        Words { s, pos: 0 }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let s = self.s;
        while self.pos < s.len() && !s[self.pos].is_ascii_alphanumeric() {
            self.pos += 1;
        }
        if self.pos == s.len() {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        while self.pos < s.len() && s[self.pos].is_ascii_alphanumeric() && !hump(s, self.pos) {
            self.pos += 1;
        }
        Some(&s[start..self.pos])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> SensitiveKeys {
        SensitiveKeys::new(&DEFAULT.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn words_split_at_separators_and_humps() {
        let w = |s: &str| -> Vec<String> {
            Words::new(s.as_bytes())
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect()
        };
        assert_eq!(w("x-api-key"), ["x", "api", "key"]);
        assert_eq!(w("openaiApiKey"), ["openai", "Api", "Key"]);
        assert_eq!(w("APIKey"), ["API", "Key"]);
        assert_eq!(w("OPENAI_API_KEY"), ["OPENAI", "API", "KEY"]);
        assert_eq!(
            w("ai.usage.promptTokens"),
            ["ai", "usage", "prompt", "Tokens"]
        );
        assert_eq!(w("oauth2Token"), ["oauth2", "Token"]);
        assert_eq!(w("caf\u{e9}.token"), ["caf", "token"]);
        assert!(w("..--").is_empty());
    }

    #[test]
    fn last_words_read_backwards_as_words_reads_forwards() {
        for key in [
            "x-api-key",
            "openaiApiKey",
            "APIKey",
            "a.b.c.d.e.f",
            "..",
            "",
            "oauth2Token",
        ] {
            let forward: Vec<&[u8]> = Words::new(key.as_bytes()).collect();
            let mut out: [&[u8]; MAX_WORDS] = [&[]; MAX_WORDS];
            let n = last_words(key.as_bytes(), &mut out);
            let backward: Vec<&[u8]> = out[..n].iter().rev().copied().collect();
            assert_eq!(
                backward,
                forward[forward.len().saturating_sub(MAX_WORDS)..],
                "{key}"
            );
        }
    }

    #[test]
    fn credentials_match() {
        let k = default();
        for key in [
            "password",
            "db.password",
            "user_password",
            "PASSWORD",
            "passwd",
            "client_secret",
            "aws.secret",
            "aws_secret_key",
            "token",
            "auth.token",
            "github_token",
            "accessToken",
            "x-auth-token",
            "api_key",
            "apiKey",
            "OPENAI_API_KEY",
            "x-api-key",
            "http.request.header.x-api-key",
            "apikey",
            "http.request.header.authorization",
            "proxy-authorization",
            "http.request.header.cookie",
            "http.response.header.set-cookie",
            "private_key",
            "tls.privateKey",
            "refresh_token",
            "gcp.credentials",
        ] {
            assert!(k.matches(key.as_bytes()), "{key}");
        }
        assert!(k.matches(b"\xff\xfe.password"), "keys need not be UTF-8");
    }

    #[test]
    fn usage_and_ordinary_keys_do_not_match() {
        let k = default();
        for key in [
            "gen_ai.usage.input_tokens",
            "gen_ai.request.max_tokens",
            "llm.token_count.prompt",
            "llm.token_count.completion_details.reasoning",
            "gen_ai.token.type",
            "gen_ai.server.time_to_first_token",
            "llm.time_to_first_token",
            "input_cost_per_token",
            "tokenizer",
            "secret.name",
            "password_reset.sent",
            "cache_key",
            "api_key_id",
            "keyboard",
            "",
        ] {
            assert!(!k.matches(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn json_hint_finds_every_key_that_could_match() {
        let k = default();
        assert!(k.may_have_json_key(r#"{"db_password": "x"}"#));
        assert!(k.may_have_json_key(r#"{"apiKey" : 1}"#));
        assert!(k.may_have_json_key("{\"X-Auth-TOKEN\"\n:\"v\"}"));
        assert!(!k.may_have_json_key(r#"{"role":"user","content":"the key drivers: tokens"}"#));
        assert!(!SensitiveKeys::new(&[])
            .unwrap()
            .may_have_json_key(r#"{"password":1}"#));
    }

    #[test]
    fn empty_list_is_off_and_bad_entries_are_named() {
        assert!(!SensitiveKeys::new(&[]).unwrap().matches(b"password"));
        let e = SensitiveKeys::new(&["ok".into(), "--".into()]).unwrap_err();
        assert!(e.contains("sensitive_keys[1]"), "{e}");
        let custom = SensitiveKeys::new(&["session_id".into()]).unwrap();
        assert!(custom.matches(b"http.session_id") && custom.matches(b"sessionId"));
        assert!(!custom.matches(b"password"));
    }
}
