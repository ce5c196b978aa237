//! Users who sign in: validation and Argon2id passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use coupa_proto::admin::{CreateUser, UpdateUser, UserView};
use coupa_proto::errors::CoupaErrors;

use super::client::{looks_like_email, required_text};
use super::secret::{self, RandomnessUnavailable};
use super::time::format_rfc3339;

pub const MIN_PASSWORD: usize = 12;
const MAX_PASSWORD: usize = 1024;

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

impl UserRecord {
    pub fn create(input: CreateUser, now: i64) -> Result<Self, UserError> {
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
            password_hash: hash_password(&input.password)?,
            active: true,
            admin: input.admin,
            sessions_valid_after: 0,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    pub fn update(&mut self, changes: UpdateUser, now: i64) -> Result<(), UserError> {
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
            self.password_hash = hash_password(password)?;
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

    /// Whether `password` is this user's; Argon2's verification compares in constant time.
    pub fn verify_password(&self, password: &str) -> bool {
        verify(password, &self.password_hash)
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
pub fn verify_nothing(password: &str) {
    // A hash of a random password nobody knows, made once.
    static DECOY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let decoy = DECOY.get_or_init(|| {
        secret::generate_secret()
            .ok()
            .and_then(|secret| hash_password(&secret).ok())
    });
    if let Some(decoy) = decoy {
        verify(password, decoy);
    }
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn hash_password(password: &str) -> Result<String, RandomnessUnavailable> {
    let salt = SaltString::encode_b64(&secret::random_bytes::<16>()?)
        .map_err(|_| RandomnessUnavailable)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| RandomnessUnavailable)
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
        let user = UserRecord::create(input(), 10).unwrap();
        assert!(user.password_hash.starts_with("$argon2id$"));
        assert!(user.verify_password("correct horse battery"));
        assert!(!user.verify_password("correct horse batter"));
        let other = UserRecord::create(input(), 10).unwrap();
        assert_ne!(user.password_hash, other.password_hash, "salted");
        verify_nothing("anything");
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
        let mut user = UserRecord::create(input(), 10).unwrap();
        user.update(
            UpdateUser {
                password: Some("another long password".into()),
                ..UpdateUser::default()
            },
            20,
        )
        .unwrap();
        assert_eq!(user.sessions_valid_after, 21);
        assert!(user.verify_password("another long password"));
        user.update(
            UpdateUser {
                active: Some(false),
                ..UpdateUser::default()
            },
            30,
        )
        .unwrap();
        assert!(!user.active);
        assert_eq!(user.sessions_valid_after, 31);
    }
}
