//! A borrowed view of one OTLP `AnyValue`, as the reader finds it in the batch bytes.
//!
//! Strings are byte ranges of the batch: the collector's pdata accepts strings that are not
//! valid UTF-8, so nothing here assumes they are. A stage that needs text asks for it
//! ([`AnyRef::text`], lossy) or for exact UTF-8 ([`AnyRef::utf8`]); a stage that scans bytes
//! (redaction) reads [`AnyRef::Str`] directly. Arrays and key-value lists stay encoded: their
//! bytes are the body of the `ArrayValue` / `KeyValueList` message, walked only by the stages
//! that need them.

use std::borrow::Cow;

/// One attribute value, borrowed from the batch bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AnyRef<'a> {
    /// `string_value`: the bytes as sent, not necessarily UTF-8.
    Str(&'a [u8]),
    Bool(bool),
    Int(i64),
    Double(f64),
    /// `bytes_value`.
    Bytes(&'a [u8]),
    /// `array_value`: the encoded `ArrayValue` message body.
    Array(&'a [u8]),
    /// `kvlist_value`: the encoded `KeyValueList` message body.
    KvList(&'a [u8]),
    /// No value set (pdata's `Empty`).
    Empty,
}

impl<'a> AnyRef<'a> {
    /// The string value as text; invalid UTF-8 sequences become U+FFFD. `None` for other types.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match self {
            AnyRef::Str(b) => Some(String::from_utf8_lossy(b)),
            _ => None,
        }
    }

    /// The string value when it is valid UTF-8; `None` for other types and invalid bytes.
    pub fn utf8(&self) -> Option<&'a str> {
        match self {
            AnyRef::Str(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}

/// One attribute: key bytes (also not necessarily UTF-8) and its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyValueRef<'a> {
    pub key: &'a [u8],
    pub value: AnyRef<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_lossy_and_utf8_is_exact() {
        let bad = AnyRef::Str(b"gpt-4o\xff");
        assert_eq!(bad.text().as_deref(), Some("gpt-4o\u{fffd}"));
        assert_eq!(bad.utf8(), None);
        let good = AnyRef::Str(b"gpt-4o");
        assert_eq!(good.utf8(), Some("gpt-4o"));
        assert_eq!(AnyRef::Int(3).text(), None);
    }
}
