//! The bundled rule file, loading from disk, and reload.

use super::*;

fn bundled() -> RuleSet {
    build(&SecretRulesConfig::default()).unwrap()
}

#[test]
fn bundled_file_loads_with_only_path_rules_skipped() {
    let s = bundled();
    let in_file = BUNDLED.matches("\n[[rules]]\n").count();
    assert!(in_file >= 200, "{in_file}");
    assert_eq!(s.rules.len() + s.skipped.len(), in_file);
    for k in &s.skipped {
        let rule = BUNDLED
            .split("\n[[rules]]\n")
            .find(|r| r.starts_with(&format!("id = \"{}\"\n", k.id)))
            .unwrap();
        assert!(
            rule.contains("\npath = "),
            "{} skipped without a path",
            k.id
        );
    }
    assert!(BUNDLED_SOURCE.starts_with("github.com/zricethezav/gitleaks/v8 v8."));
    assert_eq!(s.files, [BUNDLED_LABEL]);
}

#[test]
fn bundled_keywords_are_lowercase_ascii() {
    // The prefilter folds ASCII case only; gitleaks lowercases Unicode. Equal for ASCII.
    for r in BUNDLED.lines().filter(|l| l.starts_with("keywords = [")) {
        assert!(r.is_ascii(), "{r}");
    }
}

#[test]
fn most_values_run_no_regex() {
    let s = bundled();
    let mut v = Vec::new();
    for prose in [
        "please summarise the customer ticket about the billing refund and reply politely",
        "{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"Hello there\"}]}",
        "gpt-4o-mini",
    ] {
        assert_eq!(s.scan(prose, &mut v).regexes_run, 0, "{prose}");
        assert!(!s.may_match(prose));
    }
    assert!(v.is_empty());
}

