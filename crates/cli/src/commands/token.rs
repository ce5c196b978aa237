//! `coupa token`: print an access token of a profile.

use crate::Failure;
use crate::opt::TokenArgs;
use crate::output;
use crate::profile_tokens::{load_profile, manager};

pub async fn exec(args: TokenArgs) -> Result<(), Failure> {
    let tokens = manager(
        load_profile(&args.profile)?,
        args.profile.token_cache.as_deref(),
    );
    let info = tokens
        .token_info()
        .await
        .map_err(|error| Failure::new(error.to_string()))?;
    if args.json {
        return output::json(&serde_json::json!({
            "access_token": info.token.expose(),
            "token_type": "bearer",
            "expires_in": info.expires_in,
            "scope": info.scope,
        }));
    }
    outln!("{}", info.token.expose());
    Ok(())
}
