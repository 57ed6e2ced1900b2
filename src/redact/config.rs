//! The `redaction` block: contrib's `redaction` processor keys, plus Tollbooth's detectors,
//! GenAI content policy, truncation and span dropping.
//!
//! A contrib block moved over unchanged must behave the same, so every contrib key keeps its
//! name, default and meaning; the additions all default to "off" except truncation, the
//! sensitive-key rule (on the safe side: it only masks more) and failing closed.

use serde::Deserialize;

/// Verbosity of the per-span audit attributes, as in contrib.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Summary {
    /// Key names and counts (names can leak what was there: for testing a config).
    Debug,
    /// Counts only.
    Info,
    /// No audit attributes. Also the default, and what `""` means: contrib's default config
    /// leaves `summary` empty, which writes nothing (only `info` and `debug` write).
    #[default]
    #[serde(alias = "")]
    Silent,
}

/// contrib's `hash_function` values; empty means "mask with `****`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum HashFunction {
    #[default]
    #[serde(rename = "")]
    None,
    #[serde(rename = "md5")]
    Md5,
    #[serde(rename = "sha1")]
    Sha1,
    /// SHA3-256, as contrib.
    #[serde(rename = "sha3")]
    Sha3,
    #[serde(rename = "hmac-sha256")]
    HmacSha256,
    #[serde(rename = "hmac-sha512")]
    HmacSha512,
}

/// What to do with prompt, completion, system-instruction and tool-argument content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContentPolicy {
    /// Leave content exactly as sent: no detectors, no blocked values.
    Keep,
    /// Mask what the detectors and `blocked_values` find; keep the rest (and JSON structure).
    #[default]
    Redact,
    /// Replace the whole value with a keyed HMAC-SHA256 token (equal content, equal token).
    Hash,
    /// Redact, then cut every text to `max_chars` characters.
    Truncate,
    /// Remove the attribute.
    Drop,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentConfig {
    #[serde(default)]
    pub policy: ContentPolicy,
    /// Characters kept per text by the `truncate` policy.
    #[serde(default = "default_content_chars")]
    pub max_chars: usize,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            policy: ContentPolicy::default(),
            max_chars: default_content_chars(),
        }
    }
}

/// What the collector does with a batch the engine could not process while redaction is
/// configured. Read by the Go processor (`failclosed.go`); parsed here so both sides reject
/// the same mistakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Drop the batch, count it and log an error: nothing leaves unredacted.
    #[default]
    Drop,
    /// Forward it unredacted (explicit opt-in; unsafe).
    Pass,
}

/// One attribute condition for dropping spans: the key is present and its value (as a
/// string) matches `value_pattern` (any value when the pattern is absent).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMatch {
    pub key: String,
    #[serde(default)]
    pub value_pattern: Option<String>,
}

/// Spans dropped before export (health checks, readiness probes), each one counted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DropSpansConfig {
    /// Regexes on the span name.
    #[serde(default)]
    pub name_patterns: Vec<String>,
    /// Span attribute conditions; any one matching drops the span.
    #[serde(default)]
    pub attributes: Vec<AttributeMatch>,
}

