//! The signing key ring: keys generated on first start and kept in the database so every
//! replica signs with the same ring; JWT signing and verification; the public JWKS.
//!
//! Verification pins the algorithm to the key named by `kid`: the `alg` header can never pick
//! a weaker algorithm or another key type.

use std::collections::HashMap;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
    UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::domain::key_schedule::{self, KeySchedule, NewKey};
use crate::domain::secret;
use crate::domain::time::now_unix;
use crate::store::StoredKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Es256,
    Rs256,
    EdDsa,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            "EDDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed")]
    Generation,
    #[error("stored key {0} cannot be loaded")]
    Corrupt(String),
    #[error("signing failed")]
    Signing,
    #[error("no {} key signs now", .0.as_str())]
    NoSigningKey(Algorithm),
    #[error("claims cannot be serialized")]
    Serialization,
}

enum PrivateKey {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed(Ed25519KeyPair),
}

struct LoadedKey {
    kid: String,
    alg: Algorithm,
    schedule: KeySchedule,
    private: PrivateKey,
    /// The raw public key as `UnparsedPublicKey` expects it for `alg`.
    public: Vec<u8>,
    jwk: Value,
}

/// Generates a new key for `alg` in the place `new` gives it, ready to be sealed and stored.
pub fn generate(alg: Algorithm, new: &NewKey, now: i64) -> Result<StoredKey, KeyError> {
    let rng = SystemRandom::new();
    let private_key = match alg {
        Algorithm::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Generation)?
            .as_ref()
            .to_vec(),
        Algorithm::EdDsa => Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| KeyError::Generation)?
            .as_ref()
            .to_vec(),
        Algorithm::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|pair| pair.as_der())
            .map_err(|_| KeyError::Generation)?
            .as_ref()
            .to_vec(),
    };
    let kid =
        URL_SAFE_NO_PAD.encode(secret::random_bytes::<12>().map_err(|_| KeyError::Generation)?);
    Ok(StoredKey {
        kid,
        alg: alg.as_str().to_string(),
        private_key,
        created_at: now,
        generation: new.generation,
        activate_at: new.activate_at,
        retired_at: None,
        expires_at: None,
        kek_id: None,
    })
}

fn load(stored: &StoredKey) -> Result<LoadedKey, KeyError> {
    let corrupt = || KeyError::Corrupt(stored.kid.clone());
    let alg = Algorithm::parse(&stored.alg).ok_or_else(corrupt)?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let (private, public, mut jwk) = match alg {
        Algorithm::Es256 => {
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &stored.private_key)
                    .map_err(|_| corrupt())?;
            let point = pair.public_key().as_ref().to_vec();
            // Uncompressed SEC1 point: 0x04 || x || y.
            if point.len() != 65 {
                return Err(corrupt());
            }
            let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])});
            (PrivateKey::Ec(pair), point, jwk)
        }
        Algorithm::EdDsa => {
            let pair = Ed25519KeyPair::from_pkcs8(&stored.private_key).map_err(|_| corrupt())?;
            let public = pair.public_key().as_ref().to_vec();
            let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&public)});
            (PrivateKey::Ed(pair), public, jwk)
        }
        Algorithm::Rs256 => {
            let pair = RsaKeyPair::from_pkcs8(&stored.private_key).map_err(|_| corrupt())?;
            let public_key = pair.public_key();
            let jwk = json!({
                "kty": "RSA",
                "n": b64(public_key.modulus().big_endian_without_leading_zero()),
                "e": b64(public_key.exponent().big_endian_without_leading_zero()),
            });
            let public = public_key.as_ref().to_vec();
            (PrivateKey::Rsa(pair), public, jwk)
        }
    };
    if let Some(object) = jwk.as_object_mut() {
        object.insert("kid".into(), json!(stored.kid));
        object.insert("use".into(), json!("sig"));
        object.insert("alg".into(), json!(alg.as_str()));
    }
    Ok(LoadedKey {
        kid: stored.kid.clone(),
        alg,
        schedule: stored.schedule(),
        private,
        public,
        jwk,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    WrongType,
    UnknownKey,
    /// The key has been retired and its verification window has ended.
    RetiredKey,
    BadSignature,
}

impl JwtError {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "the access token is not a well-formed JWT",
            Self::WrongType => "the token is not an access token (typ at+jwt)",
            Self::UnknownKey => "the access token is signed with an unknown key",
            Self::RetiredKey => "the access token is signed with a retired key",
            Self::BadSignature => "the access token signature is invalid",
        }
    }
}

/// Longest token the verifier looks at; ours are well under 2 KiB.
const MAX_TOKEN_LENGTH: usize = 16 * 1024;

/// A token naming a key this replica does not know makes it read the key ring again, at most
/// this often (another replica may just have added the key).
pub const UNKNOWN_KID_RELOAD_GAP: std::time::Duration = std::time::Duration::from_secs(3);

