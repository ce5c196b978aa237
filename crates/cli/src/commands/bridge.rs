//! `coupa bridge`: the legacy API-key proxy (see `crate::bridge`), set up from the profiles.

use coupa_client::profile::{self, ProfileFile};

use crate::Failure;
use crate::profile_tokens::{config_path, manager};

pub async fn exec(args: crate::opt::BridgeArgs) -> Result<(), Failure> {
    let _log = crate::listening::init_tracing(crate::opt::LogFormat::Auto);
    let path = config_path(args.profile.config.as_deref())?;
    let file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    let default = profile::choose(&file, args.profile.profile.as_deref())
        .map_err(|error| Failure::new(error.to_string()))?;
    let instance = default.url.clone();
    let default = manager(default, args.profile.token_cache.as_deref());
    let mut keys = std::collections::HashMap::new();
    for entry in &args.keys {
        let (fingerprint, tokens) = match entry.split_once('=') {
            Some((fingerprint, name)) => {
                let profile = file
                    .profile(name)
                    .map_err(|error| Failure::new(format!("--key {entry}: {error}")))?;
                (
                    fingerprint,
                    manager(profile, args.profile.token_cache.as_deref()),
                )
            }
            None => (entry.as_str(), std::sync::Arc::clone(&default)),
        };
        let fingerprint = fingerprint.trim().to_ascii_lowercase();
        if fingerprint.len() != 32 || !fingerprint.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Failure::new(format!(
                "--key {entry}: a fingerprint is the first 32 hex digits of the key's SHA-256"
            ))
            .hint("printf %s \"$KEY\" | sha256sum | cut -c1-32"));
        }
        keys.insert(fingerprint, tokens);
    }
    let secret = crate::local::secret_or_generate(args.secret, "Bridge", "COUPA_BRIDGE_SECRET")?;
    let settings = crate::bridge::BridgeSettings {
        keys,
        instance,
        secret,
        allowed_hosts: args.allowed_hosts,
        max_concurrent: args.max_concurrent,
    };
    crate::bridge::run(
        crate::bridge::Bridge::new(settings),
        args.listen,
        args.allow_remote,
    )
    .await
}
