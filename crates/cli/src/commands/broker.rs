//! `coupa broker`: tokens for local programs (see `crate::broker`), for every profile.

use coupa_client::profile::{self, ProfileFile};

use crate::Failure;
use crate::profile_tokens::{config_path, manager};

pub async fn exec(args: crate::opt::BrokerArgs) -> Result<(), Failure> {
    let _log = crate::listening::init_tracing(crate::opt::LogFormat::Auto);
    let path = config_path(args.config.as_deref())?;
    let file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    let mut managers = std::collections::BTreeMap::new();
    for name in file.profiles.keys() {
        let profile = file
            .profile(name)
            .map_err(|error| Failure::new(error.to_string()))?;
        managers.insert(name.clone(), manager(profile, None));
    }
    if let Some(profile) = profile::from_environment() {
        let profile = profile.map_err(|error| Failure::new(error.to_string()))?;
        managers.insert(profile.name.clone(), manager(profile, None));
    }
    if managers.is_empty() {
        return Err(Failure::new("no profiles to broker").hint("add one with `coupa profiles add`, or set COUPA_URL, COUPA_CLIENT_ID and COUPA_CLIENT_SECRET"));
    }
    let secret = crate::local::secret_or_generate(args.secret, "Broker", "COUPA_BROKER_SECRET")?;
    let check_every = coupa_server::config::parse_duration(&args.check_every)
        .map_err(|error| Failure::new(format!("--check-every: {error}")))?
        .max(std::time::Duration::from_secs(1));
    let broker = crate::broker::Broker::new(managers, &secret, args.token_dir);
    crate::broker::run(broker, args.listen, check_every).await
}