/// The key ring handlers use, replaced whole when it is read again.
pub struct SharedKeyRing {
    ring: std::sync::RwLock<std::sync::Arc<KeyRing>>,
    last_unknown_kid_reload: std::sync::Mutex<Option<std::time::Instant>>,
}

impl SharedKeyRing {
    pub fn new(ring: KeyRing) -> Self {
        Self {
            ring: std::sync::RwLock::new(std::sync::Arc::new(ring)),
            last_unknown_kid_reload: std::sync::Mutex::new(None),
        }
    }

    pub fn current(&self) -> std::sync::Arc<KeyRing> {
        let ring = self
            .ring
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::sync::Arc::clone(&ring)
    }

    pub fn replace(&self, ring: KeyRing) {
        *self
            .ring
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = std::sync::Arc::new(ring);
    }

    /// Whether an unknown `kid` may trigger a reload now; true at most once per
    /// `UNKNOWN_KID_RELOAD_GAP`, so tokens with made-up kids cannot make it read the store
    /// more often.
    pub fn may_reload_for_unknown_kid(&self) -> bool {
        let mut last = self
            .last_unknown_kid_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < UNKNOWN_KID_RELOAD_GAP) {
            return false;
        }
        *last = Some(now);
        true
    }
}

pub struct KeyRing {
    keys: HashMap<String, LoadedKey>,
    /// Kids in the order the JWKS lists them: by algorithm, then generation.
    order: Vec<String>,
    signing_alg: Algorithm,
    rng: SystemRandom,
}

impl KeyRing {
    /// Builds the ring from every stored key; signs access tokens with the key of
    /// `signing_alg` that the schedule makes active at the moment of signing.
    pub fn new(stored: &[StoredKey], signing_alg: Algorithm) -> Result<Self, KeyError> {
        let mut keys = HashMap::new();
        let mut order = Vec::new();
        for key in stored {
            let loaded = load(key)?;
            order.push(loaded.kid.clone());
            keys.insert(loaded.kid.clone(), loaded);
        }
        Ok(Self {
            keys,
            order,
            signing_alg,
            rng: SystemRandom::new(),
        })
    }

    /// Every key's schedule, as loaded.
    pub fn schedules(&self) -> Vec<KeySchedule> {
        self.order
            .iter()
            .filter_map(|kid| self.keys.get(kid))
            .map(|key| key.schedule.clone())
            .collect()
    }

    /// The public keys that verify at `now`: those waiting to sign, signing, or retired with
    /// tokens still alive.
    pub fn jwks(&self, now: i64) -> Value {
        let keys: Vec<&Value> = self
            .order
            .iter()
            .filter_map(|kid| self.keys.get(kid))
            .filter(|key| key.schedule.verifies_at(now))
            .map(|key| &key.jwk)
            .collect();
        json!({ "keys": keys })
    }

    pub fn signing_algorithm(&self) -> Algorithm {
        self.signing_alg
    }

    /// The kid that signs `alg` tokens at `now`.
    pub fn signing_kid(&self, alg: Algorithm, now: i64) -> Option<&str> {
        key_schedule::signing_key(
            self.keys.values().map(|key| &key.schedule),
            alg.as_str(),
            now,
        )
        .map(|schedule| schedule.kid.as_str())
    }

    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, KeyError> {
        self.sign_as(self.signing_alg, typ, claims)
    }

    /// Signs with the active key of `alg`, whatever the configured signing algorithm.
    pub fn sign_as<T: Serialize>(
        &self,
        alg: Algorithm,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        let kid = self
            .signing_kid(alg, now_unix())
            .ok_or(KeyError::NoSigningKey(alg))?;
        self.sign_with_kid(kid, typ, claims)
    }

