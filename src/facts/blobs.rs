//! Usage and cost hidden in JSON strings: Langfuse's `usage_details` / `cost_details`, the AI
//! SDK's `ai.response.providerMetadata`, Logfire's `gen_ai.usage.raw`. Parsed only when the
//! span's plain attributes do not already answer (docs/genai-conventions.md, "JSON blobs").

use serde_json::Value;

/// Langfuse's disjoint buckets: input without cache, output without reasoning.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LangfuseUsage {
    pub input: Option<i64>,
    pub output: Option<i64>,
    pub cache_read: Option<i64>,
    pub cache_write: Option<i64>,
    pub reasoning: Option<i64>,
}

/// A JSON count: integers as they are (negative included, for the sanity check), whole
/// doubles, saturating at the `i64` range.
fn count(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if v.as_u64().is_some() {
        return Some(i64::MAX);
    }
    v.as_f64()
        .filter(|d| d.is_finite() && d.fract() == 0.0)
        .map(|d| d as i64)
}

pub fn langfuse_usage(json: &str) -> Option<LangfuseUsage> {
    let v: Value = serde_json::from_str(json).ok()?;
    let o = v.as_object()?;
    let get = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k).and_then(count));
    Some(LangfuseUsage {
        input: get(&["input", "input_tokens", "prompt_tokens"]),
        output: get(&["output", "output_tokens", "completion_tokens"]),
        cache_read: get(&[
            "input_cached_tokens",
            "cache_read_input_tokens",
            "input_cache_read",
        ]),
        cache_write: get(&["input_cache_creation", "cache_creation_input_tokens"]),
        reasoning: get(&["output_reasoning_tokens", "output_reasoning"]),
    })
}

/// Langfuse's `cost_details.total`, in USD, when finite and not negative.
pub fn langfuse_total_cost(json: &str) -> Option<f64> {
    let v: Value = serde_json::from_str(json).ok()?;
    v.get("total")
        .and_then(Value::as_f64)
        .filter(|c| c.is_finite() && *c >= 0.0)
}

/// Anthropic/Bedrock cache writes (all TTLs, then the 1-hour part) in a provider usage blob:
/// `{"anthropic":{"usage":{"cache_creation_input_tokens":…,"cache_creation":{"ephemeral_1h_input_tokens":…}}}}`,
/// `{"bedrock":{"usage":{"cacheWriteInputTokens":…}}}` or a bare Anthropic usage object.
pub fn cache_writes(json: &str) -> Option<(Option<i64>, Option<i64>)> {
    if !json.contains("ache") {
        return None;
    }
    let v: Value = serde_json::from_str(json).ok()?;
    let candidates = [
        v.pointer("/anthropic/usage"),
        v.pointer("/bedrock/usage"),
        v.pointer("/anthropic"),
        Some(&v),
    ];
    for u in candidates.into_iter().flatten() {
        let all = u
            .get("cache_creation_input_tokens")
            .or_else(|| u.get("cacheWriteInputTokens"))
            .or_else(|| u.get("cacheCreationInputTokens"))
            .and_then(count);
        let one_hour = u
            .pointer("/cache_creation/ephemeral_1h_input_tokens")
            .and_then(count);
        if all.is_some() || one_hour.is_some() {
            return Some((all, one_hour));
        }
    }
    None
}

/// The `"model"` string of OpenInference's `llm.invocation_parameters` JSON, borrowed from it
/// (a value with escapes is not read).
pub fn invocation_model(json: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"\"model\"";
    let at = json.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = json[at..].trim_ascii_start().strip_prefix(b":")?;
    let body = rest.trim_ascii_start().strip_prefix(b"\"")?;
    let end = body.iter().position(|&b| b == b'"')?;
    let v = &body[..end];
    (!v.is_empty() && !v.contains(&b'\\')).then_some(v)
}

/// Cached, cache-write and reasoning counts from a LiteLLM usage object: `hidden_params` is
/// JSON with the object under `usage_object`; `metadata.usage_object` is the same object
/// written as a Python literal (single quotes, `None`). Counts only, so the literal is read
/// as JSON after swapping its spellings; a string with a double quote in it is not tried.
pub fn litellm_usage_object(blob: &str) -> Option<(Option<i64>, Option<i64>, Option<i64>)> {
    if !blob.contains("_tokens") {
        return None;
    }
    let v: Value = match serde_json::from_str(blob) {
        Ok(v) => v,
        Err(_) if !blob.contains('"') => serde_json::from_str(
            &blob
                .replace('\'', "\"")
                .replace("None", "null")
                .replace("True", "true")
                .replace("False", "false"),
        )
        .ok()?,
        Err(_) => return None,
    };
    let u = v
        .get("usage_object")
        .filter(|u| u.is_object())
        .unwrap_or(&v);
    let n = |p: &str| u.pointer(p).and_then(count);
    let read = n("/prompt_tokens_details/cached_tokens").or(n("/cache_read_input_tokens"));
    let write =
        n("/cache_creation_input_tokens").or(n("/prompt_tokens_details/cache_creation_tokens"));
    let reasoning = n("/completion_tokens_details/reasoning_tokens");
    (read.is_some() || write.is_some() || reasoning.is_some()).then_some((read, write, reasoning))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_parse() {
        let u = langfuse_usage(r#"{"input":70,"input_cached_tokens":30,"output":-1}"#).unwrap();
        assert_eq!(
            (u.input, u.cache_read, u.output),
            (Some(70), Some(30), Some(-1))
        );
        assert_eq!(langfuse_total_cost(r#"{"total":0.5}"#), Some(0.5));
        assert_eq!(langfuse_total_cost(r#"{"total":-0.5}"#), None);
        let m = r#"{"bedrock":{"usage":{"cacheWriteInputTokens":12}}}"#;
        assert_eq!(cache_writes(m), Some((Some(12), None)));
        assert_eq!(cache_writes("{}"), None);
        assert_eq!(
            cache_writes(r#"{"cache_creation_input_tokens":18446744073709551615}"#),
            Some((Some(i64::MAX), None))
        );
    }
}
