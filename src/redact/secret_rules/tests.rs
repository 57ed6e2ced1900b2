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
