//! Secrets and identifiers: generated from the operating system's CSPRNG, stored only as
//! SHA-256 digests, compared in constant time. A slow password hash would buy nothing for
//! 256-bit random values and would cap the token endpoint.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomnessUnavailable;

pub type Digest = [u8; 32];

pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomnessUnavailable> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RandomnessUnavailable)?;
    Ok(bytes)
}

/// A 256-bit secret, base64url without padding (43 characters).
pub fn generate_secret() -> Result<String, RandomnessUnavailable> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A 128-bit identifier as 32 lower-case hex digits.
pub fn generate_identifier() -> Result<String, RandomnessUnavailable> {
    Ok(random_bytes::<16>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

pub fn digest(secret: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, secret.as_bytes()).as_ref());
    out
}

/// Constant-time comparison of a presented secret with a stored digest.
pub fn matches(presented: &str, stored: &[u8]) -> bool {
    bool::from(digest(presented).as_slice().ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bit_and_distinct() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(generate_identifier().unwrap().len(), 32);
    }

    #[test]
    fn digests_compare() {
        let stored = digest("s3cret");
        assert!(matches("s3cret", &stored));
        assert!(!matches("s3cre", &stored));
        assert!(!matches("s3cret", &stored[..31]));
    }
}