    fn sign_with_kid<T: Serialize>(
        &self,
        kid: &str,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        let key = self.keys.get(kid).ok_or(KeyError::Signing)?;
        let header = json!({"alg": key.alg.as_str(), "typ": typ, "kid": key.kid});
        let header = serde_json::to_vec(&header).map_err(|_| KeyError::Serialization)?;
        let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Serialization)?;
        let mut token = String::with_capacity(header.len() * 2 + payload.len() * 2);
        URL_SAFE_NO_PAD.encode_string(&header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = match &key.private {
            PrivateKey::Ec(pair) => pair
                .sign(&self.rng, token.as_bytes())
                .map_err(|_| KeyError::Signing)?
                .as_ref()
                .to_vec(),
            PrivateKey::Ed(pair) => pair.sign(token.as_bytes()).as_ref().to_vec(),
            PrivateKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &self.rng,
                    token.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| KeyError::Signing)?;
                signature
            }
        };
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
        Ok(token)
    }

    /// Verifies signature and `typ`, then decodes the claims. Time and issuer are the
    /// caller's to check.
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        expected_typ: &str,
    ) -> Result<T, JwtError> {
        if token.len() > MAX_TOKEN_LENGTH {
            return Err(JwtError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: Value = decode_json(header_b64)?;
        let typ = header
            .get("typ")
            .and_then(Value::as_str)
            .ok_or(JwtError::WrongType)?;
        let typ_matches = typ.eq_ignore_ascii_case(expected_typ)
            || typ
                .strip_prefix("application/")
                .is_some_and(|rest| rest.eq_ignore_ascii_case(expected_typ));
        if !typ_matches {
            return Err(JwtError::WrongType);
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(JwtError::UnknownKey)?;
        let key = self.keys.get(kid).ok_or(JwtError::UnknownKey)?;
        if !key.schedule.verifies_at(now_unix()) {
            return Err(JwtError::RetiredKey);
        }
        if header.get("alg").and_then(Value::as_str) != Some(key.alg.as_str()) {
            return Err(JwtError::BadSignature);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|_| JwtError::Malformed)?;
        let signed = &token[..header_b64.len() + 1 + payload_b64.len()];
        let algorithm: &dyn signature::VerificationAlgorithm = match key.alg {
            Algorithm::Es256 => &ECDSA_P256_SHA256_FIXED,
            Algorithm::EdDsa => &ED25519,
            Algorithm::Rs256 => &RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, &key.public)
            .verify(signed.as_bytes(), &signature)
            .map_err(|_| JwtError::BadSignature)?;
        decode_json(payload_b64)
    }
}

fn decode_json<T: DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ring(alg: Algorithm) -> KeyRing {
        let first = NewKey {
            alg: alg.as_str().into(),
            generation: 1,
            activate_at: 0,
        };
        KeyRing::new(&[generate(alg, &first, 0).unwrap()], alg).unwrap()
    }

    #[test]
    fn a_shared_ring_is_replaced_whole_and_unknown_kids_reload_it_rarely() {
        let shared = SharedKeyRing::new(ring(Algorithm::Es256));
        let token = shared.current().sign("at+jwt", &json!({"a": 1})).unwrap();
        shared.replace(ring(Algorithm::EdDsa));
        assert!(matches!(
            shared.current().verify::<Value>(&token, "at+jwt"),
            Err(JwtError::UnknownKey)
        ));
        assert!(shared.may_reload_for_unknown_kid());
        assert!(
            !shared.may_reload_for_unknown_kid(),
            "not again within the gap"
        );
    }

    #[test]
    fn signs_and_verifies_with_every_algorithm() {
        for alg in [Algorithm::Es256, Algorithm::Rs256, Algorithm::EdDsa] {
            let ring = ring(alg);
            let token = ring.sign("at+jwt", &json!({"sub": "x"})).unwrap();
            let claims: Value = ring.verify(&token, "at+jwt").unwrap();
            assert_eq!(claims["sub"], "x", "{alg:?}");
            assert_eq!(ring.jwks(now_unix())["keys"][0]["alg"], alg.as_str());
        }
    }

    #[test]
    fn refuses_tampering_other_keys_and_other_types() {
        let ring_a = ring(Algorithm::Es256);
        let ring_b = ring(Algorithm::Es256);
        let token = ring_a
            .sign("at+jwt", &json!({"scope": "core.invoice.read"}))
            .unwrap();
        assert_eq!(
            ring_b.verify::<Value>(&token, "at+jwt").unwrap_err(),
            JwtError::UnknownKey
        );
        assert_eq!(
            ring_a.verify::<Value>(&token, "JWT").unwrap_err(),
            JwtError::WrongType
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"scope":"core.invoice.write"}"#);
        parts[1] = &forged;
        assert_eq!(
            ring_a
                .verify::<Value>(&parts.join("."), "at+jwt")
                .unwrap_err(),
            JwtError::BadSignature
        );
    }

    #[test]
    fn refuses_an_alg_header_that_differs_from_the_key() {
        let ring = ring(Algorithm::Es256);
        let token = ring.sign("at+jwt", &json!({})).unwrap();
        let kid = ring.signing_kid(Algorithm::Es256, 0).unwrap().to_string();
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}"}}"#));
        let rest = token.split_once('.').unwrap().1;
        assert_eq!(
            ring.verify::<Value>(&format!("{header}.{rest}"), "at+jwt")
                .unwrap_err(),
            JwtError::BadSignature
        );
    }

    proptest! {
        #[test]
        fn verify_never_panics(token in "[A-Za-z0-9_.-]{0,300}") {
            let ring = ring(Algorithm::EdDsa);
            let _ = ring.verify::<Value>(&token, "at+jwt");
        }
    }
}
