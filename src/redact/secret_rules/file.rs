//! gitleaks' rule-file format (TOML), read as it is, and the merging of several files.
//!
//! Files are merged the way gitleaks' own `[extend]` merges a configuration onto the one it
//! extends: a rule whose id is new is added; a rule whose id exists overrides the fields it
//! sets (`regex`, `path`, `secretGroup`, `entropy`, `description`) and adds its `keywords`,
//! `tags` and allowlists. So a later file wins by rule id, and a file can also just add an
//! allowlist to a default rule. `[extend] useDefault` puts the bundled rules underneath,
//! `[extend] path` another file (relative to the working directory, as gitleaks reads it;
//! two levels at most, as gitleaks), and `[extend] disabledRules` removes rules from below.
//!
//! Key names are gitleaks' (`secretGroup`, `regexTarget`, ...); the all-lowercase spellings
//! that gitleaks' config reader also accepts work too. An unknown key is an error naming it:
//! a misspelt `regexes` would otherwise silently disable an allowlist.

use serde::Deserialize;

/// Largest rule file read (the bundled one is ~200 KB).
pub const MAX_FILE_BYTES: usize = 8 << 20;
/// Most rules in one merged set.
pub const MAX_RULES: usize = 4000;
/// How deep `[extend] path` may chain, as in gitleaks.
const MAX_EXTEND_DEPTH: usize = 2;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDoc {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "minVersion", alias = "minversion")]
    pub min_version: Option<String>,
    #[serde(default)]
    pub extend: Option<ExtendDoc>,
    #[serde(default)]
    pub rules: Vec<RuleDoc>,
    /// The older single global allowlist (`[allowlist]`).
    #[serde(default)]
    pub allowlist: Option<AllowlistDoc>,
    #[serde(default)]
    pub allowlists: Vec<AllowlistDoc>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendDoc {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, rename = "useDefault", alias = "usedefault")]
    pub use_default: bool,
    #[serde(default, rename = "disabledRules", alias = "disabledrules")]
    pub disabled_rules: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default, rename = "secretGroup", alias = "secretgroup")]
    pub secret_group: Option<usize>,
    #[serde(default)]
    pub entropy: Option<f64>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The older single per-rule allowlist (`[rules.allowlist]`).
    #[serde(default)]
    pub allowlist: Option<AllowlistDoc>,
    #[serde(default)]
    pub allowlists: Vec<AllowlistDoc>,
    /// Composite rules: this rule counts only when these rules also match nearby.
    #[serde(default)]
    pub required: Vec<RequiredDoc>,
    /// Matches only as part of a composite rule.
    #[serde(default, rename = "skipReport", alias = "skipreport")]
    pub skip_report: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredDoc {
    #[serde(default)]
    pub id: String,
    #[serde(default, rename = "withinLines", alias = "withinlines")]
    pub within_lines: Option<usize>,
    #[serde(default, rename = "withinColumns", alias = "withincolumns")]
    pub within_columns: Option<usize>,
}

/// A rule's allowlist, or a global one (`[[allowlists]]`), which with `targetRules` applies
/// to those rules only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowlistDoc {
    #[serde(default, rename = "targetRules", alias = "targetrules")]
    pub target_rules: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `OR` (default) or `AND`, any case; `||`, `&&` too.
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub commits: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    /// `secret` (default), `match` or `line`.
    #[serde(default, rename = "regexTarget", alias = "regextarget")]
    pub regex_target: Option<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    #[serde(default, alias = "stopWords")]
    pub stopwords: Vec<String>,
}

/// A rule after merging, with the file that defined it last (for error messages).
#[derive(Debug, Clone)]
pub struct MergedRule {
    pub doc: RuleDoc,
    pub file: String,
}

/// A global allowlist after merging, with its file.
#[derive(Debug, Clone)]
pub struct MergedAllowlist {
    pub doc: AllowlistDoc,
    pub targets: Vec<String>,
    pub file: String,
}

/// Every file's rules merged, in first-definition order.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub rules: Vec<MergedRule>,
    pub allowlists: Vec<MergedAllowlist>,
    /// Files read, in order (built-in label included), for status and reload.
    pub files: Vec<String>,
    default_loaded: bool,
}

