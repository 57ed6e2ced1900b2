//! Token bucket with the semantics of Go's `golang.org/x/time/rate` `AllowN`, driven by the
//! injected clock: starts full, refills continuously, refuses (without spending) a request
//! larger than the tokens available or than the burst.

#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    pub fn new(per_second: f64, burst: f64) -> Self {
        TokenBucket {
            per_second: per_second.max(0.0),
            burst: burst.max(0.0),
            tokens: 0.0,
            last_ns: None,
        }
    }

    fn advance(&mut self, now_ns: u64) {
        match self.last_ns {
            None => self.tokens = self.burst,
            Some(last) => {
                let elapsed = now_ns.saturating_sub(last) as f64 / 1e9;
                self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
            }
        }
        // Time never runs backwards for the bucket.
        self.last_ns = Some(self.last_ns.map_or(now_ns, |l| l.max(now_ns)));
    }

    /// Spends `n` tokens if available.
    pub fn allow_n(&mut self, now_ns: u64, n: f64) -> bool {
        self.advance(now_ns);
        if n > self.burst || n > self.tokens {
            return false;
        }
        self.tokens -= n;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_full_refills_and_caps() {
        let mut b = TokenBucket::new(10.0, 20.0);
        assert!(b.allow_n(0, 20.0));
        assert!(!b.allow_n(0, 1.0));
        assert!(b.allow_n(500_000_000, 5.0)); // half a second: 5 tokens
        assert!(!b.allow_n(500_000_000, 1.0));
        assert!(!b.allow_n(100_000_000_000, 21.0)); // over burst, never
        assert!(b.allow_n(100_000_000_000, 20.0)); // capped at burst
    }
}
