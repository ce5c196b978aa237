//! `coupa profiles`: the profiles of the config file, one per Coupa instance.

use coupa_client::profile::{AuthMethod, Format, ProfileEntry, ProfileFile};
use serde_json::Value;

use crate::Failure;
use crate::opt::{AcceptFormat, Output, ProfilesArgs, ProfilesCommand};
use crate::output;
use crate::profile_tokens::config_path;

pub fn exec(args: ProfilesArgs, format: Output) -> Result<(), Failure> {
    let path = config_path(args.config.as_deref())?;
    let mut file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    let describe = |name: &str, entry: &ProfileEntry| {
        let secret = if entry.client_secret.is_some() {
            "in the file".to_string()
        } else if let Some(variable) = &entry.client_secret_env {
            format!("from ${variable}")
        } else if let Some(file) = &entry.client_secret_file {
            format!("from {}", file.display())
        } else {
            "missing".to_string()
        };
        serde_json::json!({
            "name": name,
            "url": entry.url,
            "client_id": entry.client_id,
            "client_secret": secret,
            "scope": entry.scope,
            "accept": entry.accept,
            "auth": entry.auth,
        })
    };
    match args.command {
        ProfilesCommand::List => {
            let all: Vec<Value> = file
                .profiles
                .iter()
                .map(|(name, entry)| describe(name, entry))
                .collect();
            if format.is_json() {
                return output::json(&all);
            }
            if all.is_empty() {
                outln!(
                    "No profiles in {}; add one with `coupa profiles add`.",
                    path.display()
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|p| {
                    ["name", "url", "client_id", "client_secret"]
                        .iter()
                        .map(|k| p[*k].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .collect();
            output::table(&["PROFILE", "URL", "CLIENT ID", "SECRET"], &rows);
            Ok(())
        }
        ProfilesCommand::Show { name } => {
            let entry = file.profiles.get(&name).ok_or_else(|| {
                Failure::new(format!("no profile named {name}"))
                    .hint("`coupa profiles list` shows them")
            })?;
            output::json(&describe(&name, entry))
        }
        ProfilesCommand::Add {
            name,
            url,
            client_id,
            client_secret,
            client_secret_env,
            client_secret_file,
            scope,
            accept,
            auth,
        } => {
            if client_secret.is_none()
                && client_secret_env.is_none()
                && client_secret_file.is_none()
            {
                return Err(Failure::new("no client secret")
                    .hint("give --client-secret, --client-secret-env or --client-secret-file"));
            }
            let entry = ProfileEntry {
                url,
                client_id,
                client_secret,
                client_secret_env,
                client_secret_file,
                scope,
                accept: if accept == AcceptFormat::Xml {
                    Format::Xml
                } else {
                    Format::Json
                },
                auth: if auth == "basic" {
                    AuthMethod::Basic
                } else {
                    AuthMethod::Body
                },
            };
            file.profiles.insert(name.clone(), entry);
            file.save(&path)
                .map_err(|error| Failure::new(error.to_string()))?;
            outln!("Profile {name} saved in {}", path.display());
            // A secret from the environment may be set only where the profile is used.
            if let Err(error) = file.profile(&name) {
                eprintln!("note: {error}");
            }
            Ok(())
        }
        ProfilesCommand::Remove { name } => {
            if file.profiles.remove(&name).is_none() {
                return Err(Failure::new(format!("no profile named {name}"))
                    .hint("`coupa profiles list` shows them"));
            }
            file.save(&path)
                .map_err(|error| Failure::new(error.to_string()))?;
            outln!("Profile {name} removed");
            Ok(())
        }
    }
}