/// Where the bytes of a file come from: the bundled text or the file system.
pub trait Source {
    fn read(&self, path: &str) -> Result<String, String>;
    /// The bundled rule file, for `[extend] useDefault`.
    fn bundled(&self) -> (&'static str, &'static str);
}

/// Parses one file; the error names the file.
pub fn parse(text: &str, label: &str) -> Result<FileDoc, String> {
    if text.len() > MAX_FILE_BYTES {
        return Err(format!(
            "secret rule file {label}: {} bytes, more than the {MAX_FILE_BYTES}-byte limit",
            text.len()
        ));
    }
    toml::from_str(text).map_err(|e| {
        format!(
            "secret rule file {label}: not a gitleaks rule file: {}",
            e.to_string().trim_end()
        )
    })
}

impl Merged {
    /// Adds the bundled rules (once).
    pub fn add_bundled(&mut self, src: &dyn Source) -> Result<(), String> {
        if self.default_loaded {
            return Ok(());
        }
        self.default_loaded = true;
        let (label, text) = src.bundled();
        let doc = parse(text, label)?;
        self.add_doc(doc, label, src, 0)
    }

    /// Reads `path` (and what it extends) and merges it on top.
    pub fn add_file(&mut self, path: &str, src: &dyn Source) -> Result<(), String> {
        let text = src.read(path)?;
        let doc = parse(&text, path)?;
        self.add_doc(doc, path, src, 0)
    }

