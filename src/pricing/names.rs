//! Model-name normalisation and provider mapping for price lookup (docs/pricing.md,
//! "Matching a model").
//!
//! The exact string is always tried first; each rewrite only after a miss. Rewrites that can
//! change the price (a dropped geo prefix, a dropped date) are flagged, never silent.

/// How a model string reached its price entry; written to the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    Exact,
    Normalized,
    /// A user rule (custom model or deployment map) decided the price.
    Override,
    /// Priced at another provider's entry (Azure → OpenAI, Vertex → Anthropic).
    ProviderFallback,
    /// A Bedrock geo prefix was dropped: the regional surcharge may be missing.
    GeoFallback,
    /// A pure date suffix was dropped: the alias's price may differ from the snapshot's.
    DateFallback,
    /// A fine-tune no table prices, billed at its base model's price
    /// (`pricing.fine_tune_fallback: base`); the real fine-tune rate is usually higher.
    FineTuneBase,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Normalized => "normalized",
            MatchKind::Override => "override",
            MatchKind::ProviderFallback => "provider_fallback",
            MatchKind::GeoFallback => "geo_fallback",
            MatchKind::DateFallback => "date_fallback",
            MatchKind::FineTuneBase => "fine_tune_base",
        }
    }
}

/// Where to look for a span's provider in each table.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSpec {
    /// genai-prices provider ids.
    pub native: &'static [&'static str],
    /// LiteLLM `litellm_provider` values (a trailing `*` accepts any suffix).
    pub flat: &'static [&'static str],
    /// LiteLLM key prefixes to try, in order.
    pub prefixes: &'static [&'static str],
    /// Cross-provider fallback (flagged): LiteLLM providers and prefixes.
    pub flat_fallback: &'static [&'static str],
    /// LiteLLM key prefix of region-keyed rows (`bedrock/<region>/…`, `azure/<zone>/…`).
    pub regional: Option<&'static str>,
}

/// Maps an OTel provider name (latest spelling) to table providers.
pub fn provider_spec(otel: &str) -> Option<ProviderSpec> {
    let s = |native, flat, prefixes, flat_fallback| {
        Some(ProviderSpec {
            native,
            flat,
            prefixes,
            flat_fallback,
            regional: match otel {
                "aws.bedrock" => Some("bedrock/"),
                "azure.ai.openai" => Some("azure/"),
                _ => None,
            },
        })
    };
    match otel {
        "openai" => s(
            &["openai"],
            &["openai", "text-completion-openai"],
            &["", "openai/"],
            &[],
        ),
        "anthropic" => s(&["anthropic"], &["anthropic"], &["", "anthropic/"], &[]),
        "aws.bedrock" => s(
            &["aws"],
            &["bedrock*", "amazon_nova"],
            &["", "bedrock/", "bedrock/converse/"],
            &[],
        ),
        "azure.ai.openai" => s(
            &["azure"],
            &["azure", "azure_text"],
            &["azure/"],
            &["openai"],
        ),
        "azure.ai.inference" => s(&["azure"], &["azure_ai"], &["azure_ai/"], &["openai"]),
        "gcp.gemini" => s(&["google"], &["gemini"], &["gemini/"], &["vertex_ai*"]),
        "gcp.vertex_ai" => s(
            &["google"],
            &["vertex_ai*"],
            &["", "vertex_ai/"],
            &["gemini"],
        ),
        "gcp.gen_ai" => s(
            &["google"],
            &["gemini", "vertex_ai*"],
            &["gemini/", "", "vertex_ai/"],
            &[],
        ),
        "x_ai" => s(&["x-ai"], &["xai"], &["xai/"], &[]),
        "mistral_ai" => s(
            &["mistral"],
            &["mistral", "codestral"],
            &["mistral/", ""],
            &[],
        ),
        "deepseek" => s(&["deepseek"], &["deepseek"], &["deepseek/", ""], &[]),
        "groq" => s(&["groq"], &["groq"], &["groq/"], &[]),
        "cohere" => s(
            &["cohere"],
            &["cohere", "cohere_chat"],
            &["", "cohere/"],
            &[],
        ),
        "perplexity" => s(&["perplexity"], &["perplexity"], &["perplexity/", ""], &[]),
        "ibm.watsonx.ai" => s(&[], &["watsonx"], &["watsonx/"], &[]),
        "ollama" => s(&[], &["ollama"], &["ollama/"], &[]),
        _ => None,
    }
}

/// True when a LiteLLM provider value is accepted by a pattern list (`vertex_ai*`).
pub fn flat_provider_ok(pattern: &[&str], provider: &str) -> bool {
    pattern.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => provider.starts_with(prefix),
        None => provider == *p,
    })
}

const ROUTING_PREFIXES: &[&str] = &[
    "bedrock/",
    "converse/",
    "invoke/",
    "chat_completions/",
    "litellm/",
    "openai/",
    "anthropic/",
    "azure/",
    "azure_ai/",
    "gemini/",
    "google/",
    "vertex_ai/",
    "xai/",
    "x-ai/",
    "mistral/",
    "mistralai/",
    "deepseek/",
    "groq/",
    "openrouter/",
];

