//! A profile of the config file (or the environment) and the token manager that serves it:
//! what `token`, `api`, `postman`, `bridge` and `broker` start from.

use std::sync::Arc;

use coupa_client::profile::{self, Profile, ProfileFile};
use coupa_client::tokens::{RefreshPolicy, TokenManager};

use crate::Failure;
use crate::opt::ProfileArgs;

pub fn config_path(explicit: Option<&std::path::Path>) -> Result<std::path::PathBuf, Failure> {
    explicit
        .map(std::path::Path::to_path_buf)
        .or_else(profile::default_path)
        .ok_or_else(|| {
            Failure::new("cannot tell where the config file is")
                .hint("pass --config FILE or set COUPA_CONFIG")
        })
}

pub fn load_profile(args: &ProfileArgs) -> Result<Profile, Failure> {
    let path = config_path(args.config.as_deref())?;
    let file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    profile::choose(&file, args.profile.as_deref()).map_err(|error| {
        Failure::new(error.to_string()).hint(format!(
            "`coupa profiles add NAME --url ... --client-id ...` writes {}",
            path.display()
        ))
    })
}

pub fn manager(profile: Profile, token_cache: Option<&std::path::Path>) -> Arc<TokenManager> {
    let cache_file = token_cache.map(|dir| TokenManager::disk_cache_file(dir, &profile.name));
    let tokens = TokenManager::new(
        Arc::new(profile),
        coupa_client::http::client(),
        RefreshPolicy::default(),
    );
    Arc::new(match cache_file {
        Some(file) => tokens.with_disk_cache(file),
        None => tokens,
    })
}
