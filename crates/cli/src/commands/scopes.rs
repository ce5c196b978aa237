//! `coupa scopes`: the catalogue, offline.

use coupa_proto::scopes::{self, CATALOGUE};

use crate::Failure;
use crate::opt::{Output, ScopesArgs, ScopesCommand};
use crate::output;

pub fn exec(args: ScopesArgs, format: Output) -> Result<(), Failure> {
    let format = if format.is_json() {
        Output::Json
    } else {
        Output::Text
    };
    match args.command {
        ScopesCommand::List => match format {
            Output::Json | Output::Jsonl | Output::Csv => output::json(&CATALOGUE),
            Output::Text => {
                let rows: Vec<Vec<String>> = CATALOGUE
                    .iter()
                    .map(|scope| vec![scope.name.to_string(), scope.description.to_string()])
                    .collect();
                output::table(&["SCOPE", "GRANTS"], &rows);
                Ok(())
            }
        },
        ScopesCommand::Needed { objects, ops } => {
            let needed = needed(&objects, &ops)?;
            match format {
                Output::Text => {
                    outln!("{}", needed.join(" "));
                    Ok(())
                }
                _ => output::json(&needed),
            }
        }
        ScopesCommand::Show { name } => {
            let scope = scopes::find(&name).ok_or_else(|| unknown_scope(&name))?;
            match format {
                Output::Json | Output::Jsonl | Output::Csv => output::json(scope),
                Output::Text => {
                    outln!("{}\n  {}\n", scope.name, scope.description);
                    if scope.permissions.is_empty() {
                        outln!("API permissions: none (an identity scope)");
                    } else {
                        outln!("API permissions:");
                        for permission in scope.permissions {
                            outln!("  {:<5} {}", permission.method, permission.path);
                        }
                    }
                    Ok(())
                }
            }
        }
    }
}

/// The least-privilege scopes for `ops` (read, write) on `objects`: for each route the
/// integration calls, the first scope of the catalogue that grants it.
pub fn needed(objects: &[String], ops: &str) -> Result<Vec<&'static str>, Failure> {
    let mut needed: Vec<&'static str> = Vec::new();
    for op in ops.split(',').map(str::trim).filter(|op| !op.is_empty()) {
        if op != "read" && op != "write" {
            return Err(Failure::new(format!(
                "--ops {op}: use read, write or read,write"
            )));
        }
    }
    for object in objects {
        let object = object.replace('-', "_");
        let mut routes: Vec<(&str, String)> = Vec::new();
        if ops.contains("read") {
            routes.push(("GET", format!("/api/{object}")));
            routes.push(("GET", format!("/api/{object}/1")));
        }
        if ops.contains("write") {
            routes.push(("POST", format!("/api/{object}")));
            routes.push(("PUT", format!("/api/{object}/1")));
        }
        let mut found = false;
        for (method, path) in routes {
            if let Some(scope) = scopes::scopes_granting(method, &path).first() {
                found = true;
                if !needed.contains(scope) {
                    needed.push(scope);
                }
            }
        }
        if !found {
            return Err(Failure::new(format!("no scope grants {ops} on {object}"))
                .hint("`coupa scopes list` shows every scope and its paths"));
        }
    }
    Ok(needed)
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
