//! How long something lasts, as settings give it: a token's life, a grace period, a timeout.

use std::time::Duration;

/// Whole seconds, at most ten years: written `86399`, `86399s`, `30m`, `20h` or `90d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lifetime(Duration);

const TEN_YEARS: u64 = 10 * 365 * 86_400;

impl Lifetime {
    pub const fn from_secs(seconds: u64) -> Self {
        Self(Duration::from_secs(seconds))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        let amount: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is not a duration such as 86399, 30m, 20h or 90d"))?;
        let multiplier = match unit {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(format!("`{text}` has an unknown unit; use s, m, h or d")),
        };
        amount
            .checked_mul(multiplier)
            .filter(|seconds| *seconds <= TEN_YEARS)
            .map(Self::from_secs)
            .ok_or_else(|| format!("`{text}` is longer than ten years"))
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    /// Whole seconds, for what counts them unsigned (cookies' `Max-Age`, `expires_in`).
    pub fn secs(self) -> u64 {
        self.0.as_secs()
    }

    /// Whole seconds, for arithmetic on Unix times (never more than ten years, so it fits).
    pub fn seconds(self) -> i64 {
        i64::try_from(self.0.as_secs()).unwrap_or(i64::MAX)
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units() {
        assert_eq!(Lifetime::parse("20h").unwrap().secs(), 72_000);
        assert_eq!(Lifetime::parse("86399").unwrap().seconds(), 86_399);
        assert!(Lifetime::parse("5 minutes").is_err());
        assert!(Lifetime::parse("99999999999999999999d").is_err());
        assert!(Lifetime::parse("3651d").is_err());
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(text in "\\PC{0,40}") {
            let _ = Lifetime::parse(&text);
        }
    }
}
