//! Users who sign in: validation and Argon2id passwords.

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use coupa_proto::admin::{CreateUser, UpdateUser, UserView};
use coupa_proto::errors::CoupaErrors;

use super::client::{looks_like_email, required_text};
use super::secret::{self, RandomnessUnavailable};
use super::time::format_rfc3339;

pub const MIN_PASSWORD: usize = 12;
pub const MAX_PASSWORD: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_id: String,
    pub login: String,
    pub email: String,
    pub name: String,
    /// The PHC string of an Argon2id hash.
    pub password_hash: String,
    pub active: bool,
    pub admin: bool,
    /// Sessions and tokens from before this instant are refused (set on deactivation and on
    /// a password change).
    pub sessions_valid_after: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

#[derive(Debug)]
pub enum UserError {
    Invalid(CoupaErrors),
    Randomness(RandomnessUnavailable),
}

impl From<RandomnessUnavailable> for UserError {
    fn from(error: RandomnessUnavailable) -> Self {
        Self::Randomness(error)
    }
}

/// The working memory of one Argon2id computation, kept and reused by whoever hashes, so
/// that hashing many passwords never allocates more than one block per worker.
#[derive(Default)]
pub struct PasswordMemory(Vec<Block>);

impl PasswordMemory {
    /// The blocks `params` need, or None past what this server will spend on one hash.
    fn blocks(&mut self, params: &Params) -> Option<&mut [Block]> {
        let count = params.block_count();
        if count > MAX_MEMORY_BLOCKS {
            return None;
        }
        if self.0.len() < count {
            self.0.resize(count, Block::default());
        }
        self.0.get_mut(..count)
    }
}

/// 64 MiB: a stored hash asking for more is treated as wrong, never computed.
const MAX_MEMORY_BLOCKS: usize = 64 * 1024;

impl UserRecord {
    pub fn create(
        input: CreateUser,
        now: i64,
        memory: &mut PasswordMemory,
    ) -> Result<Self, UserError> {
        let mut errors = CoupaErrors::new();
        let login = required_text(&mut errors, "login", &input.login);
        if login.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.add("login", "must not contain spaces");
        }
        let email = validate_email(&mut errors, &input.email);
        let name = required_text(&mut errors, "name", &input.name);
        validate_password(&mut errors, &input.password);
        if !errors.is_empty() {
            return Err(UserError::Invalid(errors));
        }
        Ok(Self {
            user_id: secret::generate_identifier()?,
            login,
            email,
            name,
            password_hash: hash_password(&input.password, memory)?,
            active: true,
            admin: input.admin,
            sessions_valid_after: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    pub fn update(
        &mut self,
        changes: UpdateUser,
        now: i64,
        memory: &mut PasswordMemory,
    ) -> Result<(), UserError> {
        let mut errors = CoupaErrors::new();
        if let Some(email) = &changes.email {
            self.email = validate_email(&mut errors, email);
        }
        if let Some(name) = &changes.name {
            self.name = required_text(&mut errors, "name", name);
        }
        if let Some(password) = &changes.password {
            validate_password(&mut errors, password);
        }
        if !errors.is_empty() {
            return Err(UserError::Invalid(errors));
        }
        if let Some(password) = &changes.password {
            self.password_hash = hash_password(password, memory)?;
            self.sessions_valid_after = now + 1;
        }
        if let Some(active) = changes.active {
            if self.active && !active {
                self.sessions_valid_after = now + 1;
            }
            self.active = active;
        }
        if let Some(admin) = changes.admin {
            self.admin = admin;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Whether `password` is this user's, compared in constant time.
    pub fn verify_password(&self, password: &str, memory: &mut PasswordMemory) -> bool {
        verify(password, &self.password_hash, memory)
    }

    pub fn view(&self) -> UserView {
        UserView {
            user_id: self.user_id.clone(),
            login: self.login.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            active: self.active,
            admin: self.admin,
            created_at: format_rfc3339(self.created_at),
            updated_at: format_rfc3339(self.updated_at),
        }
    }
}

/// Spends the time of one verification, so an unknown login answers as slowly as a wrong
/// password.
pub fn verify_nothing(password: &str, memory: &mut PasswordMemory) {
    // A hash of a random password nobody knows, made once.
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let decoy = DECOY.get_or_init(|| {
        secret::generate_secret()
            .ok()
            .and_then(|secret| hash_password(&secret, &mut PasswordMemory::default()).ok())
    });
    if let Some(decoy) = decoy {
        verify(password, decoy, memory);
    }
}

fn verify(password: &str, hash: &str, memory: &mut PasswordMemory) -> bool {
    use subtle::ConstantTimeEq;
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let Some(blocks) = memory.blocks(&params) else {
        return false;
    };
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut computed, blocks)
        .is_ok()
        && bool::from(computed.as_slice().ct_eq(expected.as_bytes()))
}

fn hash_password(
    password: &str,
    memory: &mut PasswordMemory,
) -> Result<String, RandomnessUnavailable> {
    let salt_bytes = secret::random_bytes::<16>()?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|_| RandomnessUnavailable)?;
    let params = Params::default();
    let blocks = memory.blocks(&params).ok_or(RandomnessUnavailable)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut out, blocks)
        .map_err(|_| RandomnessUnavailable)?;
    let out = Output::new(&out).map_err(|_| RandomnessUnavailable)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${out}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str()
    ))
}