#[test]
fn disabled_rules_and_unknown_ids() {
    let c = SecretRulesConfig {
        disabled_rules: vec!["generic-api-key".into()],
        ..Default::default()
    };
    let s = build(&c).unwrap();
    assert!(s.rules.iter().all(|r| &*r.id != "generic-api-key"));
    let c = SecretRulesConfig {
        disabled_rules: vec!["no-such-rule".into()],
        ..Default::default()
    };
    let e = build(&c).err().unwrap();
    assert!(e.contains("no-such-rule"), "{e}");
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("tollbooth-secret-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

const MINE: &str =
    "[[rules]]\nid = \"acme-token\"\nregex = '''acme_[a-z0-9]{16}'''\nkeywords = [\"acme_\"]\n";

#[test]
fn user_files_add_rules_and_reload_keeps_the_last_good_set() {
    let path = temp_file("reload.toml", MINE);
    let c = SecretRulesConfig {
        include_default: false,
        files: vec![path.clone()],
        reload_interval_seconds: 1,
        ..Default::default()
    };
    let rules = SecretRules::load(&c).unwrap();
    assert_eq!(rules.current().rules.len(), 1);
    assert_eq!(rules.reload_if_changed(), Ok(false));

    // A bad file: reported with the file, rule and reason; the old set stays.
    std::fs::write(
        &path,
        "[[rules]]\nid = \"acme-token\"\nregex = '''acme_(?=x)'''\n",
    )
    .unwrap();
    let e = rules.reload_if_changed().unwrap_err();
    assert!(
        e.contains(&path) && e.contains("acme-token") && e.contains("look-around"),
        "{e}"
    );
    assert_eq!(rules.current().rules.len(), 1);
    assert_eq!(rules.reload_if_changed(), Ok(false), "reported once");
    let st = rules.status();
    assert_eq!((st.reloads, st.reload_errors), (0, 1));
    assert!(st.last_error.contains("acme-token"));

    // Fixed, with a second rule: swapped in.
    std::fs::write(
        &path,
        format!("{MINE}[[rules]]\nid = \"acme-2\"\nregex = '''acme2_[a-z0-9]{{16}}'''\nkeywords = [\"acme2_\"]\n"),
    )
    .unwrap();
    assert_eq!(rules.reload_if_changed(), Ok(true));
    assert_eq!(rules.current().rules.len(), 2);
    assert_eq!(rules.status().reloads, 1);
}

#[test]
fn reload_waits_for_the_interval() {
    let path = temp_file("interval.toml", MINE);
    let c = SecretRulesConfig {
        include_default: false,
        files: vec![path.clone()],
        reload_interval_seconds: 10,
        ..Default::default()
    };
    let rules = SecretRules::load(&c).unwrap();
    let s = 1_000_000_000u64;
    assert_eq!(rules.reload_if_due(100 * s), None, "starts the clock");
    std::fs::write(&path, format!("{MINE}\n# changed\n")).unwrap();
    assert_eq!(rules.reload_if_due(105 * s), None, "too soon");
    assert_eq!(rules.reload_if_due(111 * s), Some(Ok(true)));
}

#[test]
fn start_fails_naming_the_file() {
    let c = SecretRulesConfig {
        files: vec!["/nonexistent/rules.toml".into()],
        ..Default::default()
    };
    let e = SecretRules::load(&c).err().unwrap();
    assert!(
        e.contains("/nonexistent/rules.toml") && e.starts_with("secret_rules"),
        "{e}"
    );
}

mod with_builtin_detectors {
    use super::*;
    use crate::redact::counts::Detections;
    use crate::redact::detectors::Detectors;
    use crate::redact::hashing::HmacKey;
    use std::collections::BTreeMap;

    fn detectors(
        names: &[&str],
        repl: &[(&str, &str)],
        key: &HmacKey,
    ) -> Result<Detectors, String> {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let repl: BTreeMap<String, String> = repl
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let rules = SecretRules::load(&SecretRulesConfig::default()).unwrap();
        Detectors::with_rules(&names, &repl, key, Some(rules))
    }

    const PAT: &str = "ghp_aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xYz1A2";

    #[test]
    fn found_by_both_is_masked_once_under_the_rules_name() {
        let d = detectors(&["github_token", "email"], &[], &HmacKey::default()).unwrap();
        let mut c = Detections::default();
        let out = d
            .redact(
                &format!("token {PAT} and bob@example.org"),
                &HmacKey::default(),
                &mut c,
            )
            .unwrap();
        assert_eq!(out, "token <REDACTED:github-pat> and <REDACTED:email>");
        assert_eq!(
            (c.get("github-pat"), c.get("github_token"), c.get("email")),
            (1, 0, 1)
        );
        // A longer token than the rule's 36 characters: the union is masked, nothing left.
        let long = format!("{PAT}Zz9");
        let out = d.redact(&long, &HmacKey::default(), &mut c).unwrap();
        assert_eq!(out, "<REDACTED:github-pat>");
    }

    #[test]
    fn built_in_secret_detectors_defer_to_a_rules_allowlist() {
        let d = detectors(&["google_api_key"], &[], &HmacKey::default()).unwrap();
        let mut c = Detections::default();
        let listed = "key AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs here";
        assert_eq!(d.redact(listed, &HmacKey::default(), &mut c), None);
    }

    #[test]
    fn replacements_name_rule_ids_too() {
        let key = HmacKey::resolve(
            &crate::redact::RedactionConfig::from_json(
                br#"{"hmac_key": "0123456789abcdef0123456789abcdef"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let d = detectors(&[], &[("github-pat", "<gh:{hash}>")], &key).unwrap();
        let mut c = Detections::default();
        let out = d.redact(PAT, &key, &mut c).unwrap();
        assert!(
            out.starts_with("<gh:") && out.len() == "<gh:>".len() + 16,
            "{out}"
        );
        let e = detectors(&[], &[("no-such-rule", "x")], &key)
            .err()
            .unwrap();
        assert!(
            e.contains("no-such-rule") && e.contains("secret rule"),
            "{e}"
        );
    }

    #[test]
    fn redaction_is_idempotent_with_rules() {
        let d = detectors(&["secrets", "pii"], &[], &HmacKey::default()).unwrap();
        let mut c = Detections::default();
        let text =
            format!("export GITHUB_TOKEN={PAT}\napi_key = \"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB\"");
        let once = d.redact(&text, &HmacKey::default(), &mut c).unwrap();
        assert_eq!(d.redact(&once, &HmacKey::default(), &mut c), None, "{once}");
    }
}
