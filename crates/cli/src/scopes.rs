//! `coupa scopes`: the catalogue, offline.

use coupa_proto::scopes::{self, CATALOGUE};

use crate::Failure;
use crate::opt::{Output, ScopesArgs, ScopesCommand};
use crate::output;

pub fn run(args: ScopesArgs, format: Output) -> Result<(), Failure> {
    match args.command {
        ScopesCommand::List => match format {
            Output::Json => output::json(&CATALOGUE),
            Output::Text => {
                let rows: Vec<Vec<String>> = CATALOGUE
                    .iter()
                    .map(|scope| vec![scope.name.to_string(), scope.description.to_string()])
                    .collect();
                output::table(&["SCOPE", "GRANTS"], &rows);
                Ok(())
            }
        },
        ScopesCommand::Show { name } => {
            let scope = scopes::find(&name).ok_or_else(|| unknown_scope(&name))?;
            match format {
                Output::Json => output::json(scope),
                Output::Text => {
                    println!("{}\n  {}\n", scope.name, scope.description);
                    if scope.permissions.is_empty() {
                        println!("API permissions: none (an identity scope)");
                    } else {
                        println!("API permissions:");
                        for permission in scope.permissions {
                            println!("  {:<5} {}", permission.method, permission.path);
                        }
                    }
                    Ok(())
                }
            }
        }
    }
}

fn unknown_scope(name: &str) -> Failure {
    let stem = name.rsplit_once('.').map(|(stem, _)| stem).unwrap_or(name);
    let similar: Vec<&str> = CATALOGUE
        .iter()
        .map(|scope| scope.name)
        .filter(|candidate| candidate.starts_with(stem) || candidate.contains(name))
        .collect();
    let failure = Failure::new(format!("no scope named {name}"));
    if similar.is_empty() {
        failure.hint("`coupa scopes list` shows every scope")
    } else {
        failure.hint(format!("did you mean {}?", similar.join(", ")))
    }
}