const GEO_PREFIXES: &[&str] = &[
    "us-gov.", "us.", "eu.", "apac.", "au.", "jp.", "ca.", "global.",
];

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn valid_date(y: &str, m: &str, d: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    (1990..2200).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
}

/// `name-YYYYMMDD` → `name-YYYY-MM-DD` when the date is valid.
fn expand_compact_date(s: &str) -> Option<String> {
    let (head, tail) = s.rsplit_once('-')?;
    if is_digits(tail, 8) && valid_date(&tail[..4], &tail[4..6], &tail[6..]) {
        return Some(format!(
            "{head}-{}-{}-{}",
            &tail[..4],
            &tail[4..6],
            &tail[6..]
        ));
    }
    None
}

/// Strips a pure trailing date (`-2024-08-06` or `-20240806`); `None` when there is none.
fn strip_date(s: &str) -> Option<&str> {
    // A dated tail is ASCII: a name whose last 11 bytes start inside a multi-byte character
    // has none there (and `split_at` would panic).
    if s.len() > 11 && s.is_char_boundary(s.len() - 11) {
        let (head, tail) = s.split_at(s.len() - 11);
        let t = tail.as_bytes();
        if t[0] == b'-'
            && t[5] == b'-'
            && t[8] == b'-'
            && valid_date(&tail[1..5], &tail[6..8], &tail[9..])
            && !head.is_empty()
        {
            return Some(head);
        }
    }
    let (head, tail) = s.rsplit_once('-')?;
    (is_digits(tail, 8) && valid_date(&tail[..4], &tail[4..6], &tail[6..]) && !head.is_empty())
        .then_some(head)
}

fn push(out: &mut Vec<(String, MatchKind)>, s: &str, kind: MatchKind) {
    if !s.is_empty() && !out.iter().any(|(x, _)| x == s) {
        out.push((s.to_string(), kind));
    }
}

