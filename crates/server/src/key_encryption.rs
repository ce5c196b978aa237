//! Signing keys encrypted at rest: AES-256-GCM under a key encryption key (KEK) that never
//! enters the database. Each sealed key is `nonce || ciphertext || tag`, its key id bound in as
//! associated data (a sealed key cannot be passed off as another), and the KEK's id stored
//! beside it, so a server given the wrong KEK says so instead of failing obscurely.

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::domain::secret;

pub const KEY_LENGTH: usize = 32;

pub struct KeyEncryptionKey {
    id: String,
    key: LessSafeKey,
}

#[derive(Debug, thiserror::Error)]
pub enum KekError {
    #[error(
        "the key encryption key must be {KEY_LENGTH} random bytes, written in base64 or hex \
         (for example the output of `openssl rand -base64 32`)"
    )]
    Malformed,
    #[error("{0}")]
    File(String),
    #[error("the system random number generator failed")]
    Randomness,
    #[error(
        "the signing key {kid} does not decrypt with this key encryption key: it was damaged or sealed under another one"
    )]
    Undecryptable { kid: String },
    #[error(
        "the signing key {kid} is sealed under the key encryption key {sealed_with}, but this server has {ours}: \
         start it with the same COUPA_KEY_ENCRYPTION_KEY (or key file) as the servers that made the key"
    )]
    Foreign {
        kid: String,
        sealed_with: String,
        ours: String,
    },
}

/// The stored keys with their private keys opened (a key still in clear is taken as it is).
pub fn open_all(
    kek: &KeyEncryptionKey,
    stored: Vec<crate::store::StoredKey>,
) -> Result<Vec<crate::store::StoredKey>, KekError> {
    stored
        .into_iter()
        .map(|key| match key.kek_id.as_deref() {
            None => Ok(key),
            Some(id) if id == kek.id() => Ok(crate::store::StoredKey {
                private_key: kek.open(&key.private_key, &key.kid)?,
                kek_id: None,
                ..key
            }),
            Some(id) => Err(KekError::Foreign {
                kid: key.kid.clone(),
                sealed_with: id.to_string(),
                ours: kek.id().to_string(),
            }),
        })
        .collect()
}

impl KeyEncryptionKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KekError> {
        if bytes.len() != KEY_LENGTH {
            return Err(KekError::Malformed);
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KekError::Malformed)?;
        let digest = secret::digest(&URL_SAFE_NO_PAD.encode(bytes));
        Ok(Self {
            id: crate::cache::hex(digest.get(..8).unwrap_or_default()),
            key: LessSafeKey::new(key),
        })
    }

    /// Base64 (standard or URL-safe, padded or not) or hex of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, KekError> {
        let text = text.trim();
        let bytes = if text.len() == KEY_LENGTH * 2 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..KEY_LENGTH)
                .map(|index| {
                    text.get(index * 2..index * 2 + 2)
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or(KekError::Malformed)?
        } else {
            let unpadded = text
                .trim_end_matches('=')
                .replace('+', "-")
                .replace('/', "_");
            URL_SAFE_NO_PAD
                .decode(unpadded)
                .map_err(|_| KekError::Malformed)?
        };
        Self::from_bytes(&bytes)
    }

    /// Identifies the KEK without revealing it: stored beside every key it sealed.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn seal(&self, plaintext: &[u8], kid: &str) -> Result<Vec<u8>, KekError> {
        let nonce_bytes = secret::random_bytes::<NONCE_LEN>().map_err(|_| KekError::Randomness)?;
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(kid.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| KekError::Randomness)?;
        let mut out = nonce_bytes.to_vec();
        out.append(&mut sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], kid: &str) -> Result<Vec<u8>, KekError> {
        let undecryptable = || KekError::Undecryptable {
            kid: kid.to_string(),
        };
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or_else(undecryptable)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| undecryptable())?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buffer)
            .map_err(|_| undecryptable())?;
        Ok(plaintext.to_vec())
    }
}