fn validate_email(errors: &mut CoupaErrors, email: &str) -> String {
    let email = required_text(errors, "email", email);
    if !email.is_empty() && !looks_like_email(&email) {
        errors.add("email", "is invalid");
    }
    email
}

fn validate_password(errors: &mut CoupaErrors, password: &str) {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        errors.add(
            "password",
            format!("is too short (minimum is {MIN_PASSWORD} characters)"),
        );
    } else if length > MAX_PASSWORD {
        errors.add(
            "password",
            format!("is too long (maximum is {MAX_PASSWORD} characters)"),
        );
    }
}

impl crate::domain::listing::Listable for UserRecord {
    fn searched(&self) -> Vec<&str> {
        vec![&self.login, &self.name, &self.email, &self.user_id]
    }

    fn sort_key(&self, column: &str) -> Option<crate::domain::listing::SortKey> {
        use crate::domain::listing::SortKey;
        Some(match column {
            "login" => SortKey::text(&self.login),
            "name" => SortKey::text(&self.name),
            "email" => SortKey::text(&self.email),
            "admin" => SortKey::Number(i64::from(self.admin)),
            "active" => SortKey::Number(i64::from(self.active)),
            "created" => SortKey::Number(self.created_at),
            _ => return None,
        })
    }

    fn identity(&self) -> &str {
        &self.user_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CreateUser {
        CreateUser {
            login: "ada".into(),
            email: "ada@example.com".into(),
            name: "Ada Lovelace".into(),
            password: "correct horse battery".into(),
            admin: false,
        }
    }

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let memory = &mut PasswordMemory::default();
        let user = UserRecord::create(input(), 10, memory).unwrap();
        assert!(
            user.password_hash
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert!(user.verify_password("correct horse battery", memory));
        assert!(!user.verify_password("correct horse batter", memory));
        let other = UserRecord::create(input(), 10, memory).unwrap();
        assert_ne!(user.password_hash, other.password_hash, "salted");
        verify_nothing("anything", memory);
    }

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let memory = &mut PasswordMemory::default();
        let ours = hash_password("correct horse battery", memory).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &theirs, memory));
        assert!(!verify("wrong", &theirs, memory));
        assert!(!verify(
            "x",
            "$argon2id$v=19$m=9999999,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAA",
            memory
        ));
        assert!(!verify("x", "not a hash", memory));
    }

    #[test]
    fn validation_names_each_field() {
        let error = UserRecord::create(
            CreateUser {
                login: "a b".into(),
                email: "nope".into(),
                name: " ".into(),
                password: "short".into(),
                admin: false,
            },
            0,
            &mut PasswordMemory::default(),
        );
        let Err(UserError::Invalid(errors)) = error else {
            panic!("expected errors");
        };
        let json = serde_json::to_value(&errors).unwrap();
        for field in ["login", "email", "name", "password"] {
            assert!(json["errors"][field].is_array(), "{field}: {json}");
        }
    }

    #[test]
    fn a_password_change_or_deactivation_ends_sessions() {
        let memory = &mut PasswordMemory::default();
        let mut user = UserRecord::create(input(), 10, memory).unwrap();
        user.update(
            UpdateUser {
                password: Some("another long password".into()),
                ..UpdateUser::default()
            },
            20,
            memory,
        )
        .unwrap();
        assert_eq!(user.sessions_valid_after, 21);
        assert!(user.verify_password("another long password", memory));
        user.update(
            UpdateUser {
                active: Some(false),
                ..UpdateUser::default()
            },
            30,
            memory,
        )
        .unwrap();
        assert!(!user.active);
        assert_eq!(user.sessions_valid_after, 31);
    }
}
