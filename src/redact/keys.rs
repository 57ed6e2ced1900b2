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
}

impl SensitiveKeys {
    /// Compiles the configured entries; the error names the entry and the fix.
    pub fn new(list: &[String]) -> Result<SensitiveKeys, String> {
        let mut entries = Vec::with_capacity(list.len());
        for (i, e) in list.iter().enumerate() {
            let words: Vec<Vec<u8>> = Words::new(e.as_bytes())
                .map(|w| w.to_ascii_lowercase())
                .collect();
            if words.is_empty() || words.len() > MAX_WORDS {
                return Err(format!(
                    "redaction.sensitive_keys[{i}]: {e:?} must have 1 to {MAX_WORDS} words of ASCII letters and digits (e.g. \"api_key\")"
                ));
            }
            entries.push(words);
        }
        Ok(SensitiveKeys { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether values under `key` are credentials. Keys need not be UTF-8.
    pub fn matches(&self, key: &[u8]) -> bool {
        if self.entries.is_empty() {
            return false;
        }
        // The last MAX_WORDS words, oldest first once rotated; no allocation per key.
        let mut last: [&[u8]; MAX_WORDS] = [&[]; MAX_WORDS];
        let mut n = 0usize;
        for w in Words::new(key) {
            last[n % MAX_WORDS] = w;
            n += 1;
        }
        let kept = n.min(MAX_WORDS);
        let word = |from_end: usize| last[(n - 1 - from_end) % MAX_WORDS];
        let ends_with = |words: &[&[u8]]| {
            words.len() <= kept
                && words
                    .iter()
                    .rev()
                    .enumerate()
                    .all(|(i, w)| word(i).eq_ignore_ascii_case(w))
        };
        if MEASUREMENTS.iter().any(|m| ends_with(m)) {
            return false;
        }
        self.entries.iter().any(|e| {
            e.len() <= kept
                && e.iter()
                    .rev()
                    .enumerate()
                    .all(|(i, w)| word(i).eq_ignore_ascii_case(w))
        })
    }
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
        while self.pos < s.len() && s[self.pos].is_ascii_alphanumeric() {
            let (prev, cur) = (s[self.pos - 1], s[self.pos]);
            let next_lower = s.get(self.pos + 1).is_some_and(u8::is_ascii_lowercase);
            let hump = cur.is_ascii_uppercase()
                && (prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower));
            if hump {
                break;
            }
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
    fn empty_list_is_off_and_bad_entries_are_named() {
        assert!(!SensitiveKeys::new(&[]).unwrap().matches(b"password"));
        let e = SensitiveKeys::new(&["ok".into(), "--".into()]).unwrap_err();
        assert!(e.contains("sensitive_keys[1]"), "{e}");
        let custom = SensitiveKeys::new(&["session_id".into()]).unwrap();
        assert!(custom.matches(b"http.session_id") && custom.matches(b"sessionId"));
        assert!(!custom.matches(b"password"));
    }
}
