//! Hashing of masked values: contrib's functions for compatibility, keyed HMAC-SHA256 for
//! Tollbooth's own tokens (equal values give equal tokens, and a dictionary of guesses cannot
//! reverse them without the key).

use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use sha3::Sha3_256;

use super::config::{HashFunction, RedactionConfig};

/// The key material, kept out of `Debug` output so it is never logged.
#[derive(Clone, Default)]
pub struct HmacKey(Vec<u8>);

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HmacKey({} bytes)", self.0.len())
    }
}

impl HmacKey {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Resolves the key from `hmac_key`, `hmac_key_env` or `hmac_key_file` (at most one).
    /// Errors name the key but never echo its value.
    pub fn resolve(c: &RedactionConfig) -> Result<HmacKey, String> {
        let given = [
            !c.hmac_key.is_empty(),
            c.hmac_key_env.is_some(),
            c.hmac_key_file.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(
                "redaction: set only one of hmac_key, hmac_key_env and hmac_key_file".into(),
            );
        }
        if let Some(var) = &c.hmac_key_env {
            return match std::env::var_os(var) {
                Some(v) if !v.is_empty() => Ok(HmacKey(v.to_string_lossy().as_bytes().to_vec())),
                _ => Err(format!(
                    "redaction.hmac_key_env: environment variable {var:?} is unset or empty"
                )),
            };
        }
        if let Some(path) = &c.hmac_key_file {
            let mut bytes = std::fs::read(path)
                .map_err(|e| format!("redaction.hmac_key_file: cannot read {path:?}: {e}"))?;
            while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                bytes.pop();
            }
            return Ok(HmacKey(bytes));
        }
        Ok(HmacKey(c.hmac_key.as_bytes().to_vec()))
    }
}

/// Hex digest of `input` under contrib's `hash_function` (`None` is not a hash: callers mask).
pub fn contrib_hash(f: HashFunction, key: &HmacKey, input: &str) -> String {
    let b = input.as_bytes();
    match f {
        HashFunction::None => "****".to_string(),
        HashFunction::Md5 => hex(&Md5::digest(b)),
        HashFunction::Sha1 => hex(&Sha1::digest(b)),
        HashFunction::Sha3 => hex(&Sha3_256::digest(b)),
        HashFunction::HmacSha256 => hmac_sha256_hex(key, input),
        HashFunction::HmacSha512 => {
            let mut m = Hmac::<Sha512>::new_from_slice(&key.0).expect("HMAC takes any key length");
            m.update(b);
            hex(&m.finalize().into_bytes())
        }
    }
}

/// Keyed HMAC-SHA256, hex-encoded.
pub fn hmac_sha256_hex(key: &HmacKey, input: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key length");
    m.update(input.as_bytes());
    hex(&m.finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// Minimum key lengths contrib enforces for its HMAC functions.
pub fn min_key_len(f: HashFunction) -> usize {
    match f {
        HashFunction::HmacSha512 => 64,
        _ => 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let k = HmacKey(b"key".to_vec());
        assert_eq!(
            contrib_hash(HashFunction::Md5, &k, "abc"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            contrib_hash(HashFunction::Sha1, &k, "abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            contrib_hash(HashFunction::Sha3, &k, "abc"),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        // RFC 4231-style check value for key "key".
        assert_eq!(
            hmac_sha256_hex(&k, "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = HmacKey(b"super-secret-key".to_vec());
        assert!(!format!("{k:?}").contains("secret"));
    }
}
