//! The default sensitive-key rule must never mask a usage or timing value. Rather than a list
//! that goes stale, this reads every attribute-key-shaped string literal mentioning tokens,
//! usage or timing in the engine's sources (whatever module holds the alias tables today) and
//! checks that none is sensitive.

use std::path::Path;

use tollbooth::redact::keys::{SensitiveKeys, DEFAULT};

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// String literals that look like attribute keys: letters, digits, `_`, `.`, `-`, with a dot.
fn key_literals(src: &str) -> Vec<&str> {
    src.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.contains('.')
                && !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
        })
        .collect()
}

#[test]
fn no_usage_or_timing_key_is_sensitive() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let keys =
        SensitiveKeys::new(&DEFAULT.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let mut checked = Vec::new();
    for f in files {
        // Redaction's own tests name credentials on purpose.
        if f.starts_with(root.join("redact")) {
            continue;
        }
        let src = std::fs::read_to_string(&f).unwrap();
        for k in key_literals(&src) {
            let lower = k.to_ascii_lowercase();
            if ["token", "usage", "first", "count", "cost"]
                .iter()
                .any(|w| lower.contains(w))
            {
                assert!(
                    !keys.matches(k.as_bytes()),
                    "{k:?} ({}) would be masked by the default sensitive_keys",
                    f.display()
                );
                checked.push(k.to_string());
            }
        }
    }
    // The scan must have found the alias tables, wherever they live.
    for must in [
        "gen_ai.usage.input_tokens",
        "llm.token_count.prompt",
        "ai.usage.promptTokens",
        "gen_ai.server.time_to_first_token",
    ] {
        assert!(
            checked.iter().any(|k| k == must),
            "{must} not found in src/"
        );
    }
    assert!(checked.len() > 40, "only {} keys found", checked.len());
}
