//! Secret rules in gitleaks' format: the rule set security teams keep current, loaded as it
//! is, with the bundled copy (config/secret-rules/gitleaks.toml, MIT, refreshed by
//! `make update-secret-rules`) compiled into the binary.
//!
//! Module map: [`file`] (the TOML format and merging files), [`go_regex`] (Go regex syntax
//! with Go's meaning), [`allowlist`] (what keeps false positives out), [`keywords`] (which keywords a value
//! holds, in one pass), [`rule_set`] (the compiled rules and the scan of one value).
//!
//! ```yaml
//! redaction:
//!   secret_rules:
//!     include_default: true          # the bundled gitleaks rules
//!     files: [./my-rules.toml]       # gitleaks format; later files win by rule id
//!     disabled_rules: [generic-api-key]
//!     reload_interval_seconds: 60    # re-read changed files; 0 = never
//! ```
//!
//! Reload works like the pricing files (src/pricing/book.rs): the host asks at most once per
//! interval, changed files are re-read, and the whole set is swapped at once; a bad file
//! keeps the last good set and the error (file, rule, reason) is kept for the host to log.

pub mod allowlist;
pub mod file;
pub mod go_regex;
pub mod keywords;
pub mod rule_set;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use file::{Merged, Source};
pub use rule_set::{Finding, RuleSet, ScanWork, Skipped};

/// The bundled rule file and where it came from (module, version, checksum).
pub const BUNDLED: &str = include_str!("../../../config/secret-rules/gitleaks.toml");
pub const BUNDLED_SOURCE: &str = include_str!("../../../config/secret-rules/SOURCE");
pub const BUNDLED_LABEL: &str = "builtin:config/secret-rules/gitleaks.toml";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRulesConfig {
    /// Start from the bundled gitleaks rules.
    #[serde(default = "yes")]
    pub include_default: bool,
    /// Rule files in gitleaks' format, merged in order on top of the bundled rules.
    #[serde(default)]
    pub files: Vec<String>,
    /// Rule ids to leave out, whichever file defines them.
    #[serde(default)]
    pub disabled_rules: Vec<String>,
    /// How often changed files are re-read; 0 disables.
    #[serde(default = "sixty")]
    pub reload_interval_seconds: u64,
}

impl Default for SecretRulesConfig {
    fn default() -> Self {
        serde_json::from_str("{}").expect("all fields default")
    }
}

fn yes() -> bool {
    true
}
fn sixty() -> u64 {
    60
}

/// Files on disk, plus the bundled text.
struct Disk;

impl Source for Disk {
    fn read(&self, path: &str) -> Result<String, String> {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("secret rule file {path}: cannot read: {e}"))?;
        if meta.len() > file::MAX_FILE_BYTES as u64 {
            return Err(format!(
                "secret rule file {path}: {} bytes, more than the {}-byte limit",
                meta.len(),
                file::MAX_FILE_BYTES
            ));
        }
        std::fs::read_to_string(path)
            .map_err(|e| format!("secret rule file {path}: cannot read: {e}"))
    }
    fn bundled(&self) -> (&'static str, &'static str) {
        (BUNDLED_LABEL, BUNDLED)
    }
}

/// Modification time and size of each file read; a change in any triggers a reload.
type Stamps = Vec<(String, Option<(SystemTime, u64)>)>;

fn stamps(files: &[String]) -> Stamps {
    files
        .iter()
        .filter(|f| f.as_str() != BUNDLED_LABEL)
        .map(|f| {
            let s = std::fs::metadata(Path::new(f))
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())));
            (f.clone(), s)
        })
        .collect()
}

/// Builds a rule set from the configuration; the error names the file, rule and reason.
pub fn build(c: &SecretRulesConfig) -> Result<RuleSet, String> {
    let mut m = Merged::default();
    if c.include_default {
        m.add_bundled(&Disk)?;
    }
    for f in &c.files {
        m.add_file(f, &Disk)?;
    }
    for id in &c.disabled_rules {
        let before = m.rules.len();
        m.rules.retain(|r| &r.doc.id != id);
        if m.rules.len() == before {
            return Err(format!(
                "secret_rules.disabled_rules: no loaded rule has the id {id:?}"
            ));
        }
    }
    RuleSet::compile(&m)
}