/// The whole redaction configuration, as JSON from the Go side (keys as in the YAML).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionConfig {
    // ---- contrib `redaction` keys, same defaults ----
    #[serde(default)]
    pub allow_all_keys: bool,
    /// Fails closed: empty with `allow_all_keys: false` removes every attribute, as contrib.
    #[serde(default)]
    pub allowed_keys: Vec<String>,
    #[serde(default)]
    pub ignored_keys: Vec<String>,
    #[serde(default)]
    pub ignored_key_patterns: Vec<String>,
    #[serde(default)]
    pub blocked_key_patterns: Vec<String>,
    #[serde(default)]
    pub blocked_values: Vec<String>,
    #[serde(default)]
    pub allowed_values: Vec<String>,
    #[serde(default)]
    pub redact_all_types: bool,
    #[serde(default)]
    pub hash_function: HashFunction,
    /// Literal key (the collector expands `${env:…}` before we see it). Never logged.
    #[serde(default)]
    pub hmac_key: String,
    #[serde(default)]
    pub summary: Summary,

    // ---- Tollbooth additions ----
    /// Environment variable holding the HMAC key (read once at start).
    #[serde(default)]
    pub hmac_key_env: Option<String>,
    /// File holding the HMAC key (trailing newline stripped).
    #[serde(default)]
    pub hmac_key_file: Option<String>,
    /// Built-in detectors by name, or the groups `secrets`, `pii`, `all`.
    #[serde(default)]
    pub detectors: Vec<String>,
    /// Replacement per detector name; `{hash}` expands to a 16-hex HMAC token of the match.
    #[serde(default)]
    pub detector_replacements: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub content: ContentConfig,
    /// Longest string value kept, in bytes; longer values are cut with a visible marker.
    /// 0 disables.
    #[serde(default = "default_max_value_bytes")]
    pub max_value_bytes: usize,
    #[serde(default)]
    pub drop_spans: DropSpansConfig,
    /// Secret rules in gitleaks' format (bundled rules plus files); absent = off.
    #[serde(default)]
    pub secret_rules: Option<super::secret_rules::SecretRulesConfig>,
    /// Keys whose string, bytes, array and map values are masked whole whatever they hold
    /// (see `keys`); `[]` turns the rule off.
    #[serde(default = "default_sensitive_keys")]
    pub sensitive_keys: Vec<String>,
    #[serde(default)]
    pub on_error: OnError,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields default")
    }
}

fn default_content_chars() -> usize {
    1000
}

fn default_sensitive_keys() -> Vec<String> {
    super::keys::DEFAULT.iter().map(|s| s.to_string()).collect()
}

fn default_max_value_bytes() -> usize {
    10 * 1024
}

impl RedactionConfig {
    /// Parses the JSON the Go side sends; the error names the offending key.
    pub fn from_json(bytes: &[u8]) -> Result<RedactionConfig, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("invalid redaction configuration: {e}"))
    }

    /// The detectors the default collector config enables: every secret detector plus
    /// email, card, SSN and IBAN (phone and IP addresses are opt-in: noisier, less sensitive).
    pub fn recommended_detectors() -> Vec<String> {
        ["secrets", "email", "credit_card", "us_ssn", "iban"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrib_block_parses_with_contrib_defaults() {
        let c = RedactionConfig::from_json(
            br#"{"allow_all_keys": true, "blocked_values": ["4[0-9]{12}(?:[0-9]{3})?"],
                 "hash_function": "md5", "summary": "debug"}"#,
        )
        .unwrap();
        assert!(c.allow_all_keys);
        assert_eq!(c.hash_function, HashFunction::Md5);
        assert_eq!(c.summary, Summary::Debug);
        let d = RedactionConfig::default();
        assert_eq!(
            d.summary,
            Summary::Silent,
            "contrib's default writes no audit attributes"
        );
        let e = RedactionConfig::from_json(br#"{"summary": ""}"#).unwrap();
        assert_eq!(e.summary, Summary::Silent);
        assert!(!d.allow_all_keys);
        assert_eq!(d.hash_function, HashFunction::None);
        assert_eq!(d.max_value_bytes, 10240);
        assert_eq!(d.content.policy, ContentPolicy::Redact);
    }

    #[test]
    fn unknown_keys_and_values_name_themselves() {
        let e = RedactionConfig::from_json(br#"{"blocked_value": []}"#).unwrap_err();
        assert!(e.contains("blocked_value"), "{e}");
        let e = RedactionConfig::from_json(br#"{"hash_function": "sha256"}"#).unwrap_err();
        assert!(e.contains("sha256"), "{e}");
        let e = RedactionConfig::from_json(br#"{"content": {"policy": "erase"}}"#).unwrap_err();
        assert!(e.contains("erase"), "{e}");
        let e = RedactionConfig::from_json(br#"{"on_error": "ignore"}"#).unwrap_err();
        assert!(e.contains("ignore") && e.contains("drop"), "{e}");
    }

    #[test]
    fn fail_closed_and_sensitive_keys_by_default() {
        let d = RedactionConfig::default();
        assert_eq!(d.on_error, OnError::Drop);
        assert!(d.sensitive_keys.iter().any(|k| k == "password"));
        let c =
            RedactionConfig::from_json(br#"{"on_error": "pass", "sensitive_keys": []}"#).unwrap();
        assert_eq!(c.on_error, OnError::Pass);
        assert!(c.sensitive_keys.is_empty());
    }
}
