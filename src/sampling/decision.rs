//! Policy decisions and how contrib folds them into one final decision per trace.

use serde::Serialize;

/// A policy's answer for one trace (contrib's `samplingpolicy.Decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Sampled,
    NotSampled,
    /// A `drop` policy matched: final, overrides everything.
    Dropped,
    /// From `invert_match`: sampled unless another policy says NotSampled.
    InvertSampled,
    /// From `invert_match`: not sampled, overriding plain Sampled.
    InvertNotSampled,
}

/// The outcome for a whole trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalDecision {
    Sampled,
    NotSampled,
    Dropped,
}

impl FinalDecision {
    pub fn is_sampled(self) -> bool {
        self == FinalDecision::Sampled
    }
}

/// Which decisions any policy returned for one trace.
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen {
    pub sampled: bool,
    pub not_sampled: bool,
    pub dropped: bool,
    pub invert_sampled: bool,
    pub invert_not_sampled: bool,
}

impl Seen {
    pub fn record(&mut self, d: Decision) {
        match d {
            Decision::Sampled => self.sampled = true,
            Decision::NotSampled => self.not_sampled = true,
            Decision::Dropped => self.dropped = true,
            Decision::InvertSampled => self.invert_sampled = true,
            Decision::InvertNotSampled => self.invert_not_sampled = true,
        }
    }

    /// Contrib's precedence: Dropped > InvertNotSampled > Sampled > InvertSampled (only if no
    /// policy said NotSampled) > the default, NotSampled.
    pub fn fold(&self) -> FinalDecision {
        if self.dropped {
            FinalDecision::Dropped
        } else if self.invert_not_sampled {
            FinalDecision::NotSampled
        } else if self.sampled || (self.invert_sampled && !self.not_sampled) {
            FinalDecision::Sampled
        } else {
            FinalDecision::NotSampled
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decision::*;

    fn fold(ds: &[Decision]) -> FinalDecision {
        let mut s = Seen::default();
        ds.iter().for_each(|d| s.record(*d));
        s.fold()
    }

    #[test]
    fn precedence_matches_contrib() {
        assert_eq!(fold(&[]), FinalDecision::NotSampled);
        assert_eq!(fold(&[Sampled, Dropped]), FinalDecision::Dropped);
        assert_eq!(
            fold(&[Sampled, InvertNotSampled]),
            FinalDecision::NotSampled
        );
        assert_eq!(fold(&[NotSampled, Sampled]), FinalDecision::Sampled);
        assert_eq!(fold(&[InvertSampled]), FinalDecision::Sampled);
        assert_eq!(
            fold(&[InvertSampled, NotSampled]),
            FinalDecision::NotSampled
        );
    }
}
