//! Profiles: one per Coupa instance (production, test, dev, stage...), from a TOML file or
//! entirely from the environment. Secrets come inline, from an environment variable, or from
//! a file readable by its owner only; they never print.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// `client_id` and `client_secret` in the form body, as Coupa's guides do.
    #[default]
    Body,
    /// HTTP Basic.
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Xml,
}

impl Format {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Xml => "application/xml",
        }
    }
}

/// A profile as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileEntry {
    pub url: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default)]
    pub accept: Format,
    #[serde(default)]
    pub auth: AuthMethod,
}

/// The profiles of a config file; other top-level keys (the server's settings) are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileEntry>,
}

/// A profile ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    /// Base URL without a trailing slash.
    pub url: String,
    pub client_id: String,
    pub client_secret: Secret,
    /// Space-separated scopes to ask for; None asks for all of the client's.
    pub scope: Option<String>,
    pub accept: Format,
    pub auth: AuthMethod,
}

impl Profile {
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/token", self.url)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    #[error("no profile named {0}; `coupa profiles list` shows them")]
    Unknown(String),
    #[error(
        "no profile chosen: pass --profile, set COUPA_PROFILE, or set COUPA_URL, COUPA_CLIENT_ID and COUPA_CLIENT_SECRET"
    )]
    NoneChosen,
    #[error("profile {profile}: {reason}")]
    Secret { profile: String, reason: String },
}

/// `$XDG_CONFIG_HOME/coupa/config.toml`, else `~/.config/coupa/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(base.join("coupa").join("config.toml"))
}

impl ProfileFile {
    /// Reads the file; a missing file is an empty set of profiles.
    pub fn load(path: &Path) -> Result<Self, ProfileError> {
        // Someone who may write to the directory may have written the file.
        if let Some(dir) = path.parent().filter(|_| path.exists())
            && let Err(error) = refuse_shared_dir(dir)
        {
            return Err(ProfileError::Unreadable {
                path: path.display().to_string(),
                reason: error.to_string(),
            });
        }
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => {
                return Err(ProfileError::Unreadable {
                    path: path.display().to_string(),
                    reason: error.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|error| ProfileError::Invalid {
            path: path.display().to_string(),
            reason: error.to_string(),
        })
    }

    /// Writes the file readable by its owner only, replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        let text = toml::to_string_pretty(self).map_err(|error| ProfileError::Invalid {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        write_private(path, text.as_bytes()).map_err(|error| ProfileError::Unreadable {
            path: path.display().to_string(),
            reason: error.to_string(),
        })
    }

    pub fn profile(&self, name: &str) -> Result<Profile, ProfileError> {
        let entry = self
            .profiles
            .get(name)
            .ok_or_else(|| ProfileError::Unknown(name.to_string()))?;
        resolve(name, entry)
    }
}

/// Writes `bytes` to `path` with mode 0600 through a temporary file and a rename, so readers
/// never see a half-written file. The temporary file has a random name and is created
/// exclusively (a planted file or symlink cannot redirect it); a missing directory is created
/// 0700, and a directory others may write to is refused.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    create_private_dir(dir)?;
    refuse_shared_dir(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".coupa-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A directory that group or others may write to lets them swap the files in it.
pub fn refuse_shared_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o022 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} is writable by other users (mode {:o}), who could replace the files kept there; run chmod 700 {} or choose another directory",
                    dir.display(),
                    mode & 0o777,
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}

fn resolve(name: &str, entry: &ProfileEntry) -> Result<Profile, ProfileError> {
    let secret_error = |reason: String| ProfileError::Secret {
        profile: name.to_string(),
        reason,
    };
    let secret = match (
        &entry.client_secret,
        &entry.client_secret_env,
        &entry.client_secret_file,
    ) {
        (Some(secret), None, None) => secret.clone(),
        (None, Some(variable), None) => std::env::var(variable).map_err(|_| {
            secret_error(format!(
                "the environment variable {variable} holding the client secret is not set"
            ))
        })?,
        (None, None, Some(file)) => read_secret_file(file).map_err(secret_error)?,
        (None, None, None) => {
            return Err(secret_error(
                "give client-secret, client-secret-env or client-secret-file".into(),
            ));
        }
        _ => {
            return Err(secret_error(
                "give only one of client-secret, client-secret-env and client-secret-file".into(),
            ));
        }
    };
    if !(entry.url.starts_with("https://") || entry.url.starts_with("http://")) {
        return Err(ProfileError::Invalid {
            path: name.to_string(),
            reason: format!("url {} is not an http(s) URL", entry.url),
        });
    }
    if !crate::http::allows_secrets(&entry.url) {
        return Err(ProfileError::Invalid {
            path: name.to_string(),
            reason: format!(
                "url {} is plain http to another machine, which would send the client secret and tokens in clear; use https:// (http:// is accepted only for localhost, 127.0.0.1 and [::1])",
                entry.url
            ),
        });
    }
    Ok(Profile {
        name: name.to_string(),
        url: entry.url.trim_end_matches('/').to_string(),
        client_id: entry.client_id.clone(),
        client_secret: Secret::new(secret.trim()),
        scope: entry.scope.clone().filter(|scope| !scope.trim().is_empty()),
        accept: entry.accept,
        auth: entry.auth,
    })
}

fn read_secret_file(path: &Path) -> Result<String, String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} is readable by others (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            ));
        }
    }
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// A profile made entirely of `COUPA_URL`, `COUPA_CLIENT_ID`, `COUPA_CLIENT_SECRET` and
/// optionally `COUPA_SCOPE`; None unless the first three are set, an error if they do not
/// make a usable profile.
pub fn from_environment() -> Option<Result<Profile, ProfileError>> {
    let url = std::env::var("COUPA_URL").ok()?;
    let client_id = std::env::var("COUPA_CLIENT_ID").ok()?;
    let secret = std::env::var("COUPA_CLIENT_SECRET").ok()?;
    let entry = ProfileEntry {
        url,
        client_id,
        client_secret: Some(secret),
        scope: std::env::var("COUPA_SCOPE").ok(),
        ..ProfileEntry::default()
    };
    Some(resolve("environment", &entry))
}

/// The profile to use: the one named (flag or `COUPA_PROFILE`), else one made of the
/// environment, else the file's only profile or its `default`.
pub fn choose(file: &ProfileFile, name: Option<&str>) -> Result<Profile, ProfileError> {
    if let Some(name) = name {
        return file.profile(name);
    }
    if let Some(profile) = from_environment() {
        return profile;
    }
    if file.profiles.len() == 1
        && let Some(name) = file.profiles.keys().next()
    {
        return file.profile(name);
    }
    if file.profiles.contains_key("default") {
        return file.profile("default");
    }
    Err(ProfileError::NoneChosen)
}