    fn add_doc(
        &mut self,
        doc: FileDoc,
        label: &str,
        src: &dyn Source,
        depth: usize,
    ) -> Result<(), String> {
        if let Some(ext) = &doc.extend {
            if ext.url.is_some() {
                return Err(format!(
                    "secret rule file {label}: [extend] url is not supported (gitleaks does not implement it either); download the file and list it under secret_rules.files"
                ));
            }
            if ext.use_default && ext.path.is_some() {
                return Err(format!(
                    "secret rule file {label}: [extend] sets both path and useDefault; keep one"
                ));
            }
            if ext.use_default {
                self.add_bundled(src)?;
            }
            if let Some(p) = &ext.path {
                if depth >= MAX_EXTEND_DEPTH {
                    return Err(format!(
                        "secret rule file {label}: [extend] path {p}: extends more than {MAX_EXTEND_DEPTH} levels deep"
                    ));
                }
                let text = src
                    .read(p)
                    .map_err(|e| format!("secret rule file {label}: [extend] path: {e}"))?;
                let base = parse(&text, p)?;
                self.add_doc(base, p, src, depth + 1)?;
            }
            for id in &ext.disabled_rules {
                self.rules.retain(|r| &r.doc.id != id);
            }
        }
        self.files.push(label.to_string());
        if doc.allowlist.is_some() && !doc.allowlists.is_empty() {
            return Err(format!(
                "secret rule file {label}: [allowlist] (the older form) and [[allowlists]] cannot be used together"
            ));
        }
        for mut a in doc.allowlist.into_iter().chain(doc.allowlists) {
            self.allowlists.push(MergedAllowlist {
                targets: std::mem::take(&mut a.target_rules),
                doc: a,
                file: label.to_string(),
            });
        }
        for mut r in doc.rules {
            if r.allowlist.is_some() && !r.allowlists.is_empty() {
                return Err(format!(
                    "secret rule file {label}: rule {:?}: [rules.allowlist] (the older form) and [[rules.allowlists]] cannot be used together",
                    r.id
                ));
            }
            if let Some(a) = r.allowlist.take() {
                r.allowlists.push(a);
            }
            if r.allowlists.iter().any(|a| !a.target_rules.is_empty()) {
                return Err(format!(
                    "secret rule file {label}: rule {:?}: targetRules belongs in a global [[allowlists]], not in a rule's",
                    r.id
                ));
            }
            for k in &mut r.keywords {
                *k = k.to_lowercase();
            }
            match self.rules.iter_mut().find(|m| m.doc.id == r.id) {
                Some(m) => {
                    override_rule(&mut m.doc, r);
                    m.file = label.to_string();
                }
                None => {
                    if self.rules.len() >= MAX_RULES {
                        return Err(format!(
                            "secret rule file {label}: more than {MAX_RULES} rules in all"
                        ));
                    }
                    self.rules.push(MergedRule {
                        doc: r,
                        file: label.to_string(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A later definition of the same rule id: set fields win, lists are added.
fn override_rule(base: &mut RuleDoc, top: RuleDoc) {
    if top.description.is_some() {
        base.description = top.description;
    }
    if top.entropy.is_some_and(|e| e != 0.0) {
        base.entropy = top.entropy;
    }
    if top.secret_group.is_some_and(|g| g != 0) {
        base.secret_group = top.secret_group;
    }
    if top.regex.is_some() {
        base.regex = top.regex;
    }
    if top.path.is_some() {
        base.path = top.path;
    }
    for k in top.keywords {
        if !base.keywords.contains(&k) {
            base.keywords.push(k);
        }
    }
    base.tags.extend(top.tags);
    base.allowlists.extend(top.allowlists);
    base.required.extend(top.required);
    base.skip_report |= top.skip_report;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Files(HashMap<&'static str, &'static str>);
    impl Source for Files {
        fn read(&self, path: &str) -> Result<String, String> {
            self.0
                .get(path)
                .map(|s| s.to_string())
                .ok_or_else(|| format!("{path}: cannot read: not found"))
        }
        fn bundled(&self) -> (&'static str, &'static str) {
            (
                "builtin",
                "[[rules]]\nid = \"a\"\nregex = 'a+'\nkeywords = [\"a\"]\n[[rules]]\nid = \"b\"\nregex = 'b+'\n",
            )
        }
    }

    #[test]
    fn later_files_override_set_fields_and_add_lists() {
        let files = Files(HashMap::from([(
            "mine.toml",
            "[extend]\nuseDefault = true\ndisabledRules = [\"b\"]\n[[rules]]\nid = \"a\"\nkeywords = [\"AA\"]\n[[rules.allowlists]]\nstopwords = [\"x\"]\n[[rules]]\nid = \"c\"\nregex = 'c'\n",
        )]));
        let mut m = Merged::default();
        m.add_bundled(&files).unwrap();
        m.add_file("mine.toml", &files).unwrap();
        let ids: Vec<_> = m.rules.iter().map(|r| r.doc.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"], "useDefault adds nothing twice; b disabled");
        let a = &m.rules[0];
        assert_eq!(a.doc.regex.as_deref(), Some("a+"), "regex kept from below");
        assert_eq!(a.doc.keywords, ["a", "aa"], "keywords added, lowercased");
        assert_eq!(a.doc.allowlists.len(), 1);
        assert_eq!(a.file, "mine.toml");
    }

    #[test]
    fn mistakes_name_the_file_and_the_key() {
        let e = parse("[[rules]]\nid = \"x\"\nregexes = 'a'\n", "f.toml").unwrap_err();
        assert!(e.contains("f.toml") && e.contains("regexes"), "{e}");
        let e = parse("[[rules]\n", "g.toml").unwrap_err();
        assert!(e.contains("g.toml"), "{e}");
        let files = Files(HashMap::from([(
            "deep.toml",
            "[extend]\npath = \"deep.toml\"\n",
        )]));
        let e = Merged::default().add_file("deep.toml", &files).unwrap_err();
        assert!(e.contains("levels deep"), "{e}");
        let e = Merged::default()
            .add_file("missing.toml", &files)
            .unwrap_err();
        assert!(e.contains("missing.toml"), "{e}");
    }

    #[test]
    fn lowercase_key_spellings_are_accepted() {
        let d = parse(
            "[[rules]]\nid = \"x\"\nregex = 'a(b)'\nsecretgroup = 1\n[[rules.allowlists]]\nregextarget = \"line\"\nregexes = ['q']\n",
            "f",
        )
        .unwrap();
        assert_eq!(d.rules[0].secret_group, Some(1));
        assert_eq!(
            d.rules[0].allowlists[0].regex_target.as_deref(),
            Some("line")
        );
    }
}