/// What the host reports: counts, skipped rules, files, reloads and the last reload error.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Status {
    pub rules: usize,
    pub skipped: Vec<SkippedRule>,
    pub files: Vec<String>,
    /// `<module> <version> <checksum>` of the bundled file.
    pub bundled_source: String,
    pub reloads: u64,
    pub reload_errors: u64,
    pub last_error: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SkippedRule {
    pub id: String,
    pub reason: String,
}

/// The live rule set: read lock-free on every value, swapped whole on reload.
pub struct SecretRules {
    config: SecretRulesConfig,
    current: ArcSwap<RuleSet>,
    stamps: Mutex<Stamps>,
    last_check: AtomicU64,
    reloads: AtomicU64,
    reload_errors: AtomicU64,
    last_error: Mutex<String>,
}

impl SecretRules {
    /// Loads and compiles the configured rules; any error fails start.
    pub fn load(c: &SecretRulesConfig) -> Result<SecretRules, String> {
        let set = build(c).map_err(|e| format!("secret_rules: {e}"))?;
        Ok(SecretRules {
            config: c.clone(),
            stamps: Mutex::new(stamps(&set.files)),
            current: ArcSwap::from_pointee(set),
            last_check: AtomicU64::new(0),
            reloads: AtomicU64::new(0),
            reload_errors: AtomicU64::new(0),
            last_error: Mutex::new(String::new()),
        })
    }

    /// The set in force; hold the guard for one value.
    pub fn current(&self) -> arc_swap::Guard<Arc<RuleSet>> {
        self.current.load()
    }

    /// Re-reads the files when the interval has passed since the last check and any file
    /// changed. `Some(Ok(true))` = swapped in, `Some(Err)` = kept the last good set.
    pub fn reload_if_due(&self, now_unix_nano: u64) -> Option<Result<bool, String>> {
        let interval = self.config.reload_interval_seconds;
        if interval == 0 {
            return None;
        }
        let last = self.last_check.load(Ordering::Relaxed);
        if last != 0 && now_unix_nano.saturating_sub(last) < interval.saturating_mul(1_000_000_000)
        {
            return None;
        }
        // One caller per interval does the work.
        self.last_check
            .compare_exchange(
                last,
                now_unix_nano.max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()?;
        if last == 0 {
            return None; // the first call only starts the clock: the files were just read
        }
        Some(self.reload_if_changed())
    }

    /// Re-reads the files if any changed (a few `stat` calls otherwise).
    pub fn reload_if_changed(&self) -> Result<bool, String> {
        let mut st = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
        let files: Vec<String> = st.iter().map(|(f, _)| f.clone()).collect();
        let now = stamps(&files);
        if *st == now {
            return Ok(false);
        }
        // Remember the stamps even on failure, so a bad file is reported once, not per tick.
        *st = now;
        match build(&self.config) {
            Ok(set) => {
                *st = stamps(&set.files);
                self.current.store(Arc::new(set));
                self.reloads.fetch_add(1, Ordering::Relaxed);
                Ok(true)
            }
            Err(e) => {
                self.reload_errors.fetch_add(1, Ordering::Relaxed);
                let msg = format!("secret_rules reload: {e}; the previous rules stay in use");
                *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = msg.clone();
                Err(msg)
            }
        }
    }

    /// Reloads and failed reloads since start, without building the whole status.
    pub fn reload_counts(&self) -> (u64, u64) {
        (
            self.reloads.load(Ordering::Relaxed),
            self.reload_errors.load(Ordering::Relaxed),
        )
    }

    pub fn status(&self) -> Status {
        let set = self.current();
        Status {
            rules: set.rules.len(),
            skipped: set
                .skipped
                .iter()
                .map(|s| SkippedRule {
                    id: s.id.clone(),
                    reason: s.reason.to_string(),
                })
                .collect(),
            files: set.files.clone(),
            bundled_source: BUNDLED_SOURCE.trim().to_string(),
            reloads: self.reloads.load(Ordering::Relaxed),
            reload_errors: self.reload_errors.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

#[cfg(test)]
mod tests;