/// Where the KEK of a start came from, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekSource {
    Environment,
    File(PathBuf),
    /// Generated by this start into this file.
    Generated(PathBuf),
}

/// The KEK from `COUPA_KEY_ENCRYPTION_KEY`, else from `file`, else the one kept in
/// `default_file` (generated there, 0600, when missing).
pub fn load(
    from_environment: Option<&str>,
    file: Option<&Path>,
    default_file: Option<&Path>,
) -> Result<(KeyEncryptionKey, KekSource), KekError> {
    if let Some(text) = from_environment {
        return Ok((KeyEncryptionKey::parse(text)?, KekSource::Environment));
    }
    if let Some(file) = file {
        return Ok((read_file(file)?, KekSource::File(file.to_path_buf())));
    }
    let Some(file) = default_file else {
        return Err(KekError::File(
            "set COUPA_KEY_ENCRYPTION_KEY (or --key-encryption-key-file) to 32 random bytes in \
             base64, e.g. `openssl rand -base64 32`, the same on every replica"
                .into(),
        ));
    };
    if file.exists() {
        return Ok((read_file(file)?, KekSource::File(file.to_path_buf())));
    }
    let bytes = secret::random_bytes::<KEY_LENGTH>().map_err(|_| KekError::Randomness)?;
    let text = format!("{}\n", STANDARD.encode(bytes));
    // Replicas starting together on one SQLite file: the first to link its file wins.
    let created = crate::private_files::write_new_private(file, text.as_bytes())
        .map_err(|error| KekError::File(format!("cannot write {}: {error}", file.display())))?;
    if created {
        Ok((
            KeyEncryptionKey::from_bytes(&bytes)?,
            KekSource::Generated(file.to_path_buf()),
        ))
    } else {
        Ok((read_file(file)?, KekSource::File(file.to_path_buf())))
    }
}

fn read_file(file: &Path) -> Result<KeyEncryptionKey, KekError> {
    crate::private_files::refuse_open_to_others(file).map_err(KekError::File)?;
    let text = std::fs::read_to_string(file)
        .map_err(|error| KekError::File(format!("cannot read {}: {error}", file.display())))?;
    KeyEncryptionKey::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_bound_to_the_key_id() {
        let kek = KeyEncryptionKey::from_bytes(&[7u8; 32]).unwrap();
        let sealed = kek.seal(b"pkcs8 bytes", "kid-1").unwrap();
        assert_ne!(&sealed[NONCE_LEN..], b"pkcs8 bytes");
        assert_eq!(kek.open(&sealed, "kid-1").unwrap(), b"pkcs8 bytes");
        assert!(kek.open(&sealed, "kid-2").is_err(), "bound to its kid");
        let other = KeyEncryptionKey::from_bytes(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, "kid-1").is_err());
        assert_ne!(kek.id(), other.id());
        assert!(kek.open(&sealed[..5], "kid-1").is_err());
    }

    #[test]
    fn parses_base64_and_hex_and_refuses_other_lengths() {
        let bytes = [0xABu8; 32];
        let from_b64 = KeyEncryptionKey::parse(&STANDARD.encode(bytes)).unwrap();
        let from_hex = KeyEncryptionKey::parse(&"ab".repeat(32)).unwrap();
        assert_eq!(from_b64.id(), from_hex.id());
        assert!(KeyEncryptionKey::parse("c2hvcnQ=").is_err());
        assert!(KeyEncryptionKey::parse("not base64 at all!").is_err());
    }

    #[test]
    fn generates_a_private_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("coupa.db.key-encryption-key");
        let (first, source) = load(None, None, Some(&file)).unwrap();
        assert_eq!(source, KekSource::Generated(file.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = load(None, None, Some(&file)).unwrap();
        assert_eq!(source, KekSource::File(file));
        assert_eq!(first.id(), again.id());
        assert!(
            load(None, None, None).is_err(),
            "no default file: must be given"
        );
    }
}