/// The names to try for `model`, strongest first.
pub fn candidates(model: &str) -> Vec<(String, MatchKind)> {
    let mut out = Vec::with_capacity(6);
    let exact = model.trim().to_lowercase();
    push(&mut out, &exact, MatchKind::Exact);

    let mut s = exact.clone();
    // Bedrock ARNs: the model id is the last path segment (opaque for application profiles).
    // A custom (fine-tuned) model names its base: `…:custom-model/<base id>/<job>`.
    let mut fine_tune_base = None;
    if s.starts_with("arn:") {
        if let Some((_, rest)) = s.split_once(":custom-model/") {
            fine_tune_base = rest.split('/').next().map(str::to_string);
        }
        if let Some((_, last)) = s.rsplit_once('/') {
            s = last.to_string();
        }
    }
    // Routing prefixes, possibly stacked (`bedrock/converse/us-east-1/…`).
    loop {
        let before = s.len();
        for p in ROUTING_PREFIXES {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.to_string();
            }
        }
        // An AWS region path (`us-east-1/`).
        if let Some((head, rest)) = s.split_once('/') {
            let parts: Vec<&str> = head.split('-').collect();
            if parts.len() >= 3 && parts.last().is_some_and(|l| is_digits(l, 1)) {
                s = rest.to_string();
            }
        }
        if s.len() == before {
            break;
        }
    }
    // Vertex resource names.
    if let Some(i) = s.rfind("/models/") {
        s = s[i + "/models/".len()..].to_string();
    }
    if let Some(rest) = s.strip_prefix("models/") {
        s = rest.to_string();
    }
    // Provisioned-throughput suffix `…-v2:0:51k`.
    if let Some((head, tail)) = s.rsplit_once(':') {
        if tail.ends_with('k')
            && is_digits(&tail[..tail.len() - 1], tail.len() - 1)
            && head.contains(':')
        {
            s = head.to_string();
        }
    }
    // Vertex `@20240620` / `@default` / `@001`.
    if let Some((head, tail)) = s.split_once('@') {
        s = if is_digits(tail, 8) {
            format!("{head}-{tail}")
        } else {
            head.to_string()
        };
    }
    // Fine-tunes: `ft:<base>:org:suffix:id` → `ft:<base>` (OpenAI, Mistral); Azure
    // `<base>.ft-<job>`. LiteLLM keys a fine-tune row as `ft:<base>`.
    if let Some(rest) = s.strip_prefix("ft:") {
        let base = rest.split(':').next().unwrap_or(rest).to_string();
        s = format!("ft:{base}");
        fine_tune_base = Some(base);
    } else if let Some(i) = s.find(".ft-") {
        fine_tune_base = Some(s[..i].to_string());
        s = format!("ft:{}", &s[..i]);
    }
    if let Some(rest) = s.strip_prefix("gpt-35-") {
        s = format!("gpt-3.5-{rest}");
    }
    push(&mut out, &s, MatchKind::Normalized);
    // OpenLLMetry strips the Bedrock vendor (`claude-…-v1:0`); Bedrock tables key on it.
    if s.starts_with("claude-") && s.contains("-v") && s.contains(':') {
        push(&mut out, &format!("anthropic.{s}"), MatchKind::Normalized);
    }
    if let Some(e) = expand_compact_date(&s) {
        push(&mut out, &e, MatchKind::Normalized);
    }

    // Flagged fallbacks: a dropped geo prefix, then a dropped pure date.
    let strong: Vec<String> = out.iter().map(|(x, _)| x.clone()).collect();
    for c in &strong {
        for g in GEO_PREFIXES {
            if let Some(rest) = c.strip_prefix(g) {
                push(&mut out, rest, MatchKind::GeoFallback);
            }
        }
    }
    for c in &strong {
        if let Some(d) = strip_date(c) {
            push(&mut out, d, MatchKind::DateFallback);
        }
    }
    // Last: a fine-tune's base model, and that base without a pure date.
    if let Some(base) = fine_tune_base.filter(|b| !b.is_empty()) {
        for (c, _) in candidates(&base) {
            push(&mut out, &c, MatchKind::FineTuneBase);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (collect_metrics): a multi-byte character 11 bytes from the end made
    /// the date check slice inside it, a panic that failed the whole batch.
    #[test]
    fn non_ascii_names_near_a_date_do_not_panic() {
        for m in [
            "gpt-4o-\u{fffd}xxxxxxxxx",
            "m\u{e9}-2024-08-0\u{e9}",
            "\u{1f600}\u{1f600}\u{1f600}",
        ] {
            let _ = candidates(m);
        }
        assert_eq!(strip_date("\u{e9}model-2024-08-06"), Some("\u{e9}model"));
    }

    fn names(m: &str) -> Vec<(String, &'static str)> {
        candidates(m)
            .into_iter()
            .map(|(s, k)| (s, k.as_str()))
            .collect()
    }

    #[test]
    fn exact_first_then_normalised() {
        let c = names("Bedrock/Converse/us-east-1/us.anthropic.claude-3-haiku-20240307-v1:0");
        assert_eq!(c[0].1, "exact");
        assert_eq!(
            c[1],
            (
                "us.anthropic.claude-3-haiku-20240307-v1:0".into(),
                "normalized"
            )
        );
        assert!(c.contains(&(
            "anthropic.claude-3-haiku-20240307-v1:0".into(),
            "geo_fallback"
        )));
    }

    #[test]
    fn arn_and_throughput() {
        let c = names("arn:aws:bedrock:us-east-1:123:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
        assert_eq!(c[1].0, "eu.anthropic.claude-sonnet-4-5-20250929-v1:0");
        let c = names("anthropic.claude-v2:0:51k");
        assert_eq!(c[1].0, "anthropic.claude-v2:0");
    }

    #[test]
    fn vertex_finetune_azure_and_dates() {
        assert_eq!(
            names("claude-3-5-sonnet@20240620")[1].0,
            "claude-3-5-sonnet-20240620"
        );
        assert!(names("claude-3-5-sonnet@20240620")
            .contains(&("claude-3-5-sonnet-2024-06-20".into(), "normalized")));
        assert_eq!(
            names("publishers/google/models/gemini-2.5-pro")[1].0,
            "gemini-2.5-pro"
        );
        assert_eq!(names("gemini-1.5-pro@default")[1].0, "gemini-1.5-pro");
        assert_eq!(
            names("ft:gpt-4o-2024-08-06:my-org::AbC123")[1].0,
            "ft:gpt-4o-2024-08-06"
        );
        assert_eq!(
            names("gpt-4o-2024-08-06.ft-abc123")[1].0,
            "ft:gpt-4o-2024-08-06"
        );
        assert_eq!(names("gpt-35-turbo")[1].0, "gpt-3.5-turbo");
        // A fine-tune falls back to its base model last, flagged.
        let c = names("ft:gpt-4o-mini-2024-07-18:acme:triage:AbC123");
        assert_eq!(c[1], ("ft:gpt-4o-mini-2024-07-18".into(), "normalized"));
        assert!(c.contains(&("gpt-4o-mini-2024-07-18".into(), "fine_tune_base")));
        assert_eq!(c.last().unwrap(), &("gpt-4o-mini".into(), "fine_tune_base"));
        let c = names("ft:open-mistral-7b:587a6b29:20240514:7e773925");
        assert!(c.contains(&("open-mistral-7b".into(), "fine_tune_base")));
        let c = names(
            "arn:aws:bedrock:us-east-1:1:custom-model/amazon.titan-text-express-v1:0:8k/ab12",
        );
        assert!(c.contains(&("amazon.titan-text-express-v1:0".into(), "fine_tune_base")));
        let c = names("gpt-4o-2024-08-06");
        assert_eq!(c.last().unwrap(), &("gpt-4o".into(), "date_fallback"));
        // Only a pure date is ever dropped.
        assert!(names("o3-pro").iter().all(|(_, k)| *k != "date_fallback"));
        assert!(names("gpt-4o-audio-preview").len() == 1);
    }
}
